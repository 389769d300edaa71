/**
 * `logferry query --from s3://…` against moto's S3: an archive written by the real S3 sink, pruned
 * while listing (EKS component prefixes, Hive hours) and scanned inline and with workers, gives the
 * answers computed from the fixture.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLogferryError } from '../src/core/errors.js';
import { runQuery } from '../src/query/backends/index.js';
import { AWS_AUTH_QUERY, expectedAwsAuth, type Fixture, T0, writeS3Archives } from './query-fixtures.js';
import { motoUrl } from './infra/services.js';

const BUCKET = `lf-query-${process.pid}`;
const HOUR = 3_600_000;
let fx: Fixture;
let restore: () => void;

beforeAll(async () => {
  ({ fx, restore } = await writeS3Archives(motoUrl(), BUCKET, { flatPrefix: 'eks', hiveMaxRecords: 50 }));
});

afterAll(() => restore?.());

const summary = (rows: Record<string, unknown>[]) =>
  rows.map((r) => [r['@timestamp'], r.verb, r['user.username']]);

describe('S3 archive', () => {
  it('answers the aws-auth query, listing only the audit component prefix', async () => {
    const run = await runQuery({ query: AWS_AUTH_QUERY, from: `s3://${BUCKET}/eks`, threads: 0 });
    expect(summary(run.result.rows)).toEqual(expectedAwsAuth(fx).map((a) => [a.ts, a.verb, a.user]));
    // authenticator, kube-apiserver … prefixes are skipped while listing: their objects are never listed.
    expect(run.notes.join(' ')).toMatch(/[1-9]\d* prefix\(es\) pruned while listing/);
    expect(run.progress.objectsDone).toBeGreaterThan(0);
    expect(run.progress.recordsScanned).toBeLessThan(fx.records.length);
  });

  it('scans with workers (bytes transferred from the main thread) with the same answer', async () => {
    const run = await runQuery({
      query: AWS_AUTH_QUERY,
      from: `s3://${BUCKET}/eks/`,
      threads: 2,
      inlineMaxBytes: 0,
    });
    expect(run.progress.threads).toBe(2);
    expect(summary(run.result.rows)).toEqual(expectedAwsAuth(fx).map((a) => [a.ts, a.verb, a.user]));
  });

  it('prunes Hive hour prefixes by --start/--end', async () => {
    const startMs = T0 + HOUR;
    const endMs = T0 + 2 * HOUR;
    const all = await runQuery({ query: AWS_AUTH_QUERY, from: `s3://${BUCKET}/hive`, threads: 0 });
    const run = await runQuery({
      query: AWS_AUTH_QUERY,
      from: `s3://${BUCKET}/hive`,
      start: String(startMs),
      end: String(endMs),
      pruneSlackMs: 0,
      threads: 0,
    });
    expect(summary(run.result.rows)).toEqual(
      expectedAwsAuth(fx, { startMs, endMs }).map((a) => [a.ts, a.verb, a.user]),
    );
    expect(run.progress.objectsDone).toBeLessThan(all.progress.objectsDone);
    expect(run.notes.join(' ')).toMatch(/pruned while listing/);
  });

  it('says what to check when the bucket does not exist', async () => {
    const err = await runQuery({ query: 'limit 1', from: `s3://${BUCKET}-missing/x` }).catch((e) => e);
    expect(isLogferryError(err, 'SOURCE_FAILED')).toBe(true);
    expect(String(err.message)).toMatch(/check the bucket name/);
  });
});
