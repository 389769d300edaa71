/**
 * join, appendcols and `x in (subquery)` over `--from opensearch://…` against the real OpenSearch
 * node: the same records are written by the real opensearch sink to an index and by the S3 sink's
 * file mode to a local archive, and every query gives the same answer from both (and the answer
 * derived from the records). Each subquery is its own search with its filters pushed down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Encoded } from '../src/core/sink.js';
import { runQuery } from '../src/query/backends/index.js';
import { OpenSearchSink, opensearchSinkConfig } from '../src/sinks/opensearch.js';
import { opensearchUrl } from './infra/services.js';
import { makeSubqueryFixture, writeArchive } from './query-fixtures.js';

const fx = makeSubqueryFixture();
const { T0, API, FN, api, fn } = fx;
const PREFIX = `lfsub${process.pid}`;
let base: string;
let os: string;
let dir: string;
let archive: string;

beforeAll(async () => {
  base = opensearchUrl().replace(/\/$/, '');
  os = `opensearch://${new URL(base).host}/${PREFIX}-*`;
  const sink = new OpenSearchSink(
    opensearchSinkConfig.parse({ type: 'opensearch', url: base, index: `${PREFIX}-YYYY.MM.dd` }),
    {},
  );
  const enc = fx.records.map((r) => sink.encode(r)) as Encoded<string>[];
  for (let i = 0; i < enc.length; i += 100) {
    const res = await sink.send(enc.slice(i, i + 100), { attempt: 1 });
    expect(res.problems).toEqual([]);
  }
  await sink.close?.();
  await fetch(`${base}/${PREFIX}-*/_refresh`, { method: 'POST' });
  dir = mkdtempSync(join(tmpdir(), 'lf-query-sub-os-'));
  archive = join(dir, 'archive');
  await writeArchive(archive, fx.records, { maxRecords: 10 });
}, 300_000);

afterAll(async () => {
  if (base) await fetch(`${base}/${PREFIX}-*`, { method: 'DELETE' }).catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function both(query: string, range: { start?: string; end?: string } = {}) {
  const fromOs = await runQuery({ query, from: os, ...range });
  const fromArchive = await runQuery({ query, from: archive, threads: 0, ...range });
  expect(fromOs.result.fields).toEqual(fromArchive.result.fields);
  expect(fromOs.result.rows).toEqual(fromArchive.result.rows);
  expect(fromOs.incomplete).toEqual([]);
  return fromOs;
}

describe('subqueries over OpenSearch equal the same query over a local archive', () => {
  it('join: the right side is a second search of the same index pattern', async () => {
    const run = await both(`SOURCE '${API}' | filter status >= 500
| join type=inner left=api right=fn where api.requestId = fn.requestId (SOURCE '${FN}' | filter duration > 110)
| fields api.requestId, fn.duration | sort fn.duration asc`);
    const want = api
      .filter((a) => a.status >= 500)
      .flatMap((a) =>
        fn
          .filter((f) => f.requestId === a.requestId && f.duration > 110)
          .map((f) => [a.requestId, f.duration]),
      )
      .sort((x, y) => (x[1] as number) - (y[1] as number));
    expect(want.length).toBeGreaterThan(2);
    expect(run.result.rows.map((r) => [r['api.requestId'], r['fn.duration']])).toEqual(want);
    expect(run.notes.join(' ')).toMatch(/subqueries read \d+ document\(s\)/);
    expect(run.notes.join(' ')).toMatch(/pushed down to OpenSearch/);
  });

  it('left join keeps unmatched rows', async () => {
    const run = await both(`SOURCE '${API}' | filter status >= 500
| join type=left left=api right=fn where api.requestId = fn.requestId (SOURCE '${FN}')
| stats count(*) as n, count(fn.duration) as matched`);
    const failed = api.filter((a) => a.status >= 500);
    const ids = new Set(fn.map((f) => f.requestId));
    expect(run.result.rows).toEqual([
      { n: failed.length, matched: failed.filter((a) => ids.has(a.requestId)).length },
    ]);
  });

  it('filter … in (subquery) sees the same --start/--end, and stats then runs locally', async () => {
    const start = new Date(T0 + 30 * 60_000).toISOString();
    const end = new Date(T0 + 90 * 60_000).toISOString();
    const run = await both(
      `SOURCE '${API}' | filter requestId in (SOURCE '${FN}' | filter duration > 150 | fields requestId) | stats count(*) as n`,
      { start, end },
    );
    const inRange = (ts: number) => ts >= T0 + 30 * 60_000 && ts < T0 + 90 * 60_000;
    const ids = new Set(fn.filter((f) => f.duration > 150 && inRange(f.ts)).map((f) => f.requestId));
    const want = api.filter((a) => inRange(a.ts) && ids.has(a.requestId)).length;
    expect(want).toBeGreaterThan(0);
    expect(run.result.rows).toEqual([{ n: want }]);
  });

  it('appendcols appends a second aggregation by position; a subquery limit bounds its rows', async () => {
    const run = await both(`SOURCE '${API}' | stats count(*) as requests by userId | sort userId
| appendcols (SOURCE '${FN}' | stats count(*) as invocations)`);
    expect(run.result.rows).toEqual([
      { userId: 'u0', requests: 40, invocations: fn.length },
      { userId: 'u1', requests: 40, invocations: null },
      { userId: 'u2', requests: 40, invocations: null },
    ]);
    const limited = await both(
      `SOURCE '${API}' | filter requestId in (SOURCE '${FN}' | sort duration asc | limit 3 | fields requestId) | fields requestId | sort requestId`,
    );
    expect(limited.result.rows.map((r) => r.requestId)).toEqual(['req-0', 'req-2', 'req-4']);
  });
});
