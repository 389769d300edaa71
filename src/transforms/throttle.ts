/**
 * `throttle` transform: lets at most `threshold` records per `window` through for each value of
 * `key` (a Logs Insights expression such as `@logStream` or `concat(user.username, verb)`; without
 * a key all records share one budget), and drops the rest as `dropped THROTTLED` (counted).
 * Records for which `condition` is false are never throttled and use no budget.
 *
 * Windows are fixed and aligned to multiples of `window` since the epoch. Time comes from the
 * process clock (`time: clock`, the default: throttling is about the rate the pipeline forwards) or
 * from the event time (`time: record`: the same input always gives the same decisions, also when a
 * backlog is replayed; records more than one window older than the newest window seen count in it).
 *
 * Memory is bounded: at most `maxKeys` keys are tracked per window; records of further keys share
 * one overflow budget of `threshold` records, so a flood of distinct keys cannot grow the state.
 */
import * as z from 'zod';
import type { Transform } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { mustCompileCondition, mustCompileExpression } from '../query/condition.js';
import { toStr } from '../query/values.js';
import {
  conditionSchema,
  durationSchema,
  expressionSchema,
  type TransformDeps,
  timeSourceSchema,
} from './common.js';

export const throttleSchema = z.strictObject({
  type: z.literal('throttle'),
  /** Records let through per key and window. */
  threshold: z.number().int().positive(),
  window: durationSchema,
  key: expressionSchema.optional(),
  condition: conditionSchema.optional(),
  time: timeSourceSchema.default('clock'),
  maxKeys: z.number().int().positive().default(10_000),
});

export type ThrottleOptions = z.output<typeof throttleSchema>;

export function createThrottleTransform(cfg: ThrottleOptions, deps: TransformDeps = {}): Transform {
  const now = deps.now ?? Date.now;
  const key = cfg.key === undefined ? undefined : mustCompileExpression(cfg.key);
  const cond = cfg.condition === undefined ? undefined : mustCompileCondition(cfg.condition);
  const { threshold, window, maxKeys } = cfg;
  const byRecord = cfg.time === 'record';
  const counts = new Map<string, number>();
  let overflow = 0;
  let single = 0;
  let current = Number.NEGATIVE_INFINITY;
  const windowOf = (r: LogRecord) => Math.floor((byRecord ? r.timestamp : now()) / window);
  return {
    type: 'throttle',
    dropCode: 'THROTTLED',
    apply(record) {
      if (cond && !cond(record)) return record;
      const w = windowOf(record);
      if (w > current) {
        // A record without a usable time (NaN) counts in the current window.
        current = w;
        counts.clear();
        overflow = 0;
        single = 0;
      }
      if (!key) return ++single > threshold ? null : record;
      const v = key(record);
      const k = v === undefined || v === null ? '\u0000null' : toStr(v);
      const n = counts.get(k);
      if (n === undefined) {
        if (counts.size >= maxKeys) return ++overflow > threshold ? null : record;
        counts.set(k, 1);
        return threshold >= 1 ? record : null;
      }
      if (n >= threshold) return null;
      counts.set(k, n + 1);
      return record;
    },
  };
}
