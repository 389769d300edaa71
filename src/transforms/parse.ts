/**
 * `parse` transform: runs one registered parser (json, klog, logfmt, regex, …) on the records it
 * selects — all, or those whose log group / log stream match a regular expression — for formats
 * `parse: auto` does not know (your own app lines with `regex`, logfmt in a generic group, a JSON
 * string inside a field with `from`). Shared options from the core parse stage: `from` (field to
 * parse instead of the message), `into` (nest results under a key), `onError` (`keep` or
 * `annotate` with `@parseError`). Pure, never drops a record; the event time is never changed.
 */
import { z } from 'zod';
import { parseStage, type Parser, type Transform } from '../core/pipeline.js';
import { parsers } from '../parsers/index.js';

const regexString = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'invalid regular expression' },
);

export const parseTransformSchema = z
  .strictObject({
    type: z.literal('parse'),
    /** The parser and its options, e.g. `{type: regex, pattern: '…'}` or `{type: logfmt}`. */
    parser: z.looseObject({ type: z.string() }),
    /** Only records whose log group matches this regular expression. */
    logGroup: regexString.optional(),
    /** Only records whose log stream matches this regular expression. */
    logStream: regexString.optional(),
    from: z.string().min(1).optional(),
    into: z.string().min(1).optional(),
    onError: z.enum(['keep', 'annotate']).default('keep'),
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
    return { ...o, parser: res.data as { type: string } };
  });

export type ParseTransformOptions = z.output<typeof parseTransformSchema>;

export async function createParseTransform(cfg: ParseTransformOptions): Promise<Transform> {
  const spec = parsers.find((p) => p.type === cfg.parser.type)!;
  const parser: Parser = await spec.create(cfg.parser, {});
  const group = cfg.logGroup === undefined ? undefined : new RegExp(cfg.logGroup);
  const stream = cfg.logStream === undefined ? undefined : new RegExp(cfg.logStream);
  const select =
    group || stream
      ? (r: { meta: { logGroup: string; logStream: string } }) =>
          (!group || group.test(r.meta.logGroup)) && (!stream || stream.test(r.meta.logStream))
            ? parser
            : undefined
      : () => parser;
  return parseStage({ select, from: cfg.from, into: cfg.into, onError: cfg.onError });
}
