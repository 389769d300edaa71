/**
 * `regex` parser: users' own line formats → the named capture groups of `pattern`
 * (`(?<status>\d{3})`), as strings; groups that did not take part in the match are left out.
 * Fluent Bit's time options: `timeKey` names the group holding the event time, `timeFormat` its
 * strptime format (else ISO 8601 / epoch), `timeKeep` keeps the group after use, `timeOffset` the
 * zone of times without one; `types` converts groups (`{code: integer}`).
 * Pure, never throws; no match is a failure. Limits: the pattern is a JavaScript regular
 * expression, compiled once; `g`/`y` flags are refused (they make matching stateful) and the
 * pattern must have at least one named group. Beware catastrophic backtracking in your pattern:
 * it runs on every record of the streams it is selected for.
 */
import * as z from 'zod';
import { PARSED_FIELDS, type ParseFailure, type Parser } from '../core/pipeline.js';
import { checkTimeOptions, createFieldPost, type TimeOptions, timeOptionsShape } from './time.js';

export const regexOptionsSchema = z
  .strictObject({
    type: z.literal('regex'),
    pattern: z.string().min(1),
    /** RegExp flags: any of i, m, s, u (g and y are refused). */
    flags: z
      .string()
      .regex(/^[imsu]*$/, { error: 'flags may only contain i, m, s, u' })
      .default(''),
    ...timeOptionsShape,
  })
  .superRefine((o, ctx) => {
    checkTimeOptions(o, ctx);
    let re: RegExp;
    try {
      re = new RegExp(o.pattern, o.flags);
    } catch (e) {
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: `invalid regular expression: ${(e as Error).message}`,
      });
      return;
    }
    if (!/\(\?<[A-Za-z_$][\w$]*>/.test(re.source)) {
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: 'the pattern needs at least one named group (?<name>...)',
      });
    }
  });

export type RegexOptions = z.input<typeof regexOptionsSchema>;

const NO_MATCH: ParseFailure = Object.freeze({ error: 'no match' }) as ParseFailure;

export function createRegexParser(opts: { pattern: string; flags?: string } & TimeOptions): Parser {
  const re = new RegExp(opts.pattern, opts.flags ?? '');
  const post = createFieldPost(opts);
  return {
    type: 'regex',
    parse(text) {
      const m = re.exec(text);
      if (!m?.groups) return NO_MATCH;
      const fields: Record<string, unknown> = {};
      for (const k in m.groups) {
        const v = m.groups[k];
        if (v !== undefined) fields[k] = v;
      }
      if (fields.error !== undefined) Object.defineProperty(fields, PARSED_FIELDS, { value: true });
      return post ? post(fields) : fields;
    },
  };
}
