/**
 * The Lambda Kinesis event source: decodes an event from a Kinesis event source mapping
 * (`Records[].kinesis.data`, base64 CloudWatch Logs subscription payloads) into envelopes — one per
 * Kinesis record, ack id = its sequence number — and builds the handler's answer from their outcomes.
 *
 * Delivery semantics (Lambda with `ReportBatchItemFailures`): Lambda checkpoints at the *lowest*
 * sequence number listed in `batchItemFailures` and retries every record from there on; an empty
 * list means the whole batch succeeded, and an empty or unknown `itemIdentifier` fails the whole
 * batch (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html).
 * So the answer lists, per shard, the earliest sequence number whose envelope is `failed`; records
 * after it are redriven even if they were delivered (sinks dedupe by record id). Control messages
 * are counted drops. Malformed records are not redriven: they go to the dead-letter sink with their
 * code, reason and original base64 payload, and only if it cannot store them are they reported
 * failed. Limits: a Kinesis record is ≤ 1 MiB by default (10 MiB when enabled); decoded payloads
 * are bounded by `MAX_DECODED_PAYLOAD_BYTES` (gzip bombs are refused as malformed).
 */
import {
  base64Bytes,
  type DecodeOptions,
  decodeRecordData,
  inflateAhead,
  linesToRecords,
  type RecordDataResult,
  type RecordFormat,
  sizeHint,
  toRecords,
} from '../aws/cloudwatch-payload.js';
import type { DeadLetter } from '../core/dead-letter.js';
import type { EnvelopeStream } from '../core/runner.js';
import type { Outcome } from '../core/outcome.js';
import type { SourceEnvelope } from '../core/source.js';

/** Largest Kinesis record by default (https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html). */
export const KINESIS_MAX_RECORD_BYTES = 1024 * 1024;

export const SOURCE_TYPE = 'kinesis-event';

/** `auto`: CloudWatch payloads and any JSON/NDJSON/text record; `cloudwatch`: CloudWatch payloads only. */
export type KinesisRecordFormat = RecordFormat;

/** Stream name and account of a stream ARN (`arn:aws:kinesis:<region>:<account>:stream/<name>`). */
export function streamOfArn(arn: string | undefined): { name: string; account: string } {
  const m = /^arn:[^:]*:kinesis:[^:]*:(\d*):stream\/(.+)$/.exec(arn ?? '');
  return m ? { name: m[2], account: m[1] } : { name: arn ?? '', account: '' };
}

/** The parts of a Lambda Kinesis event record we read (aws-lambda's KinesisStreamRecord). */
export interface KinesisEventRecord {
  eventID?: string;
  eventSourceARN?: string;
  kinesis?: {
    sequenceNumber?: string;
    partitionKey?: string;
    data?: string;
    approximateArrivalTimestamp?: number;
  };
}

export interface KinesisEvent {
  Records?: KinesisEventRecord[];
}

export interface KinesisBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export interface KinesisEnvelope extends SourceEnvelope {
  /** `<stream ARN>/<shardId>`: sequence numbers are ordered within one shard only. */
  shard: string;
}

function shardIdOf(r: KinesisEventRecord): string {
  const id = r.eventID ?? '';
  const colon = id.indexOf(':');
  return colon > 0 ? id.slice(0, colon) : '';
}

/**
 * One envelope per Kinesis record, in event order. Never throws: every record becomes records, a
 * control drop, or a malformed envelope with a stable code. With `format: 'auto'` (the default) a
 * record that is not a CloudWatch payload (JSON, NDJSON, text; gzip or zlib) becomes one record per
 * line, with log group = the stream name, log stream = the shard id and id
 * `<shardId>:<sequenceNumber>:<line>`, so a redriven record gets the same ids.
 */
export function decodeKinesisEvent(
  event: KinesisEvent,
  opts: DecodeOptions & { format?: KinesisRecordFormat } = {},
): KinesisEnvelope[] {
  const list = recordsOf(event);
  const out: KinesisEnvelope[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const r = list[i] ?? {};
    const buf = base64Bytes(r.kinesis?.data);
    out[i] = kinesisEnvelope(r, Buffer.isBuffer(buf) ? decodeRecordData(buf, opts) : buf);
  }
  return out;
}

/**
 * Payloads that announce (gzip trailer ISIZE; else their compressed size) fewer decompressed bytes
 * than this are inflated on the main thread when their turn comes instead of on the libuv pool.
 * Handing a payload to the pool costs the main thread ~40–60 µs of zlib stream set-up and the
 * process ~100 µs more CPU, which is as much as inflating ~40 KB: measured on the bench's
 * CloudWatch records (~5 KB gzip, ~39 KB JSON), the pool gave no main-thread time back and cost
 * 110 ms more process CPU per 100k events; from ~160 KB up the pool wins (docs/kinesis.md).
 */
export const KINESIS_SYNC_INFLATE_BELOW = 64 * 1024;

/** A payload small enough to inflate in place (see KINESIS_SYNC_INFLATE_BELOW): kept from the pool. */
interface InPlace {
  inPlace: Buffer;
}

/**
 * `decodeKinesisEvent` as a stream: the same envelopes in the same order, each yielded as soon as
 * its payload is inflated while the next large ones inflate on the libuv thread pool
 * (`inflateAhead`); small payloads (`syncInflateBelow`, default KINESIS_SYNC_INFLATE_BELOW; 0 sends
 * every payload to the pool) inflate on the main thread when their turn comes.
 */
export function decodeKinesisEventAhead(
  event: KinesisEvent,
  opts: DecodeOptions & { format?: KinesisRecordFormat; syncInflateBelow?: number } = {},
): EnvelopeStream<KinesisEnvelope> {
  const list = recordsOf(event);
  const below = opts.syncInflateBelow ?? KINESIS_SYNC_INFLATE_BELOW;
  return {
    count: list.length,
    envelopes: inflateAhead<KinesisEnvelope, Buffer | InPlace | RecordDataResult>(
      list.length,
      (i) => {
        const buf = base64Bytes(list[i]?.kinesis?.data);
        return Buffer.isBuffer(buf) && sizeHint(buf) < below ? { inPlace: buf } : buf;
      },
      (i, b, inflated) =>
        kinesisEnvelope(
          list[i] ?? {},
          Buffer.isBuffer(b)
            ? decodeRecordData(b, opts, inflated)
            : 'inPlace' in b
              ? decodeRecordData(b.inPlace, opts)
              : b,
        ),
      opts,
    ),
  };
}

function recordsOf(event: KinesisEvent): KinesisEventRecord[] {
  return Array.isArray(event?.Records) ? event.Records : [];
}

/** One Kinesis record's envelope from what its data decoded to. */
function kinesisEnvelope(r: KinesisEventRecord, res: RecordDataResult): KinesisEnvelope {
  const data = r.kinesis?.data;
  const ackId = r.kinesis?.sequenceNumber ?? '';
  const shardId = shardIdOf(r);
  const shard = `${r.eventSourceARN ?? ''}/${shardId}`;
  const bytes = typeof data === 'string' ? Math.floor((data.length * 3) / 4) : 0;
  if (!res.ok)
    return {
      ackId,
      shard,
      records: [],
      bytes,
      malformed: { code: res.code, reason: res.reason, payload: typeof data === 'string' ? data : '' },
    };
  if (res.message === undefined) {
    const stream = streamOfArn(r.eventSourceARN);
    const arrival = r.kinesis?.approximateArrivalTimestamp;
    return {
      ackId,
      shard,
      records: linesToRecords(res, {
        owner: stream.account,
        logGroup: stream.name,
        logStream: shardId,
        idBase: `${shardId}:${ackId}`,
        source: SOURCE_TYPE,
        ackId,
        fallbackTime: typeof arrival === 'number' ? Math.round(arrival * 1000) : Date.now(),
      }),
      logGroup: stream.name,
      bytes,
    };
  }
  if (res.message.messageType === 'CONTROL_MESSAGE')
    return { ackId, shard, records: [], bytes, control: true };
  return {
    ackId,
    shard,
    records: toRecords(res.message, SOURCE_TYPE, ackId),
    logGroup: res.message.logGroup,
    bytes,
  };
}

/** Dead-letter entries for the malformed envelopes (whole payloads: never redriven). */
export function malformedDeadLetters(
  envelopes: readonly KinesisEnvelope[],
  at = new Date().toISOString(),
): {
  index: number[];
  entries: DeadLetter[];
} {
  const index: number[] = [];
  const entries: DeadLetter[] = [];
  for (let i = 0; i < envelopes.length; i++) {
    const m = envelopes[i].malformed;
    if (!m) continue;
    index.push(i);
    entries.push({
      code: m.code,
      reason: m.reason,
      attempts: 0,
      source: SOURCE_TYPE,
      ackId: envelopes[i].ackId,
      payload: m.payload,
      at,
    });
  }
  return { index, entries };
}

/** Compares Kinesis sequence numbers (decimal strings of up to 128 bits) numerically. */
export function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The handler's answer: for each shard, the earliest sequence number whose envelope failed.
 * `outcomes[i]` is envelope i's worst outcome. A failed envelope without a sequence number cannot be
 * named, so the whole batch is failed with an empty identifier (Lambda then retries it all).
 */
export function kinesisResponse(
  envelopes: readonly KinesisEnvelope[],
  outcomes: readonly Outcome[],
): KinesisBatchResponse {
  const earliest = new Map<string, string>();
  for (let i = 0; i < envelopes.length; i++) {
    if (outcomes[i]?.kind !== 'failed') continue;
    const { shard, ackId } = envelopes[i];
    if (!/^\d+$/.test(ackId)) return { batchItemFailures: [{ itemIdentifier: '' }] };
    const cur = earliest.get(shard);
    if (cur === undefined || compareSequence(ackId, cur) < 0) earliest.set(shard, ackId);
  }
  return { batchItemFailures: [...earliest.values()].map((itemIdentifier) => ({ itemIdentifier })) };
}
