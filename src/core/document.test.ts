import { describe, expect, it } from 'vitest';
import { isoTimestamp, toDocument } from './document.js';
import { mulberry32 } from './prng.js';

describe('isoTimestamp', () => {
  it('is exactly Date#toISOString, in runs of one second and across seconds, days and years', () => {
    const rnd = mulberry32(8);
    const stamps: number[] = [
      0, 999, 1000, 1001, -1, -1000, -1001, 1.5, -0.5, 999.999, 253402300799999, 253402300800000, 8.64e15,
      -8.64e15,
    ];
    let t = Date.UTC(2026, 11, 31, 23, 59, 58, 990);
    for (let i = 0; i < 5000; i++) {
      t += Math.floor(rnd() * 7);
      stamps.push(t);
    }
    for (let i = 0; i < 5000; i++) stamps.push(Math.floor(rnd() * 253402300800000));
    for (const ts of stamps) expect(isoTimestamp(ts)).toBe(new Date(ts).toISOString());
    // Going back to a second seen before still answers right.
    expect(isoTimestamp(Date.UTC(2026, 0, 1))).toBe('2026-01-01T00:00:00.000Z');
    expect(isoTimestamp(Date.UTC(2026, 0, 1, 0, 0, 0, 7))).toBe('2026-01-01T00:00:00.007Z');
  });

  it('throws the RangeError toISOString throws on an invalid time', () => {
    for (const ts of [Number.NaN, 8.64e15 + 1, Number.POSITIVE_INFINITY])
      expect(() => isoTimestamp(ts)).toThrow(RangeError);
  });

  it('is what toDocument writes in the iso style', () => {
    const r = {
      timestamp: Date.UTC(2026, 4, 1, 2, 3, 4, 56),
      message: 'm',
      fields: {},
      meta: { owner: '1', logGroup: 'g', logStream: 's', id: 'i', source: 't', ackId: 'a' },
    };
    expect(toDocument(r, 'iso')['@timestamp']).toBe('2026-05-01T02:03:04.056Z');
    expect(toDocument(r)['@timestamp']).toBe(r.timestamp);
  });
});
