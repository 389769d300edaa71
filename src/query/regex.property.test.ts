/**
 * Differential property test: for random patterns (letters of both cases, non-ASCII letters,
 * classes and ranges, escapes, groups, named groups, alternation, quantifiers, anchors) and random
 * texts, the linear-time matcher toJsRegex builds gives exactly the answers of a plain JavaScript
 * RegExp — with and without case-insensitivity — including the match position, the matched text
 * and every named group. Seeded, so a failure names its pattern and text and can be replayed.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../core/prng.js';
import { toJsRegex } from './regex.js';

const ALPHABET = ['a', 'b', 'A', 'B', 'k', 'K', 'é', 'É', 'ß', '1', '-', ' ', '_'];

function gen(r: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  let groups = 0;
  const atom = (depth: number): string => {
    const k = r();
    if (k < 0.35) return pick(['a', 'b', 'A', 'k', 'é', 'É', 'ß', '1', '-', ' ']);
    if (k < 0.45) return pick(['.', '\\d', '\\w', '\\s', '\\W', '\\x41', '\\u00e9', '\\-']);
    if (k < 0.6) {
      const neg = r() < 0.3 ? '^' : '';
      const items = Array.from({ length: 1 + Math.floor(r() * 3) }, () =>
        pick(['a-c', 'A-B', 'k', 'é', 'À-ÿ', '0-9', '\\d', '\\w', '_', '\\-', 'x-z']),
      );
      return `[${neg}${items.join('')}]`;
    }
    if (k < 0.8 && depth < 3) {
      const named = r() < 0.4 ? `?<g${groups++}>` : r() < 0.3 ? '?:' : '';
      return `(${named}${seq(depth + 1)}${r() < 0.3 ? `|${seq(depth + 1)}` : ''})`;
    }
    return pick(['a', 'B', 'k']);
  };
  const quant = () => pick(['', '', '', '*', '+', '?', '{1,2}', '*?', '+?']);
  const seq = (depth: number): string => {
    let s = '';
    const n = 1 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) s += atom(depth) + quant();
    return s;
  };
  const body = seq(0);
  const src = `${r() < 0.2 ? '^' : ''}${body}${r() < 0.2 ? '$' : ''}`;
  return { src, groups };
}

function text(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

describe('toJsRegex gives the answers of a plain RegExp (seeded random patterns)', () => {
  for (const flags of ['', 'i', 's']) {
    it(`flags '${flags}'`, () => {
      const r = mulberry32(flags.length * 7919 + 13);
      let checked = 0;
      for (let p = 0; p < 400; p++) {
        const { src, groups } = gen(r);
        let native: RegExp;
        try {
          native = new RegExp(src, flags);
        } catch {
          continue;
        }
        const ours = toJsRegex(src, flags);
        for (let t = 0; t < 15; t++) {
          const s = text(r);
          const a = native.exec(s);
          const b = ours.re.exec(s);
          const want = a && { index: a.index, text: a[0], groups: { ...a.groups } };
          const got = b && { index: b.index, text: b[0], groups: { ...b.groups } };
          expect([src, flags, s, got]).toEqual([src, flags, s, want]);
          expect(ours.re.test(s)).toBe(native.test(s));
          checked++;
        }
        expect(ours.names.length).toBe(groups);
      }
      expect(checked).toBeGreaterThan(4000);
    });
  }

  it('(?i) written inline gives the answers of the i flag', () => {
    const r = mulberry32(4242);
    for (let p = 0; p < 300; p++) {
      const { src } = gen(r);
      let native: RegExp;
      try {
        native = new RegExp(src, 'i');
      } catch {
        continue;
      }
      const inline = toJsRegex(`(?i)${src}`, '');
      for (let t = 0; t < 10; t++) {
        const s = text(r);
        expect([src, s, inline.re.test(s)]).toEqual([src, s, native.test(s)]);
      }
    }
  });
});
