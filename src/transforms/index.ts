/** Transform registry: one line per transform (see core/component.ts). */
import type { Registry } from '../core/component.js';
import type { Transform } from '../core/pipeline.js';
import { buildMaskTransform, maskOptionsSchema } from './mask.js';
import { createParseTransform, parseTransformSchema } from './parse.js';

export const transforms: Registry<Transform> = [
  {
    type: 'mask',
    summary: 'Masks secrets in fields and messages (on by default).',
    schema: maskOptionsSchema,
    create: buildMaskTransform,
  },
  {
    type: 'parse',
    summary: 'Runs one parser (regex, logfmt, json, …) on selected records.',
    schema: parseTransformSchema,
    create: createParseTransform,
  },
];
