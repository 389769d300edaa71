import { describe, expect, it } from 'vitest';
import { inRange, overlaps, parseTimeArg, parseTimeRange } from './time-range.js';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

describe('parseTimeArg', () => {
  it('reads relative times as "ago"', () => {
    expect(parseTimeArg('15m', NOW)).toBe(NOW - 15 * 60_000);
    expect(parseTimeArg('1h', NOW)).toBe(NOW - 3_600_000);
    expect(parseTimeArg('7d', NOW)).toBe(NOW - 7 * 86_400_000);
    expect(parseTimeArg('-2h', NOW)).toBe(NOW - 7_200_000);
    expect(parseTimeArg('30s ago', NOW)).toBe(NOW - 30_000);
    expect(parseTimeArg('now', NOW)).toBe(NOW);
  });
  it('reads absolute times (ISO, naive UTC, dates, epoch s/ms)', () => {
    expect(parseTimeArg('2026-11-22T10:00:00Z', NOW)).toBe(Date.UTC(2026, 10, 22, 10));
    expect(parseTimeArg('2026-11-22T10:00:00+02:00', NOW)).toBe(Date.UTC(2026, 10, 22, 8));
    expect(parseTimeArg('2026-11-22 10:30', NOW)).toBe(Date.UTC(2026, 10, 22, 10, 30));
    expect(parseTimeArg('2026-11-22', NOW)).toBe(Date.UTC(2026, 10, 22));
    expect(parseTimeArg('1763805600', NOW)).toBe(1763805600_000);
    expect(parseTimeArg('1763805600123', NOW)).toBe(1763805600123);
  });
  it('says what it accepts when a value is not a time', () => {
    expect(() => parseTimeArg('yesterday-ish', NOW, '--end')).toThrow(
      /--end 'yesterday-ish' is not a time: use ISO 8601/,
    );
  });
});

describe('parseTimeRange', () => {
  it('builds a half-open range and rejects an empty one', () => {
    const r = parseTimeRange('2h', '1h', NOW);
    expect(r).toEqual({ startMs: NOW - 7_200_000, endMs: NOW - 3_600_000 });
    expect(inRange(NOW - 7_200_000, r)).toBe(true);
    expect(inRange(NOW - 3_600_000, r)).toBe(false);
    expect(() => parseTimeRange('1h', '2h', NOW)).toThrow(/must be before --end/);
    expect(parseTimeRange(undefined, undefined, NOW)).toEqual({});
  });
  it('overlaps() treats the window as inclusive and the range as half-open', () => {
    const r = { startMs: 100, endMs: 200 };
    expect(overlaps(0, 99, r)).toBe(false);
    expect(overlaps(0, 100, r)).toBe(true);
    expect(overlaps(199, 300, r)).toBe(true);
    expect(overlaps(200, 300, r)).toBe(false);
    expect(overlaps(0, 1, {})).toBe(true);
  });
});
