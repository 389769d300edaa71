import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataMessage } from '../src/aws/cloudwatch-payload.js';
import { DemoGenerator } from '../src/sources/demo.js';
import type { KinesisBatchResponse, KinesisEvent, KinesisEventRecord } from '../src/sources/kinesis-event.js';
import { type FaultProxy, startFaultProxy } from './infra/fault-proxy.js';
import { motoUrl, opensearchUrl } from './infra/services.js';

const root = new URL('..', import.meta.url).pathname;
const unique = `e1k${Date.now().toString(36)}`;
const ARN = `arn:aws:kinesis:us-east-1:123456789012:stream/${unique}`;
const SSM_TOKEN = `SsmToken-${unique}-Zq81xW`;
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const PASSWORD = `hunter2-${unique}-pw`;
const BATCH = 8;
/** Remaining time each invocation starts with (LOGFERRY_DEADLINE_SAFETY_MS=1000 of it is kept back). */
const INVOCATION_BUDGET_MS = 7_000;

type Handler = (
  event: KinesisEvent,
  context: { getRemainingTimeInMillis(): number; awsRequestId: string },
) => Promise<KinesisBatchResponse>;

interface ShardRecord {
  rec: KinesisEventRecord;
  /** Event keys (logGroup\0logStream\0id) this record carries, if it decodes. */
  events: string[];
  malformed?: string;
  control?: boolean;
  /** Event keys OpenSearch refuses for good (dead-lettered with the record). */
  refused?: string[];
}

let proxy: FaultProxy;
let handler: Handler;
let queueUrl: string;
let sqs: SQSClient;
let s3: S3Client;
const logLines: string[] = [];
const savedEnv = { ...process.env };

function seqNo(shard: number, n: number) {
  return `4959${shard}${String(n).padStart(51, '0')}`;
}

function kinesisRecord(shard: number, n: number, data: string): KinesisEventRecord {
  const sequenceNumber = seqNo(shard, n);
  return {
    eventID: `shardId-00000000000${shard}:${sequenceNumber}`,
    eventSourceARN: ARN,
    kinesis: {
      sequenceNumber,
      partitionKey: `pk-${n}`,
      data,
      approximateArrivalTimestamp: Date.now() / 1000,
    },
  };
}

const keyOf = (m: DataMessage, id: string) => `${m.logGroup}\u0000${m.logStream}\u0000${id}`;

/** Two shards of realistic traffic, control messages, malformed records and secret-bearing events. */
function buildShards(): ShardRecord[][] {
  const shards: ShardRecord[][] = [[], []];
  const gen = new DemoGenerator({ seed: 7, eventsPerEnvelope: 12, controlEvery: 9, totalEnvelopes: 40 });
  for (let i = 0; i < 40; i++) {
    const shard = i % 2;
    const msg = gen.nextMessage();
    const data = gzipSync(JSON.stringify(msg)).toString('base64');
    const rec = kinesisRecord(shard, shards[shard].length, data);
    if (msg.messageType === 'CONTROL_MESSAGE') shards[shard].push({ rec, events: [], control: true });
    else shards[shard].push({ rec, events: msg.logEvents.map((e) => keyOf(msg, e.id)) });
  }
  const secretMsg: DataMessage = {
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: '/aws/lambda/orders-api',
    logStream: '2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef',
    subscriptionFilters: ['to-kinesis'],
    logEvents: [
      { id: `${unique}-s1`, timestamp: Date.now() - 5000, message: `calling search with token ${SSM_TOKEN}` },
      { id: `${unique}-s2`, timestamp: Date.now() - 4000, message: `using key ${AWS_KEY} for s3` },
      {
        id: `${unique}-s3`,
        timestamp: Date.now() - 3000,
        message: JSON.stringify({ level: 'info', user: 'ann', password: PASSWORD }),
      },
    ],
  };
  const add = (shard: number, data: string, extra: Partial<ShardRecord>) =>
    shards[shard].splice(5, 0, { rec: kinesisRecord(shard, 0, data), events: [], ...extra });
  add(0, gzipSync(JSON.stringify(secretMsg)).toString('base64'), {
    events: secretMsg.logEvents.map((e) => keyOf(secretMsg, e.id)),
  });
  // Binary that is neither gzip/zlib nor UTF-8 text (plain text would be a record: format auto).
  add(0, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0xff, 0x00]).toString('base64'), {
    malformed: 'ENVELOPE_INVALID_UTF8',
  });
  // A 300 KB message: the index maps @message as keyword, so OpenSearch refuses it as an immense
  // term (in the safe form too); the record is dead-lettered, and too large for one SQS message.
  const hugeMsg: DataMessage = {
    ...secretMsg,
    logStream: 'ecs/app/0123456789abcdef0123456789abcdef',
    logGroup: '/ecs/storefront',
    logEvents: [
      { id: `${unique}-h1`, timestamp: Date.now() - 2000, message: 'small neighbour line' },
      { id: `${unique}-h2`, timestamp: Date.now() - 1000, message: 'lorem ipsum '.repeat(25_000) },
    ],
  };
  add(0, gzipSync(JSON.stringify(hugeMsg)).toString('base64'), {
    events: [keyOf(hugeMsg, `${unique}-h1`)],
    refused: [keyOf(hugeMsg, `${unique}-h2`)],
  });
  add(1, 'this is *not* base64!', { malformed: 'ENVELOPE_BAD_BASE64' });
  const full = gzipSync(
    JSON.stringify({ ...secretMsg, logEvents: [{ id: 'x', timestamp: 1, message: 'cut short' }] }),
  );
  add(1, full.subarray(0, full.length - 10).toString('base64'), { malformed: 'ENVELOPE_GZIP_TRUNCATED' });
  add(1, gzipSync('{"messageType":"SURPRISE"}').toString('base64'), { malformed: 'ENVELOPE_UNKNOWN_TYPE' });
  // Renumber so sequence numbers increase in shard order.
  shards.forEach((list, s) => {
    list.forEach((r, n) => {
      const sequenceNumber = seqNo(s, n);
      r.rec.kinesis!.sequenceNumber = sequenceNumber;
      r.rec.eventID = `shardId-00000000000${s}:${sequenceNumber}`;
    });
  });
  return shards;
}

beforeAll(async () => {
  // dist/ is built once by test/global-setup.ts; import a private copy of the bundle.
  const dir = mkdtempSync(join(tmpdir(), 'lf-kinesis-bundle-'));
  cpSync(join(root, 'dist', 'lambda', 'kinesis'), dir, { recursive: true });

  const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const aws = { endpoint: motoUrl(), region: 'us-east-1', credentials: creds };
  sqs = new SQSClient(aws);
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${unique}-dlq` }))).QueueUrl!;
  s3 = new S3Client({ ...aws, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: `${unique}-dlq` }));
  await new SSMClient(aws).send(
    new PutParameterCommand({
      Name: `/logferry/${unique}/opensearch-password`,
      Value: SSM_TOKEN,
      Type: 'SecureString',
    }),
  );

  const template = await fetch(`${opensearchUrl()}/_index_template/${unique}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      index_patterns: [`${unique}-*`],
      template: { mappings: { properties: { '@message': { type: 'keyword' } } } },
    }),
  });
  expect(template.ok).toBe(true);

  proxy = await startFaultProxy(opensearchUrl(), {
    seed: 11,
    itemThrottleRate: 0.15,
    requestFailRate: 0.08,
    resetRate: 0.06,
    // A slowed request outlives the invocation's deadline: the handler must give up and report it.
    slowRate: 0.1,
    slowMs: 8_000,
    maxFaults: 400,
  });

  Object.assign(process.env, {
    LOGFERRY_OPENSEARCH_URL: proxy.url,
    LOGFERRY_OPENSEARCH_USERNAME: 'ferry',
    LOGFERRY_OPENSEARCH_PASSWORD: `ssm:/logferry/${unique}/opensearch-password`,
    LOGFERRY_INDEX: `${unique}-YYYY.MM.dd`,
    LOGFERRY_DLQ: queueUrl,
    LOGFERRY_DLQ_OVERFLOW_S3_URL: `s3://${unique}-dlq/overflow`,
    LOGFERRY_AWS_ENDPOINT: motoUrl(),
    LOGFERRY_DEADLINE_SAFETY_MS: '1000',
    LOGFERRY_LOG_LEVEL: 'info',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  });
  delete process.env.LOGFERRY_CONFIG;
  delete process.env.LOGFERRY_CONFIG_PARAMETER;
  const mod = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as { handler: Handler };
  handler = mod.handler;
}, 300_000);

afterAll(async () => {
  await proxy?.stop();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

/** Invokes the handler with stdout captured (the bundle logs JSON lines there). */
async function invoke(event: KinesisEvent, budgetMs: number, id: string): Promise<KinesisBatchResponse> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    logLines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  const end = Date.now() + budgetMs;
  try {
    return await handler(event, { getRemainingTimeInMillis: () => end - Date.now(), awsRequestId: id });
  } finally {
    process.stdout.write = write;
  }
}

async function search(index: string) {
  const base = opensearchUrl();
  await fetch(`${base}/${index}/_refresh`, { method: 'POST' });
  const res = await fetch(`${base}/${index}/_search?size=10000`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: { match_all: {} } }),
  });
  const body = (await res.json()) as { hits: { hits: { _id: string; _source: Record<string, unknown> }[] } };
  return body.hits.hits;
}

async function drainQueue(): Promise<{ body: Record<string, unknown>; raw: string }[]> {
  const out: { body: Record<string, unknown>; raw: string }[] = [];
  for (let empty = 0; empty < 3; ) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    const msgs = r.Messages ?? [];
    if (msgs.length === 0) {
      empty++;
      continue;
    }
    for (const m of msgs) out.push({ body: JSON.parse(m.Body ?? '{}'), raw: m.Body ?? '' });
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: msgs.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return out;
}

describe('Kinesis Lambda bundle against OpenSearch through faults', () => {
  it('lands every event exactly once or dead-letters its record, redriving as Lambda does; no secret leaks', async () => {
    const shards = buildShards();
    const pointers = shards.map(() => 0);
    let invocations = 0;
    let redrives = 0;
    while (pointers.some((p, s) => p < shards[s].length)) {
      expect(invocations, `no progress; last summaries:\n${logLines.slice(-3).join('')}`).toBeLessThan(300);
      for (let s = 0; s < shards.length; s++) {
        if (pointers[s] >= shards[s].length) continue;
        const batch = shards[s].slice(pointers[s], pointers[s] + BATCH);
        invocations++;
        const res = await invoke(
          { Records: batch.map((r) => r.rec) },
          INVOCATION_BUDGET_MS,
          `inv-${invocations}`,
        );
        const failed = res.batchItemFailures.map((f) => f.itemIdentifier);
        expect(failed.length).toBeLessThanOrEqual(1);
        if (failed.length === 0) {
          pointers[s] += batch.length;
          continue;
        }
        // Lambda checkpoints before the lowest reported sequence number and retries from it.
        const at = batch.findIndex((r) => r.rec.kinesis?.sequenceNumber === failed[0]);
        expect(at).toBeGreaterThanOrEqual(0);
        pointers[s] += at;
        redrives++;
      }
    }
    expect(redrives).toBeGreaterThan(0);
    expect(
      proxy.stats.itemsThrottled +
        proxy.stats.requestsFailed +
        proxy.stats.resetsBefore +
        proxy.stats.resetsAfter,
    ).toBeGreaterThan(0);

    // Every event of every decodable record is in the index exactly once.
    const expected = new Set(shards.flat().flatMap((r) => r.events));
    const hits = await search(`${unique}-*`);
    const seen = new Map<string, number>();
    for (const h of hits) {
      const src = h._source;
      const log = String(src['@log']);
      const group = log.slice(log.indexOf(':') + 1);
      const k = `${group}\u0000${src['@logStream']}\u0000${src['@id']}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    expect(new Set(hits.map((h) => h._id)).size).toBe(hits.length);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(seen.size).toBe(expected.size);
    for (const k of expected) expect(seen.has(k)).toBe(true);

    // Every malformed record is in the dead-letter queue with its reason and original payload.
    const dlq = await drainQueue();
    const bad = shards.flat().filter((r) => r.malformed);
    for (const r of bad) {
      const m = dlq.find((d) => d.body.ackId === r.rec.kinesis?.sequenceNumber);
      expect(m?.body).toMatchObject({
        code: r.malformed,
        source: 'kinesis-event',
        payload: r.rec.kinesis?.data,
      });
      expect(String(m?.body.reason).length).toBeGreaterThan(5);
    }
    // Records OpenSearch refused for good are dead-lettered with the reason; the 300 KB one went to
    // S3 behind a pointer because it does not fit an SQS message.
    const refused = shards.flat().filter((r) => r.refused);
    for (const r of refused) {
      const m = dlq.find(
        (d) => d.body.ackId === r.rec.kinesis?.sequenceNumber && d.body.id === `${unique}-h2`,
      );
      expect(m?.body).toMatchObject({
        code: 'illegal_argument_exception',
        source: 'kinesis-event',
        logGroup: '/ecs/storefront',
      });
      expect(String(m?.body.reason)).toMatch(/immense term/);
      const ov = m?.body.overflow as { bucket: string; key: string };
      const obj = await s3.send(new GetObjectCommand({ Bucket: ov.bucket, Key: ov.key }));
      const full = JSON.parse(await obj.Body!.transformToString());
      expect(full.record.message).toHaveLength(300_000);
      for (const k of r.refused ?? []) expect(seen.has(k)).toBe(false);
    }
    // A redrive may dead-letter an entry again (at-least-once), never a different one.
    expect(new Set(dlq.map((d) => `${d.body.ackId}/${d.body.id ?? ''}`)).size).toBe(
      bad.length + refused.length,
    );

    // No secret anywhere: documents, dead letters, logs.
    const everything = [JSON.stringify(hits), ...dlq.map((d) => d.raw), ...logLines].join('\n');
    for (const secret of [SSM_TOKEN, AWS_KEY, PASSWORD]) expect(everything).not.toContain(secret);
    const masked = hits.filter((h) => String(h._source['@id']).startsWith(`${unique}-s`));
    expect(masked).toHaveLength(3);
    expect(masked.map((h) => String(h._source['@message'])).join('\n')).toContain('****');

    // One summary line per invocation, with counts, and nothing per record.
    const summaries = logLines.filter((l) => l.includes('"msg":"kinesis batch'));
    expect(summaries).toHaveLength(invocations);
    expect(JSON.parse(summaries[0])).toMatchObject({
      level: expect.any(String),
      envelopes: { received: expect.any(Number) },
    });
  }, 600_000);
});
