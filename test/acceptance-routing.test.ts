/**
 * Acceptance of named routing (issue #7 §2): the routing example — source `eks` (kinesis),
 * transform `no-reads` (filter, `exclude: 'verb in ["get", "list", "watch"]'`), sinks `archive`
 * (no inputs: everything) and `search` (inputs `[no-reads]`, index `writes`) — run twice against a
 * real OpenSearch node behind the fault-injecting proxy (429 items, 503s, connection resets), with
 * both sinks writing to the search server (the archive as its own index):
 *
 * 1. through the built **Kinesis Lambda bundle** (dist/lambda/kinesis/index.mjs) configured by
 *    `LOGFERRY_CONFIG`, invoked per shard batch and redriven from the reported failure as Lambda does;
 * 2. through **`logferry run`** (the built CLI) reading the same traffic from a kinesis-local stream,
 *    with `--metrics-address`.
 *
 * Each time: every good event is in the archive index exactly once, the `writes` index holds exactly
 * the events whose audit verb is not a read, malformed records are in the dead-letter file, every
 * summary line adds up (received = delivered + dropped + rejected + failed, and the EMF counters
 * repeat it), and the scraped `/metrics` agrees with the run's `--json` summary.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  type KinesisClientConfig,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig } from '../src/aws/clients.js';
import type { DataMessage } from '../src/aws/cloudwatch-payload.js';
import { DemoGenerator } from '../src/sources/demo.js';
import type { KinesisBatchResponse, KinesisEvent, KinesisEventRecord } from '../src/sources/kinesis-event.js';
import { type FaultProxy, startFaultProxy } from './infra/fault-proxy.js';
import { kinesisUrl, opensearchUrl } from './infra/services.js';

const root = new URL('..', import.meta.url).pathname;
const unique = `acc${Date.now().toString(36)}`;
const READS = new Set(['get', 'list', 'watch']);
const BATCH = 10;

type Handler = (
  event: KinesisEvent,
  context: { getRemainingTimeInMillis(): number; awsRequestId: string },
) => Promise<KinesisBatchResponse>;

/** What was sent, and what the indices must hold. */
interface Traffic {
  /** base64 of each Kinesis record's data, in order. */
  records: string[];
  /** `@id` of every event of every decodable DATA_MESSAGE. */
  good: Set<string>;
  /** The good events whose `verb` is not a read (audit events) or that have no verb. */
  writes: Set<string>;
  reads: number;
  controls: number;
  malformed: number;
}

/** Realistic EKS/Lambda/ECS traffic from the demo generator, plus control and malformed records. */
function traffic(seed: number): Traffic {
  const gen = new DemoGenerator({ seed, eventsPerEnvelope: 15, controlEvery: 11, totalEnvelopes: 60 });
  const t: Traffic = { records: [], good: new Set(), writes: new Set(), reads: 0, controls: 0, malformed: 0 };
  for (let i = 0; i < 60; i++) {
    const msg = gen.nextMessage();
    t.records.push(gzipSync(JSON.stringify(msg)).toString('base64'));
    if (msg.messageType === 'CONTROL_MESSAGE') {
      t.controls++;
      continue;
    }
    for (const e of (msg as DataMessage).logEvents) {
      t.good.add(e.id);
      let verb: unknown;
      try {
        verb = (JSON.parse(e.message) as { verb?: unknown }).verb;
      } catch {
        verb = undefined;
      }
      if (typeof verb === 'string' && READS.has(verb)) t.reads++;
      else t.writes.add(e.id);
    }
    if (i % 17 === 5) {
      // Gzip magic then garbage: malformed however records are detected (text is a record now).
      t.records.push(
        Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from(`broken ${i}`)]).toString('base64'),
      );
      t.malformed++;
    }
  }
  return t;
}

function routingConfig(
  index: string,
  proxyUrl: string,
  source: Record<string, unknown>,
  deadLetterPath: string,
): Record<string, unknown> {
  const os = { type: 'opensearch', url: proxyUrl, maxRecords: 40, maxAgeMs: 200 };
  return {
    sources: { eks: { type: 'kinesis', ...source } },
    transforms: { 'no-reads': { type: 'filter', exclude: 'verb in ["get", "list", "watch"]' } },
    sinks: {
      archive: { ...os, index: `${index}-archive` },
      search: { ...os, inputs: ['no-reads'], index: `${index}-writes` },
    },
    deadLetter: { type: 'file', path: deadLetterPath },
  };
}

async function ids(index: string): Promise<string[]> {
  const base = opensearchUrl();
  await fetch(`${base}/${index}/_refresh`, { method: 'POST' });
  const res = await fetch(`${base}/${index}/_search?size=10000&_source_includes=@id`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: { match_all: {} } }),
  });
  const body = (await res.json()) as { hits?: { hits: { _source: { '@id': string } }[] } };
  return (body.hits?.hits ?? []).map((h) => h._source['@id']);
}

/** Every good event once in the archive, exactly the non-read events in `writes`. */
async function expectIndices(index: string, t: Traffic): Promise<void> {
  const archive = await ids(`${index}-archive`);
  expect(archive.length).toBe(t.good.size);
  expect(new Set(archive)).toEqual(t.good);
  const writes = await ids(`${index}-writes`);
  expect(writes.length).toBe(t.writes.size);
  expect(new Set(writes)).toEqual(t.writes);
  expect(t.reads).toBeGreaterThan(0);
  expect(t.writes.size).toBeGreaterThan(0);
}

function deadLetters(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  const files = path.endsWith('.ndjson') ? [path] : readdirSync(path).map((f) => join(path, f));
  return files.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );
}

const FAULTS = {
  itemThrottleRate: 0.15,
  requestFailRate: 0.08,
  resetRate: 0.05,
  maxFaults: 120,
};

let proxy: FaultProxy;
let dir: string;
let build: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  // A private build (inside the repo so the CLI bundle finds node_modules): other test files use
  // and rebuild dist/ while this one runs.
  mkdirSync(join(root, 'build'), { recursive: true });
  build = mkdtempSync(join(root, 'build', 'acceptance-'));
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
    cwd: root,
    stdio: 'pipe',
    env: { ...process.env, LOGFERRY_BUILD_OUT: build },
  });
  dir = mkdtempSync(join(tmpdir(), 'lf-acceptance-'));
  cpSync(join(build, 'lambda', 'kinesis'), join(dir, 'kinesis'), { recursive: true });
  proxy = await startFaultProxy(opensearchUrl(), { seed: 1 });
}, 300_000);

afterAll(async () => {
  await proxy?.stop();
  if (build) rmSync(build, { recursive: true, force: true });
  await fetch(`${opensearchUrl()}/${unique}-*`, { method: 'DELETE' }).catch(() => {});
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Counts {
  received: number;
  delivered: number;
  dropped: number;
  rejected: number;
  failed: number;
}
const settled = (c: Counts) => c.delivered + c.dropped + c.rejected + c.failed;

describe('routing example (#7 §2) against a faulty search server', () => {
  it('Kinesis Lambda bundle with LOGFERRY_CONFIG: archive gets every good event once, writes only the non-reads', async () => {
    const index = `${unique}-lambda`;
    const dlq = join(dir, 'lambda-dlq.ndjson');
    const t = traffic(21);
    proxy.setOptions({ seed: 7, ...FAULTS });
    for (const k of Object.keys(process.env)) if (k.startsWith('LOGFERRY_')) delete process.env[k];
    Object.assign(process.env, {
      LOGFERRY_CONFIG: JSON.stringify(
        routingConfig(index, proxy.url, { stream: 'cwl-eks', checkpointPath: join(dir, 'unused.json') }, dlq),
      ),
      LOGFERRY_DEADLINE_SAFETY_MS: '1000',
      LOGFERRY_LOG_LEVEL: 'info',
    });
    const { handler } = (await import(pathToFileURL(join(dir, 'kinesis', 'index.mjs')).href)) as {
      handler: Handler;
    };

    // Two shards; Lambda redrives a shard from the earliest reported failure.
    const ARN = `arn:aws:kinesis:us-east-1:123456789012:stream/cwl-eks`;
    const shards: KinesisEventRecord[][] = [[], []];
    t.records.forEach((data, i) => {
      const s = i % 2;
      const sequenceNumber = `4959${s}${String(shards[s].length).padStart(51, '0')}`;
      shards[s].push({
        eventID: `shardId-00000000000${s}:${sequenceNumber}`,
        eventSourceARN: ARN,
        kinesis: {
          sequenceNumber,
          partitionKey: `pk-${i}`,
          data,
          approximateArrivalTimestamp: Date.now() / 1000,
        },
      });
    });
    const lines: string[] = [];
    const pointers = [0, 0];
    let invocations = 0;
    let redrives = 0;
    while (pointers.some((p, s) => p < shards[s].length)) {
      expect(invocations, `no progress:\n${lines.slice(-2).join('')}`).toBeLessThan(200);
      for (let s = 0; s < shards.length; s++) {
        if (pointers[s] >= shards[s].length) continue;
        const batch = shards[s].slice(pointers[s], pointers[s] + BATCH);
        invocations++;
        const write = process.stdout.write.bind(process.stdout);
        process.stdout.write = ((chunk: string | Uint8Array) => {
          lines.push(String(chunk));
          return true;
        }) as typeof process.stdout.write;
        const end = Date.now() + 8_000;
        let res: KinesisBatchResponse;
        try {
          res = await handler(
            { Records: batch },
            { getRemainingTimeInMillis: () => end - Date.now(), awsRequestId: `inv-${invocations}` },
          );
        } finally {
          process.stdout.write = write;
        }
        const failed = res.batchItemFailures.map((f) => f.itemIdentifier);
        if (failed.length === 0) {
          pointers[s] += batch.length;
          continue;
        }
        const at = batch.findIndex((r) => r.kinesis?.sequenceNumber === failed[0]);
        expect(at).toBeGreaterThanOrEqual(0);
        pointers[s] += at;
        redrives++;
      }
    }
    expect(
      proxy.stats.itemsThrottled +
        proxy.stats.requestsFailed +
        proxy.stats.resetsBefore +
        proxy.stats.resetsAfter,
    ).toBeGreaterThan(0);

    await expectIndices(index, t);

    // Malformed records are dead-lettered with their reason and original payload (a redrive may
    // write one again: at least once).
    const dl = deadLetters(dlq);
    const malformed = new Set(dl.filter((d) => String(d.code).startsWith('ENVELOPE_')).map((d) => d.payload));
    expect(malformed.size).toBe(t.malformed);

    // One summary line per invocation; each adds up, and its EMF counters repeat the counts.
    const summaries = lines.filter((l) => l.includes('"msg":"kinesis batch')).map((l) => JSON.parse(l));
    expect(summaries).toHaveLength(invocations);
    let dropped = 0;
    for (const s of summaries) {
      const r = s.records as Counts;
      expect(r.received).toBe(settled(r));
      expect(s.records_received).toBe(r.received);
      expect(s.records_delivered).toBe(r.delivered);
      expect(s.records_dropped).toBe(r.dropped);
      expect(s.records_rejected).toBe(r.rejected);
      expect(s.records_failed).toBe(r.failed);
      expect(s.envelopes.received).toBe(
        s.envelopes.delivered + s.envelopes.dropped + s.envelopes.rejected + s.envelopes.failed,
      );
      expect(s._aws.CloudWatchMetrics[0].Namespace).toBe('logferry');
      dropped += r.dropped;
    }
    // Reads are dropped on the `search` branch only: the archive delivered them, so they are not
    // dropped records; what is dropped is the control messages (once per time they were processed).
    expect(dropped).toBeGreaterThanOrEqual(t.controls);
    if (redrives === 0) {
      const total = summaries.reduce((n, s) => n + (s.records as Counts).received, 0);
      expect(total).toBe(t.good.size + t.controls + t.malformed);
    }
  }, 600_000);

  it('logferry run with --metrics-address: same indices, the summary adds up, /metrics agrees with it', async () => {
    const index = `${unique}-run`;
    const t = traffic(33);
    const stream = `cwl-eks-${unique}`;
    const kinesis = new KinesisClient(
      clientConfig('kinesis', { endpoint: kinesisUrl(), maxAttempts: 3 }) as KinesisClientConfig,
    );
    try {
      await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
      for (let i = 0; ; i++) {
        const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
        if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
        expect(i).toBeLessThan(200);
        await new Promise((r) => setTimeout(r, 100));
      }
      const res = await kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: t.records.map((d, i) => ({ Data: Buffer.from(d, 'base64'), PartitionKey: `pk-${i}` })),
        }),
      );
      expect(res.FailedRecordCount ?? 0).toBe(0);
    } finally {
      kinesis.destroy();
    }

    proxy.setOptions({ seed: 9, ...FAULTS });
    const dlq = join(dir, 'run-dlq.ndjson');
    const cfg = routingConfig(
      index,
      proxy.url,
      {
        stream,
        endpoint: kinesisUrl(),
        checkpointPath: join(dir, 'run-checkpoint.json'),
        pollIntervalMs: 200,
        checkpointIntervalMs: 0,
        shardSyncIntervalMs: 1_000,
      },
      dlq,
    );
    const cfgPath = join(dir, 'routing.json');
    writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
    const env: NodeJS.ProcessEnv = { ...savedEnv };
    for (const k of Object.keys(env)) if (k.startsWith('LOGFERRY_')) delete env[k];
    const child: ChildProcess = spawn(
      process.execPath,
      [join(build, 'cli', 'logferry.mjs'), 'run', cfgPath, '--json', '--metrics-address', '127.0.0.1:0'],
      { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    child.stderr?.on('data', (c) => {
      stderr += String(c);
    });
    child.stdout?.on('data', (c) => {
      stdout += String(c);
    });
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let exited = false;
    void exit.then(() => {
      exited = true;
    });
    const expectedReceived = t.good.size + t.controls + t.malformed;
    let scraped = '';
    try {
      let address = '';
      for (let i = 0; i < 600 && !address; i++) {
        expect(exited, `the run ended early: ${stderr}`).toBe(false);
        address = /"address":"(http:\/\/[^"]+)\/metrics"/.exec(stderr)?.[1] ?? '';
        if (!address) await new Promise((r) => setTimeout(r, 50));
      }
      expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // Wait until every record was read and settled, then until nothing is in flight.
      let totals: Counts | undefined;
      for (let i = 0; i < 1200; i++) {
        scraped = await (await fetch(`${address}/metrics`)).text();
        totals = sourceTotals(scraped);
        const inFlight = Number(/^logferry_envelopes_in_flight (\d+)$/m.exec(scraped)?.[1] ?? '1');
        if (totals.received >= expectedReceived && settled(totals) === totals.received && inFlight === 0)
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(totals?.received).toBe(expectedReceived);
      // Give the progress snapshot one more period, then take the scrape the summary is held to.
      await new Promise((r) => setTimeout(r, 500));
      scraped = await (await fetch(`${address}/metrics`)).text();
    } finally {
      if (!exited) child.kill('SIGINT');
      await exit;
    }
    expect(stdout).toBe('');
    const summary = JSON.parse(stderr.trim().split('\n').pop() ?? '{}') as {
      balanced: boolean;
      events: Counts;
      byLogGroup: Record<string, Counts>;
      byReason: Record<string, number>;
      sinks: { name: string; sends: number; records: number }[];
    };
    expect(summary.balanced).toBe(true);
    expect(summary.events.received).toBe(settled(summary.events));
    expect(summary.events.failed).toBe(0);
    expect(summary.events.received).toBe(expectedReceived);
    expect(summary.byReason['dropped:CONTROL_MESSAGE']).toBe(t.controls);
    expect(summary.events.rejected).toBe(t.malformed);
    expect(summary.events.delivered).toBe(t.good.size);

    // /metrics agrees with the summary: totals, per log group, and per sink.
    expect(sourceTotals(scraped)).toEqual(summary.events);
    const groups = sourceByGroup(scraped);
    expect(Object.keys(groups).sort()).toEqual(Object.keys(summary.byLogGroup).sort());
    for (const [g, c] of Object.entries(summary.byLogGroup)) expect(groups[g]).toEqual(c);
    for (const s of summary.sinks) {
      const sends = new RegExp(`^logferry_sink_sends_total\\{component="${s.name}"\\} (\\d+)$`, 'm').exec(
        scraped,
      );
      expect(Number(sends?.[1]), `sends of ${s.name}`).toBe(s.sends);
    }

    expect(
      proxy.stats.itemsThrottled +
        proxy.stats.requestsFailed +
        proxy.stats.resetsBefore +
        proxy.stats.resetsAfter,
    ).toBeGreaterThan(0);
    await expectIndices(index, t);
    const dl = deadLetters(dlq);
    expect(new Set(dl.filter((d) => String(d.code).startsWith('ENVELOPE_')).map((d) => d.payload)).size).toBe(
      t.malformed,
    );
  }, 600_000);
});

/** `logferry_records_total` of the source `eks`, per log group. */
function sourceByGroup(text: string): Record<string, Counts> {
  const out: Record<string, Counts> = {};
  for (const [, g, o, n] of text.matchAll(
    /^logferry_records_total\{component="eks",log_group="((?:[^"\\]|\\.)*)",outcome="(\w+)"\} (\d+)$/gm,
  )) {
    out[g] ??= { received: 0, delivered: 0, dropped: 0, rejected: 0, failed: 0 };
    out[g][o as keyof Counts] = Number(n);
  }
  return out;
}

function sourceTotals(text: string): Counts {
  const t: Counts = { received: 0, delivered: 0, dropped: 0, rejected: 0, failed: 0 };
  for (const c of Object.values(sourceByGroup(text)))
    for (const k of Object.keys(t) as (keyof Counts)[]) t[k] += c[k];
  return t;
}
