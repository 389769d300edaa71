/**
 * The Firehose data-transformation home as a decoder over the one runner: `decode` turns each
 * `recordId` into an envelope (a CloudWatch Logs payload), the runner takes its records through
 * parse, mask and the graph (src/core/runner.ts), and the records reach the *response sink* — the
 * answer itself. Every `recordId` is answered exactly once — `Ok` with the formatted data (`raw`:
 * each message + "\n", as the seed did; `ndjson`: one document per event) and dynamic-partitioning
 * keys; `Dropped` for control messages, records whose events were all dropped, and records
 * re-ingested into the stream; `ProcessingFailed` for malformed records and records with an event a
 * transform threw on (Firehose then writes the original to its error prefix, which is this home's
 * dead-letter store: nothing is lost, and one bad event only ever affects its own record).
 *
 * Delivery semantics: at least once. A record that does not fit the response budget is re-ingested
 * with `PutRecordBatch` and answered `Dropped` only after Firehose acknowledged every payload made
 * from it; otherwise it is `ProcessingFailed`. Re-ingested payloads carry `logferryGeneration` so a
 * payload that keeps not fitting stops after `maxReingestGenerations` instead of looping.
 *
 * Limits: the Lambda response is at most 6 MB
 * (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html), budgeted to
 * `firehose.maxResponseBytes` (default 5.5 MB) including JSON framing; a re-ingested payload is at
 * most 1,000 KiB of gzip, so records taking over half a response are split by log event; one event
 * that cannot fit even alone is `ProcessingFailed` with `RECORD_TOO_LARGE`. Bootstrap (config) is in
 * src/lambda/firehose.ts.
 */
import { gzipSync } from 'node:zlib';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { cjsNamespace, clientConfig, endpointFor } from '../aws/clients.js';
import {
  base64Bytes,
  type DataMessage,
  type DecodeResult,
  decodeGzipPayload,
  decodeJsonPayload,
  type Inflated,
  inflateAhead,
  toRecords,
} from '../aws/cloudwatch-payload.js';
import { FIREHOSE_MAX_RECORD_BYTES } from '../aws/firehose-reingest.js';
import { type PartitionKeys, partitionKeys } from '../aws/partition.js';
import type { Logger } from '../core/component.js';
import type { DeadLetter, DeadLetterSink } from '../core/dead-letter.js';
import { toDocument } from '../core/document.js';
import type { PlannedTransform, SourceNode } from '../core/graph.js';
import { deliver } from '../core/deliver.js';
import { emfMetrics } from '../core/lambda.js';
import type { Outcome, Tally } from '../core/outcome.js';
import type { Transform } from '../core/pipeline.js';
import type { LogRecord, RecordMeta } from '../core/record.js';
import { type Deadline, NO_DEADLINE, type RetryPolicy } from '../core/retry.js';
import {
  createRunner,
  type EnvelopeStream,
  type RunResult,
  type Runner,
  runEnvelopeStream,
  type SinkNode,
  timestampInRange,
} from '../core/runner.js';
import type { Encoded, ItemProblem, SendResult, Sink } from '../core/sink.js';
import type { SourceEnvelope } from '../core/source.js';

import type { FirehoseSinkStats } from '../sinks/firehose.js';

export { jsonLogger } from '../core/logger.js';

/** Time one PutRecordBatch call is assumed to need: no call starts with less left. */
const REINGEST_MIN_CALL_MS = 500;

/** The documented 6 MB limit of a transformation Lambda's response. */
export const FIREHOSE_MAX_RESPONSE_BYTES = 6_000_000;

/** What the handler is configured with (the `firehose` section of the config). */
export interface FirehoseSettings {
  format: 'raw' | 'ndjson';
  maxResponseBytes: number;
  reingest: boolean;
  deliveryStreamName?: string;
  maxReingestGenerations: number;
  /** Worker threads for big invocations (src/lambda/firehose-workers.ts); default `off`. */
  workers?: 'auto' | 'off' | number;
}

/** The documented 6 MB limit of a transformation Lambda's response (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html). */
export const FIREHOSE_RESPONSE_LIMIT_BYTES = FIREHOSE_MAX_RESPONSE_BYTES;
/** Extra top-level field on re-ingested payloads: how many times they went round. */
export const GENERATION_FIELD = 'logferryGeneration';
/** Re-ingested payload bytes (gzip) at most: one Firehose record. */
export const REINGEST_MAX_PAYLOAD_BYTES = FIREHOSE_MAX_RECORD_BYTES;

export interface FirehoseInputRecord {
  recordId: string;
  approximateArrivalTimestamp?: number;
  /** Base64 of the record as put into the stream (gzip CloudWatch payload). */
  data: string;
  kinesisRecordMetadata?: Record<string, unknown>;
}

export interface FirehoseTransformationEvent {
  invocationId: string;
  deliveryStreamArn: string;
  region?: string;
  sourceKinesisStreamArn?: string;
  records: FirehoseInputRecord[];
}

export type FirehoseResult = 'Ok' | 'Dropped' | 'ProcessingFailed';

export interface FirehoseOutputRecord {
  recordId: string;
  result: FirehoseResult;
  /** Base64; Firehose requires the field on every record (empty unless `Ok`). */
  data: string;
  metadata?: { partitionKeys: Record<string, string> };
}

export interface FirehoseTransformationResponse {
  records: FirehoseOutputRecord[];
}

/** What one invocation did, for logs and tests. */
export interface InvocationSummary {
  records: number;
  ok: number;
  dropped: number;
  failed: number;
  reingestedRecords: number;
  reingestedPayloads: number;
  splitRecords: number;
  responseBytes: number;
  budgetBytes: number;
  reingest?: FirehoseSinkStats;
  tally: Tally;
}

/** Reasons safe to log: decoder messages for non-JSON input may quote the input, so never log those. */
function safeReason(code: string, reason: string): string {
  if (code === 'ENVELOPE_NOT_JSON') return 'decompressed payload is not JSON';
  if (code === 'ENVELOPE_UNKNOWN_TYPE')
    return 'unknown messageType (expected DATA_MESSAGE or CONTROL_MESSAGE)';
  return reason;
}

/**
 * A record that is not gzip: with the delivery stream's CloudWatch Logs decompression turned on,
 * Firehose hands over the subscription JSON already decompressed. Accept that JSON; anything else
 * (e.g. messages already extracted by Firehose) stays ENVELOPE_NOT_GZIP, with a hint.
 */
function decodePlainJson(data: string, notGzip: DecodeResult): DecodeResult {
  const buf = Buffer.from(data.replace(/\s+/g, ''), 'base64');
  if (buf[0] === 0x7b) {
    const json = decodeJsonPayload(buf);
    if (json.ok) return json;
  }
  return {
    ok: false,
    code: 'ENVELOPE_NOT_GZIP',
    reason: `${(notGzip as { reason: string }).reason}; if the delivery stream decompresses CloudWatch Logs or extracts messages, turn that off: this Lambda needs the subscription payloads`,
  };
}

/** Bytes of one response entry, JSON-encoded, plus the separating comma. */
function entryCost(recordId: string, result: FirehoseResult, dataLen: number, keys?: PartitionKeys): number {
  // {"recordId":"…","result":"…","data":"…","metadata":{"partitionKeys":{…}}},
  let n = 40 + Buffer.byteLength(JSON.stringify(recordId)) + result.length + dataLen;
  if (keys) n += 30 + Buffer.byteLength(JSON.stringify(keys));
  return n;
}

const base64Len = (bytes: number) => Math.ceil(bytes / 3) * 4;

/**
 * A CloudWatch record's events as one record (the packed path, used when the config needs nothing
 * per event: `raw` output, no transform but `mask`, the answer the only output). `message` is every
 * event's message followed by "\n" — already the `raw` answer's text; message i ends at `ends[i]`.
 * `minTimestamp` is the earliest event time (partition keys); `timestamp` the first event's, as the
 * first record's would be. The parsed events are not kept (objects living through the invocation
 * cost more in garbage collection than the whole mask): `gzip`, the record's payload, is decoded
 * again in the rare case the events are needed one by one (re-ingest). The runner counts it as
 * `ends.length` events (`SourceEnvelope.eventsPerRecord`).
 */
export class PackedRecord implements LogRecord {
  readonly fields: Record<string, unknown> = {};
  constructor(
    public message: string,
    public ends: Int32Array,
    public timestamp: number,
    readonly minTimestamp: number,
    readonly gzip: Buffer,
    public meta: RecordMeta,
  ) {}

  /** The events as records (message as masked), for re-ingest: the per-event path's records. */
  unpack(): LogRecord[] {
    const d = decodeGzipPayload(this.gzip);
    const out = d.ok ? toRecords(d.message as DataMessage, this.meta.source, this.meta.ackId) : [];
    if (out.length !== this.ends.length) throw new Error('packed record: payload changed'); // never
    for (let i = 0, start = 0; i < out.length; start = this.ends[i] + 1, i++)
      out[i].message = this.message.slice(start, this.ends[i]);
    return out;
  }
}

/**
 * A DATA_MESSAGE as one PackedRecord, or undefined when its events need the per-event path (none,
 * or an event time out of range: the runner rejects those events one by one).
 */
export function packEvents(
  msg: DataMessage,
  gzip: Buffer,
  source: string,
  ackId: string,
): PackedRecord | undefined {
  const evs = msg.logEvents;
  const n = evs.length;
  if (n === 0) return undefined;
  const ends = new Int32Array(n);
  // One more, empty: the join ends with "\n" and is one flat string (not a cons string to flatten).
  const messages: string[] = new Array(n + 1);
  messages[n] = '';
  let len = 0;
  let min = evs[0].timestamp;
  for (let i = 0; i < n; i++) {
    const ev = evs[i];
    if (!timestampInRange(ev.timestamp)) return undefined;
    if (ev.timestamp < min) min = ev.timestamp;
    messages[i] = ev.message;
    len += ev.message.length;
    ends[i] = len++;
  }
  const meta: RecordMeta = {
    owner: msg.owner,
    logGroup: msg.logGroup,
    logStream: msg.logStream,
    id: evs[0].id,
    subscriptionFilters: msg.subscriptionFilters,
    source,
    ackId,
  };
  return new PackedRecord(messages.join('\n'), ends, evs[0].timestamp, min, gzip, meta);
}

/** The records a slot kept, packed ones unpacked into their events. */
function unpacked(records: readonly LogRecord[]): LogRecord[] {
  if (!records.some((r) => r instanceof PackedRecord)) return records as LogRecord[];
  return records.flatMap((r) => (r instanceof PackedRecord ? r.unpack() : [r]));
}

/** `raw`: each message + "\n" (the seed's output), written straight into one buffer. */
export function formatRaw(records: readonly LogRecord[]): Buffer {
  // A packed record's text is already each message + "\n".
  if (records.length === 1 && records[0] instanceof PackedRecord) return Buffer.from(records[0].message);
  let total = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    total += Buffer.byteLength(r.message) + (r instanceof PackedRecord ? 0 : 1);
  }
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    at += buf.write(r.message, at);
    if (!(r instanceof PackedRecord)) buf[at++] = 0x0a;
  }
  return buf;
}

/** `ndjson`: one archive document per event (`@timestamp` epoch ms, `@message`, …, parsed fields). */
export function formatNdjson(records: readonly LogRecord[]): Buffer {
  let s = '';
  for (let i = 0; i < records.length; i++) s += `${JSON.stringify(toDocument(records[i], 'epoch'))}\n`;
  return Buffer.from(s);
}

/** Delivery stream name from `arn:aws:firehose:<region>:<account>:deliverystream/<name>`. */
export function streamFromArn(arn: string | undefined): { name?: string; region?: string } {
  if (!arn) return {};
  const m = /^arn:[^:]+:firehose:([^:]*):[^:]*:deliverystream\/(.+)$/.exec(arn);
  return m ? { region: m[1] || undefined, name: m[2] } : {};
}

export interface FirehoseTransformerDeps {
  /** Stages every record goes through (parse, mask, list-form transforms). */
  transforms: readonly Transform[];
  /** Named transforms of the graph; the response takes the output of those no other reads. */
  graphTransforms?: readonly PlannedTransform[];
  /** The event's source in the graph (default `firehose`). */
  source?: SourceNode;
  /** Sinks records also go to besides the answer (fan-out, e.g. an OpenSearch index). */
  sinks?: readonly SinkNode[];
  /** What the answer reads (default: what leaves the graph — transforms no other reads). */
  responseInputs?: { inputs?: string[]; match?: string };
  /**
   * Where records a transform threw on or a sink rejected go; default the error prefix (their whole
   * `recordId` is answered ProcessingFailed, so Firehose keeps the original there).
   */
  deadLetter?: DeadLetterSink;
  log: Logger;
  /** Firehose client for re-ingest, per region (cached by the default factory). */
  firehoseClient?: (region: string) => FirehoseClient | Promise<FirehoseClient>;
  retry?: RetryPolicy;
  random?: () => number;
  /**
   * Pack each CloudWatch record's events into one record (PackedRecord) when the config allows it
   * (`raw`, stages are only `mask`, no graph transforms, sinks or dead-letter sink): default true;
   * false keeps one record per event (tests compare the two).
   */
  packed?: boolean;
}

/** One `recordId` of the event: an envelope for the runner, and a slot of the answer. */
export interface FirehoseEnvelope extends SourceEnvelope {
  index: number;
  recordId: string;
  msg?: DataMessage;
  generation: number;
}

/** Per input record while an invocation is answered. */
interface Slot {
  recordId: string;
  out?: FirehoseOutputRecord;
  code?: string;
  reason?: string;
  msg?: DataMessage;
  generation: number;
  kept?: LogRecord[];
  /** Batch positions of `kept` in the response sink's send, as [start, end) pairs. */
  items?: number[];
  data?: Buffer;
  keys?: PartitionKeys;
  /** Response bytes if answered `Ok`; `okFixed` is that without the data. */
  okCost: number;
  okFixed: number;
  /** Response bytes if answered `Dropped`/`ProcessingFailed`. */
  smallCost: number;
  /** Sent whole to the error prefix (an event of it was rejected): answered ProcessingFailed. */
  errorPrefix?: boolean;
  /** Set by the response sink: what became of its records. */
  settled?: 'ok' | 'reingested' | 'failed';
}

export const FIREHOSE_SOURCE_NAME = 'firehose';

/** The positions of [start, end) pairs. */
function* positions(pairs: readonly number[]): Generator<number> {
  for (let p = 0; p < pairs.length; p += 2) for (let i = pairs[p]; i < pairs[p + 1]; i++) yield i;
}
const SOURCE_TYPE = 'firehose';

/** One envelope per `recordId`, in event order. Never throws. */
export function decodeFirehoseEvent(event: FirehoseTransformationEvent): FirehoseEnvelope[] {
  const input = inputRecords(event);
  const out: FirehoseEnvelope[] = new Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = firehoseEnvelope(input[i], i, base64Bytes(input[i]?.data));
  return out;
}

/**
 * `decodeFirehoseEvent` as a stream: the same envelopes in the same order, each yielded as soon as
 * its payload is inflated while the next ones inflate on the libuv thread pool (`inflateAhead`),
 * so on a 2-vCPU Lambda decompression runs beside parsing, masking and formatting.
 */
export function decodeFirehoseEventAhead(
  event: FirehoseTransformationEvent,
  packed = false,
): EnvelopeStream<FirehoseEnvelope> {
  const input = inputRecords(event);
  return {
    count: input.length,
    envelopes: inflateAhead(
      input.length,
      (i) => base64Bytes(input[i]?.data),
      (i, bytes, inflated) => firehoseEnvelope(input[i], i, bytes, inflated, packed),
    ),
  };
}

function inputRecords(event: FirehoseTransformationEvent): FirehoseInputRecord[] {
  return Array.isArray(event?.records) ? event.records : [];
}

/** One input record as an envelope (`bytes`: its data base64-decoded; `inflated`: its gzip, if done). */
function firehoseEnvelope(
  rec: FirehoseInputRecord,
  i: number,
  bytes: Buffer | DecodeResult,
  inflated?: Inflated,
  packed = false,
): FirehoseEnvelope {
  const recordId = String(rec?.recordId ?? '');
  const data = rec?.data;
  const size = typeof data === 'string' ? Math.floor((data.length * 3) / 4) : 0;
  const env: FirehoseEnvelope = {
    index: i,
    recordId,
    ackId: recordId,
    records: [],
    bytes: size,
    generation: 0,
  };
  let decoded = Buffer.isBuffer(bytes) ? decodeGzipPayload(bytes, {}, inflated) : bytes;
  // Packed only from gzip (the payload a packed record decodes again if it must be unpacked).
  let gzip = decoded.ok && Buffer.isBuffer(bytes) ? bytes : undefined;
  if (!decoded.ok && decoded.code === 'ENVELOPE_NOT_GZIP') {
    decoded = decodePlainJson(rec.data, decoded);
    gzip = undefined;
  }
  if (!decoded.ok) {
    env.malformed = {
      code: decoded.code,
      reason: safeReason(decoded.code, decoded.reason),
      payload: typeof data === 'string' ? data : '',
    };
    return env;
  }
  const msg = decoded.message;
  if (msg.messageType === 'CONTROL_MESSAGE') {
    env.control = true;
    return env;
  }
  const gen = (msg as unknown as Record<string, unknown>)[GENERATION_FIELD];
  env.generation = typeof gen === 'number' && Number.isInteger(gen) && gen > 0 ? gen : 0;
  const one = packed && gzip ? packEvents(msg, gzip, SOURCE_TYPE, recordId) : undefined;
  if (one) {
    env.records = [one];
    env.eventsPerRecord = msg.logEvents.length;
  } else env.records = toRecords(msg, SOURCE_TYPE, recordId);
  // The records now hold what the events held: keep only the header (re-ingest and partition
  // keys read it), so the parsed event objects die young instead of living through the invocation.
  env.msg = { ...msg, logEvents: [] };
  env.logGroup = msg.logGroup;
  return env;
}

/**
 * The answer as a sink: it takes the records of one invocation in one `send` (its limits are
 * unbounded and the runner flushes a Lambda batch once, at the end), formats each `recordId`'s
 * records, fits them into the response budget and re-ingests what does not fit. Its items are
 * delivered (in the answer), `drop`ped with `REINGESTED` (put back into the stream) or `fail`ed
 * (answered ProcessingFailed: Firehose keeps the original in its error prefix).
 */
class ResponseSink implements Sink<LogRecord> {
  readonly type = 'firehose-response';
  readonly name = 'firehose-response';
  readonly limits = {
    maxRecords: Number.MAX_SAFE_INTEGER,
    maxBytes: Number.MAX_SAFE_INTEGER,
    maxRecordBytes: Number.MAX_SAFE_INTEGER,
    maxAgeMs: 2 ** 31 - 1,
  };
  slots: Slot[] = [];
  bySlot = new Map<string, number>();
  event!: FirehoseTransformationEvent;
  deadline: Deadline = NO_DEADLINE;
  summary!: InvocationSummary;
  used = 0;

  constructor(private readonly t: FirehoseTransformer) {}

  /** One slot per input record (its header and generation arrive with its envelope: `decoded`). */
  begin(event: FirehoseTransformationEvent, deadline: Deadline, summary: InvocationSummary) {
    const input = inputRecords(event);
    this.event = event;
    this.deadline = deadline;
    this.summary = summary;
    this.slots = new Array(input.length);
    this.bySlot = new Map();
    // `{"records":[` … `]}`
    this.used = 14;
    for (let i = 0; i < input.length; i++) {
      const recordId = String(input[i]?.recordId ?? '');
      const smallCost = entryCost(recordId, 'ProcessingFailed', 0);
      this.used += smallCost;
      this.slots[i] = { recordId, generation: 0, okCost: 0, okFixed: 0, smallCost };
      if (!this.bySlot.has(recordId)) this.bySlot.set(recordId, i);
    }
  }

  /** An envelope was decoded: its slot learns the payload header and generation. */
  decoded(e: FirehoseEnvelope): void {
    const s = this.slots[e.index];
    s.msg = e.msg;
    s.generation = e.generation;
  }

  encode(record: LogRecord): Encoded<LogRecord> {
    return { record, data: record, bytes: 0 };
  }

  async send(batch: readonly Encoded<LogRecord>[]): Promise<SendResult> {
    return this.sendRecords(batch.map((e) => e.record));
  }

  async sendRecords(batch: readonly LogRecord[]): Promise<SendResult> {
    const slots = this.slots;
    const touched: number[] = [];
    // Records arrive grouped by envelope: take each run of one ackId as a slice, and remember the
    // run's positions (problems index into the batch).
    let k = 0;
    while (k < batch.length) {
      const ack = batch[k].meta.ackId;
      let end = k + 1;
      while (end < batch.length && batch[end].meta.ackId === ack) end++;
      const i = this.bySlot.get(ack);
      if (i !== undefined) {
        const s = slots[i];
        if (!s.kept) {
          s.kept = batch.slice(k, end);
          s.items = [k, end];
          touched.push(i);
        } else {
          for (let j = k; j < end; j++) s.kept.push(batch[j]);
          s.items!.push(k, end);
        }
      }
      k = end;
    }
    const problems: ItemProblem[] = [];
    const candidates: number[] = [];
    for (const i of touched) {
      const s = slots[i];
      if (s.errorPrefix) continue;
      const kept = s.kept!;
      try {
        s.data = this.t.format(kept);
      } catch (e) {
        // One record that cannot be formatted (a message nested too deep for JSON) fails only its
        // own recordId: Firehose keeps the original in its error prefix.
        s.settled = 'failed';
        s.code = 'FORMAT_FAILED';
        s.reason = `cannot format this record's events: ${e instanceof Error ? e.message : String(e)}`;
        continue;
      }
      // Partition by the earliest event: a payload's events can be out of order, and a partition's
      // time must never be later than an event in it, or time-pruned queries would skip that event.
      const first = (r: LogRecord) => (r instanceof PackedRecord ? r.minTimestamp : r.timestamp);
      let earliest = first(kept[0]);
      for (let k = 1; k < kept.length; k++) if (first(kept[k]) < earliest) earliest = first(kept[k]);
      s.keys = partitionKeys(s.msg!.logGroup, s.msg!.logStream, earliest);
      s.okFixed = entryCost(s.recordId, 'Ok', 0, s.keys);
      s.okCost = s.okFixed + base64Len(s.data.length);
      candidates.push(i);
    }
    // Older generations first: they have waited longest and are closest to the loop guard.
    candidates.sort((a, b) => slots[b].generation - slots[a].generation || a - b);
    const budget = this.summary.budgetBytes;
    const overflow: number[] = [];
    for (const i of candidates) {
      const s = slots[i];
      const extra = s.okCost - s.smallCost;
      if (this.used + extra <= budget) {
        this.used += extra;
        s.out = {
          recordId: s.recordId,
          result: 'Ok',
          data: s.data!.toString('base64'),
          metadata: { partitionKeys: s.keys as unknown as Record<string, string> },
        };
        s.settled = 'ok';
        s.data = undefined;
      } else overflow.push(i);
    }
    if (overflow.length > 0) await this.t.reingestOverflow(this, overflow);
    for (const i of touched) {
      const s = slots[i];
      if (s.errorPrefix) {
        for (const index of positions(s.items!))
          problems.push({
            index,
            action: 'reject',
            code: 'SENT_TO_ERROR_PREFIX',
            reason:
              'another event of this Firehose record was rejected: the record goes to the error prefix whole',
          });
      } else if (s.settled === 'reingested') {
        for (const index of positions(s.items!))
          problems.push({
            index,
            action: 'drop',
            code: 'REINGESTED',
            reason: 'did not fit the response; put back into the stream',
          });
      } else if (s.settled !== 'ok') {
        for (const index of positions(s.items!))
          problems.push({
            index,
            action: 'fail',
            code: s.code ?? 'INTERNAL',
            reason: s.reason ?? 'not answered',
          });
      }
    }
    return { problems };
  }
}

/**
 * The error prefix as this home's dead-letter store: an entry marks its `recordId` ProcessingFailed,
 * so Firehose writes the original record there (stored: the entry is `rejected`, never lost).
 */
class ErrorPrefix implements DeadLetterSink {
  readonly type = 'firehose-error-prefix';
  constructor(private readonly sink: ResponseSink) {}
  async put(entries: readonly DeadLetter[]): Promise<boolean[]> {
    return entries.map((e) => {
      const i = this.sink.bySlot.get(e.ackId);
      if (i === undefined) return false;
      const s = this.sink.slots[i];
      s.errorPrefix = true;
      s.code ??= e.code;
      s.reason ??= e.code === 'TRANSFORM_FAILED' ? 'a transform failed on an event of this record' : e.reason;
      return true;
    });
  }
}

/** Why one `recordId` was answered ProcessingFailed (logged, never its data). */
export interface RecordFailure {
  recordId: string;
  code: string;
  reason?: string;
}

/** A slice of an invocation answered by a worker thread without a budget (`transformParts`). */
export interface FirehoseParts {
  records: FirehoseOutputRecord[];
  failures: RecordFailure[];
  /** Per record: response bytes if answered `Ok`, if not, and its re-ingest generation. */
  okCost: Float64Array;
  smallCost: Float64Array;
  generation: Int32Array;
  tally: {
    total: Tally['total'];
    byGroup: [string, Tally['total']][];
    byReason: [string, number][];
    failureExamples: [string, string][];
  };
  bytesIn: number;
  retries: number;
}

/**
 * Each `recordId`'s answer from its slot and its envelope's worst outcome, counted into the
 * summary; `failures` lists the ProcessingFailed ones in record order.
 */
function answerRecords(run: {
  sink: ResponseSink;
  envelopes: readonly FirehoseEnvelope[];
  outcomes: readonly Outcome[];
  summary: InvocationSummary;
}): { records: FirehoseOutputRecord[]; failures: RecordFailure[] } {
  const { sink, envelopes, outcomes, summary } = run;
  const records: FirehoseOutputRecord[] = new Array(envelopes.length);
  const failures: RecordFailure[] = [];
  for (let i = 0; i < envelopes.length; i++) {
    const s = sink.slots[i];
    const o = outcomes[i];
    let out: FirehoseOutputRecord;
    const m = envelopes[i].malformed;
    if (!m && !s.errorPrefix && o.kind !== 'failed' && (s.out || o.kind !== 'delivered'))
      out = s.out ?? { recordId: s.recordId, result: 'Dropped', data: '' };
    else {
      // Malformed, sent to the error prefix, or failed (time ran out, a sink failed): Firehose
      // keeps the original in its error prefix.
      out = { recordId: s.recordId, result: 'ProcessingFailed', data: '' };
      failures.push({
        recordId: s.recordId,
        code: m?.code ?? s.code ?? o.code ?? 'INTERNAL',
        reason: m?.reason ?? s.reason ?? (o.kind === 'failed' ? o.reason : undefined),
      });
    }
    if (out.result === 'Dropped' && s.settled === 'reingested') summary.reingestedRecords++;
    records[i] = out;
    if (out.result === 'Ok') summary.ok++;
    else if (out.result === 'Dropped') summary.dropped++;
    else summary.failed++;
  }
  return { records, failures };
}

/**
 * The stages of the packed path, or undefined when this config needs records per event: packing
 * needs `raw` output (the answer is the messages alone), no graph transforms, configured sinks,
 * dead-letter sink or answer inputs (they see records one by one), and stages that all have
 * `applyJoined` (today `mask`: it masks a packed record's text exactly as it masks each message).
 */
function packedStages(settings: FirehoseSettings, deps: FirehoseTransformerDeps): Transform[] | undefined {
  if (deps.packed === false || settings.format !== 'raw') return undefined;
  if ((deps.graphTransforms?.length ?? 0) > 0 || (deps.sinks?.length ?? 0) > 0) return undefined;
  if (deps.deadLetter || deps.responseInputs) return undefined;
  const out: Transform[] = [];
  for (const t of deps.transforms) {
    const joined = t.applyJoined?.bind(t);
    if (!joined) return undefined;
    out.push({
      type: t.type,
      apply(r) {
        if (!(r instanceof PackedRecord)) return t.apply(r);
        const m = joined(r.message, r.ends);
        if (m) {
          r.message = m.text;
          r.ends = m.ends;
        }
        return r;
      },
    });
  }
  return out;
}

/**
 * Formats, budgets and re-ingests one invocation at a time. Stateless between invocations: each
 * `transform` gets its own answer sink and runner (invocations may overlap in tests and tools).
 */
export class FirehoseTransformer {
  readonly format: (records: readonly LogRecord[]) => Buffer;
  private readonly source: SourceNode;
  /** The stages over packed records, when this config takes the packed path (decided once). */
  private readonly packedStages?: Transform[];

  constructor(
    readonly settings: FirehoseSettings,
    private readonly deps: FirehoseTransformerDeps,
  ) {
    this.format = settings.format === 'ndjson' ? formatNdjson : formatRaw;
    this.source = deps.source ?? { name: FIREHOSE_SOURCE_NAME };
    this.packedStages = packedStages(settings, deps);
  }

  /** Whether invocations take the packed path (one record per CloudWatch record). */
  get packed(): boolean {
    return this.packedStages !== undefined;
  }

  /** The answer sink and the runner of one invocation (building them is a few small objects). */
  private build(): { sink: ResponseSink; runner: Runner } {
    const deps = this.deps;
    const sink = new ResponseSink(this);
    const graphTransforms = deps.graphTransforms ?? [];
    // The response reads what leaves the graph: transforms no other transform reads (or the source).
    const read = new Set(graphTransforms.flatMap((t) => t.inputs ?? []));
    const leaves = graphTransforms.filter((t) => !read.has(t.name)).map((t) => t.name);
    const node: SinkNode = {
      name: sink.name,
      sink,
      ...(deps.responseInputs ?? (leaves.length ? { inputs: leaves } : {})),
    };
    const runner = createRunner(
      {
        pre: this.packedStages ?? deps.transforms,
        sources: [this.source],
        transforms: graphTransforms,
        sinks: [node, ...(deps.sinks ?? [])],
        deadLetter: deps.deadLetter ?? new ErrorPrefix(sink),
      },
      {
        log: deps.log,
        flushConcurrency: 4,
        maxInFlightEnvelopes: Number.MAX_SAFE_INTEGER,
        maxInFlightRecords: Number.MAX_SAFE_INTEGER,
        // The answer takes records in one call (no retries); configured extra sinks retry as usual.
        deliver: { retry: deps.retry, random: deps.random },
      },
    );
    return { sink, runner };
  }

  async transform(
    event: FirehoseTransformationEvent,
    deadline: Deadline = NO_DEADLINE,
  ): Promise<{ response: FirehoseTransformationResponse; summary: InvocationSummary }> {
    const started = Date.now();
    const run = await this.run(event, deadline, this.budgetBytes());
    const { records, failures } = answerRecords(run);
    this.logInvocation(event, run.summary, failures, run.result, Date.now() - started);
    return { response: { records }, summary: run.summary };
  }

  /** The response budget of one invocation: the configured budget, at most the documented limit. */
  budgetBytes(): number {
    return Math.min(this.settings.maxResponseBytes, FIREHOSE_RESPONSE_LIMIT_BYTES);
  }

  /**
   * @internal One slice of an invocation for a worker thread (src/lambda/firehose-workers.ts):
   * the same runner and answer as `transform`, but with no response budget (the main thread fits
   * the slices' answers into the invocation's budget) and no summary line (it logs the merged one).
   */
  async transformParts(event: FirehoseTransformationEvent, deadline: Deadline): Promise<FirehoseParts> {
    const run = await this.run(event, deadline, Number.POSITIVE_INFINITY);
    const { records, failures } = answerRecords(run);
    const slots = run.sink.slots;
    const okCost = new Float64Array(records.length);
    const smallCost = new Float64Array(records.length);
    const generation = new Int32Array(records.length);
    for (let i = 0; i < records.length; i++) {
      okCost[i] = slots[i].okCost;
      smallCost[i] = slots[i].smallCost;
      generation[i] = slots[i].generation;
    }
    const t = run.result.tally;
    return {
      records,
      failures,
      okCost,
      smallCost,
      generation,
      tally: {
        total: { ...t.total },
        byGroup: [...t.byGroup],
        byReason: [...t.byReason],
        failureExamples: [...t.failureExamples],
      },
      bytesIn: run.result.bytesIn,
      retries: run.result.sinks.reduce((n, s) => n + s.retries, 0),
    };
  }

  private async run(event: FirehoseTransformationEvent, deadline: Deadline, budgetBytes: number) {
    const count = inputRecords(event).length;
    const summary: InvocationSummary = {
      records: count,
      ok: 0,
      dropped: 0,
      failed: 0,
      reingestedRecords: 0,
      reingestedPayloads: 0,
      splitRecords: 0,
      responseBytes: 0,
      budgetBytes,
      tally: undefined as unknown as Tally,
    };
    const { sink, runner } = this.build();
    sink.begin(event, deadline, summary);
    // Envelopes reach the runner as their payloads are inflated (on the thread pool, ahead).
    const decoding = decodeFirehoseEventAhead(event, this.packed);
    async function* decoded(): AsyncGenerator<FirehoseEnvelope> {
      for await (const e of decoding.envelopes) {
        sink.decoded(e);
        yield e;
      }
    }
    const { envelopes, outcomes, result } = await runEnvelopeStream(
      runner,
      { type: SOURCE_TYPE, name: this.source.name },
      { count, envelopes: decoded() },
      { deadline },
    );
    summary.tally = result.tally;
    summary.responseBytes = sink.used;
    return { sink, envelopes, outcomes, result, summary };
  }

  /**
   * @internal The summary line of an invocation answered by worker threads (same fields as
   * `transform`'s). `result` needs the merged tally, bytes in and retries.
   */
  logMerged(
    event: FirehoseTransformationEvent,
    s: InvocationSummary,
    failures: RecordFailure[],
    result: Pick<RunResult, 'tally' | 'bytesIn' | 'sinks'>,
    durationMs: number,
    extra: Record<string, unknown>,
  ): void {
    this.logInvocation(event, s, failures, result as RunResult, durationMs, extra);
  }

  /** @internal Re-ingests the slots that did not fit; sets each slot's `settled`, `code`, `reason`. */
  async reingestOverflow(sink: ResponseSink, overflow: number[]): Promise<void> {
    const { event, slots, summary, deadline } = sink;
    const budget = summary.budgetBytes;
    const fail = (s: Slot, code: string, reason: string) => {
      s.settled = 'failed';
      s.code = code;
      s.reason = reason;
    };
    const fromArn = streamFromArn(event.deliveryStreamArn);
    const streamName = this.settings.deliveryStreamName ?? fromArn.name;
    const payloads: Buffer[] = [];
    const owners: number[] = [];
    const pendingSlots: number[] = [];
    for (const i of overflow) {
      const s = slots[i];
      s.data = undefined;
      if (!this.settings.reingest) {
        fail(
          s,
          'RESPONSE_BUDGET',
          `record does not fit the ${budget}-byte response budget and re-ingest is off`,
        );
        continue;
      }
      if (!streamName) {
        fail(
          s,
          'REINGEST_NO_STREAM',
          'cannot re-ingest: no delivery stream name (event ARN or firehose.deliveryStreamName)',
        );
        continue;
      }
      if (event.sourceKinesisStreamArn) {
        // Firehose refuses PutRecordBatch on a stream that reads from Kinesis Data Streams.
        fail(
          s,
          'REINGEST_UNSUPPORTED',
          'cannot re-ingest: the delivery stream reads from a Kinesis data stream',
        );
        continue;
      }
      if (s.generation >= this.settings.maxReingestGenerations) {
        fail(
          s,
          'REINGEST_LIMIT',
          `record was re-ingested ${s.generation} times (firehose.maxReingestGenerations) and still does not fit`,
        );
        continue;
      }
      // Split what takes more than half a response (it could never share one with another such
      // record, so every later invocation would answer one of them and re-ingest the rest again,
      // until the generation limit fails them): quarter-budget pieces pack several per invocation.
      const tooBig = 2 * s.okCost + 14 > budget;
      // Decoded bytes one event may format to and still be answered alone in a later invocation.
      const fitAlone = Math.floor(((budget - 14 - s.okFixed) * 3) / 4);
      let chunks: Buffer[] | string;
      try {
        chunks = this.buildPayloads(
          s,
          tooBig ? Math.floor(fitAlone / 4) : Number.POSITIVE_INFINITY,
          fitAlone,
        );
      } catch (e) {
        fail(
          s,
          'FORMAT_FAILED',
          `cannot build the re-ingest payload: ${e instanceof Error ? e.message : String(e)}`,
        );
        continue;
      }
      if (typeof chunks === 'string') {
        fail(s, 'RECORD_TOO_LARGE', chunks);
        continue;
      }
      if (chunks.length > 1) summary.splitRecords++;
      pendingSlots.push(i);
      for (const c of chunks) {
        payloads.push(c);
        owners.push(i);
      }
    }
    if (payloads.length === 0) return;

    const region = fromArn.region ?? event.region ?? process.env.AWS_REGION ?? 'us-east-1';
    // The Firehose client and sink load on the first re-ingest only (bench/lambda-bundles.ts).
    const { FirehoseSink, withPayload } = await import('../sinks/firehose.js');
    const client = await (this.deps.firehoseClient ?? defaultFirehoseClient)(region);
    // The payloads go out through the one delivery engine, as records of a `firehose` sink.
    const out = new FirehoseSink(streamName!, client);
    const records = payloads.map((bytes, p) =>
      withPayload(
        {
          timestamp: 0,
          message: '',
          fields: {},
          meta: { ...slots[owners[p]].kept![0].meta, id: `reingest-${p}` },
        },
        bytes,
      ),
    );
    // No call starts with less than REINGEST_MIN_CALL_MS left; a call still running then is abandoned.
    const left = deadline.remainingMs();
    const outcomes = await deliver(out, records, {
      deadline: { remainingMs: () => deadline.remainingMs() - REINGEST_MIN_CALL_MS },
      retry: this.deps.retry,
      random: this.deps.random,
      concurrency: 4,
      signal: Number.isFinite(left)
        ? AbortSignal.timeout(Math.max(REINGEST_MIN_CALL_MS, Math.min(Math.floor(left), 2 ** 31 - 1)))
        : undefined,
    });
    summary.reingest = { ...out.stats };
    const firstError = new Map<number, string>();
    for (let p = 0; p < payloads.length; p++) {
      const o = outcomes[p];
      if (o.kind !== 'delivered' && !firstError.has(owners[p]))
        firstError.set(owners[p], o.code ?? 'SINK_UNAVAILABLE');
    }
    if (firstError.size > 0)
      this.deps.log.warn('re-ingest failed for some records', {
        records: firstError.size,
        codes: [...new Set(firstError.values())],
      });
    for (const i of pendingSlots) {
      const err = firstError.get(i);
      if (err === undefined) slots[i].settled = 'reingested';
      else fail(slots[i], 'REINGEST_FAILED', `re-ingest failed: ${err}`);
    }
    summary.reingestedPayloads = outcomes.filter((o) => o.kind === 'delivered').length;
  }

  /**
   * CloudWatch payloads (gzip) for a record's kept events, each ≤ 1,000 KiB and (when splitting)
   * each formatting to at most `maxOutputBytes`. Returns a reason string when one event cannot fit.
   */
  private buildPayloads(s: Slot, maxOutputBytes: number, fitAloneBytes: number): Buffer[] | string {
    const msg = s.msg!;
    const kept = unpacked(s.kept!);
    const header: Record<string, unknown> = {};
    for (const k in msg)
      if (k !== 'logEvents' && k !== GENERATION_FIELD)
        header[k] = (msg as unknown as Record<string, unknown>)[k];
    header[GENERATION_FIELD] = s.generation + 1;
    const head = `${JSON.stringify(header).slice(0, -1)},"logEvents":[`;
    const events: string[] = new Array(kept.length);
    const outSizes: number[] = new Array(kept.length);
    const oneOut =
      this.settings.format === 'ndjson'
        ? (r: LogRecord) => Buffer.byteLength(JSON.stringify(toDocument(r, 'epoch'))) + 1
        : (r: LogRecord) => Buffer.byteLength(r.message) + 1;
    const splitting = maxOutputBytes !== Number.POSITIVE_INFINITY;
    for (let j = 0; j < kept.length; j++) {
      const r = kept[j];
      events[j] = JSON.stringify({ id: r.meta.id, timestamp: r.timestamp, message: r.message });
      outSizes[j] = splitting ? oneOut(r) : 0;
      if (outSizes[j] > fitAloneBytes) {
        return `log event ${r.meta.id} formats to ${outSizes[j]} bytes: more than one response can hold (${fitAloneBytes})`;
      }
    }
    // First cut by formatted size, then halve any piece whose gzip is still over the record limit.
    const ranges: [number, number][] = [];
    let start = 0;
    let acc = 0;
    for (let j = 0; j < kept.length; j++) {
      if (j > start && acc + outSizes[j] > maxOutputBytes) {
        ranges.push([start, j]);
        start = j;
        acc = 0;
      }
      acc += outSizes[j];
    }
    ranges.push([start, kept.length]);
    const out: Buffer[] = [];
    const stack = ranges.reverse();
    while (stack.length > 0) {
      const [a, b] = stack.pop()!;
      const gz = gzipSync(`${head}${events.slice(a, b).join(',')}]}`);
      if (gz.length <= REINGEST_MAX_PAYLOAD_BYTES) {
        out.push(gz);
      } else if (b - a === 1) {
        return `log event ${kept[a].meta.id} compresses to ${gz.length} bytes, more than one Firehose record (${REINGEST_MAX_PAYLOAD_BYTES})`;
      } else {
        const mid = (a + b) >>> 1;
        stack.push([mid, b], [a, mid]);
      }
    }
    return out;
  }

  private logInvocation(
    event: FirehoseTransformationEvent,
    s: InvocationSummary,
    failures: RecordFailure[],
    result: RunResult,
    durationMs: number,
    extra?: Record<string, unknown>,
  ): void {
    const log = this.deps.log;
    for (const f of failures)
      log.warn('record ProcessingFailed', { invocationId: event?.invocationId, ...f });
    log.info('firehose transformation', {
      invocationId: event?.invocationId,
      deliveryStreamArn: event?.deliveryStreamArn,
      format: this.settings.format,
      records: s.records,
      ok: s.ok,
      dropped: s.dropped,
      failed: s.failed,
      reingestedRecords: s.reingestedRecords,
      reingestedPayloads: s.reingestedPayloads,
      splitRecords: s.splitRecords,
      responseBytes: s.responseBytes,
      budgetBytes: s.budgetBytes,
      reingest: s.reingest,
      events: s.tally.total,
      reasons: Object.fromEntries(s.tally.byReason),
      durationMs,
      ...extra,
      ...emfMetrics('firehose', result, s.failed),
    });
  }
}

const clients = new Map<string, Promise<FirehoseClient>>();

/** One client per region and endpoint, reused across warm invocations. */
export function defaultFirehoseClient(region: string): Promise<FirehoseClient> {
  const key = `${region}\u0000${endpointFor('firehose') ?? ''}`;
  let c = clients.get(key);
  if (!c) {
    c = import('@aws-sdk/client-firehose').then(
      (m) => new (cjsNamespace(m, 'FirehoseClient').FirehoseClient)(clientConfig('firehose', { region })),
    );
    clients.set(key, c);
  }
  return c;
}
