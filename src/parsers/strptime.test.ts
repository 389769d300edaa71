import { describe, expect, it } from 'vitest';
import { compileStrptime, parseAnyTime, parseOffset, type TimeParser } from './strptime.js';

const fmt = (f: string, off = 0): TimeParser => {
  const p = compileStrptime(f, off);
  if (typeof p !== 'function') throw new Error(p.error);
  return p;
};
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('strptime', () => {
  it('common log formats', () => {
    expect(iso(fmt('%d/%b/%Y:%H:%M:%S %z')('10/Oct/2000:13:55:36 -0700'))).toBe('2000-10-10T20:55:36.000Z');
    expect(iso(fmt('%Y-%m-%dT%H:%M:%S.%L%z')('2024-03-05T10:11:12.345678+01:00'))).toBe(
      '2024-03-05T09:11:12.345Z',
    );
    expect(iso(fmt('%Y-%m-%d %H:%M:%S,%L')('2024-03-05 10:11:12,5'))).toBe('2024-03-05T10:11:12.500Z');
    expect(iso(fmt('%b %e %H:%M:%S %Y')('Mar  5 10:11:12 2024'))).toBe('2024-03-05T10:11:12.000Z');
    expect(iso(fmt('%a, %d %B %Y %T %Z')('Tue, 05 March 2024 10:11:12 GMT'))).toBe(
      '2024-03-05T10:11:12.000Z',
    );
    expect(iso(fmt('%s')('1709633472'))).toBe('2024-03-05T10:11:12.000Z');
    expect(iso(fmt('%s.%L')('1709633472.250'))).toBe('2024-03-05T10:11:12.250Z');
    expect(iso(fmt('%m/%d/%y %I:%M %p')('03/05/24 10:11 PM'))).toBe('2024-03-05T22:11:00.000Z');
    expect(iso(fmt('%m/%d/%y %I:%M %p')('03/05/24 12:11 AM'))).toBe('2024-03-05T00:11:00.000Z');
    expect(iso(fmt('%F %R')('1999-12-31 23:59'))).toBe('1999-12-31T23:59:00.000Z');
    expect(iso(fmt('%Y %j')('2024 60'))).toBe('2024-02-29T00:00:00.000Z');
    expect(iso(fmt('%Y-%m-%d 100%%')('2024-01-02 100%'))).toBe('2024-01-02T00:00:00.000Z');
  });

  it('fixed offset for zone-less times (Time_Offset); %z wins over it', () => {
    expect(iso(fmt('%Y-%m-%d %H:%M:%S', 120)('2024-03-05 10:00:00'))).toBe('2024-03-05T08:00:00.000Z');
    expect(iso(fmt('%Y-%m-%d %H:%M:%S%z', 120)('2024-03-05 10:00:00Z'))).toBe('2024-03-05T10:00:00.000Z');
  });

  it('ignores text after the format, as Fluent Bit does, but takes a zone designator there', () => {
    // Fluent Bit's standard docker parser on Docker's json-file times.
    const docker = fmt('%Y-%m-%dT%H:%M:%S.%L');
    expect(iso(docker('2026-12-05T10:00:00.123456789Z'))).toBe('2026-12-05T10:00:00.123Z');
    expect(iso(docker('2026-12-05T10:00:01.5Z'))).toBe('2026-12-05T10:00:01.500Z');
    expect(iso(fmt('%Y-%m-%dT%H:%M:%S', 120)('2026-12-05T10:00:00Z'))).toBe('2026-12-05T10:00:00.000Z');
    expect(iso(fmt('%Y-%m-%d %H:%M:%S')('2026-12-05 10:00:00 +02:00'))).toBe('2026-12-05T08:00:00.000Z');
    expect(iso(fmt('%Y-%m-%d %H:%M:%S')('2026-12-05 10:00:00 -0600 CST'))).toBe('2026-12-05T16:00:00.000Z');
    // Other text is ignored (the offset stays the configured one); a format with %z keeps its own.
    expect(iso(fmt('%Y-%m-%d %H:%M:%S', 60)('2026-12-05 10:00:00 [main] INFO x'))).toBe(
      '2026-12-05T09:00:00.000Z',
    );
    expect(iso(fmt('%H:%M:%S %Y-%m-%d')('10:00:00 2026-12-05Zulu'))).toBe('2026-12-05T10:00:00.000Z');
    expect(iso(fmt('%Y-%m-%d %H:%M:%S%z')('2026-12-05 10:00:00+0100 Z'))).toBe('2026-12-05T09:00:00.000Z');
  });

  it('refuses what does not match or is not a date', () => {
    const p = fmt('%Y-%m-%d %H:%M:%S');
    expect(p('2024-03-05')).toBeUndefined();
    expect(p('2024-02-30 10:00:00')).toBeUndefined();
    expect(p('2024-13-01 10:00:00')).toBeUndefined();
    expect(p('2024-01-01 24:00:00')).toBeUndefined();
    expect(p('x2024-01-01 10:00:00')).toBeUndefined();
    expect(fmt('%I %p')('13 PM')).toBeUndefined();
    expect(fmt('%Y-%m-%d %z')('2024-01-01 +9999')).toBeUndefined();
  });

  it('bad formats are errors, not exceptions', () => {
    expect(compileStrptime('%Q')).toEqual({ error: 'unsupported directive %Q' });
    expect(compileStrptime('%Y %')).toEqual({ error: 'the format ends with a lone %' });
    expect(compileStrptime('hello')).toEqual({ error: 'the format has no date or time directive' });
  });

  it('offsets and format-less times', () => {
    expect([
      parseOffset('+0200'),
      parseOffset('-06:00'),
      parseOffset('Z'),
      parseOffset('+2'),
      parseOffset('+2400'),
    ]).toEqual([120, -360, 0, undefined, undefined]);
    expect(iso(parseAnyTime('2024-03-05T10:11:12Z'))).toBe('2024-03-05T10:11:12.000Z');
    expect(iso(parseAnyTime('2024-03-05 10:11:12.5', 60))).toBe('2024-03-05T09:11:12.500Z');
    expect(iso(parseAnyTime(1709633472))).toBe('2024-03-05T10:11:12.000Z');
    expect(iso(parseAnyTime('1709633472123'))).toBe('2024-03-05T10:11:12.123Z');
    expect(parseAnyTime('yesterday')).toBeUndefined();
    expect(parseAnyTime(Number.NaN)).toBeUndefined();
    expect(parseAnyTime({})).toBeUndefined();
  });
});
