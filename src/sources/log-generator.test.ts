import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMasker } from '../transforms/mask.js';
import { ALL_KINDS, DemoGenerator, type LogEvent, LogGenerator, PLANTED_SECRETS } from './log-generator.js';

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

/**
 * sha256 (first 16 hex) of what the generator made before template ids were recorded (taken from
 * main at 5562468): recording must not change one byte or one PRNG draw.
 */
const BEFORE: Record<string, string> = {
  'kube-apiserver-audit': '22071e40de0f5f2d',
  'kube-apiserver-audit/noleaks+secrets': '7934b008a527e49c',
  'kube-apiserver': '65c6fd93e8cc03c7',
  'kube-apiserver/noleaks+secrets': 'f059b179dc3435b3',
  authenticator: '4d56b47a66e6c592',
  'authenticator/noleaks+secrets': '6b21e4f7482eceb7',
  'kube-controller-manager': '92bec1ced1f757fb',
  'kube-controller-manager/noleaks+secrets': 'e422f02ca5ad91e1',
  'cloud-controller-manager': 'bd18738715ac22bb',
  'cloud-controller-manager/noleaks+secrets': '162a0b3b78c81f65',
  'kube-scheduler': '589e21320326d99a',
  'kube-scheduler/noleaks+secrets': '4197eb5432c7b60a',
  lambda: '42cce9f809b64939',
  'lambda/noleaks+secrets': 'dfb780ea2278cb6a',
  ecs: 'c42ff006885b799d',
  'ecs/noleaks+secrets': '5a6f410f941f3fb8',
  generic: '19a2482cfb2664e4',
  'generic/noleaks+secrets': '48b358c1d62cfb12',
  'lambda#0': '7f16e7a7632e5ff1',
  'lambda#1': '2b9e9704039c94ef',
  'lambda#2': '9c9da92df3123d1b',
  'ecs#0': '8e8c74e0c9fe1016',
  'ecs#1': '01bec0b3897d88ba',
  'ecs#2': '575e66ec0ec5990b',
  demo: 'f1d67734c6e313c9',
};
const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
const text = (evs: LogEvent[]) => evs.map((e) => `${e.id} ${e.timestamp} ${e.message}`).join('\n');

describe('ground-truth template ids', () => {
  it('leave every byte of 20,000 lines of each kind, the variants and a demo sequence as before', () => {
    const got: Record<string, string> = {};
    for (const kind of ALL_KINDS) {
      const ids: string[] = [];
      const evs = (o: object) => new LogGenerator({ seed: 7, ...o }).events(kind, 20_000);
      got[kind] = sha(text(evs({})));
      got[`${kind}/noleaks+secrets`] = sha(
        text(evs({ leaks: false, secretsRate: 0.1, onTemplate: (t: string) => ids.push(t) })),
      );
      expect(ids.length, kind).toBe(20_000);
    }
    for (const kind of ['lambda', 'ecs'] as const)
      for (let v = 0; v < 3; v++) {
        const g = new LogGenerator({ seed: 9, onTemplate: () => {} });
        got[`${kind}#${v}`] = sha(
          Array.from({ length: 20 }, () => {
            const b = g.batch(kind, 1000, undefined, v);
            return JSON.stringify(b.stream) + text(b.events);
          }).join('\n'),
        );
      }
    const d = new DemoGenerator({ seed: 5, now: NOW, totalEnvelopes: 400, corruptEvery: 37 });
    got.demo = sha(Array.from({ length: 400 }, () => d.next().gzip.toString('base64')).join());
    expect(got).toEqual(BEFORE);
  });

  it('name one template per event: lines of one id share their constant text', () => {
    for (const kind of ALL_KINDS) {
      const ids: string[] = [];
      const evs = new LogGenerator({ seed: 11, secretsRate: 0.05, onTemplate: (t) => ids.push(t) }).events(
        kind,
        3000,
      );
      expect(ids.length, kind).toBe(evs.length);
      // Masking digits, hex runs and quoted/bracketed values leaves a shape per id; each id has at most a few
      // (the variables that are words, such as namespaces), and a shape never spans two ids.
      const shapeOf = new Map<string, string>();
      evs.forEach((e, i) => {
        expect(ids[i].startsWith(kind === 'kube-apiserver-audit' ? 'audit:' : ''), ids[i]).toBe(true);
        if (e.message.startsWith('{')) return;
        const shape = e.message
          .replace(/"[^"]*"/g, '"_"')
          .replace(/[0-9a-f]{8,}/gi, 'H')
          .replace(/\d+/g, '0')
          .replace(/=\S+/g, '=_')
          .replace(/\S+-\S+\.ec2\.internal|\S+\/\S+/g, '_');
        const prev = shapeOf.get(shape);
        if (prev !== undefined) expect(ids[i], `${kind}: ${e.message}`).toBe(prev);
        shapeOf.set(shape, ids[i]);
      });
      expect(new Set(ids).size, kind).toBeGreaterThan(0);
    }
  });
});
