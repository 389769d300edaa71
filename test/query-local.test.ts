/**
 * `logferry query` over a local archive written by the real S3 sink (ndjson, raw, Hive layout):
 * results equal answers computed from the fixture itself, inline and with scan workers, with time
 * pruning and with the line pre-check facing JSON escapes.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLogferryError } from '../src/core/errors.js';
import { expandRecipe, findRecipe } from '../src/query/recipes/index.js';
import { runQuery } from '../src/query/backends/index.js';
import {
  AUDIT_STREAM,
  AWS_AUTH_FIELDS,
  AWS_AUTH_QUERY,
  expectedAwsAuth,
  type Fixture,
  makeFixture,
  T0,
  TASK_ID,
  writeArchive,
  HIVE,
} from './query-fixtures.js';

const HOUR = 3_600_000;
let dir: string;
let fx: Fixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lf-query-local-'));
  fx = makeFixture();
  await writeArchive(join(dir, 'ndjson'), fx.records);
  await writeArchive(join(dir, 'raw'), fx.records, { format: 'raw' });
  await writeArchive(join(dir, 'hive'), fx.records, { keyTemplate: HIVE, maxRecords: 40 });
  await writeArchive(join(dir, 'hive-raw'), fx.records, { keyTemplate: HIVE, maxRecords: 40, format: 'raw' });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function summary(rows: Record<string, unknown>[]) {
  return rows.map((r) => [r['@timestamp'], r.verb, r['user.username']]);
}

describe('local archive', () => {
  it('answers the seed aws-auth query from an ndjson archive (fields parsed on read when absent)', async () => {
    const run = await runQuery({ query: AWS_AUTH_QUERY, from: join(dir, 'ndjson'), threads: 0 });
    const want = expectedAwsAuth(fx);
    expect(want.length).toBeGreaterThan(5);
    expect(summary(run.result.rows)).toEqual(want.map((a) => [a.ts, a.verb, a.user]));
    expect(run.result.fields).toEqual(AWS_AUTH_FIELDS);
    // The escaped event (aws\u002dauth) is found although its line lacks the literal.
    expect(run.result.rows.some((r) => r['@timestamp'] === fx.escapedTs)).toBe(true);
    expect(run.result.stats.recordsMatched).toBe(want.length);
    // Key pruning: only the audit stream's objects and `default/` are read.
    expect(run.progress.objectsPruned).toBeGreaterThan(0);
    expect(run.progress.recordsScanned).toBeLessThan(fx.records.length);
  });

  it('gives the same answer from a raw archive (stream from the path, time from the audit event)', async () => {
    const run = await runQuery({ query: AWS_AUTH_QUERY, from: join(dir, 'raw'), threads: 0 });
    expect(summary(run.result.rows)).toEqual(expectedAwsAuth(fx).map((a) => [a.ts, a.verb, a.user]));
    expect(run.result.rows.every((r) => typeof r['@message'] === 'string')).toBe(true);
  });

  it('gives the same answer with scan workers as inline', async () => {
    const q =
      'filter @logStream like /^kube-apiserver-audit/ | stats count(*) as n by verb, objectRef.resource | sort n desc, verb asc, objectRef.resource asc';
    const inline = await runQuery({ query: q, from: join(dir, 'hive'), threads: 0 });
    const workers = await runQuery({ query: q, from: join(dir, 'hive'), threads: 2, inlineMaxBytes: 0 });
    expect(inline.progress.threads).toBe(0);
    expect(workers.progress.threads).toBe(2);
    expect(workers.result.rows).toEqual(inline.result.rows);
    expect(workers.progress.recordsScanned).toBe(inline.progress.recordsScanned);
    const total = inline.result.rows.reduce((n, r) => n + Number(r.n), 0);
    expect(total).toBe(fx.audit.length);
    const plain = await runQuery({
      query: AWS_AUTH_QUERY,
      from: join(dir, 'ndjson'),
      threads: 2,
      inlineMaxBytes: 0,
    });
    expect(summary(plain.result.rows)).toEqual(expectedAwsAuth(fx).map((a) => [a.ts, a.verb, a.user]));
    expect([...plain.histogram.values()].reduce((a, b) => a + b, 0)).toBe(expectedAwsAuth(fx).length);
  });

  it('prunes Hive partitions by --start/--end and still answers exactly', async () => {
    const startMs = T0 + HOUR + 15 * 60_000;
    const endMs = T0 + 2 * HOUR;
    const run = await runQuery({
      query: AWS_AUTH_QUERY,
      from: join(dir, 'hive'),
      start: new Date(startMs).toISOString(),
      end: new Date(endMs).toISOString(),
      pruneSlackMs: 0,
      threads: 0,
    });
    expect(summary(run.result.rows)).toEqual(
      expectedAwsAuth(fx, { startMs, endMs }).map((a) => [a.ts, a.verb, a.user]),
    );
    expect(run.progress.objectsPruned).toBeGreaterThan(run.progress.objectsDone);
  });

  it('counts access denied per hour for the bar chart (stats … by bin)', async () => {
    const run = await runQuery({
      query:
        'filter @logStream like /^authenticator/ | filter @message like "access denied" | stats count(*) as denied by bin(1h)',
      from: join(dir, 'ndjson'),
      threads: 0,
    });
    expect(run.compiled.binMs).toBe(HOUR);
    const want = new Map<number, number>();
    for (const t of fx.denied) want.set(t - (t % HOUR), (want.get(t - (t % HOUR)) ?? 0) + 1);
    const got = new Map(run.result.rows.map((r) => [Number(r['bin(1h)']), Number(r.denied)]));
    expect(got).toEqual(want);
  });

  it('reads ECS task and Lambda lines with their group and stream, from raw objects too', async () => {
    for (const from of ['raw', 'ndjson']) {
      const run = await runQuery({
        query: `fields @timestamp, @message, @log, @logStream | filter @logStream like "${TASK_ID}" | filter @message like "ERROR"`,
        from: join(dir, from),
        threads: 0,
      });
      // raw objects carry no provenance in their lines: the key (<group>/ecs/<stream>) gives it back.
      expect(run.result.rows.length, from).toBe(6);
      const lambda = await runQuery({
        query: 'filter @log like "/aws/lambda/" | stats count(*) as n by @log',
        from: join(dir, from),
        threads: 0,
      });
      expect(lambda.result.rows.length, from).toBe(1);
    }
  });

  it('reads Hive partition keys as fields and prunes on them (filter component = "lambda")', async () => {
    const all = await runQuery({
      query: 'filter @log like "/aws/lambda/" | stats count(*) as n',
      from: join(dir, 'ndjson'),
      threads: 0,
    });
    const want = Number(all.result.rows[0]?.n);
    expect(want).toBeGreaterThan(0);
    for (const from of ['hive', 'hive-raw']) {
      const run = await runQuery({
        query: 'filter component = "lambda" | stats count(*) as n by component',
        from: join(dir, from),
        threads: 0,
      });
      expect(run.result.rows, from).toEqual([{ component: 'lambda', n: want }]);
      // Only the lambda partition was read.
      expect(run.progress.objectsPruned, from).toBeGreaterThan(0);
      expect(run.progress.objectsListed - run.progress.objectsPruned, from).toBe(
        (
          await runQuery({
            query: 'limit 1',
            from: join(dir, from, 'cluster=none', 'component=lambda'),
            threads: 0,
          })
        ).progress.objectsListed,
      );
    }
  });

  it('reads one file directly, and says what to do when --from does not exist', async () => {
    const run = await runQuery({
      query: `filter @logStream = "${AUDIT_STREAM}" | stats count(*) as n`,
      from: join(dir, 'ndjson'),
      threads: 0,
    });
    expect(Number(run.result.rows[0]?.n)).toBe(fx.audit.length);
    const err = await runQuery({ query: 'limit 1', from: join(dir, 'nope') }).catch((e) => e);
    expect(isLogferryError(err, 'CONFIG_INVALID')).toBe(true);
    expect(String(err.message)).toMatch(/logferry run/);
  });

  it('recipes answer over the archive as computed from the fixture', async () => {
    const run = (name: string, params: Record<string, string> = {}) =>
      runQuery({ query: expandRecipe(findRecipe(name), params), from: join(dir, 'ndjson'), threads: 0 }).then(
        (r) => r.result.rows,
      );
    expect((await run('eks/access-denied', { cluster: 'prod' })).map((r) => r['@timestamp'])).toEqual(
      [...fx.denied].reverse(),
    );
    expect(await run('eks/access-denied', { cluster: 'staging' })).toEqual([]);
    expect((await run('eks/aws-auth-changes')).map((r) => r['@timestamp'])).toEqual(
      expectedAwsAuth(fx).map((a) => a.ts),
    );
    const podDeletes = fx.audit
      .filter((a) => a.verb === 'delete' && a.resource === 'pods')
      .map((a) => a.ts)
      .sort((a, b) => b - a);
    expect((await run('eks/pod-deletes')).map((r) => r['@timestamp'])).toEqual(podDeletes);
    const nodeDeletes = fx.audit.filter((a) => a.verb === 'delete' && a.resource === 'nodes').length;
    expect(await run('eks/node-deletes')).toHaveLength(nodeDeletes);
    expect(await run('eks/errors-by-component')).toEqual([{ component: 'kube-apiserver', errors: 5 }]);
    expect((await run('lambda/cold-starts')).map((r) => r.coldStarts)).toEqual([1]);
    expect(await run('ecs/task-logs', { task: TASK_ID })).toHaveLength(30);
    const byResource = await run('eks/non-read-by-resource');
    const want = fx.audit.filter((a) => !['get', 'list', 'watch'].includes(a.verb)).length;
    expect(byResource.reduce((n, r) => n + Number(r.events), 0)).toBe(want);
  });

  it('reports an object that cannot be decompressed and goes on, inline and with workers', async () => {
    const copy = join(dir, 'corrupt');
    cpSync(join(dir, 'ndjson'), copy, { recursive: true });
    writeFileSync(
      join(copy, 'broken-2026-11-20-10-00-00-ffff.gz'),
      Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]),
    );
    for (const threads of [0, 2]) {
      const run = await runQuery({ query: AWS_AUTH_QUERY, from: copy, threads, inlineMaxBytes: 0 });
      // A gzip header and then nothing usable: a damaged object (nothing before the damage), reported.
      expect(run.progress.objectsDamaged).toBe(1);
      expect(run.progress.damaged[0]).toMatch(/^broken-2026-11-20-10-00-00-ffff\.gz: gzip data/);
      expect(run.incomplete).toHaveLength(1);
      expect(summary(run.result.rows)).toEqual(expectedAwsAuth(fx).map((a) => [a.ts, a.verb, a.user]));
    }
  });

  it('@ptr points at one line that filter @ptr = … resolves back, reading only its object', async () => {
    for (const from of ['ndjson', 'raw']) {
      for (const threads of [0, 2]) {
        const first = await runQuery({
          query: `fields @ptr, @message | filter @logStream = "${AUDIT_STREAM}" | sort @timestamp asc | limit 3`,
          from: join(dir, from),
          threads,
          inlineMaxBytes: 0,
        });
        expect(first.result.rows).toHaveLength(3);
        for (const row of first.result.rows) {
          const ptr = String(row['@ptr']);
          expect(ptr, from).toMatch(/^_aws_eks_prod_cluster\/kube-apiserver-audit\/.+\.gz:\d+$/);
          const back = await runQuery({
            query: `fields @ptr, @message | filter @ptr = "${ptr}"`,
            from: join(dir, from),
            threads,
            inlineMaxBytes: 0,
          });
          expect(back.result.rows, from).toEqual([{ '@ptr': ptr, '@message': row['@message'] }]);
          expect(back.progress.objectsListed - back.progress.objectsPruned).toBe(1);
        }
      }
    }
  });
});
