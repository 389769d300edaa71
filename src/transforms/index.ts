/** Transform registry: one line per transform (see core/component.ts). */
import type { Registry } from '../core/component.js';
import type { Transform } from '../core/pipeline.js';

export const transforms: Registry<Transform> = [];
