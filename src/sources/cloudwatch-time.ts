/**
 * Time bounds of the `cloudwatch` source: `now`, relative (`-90s`, `-15m`, `-1h`, `-2d`, `-1w`),
 * ISO 8601 (a date-time without a zone is UTC) or epoch milliseconds.
 */

const RELATIVE = /^-(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const NO_ZONE = /^\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)?$/;

export type TimeSpec = string | number;

/** The epoch ms of a time spec relative to `now`, or a sentence saying why it is not one. */
export function resolveTime(spec: TimeSpec, now: number): number | string {
  if (typeof spec === 'number') {
    return Number.isFinite(spec) && spec >= 0
      ? Math.floor(spec)
      : `${spec} is not an epoch-milliseconds time`;
  }
  const s = spec.trim();
  if (s === 'now') return now;
  const rel = RELATIVE.exec(s);
  if (rel) return now - Math.round(Number(rel[1]) * UNIT_MS[rel[2]]);
  if (/^\d{10,}$/.test(s)) return Number(s);
  const t = Date.parse(NO_ZONE.test(s) ? `${s.replace(' ', 'T')}${s.length === 10 ? 'T00:00:00' : ''}Z` : s);
  if (Number.isFinite(t)) return t;
  return `"${spec}" is not a time: use now, a relative time like -1h / -30m / -7d, ISO 8601 (2026-12-05T10:00:00Z) or epoch milliseconds`;
}
