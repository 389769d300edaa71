/**
 * `logferry run --once` over a Kinesis stream (kinesis-local): reads every shard to the tip and
 * exits; the checkpoint in dataDir makes the next --once read only what was put since.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  type KinesisClientConfig,
  ListShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig } from '../src/aws/clients.js';
import { encodeCloudWatchPayload } from '../src/aws/cloudwatch-payload.js';
import { buildCliBundle } from './infra/cli-bundle.js';
import { walk } from './infra/cli-daemon.js';
import { kinesisUrl } from './infra/services.js';

const root = mkdtempSync(join(tmpdir(), 'lf-kinesis-once-'));
const buildDir = join(
  new URL('..', import.meta.url).pathname,
  'node_modules',
  '.cache',
  `logferry-kinesis-once-${process.pid}`,
);
const cli = join(buildDir, 'cli', 'logferry.mjs');
let url: string;
let kinesis: KinesisClient;

beforeAll(async () => {
  url = kinesisUrl();
  kinesis = new KinesisClient(
    clientConfig('kinesis', { endpoint: url, maxAttempts: 3 }) as KinesisClientConfig,
  );
  await buildCliBundle(buildDir);
}, 120_000);
afterAll(() => {
  kinesis?.destroy();
  rmSync(root, { recursive: true, force: true });
  rmSync(buildDir, { recursive: true, force: true });
});

function payload(i: number): Uint8Array {
  return encodeCloudWatchPayload({
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: '/aws/lambda/orders',
    logStream: '2026/12/05/[$LATEST]abc',
    subscriptionFilters: ['to-kinesis'],
    logEvents: [0, 1].map((k) => ({
      id: `e${i}-${k}`,
      timestamp: 1_764_900_000_000 + i,
      message: `event ${i}/${k}`,
    })),
  });
}

async function waitActive(stream: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`stream ${stream} did not become ACTIVE`);
}

async function put(stream: string, from: number, n: number, hashKey?: (k: number) => string): Promise<void> {
  const Records = Array.from({ length: n }, (_, k) => ({
    Data: payload(from + k),
    PartitionKey: `pk-${from + k}`,
    ...(hashKey ? { ExplicitHashKey: hashKey(k) } : {}),
  }));
  const res = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records }));
  expect(res.FailedRecordCount ?? 0).toBe(0);
}

function runOnce(cwd: string) {
  const r = spawnSync(process.execPath, [cli, 'run', 'k.yaml', '--once', '--json'], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      LOGFERRY_OPENSEARCH_URL: '',
      LOGFERRY_S3_URL: '',
      LOGFERRY_DLQ: '',
    },
  });
  const lines = r.stderr.trim().split('\n');
  return { code: r.status, stderr: r.stderr, stdout: r.stdout, summary: JSON.parse(lines[lines.length - 1]) };
}

describe('kinesis --once', () => {
  it('reads every shard to the tip and exits; the next run reads only what was put since', async () => {
    const stream = `once-${process.pid}-${Date.now()}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
    for (let i = 0; i < 100; i++) {
      const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
      if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await put(stream, 0, 60);
    const dir = mkdtempSync(join(root, 'k-'));
    writeFileSync(
      join(dir, 'k.yaml'),
      [
        'dataDir: ./data',
        'sources:',
        `  stream: { type: kinesis, stream: ${stream}, endpoint: "${url}", pollIntervalMs: 200 }`,
        'sinks:',
        '  archive: { type: s3, url: ./archive, maxAgeMs: 100 }',
        '',
      ].join('\n'),
    );
    const first = runOnce(dir);
    expect(first.stderr).not.toMatch(/"level":"error"/);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('');
    expect(first.summary.events.delivered).toBe(120);
    expect(first.summary.interrupted).toBe(false);
    // The checkpoint defaults to the source's state directory.
    expect(existsSync(join(dir, 'data', 'state', 'stream', 'checkpoint.json'))).toBe(true);

    const empty = runOnce(dir);
    expect(empty.code).toBe(0);
    expect(empty.summary.events.received).toBe(0);

    await put(stream, 60, 10);
    const more = runOnce(dir);
    expect(more.code).toBe(0);
    expect(more.summary.events.delivered).toBe(20);

    const ids = walk(join(dir, 'archive'))
      .filter((f) => f.endsWith('.gz'))
      .flatMap((f) => gunzipSync(readFileSync(f)).toString('utf8').trimEnd().split('\n'))
      .map((l) => JSON.parse(l)['@id']);
    expect(new Set(ids).size).toBe(140);
    expect(ids).toHaveLength(140);
  }, 180_000);

  it('reads a split shard to its end and then both children, and ends', async () => {
    const stream = `once-split-${process.pid}-${Date.now()}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    await waitActive(stream);
    await put(stream, 0, 10);
    const shards = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
    await kinesis.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: shards.Shards?.[0]?.ShardId as string,
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitActive(stream);
    await put(stream, 10, 10, (k) => (k % 2 === 0 ? '1' : (2n ** 128n - 2n).toString()));
    const dir = mkdtempSync(join(root, 'split-'));
    writeFileSync(
      join(dir, 'k.yaml'),
      [
        'dataDir: ./data',
        'sources:',
        `  stream: { type: kinesis, stream: ${stream}, endpoint: "${url}", pollIntervalMs: 200 }`,
        'sinks:',
        '  archive: { type: s3, url: ./archive, maxAgeMs: 100 }',
        '',
      ].join('\n'),
    );
    const r = runOnce(dir);
    expect(r.stderr).not.toMatch(/"level":"error"/);
    expect(r.code).toBe(0);
    expect(r.summary.events.delivered).toBe(40);
  }, 180_000);
});
