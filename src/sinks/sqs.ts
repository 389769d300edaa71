/**
 * The `sqs` dead-letter sink: stores dead-letter entries as SQS messages so an operator (or a
 * redrive job) can inspect and replay them. Each message body is the entry as JSON —
 * `{code, reason, attempts, source, ackId, logGroup, logStream, id, record | payload, at}` — with
 * `code` and `source` also as message attributes (filterable without parsing the body).
 *
 * Delivery semantics: an entry is reported stored only after SQS acknowledged it, so the caller
 * fails (redrives) whatever could not be stored; a retried put may store an entry twice (SQS
 * standard queues are at-least-once anyway; FIFO queues get a deterministic deduplication id).
 * `SendMessageBatch` partial failures are retried for the failed entries only; sender faults are
 * permanent and not retried. Retries, batching and the deadline are the core's one delivery engine
 * (`deliver`): the messages are a sink (`SqsMessageSink`) whose `send` does one SendMessageBatch and
 * says per entry what to retry, with AWS errors classified by src/aws/errors.ts.
 * Limits (named below): 10 entries and 1 MiB per batch; a message may be
 * up to the queue's `MaximumMessageSize` (`maxMessageBytes`, default 256 KiB, which every queue
 * accepts; 1 MiB is the service maximum). A larger entry — typically a malformed Kinesis record's
 * whole payload — is written to S3 (`overflowS3Url`, deterministic key so a retry overwrites) and
 * the message carries a pointer `{overflow: {bucket, key, bytes}}` instead of `record`/`payload`;
 * without `overflowS3Url` such an entry is reported unstored. Retries are bounded by
 * `maxAttempts` and `timeoutMs` so a dead-letter hand-off never runs past a Lambda's deadline.
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type MessageAttributeValue, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { clientConfig } from '../aws/clients.js';
import type { ComponentSpec, Logger } from '../core/component.js';
import {
  SQS_MAX_BATCH_BYTES,
  SQS_MAX_BATCH_ENTRIES,
  type SqsDeadLetterConfig,
  sqsDeadLetterMeta,
} from './sqs-config.js';
import { classifyAwsCode, classifyAwsError } from '../aws/errors.js';
import {
  type DeadLetter,
  type DeadLetterContext,
  type DeadLetterSink,
  deadLetterRecord,
  serializeDeadLetter,
} from '../core/dead-letter.js';
import { deliver } from '../core/deliver.js';
import { describeError } from '../core/errors.js';
import type { LogRecord } from '../core/record.js';
import type { RetryPolicy } from '../core/retry.js';
import type { Encoded, ItemProblem, SendContext, SendResult, Sink } from '../core/sink.js';

export {
  SQS_DEFAULT_MESSAGE_BYTES,
  SQS_MAX_BATCH_BYTES,
  SQS_MAX_BATCH_ENTRIES,
  SQS_MAX_MESSAGE_BYTES,
  type SqsDeadLetterConfig,
  sqsDeadLetterConfig,
} from './sqs-config.js';

type SqsSettings = Omit<SqsDeadLetterConfig, 'type'> & {
  maxMessageBytes: number;
  maxAttempts: number;
  timeoutMs: number;
};

/** SQS accepts only XML 1.0 characters; JSON.stringify already escapes controls and lone surrogates. */
function sqsSafe(json: string): string {
  return /[\uFFFE\uFFFF]/.test(json)
    ? json.replace(/\uFFFE/g, '\\ufffe').replace(/\uFFFF/g, '\\uffff')
    : json;
}

function attr(v: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: v || '-' };
}

function attrBytes(attrs: Record<string, MessageAttributeValue>): number {
  let n = 0;
  for (const [k, v] of Object.entries(attrs))
    n += Buffer.byteLength(k) + Buffer.byteLength(v.DataType ?? '') + Buffer.byteLength(v.StringValue ?? '');
  return n;
}

function parseS3Url(url: string): { bucket: string; prefix: string } {
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  let prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  return { bucket, prefix };
}

/** One SQS message, as encoded for SendMessageBatch. */
export interface SqsMessage {
  body: string;
  attrs: Record<string, MessageAttributeValue>;
  dedupId: string;
  group: string;
  /** The full entry to store in S3 first (oversize entries); the body is then a pointer to it. */
  overflow?: { bucket: string; key: string; text: string };
}

/** Longest a partial batch of dead letters waits (the hand-off flushes at once anyway). */
const SQS_MAX_AGE_MS = 1_000;

export interface SqsDeadLetterDeps {
  sqs?: SQSClient;
  s3?: S3Client;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  random?: () => number;
}

/**
 * Dead-letter entries as an ordinary sink: `encode` turns an entry (a record made by
 * `deadLetterRecord`, or any record whose message is an entry's JSON line) into a message, `send`
 * uploads oversize entries to S3 and puts the batch with one SendMessageBatch, reporting per entry
 * what to retry (service faults, throttling, entries in neither answer list) and what to reject
 * (sender faults, permanent AWS errors). It never retries by itself.
 */
export class SqsMessageSink implements Sink<SqsMessage> {
  readonly type = 'sqs';
  readonly name = 'sqs';
  readonly limits;
  readonly stats = { batches: 0, overflowPuts: 0 };
  private readonly fifo: boolean;
  private s3?: S3Client;
  /** Entries behind the records `put` made (no JSON round trip for them). */
  readonly entries = new WeakMap<LogRecord, DeadLetter>();

  constructor(
    private readonly cfg: SqsSettings,
    readonly sqs: SQSClient,
    private readonly deps: SqsDeadLetterDeps = {},
  ) {
    this.fifo = cfg.queueUrl.endsWith('.fifo');
    this.limits = {
      maxRecords: SQS_MAX_BATCH_ENTRIES,
      maxBytes: SQS_MAX_BATCH_BYTES,
      maxRecordBytes: cfg.maxMessageBytes,
      maxAgeMs: SQS_MAX_AGE_MS,
    };
  }

  private entryOf(record: LogRecord): DeadLetter | undefined {
    const e = this.entries.get(record);
    if (e) return e;
    try {
      const parsed = JSON.parse(record.message) as DeadLetter;
      return parsed && typeof parsed === 'object' && typeof parsed.code === 'string' ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  encode(record: LogRecord): Encoded<SqsMessage> | { reject: string; code: string } {
    const e = this.entryOf(record);
    const code = e?.code ?? 'UNKNOWN';
    const source = e?.source ?? record.meta.source;
    const attrs: Record<string, MessageAttributeValue> = { code: attr(code), source: attr(source) };
    const full = sqsSafe(
      e && !this.entries.has(record) ? record.message : e ? serializeDeadLetter(e) : record.message,
    );
    const dedupId = createHash('sha256')
      .update(`${source}\0${e?.ackId ?? record.meta.ackId}\0${e?.id ?? record.meta.id ?? ''}\0${code}`)
      .digest('hex');
    const group = (e?.logGroup || source || 'logferry').slice(0, 128);
    const fullBytes = Buffer.byteLength(full) + attrBytes(attrs);
    if (fullBytes <= this.cfg.maxMessageBytes)
      return { record, data: { body: full, attrs, dedupId, group }, bytes: fullBytes };
    if (!this.cfg.overflowS3Url || !e)
      return {
        code: 'DEAD_LETTER_TOO_LARGE',
        reject: `the entry is ${fullBytes} bytes, more than the queue's ${this.cfg.maxMessageBytes}-byte messages, and no overflowS3Url is configured`,
      };
    const { bucket, prefix } = parseS3Url(this.cfg.overflowS3Url);
    const at = typeof e.at === 'string' ? e.at : new Date().toISOString();
    const key = `${prefix}${at.slice(0, 10)}/${source}/${dedupId.slice(0, 40)}.json`;
    const { record: _r, payload: _p, ...rest } = e;
    const pointer = {
      ...rest,
      reason: String(rest.reason ?? '').slice(0, 4096),
      overflow: { bucket, key, bytes: Buffer.byteLength(full) },
    };
    const body = sqsSafe(JSON.stringify(pointer));
    attrs.overflow = attr('s3');
    return {
      record,
      data: { body, attrs, dedupId, group, overflow: { bucket, key, text: full } },
      bytes: Buffer.byteLength(body) + attrBytes(attrs),
    };
  }

  async send(batch: readonly Encoded<SqsMessage>[], ctx: SendContext): Promise<SendResult> {
    const problems: ItemProblem[] = [];
    const ready: number[] = [];
    const uploads: Promise<void>[] = [];
    for (let j = 0; j < batch.length; j++) {
      const o = batch[j].data.overflow;
      if (!o) ready.push(j);
      else
        uploads.push(
          this.upload(o, ctx.signal).then((p) =>
            p ? void problems.push({ index: j, ...p }) : void ready.push(j),
          ),
        );
    }
    await Promise.all(uploads);
    if (ready.length === 0) return { problems };
    ready.sort((a, b) => a - b);
    this.stats.batches++;
    let out: {
      Successful?: { Id?: string }[];
      Failed?: { Id?: string; SenderFault?: boolean; Code?: string; Message?: string }[];
    };
    try {
      out = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.cfg.queueUrl,
          Entries: ready.map((j) => {
            const m = batch[j].data;
            return {
              Id: `e${j}`,
              MessageBody: m.body,
              MessageAttributes: m.attrs,
              ...(this.fifo
                ? { MessageGroupId: m.group, MessageDeduplicationId: m.dedupId.slice(0, 128) }
                : {}),
            };
          }),
        }),
        { abortSignal: ctx.signal },
      );
    } catch (err) {
      const c = classifyAwsError(err);
      this.deps.log?.warn('SQS SendMessageBatch failed', {
        error: describeError(err),
        entries: ready.length,
      });
      for (const j of ready)
        problems.push({
          index: j,
          action: c.retry ? 'retry' : 'reject',
          code: c.name,
          reason: `SendMessageBatch failed: ${describeError(err)}`,
          retryAfterMs: c.retryAfterMs || undefined,
        });
      return { problems };
    }
    const done = new Set<number>();
    for (const ok of out.Successful ?? []) done.add(Number(ok.Id?.slice(1)));
    for (const f of out.Failed ?? []) {
      const j = Number(f.Id?.slice(1));
      if (!Number.isInteger(j) || j < 0 || j >= batch.length || done.has(j)) continue;
      done.add(j);
      const code = f.Code ?? 'SQS_ENTRY_FAILED';
      const permanent = f.SenderFault === true || !classifyAwsCode(code).retry;
      if (permanent) this.deps.log?.warn('SQS refused a dead-letter entry', { code, reason: f.Message });
      problems.push({
        index: j,
        action: permanent ? 'reject' : 'retry',
        code,
        reason: `SQS ${permanent ? 'refused' : 'failed'} the entry: ${f.Message ?? code}`,
      });
    }
    // An entry in neither list was not acknowledged: retry it (never assume it was stored).
    for (const j of ready)
      if (!done.has(j))
        problems.push({
          index: j,
          action: 'retry',
          code: 'SQS_UNACKNOWLEDGED',
          reason: 'SQS did not answer for this entry',
        });
    return { problems };
  }

  /** Uploads one oversize entry; returns the problem when it could not be stored. */
  private async upload(
    o: NonNullable<SqsMessage['overflow']>,
    signal: AbortSignal | undefined,
  ): Promise<Omit<ItemProblem, 'index'> | undefined> {
    this.s3 ??=
      this.deps.s3 ?? new S3Client(clientConfig('s3', { env: this.deps.env, region: this.cfg.region }));
    try {
      this.stats.overflowPuts++;
      await this.s3.send(
        new PutObjectCommand({ Bucket: o.bucket, Key: o.key, Body: o.text, ContentType: 'application/json' }),
        { abortSignal: signal },
      );
      return undefined;
    } catch (err) {
      this.deps.log?.warn('dead-letter overflow upload to S3 failed', { error: describeError(err) });
      const c = classifyAwsError(err);
      return {
        action: c.retry ? 'retry' : 'reject',
        code: c.name,
        reason: `overflow upload to s3://${o.bucket}/${o.key} failed: ${describeError(err)}`,
        retryAfterMs: c.retryAfterMs || undefined,
      };
    }
  }

  async close(): Promise<void> {
    this.sqs.destroy();
    this.s3?.destroy();
  }
}

/**
 * The `sqs` dead-letter store: its entries go out through the one delivery engine as records of a
 * `SqsMessageSink`, retried within `maxAttempts` and bounded by `timeoutMs` and the run's deadline.
 */
export class SqsDeadLetterSink implements DeadLetterSink {
  readonly type = 'sqs';
  lastError: string | undefined;
  readonly sink: SqsMessageSink;
  private readonly policy: RetryPolicy;
  /** Requests made (for tests and metrics). */
  readonly stats = { batches: 0, overflowPuts: 0, retriedEntries: 0 };

  constructor(
    private readonly cfg: SqsSettings,
    private readonly deps: SqsDeadLetterDeps = {},
  ) {
    const region = cfg.region ?? /^https:\/\/sqs[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(cfg.queueUrl)?.[1];
    const sqs = deps.sqs ?? new SQSClient(clientConfig('sqs', { env: deps.env, region }));
    this.sink = new SqsMessageSink(cfg, sqs, deps);
    this.policy = { maxAttempts: cfg.maxAttempts, baseDelayMs: 50, maxDelayMs: 1_000 };
  }

  async put(entries: readonly DeadLetter[], ctx?: DeadLetterContext): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const started = Date.now();
    const records = entries.map((e) => {
      const r = deadLetterRecord(e);
      this.sink.entries.set(r, e);
      return r;
    });
    const timeout = AbortSignal.timeout(this.cfg.timeoutMs);
    const signal = ctx?.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
    const outcomes = await deliver(this.sink, records, {
      retry: this.policy,
      random: this.deps.random,
      signal,
      deadline: {
        remainingMs: () =>
          Math.min(
            this.cfg.timeoutMs - (Date.now() - started),
            ctx?.deadline?.remainingMs() ?? Number.POSITIVE_INFINITY,
          ),
      },
      onSend: (i) => {
        if (i.attempt > 1) this.stats.retriedEntries += i.records;
      },
    });
    this.stats.batches = this.sink.stats.batches;
    this.stats.overflowPuts = this.sink.stats.overflowPuts;
    const bad = outcomes.find((o) => o.kind !== 'delivered');
    this.lastError = bad ? `${bad.code}: ${bad.reason}` : undefined;
    const stored = outcomes.map((o) => o.kind === 'delivered');
    const lost = stored.filter((s) => !s).length;
    if (lost > 0)
      this.deps.log?.warn('dead-letter entries not stored in SQS', {
        entries: entries.length,
        unstored: lost,
        why: this.lastError,
      });
    return stored;
  }

  async close(): Promise<void> {
    await this.sink.close();
  }
}

export const sqsDeadLetterSpec: ComponentSpec<SqsDeadLetterConfig, DeadLetterSink> = {
  ...sqsDeadLetterMeta,
  create: (cfg, ctx) => new SqsDeadLetterSink(cfg as SqsSettings, { env: ctx.env, log: ctx.log }),
};
