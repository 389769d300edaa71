/**
 * `parse` transform: runs one registered parser (json, klog, logfmt, regex, ltsv, apache, nginx,
 * syslog, …) on any field of the records it selects — all, those whose log group / log stream match
 * a regular expression, and/or those for which `condition` (a Logs Insights expression) is true.
 *
 * - `from`: the field to parse: `@message` (default) or a parsed field by dotted path
 *   (`detail.log`). Records where it is missing or not a string pass through untouched.
 * - `into`: put the parsed fields under this key instead of merging them at the top level
 *   (merging never replaces system fields: those are not stored in `fields`).
 * - `keepSource`: `false` removes the parsed field `from` after a successful parse (Fluent Bit's
 *   `Preserve_Key Off`); the message itself is never removed.
 * - `onError`: `keep` the record as is (default), `annotate` it with `@parseError`, or `drop` it
 *   (`dropped PARSE_FAILED`, counted).
 * - `setTime`: when the parser found an event time (a `timeKey`, a syslog or access-log time), it
 *   becomes the record's `@timestamp` (default true; `false` leaves the CloudWatch event time).
 *
 * Never throws: parsers return failures, they do not raise them.
 */
import * as z from 'zod';
import { isParseFailure, type Parser, type Transform } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { parsers } from '../parsers/index.js';
import { parsedTime } from '../parsers/time.js';
import { type Condition, mustCompileCondition } from '../query/condition.js';
import { conditionSchema, fieldPath, regexSchema, writableFieldSchema } from './common.js';

export const parseTransformSchema = z
  .strictObject({
    type: z.literal('parse'),
    /** The parser and its options, e.g. `{type: regex, pattern: '…'}` or `{type: logfmt}`. */
    parser: z.looseObject({ type: z.string() }),
    /** Only records whose log group matches this regular expression. */
    logGroup: regexSchema.optional(),
    /** Only records whose log stream matches this regular expression. */
    logStream: regexSchema.optional(),
    /** Only records for which this expression is true. */
    condition: conditionSchema.optional(),
    from: z.string().min(1).optional(),
    into: writableFieldSchema.optional(),
    keepSource: z.boolean().default(true),
    onError: z.enum(['keep', 'annotate', 'drop']).default('keep'),
    setTime: z.boolean().default(true),
  })
  .transform((o, ctx) => {
    const spec = parsers.find((p) => p.type === o.parser.type);
    if (!spec) {
      ctx.addIssue({
        code: 'custom',
        path: ['parser', 'type'],
        message: `unknown parser type "${o.parser.type}"; known: ${parsers.map((p) => p.type).join(', ')}`,
      });
      return z.NEVER;
    }
    const res = spec.schema.safeParse(o.parser);
    if (!res.success) {
      for (const i of res.error.issues)
        ctx.addIssue({ code: 'custom', path: ['parser', ...i.path], message: i.message });
      return z.NEVER;
    }
    if (o.from?.startsWith('@') && o.from !== '@message') {
      ctx.addIssue({
        code: 'custom',
        path: ['from'],
        message: `from: only @message among the system fields holds text to parse (got ${o.from})`,
      });
      return z.NEVER;
    }
    return { ...o, parser: res.data as { type: string } };
  });

export type ParseTransformOptions = z.output<typeof parseTransformSchema>;

export async function createParseTransform(cfg: ParseTransformOptions): Promise<Transform> {
  const spec = parsers.find((p) => p.type === cfg.parser.type)!;
  const parser: Parser = await spec.create(cfg.parser, {});
  const group = cfg.logGroup === undefined ? undefined : new RegExp(cfg.logGroup);
  const stream = cfg.logStream === undefined ? undefined : new RegExp(cfg.logStream);
  const cond: Condition | undefined =
    cfg.condition === undefined ? undefined : mustCompileCondition(cfg.condition);
  const fromMessage = cfg.from === undefined || cfg.from === '@message';
  const source = fromMessage ? undefined : fieldPath(cfg.from!);
  const into = cfg.into === undefined ? undefined : fieldPath(cfg.into);
  const { onError, setTime, keepSource } = cfg;
  const selected = (r: LogRecord) =>
    (!group || group.test(r.meta.logGroup)) &&
    (!stream || stream.test(r.meta.logStream)) &&
    (!cond || cond(r));
  return {
    type: 'parse',
    dropCode: 'PARSE_FAILED',
    apply(record) {
      if (!selected(record)) return record;
      const text = source ? source.get(record.fields) : record.message;
      if (typeof text !== 'string') return record;
      const res = parser.parse(text, record);
      if (isParseFailure(res)) {
        if (onError === 'drop') return null;
        if (onError === 'annotate') record.fields['@parseError'] = `${parser.type}: ${res.error}`;
        return record;
      }
      if (source && !keepSource) source.remove(record.fields);
      if (setTime) {
        const t = parsedTime(res);
        if (t !== undefined) record.timestamp = t;
      }
      if (into) into.set(record.fields, res, true);
      else Object.assign(record.fields, res);
      return record;
    },
  };
}
