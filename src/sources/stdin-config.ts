/** The `stdin` source's config and registry description, apart from its reader (stdin.ts). */
import * as z from 'zod';
import type { ComponentMeta } from '../core/component.js';

export const stdinSourceConfig = z.strictObject({
  type: z.literal('stdin'),
  name: z.string().min(1).optional(),
  format: z.enum(['lines', 'ndjson', 'auto']).default('auto'),
  logGroup: z.string().min(1).default('stdin'),
  logStream: z.string().min(1).default('stdin'),
  /** Lines per envelope at most. */
  batchLines: z.number().int().min(1).max(100_000).default(1_000),
  /** Longer lines are cut into pieces of this many characters. */
  maxLineBytes: z
    .number()
    .int()
    .min(1_024)
    .default(4 * 1024 * 1024),
});

export type StdinSourceConfig = z.infer<typeof stdinSourceConfig>;

export const stdinSourceMeta: ComponentMeta<StdinSourceConfig> = {
  type: 'stdin',
  iam: [],
  summary: 'Reads standard input to EOF: text lines, NDJSON, or both (format: lines|ndjson|auto).',
  schema: stdinSourceConfig,
};
