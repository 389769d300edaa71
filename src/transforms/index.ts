/** Transform registry: one line per transform (see core/component.ts). */
import type { Registry } from '../core/component.js';
import type { Transform } from '../core/pipeline.js';
import { addFieldsSchema, createAddFieldsTransform } from './add-fields.js';
import { createDecodeTransform, decodeSchema } from './decode.js';
import { createDedupeTransform, dedupeSchema } from './dedupe.js';
import { createFilterTransform, filterSchema } from './filter.js';
import { buildMaskTransform, maskOptionsSchema } from './mask.js';
import { createModifyTransform, modifySchema } from './modify.js';
import { createLiftTransform, createNestTransform, liftSchema, nestSchema } from './nest.js';
import { createParseTransform, parseTransformSchema } from './parse.js';
import { createSampleTransform, sampleSchema } from './sample.js';
import { createThrottleTransform, throttleSchema } from './throttle.js';

export const transforms: Registry<Transform> = [
  {
    type: 'mask',
    summary: 'Masks secrets in fields and messages (on by default).',
    schema: maskOptionsSchema,
    create: buildMaskTransform,
  },
  {
    type: 'parse',
    summary: 'Runs one parser (regex, logfmt, json, syslog, …) on any field of selected records.',
    schema: parseTransformSchema,
    create: createParseTransform,
  },
  {
    type: 'filter',
    summary: 'Keeps records matching a condition, drops those matching exclude (FILTERED).',
    schema: filterSchema,
    create: createFilterTransform,
  },
  {
    type: 'modify',
    summary: 'Adds, sets, renames, copies, removes or hashes fields, each step optionally conditional.',
    schema: modifySchema,
    create: createModifyTransform,
  },
  {
    type: 'nest',
    summary: 'Moves top-level fields matching wildcards under one object field.',
    schema: nestSchema,
    create: createNestTransform,
  },
  {
    type: 'lift',
    summary: 'Moves the members of an object field to the top level.',
    schema: liftSchema,
    create: createLiftTransform,
  },
  {
    type: 'decode',
    summary: 'Decodes an escaped or JSON-in-string field in place.',
    schema: decodeSchema,
    create: createDecodeTransform,
  },
  {
    type: 'throttle',
    summary: 'At most N records per key and time window; the rest dropped (THROTTLED).',
    schema: throttleSchema,
    create: (c) => createThrottleTransform(c),
  },
  {
    type: 'sample',
    summary: 'Keeps one record in N, deterministically by key (SAMPLED_OUT).',
    schema: sampleSchema,
    create: createSampleTransform,
  },
  {
    type: 'add-fields',
    summary: 'Adds static fields and AWS context (account, region, log group, EKS cluster/component).',
    schema: addFieldsSchema,
    create: createAddFieldsTransform,
  },
  {
    type: 'dedupe',
    summary: 'Drops records whose key was seen within a window (DUPLICATE); bounded memory.',
    schema: dedupeSchema,
    create: (c) => createDedupeTransform(c),
  },
];
