/**
 * `pattern` and `diff` over an S3 archive in moto: diff reads its baseline window from the same
 * bucket (listing pruned by the baseline's own range), and the answer is the same whatever the
 * archive layout and the thread count; counts equal the fixture's events per window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuery } from '../src/query/backends/index.js';
import { motoUrl } from './infra/services.js';
import { type Fixture, T0, writeS3Archives } from './query-fixtures.js';

const BUCKET = `lf-pattern-${process.pid}`;
const MIN = 60_000;
let fx: Fixture;
let restore: () => void;

beforeAll(async () => {
  ({ fx, restore } = await writeS3Archives(motoUrl(), BUCKET, { flatPrefix: 'flat', hiveMaxRecords: 30 }));
});

afterAll(() => restore?.());

describe('pattern analysis over S3', () => {
  it('pattern gives the same rows for both layouts, inline and with workers', async () => {
    const a = await runQuery({ query: 'pattern @message', from: `s3://${BUCKET}/flat`, threads: 0 });
    const b = await runQuery({
      query: 'pattern @message',
      from: `s3://${BUCKET}/hive`,
      threads: 2,
      inlineMaxBytes: 0,
    });
    expect(a.result.rows.reduce((n, r) => n + (r['@sampleCount'] as number), 0)).toBe(fx.records.length);
    expect(b.result.rows).toEqual(a.result.rows);
  });

  it('diff compares the window with the period before it, read from the same bucket', async () => {
    const start = T0 + 90 * MIN;
    const end = T0 + 180 * MIN;
    const inWin = (a: number, b: number) =>
      fx.records.filter((r) => r.timestamp >= a && r.timestamp < b).length;
    const opts = { query: 'diff', start: new Date(start).toISOString(), end: new Date(end).toISOString() };
    const a = await runQuery({ ...opts, from: `s3://${BUCKET}/flat`, threads: 0 });
    const b = await runQuery({ ...opts, from: `s3://${BUCKET}/hive`, threads: 2, inlineMaxBytes: 0 });
    const sum = (rows: Record<string, unknown>[], k: string) =>
      rows.reduce((n, r) => n + (r[k] as number), 0);
    expect(sum(a.result.rows, '@currentCount')).toBe(inWin(start, end));
    expect(sum(a.result.rows, '@previousCount')).toBe(inWin(start - 90 * MIN, start));
    expect(inWin(start - 90 * MIN, start)).toBeGreaterThan(0);
    expect(b.result.rows).toEqual(a.result.rows);
  });
});
