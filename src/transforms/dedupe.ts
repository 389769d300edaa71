/**
 * `dedupe` transform: drops a record as `dropped DUPLICATE` (counted) when a record with the same
 * key was seen less than `window` before it. The key is the values of `fields` (default `@log`,
 * `@logStream`, `@message`: the same line again from the same stream), or of the expression `key`.
 *
 * Time is the event time by default (`time: record`: the same input always gives the same result,
 * also when a backlog is replayed), or the process clock (`time: clock`). A duplicate does not
 * extend the window: it is measured from the first record of the key.
 *
 * Memory is bounded: at most `maxEntries` keys are remembered (the oldest are forgotten first), and a
 * key longer than 128 characters is remembered as its SHA-256 digest.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { Transform } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { mustCompileExpression } from '../query/condition.js';
import { toStr } from '../query/values.js';
import {
  durationSchema,
  expressionSchema,
  recordReader,
  type TransformDeps,
  timeSourceSchema,
} from './common.js';

export const dedupeSchema = z
  .strictObject({
    type: z.literal('dedupe'),
    window: durationSchema,
    fields: z.array(z.string().min(1)).min(1).optional(),
    key: expressionSchema.optional(),
    time: timeSourceSchema.default('record'),
    maxEntries: z.number().int().positive().max(10_000_000).default(100_000),
  })
  .refine((o) => !(o.fields && o.key), { error: 'dedupe takes fields or key, not both' });

export type DedupeOptions = z.output<typeof dedupeSchema>;

const DEFAULT_FIELDS = ['@log', '@logStream', '@message'];
const MAX_KEY = 128;

export function createDedupeTransform(cfg: DedupeOptions, deps: TransformDeps = {}): Transform {
  const now = deps.now ?? Date.now;
  let keyOf: (r: LogRecord) => string | undefined;
  if (cfg.key !== undefined) {
    const g = mustCompileExpression(cfg.key);
    keyOf = (r) => {
      const v = g(r);
      return v === undefined || v === null ? undefined : toStr(v);
    };
  } else {
    const readers = (cfg.fields ?? DEFAULT_FIELDS).map(recordReader);
    keyOf = (r) => {
      let k = '';
      for (let i = 0; i < readers.length; i++) {
        const v = readers[i](r);
        // \u0000 separates values; a missing value is distinct from an empty one.
        k += v === undefined || v === null ? '\u0001' : `${toStr(v)}\u0000`;
      }
      return k;
    };
  }
  const { window, maxEntries } = cfg;
  const byRecord = cfg.time === 'record';
  /** key → time first seen. Map keeps insertion order, so the first entry is the oldest. */
  const seen = new Map<string, number>();
  return {
    type: 'dedupe',
    dropCode: 'DUPLICATE',
    apply(record) {
      let k = keyOf(record);
      if (k === undefined) return record;
      if (k.length > MAX_KEY) k = createHash('sha256').update(k).digest('base64');
      const t = byRecord ? record.timestamp : now();
      const first = seen.get(k);
      if (first !== undefined && Math.abs(t - first) < window) return null;
      if (first !== undefined) seen.delete(k);
      seen.set(k, t);
      if (seen.size > maxEntries) {
        const oldest = seen.keys().next().value as string;
        seen.delete(oldest);
      }
      return record;
    },
  };
}
