/**
 * `filter` transform: keeps or drops records. `condition` keeps a record when the Logs Insights
 * expression is true; `exclude` drops it when true; `regex` tests one field (default `@message`)
 * against a regular expression, keeping matches (or dropping them with `negate: true`). Given
 * together, a record is kept only when every test says keep. Dropped records are counted as
 * `dropped FILTERED`. A record whose field is missing fails `condition` and `regex` (not `exclude`).
 */
import * as z from 'zod';
import type { Transform } from '../core/pipeline.js';
import { mustCompileCondition } from '../query/condition.js';
import { conditionSchema, flagsSchema, recordReader, regexSchema } from './common.js';

export const filterSchema = z
  .strictObject({
    type: z.literal('filter'),
    /** Keep records for which this expression is true. */
    condition: conditionSchema.optional(),
    /** Drop records for which this expression is true. */
    exclude: conditionSchema.optional(),
    /** Keep records whose field matches a regular expression. */
    regex: z
      .strictObject({
        field: z.string().min(1).default('@message'),
        pattern: regexSchema,
        flags: flagsSchema,
        /** Drop matching records instead of keeping them. */
        negate: z.boolean().default(false),
      })
      .optional(),
  })
  .refine((o) => o.condition !== undefined || o.exclude !== undefined || o.regex !== undefined, {
    error: 'filter needs at least one of condition, exclude or regex',
  });

export type FilterOptions = z.output<typeof filterSchema>;

export function createFilterTransform(cfg: FilterOptions): Transform {
  const keep = cfg.condition === undefined ? undefined : mustCompileCondition(cfg.condition);
  const drop = cfg.exclude === undefined ? undefined : mustCompileCondition(cfg.exclude);
  let rx: ((r: Parameters<Transform['apply']>[0]) => boolean) | undefined;
  if (cfg.regex) {
    const re = new RegExp(cfg.regex.pattern, cfg.regex.flags);
    const read = recordReader(cfg.regex.field);
    const negate = cfg.regex.negate;
    rx = (r) => {
      const v = read(r);
      if (v === undefined || v === null) return negate;
      const m = re.test(typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
      return m !== negate;
    };
  }
  return {
    type: 'filter',
    dropCode: 'FILTERED',
    apply(record) {
      if (keep && !keep(record)) return null;
      if (drop?.(record)) return null;
      if (rx && !rx(record)) return null;
      return record;
    },
  };
}
