/**
 * The SQS dead-letter sink against a small SQS stand-in on 127.0.0.1 that answers SendMessageBatch
 * with scripted partial failures (moto cannot inject those; test/sqs-dead-letter.test.ts covers the
 * real API against moto).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../core/dead-letter.js';
import { SqsDeadLetterSink, sqsDeadLetterSpec } from './sqs.js';

type Entry = { Id: string; MessageBody: string; MessageAttributes?: Record<string, { StringValue: string }> };
type Script = (
  entries: Entry[],
  call: number,
) => { fail?: { id: string; senderFault: boolean }[]; status?: number; delayMs?: number };

let server: Server;
let url = '';
let script: Script = () => ({});
const calls: Entry[][] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== 'AmazonSQS.SendMessageBatch') {
        res.writeHead(400).end(JSON.stringify({ __type: 'UnsupportedOperation', message: target }));
        return;
      }
      const entries: Entry[] = JSON.parse(body).Entries;
      calls.push(entries);
      const r = script(entries, calls.length);
      if (r.delayMs) {
        setTimeout(() => {
          if (!res.writableEnded) res.writeHead(500).end('{}');
        }, r.delayMs);
        return;
      }
      if (r.status) {
        res.writeHead(r.status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'stand-in outage' }));
        return;
      }
      const failIds = new Map((r.fail ?? []).map((f) => [f.id, f.senderFault]));
      const Successful = entries
        .filter((e) => !failIds.has(e.Id))
        .map((e) => ({
          Id: e.Id,
          MessageId: `m-${e.Id}`,
          MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex'),
        }));
      const Failed = [...failIds].map(([Id, SenderFault]) => ({
        Id,
        SenderFault,
        Code: SenderFault ? 'InvalidParameterValue' : 'InternalError',
        Message: 'scripted',
      }));
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ Successful, Failed }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const entry = (n: number, extra: Partial<DeadLetter> = {}): DeadLetter => ({
  code: 'mapper_parsing_exception',
  reason: 'failed to parse field [status]',
  attempts: 1,
  source: 'kinesis-event',
  ackId: `seq-${n}`,
  logGroup: '/aws/lambda/orders',
  logStream: 's',
  id: `ev-${n}`,
  record: { timestamp: 1, message: `message ${n}`, fields: {} },
  at: '2024-05-06T07:08:09.000Z',
  ...extra,
});

function sink(over: Partial<ConstructorParameters<typeof SqsDeadLetterSink>[0]> = {}) {
  const sqs = new SQSClient({
    endpoint: url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  return new SqsDeadLetterSink(
    {
      queueUrl: `${url}/123456789012/dlq`,
      maxMessageBytes: 262_144,
      maxAttempts: 4,
      timeoutMs: 5_000,
      ...over,
    },
    { sqs, random: () => 0 },
  );
}

describe('sqs dead-letter sink (scripted SQS)', () => {
  it('sends ≤ 10 entries per batch with the entry as JSON body and code/source attributes', async () => {
    calls.length = 0;
    script = () => ({});
    const s = sink();
    const res = await s.put(Array.from({ length: 23 }, (_, i) => entry(i)));
    expect(res.every(Boolean)).toBe(true);
    expect(calls.map((c) => c.length)).toEqual([10, 10, 3]);
    const first = calls[0][0];
    expect(JSON.parse(first.MessageBody)).toEqual(entry(0));
    expect(first.MessageAttributes?.code.StringValue).toBe('mapper_parsing_exception');
    expect(first.MessageAttributes?.source.StringValue).toBe('kinesis-event');
  });

  it('re-sends only the entries SQS failed, and gives up on sender faults', async () => {
    calls.length = 0;
    script = (_entries, call) =>
      call === 1
        ? {
            fail: [
              { id: 'e1', senderFault: false },
              { id: 'e3', senderFault: true },
            ],
          }
        : {};
    const res = await sink().put([entry(0), entry(1), entry(2), entry(3)]);
    expect(res).toEqual([true, true, true, false]);
    expect(calls).toHaveLength(2);
    expect(calls[1].map((e) => JSON.parse(e.MessageBody).ackId)).toEqual(['seq-1']);
  });

  it('retries whole-request errors within maxAttempts, then reports the entries unstored', async () => {
    calls.length = 0;
    script = () => ({ status: 500 });
    const res = await sink({ maxAttempts: 3 }).put([entry(0), entry(1)]);
    expect(res).toEqual([false, false]);
    expect(calls).toHaveLength(3);
    calls.length = 0;
    script = (_e, call) => (call < 3 ? { status: 500 } : {});
    expect(await sink({ maxAttempts: 3 }).put([entry(0)])).toEqual([true]);
  });

  it('gives up within timeoutMs when SQS does not answer', async () => {
    calls.length = 0;
    script = () => ({ delayMs: 5_000 });
    const t0 = Date.now();
    const res = await sink({ timeoutMs: 400, maxAttempts: 10 }).put([entry(0), entry(1)]);
    expect(res).toEqual([false, false]);
    expect(Date.now() - t0).toBeLessThan(1_500);
  });

  it('reports an oversize entry unstored when no overflow bucket is configured, without sending it', async () => {
    calls.length = 0;
    script = () => ({});
    const big = entry(1, { record: undefined, payload: 'A'.repeat(5_000) });
    const res = await sink({ maxMessageBytes: 2_048 }).put([entry(0), big]);
    expect(res).toEqual([true, false]);
    expect(calls.flat()).toHaveLength(1);
  });

  it('validates its config', () => {
    const ok = sqsDeadLetterSpec.schema.safeParse({
      type: 'sqs',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
    });
    expect(ok.success && ok.data).toMatchObject({ maxMessageBytes: 262_144, maxAttempts: 4 });
    expect(sqsDeadLetterSpec.schema.safeParse({ type: 'sqs', queueUrl: 'not a url' }).success).toBe(false);
    expect(
      sqsDeadLetterSpec.schema.safeParse({ type: 'sqs', queueUrl: 'https://x/y', overflowS3Url: 'http://b' })
        .success,
    ).toBe(false);
    expect(
      sqsDeadLetterSpec.schema.safeParse({ type: 'sqs', queueUrl: 'https://x/y', maxMessageBytes: 2_000_000 })
        .success,
    ).toBe(false);
  });
});
