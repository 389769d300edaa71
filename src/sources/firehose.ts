/**
 * The Firehose data-transformation source: decodes the CloudWatch Logs payloads a Firehose delivery
 * stream hands its transformation Lambda, runs the shared transforms (parse, mask, …) and answers
 * every `recordId` exactly once — `Ok` with the formatted data (`raw`: each message + "\n", as the
 * seed did; `ndjson`: one document per event) and dynamic-partitioning keys, `Dropped` for control
 * messages, records whose events were all dropped by transforms, and records re-ingested into the
 * stream, `ProcessingFailed` for malformed records (Firehose then writes the original to its error
 * prefix: nothing is lost).
 *
 * Delivery semantics: at least once. A record that does not fit the response budget is re-ingested
 * with `PutRecordBatch` and answered `Dropped` only after Firehose acknowledged every payload made
 * from it; otherwise it is `ProcessingFailed`. Re-ingested payloads carry `logferryGeneration` so a
 * payload that keeps not fitting stops after `maxReingestGenerations` instead of looping.
 *
 * Limits: the Lambda response is at most 6 MB
 * (https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html), budgeted to
 * `firehose.maxResponseBytes` (default 5.5 MB) including JSON framing; a re-ingested payload is at
 * most 1,000 KiB of gzip, so records taking over half a response are split by log event; one event that cannot fit
 * even alone is `ProcessingFailed` with `RECORD_TOO_LARGE`.
 */
import { gzipSync } from 'node:zlib';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { clientConfig, endpointFor } from '../aws/clients.js';
import {
  type DataMessage,
  type DecodeResult,
  decodeBase64Payload,
  decodeJsonPayload,
  toRecords,
} from '../aws/cloudwatch-payload.js';
import { FIREHOSE_MAX_RECORD_BYTES, type ReingestReport, reingest } from '../aws/firehose-reingest.js';
import { type PartitionKeys, partitionKeys } from '../aws/partition.js';
import { secretContext, sharedSecretResolver } from '../aws/secrets.js';
import type { BuildContext, Logger } from '../core/component.js';
import { toDocument } from '../core/document.js';
import { type Outcome, Tally } from '../core/outcome.js';
import { runTransforms, type Transform } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { type Deadline, lambdaDeadline, NO_DEADLINE, type RetryPolicy } from '../core/retry.js';
import { buildTransforms } from '../config/build-pipeline.js';
import { configOnce } from '../config/env.js';
import { type Config, FIREHOSE_MAX_RESPONSE_BYTES, type FirehoseSettings } from '../config/schema.js';

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
  reingest?: Omit<ReingestReport, 'errors'>;
  tally: Tally;
}

export interface FirehoseTransformerDeps {
  transforms: readonly Transform[];
  log: Logger;
  /** Firehose client for re-ingest, per region (cached by the default factory). */
  firehoseClient?: (region: string) => FirehoseClient;
  retry?: RetryPolicy;
  random?: () => number;
}

/** Per input record while an invocation is processed. */
interface Slot {
  recordId: string;
  out?: FirehoseOutputRecord;
  code?: string;
  reason?: string;
  // Data records only:
  msg?: DataMessage;
  generation: number;
  kept?: LogRecord[];
  data?: Buffer;
  keys?: PartitionKeys;
  /** Response bytes if answered `Ok`; `okFixed` is that without the data. */
  okCost: number;
  okFixed: number;
  /** Response bytes if answered `Dropped`/`ProcessingFailed`. */
  smallCost: number;
}

const GROUP_UNKNOWN = '(unknown)';

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

/** `raw`: each message + "\n" (the seed's output), written straight into one buffer. */
export function formatRaw(records: readonly LogRecord[]): Buffer {
  let total = 0;
  for (let i = 0; i < records.length; i++) total += Buffer.byteLength(records[i].message) + 1;
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    at += buf.write(records[i].message, at);
    buf[at++] = 0x0a;
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

/** Formats, budgets and re-ingests one invocation at a time. Stateless between invocations. */
export class FirehoseTransformer {
  private readonly format: (records: readonly LogRecord[]) => Buffer;

  constructor(
    readonly settings: FirehoseSettings,
    private readonly deps: FirehoseTransformerDeps,
  ) {
    this.format = settings.format === 'ndjson' ? formatNdjson : formatRaw;
  }

  async transform(
    event: FirehoseTransformationEvent,
    deadline: Deadline = NO_DEADLINE,
  ): Promise<{ response: FirehoseTransformationResponse; summary: InvocationSummary }> {
    const input = Array.isArray(event?.records) ? event.records : [];
    const tally = new Tally();
    const budget = Math.min(this.settings.maxResponseBytes, FIREHOSE_RESPONSE_LIMIT_BYTES);
    const summary: InvocationSummary = {
      records: input.length,
      ok: 0,
      dropped: 0,
      failed: 0,
      reingestedRecords: 0,
      reingestedPayloads: 0,
      splitRecords: 0,
      responseBytes: 0,
      budgetBytes: budget,
      tally,
    };
    const slots: Slot[] = new Array(input.length);
    // `{"records":[` … `]}`
    let used = 14;
    const candidates: number[] = [];

    for (let i = 0; i < input.length; i++) {
      const rec = input[i];
      const recordId = String(rec?.recordId ?? '');
      const slot: Slot = { recordId, generation: 0, okCost: 0, okFixed: 0, smallCost: 0 };
      slots[i] = slot;
      slot.smallCost = entryCost(recordId, 'ProcessingFailed', 0);
      used += slot.smallCost;
      let decoded = decodeBase64Payload(rec?.data);
      if (!decoded.ok && decoded.code === 'ENVELOPE_NOT_GZIP') decoded = decodePlainJson(rec.data, decoded);
      if (!decoded.ok) {
        tally.received(GROUP_UNKNOWN);
        this.finish(
          slot,
          'ProcessingFailed',
          { kind: 'failed', code: decoded.code, reason: decoded.reason },
          GROUP_UNKNOWN,
          tally,
        );
        continue;
      }
      const msg = decoded.message;
      if (msg.messageType === 'CONTROL_MESSAGE') {
        tally.received(GROUP_UNKNOWN);
        const o: Outcome = {
          kind: 'dropped',
          code: 'CONTROL_MESSAGE',
          reason: 'CloudWatch Logs control message',
        };
        this.finish(slot, 'Dropped', o, GROUP_UNKNOWN, tally);
        continue;
      }
      const group = msg.logGroup;
      const gen = (msg as unknown as Record<string, unknown>)[GENERATION_FIELD];
      slot.generation = typeof gen === 'number' && Number.isInteger(gen) && gen > 0 ? gen : 0;
      slot.msg = msg;
      if (msg.logEvents.length === 0) {
        tally.received(group);
        this.finish(
          slot,
          'Dropped',
          { kind: 'dropped', code: 'NO_EVENTS', reason: 'payload has no log events' },
          group,
          tally,
        );
        continue;
      }
      const records = toRecords(msg, 'firehose', recordId);
      tally.received(group, records.length);
      const kept =
        this.deps.transforms.length > 0
          ? runTransforms(this.deps.transforms, records, tally).records
          : records;
      if (kept.length === 0) {
        slot.out = { recordId, result: 'Dropped', data: '' };
        slot.code = 'ALL_EVENTS_DROPPED';
        slot.reason = 'every log event was dropped by transforms';
        continue;
      }
      slot.kept = kept;
      slot.data = this.format(kept);
      // Partition by the earliest event: a payload's events can be out of order, and a partition's
      // time must never be later than an event in it, or time-pruned queries would skip that event.
      let earliest = kept[0].timestamp;
      for (let k = 1; k < kept.length; k++) if (kept[k].timestamp < earliest) earliest = kept[k].timestamp;
      slot.keys = partitionKeys(group, msg.logStream, earliest);
      slot.okFixed = entryCost(recordId, 'Ok', 0, slot.keys);
      slot.okCost = slot.okFixed + base64Len(slot.data.length);
      candidates.push(i);
    }

    // Older generations first: they have waited longest and are closest to the loop guard.
    candidates.sort((a, b) => slots[b].generation - slots[a].generation || a - b);
    const overflow: number[] = [];
    for (const i of candidates) {
      const s = slots[i];
      const extra = s.okCost - s.smallCost;
      if (used + extra <= budget) {
        used += extra;
        s.out = {
          recordId: s.recordId,
          result: 'Ok',
          data: s.data!.toString('base64'),
          metadata: { partitionKeys: s.keys as unknown as Record<string, string> },
        };
        tally.settle(s.msg!.logGroup, { kind: 'delivered' }, s.kept!.length);
        s.data = undefined;
      } else {
        overflow.push(i);
      }
    }
    if (overflow.length > 0) await this.reingestOverflow(event, slots, overflow, budget, deadline, summary);

    const records: FirehoseOutputRecord[] = new Array(slots.length);
    const failures: { recordId: string; code: string; reason?: string }[] = [];
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i];
      const out = s.out ?? { recordId: s.recordId, result: 'ProcessingFailed', data: '' };
      records[i] = out;
      if (out.result === 'Ok') summary.ok++;
      else if (out.result === 'Dropped') summary.dropped++;
      else {
        summary.failed++;
        failures.push({ recordId: s.recordId, code: s.code ?? 'INTERNAL', reason: s.reason });
      }
    }
    summary.responseBytes = used;
    this.logInvocation(event, summary, failures);
    return { response: { records }, summary };
  }

  /** Answers a record with no data and settles its (envelope-level) outcome. */
  private finish(slot: Slot, result: FirehoseResult, o: Outcome, group: string, tally: Tally, n = 1): void {
    slot.out = { recordId: slot.recordId, result, data: '' };
    slot.code = o.code;
    slot.reason = o.reason === undefined ? undefined : safeReason(o.code ?? '', o.reason);
    tally.settle(group, o, n);
  }

  private async reingestOverflow(
    event: FirehoseTransformationEvent,
    slots: Slot[],
    overflow: number[],
    budget: number,
    deadline: Deadline,
    summary: InvocationSummary,
  ): Promise<void> {
    const tally = summary.tally;
    const fail = (s: Slot, code: string, reason: string) =>
      this.finish(
        s,
        'ProcessingFailed',
        { kind: 'failed', code, reason },
        s.msg!.logGroup,
        tally,
        s.kept!.length,
      );

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
      const chunks = this.buildPayloads(
        s,
        tooBig ? Math.floor(fitAlone / 4) : Number.POSITIVE_INFINITY,
        fitAlone,
      );
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
    const client = (this.deps.firehoseClient ?? defaultFirehoseClient)(region);
    const report = await reingest(client, streamName!, payloads, {
      deadline,
      policy: this.deps.retry,
      log: this.deps.log,
      random: this.deps.random,
    });
    summary.reingest = {
      calls: report.calls,
      retriedEntries: report.retriedEntries,
      throttled: report.throttled,
    };
    const firstError = new Map<number, string>();
    for (let p = 0; p < payloads.length; p++) {
      const err = report.errors[p];
      if (err !== undefined && !firstError.has(owners[p])) firstError.set(owners[p], err);
    }
    for (const i of pendingSlots) {
      const s = slots[i];
      const err = firstError.get(i);
      if (err === undefined) {
        this.finish(
          s,
          'Dropped',
          {
            kind: 'dropped',
            code: 'REINGESTED',
            reason: 'did not fit the response; put back into the stream',
          },
          s.msg!.logGroup,
          tally,
          s.kept!.length,
        );
        summary.reingestedRecords++;
      } else {
        fail(s, 'REINGEST_FAILED', `re-ingest failed: ${err}`);
      }
    }
    summary.reingestedPayloads = report.errors.filter((e) => e === undefined).length;
  }

  /**
   * CloudWatch payloads (gzip) for a record's kept events, each ≤ 1,000 KiB and (when splitting)
   * each formatting to at most `maxOutputBytes`. Returns a reason string when one event cannot fit.
   */
  private buildPayloads(s: Slot, maxOutputBytes: number, fitAloneBytes: number): Buffer[] | string {
    const msg = s.msg!;
    const kept = s.kept!;
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
    failures: { recordId: string; code: string; reason?: string }[],
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
    });
  }
}

const clients = new Map<string, FirehoseClient>();

/** One client per region and endpoint, reused across warm invocations. */
export function defaultFirehoseClient(region: string): FirehoseClient {
  const key = `${region}\u0000${endpointFor('firehose') ?? ''}`;
  let c = clients.get(key);
  if (!c) {
    c = new FirehoseClient(clientConfig('firehose', { region }));
    clients.set(key, c);
  }
  return c;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

/**
 * One JSON object per line on stdout (Lambda ships stdout to CloudWatch Logs as is). Small on
 * purpose: the Lambda bundle stays lean. `LOGFERRY_LOG_LEVEL` sets the threshold (default info).
 */
export function jsonLogger(
  base: Record<string, unknown> = {},
  level: string = process.env.LOGFERRY_LOG_LEVEL ?? 'info',
  write: (line: string) => void = (l) => process.stdout.write(l),
): Logger {
  const min = LEVELS[(level as Level) in LEVELS ? (level as Level) : 'info'];
  const emit = (lvl: Level) => (msg: string, data?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    write(`${JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...base, ...data })}\n`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/**
 * The shared stages for this handler. `raw` output is the messages alone, so parsed fields would be
 * thrown away: parsing is skipped unless configured transforms (which may read fields) follow.
 * Masking still runs on every message (it does not need parsed fields to rewrite the message).
 */
export function buildFirehoseTransforms(cfg: Config, ctx: BuildContext = {}): Promise<Transform[]> {
  const fieldsUnused = cfg.firehose.format === 'raw' && cfg.transforms.length === 0;
  return buildTransforms(fieldsUnused ? { ...cfg, parse: 'none' } : cfg, ctx);
}

export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

/**
 * The Lambda handler: config from the environment once per container (`configOnce`), transforms
 * built once, then one `transform` per invocation bounded by the Lambda deadline. A bad config
 * throws, so the invocation fails loudly and Firehose retries it rather than losing data.
 */
export function firehoseLambdaHandler(): (
  event: FirehoseTransformationEvent,
  context?: LambdaContextLike,
) => Promise<FirehoseTransformationResponse> {
  let ready: Promise<FirehoseTransformer> | undefined;
  const init = async () => {
    const log = jsonLogger({ source: 'firehose' });
    const cfg = await configOnce();
    const transforms = await buildFirehoseTransforms(cfg, { log, ...secretContext(sharedSecretResolver()) });
    log.info('firehose transformer ready', {
      format: cfg.firehose.format,
      transforms: transforms.map((t) => t.type),
    });
    return new FirehoseTransformer(cfg.firehose, { transforms, log });
  };
  return async (event, context) => {
    if (!ready) {
      ready = init();
      ready.catch(() => {
        ready = undefined;
      });
    }
    const transformer = await ready;
    const { response } = await transformer.transform(event, lambdaDeadline(context));
    return response;
  };
}
