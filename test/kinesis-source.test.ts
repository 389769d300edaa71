/**
 * The Kinesis daemon source against kinesis-local (a real Kinesis Data Streams emulator on
 * loopback): all shards read, checkpoint after acknowledgement, restart without loss or re-delivery
 * behind the checkpoint, a failed acknowledgement rewinds, a split shard's children are read after
 * their parent, and the daemon runner drives it end to end. Throttling and iterator expiry cannot be
 * provoked on the emulator: src/sources/kinesis.test.ts covers them with a scripted client.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import {
  type KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlMessage, encodeCloudWatchPayload } from '../src/aws/cloudwatch-payload.js';
import { runDaemon } from '../src/core/daemon.js';
import type { SourceEnvelope } from '../src/core/source.js';
import { BlackholeSink, blackholeSinkConfig } from '../src/sinks/blackhole.js';
import { KinesisSource, kinesisSourceConfig } from '../src/sources/kinesis.js';
import { createTestStream, kinesisTestClient, waitStreamActive } from './infra/kinesis.js';
import { kinesisUrl } from './infra/services.js';

let url: string;
let kinesis: KinesisClient;
const dir = mkdtempSync(join(tmpdir(), 'logferry-kinesis-'));

beforeAll(() => {
  url = kinesisUrl();
  kinesis = kinesisTestClient(url);
});
afterAll(() => kinesis?.destroy());

const createStream = (shards: number) => createTestStream(kinesis, 'logs', shards);

/** A CloudWatch Logs subscription payload (gzip DATA_MESSAGE) with `n` events `p<i>-<k>`. */
function payload(i: number, n = 3): Uint8Array {
  return encodeCloudWatchPayload({
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: '/aws/lambda/orders',
    logStream: '2026/11/22/[$LATEST]abc',
    subscriptionFilters: ['to-kinesis'],
    logEvents: Array.from({ length: n }, (_, k) => ({
      id: `p${i}-${k}`,
      timestamp: 1_763_800_000_000 + i,
      message: `event ${i}/${k}`,
    })),
  });
}

const CONTROL = encodeCloudWatchPayload(controlMessage(1, 'Kinesis stream'));

async function put(name: string, items: { data: Uint8Array; key: string; hash?: string }[]): Promise<void> {
  for (let i = 0; i < items.length; i += 100) {
    const res = await kinesis.send(
      new PutRecordsCommand({
        StreamName: name,
        Records: items
          .slice(i, i + 100)
          .map((it) => ({ Data: it.data, PartitionKey: it.key, ExplicitHashKey: it.hash })),
      }),
    );
    expect(res.FailedRecordCount ?? 0).toBe(0);
  }
}

function shardOf(env: SourceEnvelope): string {
  return env.ackId.split('/')[0];
}
function seqOf(env: SourceEnvelope): bigint {
  return BigInt(env.ackId.split('/')[1]);
}

function config(stream: string, checkpointPath: string, extra: Record<string, unknown> = {}) {
  return kinesisSourceConfig.parse({
    type: 'kinesis',
    stream,
    checkpointPath,
    endpoint: url,
    pollIntervalMs: 200,
    checkpointIntervalMs: 0,
    shardSyncIntervalMs: 1_000,
    ...extra,
  });
}

/** Iterates until `done` says so or the time runs out; `onEnvelope` decides how to acknowledge. */
async function collect(
  src: KinesisSource,
  onEnvelope: (env: SourceEnvelope, all: SourceEnvelope[]) => Promise<'continue' | 'stop'>,
  timeoutMs = 30_000,
): Promise<SourceEnvelope[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const all: SourceEnvelope[] = [];
  try {
    for await (const env of src.envelopes(ac.signal)) {
      all.push(env);
      if ((await onEnvelope(env, all)) === 'stop') break;
    }
  } finally {
    clearTimeout(timer);
  }
  return all;
}

const delivered = { kind: 'delivered' } as const;
const idsOf = (envs: SourceEnvelope[]) => envs.flatMap((e) => e.records.map((r) => r.meta.id));

describe('kinesis source (kinesis-local)', () => {
  it("reads records as Fluent Bit's kinesis_streams output writes them, beside CloudWatch payloads, with ids from shard + sequence number + line", async () => {
    const name = await createStream(2);
    // kinesis_streams: one msgpack record → its JSON + "\n" per Kinesis record, random partition
    // key; with time_key the time is added in time_key_format (default %Y-%m-%dT%H:%M:%S, no zone);
    // with log_key only that value is sent (plain text). Kinesis Agent / other producers: NDJSON
    // batches, gzip or zlib compressed.
    const fb = (o: object) => Buffer.from(`${JSON.stringify(o)}\n`);
    const items = [
      {
        data: fb({ log: 'GET /healthz 200', stream: 'stdout', kubernetes: { pod_name: 'web-1' } }),
        key: 'a1',
      },
      { data: fb({ '@timestamp': '2026-12-05T10:00:00', log: 'started', level: 'info' }), key: 'b2' },
      { data: Buffer.from('E1205 10:00:01.123 1 reflector.go:138] watch failed\n'), key: 'c3' },
      { data: gzipSync('{"message":"one","ts":1764928800}\n{"message":"two"}\n'), key: 'd4' },
      { data: deflateSync('{"message":"three"}\nnot json\n'), key: 'e5' },
      { data: payload(1, 2), key: 'f6' },
      { data: CONTROL, key: 'g7' },
    ];
    await put(name, items);
    const read = async (format: 'auto' | 'cloudwatch') => {
      const src = new KinesisSource(
        config(name, join(dir, `${name}-${format}-${Date.now()}.json`), { format }),
      );
      const envs = await collect(src, async (env, all) => {
        await src.ack(env, delivered);
        return all.length >= items.length ? 'stop' : 'continue';
      });
      await src.close();
      return envs;
    };
    const envs = await read('auto');
    expect(envs.filter((e) => e.malformed)).toEqual([]);
    expect(envs.filter((e) => e.control)).toHaveLength(1);
    const records = envs.flatMap((e) => e.records);
    expect(records.map((r) => r.message).sort()).toEqual(
      [
        'E1205 10:00:01.123 1 reflector.go:138] watch failed',
        'GET /healthz 200',
        'event 1/0',
        'event 1/1',
        'not json',
        'one',
        'started',
        'three',
        'two',
      ].sort(),
    );
    for (const env of envs) {
      const [shard, seq] = env.ackId.split('/');
      for (const [i, r] of env.records.entries()) {
        if (r.meta.logGroup === '/aws/lambda/orders') continue; // CloudWatch event ids
        expect(r.meta).toMatchObject({
          logGroup: name,
          logStream: shard,
          id: `${shard}:${seq}:${i}`,
          source: 'kinesis',
        });
      }
    }
    const started = records.find((r) => r.message === 'started');
    expect(started?.timestamp).toBe(Date.UTC(2026, 11, 5, 10, 0, 0));
    expect(started?.fields).toEqual({ '@timestamp': '2026-12-05T10:00:00', level: 'info' });
    expect(records.find((r) => r.message === 'one')?.timestamp).toBe(1_764_928_800_000);
    expect(records.find((r) => r.message === 'GET /healthz 200')?.fields).toMatchObject({
      kubernetes: { pod_name: 'web-1' },
    });
    // Read again from the start (a redrive): the very same ids.
    const again = await read('auto');
    expect(idsOf(again).sort()).toEqual(idsOf(envs).sort());
    // CloudWatch-only: everything but the payload and the control message is malformed.
    const strict = await read('cloudwatch');
    expect(
      strict
        .filter((e) => e.malformed)
        .map((e) => e.malformed?.code)
        .sort(),
    ).toEqual([
      'ENVELOPE_NOT_GZIP',
      'ENVELOPE_NOT_GZIP',
      'ENVELOPE_NOT_GZIP',
      'ENVELOPE_NOT_GZIP',
      'ENVELOPE_NOT_JSON',
    ]);
  });

  it('reads all shards, and after a crash resumes after the checkpoint: nothing lost, nothing behind it again', async () => {
    const name = await createStream(2);
    const items = Array.from({ length: 30 }, (_, i) => ({ data: payload(i), key: `pk-${i}` }));
    items.splice(10, 0, { data: CONTROL, key: 'control' });
    // Cut short: malformed in every format (plain text would be a record in `format: auto`).
    items.splice(20, 0, { data: payload(99).subarray(0, 20), key: 'bad' });
    await put(name, items);
    const cpPath = join(dir, `${name}.json`);
    const expectedIds = Array.from({ length: 30 }, (_, i) => [0, 1, 2].map((k) => `p${i}-${k}`)).flat();

    // Run 1: acknowledge the first 12 envelopes, read 8 more without acknowledging, then "crash"
    // (stop without close(): nothing is flushed on the way out).
    const src1 = new KinesisSource(config(name, cpPath));
    const acked1: SourceEnvelope[] = [];
    const run1 = await collect(src1, async (env, all) => {
      if (all.length <= 12) {
        await src1.ack(env, delivered);
        acked1.push(env);
      }
      return all.length >= 20 ? 'stop' : 'continue';
    });
    expect(new Set(run1.map(shardOf)).size).toBe(2); // both shards were read
    const cp = JSON.parse(readFileSync(cpPath, 'utf8')) as {
      stream: string;
      shards: Record<string, { seq?: string }>;
    };
    expect(cp.stream).toBe(name);
    // The checkpoint covers exactly the acknowledged prefix of each shard.
    for (const shard of new Set(acked1.map(shardOf))) {
      const last = acked1
        .filter((e) => shardOf(e) === shard)
        .map(seqOf)
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
        .at(-1);
      expect(BigInt(cp.shards[shard].seq as string)).toBe(last);
    }

    // Run 2: a new process with the same checkpoint reads the rest.
    const src2 = new KinesisSource(config(name, cpPath));
    const run2 = await collect(src2, async (env, all) => {
      await src2.ack(env, delivered);
      return all.length >= items.length - acked1.length ? 'stop' : 'continue';
    });
    await src2.close();

    for (const env of run2) {
      const saved = cp.shards[shardOf(env)]?.seq;
      if (saved) expect(seqOf(env)).toBeGreaterThan(BigInt(saved)); // nothing behind the checkpoint again
    }
    const ids2 = idsOf(run2);
    expect(new Set(ids2).size).toBe(ids2.length); // no duplicates within the run
    expect(idsOf(acked1).filter((id) => ids2.includes(id))).toEqual([]);
    expect([...idsOf(acked1), ...ids2].sort()).toEqual([...expectedIds].sort()); // nothing lost
    // Envelopes read but never acknowledged in run 1 came again.
    const unacked = run1.slice(12).map((e) => e.ackId);
    expect(unacked.every((a) => run2.some((e) => e.ackId === a))).toBe(true);

    const all = [...acked1, ...run2];
    expect(all.filter((e) => e.control)).toHaveLength(1);
    const bad = all.filter((e) => e.malformed);
    expect(bad).toHaveLength(1);
    expect(bad[0].malformed?.code).toBe('ENVELOPE_GZIP_TRUNCATED');
    expect(bad[0].malformed?.reason).toContain(name);
  });

  it('a failed acknowledgement rewinds the shard to its checkpoint and the records come again', async () => {
    const name = await createStream(1);
    await put(
      name,
      [0, 1, 2].map((i) => ({ data: payload(i, 1), key: 'k' })),
    );
    const src = new KinesisSource(config(name, join(dir, `${name}.json`)));
    let failedOnce = false;
    const seen = await collect(src, async (env, all) => {
      const id = env.records[0]?.meta.id;
      if (id === 'p1-0' && !failedOnce) {
        failedOnce = true;
        await src.ack(env, { kind: 'failed', code: 'SINK_UNAVAILABLE', reason: 'down' });
      } else {
        await src.ack(env, delivered);
      }
      const again = idsOf(all).filter((i) => i === 'p1-0').length === 2;
      return again && id === 'p2-0' ? 'stop' : 'continue';
    });
    await src.close();
    // p2 may or may not have been read before the rewind; p1 must come again, and p0 must not.
    const ids = idsOf(seen);
    expect(ids.filter((i) => i === 'p0-0')).toHaveLength(1);
    expect(ids.filter((i) => i === 'p1-0')).toHaveLength(2);
    expect(ids.at(-1)).toBe('p2-0');
    expect(src.stats.rewinds).toBe(1);
  });

  it('skips records known delivered: those acknowledged past the checkpoint before a crash, or before a rewind, are not sent again and are counted skipped', async () => {
    const name = await createStream(1);
    await put(
      name,
      Array.from({ length: 8 }, (_, i) => ({ data: payload(i, 2), key: 'k' })),
    );
    const cpPath = join(dir, `${name}.json`);
    // Run 1: p0, p1 acknowledged in order (the checkpoint moves to p1), p4 and p5 out of order
    // (delivered, but the checkpoint cannot pass p2, p3); then kill -9: no close().
    const src1 = new KinesisSource(config(name, cpPath));
    const run1 = await collect(src1, async (env, all) => {
      if ([0, 1, 4, 5].includes(all.length - 1)) await src1.ack(env, delivered);
      return all.length >= 8 ? 'stop' : 'continue';
    });
    expect(run1.every((e) => !e.redelivered)).toBe(true);
    const cp = JSON.parse(readFileSync(cpPath, 'utf8')) as {
      shards: Record<string, { seq: string; acked?: string[] }>;
    };
    const shard = shardOf(run1[0]);
    expect(cp.shards[shard].seq).toBe(String(seqOf(run1[1])));
    expect(cp.shards[shard].acked?.sort()).toEqual([seqOf(run1[4]), seqOf(run1[5])].map(String).sort());

    // Run 2: everything after p1 is read again; p4 and p5 (and only they) are skipped. p3 is held
    // and fails once p6 was delivered: the rewind reads p3.. again, p4-p6 skipped.
    const src2 = new KinesisSource(config(name, cpPath));
    let held: SourceEnvelope | undefined;
    let failed = false;
    const run2 = await collect(
      src2,
      async (env) => {
        const id = env.records[0]?.meta.id;
        if (id === 'p3-0' && !held) held = env;
        else await src2.ack(env, delivered);
        if (id === 'p6-0' && held && !failed) {
          failed = true;
          await src2.ack(held, { kind: 'failed', code: 'SINK_UNAVAILABLE', reason: 'down' });
        }
        return id === 'p7-0' ? 'stop' : 'continue';
      },
      20_000,
    );
    await src2.close();
    const first = (e: SourceEnvelope) => e.records[0].meta.id;
    expect(run2.map(first)).toEqual(['p2-0', 'p3-0', 'p6-0', 'p3-0', 'p7-0']);
    expect(run2.every((e) => !e.redelivered && e.records.every((r) => !r.meta.redelivered))).toBe(true);
    // Events: p4, p5 at the first read; p4, p5, p6 after the rewind.
    expect(src2.stats.skipped).toBe(10);
    // Everything passed: no acked list left behind the checkpoint.
    const end = JSON.parse(readFileSync(cpPath, 'utf8')) as {
      shards: Record<string, { seq: string; acked?: string[] }>;
    };
    expect(end.shards[shard].seq).toBe(String(seqOf(run1[7])));
    expect(end.shards[shard].acked).toBeUndefined();

    // Under the runner: a third start after a checkpoint that still lists delivered records does
    // not send them (nothing re-delivered), and counts them skipped.
    writeFileSync(
      cpPath,
      JSON.stringify({
        version: 1,
        stream: name,
        shards: { [shard]: { seq: String(seqOf(run1[1])), acked: [String(seqOf(run1[4]))] } },
      }),
    );
    const src3 = new KinesisSource(config(name, cpPath));
    const sink = new BlackholeSink(blackholeSinkConfig.parse({ type: 'blackhole', maxAgeMs: 50 }));
    const ac = new AbortController();
    const stopper = setTimeout(() => ac.abort(), 30_000);
    const res = await runDaemon({
      sources: [src3],
      transforms: [],
      sinks: [sink],
      signal: ac.signal,
      onProgress: (p) => {
        if (p.envelopes.acked >= 5) ac.abort();
      },
      progressIntervalMs: 50,
    });
    clearTimeout(stopper);
    expect(sink.stats.records).toBe(10);
    expect(res.redelivered.get(src3.name) ?? 0).toBe(0);
    expect(src3.stats.skipped).toBe(2);
  });

  it('a rewind before any checkpoint (start at LATEST) re-reads from the first record, not from LATEST', async () => {
    const name = await createStream(1);
    const src = new KinesisSource(config(name, join(dir, `${name}.json`), { startPosition: 'LATEST' }));
    // Written only once the reader holds its LATEST iterator.
    const writer = new Promise((r) => setTimeout(r, 1_500)).then(() =>
      put(
        name,
        [0, 1].map((i) => ({ data: payload(i, 1), key: 'k' })),
      ),
    );
    let failed = false;
    const seen = await collect(
      src,
      async (env, all) => {
        if (!failed) {
          failed = true;
          await src.ack(env, { kind: 'failed', code: 'SINK_UNAVAILABLE', reason: 'down' });
        } else await src.ack(env, delivered);
        const ids = idsOf(all);
        return ids.filter((i) => i === 'p1-0').length >= 1 && ids.filter((i) => i === 'p0-0').length === 2
          ? 'stop'
          : 'continue';
      },
      20_000,
    );
    await writer;
    await src.close();
    expect(idsOf(seen).filter((i) => i === 'p0-0')).toHaveLength(2);
  });

  it('a source started at LATEST and stopped before reading anything resumes from its first start, not from LATEST again', async () => {
    const name = await createStream(2);
    const cp = join(dir, `${name}.json`);
    const first = new KinesisSource(config(name, cp, { startPosition: 'LATEST' }));
    // Nothing is put while it runs; it stops (or is killed) before its first record.
    const none = await collect(first, async () => 'continue', 1_500);
    await first.close();
    expect(none).toHaveLength(0);
    const startedAt = JSON.parse(readFileSync(cp, 'utf8')).startedAt as number;
    expect(typeof startedAt).toBe('number');
    // Put while logferry is down.
    await put(
      name,
      [0, 1, 2, 3].map((i) => ({ data: payload(i, 1), key: `k${i}` })),
    );
    const second = new KinesisSource(config(name, cp, { startPosition: 'LATEST' }));
    const seen = await collect(second, async (env, all) => {
      await second.ack(env, delivered);
      return idsOf(all).length >= 4 ? 'stop' : 'continue';
    });
    await second.close();
    expect(idsOf(seen).sort()).toEqual(['p0-0', 'p1-0', 'p2-0', 'p3-0']);
  });

  it('after a split, reads the parent to its end before either child, then both children', async () => {
    const name = await createStream(1);
    await put(
      name,
      Array.from({ length: 10 }, (_, i) => ({ data: payload(i, 1), key: `a${i}` })),
    );
    const shards = await kinesis.send(new ListShardsCommand({ StreamName: name }));
    const parent = shards.Shards?.[0]?.ShardId as string;
    await kinesis.send(
      new SplitShardCommand({
        StreamName: name,
        ShardToSplit: parent,
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitStreamActive(kinesis, name);
    const low = '1';
    const high = (2n ** 128n - 2n).toString();
    await put(
      name,
      Array.from({ length: 10 }, (_, i) => ({
        data: payload(100 + i, 1),
        key: `b${i}`,
        hash: i % 2 === 0 ? low : high,
      })),
    );

    const src = new KinesisSource(config(name, join(dir, `${name}.json`)));
    // Parent envelopes are acknowledged late (as a slow sink would); no child may be read before
    // the last of them is acknowledged.
    const parentAcks: Promise<void>[] = [];
    let lastParentAckAt = Number.POSITIVE_INFINITY;
    const childSeenAt: number[] = [];
    const seen = await collect(src, async (env, all) => {
      if (shardOf(env) === parent) {
        const last = all.length === 10;
        parentAcks.push(
          new Promise<void>((r) => setTimeout(r, 500)).then(() => {
            if (last) lastParentAckAt = Date.now();
            return src.ack(env, delivered);
          }),
        );
      } else {
        childSeenAt.push(Date.now());
        await src.ack(env, delivered);
      }
      return all.length >= 20 ? 'stop' : 'continue';
    });
    await Promise.all(parentAcks);
    expect(childSeenAt).toHaveLength(10);
    expect(Math.min(...childSeenAt)).toBeGreaterThanOrEqual(lastParentAckAt);
    await src.close();
    expect(seen).toHaveLength(20);
    const order = seen.map(shardOf);
    const lastParent = order.lastIndexOf(parent);
    const firstChild = order.findIndex((s) => s !== parent);
    expect(lastParent).toBe(9);
    expect(firstChild).toBe(10);
    const children = new Set(order.slice(10));
    expect(children.size).toBe(2);
    expect(idsOf(seen.slice(0, 10))).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}-0`));
    const cp = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
    expect(cp.shards[parent].finished).toBe(true);
  });

  it('after a merge, reads both parents before the child', async () => {
    const name = await createStream(2);
    const low = '1';
    const high = (2n ** 128n - 2n).toString();
    await put(
      name,
      Array.from({ length: 8 }, (_, i) => ({ data: payload(i, 1), key: `a${i}`, hash: i % 2 ? high : low })),
    );
    const listed = await kinesis.send(new ListShardsCommand({ StreamName: name }));
    const [a, b] = (listed.Shards ?? []).map((s) => s.ShardId as string);
    await kinesis.send(
      new MergeShardsCommand({ StreamName: name, ShardToMerge: a, AdjacentShardToMerge: b }),
    );
    await waitStreamActive(kinesis, name);
    await put(
      name,
      Array.from({ length: 4 }, (_, i) => ({ data: payload(50 + i, 1), key: `m${i}` })),
    );
    const src = new KinesisSource(config(name, join(dir, `${name}.json`)));
    const seen = await collect(src, async (env, all) => {
      await src.ack(env, delivered);
      return all.length >= 12 ? 'stop' : 'continue';
    });
    await src.close();
    const order = seen.map(shardOf);
    expect(order.slice(0, 8).every((s) => s === a || s === b)).toBe(true);
    expect(new Set(order.slice(8)).size).toBe(1);
    expect([a, b]).not.toContain(order[8]);
    expect(idsOf(seen.slice(8))).toEqual(['p50-0', 'p51-0', 'p52-0', 'p53-0']);
  });

  it('fails clearly when the stream does not exist', async () => {
    const src = new KinesisSource(config('no-such-stream', join(dir, 'none.json')));
    await expect(collect(src, async () => 'stop', 10_000)).rejects.toThrow(
      /cannot list the shards of no-such-stream/,
    );
  });

  it('runs under the daemon runner (stream given by ARN): every record delivered, control dropped, tally balanced', async () => {
    const name = await createStream(2);
    await put(name, [
      ...Array.from({ length: 20 }, (_, i) => ({ data: payload(i, 5), key: `k${i}` })),
      { data: CONTROL, key: 'c' },
    ]);
    const arn = `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`;
    const src = new KinesisSource(
      kinesisSourceConfig.parse({
        type: 'kinesis',
        streamArn: arn,
        checkpointPath: join(dir, `${name}.json`),
        endpoint: url,
        pollIntervalMs: 200,
        checkpointIntervalMs: 0,
      }),
    );
    const sink = new BlackholeSink(blackholeSinkConfig.parse({ type: 'blackhole', maxAgeMs: 50 }));
    const ac = new AbortController();
    const done = runDaemon({
      sources: [src],
      transforms: [],
      sinks: [sink],
      signal: ac.signal,
      onProgress: (p) => {
        if (p.envelopes.acked >= 21) ac.abort();
      },
      progressIntervalMs: 50,
    });
    const stopper = setTimeout(() => ac.abort(), 30_000);
    const res = await done;
    clearTimeout(stopper);
    expect(sink.stats.records).toBe(100);
    expect(res.balanced).toBe(true);
    expect(res.tally.total.delivered).toBe(100);
    expect(res.tally.byReason.get('dropped:CONTROL_MESSAGE')).toBe(1);
    expect(res.tally.byReason.get('dropped:CONTROL_MESSAGE')).toBe(1);
    const cp = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
    expect(Object.keys(cp.shards).length).toBe(2);
  });
});
