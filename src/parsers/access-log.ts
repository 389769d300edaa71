/**
 * `apache` and `nginx` access-log parsers: the Common Log Format and the Combined Log Format
 * (`%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`, nginx's default `combined`), told apart
 * per line (`format: auto`, the default) or required (`common`, `combined`). Fields, named as Fluent
 * Bit's `apache2`/`nginx` parsers do: `host` (apache) or `remote` (nginx) for the client address,
 * `ident` (apache only, when not `-`), `user` (when not `-`), `method`, `path`, `protocol`, `code`
 * (number), `size` (number, absent for `-`), `referer` and `agent` (combined, when not `-`), and
 * `request` when the request line is not `METHOD PATH PROTOCOL` (a malformed or empty request).
 * Anything after the combined fields (nginx `$http_x_forwarded_for`, apache `%D`) goes to `extra`.
 * The `[13/Jun/2023:10:42:07 +0000]` time becomes the event time (`timeKeep: true` also keeps
 * `time`); `types` converts further fields. Never throws; a line of another shape is a failure.
 */
import * as z from 'zod';
import type { ParseFailure, Parser } from '../core/pipeline.js';
import { createFieldPost, type TimeOptions, timeOptionsShape } from './time.js';

const shape = {
  format: z.enum(['auto', 'common', 'combined']).default('auto'),
  timeKeep: timeOptionsShape.timeKeep,
  types: timeOptionsShape.types,
};

export const apacheOptionsSchema = z.strictObject({ type: z.literal('apache'), ...shape });
export const nginxOptionsSchema = z.strictObject({ type: z.literal('nginx'), ...shape });

// host ident user [time] "request" status size ["referer" "agent"] [extra]
const LINE =
  /^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}|-) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(?:\s+(.*))?$/;
const REQUEST = /^([A-Z][A-Z0-9_-]*) (\S+)(?: (HTTP\/[\d.]+))?$/;

const NO_MATCH: ParseFailure = Object.freeze({ error: 'not an access-log line (common or combined format)' });
const NOT_COMBINED: ParseFailure = Object.freeze({
  error: 'not a combined-format line (no referer and agent)',
});

/** Undoes the quoting inside a quoted field (`\"`, `\\`); `\xNN` escapes of bytes stay as written. */
const unquote = (s: string) => (s.includes('\\') ? s.replace(/\\(["\\])/g, '$1') : s);

export function createAccessLogParser(
  kind: 'apache' | 'nginx',
  opts: { format?: 'auto' | 'common' | 'combined' } & Pick<TimeOptions, 'timeKeep' | 'types'> = {},
): Parser {
  const format = opts.format ?? 'auto';
  const post = createFieldPost({ types: opts.types });
  const timeParse = createFieldPost({
    timeKey: 'time',
    timeFormat: '%d/%b/%Y:%H:%M:%S %z',
    timeKeep: opts.timeKeep,
  });
  const clientKey = kind === 'apache' ? 'host' : 'remote';
  return {
    type: kind,
    parse(text) {
      const m = LINE.exec(text);
      if (!m) return NO_MATCH;
      const combined = m[8] !== undefined;
      if (format === 'combined' && !combined) return NOT_COMBINED;
      if (format === 'common' && (combined || m[10] !== undefined)) return NO_MATCH;
      const f: Record<string, unknown> = { [clientKey]: m[1] };
      if (kind === 'apache' && m[2] !== '-') f.ident = m[2];
      if (m[3] !== '-') f.user = m[3];
      f.time = m[4];
      const req = unquote(m[5]);
      const r = REQUEST.exec(req);
      if (r) {
        f.method = r[1];
        f.path = r[2];
        if (r[3] !== undefined) f.protocol = r[3];
      } else f.request = req;
      if (m[6] !== '-') f.code = Number(m[6]);
      if (m[7] !== '-') f.size = Number(m[7]);
      if (combined) {
        if (m[8] !== '-') f.referer = unquote(m[8]);
        if (m[9] !== '-') f.agent = unquote(m[9]);
      }
      const extra = m[10]?.trimEnd();
      if (extra) f.extra = extra;
      timeParse?.(f);
      return post ? post(f) : f;
    },
  };
}
