/**
 * Date/time helpers for `bin`, `datefloor`, `dateceil`: fixed units floor on epoch-aligned
 * boundaries (weeks start on Monday, UTC); months, quarters and years use UTC calendar arithmetic.
 * All timestamps are epoch milliseconds.
 */
import type { DurationUnit } from '../ast.js';
import { UNIT_MS } from '../lexer.js';

const DAY_MS = 86_400_000;
/** 1970-01-01 was a Thursday; the first Monday is four days later. */
const MONDAY_OFFSET_MS = 4 * DAY_MS;

export interface Period {
  amount: number;
  unit: DurationUnit;
}

/**
 * AWS's per-unit caps on datetime-function periods: "The cap for `ms` is 1000, the caps for `s` and
 * `m` are 60, and the cap for `h` is 24" (CWL_QuerySyntax-operations-functions, Datetime functions).
 * Logs Insights silently clamps a larger amount (`bin(300s)` runs as 60 seconds); logferry refuses
 * it instead, naming the period in a larger unit when one fits. `d`, `w`, `mo`, `q`, `y` have no
 * documented cap.
 */
export const PERIOD_CAPS: Partial<Record<DurationUnit, number>> = { ms: 1000, s: 60, m: 60, h: 24 };

const CAP_UNITS: [DurationUnit, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/**
 * The same period written within the caps: itself when its amount is within its unit's cap, else the
 * largest unit (d, h, m, s) that expresses it exactly within that unit's cap (`300s` → `5m`); undefined
 * when none does (`90m`).
 */
export function periodWithinCaps(p: Period): string | undefined {
  const cap = PERIOD_CAPS[p.unit];
  if (cap === undefined || p.amount <= cap) return `${p.amount}${p.unit}`;
  const ms = periodMs(p);
  for (const [u, w] of CAP_UNITS) {
    const n = ms / w;
    if (Number.isInteger(n) && n >= 1 && n <= (PERIOD_CAPS[u] ?? Number.POSITIVE_INFINITY)) return `${n}${u}`;
  }
  return undefined;
}

/** A sentence when `amount` is over its unit's documented cap, else undefined. */
export function periodCapProblem(fn: string, text: string, p: Period): string | undefined {
  const cap = PERIOD_CAPS[p.unit];
  if (cap === undefined || p.amount <= cap) return undefined;
  const better = periodWithinCaps(p);
  return (
    `${fn}(): the period ${text} is over Logs Insights' cap of ${cap}${p.unit} (it would silently use ${cap}${p.unit}); ` +
    (better ? `write ${better} instead` : 'write it in a larger unit')
  );
}

export function periodMs(p: Period): number {
  return p.amount * UNIT_MS[p.unit];
}

/** Largest period boundary ≤ ts. */
export function floorTime(ts: number, p: Period): number {
  if (p.unit === 'mo' || p.unit === 'q' || p.unit === 'y') {
    const d = new Date(ts);
    const months = p.unit === 'mo' ? p.amount : p.unit === 'q' ? 3 * p.amount : 12 * p.amount;
    const total = d.getUTCFullYear() * 12 + d.getUTCMonth();
    const floored = Math.floor(total / months) * months;
    return Date.UTC(Math.floor(floored / 12), floored % 12, 1);
  }
  const width = periodMs(p);
  if (width <= 0) return ts;
  if (p.unit === 'w') return Math.floor((ts - MONDAY_OFFSET_MS) / width) * width + MONDAY_OFFSET_MS;
  return Math.floor(ts / width) * width;
}

/** Smallest period boundary ≥ ts. */
export function ceilTime(ts: number, p: Period): number {
  const f = floorTime(ts, p);
  if (f === ts) return ts;
  if (p.unit === 'mo' || p.unit === 'q' || p.unit === 'y') {
    const d = new Date(f);
    const months = p.unit === 'mo' ? p.amount : p.unit === 'q' ? 3 * p.amount : 12 * p.amount;
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
  }
  return f + periodMs(p);
}
