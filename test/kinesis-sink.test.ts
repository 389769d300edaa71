/**
 * The `kinesis` sink against kinesis-local (a real Kinesis Data Streams emulator on loopback):
 * records put in calls within PutRecords' limits and read back with GetRecords, one JSON document
 * (or raw message) per Kinesis record, partition keys from a field keep a stream's records on one
 * shard in order, spread keys use every shard, oversize records and a missing stream are rejected.
 * Per-entry failures (throttling, KMS refusals) cannot be provoked on the emulator: a scripted
 * client answers those.
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecordData } from '../src/aws/cloudwatch-payload.js';
import { deliver } from '../src/core/deliver.js';
import type { LogRecord } from '../src/core/record.js';
import { KINESIS_MAX_RECORD_BYTES, KinesisSink, PUT_RECORDS_MAX_RECORDS } from '../src/sinks/kinesis.js';
import { createTestStream, kinesisTestClient } from './infra/kinesis.js';
import { kinesisUrl } from './infra/services.js';

let url: string;
let kinesis: KinesisClient;
const fast = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

beforeAll(() => {
  url = kinesisUrl();
  kinesis = kinesisTestClient(url);
});
afterAll(() => kinesis?.destroy());

const createStream = (shards: number) => createTestStream(kinesis, 'sink', shards);

/** Every record of every shard, oldest first per shard. */
async function readAll(name: string): Promise<{ shard: string; key: string; data: Buffer }[]> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
  const out: { shard: string; key: string; data: Buffer }[] = [];
  for (const s of shards) {
    let it = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: name,
          ShardId: s.ShardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    for (let empty = 0; it && empty < 2; ) {
      const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      for (const x of r.Records ?? [])
        out.push({
          shard: s.ShardId as string,
          key: x.PartitionKey as string,
          data: Buffer.from(x.Data ?? []),
        });
      if ((r.Records ?? []).length === 0) empty++;
      it = r.NextShardIterator;
    }
  }
  return out;
}

const rec = (i: number, stream = `pod-${i % 3}`, message = `GET /item/${i} 200`): LogRecord => ({
  timestamp: 1_764_000_000_000 + i,
  message,
  fields: { status: 200, http: { path: `/item/${i}` }, seq: i },
  meta: {
    owner: '123456789012',
    logGroup: '/eks/prod/app',
    logStream: stream,
    id: `id-${i}`,
    source: 't',
    ackId: 'a',
  },
});

describe('kinesis sink (kinesis-local)', () => {
  it('puts each record as one JSON document in calls of at most 500; a field as partition key keeps a log stream on one shard, in order', async () => {
    const name = await createStream(2);
    const sink = new KinesisSink(
      { type: 'kinesis', stream: name, partitionKey: '@logStream', endpoint: url },
      kinesis,
    );
    const records = Array.from({ length: 1_200 }, (_, i) => rec(i));
    const outs = await deliver(sink, records, { retry: fast });
    expect(outs.every((o) => o.kind === 'delivered')).toBe(true);
    expect(sink.stats.calls).toBe(Math.ceil(1_200 / PUT_RECORDS_MAX_RECORDS));
    const got = await readAll(name);
    expect(got).toHaveLength(1_200);
    const docs = got.map((g) => ({ ...g, doc: JSON.parse(g.data.toString()) as Record<string, unknown> }));
    expect(docs.map((d) => d.doc['@id']).sort()).toEqual(records.map((r) => r.meta.id).sort());
    const first = docs.find((d) => d.doc['@id'] === 'id-7')?.doc;
    expect(first).toEqual({
      '@timestamp': new Date(1_764_000_000_007).toISOString(),
      '@message': 'GET /item/7 200',
      '@logStream': 'pod-1',
      '@log': '123456789012:/eks/prod/app',
      '@id': 'id-7',
      status: 200,
      http: { path: '/item/7' },
      seq: 7,
    });
    for (const stream of ['pod-0', 'pod-1', 'pod-2']) {
      const mine = docs.filter((d) => d.doc['@logStream'] === stream);
      expect(new Set(mine.map((d) => d.key))).toEqual(new Set([stream]));
      expect(new Set(mine.map((d) => d.shard)).size).toBe(1);
      const seqs = mine.map((d) => d.doc.seq as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    // What logferry's kinesis handler and source read (format auto): the document as one JSON object.
    const back = decodeRecordData(got[0].data);
    expect(back.ok && 'object' in back && back.object?.['@id']).toBe(docs[0].doc['@id']);
  });

  it('raw messages with spread keys use every shard; an oversize record is rejected, a missing stream too', async () => {
    const name = await createStream(2);
    const sink = new KinesisSink({ type: 'kinesis', stream: name, format: 'raw', endpoint: url }, kinesis);
    const records = Array.from({ length: 200 }, (_, i) => rec(i, 's', `line ${i}`));
    records.push(rec(999, 's', 'x'.repeat(KINESIS_MAX_RECORD_BYTES)));
    const outs = await deliver(sink, records, { retry: fast });
    expect(outs.slice(0, 200).every((o) => o.kind === 'delivered')).toBe(true);
    expect(outs[200]).toMatchObject({ kind: 'rejected', code: 'RECORD_TOO_LARGE' });
    const got = await readAll(name);
    expect(got.map((g) => g.data.toString()).sort()).toEqual(
      records
        .slice(0, 200)
        .map((r) => r.message)
        .sort(),
    );
    expect(new Set(got.map((g) => g.key)).size).toBe(200);
    expect(new Set(got.map((g) => g.shard)).size).toBe(2);

    const gone = new KinesisSink(
      { type: 'kinesis', stream: `no-such-${Date.now()}`, endpoint: url },
      kinesis,
    );
    const refused = await deliver(gone, [rec(1)], { retry: fast });
    expect(refused[0]).toMatchObject({ kind: 'rejected', code: 'SINK_REJECTED' });
    expect(gone.stats.calls).toBe(1);
  });
});

describe('kinesis sink: per-entry failures (scripted PutRecords answers)', () => {
  it('re-sends only throttled entries, rejects a KMS refusal with its code, and fails what stays throttled', async () => {
    const calls: string[][] = [];
    const client = {
      send: async (cmd: PutRecordsCommand) => {
        const keys = (cmd.input.Records ?? []).map((r) => Buffer.from(r.Data as Uint8Array).toString());
        calls.push(keys);
        return {
          $metadata: {},
          FailedRecordCount: 0,
          Records: keys.map((k, j) =>
            k.includes('"@id":"id-1"')
              ? { ErrorCode: 'KMSDisabledException', ErrorMessage: 'key disabled' }
              : k.includes('"@id":"id-2"') || (calls.length === 1 && j === 3)
                ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' }
                : { SequenceNumber: String(calls.length * 100 + j), ShardId: 'shardId-000000000000' },
          ),
        };
      },
    } as unknown as KinesisClient;
    const sink = new KinesisSink(
      { type: 'kinesis', stream: 'arn:aws:kinesis:eu-west-1:123456789012:stream/logs' },
      client,
    );
    const outs = await deliver(sink, [rec(0), rec(1), rec(2), rec(3)], { retry: fast });
    expect(outs.map((o) => o.kind)).toEqual(['delivered', 'rejected', 'failed', 'delivered']);
    expect(outs[1].code).toBe('KMSDisabledException');
    expect(outs[2].code).toBe('ProvisionedThroughputExceededException');
    // First call: all four; then only the throttled ones (id-2 throttled every time, id-3 once).
    expect(calls.map((c) => c.length)).toEqual([4, 2, 1]);
    expect(sink.stats).toMatchObject({ calls: 3, retriedEntries: 3 });
    expect(sink.stats.throttled).toBeGreaterThanOrEqual(4);
  });

  it('uses StreamARN for an ARN and StreamName for a name', async () => {
    const seen: Record<string, unknown>[] = [];
    const client = {
      send: async (cmd: PutRecordsCommand) => {
        seen.push({ name: cmd.input.StreamName, arn: cmd.input.StreamARN });
        return { $metadata: {}, Records: (cmd.input.Records ?? []).map(() => ({ SequenceNumber: '1' })) };
      },
    } as unknown as KinesisClient;
    await deliver(new KinesisSink({ type: 'kinesis', stream: 'logs' }, client), [rec(0)], { retry: fast });
    await deliver(
      new KinesisSink({ type: 'kinesis', stream: 'arn:aws:kinesis:eu-west-1:1:stream/logs' }, client),
      [rec(0)],
      {
        retry: fast,
      },
    );
    expect(seen).toEqual([
      { name: 'logs', arn: undefined },
      { name: undefined, arn: 'arn:aws:kinesis:eu-west-1:1:stream/logs' },
    ]);
  });
});
