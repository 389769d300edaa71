/**
 * Unit tests of the Kinesis source's config and of what the emulator cannot provoke (throttling,
 * iterator expiry), with a scripted client. The emulator-backed tests are in test/kinesis-source.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GetShardIteratorCommandInput } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { encodeCloudWatchPayload } from '../aws/cloudwatch-payload.js';
import { parseJournal } from '../core/redelivery-journal.js';
import type { SourceEnvelope } from '../core/source.js';
import { type KinesisApi, KinesisSource, kinesisSourceConfig } from './kinesis.js';

const dir = mkdtempSync(join(tmpdir(), 'logferry-kinesis-unit-'));

function payload(id: string): Uint8Array {
  return encodeCloudWatchPayload({
    messageType: 'DATA_MESSAGE',
    owner: '1',
    logGroup: '/g',
    logStream: 's',
    subscriptionFilters: [],
    logEvents: [{ id, timestamp: 1, message: id }],
  });
}

function cfg(file: string, extra: Record<string, unknown> = {}) {
  return kinesisSourceConfig.parse({
    type: 'kinesis',
    stream: 'logs',
    checkpointPath: join(dir, file),
    pollIntervalMs: 200,
    ...extra,
  });
}

/** A scripted client: one shard; `records` answers GetRecords calls in turn. */
function scripted(records: (() => unknown)[]) {
  const iterators: GetShardIteratorCommandInput[] = [];
  let calls = 0;
  const client: KinesisApi = {
    async send(cmd) {
      const name = cmd.constructor.name;
      if (name === 'ListShardsCommand') return { Shards: [{ ShardId: 'shardId-000000000000' }] };
      if (name === 'GetShardIteratorCommand') {
        iterators.push(cmd.input as GetShardIteratorCommandInput);
        return { ShardIterator: `it-${iterators.length}` };
      }
      const next = records[calls++];
      if (!next) return new Promise(() => {}); // nothing more: hang like an idle shard
      return next();
    },
  };
  return { client, iterators, calls: () => calls };
}

async function take(src: KinesisSource, n: number): Promise<SourceEnvelope[]> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), 10_000);
  const out: SourceEnvelope[] = [];
  for await (const env of src.envelopes(ac.signal)) {
    out.push(env);
    await src.ack(env, { kind: 'delivered' });
    if (out.length >= n) break;
  }
  clearTimeout(t);
  return out;
}

const throttle = () => {
  throw Object.assign(new Error('Rate exceeded for shard'), {
    name: 'ProvisionedThroughputExceededException',
  });
};

describe('kinesis source config', () => {
  it('needs exactly one of stream or streamArn, and a timestamp for AT_TIMESTAMP', () => {
    const base = { type: 'kinesis', checkpointPath: 'cp.json' };
    expect(kinesisSourceConfig.safeParse(base).success).toBe(false);
    expect(
      kinesisSourceConfig.safeParse({
        ...base,
        stream: 's',
        streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s',
      }).success,
    ).toBe(false);
    expect(
      kinesisSourceConfig.safeParse({ ...base, streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s' })
        .success,
    ).toBe(true);
    expect(kinesisSourceConfig.safeParse({ ...base, streamArn: 'not-an-arn' }).success).toBe(false);
    expect(
      kinesisSourceConfig.safeParse({ ...base, stream: 's', startPosition: 'AT_TIMESTAMP' }).success,
    ).toBe(false);
    expect(
      kinesisSourceConfig.safeParse({
        ...base,
        stream: 's',
        startPosition: 'AT_TIMESTAMP',
        startTimestamp: '2026-11-22T00:00:00Z',
      }).success,
    ).toBe(true);
    expect(kinesisSourceConfig.safeParse({ ...base, stream: 's', maxRecords: 10_001 }).success).toBe(false);
    expect(kinesisSourceConfig.safeParse({ ...base, stream: 's', pollIntervalMs: 50 }).success).toBe(false);
  });
});

describe('kinesis source (scripted client)', () => {
  it('backs off on ProvisionedThroughputExceededException and then reads', async () => {
    const s = scripted([
      throttle,
      throttle,
      () => ({
        Records: [{ SequenceNumber: '1', Data: payload('a') }],
        NextShardIterator: 'n',
        MillisBehindLatest: 0,
      }),
    ]);
    const src = new KinesisSource(cfg('throttle.json'), {}, { client: s.client, random: () => 0 });
    const seen = await take(src, 1);
    expect(seen[0].records[0].meta.id).toBe('a');
    expect(src.stats.throttled).toBe(2);
    expect(s.calls()).toBe(3);
  });

  it('re-acquires an expired iterator after the last record read, not from the start', async () => {
    const s = scripted([
      () => ({
        Records: [{ SequenceNumber: '11', Data: payload('a') }],
        NextShardIterator: 'n1',
        MillisBehindLatest: 5,
      }),
      () => {
        throw Object.assign(new Error('Iterator expired'), { name: 'ExpiredIteratorException' });
      },
      () => ({
        Records: [{ SequenceNumber: '12', Data: payload('b') }],
        NextShardIterator: 'n2',
        MillisBehindLatest: 0,
      }),
    ]);
    const src = new KinesisSource(cfg('expired.json'), {}, { client: s.client, random: () => 0 });
    const seen = await take(src, 2);
    expect(seen.map((e) => e.records[0].meta.id)).toEqual(['a', 'b']);
    expect(s.iterators.map((i) => [i.ShardIteratorType, i.StartingSequenceNumber])).toEqual([
      ['TRIM_HORIZON', undefined],
      ['AFTER_SEQUENCE_NUMBER', '11'],
    ]);
  });

  it('resumes AFTER_SEQUENCE_NUMBER from the checkpoint and refuses a checkpoint of another stream', async () => {
    writeFileSync(
      join(dir, 'resume.json'),
      JSON.stringify({ version: 1, stream: 'logs', shards: { 'shardId-000000000000': { seq: '41' } } }),
    );
    const s = scripted([
      () => ({
        Records: [{ SequenceNumber: '42', Data: payload('c') }],
        NextShardIterator: 'n',
        MillisBehindLatest: 0,
      }),
    ]);
    const src = new KinesisSource(cfg('resume.json', { startPosition: 'LATEST' }), {}, { client: s.client });
    await take(src, 1);
    expect(s.iterators[0]).toMatchObject({
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      StartingSequenceNumber: '41',
    });

    writeFileSync(
      join(dir, 'other.json'),
      JSON.stringify({ version: 1, stream: 'someone-else', shards: {} }),
    );
    const other = new KinesisSource(cfg('other.json'), {}, { client: scripted([]).client });
    await expect(take(other, 1)).rejects.toThrow(/belongs to stream someone-else/);
  });

  it('keeps the checkpoint at the highest sequence with every earlier one acknowledged', async () => {
    const s = scripted([
      () => ({
        Records: ['1', '2', '3'].map((n) => ({ SequenceNumber: n, Data: payload(n) })),
        NextShardIterator: 'n',
        MillisBehindLatest: 0,
      }),
    ]);
    const src = new KinesisSource(cfg('order.json', { checkpointIntervalMs: 0 }), {}, { client: s.client });
    const ac = new AbortController();
    const got: SourceEnvelope[] = [];
    for await (const env of src.envelopes(ac.signal)) {
      got.push(env);
      if (got.length === 3) break;
    }
    await src.ack(got[2], { kind: 'delivered' });
    await src.ack(got[0], { kind: 'rejected', code: 'X', reason: 'dead-lettered counts as handled' });
    expect((await src.readCheckpoint())?.shards['shardId-000000000000'].seq).toBe('1');
    await src.ack(got[1], { kind: 'dropped', code: 'Y', reason: 'filtered' });
    expect((await src.readCheckpoint())?.shards['shardId-000000000000'].seq).toBe('3');
  });
});

describe('kinesis source bounded mode (--once)', () => {
  it('reads until MillisBehindLatest is 0, then ends without another call', async () => {
    const rec = (seq: string) => ({ SequenceNumber: seq, Data: payload(`e${seq}`) });
    const s = scripted([
      () => ({ Records: [rec('1'), rec('2')], NextShardIterator: 'n1', MillisBehindLatest: 5_000 }),
      // Behind but empty (Kinesis does this): keep reading.
      () => ({ Records: [], NextShardIterator: 'n2', MillisBehindLatest: 1_000 }),
      () => ({ Records: [rec('3')], NextShardIterator: 'n3', MillisBehindLatest: 0 }),
      () => ({ Records: [rec('4')], NextShardIterator: 'n4', MillisBehindLatest: 0 }),
    ]);
    const src = new KinesisSource(cfg('bounded.json'), {}, { client: s.client, random: () => 0 });
    expect(src.bounded()).toBeUndefined();
    const got: string[] = [];
    const ac = new AbortController();
    for await (const env of src.envelopes(ac.signal)) {
      got.push(env.ackId);
      await src.ack(env, { kind: 'delivered' });
    }
    expect(got).toEqual(['shardId-000000000000/1', 'shardId-000000000000/2', 'shardId-000000000000/3']);
    expect(s.calls()).toBe(3);
    await src.close();
    expect((await src.readCheckpoint())?.shards['shardId-000000000000'].seq).toBe('3');
  });

  it('ends at SHARD_END of a closed shard', async () => {
    const s = scripted([
      () => ({ Records: [{ SequenceNumber: '7', Data: payload('x') }], MillisBehindLatest: 0 }),
    ]);
    const src = new KinesisSource(cfg('bounded-end.json'), {}, { client: s.client });
    src.bounded();
    const got: string[] = [];
    for await (const env of src.envelopes(new AbortController().signal)) {
      got.push(env.ackId);
      await src.ack(env, { kind: 'delivered' });
    }
    expect(got).toEqual(['shardId-000000000000/7']);
  });
});

describe('kinesis source acknowledgement journal (kill -9 between checkpoint writes)', () => {
  const shard = 'shardId-000000000000';
  /** A record whose CloudWatch payload holds two events (counts are per event). */
  const rec = (seq: string) => ({
    SequenceNumber: seq,
    Data: encodeCloudWatchPayload({
      messageType: 'DATA_MESSAGE',
      owner: '1',
      logGroup: '/g',
      logStream: 's',
      subscriptionFilters: [],
      logEvents: [0, 1].map((k) => ({ id: `${seq}-${k}`, timestamp: 1, message: `${seq}/${k}` })),
    }),
  });
  const batch = (seqs: string[]) => () => ({
    Records: seqs.map(rec),
    NextShardIterator: 'n',
    MillisBehindLatest: 0,
  });

  /** Hands out `n` envelopes, acknowledging those `ack` picks, then stops iterating without close() (a crash). */
  async function crashRun(src: KinesisSource, n: number, ack: (seq: string) => boolean): Promise<string[]> {
    const ac = new AbortController();
    const out: string[] = [];
    for await (const env of src.envelopes(ac.signal)) {
      const seq = env.ackId.split('/')[1];
      out.push(seq);
      if (ack(seq)) await src.ack(env, { kind: 'delivered' });
      if (out.length >= n) break;
    }
    return out;
  }

  it('a restart skips what was acknowledged after the last checkpoint write and counts what was in flight, at every start', async () => {
    const dataDir = mkdtempSync(join(dir, 'journal-'));
    // No checkpoint write within the test: only the journal knows.
    const c = cfg('journal.json', { checkpointIntervalMs: 3_600_000 });
    const ctx = { dataDir };
    // Run 1: 1, 2 and 4 acknowledged, 3 and 5 in flight, 6 read ahead (never handed out, but its
    // intent was journaled with the others queued when 1 was handed out: possible too).
    const s1 = scripted([batch(['1', '2', '3', '4', '5', '6'])]);
    const src1 = new KinesisSource(c, ctx, { client: s1.client });
    expect(await crashRun(src1, 5, (q) => ['1', '2', '4'].includes(q))).toEqual(['1', '2', '3', '4', '5']);
    // Run 2 resumes after 2 (the journal's checkpoint); 4 is skipped, 3 handed out again (possible),
    // then a crash before its acknowledgement.
    const s2 = scripted([batch(['3', '4', '5', '6'])]);
    const src2 = new KinesisSource(c, ctx, { client: s2.client });
    expect(await crashRun(src2, 1, () => false)).toEqual(['3']);
    expect(s2.iterators[0]).toMatchObject({
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      StartingSequenceNumber: '2',
    });
    expect(src2.stats).toMatchObject({ skipped: 2, possibleDuplicates: 2 });
    // Run 3: 3 is a possible duplicate again (it may have reached the sink in run 2 too), so are 5
    // and 6.
    const s3 = scripted([batch(['3', '4', '5', '6'])]);
    const src3 = new KinesisSource(c, ctx, { client: s3.client });
    expect(await crashRun(src3, 3, () => true)).toEqual(['3', '5', '6']);
    expect(s3.iterators[0]).toMatchObject({
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      StartingSequenceNumber: '2',
    });
    expect(src3.stats).toMatchObject({ skipped: 2, possibleDuplicates: 6, envelopes: 3, records: 6 });
    await src3.close();
    expect((await src3.readCheckpoint())?.shards[shard]).toEqual({ seq: '6' });
    const totals = parseJournal(
      readFileSync(join(dataDir, 'state', 'kinesis', 'redelivered.journal'), 'utf8'),
    );
    expect(totals).toEqual({ starts: 3, records: 0, possible: 8, skipped: 4 });
    // Compacted at the checkpoint write: nothing outstanding, so no generation is left.
    expect(
      readdirSync(join(dataDir, 'state', 'kinesis')).filter((f) => /^acked\.\d+\.journal$/.test(f)),
    ).toEqual([]);
  });

  it('a shard with no checkpoint yet restarts at the first record journaled (AT_SEQUENCE_NUMBER), not at LATEST again', async () => {
    const dataDir = mkdtempSync(join(dir, 'journal-latest-'));
    const c = cfg('journal-latest.json', { checkpointIntervalMs: 3_600_000, startPosition: 'LATEST' });
    const s1 = scripted([batch(['10', '11', '12'])]);
    expect(
      await crashRun(new KinesisSource(c, { dataDir }, { client: s1.client }), 2, (q) => q === '11'),
    ).toEqual(['10', '11']);
    expect(s1.iterators[0]).toMatchObject({ ShardIteratorType: 'LATEST' });
    const s2 = scripted([batch(['10', '11', '12'])]);
    const src2 = new KinesisSource(c, { dataDir }, { client: s2.client });
    expect(await crashRun(src2, 2, () => true)).toEqual(['10', '12']);
    expect(s2.iterators[0]).toMatchObject({
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      StartingSequenceNumber: '10',
    });
    expect(src2.stats).toMatchObject({ skipped: 2, possibleDuplicates: 4 }); // 10, and 12 (declared with it)
    await src2.close();
    expect((await src2.readCheckpoint())?.shards[shard]).toEqual({ seq: '12' });
  });
});
