/**
 * The `sqs` Lambda handler (src/sources/sqs-s3-handler.ts, the module the bundle's `handler`
 * calls) with realistic SQS events — message bodies exactly as moto's S3 → SNS → SQS delivered
 * them (raw delivery and SNS envelopes) plus EventBridge `Object Created` bodies — against objects
 * in moto's S3: answers, dead letters, the deadline (unfinished message failed) and redelivery
 * (resumed on a warm container without re-sending; re-read from line 1 elsewhere, with every
 * re-sent record counted).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLogger } from '../src/core/logger.js';
import { FileDeadLetterSink } from '../src/sinks/file.js';
import { s3Spec } from '../src/sinks/s3.js';
import { MemoryProgress } from '../src/sources/s3-object/message-source.js';
import { processSqsEvent, type SqsEvent, type SqsHandlerDeps } from '../src/sources/sqs-s3-handler.js';
import { walk } from './infra/cli-daemon.js';
import { motoUrl } from './infra/services.js';
import {
  type Clients,
  clients,
  createLayout,
  eksLines,
  eventBridgeBody,
  type Layout,
  objectKey,
  putLines,
  receiveAll,
} from './sqs-s3-fixtures.js';

process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';

let c: Clients;
let dir: string;
let layout: Layout;
const keys = new Map<string, number>();
let truncatedKey = '';
let bigKey = '';
const BIG_LINES = 400_000;

const ids = (d: string) =>
  walk(d)
    .filter((f) => f.endsWith('.gz'))
    .flatMap((f) => gunzipSync(readFileSync(f)).toString('utf8').split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l)['@id'] as string);

const quiet = jsonLogger({}, 'error', () => {});

async function deps(name: string, extra: Partial<SqsHandlerDeps> = {}): Promise<SqsHandlerDeps> {
  const sink = await s3Spec.create(s3Spec.schema.parse({ type: 's3', url: join(dir, name, 'archive') }), {});
  return {
    s3: c.s3,
    transforms: [],
    sinks: [sink],
    deadLetter: new FileDeadLetterSink(join(dir, name, 'dead-letter')),
    log: quiet,
    ...extra,
  };
}

function sqsEvent(msgs: { MessageId?: string; Body?: string }[], receiveCount = 1): SqsEvent {
  return {
    Records: msgs.map((m) => ({
      messageId: m.MessageId,
      receiptHandle: 'AQEB',
      body: m.Body,
      attributes: {
        ApproximateReceiveCount: String(receiveCount),
        SentTimestamp: String(Date.now()),
        SenderId: 'AIDAIENQZJOLO23YVJ4VO',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:apiserver',
      awsRegion: 'us-east-1',
    })),
  };
}

/** A Lambda context with `ms` left; `speed` > 1 runs its clock faster (a deadline that cannot be outrun). */
const context = (ms: number, speed = 1) => {
  const start = Date.now();
  return { getRemainingTimeInMillis: () => ms - (Date.now() - start) * speed, awsRequestId: 'req-1' };
};

/**
 * A context whose `ms` start running out (at `speed`×) only once `archive` holds a first object: the
 * deadline then always falls inside the object, however slow or loaded the machine is.
 */
const contextAfterProgress = (ms: number, speed: number, archive: string) => {
  let start: number | undefined;
  let checked = 0;
  return {
    getRemainingTimeInMillis: () => {
      const now = Date.now();
      if (start === undefined && now - checked >= 20) {
        checked = now;
        if (walk(archive).some((f) => f.endsWith('.gz'))) start = now;
      }
      return start === undefined ? ms : ms - (now - start) * speed;
    },
    awsRequestId: 'req-1',
  };
};

beforeAll(async () => {
  c = clients(motoUrl());
  dir = mkdtempSync(join(tmpdir(), 'lf-sqs-handler-'));
  layout = await createLayout(c, `hd${Date.now().toString(36)}`);
  let seq = 0;
  for (const [comp, n] of [
    ['kube-apiserver', 800],
    ['kube-apiserver-audit', 1_200],
    ['authenticator', 40],
  ] as const) {
    const key = objectKey(comp, `${comp}-9f1e`, seq++);
    await putLines(c, layout.bucket, key, eksLines(comp, n, key));
    keys.set(key, n);
  }
  truncatedKey = objectKey('kube-scheduler', 'kube-scheduler-9f1e', seq++);
  const gz = gzipSync(`${eksLines('kube-scheduler', 5_000, 't').join('\n')}\n`);
  await c.s3.send(
    new PutObjectCommand({ Bucket: layout.bucket, Key: truncatedKey, Body: gz.subarray(0, gz.length - 100) }),
  );
  bigKey = objectKey('kube-controller-manager', 'kube-controller-manager-9f1e', seq++);
  await putLines(c, layout.bucket, bigKey, eksLines('kube-controller-manager', BIG_LINES, 'big'));
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('sqs Lambda handler (moto S3 objects, SQS events as delivered)', () => {
  it('reads raw and SNS-wrapped notifications and EventBridge events; corrupt object dead-lettered; test event counted; nothing failed', async () => {
    const raw = await receiveAll(c, layout.rawQueue, keys.size + 3);
    const wrapped = await receiveAll(c, layout.snsQueue, keys.size + 3);
    expect(wrapped.every((m) => JSON.parse(m.Body ?? '{}').Type === 'Notification')).toBe(true);
    const small = (m: { Body?: string }) => !(m.Body ?? '').includes('kube-controller-manager');
    const h = await c.s3.send(new HeadObjectCommand({ Bucket: layout.bucket, Key: [...keys.keys()][0] }));
    const eb = {
      MessageId: 'eb-1',
      Body: eventBridgeBody(
        layout.bucket,
        [...keys.keys()][0],
        (h.ETag ?? '').replace(/"/g, ''),
        h.ContentLength ?? 0,
      ),
    };
    const garbage = { MessageId: 'bad-1', Body: '{"hello":"world"}' };
    const d = await deps('mixed');
    const r = await processSqsEvent(sqsEvent([...raw.filter(small), eb, garbage]), context(60_000), d);
    expect(r.response.batchItemFailures).toEqual([]);
    expect(r.tally.balanced()).toBe(true);
    const got = ids(join(dir, 'mixed', 'archive'));
    expect(new Set(got).size).toBe(got.length);
    for (const [key, n] of keys)
      expect(got.filter((i) => i.includes(key)).length).toBe(n + (key === [...keys.keys()][0] ? 0 : 0));
    expect(r.stats.objectsAlreadyDone).toBe(1); // the EventBridge event announced an object read in this container
    expect(r.stats.testEvents).toBe(1);
    const dead = walk(join(dir, 'mixed', 'dead-letter')).flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    );
    expect(dead.map((x) => x.code).sort()).toEqual(['S3_OBJECT_GZIP_TRUNCATED', 'SQS_MESSAGE_UNRECOGNIZED']);

    // The SNS-wrapped copies, on a cold container (fresh progress): the same ids again, nothing failed.
    const d2 = await deps('wrapped', { progress: new MemoryProgress() });
    const r2 = await processSqsEvent(sqsEvent(wrapped.filter(small)), context(60_000), d2);
    expect(r2.response.batchItemFailures).toEqual([]);
    expect(new Set(ids(join(dir, 'wrapped', 'archive')))).toEqual(new Set(got));
  }, 120_000);

  it('stops before the deadline, fails the unfinished message, and resumes on redelivery without re-sending (warm) or counting what it re-sends (cold)', async () => {
    const h = await c.s3.send(new HeadObjectCommand({ Bucket: layout.bucket, Key: bigKey }));
    const body = eventBridgeBody(
      layout.bucket,
      bigKey,
      (h.ETag ?? '').replace(/"/g, ''),
      h.ContentLength ?? 0,
    );
    const progress = new MemoryProgress();
    const d = await deps('deadline', { progress });
    const first = await processSqsEvent(
      sqsEvent([{ MessageId: 'big-1', Body: body }]),
      contextAfterProgress(4_000, 10, join(dir, 'deadline', 'archive')),
      d,
    );
    expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: 'big-1' }]);
    expect(first.stats.objectsUnfinished).toBe(1);
    const afterFirst = ids(join(dir, 'deadline', 'archive'));
    expect(afterFirst.length).toBeGreaterThan(0);
    expect(afterFirst.length).toBeLessThan(BIG_LINES);
    const position = [...progress.map.values()][0].through;
    expect(position).toBeGreaterThan(0);

    // Warm redelivery: resumes after the position, re-sends nothing.
    const second = await processSqsEvent(
      sqsEvent([{ MessageId: 'big-1', Body: body }], 2),
      context(120_000),
      d,
    );
    expect(second.response.batchItemFailures).toEqual([]);
    expect(second.stats.lines.linesSkipped).toBe(position);
    expect(second.stats.resentAfterRedelivery).toBe(0);
    const all = ids(join(dir, 'deadline', 'archive'));
    expect(all.length).toBe(BIG_LINES);
    expect(new Set(all).size).toBe(BIG_LINES);

    // Cold redelivery (another container: no position): read from line 1; every re-sent record counted.
    const cold = await deps('deadline', { progress: new MemoryProgress() });
    const third = await processSqsEvent(
      sqsEvent([{ MessageId: 'big-1', Body: body }], 3),
      context(120_000),
      cold,
    );
    expect(third.response.batchItemFailures).toEqual([]);
    expect(third.stats.resentAfterRedelivery).toBe(BIG_LINES);
    const again = ids(join(dir, 'deadline', 'archive'));
    // An upper bound: the S3 sink's keys are a function of each batch's record ids, so a re-sent batch
    // cut at the same lines overwrites its own object instead of adding one.
    expect(again.length - all.length).toBeLessThanOrEqual(third.stats.resentAfterRedelivery);
    expect(new Set(again).size).toBe(BIG_LINES); // same ids: OpenSearch would store each once
  }, 180_000);
});
