/**
 * The `cloudwatch` daemon source in backfill mode against moto's CloudWatch Logs: log groups
 * selected by name, prefix and pattern; events put with PutLogEvents and read back with
 * FilterLogEvents across pages and time windows; the records are the ones a subscription delivers
 * for the same events (moto delivers PutLogEvents to a subscribed Kinesis stream: same ids, log
 * group, stream and owner); the checkpoint resumes after the last delivered window; throttling
 * (ThrottlingException answered by a proxy in front of moto) is backed off and counted; an unknown
 * group is refused with a sentence.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  type CloudWatchLogsClientConfig,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  PutSubscriptionFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  type KinesisClientConfig,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig } from '../src/aws/clients.js';
import { decodeGzipPayload, toRecords } from '../src/aws/cloudwatch-payload.js';
import { runDaemon } from '../src/core/daemon.js';
import { silentLogger } from '../src/core/logger.js';
import type { LogRecord } from '../src/core/record.js';
import type { Encoded, SendResult, Sink } from '../src/core/sink.js';
import { CloudWatchSource, cloudwatchSourceConfig } from '../src/sources/cloudwatch.js';
import { motoUrl } from './infra/services.js';

const run = `cw${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'lf-cw-'));
let url: string;
let logs: CloudWatchLogsClient;
const NOW = Date.now();
/** Events span the last 50 minutes. */
const T0 = NOW - 50 * 60_000;

/** Keeps what it is sent, keyed like OpenSearch's `_id`; fails records whose message has `fail-once` the first time. */
class MemorySink implements Sink<LogRecord> {
  readonly type = 'memory';
  readonly name = 'mem';
  readonly limits = { maxRecords: 500, maxBytes: 4 << 20, maxRecordBytes: 1 << 20, maxAgeMs: 200 };
  readonly docs = new Map<string, LogRecord>();
  sent = 0;
  failOnce = new Set<string>();
  encode(r: LogRecord): Encoded<LogRecord> {
    return { record: r, data: r, bytes: r.message.length };
  }
  async send(batch: readonly Encoded<LogRecord>[]): Promise<SendResult> {
    const problems: SendResult['problems'] = [];
    batch.forEach((e, index) => {
      this.sent++;
      if (this.failOnce.has(e.data.message)) {
        problems.push({ index, action: 'retry', code: 'SINK_UNAVAILABLE', reason: '503' });
        return;
      }
      const m = e.data.meta;
      this.docs.set(`${m.logGroup}\0${m.logStream}\0${m.id}`, e.data);
    });
    return { problems };
  }
}

async function putEvents(group: string, stream: string, n: number, startMs: number, stepMs: number) {
  await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
  for (let i = 0; i < n; i += 500) {
    const logEvents = [];
    for (let k = i; k < Math.min(n, i + 500); k++)
      logEvents.push({ timestamp: startMs + k * stepMs, message: `${group} ${stream} event ${k}` });
    await logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents }));
  }
}

function source(
  extra: Record<string, unknown>,
  endpoint = url,
  name = `src-${Math.random().toString(36).slice(2)}`,
) {
  const cfg = cloudwatchSourceConfig.parse({
    type: 'cloudwatch',
    name,
    endpoint,
    dataDir: dir,
    from: T0 - 60_000,
    to: NOW + 60_000,
    windowMinutes: 10,
    pageSize: 100,
    ...extra,
  });
  return new CloudWatchSource(cfg, { log: silentLogger }, { random: () => 0.01 });
}

async function backfill(src: CloudWatchSource, sink: MemorySink) {
  const res = await runDaemon({
    sources: [src],
    transforms: [],
    sinks: [{ name: sink.name, sink }],
    log: silentLogger,
    deliver: { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 2 } },
  });
  expect(res.tally.balanced()).toBe(true);
  return res;
}

beforeAll(async () => {
  url = motoUrl();
  logs = new CloudWatchLogsClient(
    clientConfig('logs', { endpoint: url, maxAttempts: 3 }) as CloudWatchLogsClientConfig,
  );
  for (const g of [`/${run}/eks/api`, `/${run}/eks/audit`, `/${run}/lambda/orders`, `/other-${run}`])
    await logs.send(new CreateLogGroupCommand({ logGroupName: g }));
  await putEvents(`/${run}/eks/api`, 'kube-apiserver-1', 700, T0, 3_000);
  await putEvents(`/${run}/eks/api`, 'kube-apiserver-2', 300, T0 + 500, 9_000);
  await putEvents(`/${run}/eks/audit`, 'audit-1', 250, T0, 11_000);
  await putEvents(`/${run}/lambda/orders`, '2026/12/05/[$LATEST]abc', 120, T0, 20_000);
  await putEvents(`/other-${run}`, 'x', 10, T0, 1_000);
}, 120_000);
afterAll(() => logs?.destroy());

describe('cloudwatch source: backfill (moto CloudWatch Logs)', () => {
  it('reads every event of the groups selected by prefix + pattern, across pages and windows, and ends on its own', async () => {
    const sink = new MemorySink();
    const src = source({ prefix: `/${run}/`, pattern: '/eks/' });
    const res = await backfill(src, sink);
    expect(src.stats.groups).toBe(2);
    expect(sink.docs.size).toBe(700 + 300 + 250);
    expect(res.tally.total).toMatchObject({ received: 1250, delivered: 1250, failed: 0 });
    expect(src.stats.pages).toBeGreaterThan(12); // pageSize 100: paginated with nextToken
    expect(src.stats.bytes).toBeGreaterThan(1250 * 20);
    const r = [...sink.docs.values()].find((d) => d.message === `/${run}/eks/api kube-apiserver-2 event 7`);
    expect(r).toMatchObject({
      timestamp: T0 + 500 + 7 * 9_000,
      meta: {
        logGroup: `/${run}/eks/api`,
        logStream: 'kube-apiserver-2',
        owner: '123456789012',
        source: 'cloudwatch',
      },
    });
    // The CloudWatch eventId (moto numbers them; AWS uses 56-digit ids).
    expect(r?.meta.id).toMatch(/^\d+$/);
    const cp = await src.readCheckpoint();
    expect(Object.keys(cp?.groups ?? {}).sort()).toEqual([`/${run}/eks/api`, `/${run}/eks/audit`]);
    for (const g of Object.values(cp?.groups ?? {})) expect(g.doneUntil).toBeGreaterThanOrEqual(NOW);
  }, 120_000);

  it('produces the records a subscription delivers for the same events (ids, group, stream, owner)', async () => {
    const kinesis = new KinesisClient(
      clientConfig('kinesis', { endpoint: url, maxAttempts: 3 }) as KinesisClientConfig,
    );
    const group = `/${run}/subscribed`;
    const streamName = `${run}-sub`;
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 1 }));
    const desc = await kinesis.send(new DescribeStreamCommand({ StreamName: streamName }));
    await logs.send(
      new PutSubscriptionFilterCommand({
        logGroupName: group,
        filterName: 'to-kinesis',
        filterPattern: '',
        destinationArn: desc.StreamDescription?.StreamARN,
        roleArn: 'arn:aws:iam::123456789012:role/cwl-to-kinesis',
      }),
    );
    await putEvents(group, 'app-1', 40, NOW - 10 * 60_000, 5_000);
    // What the subscription delivered, decoded the way every home decodes it.
    const shardId = desc.StreamDescription?.Shards?.[0]?.ShardId;
    const it0 = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const got = await kinesis.send(new GetRecordsCommand({ ShardIterator: it0.ShardIterator }));
    const live = (got.Records ?? []).flatMap((rec) => {
      const d = decodeGzipPayload(rec.Data ?? new Uint8Array());
      return d.ok && d.message.messageType === 'DATA_MESSAGE' ? toRecords(d.message, 'kinesis', '') : [];
    });
    kinesis.destroy();
    expect(live).toHaveLength(40);

    const sink = new MemorySink();
    await backfill(source({ logGroups: [group] }), sink);
    const pick = (r: LogRecord) => [
      r.meta.logGroup,
      r.meta.logStream,
      r.meta.id,
      r.meta.owner,
      r.timestamp,
      r.message,
    ];
    expect([...sink.docs.values()].map(pick).sort()).toEqual(live.map(pick).sort());
  }, 120_000);

  it('checkpoints only delivered windows; a rerun resumes there and nothing is lost', async () => {
    const sink = new MemorySink();
    const name = `resume-${run}`;
    // A record in the third window (of five) fails: windows 1-2 are checkpointed, not 3.
    sink.failOnce.add(`/${run}/eks/audit audit-1 event 130`);
    const first = source({ logGroups: [`/${run}/eks/audit`] }, url, name);
    const r1 = await backfill(first, sink);
    expect(r1.tally.total.failed).toBeGreaterThan(0);
    const cp1 = await first.readCheckpoint();
    const done1 = cp1?.groups[`/${run}/eks/audit`].doneUntil as number;
    const failedAt = T0 + 130 * 11_000;
    expect(done1).toBeLessThanOrEqual(failedAt);
    expect(done1).toBeGreaterThan(T0 - 60_000);

    sink.failOnce.clear();
    const sentBefore = sink.sent;
    const second = source({ logGroups: [`/${run}/eks/audit`] }, url, name);
    const r2 = await backfill(second, sink);
    expect(r2.tally.total.failed).toBe(0);
    expect(sink.docs.size).toBe(250);
    // Only the windows from the checkpoint on were read again.
    expect(r2.tally.total.received).toBe([...sink.docs.values()].filter((d) => d.timestamp >= done1).length);
    expect(sink.sent - sentBefore).toBe(r2.tally.total.received);
    // A third run has nothing left in the range.
    const third = source({ logGroups: [`/${run}/eks/audit`] }, url, name);
    const r3 = await backfill(third, sink);
    expect(r3.tally.total.received).toBe(0);
  }, 120_000);

  it('backs off on ThrottlingException and still reads everything; refuses an unknown group with a sentence', async () => {
    let throttled = 0;
    const proxy: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        if (target.endsWith('.FilterLogEvents') && throttled < 4) {
          throttled++;
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
          return;
        }
        const u = new URL(url);
        const up = httpRequest(
          { host: u.hostname, port: u.port, method: req.method, path: req.url, headers: req.headers },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        up.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const sink = new MemorySink();
      const src = source({ logGroups: [`/${run}/lambda/orders`] }, endpoint);
      await backfill(src, sink);
      expect(throttled).toBe(4);
      expect(src.stats.throttled).toBe(4);
      expect(sink.docs.size).toBe(120);

      const missing = source({ logGroups: [`/${run}/does-not-exist`] });
      const res = await runDaemon({
        sources: [missing],
        transforms: [],
        sinks: [{ name: 'mem', sink: new MemorySink() }],
        log: silentLogger,
      });
      expect(res.sourceErrors[0]?.error).toMatch(/log group \/.*\/does-not-exist does not exist/);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  }, 120_000);
});
