/**
 * The handlers as Lambda runs them: each built directory (dist/lambda/<name>/, handler
 * `index.handler`, with its code-split chunks) is started by the Lambda Runtime Interface Emulator
 * through the Node.js runtime interface client (test/infra/lambda-rie.ts) and invoked over the
 * RIE's HTTP API, against the real services of the test setup:
 *   - firehose: a transformation event (gzip CloudWatch payloads, a control message, a malformed
 *     record) → the `records` answer;
 *   - kinesis: CloudWatch payloads → OpenSearch (`batchItemFailures`), a malformed record to the
 *     dead-letter file;
 *   - subscription: `{"awslogs":{"data":…}}` → the S3 sink on moto;
 *   - sqs: an S3 notification → the object read from moto's S3 → the archive (local directory).
 * Configuration comes from LOGFERRY_CONFIG / shorthand variables in the function's environment, as
 * on Lambda.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlMessage, encodeCloudWatchPayload } from '../src/aws/cloudwatch-payload.js';
import { walk } from './infra/cli-daemon.js';
import { ensureRic, ensureRie, startLambda, type RunningLambda } from './infra/lambda-rie.js';
import { motoUrl, opensearchUrl } from './infra/services.js';

const root = new URL('..', import.meta.url).pathname;
const unique = `rie-${process.pid}-${Date.now().toString(36)}`;
let work: string;
const running: RunningLambda[] = [];

beforeAll(() => {
  // The first run on a machine builds the RIE and installs (compiles) the RIC: that belongs to the
  // setup, under the hook's long timeout, not to the first test's 60 s.
  ensureRie();
  ensureRic();
  work = mkdtempSync(join(tmpdir(), 'logferry-rie-'));
  // A private copy: dist/ may be rebuilt by another test file while this one runs.
  for (const h of ['firehose', 'kinesis', 'subscription', 'sqs'])
    cpSync(join(root, 'dist', 'lambda', h), join(work, 'bundles', h), { recursive: true });
}, 900_000);
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
  rmSync(work, { recursive: true, force: true });
});

async function lambda(name: string, env: NodeJS.ProcessEnv, timeoutSeconds?: number): Promise<RunningLambda> {
  const r = await startLambda(
    join(work, 'bundles', name),
    { LOGFERRY_LOG_LEVEL: 'warn', ...env },
    { timeoutSeconds },
  );
  running.push(r);
  return r;
}

function cwPayload(logGroup: string, logStream: string, messages: string[], t0 = Date.now()) {
  return gzipSync(
    JSON.stringify({
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup,
      logStream,
      subscriptionFilters: ['logferry'],
      logEvents: messages.map((message, i) => ({
        id: `${t0 + i}${String(i).padStart(20, '0')}`.slice(0, 56),
        timestamp: t0 + i,
        message,
      })),
    }),
  );
}

/** One Kinesis event record of shard 0 carrying `data`, as Lambda delivers it. */
const rec = (seq: string, data: Buffer) => ({
  eventSource: 'aws:kinesis',
  eventID: `shardId-000000000000:${seq}`,
  eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/logs',
  awsRegion: 'us-east-1',
  kinesis: {
    partitionKey: 'p',
    sequenceNumber: seq,
    data: data.toString('base64'),
    approximateArrivalTimestamp: Date.now() / 1000,
  },
});

const CONTROL = encodeCloudWatchPayload(controlMessage(Date.now()));

const s3 = () =>
  new S3Client({
    endpoint: motoUrl(),
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

describe('built Lambda bundles under the Runtime Interface Emulator', () => {
  it('firehose: answers every recordId (Ok with the messages, Dropped control, ProcessingFailed malformed)', async () => {
    const fn = await lambda('firehose', {});
    const event = {
      invocationId: 'inv-1',
      deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/logs',
      region: 'us-east-1',
      records: [
        {
          recordId: 'r-data',
          approximateArrivalTimestamp: Date.now(),
          data: cwPayload('/aws/eks/prod/cluster', 'kube-apiserver-abc', [
            'first line',
            'second line',
          ]).toString('base64'),
        },
        { recordId: 'r-control', approximateArrivalTimestamp: Date.now(), data: CONTROL.toString('base64') },
        {
          recordId: 'r-bad',
          approximateArrivalTimestamp: Date.now(),
          data: Buffer.from('this is not a gzip CloudWatch payload').toString('base64'),
        },
      ],
    };
    const r = await fn.invoke(event);
    expect(r.status, fn.output()).toBe(200);
    const records = (r.body as { records: { recordId: string; result: string; data?: string }[] }).records;
    expect(records.map((x) => x.recordId).sort()).toEqual(['r-bad', 'r-control', 'r-data']);
    const by = new Map(records.map((x) => [x.recordId, x]));
    expect(by.get('r-data')?.result).toBe('Ok');
    expect(Buffer.from(by.get('r-data')?.data ?? '', 'base64').toString('utf8')).toBe(
      'first line\nsecond line\n',
    );
    expect(by.get('r-control')?.result).toBe('Dropped');
    expect(by.get('r-bad')?.result).toBe('ProcessingFailed');
  }, 60_000);

  it('firehose: answers a big invocation on worker threads (the bundled firehose-worker.mjs)', async () => {
    const fn = await lambda('firehose', {
      LOGFERRY_LOG_LEVEL: 'info',
      LOGFERRY_CONFIG: JSON.stringify({ firehose: { workers: 'auto' } }),
    });
    // ~40 KB of gzip per record (hex does not compress much): over the main-thread threshold.
    const messages = Array.from({ length: 6 }, (_, r) =>
      Array.from({ length: 300 }, (_, i) => `record ${r} line ${i} ${randomBytes(96).toString('hex')}`),
    );
    const event = {
      invocationId: 'inv-workers',
      deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/logs',
      region: 'us-east-1',
      records: [
        ...messages.map((m, r) => ({
          recordId: `r-${r}`,
          approximateArrivalTimestamp: Date.now(),
          data: cwPayload('/aws/eks/prod/cluster', `kube-apiserver-${r}`, m).toString('base64'),
        })),
        { recordId: 'r-control', approximateArrivalTimestamp: Date.now(), data: CONTROL.toString('base64') },
        {
          recordId: 'r-bad',
          approximateArrivalTimestamp: Date.now(),
          data: Buffer.from('nope').toString('base64'),
        },
      ],
    };
    // The first big invocation is answered on the main thread while the workers start; once they
    // are up, the next one goes to them (its summary line says `workers`).
    const check = (r: { status: number; body: unknown }) => {
      expect(r.status, fn.output()).toBe(200);
      const records = (r.body as { records: { recordId: string; result: string; data?: string }[] }).records;
      expect(records.map((x) => x.recordId)).toEqual(event.records.map((x) => x.recordId));
      messages.forEach((m, i) => {
        expect(records[i].result).toBe('Ok');
        expect(Buffer.from(records[i].data ?? '', 'base64').toString('utf8')).toBe(`${m.join('\n')}\n`);
      });
      expect(records[6].result).toBe('Dropped');
      expect(records[7].result).toBe('ProcessingFailed');
      return JSON.stringify(r.body);
    };
    const first = check(await fn.invoke(event));
    for (let i = 0; i < 300 && !/firehose workers started/.test(fn.output()); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(fn.output()).toMatch(/firehose workers started/);
    expect(check(await fn.invoke(event))).toBe(first);
    // `auto` starts one worker per CPU beyond the main thread, which answers slices too.
    expect(fn.output()).toMatch(
      new RegExp(`"msg":"firehose transformation".*"workers":${availableParallelism() - 1}[,}]`),
    );
  }, 120_000);

  it('kinesis: ships to OpenSearch, answers batchItemFailures, dead-letters a malformed record', async () => {
    const index = `${unique}-kinesis`;
    const dlq = join(work, 'kinesis-dead-letter');
    const fn = await lambda('kinesis', {
      LOGFERRY_OPENSEARCH_URL: opensearchUrl(),
      LOGFERRY_INDEX: index,
      LOGFERRY_DLQ: `file://${dlq}`,
    });
    const msgs = ['alpha one', 'alpha two', 'alpha three'];
    const r = await fn.invoke({
      Records: [
        rec('100', cwPayload('/aws/lambda/orders', '2026/12/06/[$LATEST]abc', msgs)),
        rec('101', CONTROL),
        rec('102', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02])), // a truncated gzip stream
      ],
    });
    expect(r.status, fn.output()).toBe(200);
    expect(r.body).toEqual({ batchItemFailures: [] });
    const base = opensearchUrl();
    await fetch(`${base}/${index}/_refresh`, { method: 'POST' });
    const res = await fetch(`${base}/${index}/_search?size=100`);
    const hits = ((await res.json()) as { hits: { hits: { _source: { '@message': string } }[] } }).hits.hits;
    expect(hits.map((h) => h._source['@message']).sort()).toEqual([...msgs].sort());
    const dead = walk(dlq)
      .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
      .filter(Boolean);
    expect(dead.length).toBe(1);
    expect(dead[0]).toContain('102');
  }, 60_000);

  it('kinesis: lists the records it could not deliver before the deadline in batchItemFailures', async () => {
    // A closed port: every send fails until the deadline (8 s timeout, 5 s safety margin).
    const fn = await lambda(
      'kinesis',
      { LOGFERRY_OPENSEARCH_URL: 'http://127.0.0.1:9', LOGFERRY_INDEX: `${unique}-down` },
      8,
    );
    const r = await fn.invoke({
      Records: ['200', '201'].map((seq, i) => rec(seq, cwPayload('/aws/lambda/orders', 's', [`down ${i}`]))),
    });
    expect(r.status, fn.output()).toBe(200);
    // Kinesis checkpoints up to the first failure: the answer names the first undelivered record.
    const failures = (r.body as { batchItemFailures: { itemIdentifier: string }[] }).batchItemFailures;
    expect(failures.length, fn.output()).toBeGreaterThan(0);
    expect(failures[0].itemIdentifier).toBe('200');
  }, 60_000);

  it('subscription: an awslogs event lands in the S3 sink on moto', async () => {
    const bucket = `${unique}-sub`;
    const client = s3();
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const fn = await lambda('subscription', {
      LOGFERRY_AWS_ENDPOINT: motoUrl(),
      LOGFERRY_CONFIG: JSON.stringify({
        sinks: [{ type: 's3', url: `s3://${bucket}/archive`, maxAgeMs: 0 }],
        deadLetter: { type: 'file', path: join(work, 'subscription-dead-letter') },
      }),
    });
    const msgs = ['sub one', 'sub two'];
    const r = await fn.invoke({
      awslogs: {
        data: cwPayload('/aws/lambda/payments', '2026/12/06/[$LATEST]def', msgs).toString('base64'),
      },
    });
    expect(r.status, fn.output()).toBe(200);
    expect(r.text, fn.output()).not.toContain('errorMessage');
    const list = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'archive/' }));
    const lines: string[] = [];
    for (const o of list.Contents ?? []) {
      const obj = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
      const body = Buffer.from(
        await (obj.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
      lines.push(...gunzipSync(body).toString('utf8').split('\n').filter(Boolean));
    }
    expect(lines.map((l) => JSON.parse(l)['@message']).sort()).toEqual(msgs);
    client.destroy();
  }, 60_000);

  it('sqs: an S3 notification makes it read the object from moto S3 and ship its lines', async () => {
    const bucket = `${unique}-sqs`;
    const client = s3();
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const key = 'incoming/app.log.gz';
    const lines = ['{"level":"info","msg":"object line one"}', '{"level":"warn","msg":"object line two"}'];
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(`${lines.join('\n')}\n`) }),
    );
    const archive = join(work, 'sqs-archive');
    const fn = await lambda('sqs', {
      LOGFERRY_AWS_ENDPOINT: motoUrl(),
      LOGFERRY_CONFIG: JSON.stringify({
        sinks: [{ type: 's3', url: archive, maxAgeMs: 0 }],
        deadLetter: { type: 'file', path: join(work, 'sqs-dead-letter') },
      }),
    });
    const notification = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: new Date().toISOString(),
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: bucket }, object: { key, size: 100 } },
        },
      ],
    };
    const r = await fn.invoke({
      Records: [
        {
          messageId: 'm-1',
          receiptHandle: 'AQEB',
          body: JSON.stringify(notification),
          attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
          messageAttributes: {},
          eventSource: 'aws:sqs',
          eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:logs',
          awsRegion: 'us-east-1',
        },
      ],
    });
    expect(r.status, fn.output()).toBe(200);
    expect(r.body, fn.output()).toEqual({ batchItemFailures: [] });
    const shipped = walk(archive)
      .filter((f) => f.endsWith('.gz'))
      .flatMap((f) => gunzipSync(readFileSync(f)).toString('utf8').split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l)['@message'] as string);
    expect(shipped.sort()).toEqual([...lines].sort());
    client.destroy();
  }, 60_000);
});
