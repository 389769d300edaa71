/**
 * The logferry Lambda extension as shipped: `node scripts/build.mjs` lays out the layer
 * (dist/lambda/extension/extensions/logferry + logferry-extension/index.mjs + chunks/), and the launcher
 * runs as a child process against the Extensions/Telemetry API stand-in
 * (test/infra/lambda-extensions-api.ts), shipping to a local NDJSON receiver through the `http` sink.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LambdaExtensionsApi, type TelemetryEvent } from './infra/lambda-extensions-api.js';

const root = new URL('..', import.meta.url).pathname;
let work: string;
let launcher: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'logferry-ext-'));
  const out = join(work, 'dist');
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, LOGFERRY_BUILD_OUT: out },
  });
  if (b.status !== 0) throw new Error(`build failed:\n${b.stderr}`);
  launcher = join(out, 'lambda', 'extension', 'extensions', 'logferry');
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Receiver {
  url: string;
  docs: Record<string, unknown>[];
  failing: boolean;
  requests: number;
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const r = { docs: [] as Record<string, unknown>[], failing: false, requests: 0 } as Receiver;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    r.requests++;
    if (r.failing) {
      res.writeHead(500).end('down');
      return;
    }
    for (const line of Buffer.concat(chunks).toString('utf8').split('\n'))
      if (line.trim()) r.docs.push(JSON.parse(line));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  const a = server.address();
  r.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/ingest`;
  r.close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return r;
}

interface Started {
  proc: ChildProcess;
  exit: Promise<number | null>;
  stderr: () => string;
}

function startExtension(api: LambdaExtensionsApi, env: Record<string, string>): Started {
  const proc = spawn(launcher, [], {
    env: {
      PATH: process.env.PATH ?? '',
      AWS_LAMBDA_RUNTIME_API: api.runtimeApi,
      AWS_LAMBDA_FUNCTION_NAME: api.functionName,
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/12/05/[$LATEST]0123456789abcdef',
      LOGFERRY_EXTENSION_HOST: '127.0.0.1',
      LOGFERRY_EXTENSION_NODE: process.execPath,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  proc.stdout?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((ok) => proc.once('exit', (code) => ok(code)));
  return { proc, exit, stderr: () => err };
}

const running: Started[] = [];
afterEach(() => {
  for (const s of running.splice(0)) if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
});

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const t0 = Date.parse('2026-12-05T10:00:00.000Z');
const at = (ms: number) => new Date(t0 + ms).toISOString();

function functionBatch(from: number, n: number): TelemetryEvent[] {
  const out: TelemetryEvent[] = [];
  for (let i = from; i < from + n; i++)
    out.push(
      i % 2 === 0
        ? { time: at(i), type: 'function', record: `2026-12-05T10:00:00.000Z\treq-${i}\tINFO\tline ${i}\n` }
        : {
            time: at(i),
            type: 'function',
            record: { timestamp: at(i), level: 'INFO', requestId: `req-${i}`, message: `json line ${i}` },
          },
    );
  return out;
}

const platformEvents = (requestId: string): TelemetryEvent[] => [
  { time: at(0), type: 'platform.start', record: { requestId, version: '$LATEST' } },
  {
    time: at(1),
    type: 'platform.runtimeDone',
    record: { requestId, status: 'success', metrics: { durationMs: 12.5, producedBytes: 100 } },
  },
  {
    time: at(2),
    type: 'platform.report',
    record: {
      requestId,
      status: 'success',
      metrics: { durationMs: 13, billedDurationMs: 14, memorySizeMB: 128, maxMemoryUsedMB: 60 },
    },
  },
];

function shipped(docs: Record<string, unknown>[]) {
  return docs.filter((d) => d.lambdaTelemetry === undefined).map((d) => String(d['@message']));
}

describe('logferry Lambda extension (Extensions + Telemetry API stand-in)', () => {
  it('lays the layer out as its zip: an executable extensions/logferry and the bundle', () => {
    expect(statSync(launcher).mode & 0o111).not.toBe(0);
    expect(statSync(join(launcher, '..', '..', 'logferry-extension', 'index.mjs')).isFile()).toBe(true);
  });

  it('registers, subscribes, ships every function line once, keeps platform events, re-sent after a failing sink, drains on SHUTDOWN', async () => {
    const rx = await receiver();
    const api = new LambdaExtensionsApi({ maxSends: 3, resendDelayMs: 50 });
    await api.start();
    try {
      const ext = startExtension(api, {
        LOGFERRY_CONFIG: JSON.stringify({ sinks: [{ type: 'http', url: rx.url, maxAgeMs: 20 }] }),
        LOGFERRY_EXTENSION_TYPES: 'function,extension,platform',
        LOGFERRY_EXTENSION_TIMEOUT_MS: '25',
        LOGFERRY_EXTENSION_BATCH_TIMEOUT_MS: '1500',
      });
      running.push(ext);
      const sub = await Promise.race([
        api.subscribed(),
        ext.exit.then((c) => {
          throw new Error(`extension exited (${c}) before subscribing:\n${ext.stderr()}`);
        }),
      ]);
      expect([...api.extensions.values()].map((e) => [e.name, e.events])).toEqual([
        ['logferry', ['INVOKE', 'SHUTDOWN']],
      ]);
      expect(sub.schemaVersion).toBe('2022-12-13');
      expect(sub.destination.protocol).toBe('HTTP');
      expect(sub.destination.URI).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(sub.types).toEqual(['function', 'extension', 'platform']);
      expect(sub.buffering).toEqual({ maxItems: 1000, maxBytes: 262144, timeoutMs: 25 });

      // INVOKE, then a batch of text and JSON lines plus platform events.
      await until('first event/next', () => api.nextCalls() >= 1);
      const req1 = api.invoke(3_000);
      const b1 = await api.deliver([...platformEvents(req1), ...functionBatch(0, 40)]);
      expect(b1).toMatchObject({ delivered: true, statuses: [200] });
      await until('extension back at event/next', () => api.nextCalls() >= 2);

      // The sink fails: the batch is answered non-200; the stand-in re-sends it once the sink heals.
      rx.failing = true;
      const req2 = api.invoke(3_000);
      const b2 = await api.deliver([...platformEvents(req2), ...functionBatch(40, 30)], (status) => {
        if (status !== 200) rx.failing = false;
      });
      expect(b2.delivered).toBe(true);
      expect(b2.statuses[0]).toBe(500);
      expect(b2.statuses.at(-1)).toBe(200);

      // SHUTDOWN; Lambda sends the last telemetry after it; the extension ships it and exits in time.
      await until('extension back at event/next', () => api.nextCalls() >= 3);
      const deadline = api.shutdown('spindown', 2_000);
      await new Promise((r) => setTimeout(r, 30));
      const b3 = await api.deliver(functionBatch(70, 10));
      expect(b3).toMatchObject({ delivered: true, statuses: [200] });
      const code = await ext.exit;
      expect(Date.now()).toBeLessThan(deadline + 200);
      expect(code, ext.stderr()).toBe(0);

      // Every function line exactly once, with Lambda's log group/stream and the event time.
      const expected = functionBatch(0, 80).map((e) =>
        typeof e.record === 'string' ? e.record.replace(/\n$/, '') : JSON.stringify(e.record),
      );
      expect(shipped(rx.docs).sort()).toEqual([...expected].sort());
      const first = rx.docs.find(
        (d) => String(d['@message']).includes('line 0\t') || String(d['@message']).endsWith('line 0'),
      );
      expect(first).toMatchObject({
        '@log': '123456789012:/aws/lambda/orders',
        '@logStream': '2026/12/05/[$LATEST]0123456789abcdef',
        '@timestamp': new Date(t0).toISOString(),
      });
      // Platform events are shipped as records (not lost), each once.
      const platform = rx.docs.filter((d) => String(d.lambdaTelemetry ?? '').startsWith('platform.'));
      expect(platform.map((d) => d.lambdaTelemetry).sort()).toEqual([
        'platform.report',
        'platform.report',
        'platform.runtimeDone',
        'platform.runtimeDone',
        'platform.start',
        'platform.start',
      ]);
      // The shutdown summary counts what arrived (the re-sent batch twice).
      const summary = ext
        .stderr()
        .split('\n')
        .filter((l) => l.includes('logferry extension shut down'))
        .map((l) => JSON.parse(l))[0];
      expect(summary).toMatchObject({
        batches: 4,
        function: 40 + 30 * 2 + 10,
        platform: 3 + 3 * 2,
        failedBatches: 1,
        inFlight: 0,
      });
      expect(api.droppedEvents).toBe(0);
    } finally {
      await api.stop();
      await rx.close();
    }
  }, 60_000);

  it('a sink that stays down: every send answered non-200, the stand-in drops it and reports platform.logsDropped', async () => {
    const rx = await receiver();
    rx.failing = true;
    const api = new LambdaExtensionsApi({ maxSends: 2, resendDelayMs: 10 });
    await api.start();
    try {
      const ext = startExtension(api, {
        LOGFERRY_CONFIG: JSON.stringify({ sinks: [{ type: 'http', url: rx.url, maxAgeMs: 20 }] }),
        LOGFERRY_EXTENSION_TYPES: 'function,platform',
        LOGFERRY_EXTENSION_BATCH_TIMEOUT_MS: '300',
      });
      running.push(ext);
      await api.subscribed();
      api.invoke(3_000);
      const b = await api.deliver(functionBatch(0, 5));
      expect(b.statuses).toEqual([500, 500]);
      expect(b.delivered).toBe(false);
      expect(api.droppedEvents).toBe(5);
      rx.failing = false;
      const b2 = await api.deliver(functionBatch(5, 2));
      expect(b2.delivered).toBe(true);
      const dropped = rx.docs.filter((d) => d.lambdaTelemetry === 'platform.logsDropped');
      expect(dropped).toHaveLength(1);
      expect(JSON.parse(String(dropped[0]['@message']))).toMatchObject({ droppedRecords: 5 });
      api.shutdown('spindown', 1_500);
      expect(await ext.exit).toBe(0);
      expect(ext.stderr()).toContain('telemetry batch not delivered');
    } finally {
      await api.stop();
      await rx.close();
    }
  }, 60_000);

  it('a bad config fails the init with every problem listed (init/error) and exit 2', async () => {
    const api = new LambdaExtensionsApi();
    await api.start();
    try {
      const ext = startExtension(api, {
        LOGFERRY_CONFIG: JSON.stringify({ sinks: [{ type: 'http' }, { type: 'nope' }] }),
      });
      running.push(ext);
      expect(await ext.exit).toBe(2);
      expect(api.initErrors).toHaveLength(1);
      expect(api.initErrors[0].type).toBe('Extension.ConfigInvalid');
      expect(api.subscriptions).toHaveLength(0);
    } finally {
      await api.stop();
    }
  }, 30_000);

  it('bad extension settings are refused at once with every problem, exit 2, no stack trace', async () => {
    const api = new LambdaExtensionsApi();
    await api.start();
    try {
      const ext = startExtension(api, {
        LOGFERRY_EXTENSION_MAX_ITEMS: '5',
        LOGFERRY_EXTENSION_TYPES: 'function,logs',
      });
      running.push(ext);
      expect(await ext.exit).toBe(2);
      expect(ext.stderr()).toContain('LOGFERRY_EXTENSION_MAX_ITEMS');
      expect(ext.stderr()).toContain('unknown type "logs"');
      expect(ext.stderr()).not.toMatch(/\n\s+at /);
      expect(api.extensions.size).toBe(0);
    } finally {
      await api.stop();
    }
  }, 30_000);
});
