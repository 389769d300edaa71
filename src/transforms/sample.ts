/**
 * `sample` transform: keeps about one record in `rate` and drops the others as
 * `dropped SAMPLED_OUT` (counted). The decision is deterministic: it hashes `key` (a Logs Insights
 * expression, e.g. `requestID` to keep or drop whole requests together) or, without a key, the
 * record's identity (log group, stream and event id), so a redelivered record gets the same decision
 * and nothing depends on arrival order or timing. Records for which `condition` is false, or
 * `exclude` is true, are always kept (e.g. sample only successful reads; keep every error). Records
 * whose key is missing are kept (sampling needs something to hash).
 */
import * as z from 'zod';
import type { Transform } from '../core/pipeline.js';
import { mustCompileCondition, mustCompileExpression } from '../query/condition.js';
import { toStr } from '../query/values.js';
import { conditionSchema, expressionSchema, fnv1a } from './common.js';

export const sampleSchema = z.strictObject({
  type: z.literal('sample'),
  /** Keep one record in `rate` (1 keeps all). */
  rate: z.number().int().positive(),
  key: expressionSchema.optional(),
  condition: conditionSchema.optional(),
  exclude: conditionSchema.optional(),
  /** Changes which records are chosen without changing how many (e.g. per environment). */
  seed: z.number().int().nonnegative().default(0),
});

export type SampleOptions = z.output<typeof sampleSchema>;

/** Mixes a 32-bit hash (murmur3 finaliser) so `% rate` is uniform even for similar keys. */
function mix(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

export function createSampleTransform(cfg: SampleOptions): Transform {
  const key = cfg.key === undefined ? undefined : mustCompileExpression(cfg.key);
  const cond = cfg.condition === undefined ? undefined : mustCompileCondition(cfg.condition);
  const excl = cfg.exclude === undefined ? undefined : mustCompileCondition(cfg.exclude);
  const { rate, seed } = cfg;
  return {
    type: 'sample',
    dropCode: 'SAMPLED_OUT',
    apply(record) {
      if (rate === 1) return record;
      if (cond && !cond(record)) return record;
      if (excl?.(record)) return record;
      let h: number;
      if (key) {
        const v = key(record);
        if (v === undefined || v === null) return record;
        h = fnv1a(toStr(v));
      } else {
        const m = record.meta;
        h = fnv1a(m.logGroup) ^ Math.imul(fnv1a(m.logStream), 31) ^ Math.imul(fnv1a(m.id), 0x9e3779b1);
      }
      return mix(h ^ seed) % rate === 0 ? record : null;
    },
  };
}
