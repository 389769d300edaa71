import { describe, expect, it } from 'vitest';
import type { LiveScan } from '../query/backends/index.js';
import { compileQuery } from '../query/index.js';
import { PartialRows } from './partial.js';

function live(query: string): LiveScan {
  return {
    compiled: compileQuery(query, { now: Date.UTC(2026, 11, 5) }),
    range: {},
    source: 'local',
    progress: {
      recordsScanned: 0,
      recordsMatched: 0,
      bytesIn: 0,
      objectsDone: 0,
      objectsPruned: 0,
      objectsFailed: 0,
      failures: [],
    } as unknown as LiveScan['progress'],
    histogram: new Map([[Date.UTC(2026, 11, 5), 3]]),
  };
}

const flush = () => new Promise((r) => setTimeout(r, 10));

describe('console partial results', () => {
  it('sends the query answer over the rows found so far, throttled, and nothing after close', async () => {
    const sent: { rows: Record<string, unknown>[]; partial: boolean }[] = [];
    const p = new PartialRows((r) => sent.push(r), 0, 100);
    const l = live('fields @timestamp, n | sort n desc | limit 2');
    for (const n of [3, 9, 1]) p.onRow({ '@timestamp': 1_000 + n, n }, l);
    p.tick(1_000);
    await flush();
    expect(sent).toHaveLength(1);
    expect(sent[0].partial).toBe(true);
    expect(sent[0].rows.map((r) => r.n)).toEqual([9, 3]);

    p.onRow({ '@timestamp': 2_000, n: 50 }, l);
    p.tick(1_050); // too soon
    await flush();
    expect(sent).toHaveLength(1);
    p.tick(1_200);
    await flush();
    expect(sent[1].rows.map((r) => r.n)).toEqual([50, 9]);

    p.tick(1_400); // no new rows: nothing sent
    p.onRow({ '@timestamp': 3_000, n: 70 }, l);
    p.close();
    p.tick(2_000);
    await flush();
    expect(sent).toHaveLength(2);
  });

  it('keeps the rows it was given unchanged for the final run', async () => {
    const sent: unknown[] = [];
    const p = new PartialRows((r) => sent.push(r), 0, 0);
    const l = live('fields a | unnest a into b');
    const row = { a: [1, 2] };
    p.onRow(row, l);
    p.tick(1);
    await flush();
    expect(row).toEqual({ a: [1, 2] });
    expect(sent).toHaveLength(1);
  });

  it('sends no partial rows for aggregating queries', async () => {
    const sent: unknown[] = [];
    const p = new PartialRows((r) => sent.push(r), 0, 0);
    const l = live('stats count(*) by n');
    p.onRow({ n: 1 }, l);
    p.tick(1);
    await flush();
    expect(sent).toEqual([]);
  });
});
