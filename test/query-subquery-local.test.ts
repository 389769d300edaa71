/**
 * join, subqueries, appendcols and lookup tables through `runQuery` over a local archive written by
 * the real S3 sink: the subqueries read the same archive and time range (their SOURCE prunes by the
 * key's log group), `--lookup` tables load from files, `queryStartTime()`/`queryEndTime()` see the
 * real range, and `limit any n` stops the scan early. Answers are derived from the records directly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLogferryError, type LogferryError } from '../src/core/errors.js';
import { runQuery } from '../src/query/backends/index.js';
import { makeSubqueryFixture, writeArchive } from './query-fixtures.js';

const fx = makeSubqueryFixture();
const { T0, API, FN, api, fn } = fx;
let dir: string;
let from: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lf-query-sub-'));
  from = join(dir, 'archive');
  const records = fx.records;
  await writeArchive(from, records, { maxRecords: 10 });
  writeFileSync(join(dir, 'users.csv'), 'id,name\nu0,Ana\nu1,Bo\n');
  writeFileSync(join(dir, 'nets.csv'), 'cidr,zone\n10.0.0.0/8,vpc\n10.1.0.0/16,app-subnet\n');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('subqueries over an archive', () => {
  it('join reads the right side from the same archive and range', async () => {
    const run = await runQuery({
      query: `SOURCE '${API}' | filter status >= 500
| join type=inner left=api right=fn where api.requestId = fn.requestId (SOURCE '${FN}')
| fields api.requestId, fn.duration | sort fn.duration asc`,
      from,
      threads: 0,
    });
    const want = api
      .filter((a) => a.status >= 500)
      .flatMap((a) => fn.filter((f) => f.requestId === a.requestId).map((f) => [a.requestId, f.duration]))
      .sort((x, y) => (x[1] as number) - (y[1] as number));
    expect(want.length).toBeGreaterThan(3);
    expect(run.result.rows.map((r) => [r['api.requestId'], r['fn.duration']])).toEqual(want);
    expect(run.notes.some((n) => n.startsWith('subqueries read'))).toBe(true);
    // SOURCE prunes the other group's objects by key.
    expect(run.progress.objectsPruned).toBeGreaterThan(0);
  });

  it('filter … in (subquery) with workers gives the inline answer; the subquery sees the same --start/--end', async () => {
    const start = new Date(T0 + 30 * 60_000).toISOString();
    const end = new Date(T0 + 90 * 60_000).toISOString();
    const q = `SOURCE '${API}' | filter requestId in (SOURCE '${FN}' | filter duration > 150 | fields requestId) | stats count(*) as n`;
    const inline = await runQuery({ query: q, from, threads: 0, start, end });
    const workers = await runQuery({ query: q, from, threads: 2, inlineMaxBytes: 0, start, end });
    const inRange = (ts: number) => ts >= T0 + 30 * 60_000 && ts < T0 + 90 * 60_000;
    const ids = new Set(fn.filter((f) => f.duration > 150 && inRange(f.ts)).map((f) => f.requestId));
    const want = api.filter((a) => inRange(a.ts) && ids.has(a.requestId)).length;
    expect(want).toBeGreaterThan(0);
    expect(inline.result.rows).toEqual([{ n: want }]);
    expect(workers.result.rows).toEqual([{ n: want }]);
  });

  it('appendcols appends a second aggregation by position', async () => {
    const run = await runQuery({
      query: `SOURCE '${API}' | stats count(*) as requests by userId | sort userId
| appendcols (SOURCE '${FN}' | stats count(*) as invocations)`,
      from,
      threads: 0,
    });
    expect(run.result.rows).toEqual([
      { userId: 'u0', requests: 40, invocations: fn.length },
      { userId: 'u1', requests: 40, invocations: null },
      { userId: 'u2', requests: 40, invocations: null },
    ]);
  });
});

describe('lookup tables from --lookup', () => {
  it('lookup and cidrlookup enrich rows from CSV files', async () => {
    const run = await runQuery({
      query: `SOURCE '${API}' | lookup users id as userId OUTPUT name
| cidrlookup nets ip OUTPUT zone
| stats count(*) as n by name, zone | sort name, zone`,
      from,
      threads: 0,
      lookups: [`users=${join(dir, 'users.csv')}`, `nets=${join(dir, 'nets.csv')}`],
    });
    const name = (u: string) => ({ u0: 'Ana', u1: 'Bo' })[u] ?? null;
    const zone = (ip: string) =>
      ip.startsWith('10.1.') ? 'app-subnet' : ip.startsWith('10.') ? 'vpc' : null;
    const counts = new Map<string, number>();
    for (const a of api) {
      const k = JSON.stringify([name(a.userId), zone(a.ip)]);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const got = run.result.rows.map((r) => [JSON.stringify([r.name, r.zone]), r.n]);
    expect(new Map(got as [string, number][])).toEqual(counts);
  });

  it('a table the query names but --lookup does not give is refused with line and column', async () => {
    const err = await runQuery({ query: 'fields a\n| lookup missing a', from, threads: 0 }).catch((e) => e);
    expect(isLogferryError(err, 'QUERY_SYNTAX')).toBe(true);
    expect((err as LogferryError).details?.problems).toEqual([
      {
        line: 2,
        column: 10,
        message:
          "lookup table 'missing' is not loaded; name it with --lookup missing=file.csv (or s3://bucket/key.csv)",
      },
    ]);
  });
});

describe('query window and limit any', () => {
  it('queryStartTime()/queryEndTime() are the --start/--end the query reads', async () => {
    const start = T0 + 10 * 60_000;
    const end = T0 + 20 * 60_000;
    const run = await runQuery({
      query: 'fields queryStartTime() as s, queryEndTime() as e | limit 1',
      from,
      threads: 0,
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
    });
    expect(run.result.rows).toEqual([{ s: start, e: end }]);
  });

  it('limit any n stops the scan once n rows are found', async () => {
    const all = await runQuery({ query: 'stats count(*) as n', from, threads: 0 });
    const run = await runQuery({ query: 'limit any 5', from, threads: 0 });
    expect(run.result.rows).toHaveLength(5);
    expect(run.progress.objectsListed).toBeGreaterThan(10);
    expect(run.progress.objectsDone).toBeLessThan(run.progress.objectsListed - run.progress.objectsPruned);
    expect(run.progress.recordsScanned).toBeLessThan(all.result.rows[0].n as number);
  });
});
