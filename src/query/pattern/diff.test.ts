import { describe, expect, it } from 'vitest';
import { parseQuery } from '../parser.js';
import { baselineWindow, diffCommandOf } from './diff.js';

const cmd = (q: string) => {
  const c = diffCommandOf(parseQuery(q));
  if (!c) throw new Error(`no diff in ${q}`);
  return c;
};
const at = (s: string) => Date.parse(s);

describe('baselineWindow', () => {
  const range = { startMs: at('2026-03-31T10:00:00Z'), endMs: at('2026-03-31T12:00:00Z') };
  it('places each documented baseline', () => {
    expect(baselineWindow(cmd('diff'), range, 0)).toEqual({
      startMs: at('2026-03-31T08:00:00Z'),
      endMs: at('2026-03-31T10:00:00Z'),
    });
    expect(baselineWindow(cmd('diff previousDay'), range, 0)).toEqual({
      startMs: at('2026-03-30T10:00:00Z'),
      endMs: at('2026-03-30T12:00:00Z'),
    });
    expect(baselineWindow(cmd('diff previousWeek'), range, 0)).toEqual({
      startMs: at('2026-03-24T10:00:00Z'),
      endMs: at('2026-03-24T12:00:00Z'),
    });
    // One calendar month back, the day clamped to February's length.
    expect(baselineWindow(cmd('diff previousMonth'), range, 0)).toEqual({
      startMs: at('2026-02-28T10:00:00Z'),
      endMs: at('2026-02-28T12:00:00Z'),
    });
    expect(baselineWindow(cmd('logcompare timeshift 30m'), range, 0)).toEqual({
      startMs: at('2026-03-31T09:30:00Z'),
      endMs: at('2026-03-31T11:30:00Z'),
    });
  });

  it('closes an open end with now and refuses an open start', () => {
    const now = at('2026-03-31T12:00:00Z');
    expect(baselineWindow(cmd('diff'), { startMs: range.startMs }, now)).toEqual({
      startMs: at('2026-03-31T08:00:00Z'),
      endMs: at('2026-03-31T10:00:00Z'),
    });
    expect(() => baselineWindow(cmd('diff previousDay'), {}, now)).toThrow(/--start/);
  });
});
