/**
 * The console streams results as they are found: over an S3 archive whose object reads are slowed
 * by a proxy in front of moto, `partial` events (the answer over the rows read so far) arrive before
 * the final `result`, and the final result is the whole answer.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningConsole, startConsole } from '../src/console/server.js';
import { runQuery } from '../src/query/backends/index.js';
import { T0, writeS3Archives } from './query-fixtures.js';
import { motoUrl } from './infra/services.js';

const BUCKET = `lf-console-partial-${Date.now().toString(36)}`;
const QUERY = 'fields @timestamp, @logStream | sort @timestamp desc | limit 20';
let proxy: Server;
let c: RunningConsole;
let restore: () => void;
let gets = 0;

beforeAll(async () => {
  ({ restore } = await writeS3Archives(motoUrl(), BUCKET, { flatPrefix: 'eks', hiveMaxRecords: 50 }));
  const target = new URL(motoUrl());
  // Every object read waits 150 ms: the scan takes long enough for partial answers to be sent.
  proxy = createServer((req, res) => {
    const slow =
      req.method === 'GET' && !(req.url ?? '').includes('list-type') && (req.url ?? '').includes('.');
    if (slow) gets++;
    setTimeout(
      () => {
        const up = request(
          {
            host: target.hostname,
            port: target.port,
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        up.on('error', () => res.destroy());
        req.pipe(up);
      },
      slow ? 150 : 0,
    );
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  process.env.LOGFERRY_S3_ENDPOINT = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  c = await startConsole({
    from: `s3://${BUCKET}/hive`,
    queriesDir: join(tmpdir(), `${BUCKET}-queries`),
    threads: 0,
    now: () => T0 + 4 * 3_600_000,
  });
}, 120_000);

afterAll(async () => {
  await c?.close();
  proxy?.close();
  restore?.();
});

describe('console: rows as they are found', () => {
  it('sends partial answers before the final one, which is the whole answer', async () => {
    const r = await fetch(`${c.url}api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: QUERY, start: '-24h' }),
    });
    const events = (await r.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
    const last = events[events.length - 1];
    expect(last.type).toBe('result');
    expect(last.partial).toBeUndefined();
    const partials = events.filter((e) => e.type === 'partial');
    expect(gets).toBeGreaterThan(8);
    expect(partials.length).toBeGreaterThan(0);
    for (const p of partials) {
      expect(p.partial).toBe(true);
      expect(p.fields).toEqual(last.fields);
      expect(p.rows.length).toBeGreaterThan(0);
      expect(p.rows.length).toBeLessThanOrEqual(20);
      expect(p.stats.recordsScanned).toBeLessThanOrEqual(last.stats.recordsScanned);
    }
    process.env.LOGFERRY_S3_ENDPOINT = motoUrl(); // the reference answer, read without the delays
    const whole = await runQuery({
      query: QUERY,
      from: `s3://${BUCKET}/hive`,
      start: '-24h',
      now: T0 + 4 * 3_600_000,
      threads: 0,
    });
    expect(last.stats.recordsMatched).toBe(whole.result.stats.recordsMatched);
    expect(last.rows.length).toBe(whole.result.rows.length);
  }, 120_000);
});
