/**
 * `logferry replay` from the command line (the CLI from source, in a temp directory): dead-letter
 * entries in the file store's format (a rejected record, the safe base64 form of an entry JSON could
 * not hold, a malformed envelope whose payload decodes now, one that still does not, a control
 * message, a line that is not an entry) and in the SQS store's format on moto (one entry behind an
 * S3 overflow pointer) are re-run through a config's pipeline: `--dry-run` lists them and changes
 * nothing; a replay delivers what can be delivered to the config's sinks, sends what fails again to
 * the config's dead-letter store with the new reason, balances its summary, and settles SQS messages.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeadLetter, serializeDeadLetter } from '../src/core/dead-letter.js';
import { SqsDeadLetterSink } from '../src/sinks/sqs.js';
import { motoUrl } from './infra/services.js';
import { walk } from './infra/cli-daemon.js';

const root = new URL('..', import.meta.url).pathname;
const main = join(root, 'src', 'cli', 'main.ts');
const tsx = import.meta.resolve('tsx');
let dir: string;

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', tsx, main, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, LOGFERRY_OPENSEARCH_URL: '', LOGFERRY_S3_URL: '', LOGFERRY_DLQ: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Messages in the archive (gzip NDJSON documents). */
function archived(out: string): string[] {
  let files: string[] = [];
  try {
    files = walk(out).filter((f) => f.endsWith('.gz'));
  } catch {
    return [];
  }
  return files.flatMap((f) =>
    gunzipSync(readFileSync(f))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => String(JSON.parse(l)['@message'])),
  );
}

function deadLetters(path: string): Record<string, unknown>[] {
  let files: string[] = [];
  try {
    files = walk(path);
  } catch {
    return [];
  }
  return files.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );
}

const AT = '2026-12-05T10:00:00.000Z';
const payload = (events: { id: string; message: string }[], type = 'DATA_MESSAGE') =>
  gzipSync(
    JSON.stringify({
      messageType: type,
      owner: '123456789012',
      logGroup: '/aws/lambda/orders',
      logStream: '2026/12/05/[$LATEST]0123456789abcdef0123456789abcdef',
      subscriptionFilters: ['f'],
      logEvents: events.map((e, i) => ({ ...e, timestamp: 1_764_928_800_000 + i })),
    }),
  ).toString('base64');

function entry(over: Partial<DeadLetter>): DeadLetter {
  return {
    code: 'mapper_parsing_exception',
    reason: 'failed to parse field [status]',
    attempts: 1,
    source: 'kinesis-event',
    ackId: '4959000000000000000001',
    logGroup: '/aws/lambda/orders',
    logStream: '2026/12/05/[$LATEST]0123456789abcdef0123456789abcdef',
    at: AT,
    ...over,
  };
}

/** Entries of every kind, as the file store writes them; returns the lines and what to expect. */
function fileEntries() {
  const rec = entry({
    id: 'ev-rec',
    record: {
      timestamp: 1_764_928_800_000,
      message: 'GET /orders 200 replay-record',
      fields: { status: 'x' },
    },
  });
  // An entry JSON cannot hold (a BigInt field): the store keeps the safe form (message as base64).
  const safe = entry({
    id: 'ev-safe',
    code: 'SINK_REJECTED',
    record: { timestamp: 1_764_928_800_001, message: 'replay-safe-form line', fields: { n: 10n as unknown } },
  });
  const goodPayload = entry({
    code: 'ENVELOPE_GZIP_TRUNCATED',
    reason: 'cut short',
    ackId: '4959000000000000000002',
    payload: payload([
      { id: 'p1', message: 'replay-payload-1' },
      { id: 'p2', message: 'replay-payload-2' },
    ]),
  });
  const badPayload = entry({
    code: 'ENVELOPE_NOT_GZIP',
    reason: 'not gzip',
    ackId: '4959000000000000000003',
    payload: Buffer.from('still not gzip').toString('base64'),
  });
  const control = entry({
    code: 'X',
    ackId: '4959000000000000000004',
    payload: payload([], 'CONTROL_MESSAGE'),
  });
  const lines = [rec, safe, goodPayload, badPayload, control].map(serializeDeadLetter);
  expect(JSON.parse(lines[1]).messageBase64).toBeDefined();
  lines.push('this line is not an entry');
  return lines;
}

function config(name: string, extra: string[] = []): string {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(
    p,
    [
      'sources:',
      '  eks: { type: kinesis, stream: cwl-eks, checkpointPath: ./unused.json }',
      'sinks:',
      `  archive: { type: s3, url: file://./${name}-out, format: ndjson }`,
      `deadLetter: { type: file, path: ./${name}-dlq }`,
      ...extra,
    ].join('\n'),
  );
  return p;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lf-replay-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('logferry replay from a dead-letter file', () => {
  it('--dry-run lists every entry and changes nothing', () => {
    const input = join(dir, 'dry.ndjson');
    writeFileSync(input, `${fileEntries().join('\n')}\n`);
    const cfg = config('dry');
    const r = cli(['replay', input, '--config', cfg, '--dry-run']);
    expect(r.code).toBe(0);
    const listed = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(listed.map((l) => l.kind)).toEqual([
      'record',
      'record',
      'payload',
      'payload',
      'payload',
      'unreadable',
    ]);
    expect(listed[2]).toMatchObject({ records: 2, source: 'eks', replayAs: 'records' });
    expect(listed[3].replayAs).toBe('rejected ENVELOPE_NOT_GZIP');
    expect(listed[5].replayAs).toBe('rejected DEAD_LETTER_UNREADABLE');
    expect(r.stderr).toMatch(/6 entries would be replayed/);
    expect(archived(join(dir, 'dry-out'))).toEqual([]);
    expect(deadLetters(join(dir, 'dry-dlq'))).toEqual([]);
  });

  it('replays through the pipeline: delivers what it can, dead-letters the rest with the new reason; the summary balances', () => {
    const input = join(dir, 'in.ndjson');
    writeFileSync(input, `${fileEntries().join('\n')}\n`);
    const cfg = config('file');
    const r = cli(['replay', input, '--config', cfg, '--json']);
    expect(r.stdout).toBe('');
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}');
    expect(s.balanced).toBe(true);
    const e = s.events;
    expect(e.received).toBe(e.delivered + e.dropped + e.rejected + e.failed);
    // record + safe form + 2 payload events delivered; bad payload + unreadable rejected; control dropped.
    expect(e).toMatchObject({ received: 7, delivered: 4, rejected: 2, dropped: 1, failed: 0 });
    expect(s.replay).toMatchObject({ entries: 6, settled: 6, unreadable: 1 });
    expect(archived(join(dir, 'file-out')).sort()).toEqual(
      [
        'GET /orders 200 replay-record',
        'replay-safe-form line',
        'replay-payload-1',
        'replay-payload-2',
      ].sort(),
    );
    const dl = deadLetters(join(dir, 'file-dlq'));
    expect(dl.map((d) => d.code).sort()).toEqual(['DEAD_LETTER_UNREADABLE', 'ENVELOPE_NOT_GZIP']);
    const unreadable = dl.find((d) => d.code === 'DEAD_LETTER_UNREADABLE');
    expect(Buffer.from(String(unreadable?.payload), 'base64').toString()).toBe('this line is not an entry');
    expect(String(dl.find((d) => d.code === 'ENVELOPE_NOT_GZIP')?.reason)).toMatch(/^replayed: /);
  });

  it('routes replayed records by the config graph (a filter drops what it excludes, counted)', () => {
    const input = join(dir, 'routed.ndjson');
    writeFileSync(input, `${fileEntries().slice(0, 3).join('\n')}\n`);
    const cfg = config('routed', [
      'transforms:',
      "  no-payload: { type: filter, exclude: '@message like /replay-payload/' }",
    ]);
    // The sink reads the filter.
    writeFileSync(
      cfg,
      readFileSync(cfg, 'utf8').replace('format: ndjson }', 'format: ndjson, inputs: [no-payload] }'),
    );
    const r = cli(['replay', input, '-c', cfg, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}');
    expect(s.events).toMatchObject({ received: 4, delivered: 2, dropped: 2, rejected: 0, failed: 0 });
    expect(archived(join(dir, 'routed-out')).sort()).toEqual([
      'GET /orders 200 replay-record',
      'replay-safe-form line',
    ]);
  });

  it('exits 1 and says why when entries fail again (sink refuses, dead-letter store cannot store)', () => {
    const input = join(dir, 'fail.ndjson');
    writeFileSync(input, `${fileEntries()[0]}\n`);
    const cfg = join(dir, 'fail.yaml');
    writeFileSync(
      cfg,
      [
        'sinks:',
        '  archive: { type: s3, url: file:///dev/null/out, format: ndjson }',
        'deadLetter: { type: file, path: /dev/null/dlq }',
      ].join('\n'),
    );
    const r = cli(['replay', input, '--config', cfg, '--json']);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}');
    expect(s.events).toMatchObject({ received: 1, failed: 1 });
    expect(s.byReason['failed:DEAD_LETTER_UNAVAILABLE']).toBe(1);
    expect(Object.values(s.failureReasons).join(' ')).toMatch(/ENOTDIR|not a directory/);
  });

  it('refuses a bad config or location with a sentence and exit 2', () => {
    const missing = cli(['replay', join(dir, 'nope.ndjson'), '--config', config('bad')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the dead-letter location/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const noConfig = cli(['replay', join(dir, 'in.ndjson')]);
    expect(noConfig.code).toBe(2);
  });
});

describe('logferry replay from an SQS dead-letter queue (moto)', () => {
  it('replays the queue (overflow entries from S3 included) and deletes settled messages', async () => {
    const aws = {
      endpoint: motoUrl(),
      region: 'us-east-1',
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    };
    const sqs = new SQSClient(aws);
    const s3 = new S3Client({ ...aws, forcePathStyle: true });
    const name = `replay-${Date.now().toString(36)}`;
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    const store = new SqsDeadLetterSink(
      {
        queueUrl,
        overflowS3Url: `s3://${name}/overflow`,
        maxMessageBytes: 4_096,
        maxAttempts: 3,
        timeoutMs: 10_000,
      },
      { sqs, s3 },
    );
    const big = `replay-big ${'x'.repeat(10_000)}`;
    const stored = await store.put([
      entry({ id: 'q1', record: { timestamp: 1_764_928_800_000, message: 'replay-queue-1', fields: {} } }),
      entry({ id: 'q2', record: { timestamp: 1_764_928_800_001, message: big, fields: {} } }),
      entry({
        code: 'ENVELOPE_NOT_GZIP',
        ackId: 'q3',
        payload: Buffer.from('never gzip').toString('base64'),
      }),
    ]);
    expect(stored).toEqual([true, true, true]);

    const env = {
      LOGFERRY_AWS_ENDPOINT: motoUrl(),
      AWS_ACCESS_KEY_ID: 't',
      AWS_SECRET_ACCESS_KEY: 't',
      AWS_REGION: 'us-east-1',
    };
    const cfg = config('sqs');
    const dry = cli(['replay', queueUrl, '--config', cfg, '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.trim().split('\n')).toHaveLength(3);
    const r = cli(['replay', queueUrl, '--config', cfg, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}');
    expect(s.events).toMatchObject({ received: 3, delivered: 2, rejected: 1, failed: 0 });
    expect(s.replay).toMatchObject({ entries: 3, settled: 3 });
    expect(archived(join(dir, 'sqs-out')).sort()).toEqual([big, 'replay-queue-1'].sort());
    expect(deadLetters(join(dir, 'sqs-dlq')).map((d) => d.code)).toEqual(['ENVELOPE_NOT_GZIP']);
    // Every settled message was deleted.
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(Number(attrs.Attributes?.ApproximateNumberOfMessages)).toBe(0);
    expect(Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible)).toBe(0);
    sqs.destroy();
    s3.destroy();
  }, 120_000);

  it('replays an S3 dead-letter store (a sink in the dead-letter role: gzip objects of archive documents)', async () => {
    const aws = {
      endpoint: motoUrl(),
      region: 'us-east-1',
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    };
    const s3 = new S3Client({ ...aws, forcePathStyle: true });
    const bucket = `replay-s3-${Date.now().toString(36)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const docs = [
      entry({ id: 's1', record: { timestamp: 1_764_928_800_000, message: 'replay-s3-1', fields: {} } }),
      entry({ id: 's2', record: { timestamp: 1_764_928_800_001, message: 'replay-s3-2', fields: {} } }),
    ].map((e) => JSON.stringify({ '@timestamp': 1, '@message': serializeDeadLetter(e) }));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'dlq/part/logferry-1.gz',
        Body: gzipSync(`${docs.join('\n')}\n`),
      }),
    );
    // A raw (non-gzip) object with one entry line and one line that is not an entry.
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'dlq/part/logferry-2.ndjson',
        Body: `${serializeDeadLetter(entry({ id: 's3', record: { timestamp: 1_764_928_800_002, message: 'replay-s3-3', fields: {} } }))}\nnot an entry\n`,
      }),
    );
    const env = {
      LOGFERRY_AWS_ENDPOINT: motoUrl(),
      AWS_ACCESS_KEY_ID: 't',
      AWS_SECRET_ACCESS_KEY: 't',
      AWS_REGION: 'us-east-1',
    };
    const r = cli(['replay', `s3://${bucket}/dlq/`, '--config', config('s3'), '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}');
    expect(s.events).toMatchObject({ received: 4, delivered: 3, rejected: 1, failed: 0 });
    expect(s.replay.note).toMatch(/still in s3:/);
    expect(archived(join(dir, 's3-out')).sort()).toEqual(['replay-s3-1', 'replay-s3-2', 'replay-s3-3']);
    expect(deadLetters(join(dir, 's3-dlq')).map((d) => d.code)).toEqual(['DEAD_LETTER_UNREADABLE']);
    s3.destroy();
  }, 120_000);
});
