/**
 * `diff` / `logcompare timeshift`: where the baseline window lies. The query window must be bounded
 * (`--start`; `--end` defaults to now). previousPeriod is the window of equal length just before;
 * previousDay/Week shift by 1 or 7 days; previousMonth shifts both ends back one calendar month (UTC,
 * day clamped to the month's length); `logcompare timeshift d` shifts both ends back by d.
 */
import { LogferryError } from '../../core/errors.js';
import type { QueryAst } from '../ast.js';
import type { DiffCommand } from './ast.js';

const DAY = 86_400_000;

export interface Window {
  startMs?: number;
  endMs?: number;
}

/** The diff/logcompare command of a query, if any. */
export function diffCommandOf(ast: QueryAst): DiffCommand | undefined {
  return ast.commands.find((c): c is DiffCommand => c.kind === 'diff');
}

function minusMonth(ms: number): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const lastDay = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return Date.UTC(
    y,
    m - 1,
    day,
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
}

/** The baseline window of `cmd` for the query window `range` (`now` closes an open end). */
export function baselineWindow(
  cmd: DiffCommand,
  range: Window,
  now: number,
): { startMs: number; endMs: number } {
  if (range.startMs === undefined) {
    const what = cmd.shift ? `logcompare timeshift ${cmd.shift.text}` : `diff ${cmd.period}`;
    throw new LogferryError(
      'CONFIG_INVALID',
      `${what} compares the query window with an earlier one, so the window needs a start: give --start (e.g. --start 1h)`,
    );
  }
  const start = range.startMs;
  const end = range.endMs ?? now;
  if (cmd.shift) return { startMs: start - cmd.shift.ms, endMs: end - cmd.shift.ms };
  switch (cmd.period) {
    case 'previousDay':
      return { startMs: start - DAY, endMs: end - DAY };
    case 'previousWeek':
      return { startMs: start - 7 * DAY, endMs: end - 7 * DAY };
    case 'previousMonth':
      return { startMs: minusMonth(start), endMs: minusMonth(end) };
    default:
      return { startMs: start - (end - start), endMs: start };
  }
}

/** The current window's rows, then the baseline's, each tagged with `field: 'baseline'`. */
export async function* withBaseline<R extends Record<string, unknown>>(
  current: AsyncIterable<R>,
  baseline: AsyncIterable<R>,
  field: string,
): AsyncGenerator<R> {
  yield* current;
  for await (const r of baseline) {
    (r as Record<string, unknown>)[field] = 'baseline';
    yield r;
  }
}
