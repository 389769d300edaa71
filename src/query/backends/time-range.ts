/**
 * `--start` / `--end` for `logferry query`: absolute times (ISO 8601, `YYYY-MM-DD HH:MM:SS` taken as
 * UTC, epoch seconds or milliseconds) or relative ones meaning "that long ago" (`15m`, `1h`, `7d`,
 * `2w`, `30s`, optionally `-1h` or `1h ago`). The range is half-open `[startMs, endMs)` in epoch ms,
 * like Logs Insights' query window; either end may be open.
 */
import { LogferryError } from '../../core/errors.js';

export interface TimeRange {
  /** Inclusive, epoch ms. */
  startMs?: number;
  /** Exclusive, epoch ms. */
  endMs?: number;
}

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  sec: 1_000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const RELATIVE = /^-?\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|hr|d|w)\s*(?:ago)?$/i;
const NAIVE_DATETIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/;

/** Parses one `--start`/`--end` value; `now` anchors relative values. Throws CONFIG_INVALID with a hint. */
export function parseTimeArg(text: string, now: number, flag = '--start'): number {
  const t = text.trim();
  const rel = RELATIVE.exec(t);
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2].toLowerCase()];
  if (t.toLowerCase() === 'now') return now;
  if (/^\d{9,13}$/.test(t)) {
    // Up to 10 digits: epoch seconds (valid until 2286); 11–13 digits: epoch milliseconds.
    const n = Number(t);
    return t.length <= 10 ? n * 1000 : n;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return checked(Date.parse(`${t}T00:00:00Z`), text, flag);
  if (NAIVE_DATETIME.test(t)) return checked(Date.parse(`${t.replace(' ', 'T')}Z`), text, flag);
  return checked(Date.parse(t), text, flag);
}

function checked(ms: number, text: string, flag: string): number {
  if (Number.isFinite(ms)) return ms;
  throw new LogferryError(
    'CONFIG_INVALID',
    `${flag} '${text}' is not a time: use ISO 8601 (2026-11-22T10:00:00Z), 'YYYY-MM-DD HH:MM:SS' (UTC), epoch seconds/ms, or a relative time such as 15m, 1h, 7d (ago)`,
  );
}

export function parseTimeRange(start: string | undefined, end: string | undefined, now: number): TimeRange {
  const range: TimeRange = {};
  if (start !== undefined && start !== '') range.startMs = parseTimeArg(start, now, '--start');
  if (end !== undefined && end !== '') range.endMs = parseTimeArg(end, now, '--end');
  if (range.startMs !== undefined && range.endMs !== undefined && range.startMs >= range.endMs) {
    throw new LogferryError(
      'CONFIG_INVALID',
      `--start (${new Date(range.startMs).toISOString()}) must be before --end (${new Date(range.endMs).toISOString()})`,
    );
  }
  return range;
}

export function inRange(ms: number, r: TimeRange): boolean {
  return (r.startMs === undefined || ms >= r.startMs) && (r.endMs === undefined || ms < r.endMs);
}

/** True when [fromMs, toMs] (inclusive) can overlap the range. */
export function overlaps(fromMs: number, toMs: number, r: TimeRange): boolean {
  return (r.endMs === undefined || fromMs < r.endMs) && (r.startMs === undefined || toMs >= r.startMs);
}
