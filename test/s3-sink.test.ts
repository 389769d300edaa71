/**
 * The s3 sink against a real S3 API (moto): objects land under the partition prefix as gzip
 * NDJSON, a retried batch overwrites its own object, and S3 errors are classified (a missing bucket
 * is rejected with what to fix; an unreachable endpoint is retried, then failed).
 */
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../src/core/deliver.js';
import type { LogRecord } from '../src/core/record.js';
import type { Encoded } from '../src/core/sink.js';
import { S3Sink } from '../src/sinks/s3.js';
import { DemoSource } from '../src/sources/demo.js';
import { freePort } from './infra/process.js';
import { motoUrl } from './infra/services.js';

const bucket = `lf-s3-sink-${process.pid}`;
let s3: S3Client;

async function listKeys(prefix = ''): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

async function readLines(key: string): Promise<string[]> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = Buffer.from(await out.Body!.transformToByteArray());
  return gunzipSync(body).toString('utf8').trimEnd().split('\n');
}

async function demoRecords(envelopes: number): Promise<LogRecord[]> {
  const src = new DemoSource({
    envelopes,
    eventsPerEnvelope: 20,
    controlEvery: 0,
    now: Date.UTC(2026, 10, 22, 13, 0, 0),
  });
  const out: LogRecord[] = [];
  for await (const e of src.envelopes(new AbortController().signal)) out.push(...e.records);
  return out;
}

beforeAll(async () => {
  s3 = new S3Client({ endpoint: motoUrl(), region: 'us-east-1', forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

describe('s3 sink on moto S3', () => {
  it('writes gzip NDJSON objects under the partition prefix, readable back record for record', async () => {
    const records = await demoRecords(30);
    const sink = new S3Sink({ url: `s3://${bucket}/archive/`, endpoint: motoUrl() });
    const outcomes = await deliver(sink, records);
    expect(outcomes.filter((o) => o.kind !== 'delivered')).toEqual([]);
    const keys = await listKeys('archive/');
    expect(keys.length).toBe(sink.stats.objects);
    for (const k of keys) {
      expect(k).toMatch(
        /^archive\/(_aws_eks_demo-prod_cluster\/[a-z-]+\/[a-z-]+-[0-9a-f]{32}|[^/]+\/(?:lambda|ecs|default)\/[^/]+)\/logferry-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f]{16}\.gz$/,
      );
    }
    expect(keys.some((k) => k.startsWith('archive/_aws_eks_demo-prod_cluster/kube-apiserver-audit/'))).toBe(
      true,
    );
    const docs: Record<string, unknown>[] = [];
    for (const k of keys) for (const l of await readLines(k)) docs.push(JSON.parse(l));
    expect(docs).toHaveLength(records.length);
    expect(new Set(docs.map((d) => d['@id']))).toEqual(new Set(records.map((r) => r.meta.id)));
    const first = docs.find((d) => d['@id'] === records[0].meta.id)!;
    expect(first).toMatchObject({
      '@timestamp': records[0].timestamp,
      '@message': records[0].message,
      '@logStream': records[0].meta.logStream,
    });
    await sink.close();
  });

  it('overwrites the same key when a batch is retried (no duplicate objects)', async () => {
    const records = (await demoRecords(3)).filter((r) => r.meta.logGroup.startsWith('/aws/eks/'));
    const sink = new S3Sink({
      url: `s3://${bucket}/retry`,
      endpoint: motoUrl(),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the sink's own placeholders
      keyTemplate: 'component=${component}',
    });
    const byPartition = new Map<string, Encoded<string>[]>();
    for (const r of records) {
      const e = sink.encode(r) as Encoded<string>;
      byPartition.set(e.partition!, [...(byPartition.get(e.partition!) ?? []), e]);
    }
    const [partition, batch] = [...byPartition][0];
    expect((await sink.send(batch, { attempt: 1 })).problems).toEqual([]);
    expect((await sink.send(batch, { attempt: 2 })).problems).toEqual([]);
    const keys = await listKeys(`retry/${partition}/`);
    expect(keys).toHaveLength(1);
    expect(await readLines(keys[0])).toHaveLength(batch.length);
    await sink.close();
  });

  it('rejects a batch for a missing bucket with what to fix', async () => {
    const sink = new S3Sink({ url: 's3://no-such-bucket-here/x', endpoint: motoUrl() });
    const out = await deliver(sink, (await demoRecords(1)).slice(0, 3));
    expect(out.map((o) => o.kind)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(out[0].code).toBe('SINK_REJECTED');
    expect(out[0].reason).toMatch(/NoSuchBucket.*create it or fix the sink url/);
    await sink.close();
  });

  it('retries an unreachable endpoint, then fails the records so they are redriven', async () => {
    const port = await freePort();
    const sink = new S3Sink({ url: `s3://${bucket}/down`, endpoint: `http://127.0.0.1:${port}` });
    const sends: number[] = [];
    const out = await deliver(sink, (await demoRecords(1)).slice(0, 2), {
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      onSend: (i) => sends.push(i.attempt),
    });
    expect(out.map((o) => o.kind)).toEqual(['failed', 'failed']);
    expect(out[0].code).toBe('SINK_UNAVAILABLE');
    expect(out[0].reason).toMatch(/gave up after 3 attempts/);
    expect(sends).toEqual([1, 2, 3]);
    await sink.close();
  });
});
