/**
 * A real Fluent Bit shipping to logferry: its `forward` output to the `forward` source (shared-key
 * handshake, gzip (CompressedPackedForward), `Require_ack_response`, and a sink that fails first —
 * logferry closes the connection without an ack, Fluent Bit sends the chunk again, and every record
 * arrives), and its `http` output (`json_lines`, gzip, a bearer token) to the `http` source. Fluent Bit is not packaged for Debian and is not built by the test setup (a ~5 minute
 * build from source, see /work/shared/FACTS.md); set LOGFERRY_FLUENT_BIT to a `fluent-bit` binary
 * (v2 or later) to run this file. Without it the test is reported as skipped, by name.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDaemon } from '../src/core/daemon.js';
import { HttpSink, httpSinkConfig } from '../src/sinks/http.js';
import { ForwardSource, forwardSourceConfig } from '../src/sources/forward/forward-source.js';
import { HttpSource, httpSourceConfig } from '../src/sources/http.js';
import { startNdjsonServer } from './infra/http-log-services.js';
import { pipeline, waitFor } from './infra/net-sources.js';

const BIN = process.env.LOGFERRY_FLUENT_BIT;
const dir = mkdtempSync(join(tmpdir(), 'logferry-fluent-bit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs fluent-bit with `conf` until `until()` holds (or 60 s); returns its log. */
async function fluentBit(conf: string, until: () => boolean, what: string): Promise<string> {
  const file = join(dir, `fluent-bit-${Date.now()}.conf`);
  writeFileSync(file, conf);
  const fb = spawn(BIN as string, ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  fb.stdout.on('data', (d) => {
    log += d;
  });
  fb.stderr.on('data', (d) => {
    log += d;
  });
  try {
    await waitFor(until, what, 60_000).catch((e) => {
      throw new Error(`${(e as Error).message}; Fluent Bit log:\n${log.slice(-3000)}`);
    });
  } finally {
    fb.kill('SIGTERM');
    await new Promise((r) => fb.once('exit', r));
  }
  return log;
}

describe.skipIf(!BIN)('a real Fluent Bit (needs LOGFERRY_FLUENT_BIT)', () => {
  it('http output (json_lines, gzip, bearer token) → http source (ndjson): records with their event time', async () => {
    const src = new HttpSource(
      httpSourceConfig.parse({
        type: 'http',
        port: 0,
        path: '/ingest',
        format: 'ndjson',
        accessKey: 'env:H',
      }),
      { resolveSecret: async () => 'h77p-bearer-key' },
    );
    const p = await pipeline(src);
    const port = (await src.ready).port;
    try {
      const log = await fluentBit(
        `[SERVICE]
    Flush  1
    Grace  1
[INPUT]
    Name     dummy
    Tag      app.web
    Dummy    {"log":"over http","stream":"stdout"}
    Rate     10
    Samples  10
[OUTPUT]
    Name              http
    Match             *
    Host              127.0.0.1
    Port              ${port}
    URI               /ingest
    Format            json_lines
    Json_date_key     date
    Json_date_format  double
    Compress          gzip
    Header            Authorization Bearer h77p-bearer-key
`,
        () => p.receiver.docs.length >= 10,
        '10 records',
      );
      expect(log).toMatch(/HTTP status=200/);
      expect(p.receiver.docs.every((d) => d['@message'] === 'over http' && d.stream === 'stdout')).toBe(true);
      // The event time is Fluent Bit's `date` (epoch seconds with a fraction), not the arrival time.
      for (const d of p.receiver.docs)
        expect(Math.abs(Date.parse(String(d['@timestamp'])) - Number(d.date) * 1000)).toBeLessThan(1);
    } finally {
      await p.stop();
    }
  }, 90_000);

  it('handshake, gzip and acks; a failed delivery is resent by Fluent Bit and nothing is lost', async () => {
    const receiver = await startNdjsonServer();
    const sink = new HttpSink(
      httpSinkConfig.parse({ type: 'http', flavor: 'ndjson', url: receiver.url, maxAgeMs: 50 }),
    );
    const src = new ForwardSource(
      forwardSourceConfig.parse({ type: 'forward', port: 0, sharedKey: 'env:K', heartbeat: false }),
      { resolveSecret: async () => 'fluent-bit-shared-k3y' },
    );
    const ac = new AbortController();
    const run = runDaemon({
      sources: [src],
      transforms: [],
      sinks: [{ name: 'out', sink, match: 'node.*' }],
      sourceTags: { forward: 'node.*' },
      signal: ac.signal,
      deliver: { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
    });
    const port = (await src.ready).port;
    // The first deliveries fail: logferry must not ack them, and Fluent Bit must send them again.
    receiver.failNext(3, 503, 'busy');
    const conf = join(dir, 'fluent-bit.conf');
    writeFileSync(
      conf,
      `[SERVICE]
    Flush            1
    Grace            1
    Log_Level        info
    scheduler.base   1
    scheduler.cap    2
[INPUT]
    Name     dummy
    Tag      node.app
    Dummy    {"log":"from fluent bit","stream":"stdout"}
    Rate     20
    Samples  40
[OUTPUT]
    Name                  forward
    Match                 *
    Host                  127.0.0.1
    Port                  ${port}
    Shared_Key            fluent-bit-shared-k3y
    Self_Hostname         node-1
    Require_ack_response  true
    Compress              gzip
    Retry_Limit           no_limits
`,
    );
    const fb = spawn(BIN as string, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    fb.stdout.on('data', (d) => {
      log += d;
    });
    fb.stderr.on('data', (d) => {
      log += d;
    });
    try {
      await waitFor(() => receiver.docs.length >= 40, `40 records (Fluent Bit log:\n${log})`, 60_000);
    } finally {
      fb.kill('SIGTERM');
      await new Promise((r) => fb.once('exit', r));
      ac.abort();
      await run;
      await receiver.close();
    }
    expect(log).not.toMatch(/failed authorization|digest mismatch/);
    expect(receiver.docs.every((d) => d['@message'] === 'from fluent bit' && d.tag === 'node.app')).toBe(
      true,
    );
    // Every one of the 40 dummy records arrived (they are 50 ms apart: one event time each); a
    // resent chunk may repeat records already delivered from it, never lose one.
    expect(new Set(receiver.docs.map((d) => d['@timestamp'])).size).toBe(40);
    expect(src.stats.acked.failed).toBeGreaterThan(0);
    expect(src.stats.handshakes.ok).toBeGreaterThan(0);
  }, 90_000);
});
