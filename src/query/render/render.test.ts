import { describe, expect, it } from 'vitest';
import { compileQuery } from '../index.js';
import type { QueryRun } from '../backends/index.js';
import { newProgress } from '../backends/scan.js';
import { renderBarChart, renderHistogram } from './chart.js';
import { formatTimestamp, timeColumns } from './format.js';
import { renderCsv, renderJson, renderTableView } from './index.js';
import { displayWidth, renderTable } from './table.js';

const T = Date.UTC(2026, 10, 22, 9, 5, 7, 89);

function run(
  query: string,
  fields: string[],
  rows: Record<string, unknown>[],
  histogram = new Map<number, number>(),
): QueryRun {
  const compiled = compileQuery(query);
  return {
    result: { fields, rows, stats: { recordsScanned: 100, recordsMatched: rows.length } },
    compiled,
    source: 'local',
    range: {},
    progress: {
      ...newProgress(),
      objectsDone: 2,
      bytesIn: 2048,
      bytesText: 9000,
      recordsScanned: 100,
      recordsMatched: rows.length,
    },
    histogram,
    notes: [],
    incomplete: [],
  };
}

describe('format', () => {
  it('renders times like the console, in UTC', () => {
    expect(formatTimestamp(T)).toBe('2026-11-22 09:05:07.089');
  });
  it('knows which columns are times from the query', () => {
    const c = compileQuery('stats count(*) as n, latest(@timestamp) as last by bin(5m)');
    expect([...timeColumns(c.ast)]).toEqual(expect.arrayContaining(['@timestamp', 'bin(5m)', 'last']));
    expect(timeColumns(c.ast).has('n')).toBe(false);
  });
});

describe('json and csv', () => {
  it('formats as times the columns the engine says hold times (sortsLast, pct, a second stats)', async () => {
    // Regression: the renderer guessed time columns from the query text and printed
    // sortsLast(@timestamp) or max() of a binned time as raw epoch milliseconds.
    const q =
      'stats sortsLast(@timestamp) as sl, pct(@timestamp, 50) as p, count(*) as n by bin(1h) as h | stats max(h) as lastBin, sum(n) as total, max(sl) as newest';
    const compiled = compileQuery(q);
    const result = await compiled.execute([
      { '@timestamp': T, '@message': 'a' },
      { '@timestamp': T + 3_600_000, '@message': 'b' },
    ]);
    const r: QueryRun = { ...run(q, result.fields, result.rows), result };
    expect(JSON.parse(renderJson(r))).toEqual([
      { lastBin: '2026-11-22 10:00:00.000', total: 2, newest: '2026-11-22 10:05:07.089' },
    ]);
    expect(renderCsv(r)).toBe(
      'lastBin,total,newest\r\n2026-11-22 10:00:00.000,2,2026-11-22 10:05:07.089\r\n',
    );
    const one = 'stats sortsFirst(@timestamp) as sf, pct(@timestamp, 100) as p';
    const res1 = await compileQuery(one).execute([{ '@timestamp': T, '@message': 'a' }]);
    const r1: QueryRun = { ...run(one, res1.fields, res1.rows), result: res1 };
    expect(JSON.parse(renderJson(r1))).toEqual([
      { sf: '2026-11-22 09:05:07.089', p: '2026-11-22 09:05:07.089' },
    ]);
    expect(renderTableView(r1, { output: 'table', width: 100, color: false, elapsedMs: 5 })).toContain(
      '2026-11-22 09:05:07.089',
    );
  });

  it('json has exactly the displayed fields, times formatted, nested values kept', () => {
    const r = run(
      'fields @timestamp, verb, objectRef',
      ['@timestamp', 'verb', 'objectRef'],
      [
        { '@timestamp': T, verb: 'patch', objectRef: { name: 'aws-auth' }, hidden: 1 },
        { '@timestamp': T, objectRef: null },
      ],
    );
    expect(JSON.parse(renderJson(r))).toEqual([
      { '@timestamp': '2026-11-22 09:05:07.089', verb: 'patch', objectRef: { name: 'aws-auth' } },
      { '@timestamp': '2026-11-22 09:05:07.089', verb: null, objectRef: null },
    ]);
  });
  it('csv quotes what needs quoting', () => {
    const r = run(
      'fields @timestamp, @message',
      ['@timestamp', '@message'],
      [{ '@timestamp': T, '@message': 'say "hi", then\nleave' }],
    );
    expect(renderCsv(r)).toBe('@timestamp,@message\r\n2026-11-22 09:05:07.089,"say ""hi"", then\nleave"\r\n');
  });
});

describe('table', () => {
  it('fits the width: cuts cells with …, wraps @message, never prints control characters', () => {
    const rows = [
      {
        '@timestamp': T,
        user: 'system:serviceaccount:kube-system:replicaset-controller',
        '@message': `${'word '.repeat(60)}\u001b[31mred`,
      },
    ];
    const out = renderTable(['@timestamp', 'user', '@message'], rows, {
      width: 80,
      times: new Set(['@timestamp']),
    });
    const lines = out.trimEnd().split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(out).toContain('2026-11-22 09:05:07.089');
    expect(out).toContain('…');
    expect(out).not.toContain('\u001b');
    expect(lines.length).toBe(2 + 3); // header, rule, 3 wrapped message lines
  });

  it('measures Korean, other wide characters and emoji as two columns (aligned, within the width)', () => {
    // Regression: widths were string lengths, so Hangul cells overflowed the line and pushed
    // the following columns out of alignment.
    expect(displayWidth('접근 거부')).toBe(9);
    expect(displayWidth('🚀a')).toBe(3);
    expect(displayWidth('e\u0301')).toBe(1);
    const rows = [
      {
        '@timestamp': T,
        kind: '한국어',
        '@message': `접근 거부 access denied ${'사용자 확인 필요 '.repeat(12)}`,
      },
      { '@timestamp': T, kind: 'ascii', '@message': 'plain' },
    ];
    const out = renderTable(['@timestamp', 'kind', '@message'], rows, {
      width: 60,
      times: new Set(['@timestamp']),
    });
    const lines = out.trimEnd().split('\n');
    for (const l of lines) expect(displayWidth(l), l).toBeLessThanOrEqual(60);
    // The message column starts at the same terminal column on every line.
    const start = displayWidth(lines[0].slice(0, lines[0].indexOf('@message')));
    const first = lines.find((l) => l.includes('접근'))!;
    expect(displayWidth(first.slice(0, first.indexOf('접근')))).toBe(start);
    const plain = lines.find((l) => l.endsWith('plain'))!;
    expect(displayWidth(plain.slice(0, plain.indexOf('plain')))).toBe(start);
    expect(lines.length).toBe(2 + 3 + 1);
    expect(out).toContain('…');
  });
});

describe('charts', () => {
  it('draws a histogram over the range with totals', () => {
    const h = new Map<number, number>([
      [Date.UTC(2026, 10, 22, 9, 0), 10],
      [Date.UTC(2026, 10, 22, 9, 30), 5],
    ]);
    const out = renderHistogram(h, { width: 80 });
    expect(out).toMatch(/1m bins · peak 10 · 15 total/);
    expect(out).toContain('█');
    expect(out).toContain('2026-11-22 09:00');
    expect(renderHistogram(new Map(), { width: 80 })).toBe('');
  });
  it('draws one bar per bin, longest for the largest value', () => {
    const rows = [
      { 'bin(1h)': Date.UTC(2026, 10, 22, 10), n: 5 },
      { 'bin(1h)': Date.UTC(2026, 10, 22, 9), n: 10 },
    ];
    const out = renderBarChart(['bin(1h)', 'n'], rows, 'bin(1h)', { width: 60 }).trimEnd().split('\n');
    expect(out[0]).toBe('n by bin(1h)');
    expect(out[1]).toMatch(/^2026-11-22 09:00:00 10 █+$/);
    expect(out[2]).toMatch(/^2026-11-22 10:00:00 {2}5 █+[▏▎▍▌▋▊▉]?$/);
    expect(out[1].length).toBeGreaterThan(out[2].length);
  });
  it('the table view shows a histogram for plain queries and a footer', () => {
    const r = run(
      'fields @timestamp, @message',
      ['@timestamp', '@message'],
      [{ '@timestamp': T, '@message': 'hi' }],
      new Map([[T - (T % 60000), 1]]),
    );
    const out = renderTableView(r, { output: 'table', width: 100, color: false, elapsedMs: 1500 });
    expect(out).toMatch(/matching events over time/);
    expect(out).toMatch(
      /1 row · 1 of 100 records matched · 2\.0 KB \(8\.8 KB uncompressed\) in 2 objects · 1\.50 s/,
    );
    const empty = run('fields @message', ['@message'], []);
    expect(renderTableView(empty, { output: 'table', width: 100, color: false, elapsedMs: 1 })).toMatch(
      /No matching records/,
    );
  });
});
