import { describe, expect, it } from 'vitest';
import { createMasker } from '../transforms/mask.js';
import { ALL_KINDS, DemoGenerator, LogGenerator, PLANTED_SECRETS } from './log-generator.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const masker = createMasker({ type: 'mask' } as Parameters<typeof createMasker>[0]);

describe('the one data generator', () => {
  it('is deterministic per seed, for payload sequences and for events of a kind', () => {
    const seq = (seed: number) => {
      const g = new DemoGenerator({ seed, now: NOW, totalEnvelopes: 30, mix: { lambda: 1, generic: 1 } });
      return Array.from({ length: 30 }, () => g.next().gzip.toString('base64')).join();
    };
    expect(seq(5)).toBe(seq(5));
    expect(seq(5)).not.toBe(seq(6));
    for (const kind of ALL_KINDS) {
      const a = new LogGenerator({ seed: 3 }).events(kind, 50);
      expect(new LogGenerator({ seed: 3 }).events(kind, 50), kind).toEqual(a);
      expect(a.length, kind).toBe(50);
      expect(a.every((e, i) => i === 0 || e.timestamp >= a[i - 1].timestamp)).toBe(true);
    }
  });

  it('sends only the kinds of its mix', () => {
    const g = new DemoGenerator({
      seed: 2,
      now: NOW,
      controlEvery: 0,
      mix: { 'cloud-controller-manager': 1, generic: 3 },
    });
    const kinds = new Set(Array.from({ length: 80 }, () => g.next().kind));
    expect([...kinds].sort()).toEqual(['cloud-controller-manager', 'generic']);
    expect(() => new DemoGenerator({ mix: { lambda: 0 } })).toThrow(/at least one kind/);
  });

  it('leaks credentials only when asked, and then the default masking finds them', () => {
    const masked = (leaks: boolean) => {
      const g = new LogGenerator({ seed: 9, leaks });
      let n = 0;
      for (const kind of ALL_KINDS)
        for (const e of g.events(kind, 2000)) if (masker.maskString(e.message) !== e.message) n++;
      return n;
    };
    expect(masked(false)).toBe(0);
    expect(masked(true)).toBeGreaterThan(50);
  });

  it('plants secretsRate of the text lines with a known credential, never inside JSON', () => {
    const g = new LogGenerator({ seed: 4, leaks: false, secretsRate: 0.1 });
    let text = 0;
    let planted = 0;
    for (const kind of ALL_KINDS)
      for (const e of g.events(kind, 1000)) {
        const has = PLANTED_SECRETS.some((s) => e.message.includes(s.trim()));
        if (e.message.startsWith('{')) {
          expect(has).toBe(false);
          continue;
        }
        text++;
        if (has) planted++;
      }
    expect(planted / text).toBeGreaterThan(0.07);
    expect(planted / text).toBeLessThan(0.13);
  });
});
