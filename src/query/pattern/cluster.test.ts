import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../core/prng.js';
import { PatternClusterer, patternText, severityOf } from './cluster.js';
import { patternMatcher, randomLogs, randomTemplates, shuffled } from './testing.js';
import { newTokenized, tokenize } from './tokenize.js';

function summary(c: PatternClusterer<unknown>) {
  return c.clusters().map((x) => ({
    pattern: x.pattern,
    counts: x.counts,
    severity: x.severity,
    tokens: x.tokens,
  }));
}

function cluster(messages: readonly string[], opts: { maxSignatures?: number } = {}) {
  const c = new PatternClusterer(opts);
  for (const m of messages) c.add(m);
  return c;
}

describe('tokenize', () => {
  it('splits into words and separators that rebuild the message', () => {
    const r = mulberry32(1);
    const logs = randomLogs(2, 500, randomTemplates(3, 40));
    logs.push('a  b\t"c d" (x) () [] 10.0.0.1:443 12:30:00 2026-12-05T10:00:00Z ...x....y', '', '   ');
    for (const m of logs) {
      const t = tokenize(m, newTokenized());
      let s = t.seps[0];
      for (let i = 0; i < t.values.length; i++) s += t.values[i] + t.seps[i + 1];
      expect(s).toBe(m);
    }
    expect(r()).toBeGreaterThanOrEqual(0);
  });

  it('types variables by their own text', () => {
    const t = tokenize(
      'GET /x 200 from 10.1.2.3 at 12:30:01 took 4.5ms id=abc123 ffffffffff',
      newTokenized(),
    );
    expect(patternText(t.seps, t.words)).toBe(
      'GET /x <Number-1> from <IPAddress-2> at <Time-3> took <Number-4> id=<Token-5> <Token-6>',
    );
  });

  it('keeps a klog level letter constant and reads severities', () => {
    const t = tokenize('E1205 10:00:00.000000       1 x.go:12] boom', newTokenized());
    expect(t.words[0]).toBe('E');
    expect(severityOf(t.seps, t.words)).toBe('ERROR');
    const j = tokenize('{"level":"warn","msg":"disk almost full"}', newTokenized());
    expect(severityOf(j.seps, j.words)).toBe('WARN');
    const p = tokenize('something happened here and then an ERROR', newTokenized());
    expect(severityOf(p.seps, p.words)).toBe('ERROR');
    const q = tokenize('user clicked the button and then saw the info panel', newTokenized());
    expect(severityOf(q.seps, q.words)).toBe('UNKNOWN');
  });
});

describe('PatternClusterer invariants (seeded random logs)', () => {
  for (const seed of [11, 22, 33]) {
    const templates = randomTemplates(seed, 60);
    const logs = randomLogs(seed + 1, 5000, templates);

    it(`seed ${seed}: every event matches its row's pattern, counts sum to the input`, () => {
      const c = cluster(logs);
      const clusters = c.clusters();
      expect(clusters.reduce((n, x) => n + x.total, 0)).toBe(logs.length);
      const matchers = new Map(clusters.map((x) => [x.pattern, patternMatcher(x.pattern)]));
      for (const m of logs) {
        const p = c.patternOf(m);
        expect(p).toBeDefined();
        expect(matchers.get(p as string)?.test(m), `${m} !~ ${p}`).toBe(true);
      }
      // Templates with variables are recognised as such: far fewer patterns than messages.
      expect(clusters.length).toBeLessThanOrEqual(templates.length * 2);
    });

    it(`seed ${seed}: the result does not depend on input order or on how input is split`, () => {
      const base = summary(cluster(logs));
      expect(summary(cluster(shuffled(logs, seed)))).toEqual(base);
      expect(summary(cluster(logs.slice().reverse()))).toEqual(base);
    });

    it(`seed ${seed}: with a tiny signature cap the cap holds and the result is still order-independent`, () => {
      const a = cluster(logs, { maxSignatures: 40 });
      const b = cluster(shuffled(logs, seed + 7), { maxSignatures: 40 });
      expect(a.signatureCount).toBeLessThanOrEqual(40);
      expect(a.level).toBeGreaterThan(0);
      expect(b.level).toBe(a.level);
      expect(summary(b)).toEqual(summary(a));
      const clusters = a.clusters();
      expect(clusters.reduce((n, x) => n + x.total, 0)).toBe(logs.length);
      const matchers = new Map(clusters.map((x) => [x.pattern, patternMatcher(x.pattern)]));
      for (const m of logs.slice(0, 1000)) expect(matchers.get(a.patternOf(m) as string)?.test(m)).toBe(true);
    });
  }

  it('one-event signatures built late give what building them at once gives', () => {
    // A clusterer with extra state builds every signature at once; one without keeps one-event
    // signatures as their message until seen again, coarsened, or clustered. Same input, same
    // times: every cluster, token detail and time must agree, with and without coarsening.
    const counter = {
      create: () => ({ n: 0 }),
      add: (e: { n: number }) => {
        e.n++;
      },
      merge: (a: { n: number }, b: { n: number }) => {
        a.n += b.n;
      },
    };
    const logs = randomLogs(44, 6000, randomTemplates(44, 80));
    for (let i = 0; i < 400; i++)
      logs.push(
        `worker pool-${'abcdefghij'[i % 10]}${'klmnopqrst'[(i * 7) % 10]}${i % 3 ? 'x' : 'yz'} restarted`,
      );
    for (const maxSignatures of [20_000, 60, 8]) {
      const lazy = new PatternClusterer({ maxSignatures });
      const eager = new PatternClusterer({ maxSignatures, extra: counter });
      logs.forEach((m, i) => {
        const ts = i % 5 === 0 ? Number.NaN : 1_700_000_000_000 + ((i * 7919) % 100_000);
        lazy.add(m, 0, ts);
        eager.add(m, 0, ts);
      });
      expect(lazy.level).toBe(eager.level);
      expect(lazy.signatureCount).toBe(eager.signatureCount);
      const a = lazy.clusters();
      const b = eager.clusters();
      expect(a.map((x) => [x.pattern, x.counts, x.severity, x.tokens, x.minTs, x.maxTs])).toEqual(
        b.map((x) => [x.pattern, x.counts, x.severity, x.tokens, x.minTs, x.maxTs]),
      );
      expect(b.reduce((n, x) => n + (x.extra as { n: number }).n, 0)).toBe(logs.length);
    }
  });

  it('splits keyword-like alternatives and merges variable words', () => {
    const logs: string[] = [];
    for (let i = 0; i < 30; i++) {
      logs.push(`session opened for user ${['root', 'alice', 'bob', 'carol'][i % 4]}`);
      logs.push(`VM ${['Started', 'Stopped', 'Paused'][i % 3]} (Lifecycle Event) ${i}`);
    }
    const got = cluster(logs)
      .clusters()
      .map((c) => c.pattern)
      .sort();
    expect(got).toEqual([
      'VM Paused (Lifecycle Event) <Number-1>',
      'VM Started (Lifecycle Event) <Number-1>',
      'VM Stopped (Lifecycle Event) <Number-1>',
      'session opened for user <Token-1>',
    ]);
  });

  it('gives token detail: top values with exact counts while the value table fits', () => {
    const c = cluster(['status 200', 'status 200', 'status 404', 'status 500', 'status 200']);
    const [p] = c.clusters();
    expect(p.pattern).toBe('status <Number-1>');
    expect(p.tokens[0]).toMatchObject({
      name: '<Number-1>',
      type: 'Number',
      distinct: 3,
      exact: true,
      values: [
        { value: '200', count: 3 },
        { value: '404', count: 1 },
        { value: '500', count: 1 },
      ],
    });
  });

  it('holds memory to the signature cap over 10 million events (streamed, not stored)', () => {
    // Every event is a new word sequence (worst case for a template miner): without the cap the
    // signature map would grow with the input. Words are drawn from a pool, so nothing is stored.
    const r = mulberry32(99);
    const pool = Array.from(
      { length: 4096 },
      (_, i) => `w${String.fromCharCode(97 + (i % 26))}${(i * 7919).toString(36).replace(/\d/g, 'x')}`,
    );
    const c = new PatternClusterer({ maxSignatures: 20_000 });
    const before = process.memoryUsage().heapUsed;
    let peak = 0;
    const N = 10_000_000;
    for (let i = 0; i < N; i++) {
      const a = pool[(r() * 4096) | 0];
      const b = pool[(r() * 4096) | 0];
      c.add(`${a} ${b} job ${i & 1023} done`);
      if ((i & 0xfffff) === 0) {
        peak = Math.max(peak, c.signatureCount);
        expect(c.signatureCount).toBeLessThanOrEqual(20_000);
      }
    }
    expect(c.events).toBe(N);
    expect(peak).toBeLessThanOrEqual(20_000);
    const grown = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    expect(grown).toBeLessThan(512);
    const clusters = c.clusters();
    expect(clusters.reduce((n, x) => n + x.total, 0)).toBe(N);
  }, 300_000);
});
