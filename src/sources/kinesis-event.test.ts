import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { controlMessage, encodeCloudWatchPayload } from '../aws/cloudwatch-payload.js';
import type { Outcome } from '../core/outcome.js';
import {
  compareSequence,
  decodeKinesisEvent,
  decodeKinesisEventAhead,
  type KinesisEventRecord,
  kinesisResponse,
  malformedDeadLetters,
} from './kinesis-event.js';

const ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/logs';
const seq = (n: number) => `4959${String(n).padStart(52, '0')}`;
const gz = (v: object | string) => encodeCloudWatchPayload(v).toString('base64');

function rec(n: number, data: string | undefined, shard = 'shardId-000000000000'): KinesisEventRecord {
  return {
    eventID: `${shard}:${seq(n)}`,
    eventSourceARN: ARN,
    kinesis: { sequenceNumber: seq(n), partitionKey: 'p', data, approximateArrivalTimestamp: 1700000000 },
  };
}

const dataMsg = (events: number) => ({
  messageType: 'DATA_MESSAGE',
  owner: '123456789012',
  logGroup: '/aws/lambda/orders',
  logStream: '2024/01/01/[$LATEST]abcdef0123456789',
  subscriptionFilters: ['to-kinesis'],
  logEvents: Array.from({ length: events }, (_, i) => ({
    id: `ev${i}`,
    timestamp: 1700000000000 + i,
    message: `line ${i}`,
  })),
});

const control = controlMessage(1, 'Kinesis stream');

/** Every kind of record one bad producer can send, beside good ones. */
function poisonRecords(): KinesisEventRecord[] {
  const good = gz(dataMsg(3));
  const gzBytes = encodeCloudWatchPayload(dataMsg(2));
  const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
  const bomb = gzipSync(Buffer.alloc(3_000_000, 'a'));
  return [
    rec(1, good),
    rec(2, gzBytes.subarray(0, gzBytes.length - 9).toString('base64')), // truncated gzip
    rec(
      3,
      Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9]).toString('base64'),
    ),
    rec(4, gz({ ...dataMsg(1), logEvents: [{ id: 'x', timestamp: 1e20, message: 'far future' }] })),
    rec(5, gz({ ...dataMsg(1), logEvents: [{ id: 'd', timestamp: 1, message: deep }] })),
    rec(6, gz(control)),
    rec(7, bomb.toString('base64')), // over the decoded-size cap below
    rec(8, deflateSync('{"msg":"zlib json"}').toString('base64')),
    rec(9, Buffer.from('x^ text that looks like a zlib header\nsecond line').toString('base64')),
    rec(10, Buffer.from([0x78, 0x9c, 0xff, 0xfe, 0xfd]).toString('base64')), // zlib header, bad stream
    rec(11, 'not base64 !!'),
    rec(12, undefined),
    rec(13, gz('{"messageType":"DATA_MESSAGE"')),
    rec(14, good),
  ];
}

describe('decodeKinesisEventAhead', () => {
  const collect = async (event: { Records: KinesisEventRecord[] }, opts = {}) => {
    const stream = decodeKinesisEventAhead(event, opts);
    const out = [];
    for await (const e of stream.envelopes) out.push(e);
    return { count: stream.count, out };
  };

  // syncInflateBelow 0: every payload on the pool; the default inflates these small ones in place.
  for (const format of ['auto', 'cloudwatch'] as const)
    for (const syncInflateBelow of [0, undefined])
      it(`yields exactly what decodeKinesisEvent returns, poison input included (${format}, syncInflateBelow ${syncInflateBelow})`, async () => {
        const event = { Records: poisonRecords() };
        const opts = { format, maxDecodedBytes: 1_000_000, syncInflateBelow };
        const sync = decodeKinesisEvent(event, opts);
        const { count, out } = await collect(event, opts);
        expect(count).toBe(sync.length);
        // Records carry Date.now() only for text without an arrival time; every record here has one.
        expect(out).toEqual(sync);
        expect(sync[0].records).toHaveLength(3);
        expect(sync[6].malformed?.code).toBe('ENVELOPE_TOO_LARGE');
        expect(sync[1].malformed?.code).toBe('ENVELOPE_GZIP_TRUNCATED');
        expect(sync[13].records).toHaveLength(3);
      });

  it('keeps order when more records than the read-ahead window arrive', async () => {
    const event = { Records: Array.from({ length: 23 }, (_, i) => rec(i + 1, gz(dataMsg((i % 5) + 1)))) };
    for (const syncInflateBelow of [0, undefined]) {
      const { out } = await collect(event, { syncInflateBelow });
      expect(out.map((e) => e.ackId)).toEqual(event.Records.map((r) => r.kinesis?.sequenceNumber));
      expect(out).toEqual(decodeKinesisEvent(event));
    }
  });

  it('mixes pool and in-place inflation by announced size, in order', async () => {
    // Every third payload is above the threshold (a large message), the others inflate in place.
    const big = (i: number) => {
      const m = dataMsg(2);
      m.logEvents[0].message = 'x'.repeat(200_000 + i);
      return gz(m);
    };
    const event = {
      Records: Array.from({ length: 10 }, (_, i) =>
        rec(i + 1, i % 3 === 0 ? big(i) : gz(dataMsg((i % 4) + 1))),
      ),
    };
    const { out } = await collect(event, { syncInflateBelow: 100_000 });
    expect(out).toEqual(decodeKinesisEvent(event));
    expect(out[0].records[0].message).toHaveLength(200_000);
    expect(out[3].records[0].message).toHaveLength(200_003);
  });

  it('is empty for an event without records', async () => {
    expect((await collect({ Records: [] })).out).toEqual([]);
    expect(decodeKinesisEventAhead(undefined as never).count).toBe(0);
  });
});

describe('decodeKinesisEvent', () => {
  it('turns each Kinesis record into one envelope keyed by its sequence number', () => {
    const env = decodeKinesisEvent({
      Records: [rec(1, gz(dataMsg(3))), rec(2, gz(control)), rec(3, 'not*base64'), rec(4, undefined)],
    });
    expect(env).toHaveLength(4);
    expect(env[0]).toMatchObject({ ackId: seq(1), shard: `${ARN}/shardId-000000000000` });
    expect(env[0].records.map((r) => [r.message, r.meta.id, r.meta.ackId, r.meta.source])).toEqual([
      ['line 0', 'ev0', seq(1), 'kinesis-event'],
      ['line 1', 'ev1', seq(1), 'kinesis-event'],
      ['line 2', 'ev2', seq(1), 'kinesis-event'],
    ]);
    expect(env[1]).toMatchObject({ control: true, records: [] });
    expect(env[2].malformed).toMatchObject({ code: 'ENVELOPE_BAD_BASE64', payload: 'not*base64' });
    expect(env[3].malformed).toMatchObject({ code: 'ENVELOPE_EMPTY', payload: '' });
  });

  it('never throws on a missing or odd event', () => {
    expect(decodeKinesisEvent({})).toEqual([]);
    expect(decodeKinesisEvent(undefined as never)).toEqual([]);
    expect(decodeKinesisEvent({ Records: [{}] })[0].malformed?.code).toBe('ENVELOPE_EMPTY');
  });

  it('builds dead-letter entries for malformed records with the original payload', () => {
    const notGzip = Buffer.from('plain text').toString('base64');
    const env = decodeKinesisEvent(
      { Records: [rec(1, gz(dataMsg(1))), rec(2, notGzip)] },
      { format: 'cloudwatch' },
    );
    const { index, entries } = malformedDeadLetters(env, '2024-01-01T00:00:00.000Z');
    expect(index).toEqual([1]);
    expect(entries).toEqual([
      {
        code: 'ENVELOPE_NOT_GZIP',
        reason: expect.stringContaining('not gzip'),
        attempts: 0,
        source: 'kinesis-event',
        ackId: seq(2),
        payload: notGzip,
        at: '2024-01-01T00:00:00.000Z',
      },
    ]);
  });
});

describe('records that are not CloudWatch payloads (format auto)', () => {
  const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');
  // As Fluent Bit's kinesis_streams output writes them: one JSON object per record, newline-terminated.
  const fluentBit = '{"log":"GET /healthz 200","stream":"stdout","kubernetes":{"pod_name":"web-1"}}\n';
  const withTimeKey = '{"@timestamp":"2026-12-05T10:00:00.250","log":"started"}\n';

  it('decodes JSON, NDJSON and text lines, gzip or zlib compressed, per record', () => {
    const ndjson = '{"message":"a","level":"info","time":1764928800}\n{"message":"b"}\nplain text line\r\n\n';
    const env = decodeKinesisEvent({
      Records: [
        rec(1, b64(fluentBit)),
        rec(2, b64(gzipSync(withTimeKey))),
        rec(3, b64(deflateSync(ndjson))),
        rec(4, gz(dataMsg(2))),
        rec(5, b64('x^ starts like a zlib header but is text')),
      ],
    });
    expect(env.map((e) => e.records.length)).toEqual([1, 1, 3, 2, 1]);
    expect(env.every((e) => !e.malformed)).toBe(true);
    const [fb] = env[0].records;
    expect(fb.message).toBe('GET /healthz 200');
    expect(fb.fields).toEqual({ stream: 'stdout', kubernetes: { pod_name: 'web-1' } });
    expect(fb.meta).toMatchObject({
      logGroup: 'logs',
      logStream: 'shardId-000000000000',
      owner: '123456789012',
      id: `shardId-000000000000:${seq(1)}:0`,
      ackId: seq(1),
    });
    // No time in the record: the arrival time.
    expect(fb.timestamp).toBe(1700000000000);
    // Fluent Bit's default time_key_format has no zone: UTC.
    expect(env[1].records[0].timestamp).toBe(Date.UTC(2026, 11, 5, 10, 0, 0, 250));
    expect(env[2].records.map((r) => [r.message, r.meta.id.split(':').pop(), r.timestamp])).toEqual([
      ['a', '0', 1764928800000],
      ['b', '1', 1700000000000],
      ['plain text line', '2', 1700000000000],
    ]);
    expect(env[3].records[0].meta.id).toBe('ev0');
    expect(env[4].records[0].message).toBe('x^ starts like a zlib header but is text');
  });

  it('gives a redriven record the same ids, and refuses what cannot be text', () => {
    const event = { Records: [rec(7, b64('one\ntwo\n'))] };
    expect(decodeKinesisEvent(event)[0].records.map((r) => r.meta.id)).toEqual(
      decodeKinesisEvent(event)[0].records.map((r) => r.meta.id),
    );
    const bad = decodeKinesisEvent({
      Records: [
        rec(1, b64(Buffer.from([0xff, 0xfe, 0x00, 0x81]))),
        rec(2, b64(gzipSync(fluentBit).subarray(0, 15))),
        rec(3, gz({ messageType: 'DATA_MESSAGE', logGroup: 'g' })),
        rec(4, ''),
      ],
    });
    expect(bad.map((e) => e.malformed?.code)).toEqual([
      'ENVELOPE_INVALID_UTF8',
      'ENVELOPE_GZIP_TRUNCATED',
      'ENVELOPE_BAD_SHAPE',
      'ENVELOPE_EMPTY',
    ]);
  });
});

describe('kinesisResponse', () => {
  const ok: Outcome = { kind: 'delivered' };
  const failed: Outcome = { kind: 'failed', code: 'SINK_THROTTLED' };
  const rejected: Outcome = { kind: 'rejected', code: 'X' };

  it('is empty when nothing failed (rejected and dropped are not redriven)', () => {
    const env = decodeKinesisEvent({ Records: [rec(1, gz(dataMsg(1))), rec(2, gz(control)), rec(3, 'x')] });
    expect(kinesisResponse(env, [ok, { kind: 'dropped', code: 'CONTROL_MESSAGE' }, rejected])).toEqual({
      batchItemFailures: [],
    });
  });

  it('reports the earliest failed sequence number per shard, comparing numerically', () => {
    const records = [
      rec(9, gz(dataMsg(1)), 'shardId-000000000001'),
      rec(10, gz(dataMsg(1)), 'shardId-000000000001'),
      rec(3, gz(dataMsg(1))),
      rec(7, gz(dataMsg(1))),
      rec(5, gz(dataMsg(1))),
    ];
    const env = decodeKinesisEvent({ Records: records });
    const res = kinesisResponse(env, [ok, failed, ok, failed, failed]);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: seq(10) }, { itemIdentifier: seq(5) }]);
  });

  it('fails the whole batch when a failed record has no sequence number', () => {
    const env = decodeKinesisEvent({ Records: [{ kinesis: { data: gz(dataMsg(1)) } }] });
    expect(kinesisResponse(env, [failed])).toEqual({ batchItemFailures: [{ itemIdentifier: '' }] });
  });

  it('orders sequence numbers of different lengths numerically', () => {
    expect(compareSequence('99', '100')).toBeLessThan(0);
    expect(
      compareSequence(
        '49590000000000000000000000000000000000000000000000000002',
        '49590000000000000000000000000000000000000000000000000010',
      ),
    ).toBeLessThan(0);
    expect(compareSequence('5', '5')).toBe(0);
  });
});
