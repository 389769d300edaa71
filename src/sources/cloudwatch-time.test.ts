import { describe, expect, it } from 'vitest';
import { resolveTime } from './cloudwatch-time.js';

describe('resolveTime', () => {
  const now = Date.UTC(2026, 11, 5, 12, 0, 0);
  it('reads now, relative times, ISO 8601 (no zone = UTC) and epoch ms', () => {
    expect(resolveTime('now', now)).toBe(now);
    expect(resolveTime('-1h', now)).toBe(now - 3_600_000);
    expect(resolveTime('-30m', now)).toBe(now - 1_800_000);
    expect(resolveTime('-1.5d', now)).toBe(now - 129_600_000);
    expect(resolveTime('2026-12-05T10:00:00Z', now)).toBe(Date.UTC(2026, 11, 5, 10));
    expect(resolveTime('2026-12-05T10:00:00', now)).toBe(Date.UTC(2026, 11, 5, 10));
    expect(resolveTime('2026-12-05', now)).toBe(Date.UTC(2026, 11, 5));
    expect(resolveTime('2026-12-05T10:00:00+01:00', now)).toBe(Date.UTC(2026, 11, 5, 9));
    expect(resolveTime(1_764_928_800_000, now)).toBe(1_764_928_800_000);
    expect(resolveTime('1764928800000', now)).toBe(1_764_928_800_000);
  });
  it('says why something is not a time', () => {
    expect(resolveTime('yesterday', now)).toMatch(
      /"yesterday" is not a time: use now, a relative time like -1h/,
    );
    expect(resolveTime('-1y', now)).toMatch(/is not a time/);
  });
});
