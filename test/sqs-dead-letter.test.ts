/** The sqs dead-letter sink against moto's SQS and S3: bodies, attributes, overflow to S3 with a pointer. */
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../src/core/dead-letter.js';
import { deadLetterSinks } from '../src/sinks/index.js';
import { motoUrl } from './infra/services.js';

const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let env: NodeJS.ProcessEnv;
let sqs: SQSClient;
let s3: S3Client;

beforeAll(() => {
  env = { ...process.env, LOGFERRY_AWS_ENDPOINT: motoUrl(), AWS_REGION: 'us-east-1' };
  sqs = new SQSClient({ endpoint: motoUrl(), region: 'us-east-1', credentials: creds });
  s3 = new S3Client({ endpoint: motoUrl(), region: 'us-east-1', credentials: creds, forcePathStyle: true });
});

async function receiveAll(queueUrl: string, want: number) {
  const out: { body: Record<string, unknown>; attrs: Record<string, string> }[] = [];
  for (let i = 0; i < 20 && out.length < want; i++) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 0,
      }),
    );
    for (const m of r.Messages ?? []) {
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) attrs[k] = v.StringValue ?? '';
      out.push({ body: JSON.parse(m.Body ?? '{}'), attrs });
    }
  }
  return out;
}

const malformed = (n: number, payload: string): DeadLetter => ({
  code: 'ENVELOPE_NOT_GZIP',
  reason: 'record data is not gzip',
  attempts: 0,
  source: 'kinesis-event',
  ackId: `4959${n}`,
  payload,
  at: '2024-05-06T07:08:09.000Z',
});

describe('sqs dead-letter sink against moto', () => {
  it('stores entries as messages and oversize ones in S3 behind a pointer', async () => {
    const name = `dlq-${Date.now().toString(36)}`;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    const spec = deadLetterSinks.find((s) => s.type === 'sqs')!;
    const cfg = spec.schema.parse({
      type: 'sqs',
      queueUrl: QueueUrl,
      overflowS3Url: `s3://${name}/overflow`,
      maxMessageBytes: 4096,
    });
    const sink = await spec.create(cfg, { env });

    const small = Array.from({ length: 12 }, (_, i) =>
      malformed(i, Buffer.from(`bad ${i}`).toString('base64')),
    );
    const bigPayload = Buffer.alloc(300_000, 7).toString('base64');
    const big = malformed(99, bigPayload);
    const stored = await sink.put([...small, big]);
    expect(stored).toEqual(Array(13).fill(true));

    const msgs = await receiveAll(QueueUrl!, 13);
    expect(msgs).toHaveLength(13);
    const byAck = new Map(msgs.map((m) => [m.body.ackId as string, m]));
    expect(byAck.get('49593')?.body).toEqual(small[3]);
    expect(byAck.get('49593')?.attrs).toMatchObject({ code: 'ENVELOPE_NOT_GZIP', source: 'kinesis-event' });

    const pointer = byAck.get('495999')!;
    expect(pointer.attrs.overflow).toBe('s3');
    expect(pointer.body.payload).toBeUndefined();
    const ov = pointer.body.overflow as { bucket: string; key: string; bytes: number };
    expect(ov.bucket).toBe(name);
    expect(ov.key).toMatch(/^overflow\/2024-05-06\/kinesis-event\/[0-9a-f]{40}\.json$/);
    const obj = await s3.send(new GetObjectCommand({ Bucket: ov.bucket, Key: ov.key }));
    const full = JSON.parse(await obj.Body!.transformToString());
    expect(full).toEqual(big);
    expect(ov.bytes).toBe(Buffer.byteLength(JSON.stringify(big)));
    await sink.close?.();
  });

  it('reports entries unstored when the queue does not exist', async () => {
    const spec = deadLetterSinks.find((s) => s.type === 'sqs')!;
    const cfg = spec.schema.parse({
      type: 'sqs',
      queueUrl: `${motoUrl()}/123456789012/no-such-queue`,
      maxAttempts: 2,
      timeoutMs: 2000,
    });
    const sink = await spec.create(cfg, { env });
    expect(await sink.put([malformed(1, 'eA==')])).toEqual([false]);
  });
});
