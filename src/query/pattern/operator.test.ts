import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLogferryError } from '../../core/errors.js';
import { mulberry32 } from '../../core/prng.js';
import { runQuery } from '../backends/index.js';
import { compileQuery } from '../index.js';
import type { Row } from '../types.js';
import { PATTERN_COLUMNS, WINDOW_FIELD } from './operator.js';
import { patternMatcher, randomLogs, randomTemplates, shuffled } from './testing.js';

const T0 = Date.UTC(2026, 11, 1, 0, 0, 0);
const HOUR = 3_600_000;

function rowsOf(messages: string[], start = T0, step = 1000): Row[] {
  return messages.map((m, i) => ({ '@timestamp': start + i * step, '@message': m, '@logStream': 's' }));
}

async function run(q: string, rows: Row[]) {
  return compileQuery(q, { now: T0 + 100 * HOUR }).execute(rows);
}

describe('pattern command', () => {
  const logs = randomLogs(5, 3000, randomTemplates(6, 30));

  it('returns AWS columns, counts that sum to the input, ratios and per-token detail', async () => {
    const res = await run('pattern @message', rowsOf(logs));
    expect(res.fields).toEqual(PATTERN_COLUMNS);
    const total = res.rows.reduce((n, r) => n + (r['@sampleCount'] as number), 0);
    expect(total).toBe(logs.length);
    const ratio = res.rows.reduce((n, r) => n + (r['@ratio'] as number), 0);
    expect(ratio).toBeCloseTo(1, 3);
    // Most frequent first.
    const counts = res.rows.map((r) => r['@sampleCount'] as number);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    const withTokens = res.rows.find((r) => (r['@tokens'] as unknown[]).length > 0);
    expect(withTokens?.['@tokens']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          dynamicTokenPosition: 1,
          isDynamic: true,
          tokenString: expect.any(String),
        }),
      ]),
    );
    for (const r of res.rows) {
      const re = patternMatcher(r['@pattern'] as string);
      expect(logs.some((m) => re.test(m))).toBe(true);
    }
  });

  it('combines with filter, parse, sort, limit and stats', async () => {
    const msgs = [
      ...Array.from({ length: 30 }, (_, i) => `ERROR db timeout after ${i}ms user=u${i % 3}`),
      ...Array.from({ length: 50 }, (_, i) => `INFO request ok in ${i}ms user=u${i % 5}`),
      ...Array.from({ length: 5 }, (_, i) => `WARN cache miss key=k${i}`),
    ];
    const rows = rowsOf(msgs);
    const errs = await run('filter @message like /ERROR/ | pattern @message', rows);
    expect(errs.rows.map((r) => [r['@pattern'], r['@sampleCount'], r['@severityLabel']])).toEqual([
      ['ERROR db timeout after <Number-1> user=<Token-2>', 30, 'ERROR'],
    ]);
    const parsed = await run('parse @message "user=*" as user | pattern user', rows);
    expect(parsed.rows.map((r) => r['@pattern'])).toEqual(['<Token-1>']);
    const least = await run('pattern @message | sort @sampleCount asc | limit 1', rows);
    expect(least.rows.map((r) => r['@sampleCount'])).toEqual([5]);
    const bySev = await run(
      'pattern @message | stats sum(@sampleCount) as n by @severityLabel | sort n desc',
      rows,
    );
    expect(bySev.rows).toEqual([
      { '@severityLabel': 'INFO', n: 50 },
      { '@severityLabel': 'ERROR', n: 30 },
      { '@severityLabel': 'WARN', n: 5 },
    ]);
    const str = await run('pattern concat(@logStream, " ", @message) | limit 1', rows);
    expect(str.rows[0]['@pattern']).toMatch(/^s /);
  });

  it('refuses anomaly without pattern, and a pattern without an argument, with line and column', async () => {
    for (const [q, msg] of [
      ['fields @message | anomaly', 'anomaly works on the patterns'],
      ['pattern', 'pattern expects a field'],
      ['diff lastYear', 'diff takes previousPeriod'],
      ['logcompare timeshift x', 'logcompare timeshift expects'],
    ] as const) {
      try {
        compileQuery(q);
        expect.unreachable(q);
      } catch (e) {
        expect(isLogferryError(e) && e.code).toBe('QUERY_SYNTAX');
        expect((e as Error).message).toContain(msg);
        expect((e as Error).message).toMatch(/line 1/i);
      }
    }
  });

  it('diff compares the current window with baseline rows', async () => {
    const cur = rowsOf(['a x 1', 'a x 2', 'b y 1', 'new thing 7']);
    const base = rowsOf(['a x 3', 'b y 2', 'b y 3', 'old thing 9']).map((r) => ({
      ...r,
      [WINDOW_FIELD]: 'baseline',
    }));
    const res = await run('diff', [...cur, ...base]);
    const by = Object.fromEntries(res.rows.map((r) => [r['@pattern'], r]));
    expect(by['a x <Number-1>']).toMatchObject({
      '@currentCount': 2,
      '@previousCount': 1,
      '@change': 1,
      '@status': 'increased',
    });
    expect(by['b y <Number-1>']).toMatchObject({
      '@currentCount': 1,
      '@previousCount': 2,
      '@changePercent': -50,
    });
    expect(by['new thing <Number-1>']).toMatchObject({ '@status': 'new', '@previousCount': 0 });
    expect(by['old thing <Number-1>']).toMatchObject({ '@status': 'gone', '@currentCount': 0 });
  });
});

describe('pattern/diff over an archive', () => {
  let dir: string;
  const logs = randomLogs(7, 4000, randomTemplates(8, 40));
  const r = mulberry32(3);
  const times = logs.map(() => T0 + Math.floor(r() * 48 * HOUR));

  const write = (sub: string, parts: number, order: number[]) => {
    const root = join(dir, sub);
    mkdirSync(root, { recursive: true });
    const per = Math.ceil(order.length / parts);
    for (let p = 0; p < parts; p++) {
      const lines = order
        .slice(p * per, (p + 1) * per)
        .map((i) => JSON.stringify({ '@timestamp': times[i], '@message': logs[i], '@logStream': 'app' }));
      writeFileSync(join(root, `part-${p}.json`), `${lines.join('\n')}\n`);
    }
    return root;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-pattern-'));
    const idx = logs.map((_, i) => i);
    write('one', 1, idx);
    write('many', 7, shuffled(idx, 9));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same patterns whatever the file split and thread count', async () => {
    const q = 'pattern @message';
    const a = await runQuery({ query: q, from: join(dir, 'one'), threads: 0 });
    const b = await runQuery({ query: q, from: join(dir, 'many'), threads: 0 });
    const c = await runQuery({ query: q, from: join(dir, 'many'), threads: 2, inlineMaxBytes: 0 });
    expect(c.progress.threads).toBe(2);
    expect(a.result.rows.reduce((n, x) => n + (x['@sampleCount'] as number), 0)).toBe(logs.length);
    expect(b.result.rows).toEqual(a.result.rows);
    expect(c.result.rows).toEqual(a.result.rows);
  });

  it('diff previousDay and logcompare timeshift read the baseline window from the same archive', async () => {
    const start = new Date(T0 + 24 * HOUR).toISOString();
    const end = new Date(T0 + 48 * HOUR).toISOString();
    const d = await runQuery({ query: 'diff previousDay', from: join(dir, 'many'), start, end, threads: 0 });
    const cur = times.filter((t) => t >= T0 + 24 * HOUR && t < T0 + 48 * HOUR).length;
    const prev = times.filter((t) => t >= T0 && t < T0 + 24 * HOUR).length;
    const sum = (k: string) => d.result.rows.reduce((n, x) => n + (x[k] as number), 0);
    expect(sum('@currentCount')).toBe(cur);
    expect(sum('@previousCount')).toBe(prev);
    const l = await runQuery({
      query: 'logcompare timeshift 1d',
      from: join(dir, 'many'),
      start,
      end,
      threads: 2,
      inlineMaxBytes: 0,
    });
    expect(l.result.rows).toEqual(d.result.rows);
    const p = await runQuery({ query: 'diff', from: join(dir, 'one'), start, end, threads: 0 });
    expect(p.result.rows).toEqual(d.result.rows);
  });

  it('diff without --start is refused with a sentence', async () => {
    await expect(runQuery({ query: 'diff', from: join(dir, 'one') })).rejects.toThrow(/--start/);
  });
});
