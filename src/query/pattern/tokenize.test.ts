import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../core/prng.js';
import { hash32, ValueSample } from './sample.js';
import { randomLogs, randomTemplates } from './testing.js';
import { classifyByRegex, classifyRange, HASH2, hashRange, newSpans, scan, sepStartOf } from './tokenize.js';

/** Random words over an alphabet that reaches every branch of the classifier (digits, time and number punctuation, units, hex). */
function randomWord(r: () => number): string {
  const shapes = [
    () => String(Math.floor(r() * 1e6)),
    () =>
      `${Math.floor(r() * 24)}:${String(Math.floor(r() * 60)).padStart(2, '0')}:${String(Math.floor(r() * 60)).padStart(2, '0')}`,
    () => new Date(Math.floor(r() * 2e12)).toISOString(),
    () => new Date(Math.floor(r() * 2e12)).toISOString().slice(0, 19),
    () =>
      `${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`,
    () => `${(r() * 1000).toFixed(2)}ms`,
    () => {
      const alpha = '0123456789:.-+/,TZ_eEkKMGBi%msuxabcdf';
      const n = 1 + Math.floor(r() * 24);
      let s = String(Math.floor(r() * 10));
      for (let i = 1; i < n; i++) s += alpha[Math.floor(r() * alpha.length)];
      return s;
    },
  ];
  let w = shapes[Math.floor(r() * shapes.length)]();
  // Perturb a character now and then, so near-misses of each shape are covered too.
  if (r() < 0.3) {
    const at = Math.floor(r() * w.length);
    w = w.slice(0, at) + '0:.-TZa'[Math.floor(r() * 7)] + w.slice(at + 1);
  }
  return w;
}

describe('classifyRange', () => {
  it('gives the regexes’ answer on every word with a digit (fast paths are exact)', () => {
    const r = mulberry32(5);
    const fixed = [
      '12:30:01',
      '2:30:01',
      '12:30:01.5',
      '12:30:01.',
      '12:30:01,5',
      '2026-12-05T10:00:00Z',
      '2026-12-05T10:00:00.123Z',
      '2026-12-05T10:00:00.Z',
      '2026-12-05T10:00:00+01:00',
      '2026-12-05',
      '10.0.0.1',
      '10.0.0.1/24',
      '1,234.5',
      '4.5ms',
      '1e5',
      '-3',
      '0x1f',
      'abc123',
      '20261205T100000Z',
    ];
    const words = [...fixed];
    for (let i = 0; i < 20000; i++) words.push(randomWord(r));
    for (const w of words) {
      const msg = `x ${w} y`;
      expect(classifyRange(msg, 2, 2 + w.length), w).toBe(classifyByRegex(w));
    }
  });
});

describe('scan hashes', () => {
  it('hash every word and separator exactly as hashRange hashes its text', () => {
    const logs = randomLogs(3, 2000, randomTemplates(4, 40));
    logs.push('a  b\t"c d" (x) () [] 10.0.0.1:443 ...x....y LOCAL(0) pam(sshd:auth) ', '', '   ');
    const sp = newSpans();
    for (const m of logs) {
      scan(m, sp);
      for (let i = 0; i <= sp.n; i++) {
        const from = sepStartOf(sp, i);
        const to = i < sp.n ? sp.wStart[i] : sp.n > 0 ? sp.wEnd[sp.n - 1] : 0;
        // The trailing separator runs to the end of the message.
        const sepTo = i < sp.n ? to : m.length;
        expect(sp.sh1[i], `sep ${i} of ${m}`).toBe(hashRange(m, from, sepTo));
        expect(sp.sh2[i]).toBe(HASH2.v);
        if (i === sp.n) break;
        expect(sp.wh1[i], `word ${i} of ${m}`).toBe(hashRange(m, sp.wStart[i], sp.wEnd[i]));
        expect(sp.wh2[i]).toBe(HASH2.v);
        expect(sp.wh1[i] >>> 0).toBe(hash32(m.slice(sp.wStart[i], sp.wEnd[i])));
      }
    }
  });
});

describe('ValueSample', () => {
  it('keeps the same values and exact counts whether fed in place, by value, in any order, or merged', () => {
    const r = mulberry32(9);
    const values: string[] = [];
    for (let i = 0; i < 3000; i++) values.push(`v${Math.floor(r() * (i % 2 ? 40 : 5000))}`);
    const inPlace = new ValueSample(10);
    const sp = newSpans();
    for (const v of values) {
      // The value as the one word of a message, with the hashes the scan gives it.
      const msg = `[${v}]`;
      scan(msg, sp);
      expect(sp.n).toBe(1);
      inPlace.offer(msg, sp.wStart[0], sp.wEnd[0], sp.wh1, sp.wh2, 0, Number.POSITIVE_INFINITY);
    }
    const byValue = new ValueSample(10);
    for (const v of [...values].reverse()) byValue.add(v, 1, Number.POSITIVE_INFINITY);
    const merged = new ValueSample(10);
    const halves = [new ValueSample(10), new ValueSample(10)];
    for (let i = 0; i < values.length; i++) halves[i % 2].add(values[i], 1, Number.POSITIVE_INFINITY);
    merged.merge(halves[1]);
    merged.merge(halves[0]);
    const exact = new Map<string, number>();
    for (const v of values) exact.set(v, (exact.get(v) ?? 0) + 1);
    for (const s of [byValue, merged]) {
      expect(s.top(10)).toEqual(inPlace.top(10));
      expect(s.distinct()).toBe(inPlace.distinct());
      expect(s.overflow).toBe(true);
    }
    for (const { value, count } of inPlace.top(10)) expect(count).toBe(exact.get(value));
    expect(inPlace.size).toBe(10);
  });
});
