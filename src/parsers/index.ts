/** Parser registry: one line per parser format (see core/component.ts). */
import type { Registry } from '../core/component.js';
import type { Parser } from '../core/pipeline.js';

export const parsers: Registry<Parser> = [];
