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
