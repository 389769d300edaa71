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
 * permanent and not retried. Limits (named below): 10 entries and 1 MiB per batch; a message may be
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
import { z } from 'zod';
import { clientConfig } from '../aws/clients.js';
import type { ComponentSpec, Logger } from '../core/component.js';
import { type DeadLetter, type DeadLetterSink, serializeDeadLetter } from '../core/dead-letter.js';
import { describeError } from '../core/errors.js';
import { backoffDelayMs, type RetryPolicy, sleep } from '../core/retry.js';

/** Entries per SendMessageBatch (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html). */
export const SQS_MAX_BATCH_ENTRIES = 10;
/** Sum of message sizes in one SendMessageBatch (same page). */
export const SQS_MAX_BATCH_BYTES = 1_048_576;
/** Largest message SQS accepts when the queue allows it (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/** The historical default queue `MaximumMessageSize`: safe for every queue. */
export const SQS_DEFAULT_MESSAGE_BYTES = 262_144;

export const sqsDeadLetterConfig = z.strictObject({
  type: z.literal('sqs'),
  queueUrl: z.url({
    protocol: /^https?$/,
    error: 'queueUrl must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)',
  }),
  /** `s3://bucket/prefix` for entries larger than `maxMessageBytes`. */
  overflowS3Url: z
    .string()
    .regex(
      /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/,
      'overflowS3Url must look like s3://bucket/prefix',
    )
    .optional(),
  maxMessageBytes: z.number().int().min(1024).max(SQS_MAX_MESSAGE_BYTES).default(SQS_DEFAULT_MESSAGE_BYTES),
  maxAttempts: z.number().int().min(1).max(10).default(4),
  /** Total time one `put` may spend, including retries. */
  timeoutMs: z.number().int().min(100).max(60_000).default(3_000),
  region: z.string().min(1).optional(),
});

export type SqsDeadLetterConfig = z.infer<typeof sqsDeadLetterConfig>;
type SqsSettings = Omit<SqsDeadLetterConfig, 'type'> & {
  maxMessageBytes: number;
  maxAttempts: number;
  timeoutMs: number;
};

interface Pending {
  index: number;
  body: string;
  attrs: Record<string, MessageAttributeValue>;
  bytes: number;
  /** The full body to store in S3 first (oversize entries), until uploaded. */
  overflow?: { bucket: string; key: string; text: string };
  dedupId: string;
  group: string;
}

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

export interface SqsDeadLetterDeps {
  sqs?: SQSClient;
  s3?: S3Client;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  random?: () => number;
}

export class SqsDeadLetterSink implements DeadLetterSink {
  readonly type = 'sqs';
  private readonly sqs: SQSClient;
  private s3?: S3Client;
  private readonly fifo: boolean;
  private readonly policy: RetryPolicy;
  /** Requests made (for tests and metrics). */
  readonly stats = { batches: 0, overflowPuts: 0, retriedEntries: 0 };

  constructor(
    private readonly cfg: SqsSettings,
    private readonly deps: SqsDeadLetterDeps = {},
  ) {
    const region = cfg.region ?? /^https:\/\/sqs[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(cfg.queueUrl)?.[1];
    this.sqs = deps.sqs ?? new SQSClient(clientConfig('sqs', { env: deps.env, region }));
    this.fifo = cfg.queueUrl.endsWith('.fifo');
    this.policy = { maxAttempts: cfg.maxAttempts, baseDelayMs: 50, maxDelayMs: 1_000 };
  }

  async put(entries: readonly DeadLetter[]): Promise<boolean[]> {
    const stored = entries.map(() => false);
    const started = Date.now();
    let pending: Pending[] = [];
    for (let i = 0; i < entries.length; i++) {
      const p = this.prepare(entries[i], i);
      if (p) pending.push(p);
    }
    const left = () => this.cfg.timeoutMs - (Date.now() - started);
    for (let attempt = 1; pending.length > 0 && left() > 0; attempt++) {
      const retry: Pending[] = [];
      await this.uploadOverflow(pending, retry, left());
      const ready = pending.filter((p) => !p.overflow);
      for (const batch of this.batches(ready)) {
        if (left() <= 0) retry.push(...batch);
        else await this.sendBatch(batch, stored, retry, left());
      }
      if (retry.length === 0 || attempt >= this.policy.maxAttempts) break;
      const delay = backoffDelayMs(this.policy, attempt, 0, this.deps.random);
      if (delay >= left()) break;
      await sleep(delay);
      this.stats.retriedEntries += retry.length;
      pending = retry;
    }
    const lost = stored.filter((s) => !s).length;
    if (lost > 0)
      this.deps.log?.warn('dead-letter entries not stored in SQS', {
        entries: entries.length,
        unstored: lost,
      });
    return stored;
  }

  /** Message for one entry, or undefined when it can never be stored (logged). */
  private prepare(e: DeadLetter, index: number): Pending | undefined {
    const attrs: Record<string, MessageAttributeValue> = { code: attr(e.code), source: attr(e.source) };
    const full = sqsSafe(serializeDeadLetter(e));
    const dedupId = createHash('sha256')
      .update(`${e.source}\0${e.ackId}\0${e.id ?? ''}\0${e.code}`)
      .digest('hex');
    const group = (e.logGroup || e.source || 'logferry').slice(0, 128);
    const fullBytes = Buffer.byteLength(full) + attrBytes(attrs);
    if (fullBytes <= this.cfg.maxMessageBytes)
      return { index, body: full, attrs, bytes: fullBytes, dedupId, group };
    if (!this.cfg.overflowS3Url) {
      this.deps.log?.warn(
        'dead-letter entry exceeds the SQS message size and no overflowS3Url is configured',
        {
          code: e.code,
          bytes: fullBytes,
          maxMessageBytes: this.cfg.maxMessageBytes,
        },
      );
      return undefined;
    }
    const { bucket, prefix } = parseS3Url(this.cfg.overflowS3Url);
    const key = `${prefix}${e.at.slice(0, 10)}/${e.source}/${dedupId.slice(0, 40)}.json`;
    const { record: _r, payload: _p, ...rest } = e;
    const pointer = {
      ...rest,
      reason: rest.reason.slice(0, 4096),
      overflow: { bucket, key, bytes: Buffer.byteLength(full) },
    };
    const body = sqsSafe(JSON.stringify(pointer));
    attrs.overflow = attr('s3');
    return {
      index,
      body,
      attrs,
      bytes: Buffer.byteLength(body) + attrBytes(attrs),
      overflow: { bucket, key, text: full },
      dedupId,
      group,
    };
  }

  private async uploadOverflow(pending: Pending[], retry: Pending[], budgetMs: number): Promise<void> {
    const todo = pending.filter((p) => p.overflow);
    if (todo.length === 0) return;
    this.s3 ??=
      this.deps.s3 ?? new S3Client(clientConfig('s3', { env: this.deps.env, region: this.cfg.region }));
    const s3 = this.s3;
    await Promise.all(
      todo.map(async (p) => {
        const o = p.overflow!;
        try {
          this.stats.overflowPuts++;
          await s3.send(
            new PutObjectCommand({
              Bucket: o.bucket,
              Key: o.key,
              Body: o.text,
              ContentType: 'application/json',
            }),
            { abortSignal: AbortSignal.timeout(Math.max(1, budgetMs)) },
          );
          p.overflow = undefined;
        } catch (err) {
          this.deps.log?.warn('dead-letter overflow upload to S3 failed', { error: describeError(err) });
          retry.push(p);
        }
      }),
    );
  }

  private *batches(items: Pending[]): Generator<Pending[]> {
    let cur: Pending[] = [];
    let bytes = 0;
    for (const p of items) {
      if (cur.length > 0 && (cur.length >= SQS_MAX_BATCH_ENTRIES || bytes + p.bytes > SQS_MAX_BATCH_BYTES)) {
        yield cur;
        cur = [];
        bytes = 0;
      }
      cur.push(p);
      bytes += p.bytes;
    }
    if (cur.length > 0) yield cur;
  }

  private async sendBatch(
    batch: Pending[],
    stored: boolean[],
    retry: Pending[],
    budgetMs: number,
  ): Promise<void> {
    this.stats.batches++;
    try {
      const out = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.cfg.queueUrl,
          Entries: batch.map((p, j) => ({
            Id: `e${j}`,
            MessageBody: p.body,
            MessageAttributes: p.attrs,
            ...(this.fifo
              ? { MessageGroupId: p.group, MessageDeduplicationId: p.dedupId.slice(0, 128) }
              : {}),
          })),
        }),
        { abortSignal: AbortSignal.timeout(Math.max(1, budgetMs)) },
      );
      for (const ok of out.Successful ?? []) {
        const p = batch[Number(ok.Id?.slice(1))];
        if (p) stored[p.index] = true;
      }
      const failed = new Set<number>();
      for (const f of out.Failed ?? []) {
        const j = Number(f.Id?.slice(1));
        const p = batch[j];
        if (!p) continue;
        failed.add(j);
        if (f.SenderFault) {
          this.deps.log?.warn('SQS refused a dead-letter entry', { code: f.Code, reason: f.Message });
        } else retry.push(p);
      }
      // An entry in neither list was not acknowledged: retry it (never assume it was stored).
      for (let j = 0; j < batch.length; j++)
        if (!stored[batch[j].index] && !failed.has(j)) retry.push(batch[j]);
    } catch (err) {
      this.deps.log?.warn('SQS SendMessageBatch failed', {
        error: describeError(err),
        entries: batch.length,
      });
      retry.push(...batch);
    }
  }

  async close(): Promise<void> {
    this.sqs.destroy();
    this.s3?.destroy();
  }
}

export const sqsDeadLetterSpec: ComponentSpec<SqsDeadLetterConfig, DeadLetterSink> = {
  type: 'sqs',
  iam: ['sqs:SendMessage', 's3:PutObject'],
  summary: 'Stores dead-letter entries as SQS messages (oversize entries in S3 with a pointer).',
  schema: sqsDeadLetterConfig,
  create: (cfg, ctx) => new SqsDeadLetterSink(cfg as SqsSettings, { env: ctx.env, log: ctx.log }),
};
