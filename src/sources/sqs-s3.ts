/**
 * The `sqs-s3` daemon source: drains an SQS queue of S3 object notifications (raw S3 events, as
 * seed 000's SNS subscriptions with raw message delivery put them; SNS-wrapped; EventBridge
 * `Object Created`), reads each announced object as a stream (gzip or plain; logferry's `raw` and
 * `ndjson` archives, plain text or JSON lines from anywhere) and yields its lines as envelopes
 * (src/sources/s3-object/). It long-polls (`waitTimeSeconds`), reads up to `maxConcurrentObjects`
 * messages at once, keeps each message invisible while its object is in flight
 * (ChangeMessageVisibility every third of `visibilityTimeoutSeconds`), and deletes a message only
 * once every record of its objects has an outcome (delivered, dropped, or rejected into the
 * dead-letter store). A message with a `failed` record, or whose object could not be read
 * (AccessDenied, network), is made visible again after `retryDelaySeconds`.
 *
 * Delivery: at-least-once, resumed inside an object. The per-object position (last line whose
 * outcome and every earlier line's is settled) is kept in `<dataDir>/sqs-s3/<name>.json`; after a
 * crash the message reappears when its visibility timeout passes and the object is read from the
 * line after that position. Lines after the position acknowledged before the crash (out of order,
 * or — with the daemon's progress journal, sqs-s3-journal.ts — after the last progress write) are
 * skipped when read again (counted `skipped`); lines that were in flight are sent again and counted
 * as possible duplicates each time they are handed out again: OpenSearch stores them once (record
 * ids are bucket/key/version/line), other sinks may hold them twice (at most what was in flight:
 * `maxBufferedBytes` per source).

Bounded mode (`logferry run --once`, or `once: true`): receives wait at most `onceWaitSeconds`
 * (default 2 s, a long poll, which asks every SQS server, unlike a 0 s short poll), and the source
 * ends after `onceEmptyReceives` (default 2) empty receives in a row counted only while none of
 * this run's messages is in flight — i.e. after every message read so far was delivered and deleted
 * (or given back). A message given back (a failed delivery, an unreadable object) becomes visible
 * after `retryDelaySeconds`; if that is later than the end, it stays on the queue for the next run,
 * and the failed records make the run exit 1.
 */
import { resolve } from 'node:path';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import { clientConfig } from '../aws/clients.js';
import type { BuildContext, ComponentSpec, Logger } from '../core/component.js';
import { stateDir } from '../core/data-dir.js';
import { describeError } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import { type RedeliveryJournal, sourceRedeliveryJournal } from '../core/redelivery-journal.js';
import type { Source, SourceEnvelope } from '../core/source.js';
import {
  type FeedMessage,
  type MessageFeed,
  MessageSource,
  type MessageSourceStats,
} from './s3-object/message-source.js';
import { FileProgress } from './s3-object/progress-file.js';
import type { ObjectEnvelope } from './s3-object/read-object.js';
import { JournaledProgress } from './sqs-s3-journal.js';
import {
  DEFAULT_DATA_DIR,
  SQS_MAX_MESSAGES,
  type SqsS3SourceConfig,
  sqsS3SourceMeta,
} from './sqs-s3-config.js';

/** Longest the progress file waits before it is written after a change (0: next turn of the event loop). */
const PROGRESS_WRITE_MS = 0;

export {
  DEFAULT_DATA_DIR,
  SQS_MAX_MESSAGES,
  SQS_MAX_VISIBILITY_SECONDS,
  SQS_MAX_WAIT_SECONDS,
  sqsS3SourceConfig,
  type SqsS3SourceConfig,
} from './sqs-s3-config.js';

interface SqsMessage extends FeedMessage {
  receipt: string;
}

type SqsApi = Pick<SQSClient, 'send'>;

export interface SqsS3Stats extends MessageSourceStats {
  receives: number;
  emptyReceives: number;
  deletes: number;
  visibilityExtensions: number;
  progressWrites: number;
  /** Records sent again that were in flight at the last stop (possibly delivered before; progress journal). */
  possibleDuplicates: number;
}

/** SQS as a `MessageFeed`: long-poll receive, delete on ok, visibility back-off otherwise. */
class SqsFeed implements MessageFeed<SqsMessage> {
  receives = 0;
  emptyReceives = 0;
  deletes = 0;
  private emptyInARow = 0;
  /** Bounded mode (`--once`): end when the queue is empty and `idle()` says nothing is in flight. */
  bounded = false;
  constructor(
    private readonly sqs: SqsApi,
    private readonly cfg: SqsS3SourceConfig,
    private readonly idle: () => boolean,
    private readonly log?: Logger,
  ) {
    this.bounded = cfg.once;
  }

  async next(max: number, signal: AbortSignal): Promise<SqsMessage[] | null> {
    if (this.bounded && this.emptyInARow >= this.cfg.onceEmptyReceives) return null;
    if (signal.aborted) return null;
    let res: ReceiveMessageCommandOutput;
    try {
      res = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.cfg.queueUrl,
          MaxNumberOfMessages: Math.min(SQS_MAX_MESSAGES, max),
          WaitTimeSeconds: this.bounded
            ? Math.min(this.cfg.waitTimeSeconds, this.cfg.onceWaitSeconds)
            : this.cfg.waitTimeSeconds,
          VisibilityTimeout: this.cfg.visibilityTimeoutSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
        { abortSignal: signal },
      );
    } catch (e) {
      if (signal.aborted) return null;
      throw e;
    }
    this.receives++;
    const msgs = (res.Messages ?? []).filter((m) => m.ReceiptHandle);
    if (msgs.length === 0) {
      this.emptyReceives++;
      // Empty only counts once this run's messages are settled: a message in flight may still be
      // given back (visible again) or announce nothing more, and the queue is "empty" only after.
      this.emptyInARow = this.idle() ? this.emptyInARow + 1 : 0;
    } else this.emptyInARow = 0;
    return msgs.map((m) => ({
      id: m.MessageId ?? '',
      body: m.Body ?? '',
      receipt: m.ReceiptHandle as string,
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? '1') || 1,
    }));
  }

  async settle(m: SqsMessage, ok: boolean, why?: string): Promise<void> {
    if (ok) {
      await this.sqs.send(
        new DeleteMessageCommand({ QueueUrl: this.cfg.queueUrl, ReceiptHandle: m.receipt }),
      );
      this.deletes++;
      return;
    }
    this.log?.warn('message not completed; it will be redelivered', { message: m.id, why });
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.cfg.queueUrl,
        ReceiptHandle: m.receipt,
        VisibilityTimeout: this.cfg.retryDelaySeconds,
      }),
    );
  }
}

export class SqsS3Source implements Source {
  readonly type = 'sqs-s3';
  readonly name: string;
  readonly progressPath: string;
  /** Re-delivered records acknowledged since the last clean stop, kept across crashes (the daemon's, which gives a `dataDir`). */
  private readonly journal?: RedeliveryJournal;
  private readonly inner: MessageSource<SqsMessage>;
  private readonly feed: SqsFeed;
  private readonly progress: FileProgress;
  /** The progress journal over `progress` (the daemon's, with a `dataDir`): see sqs-s3-journal.ts. */
  private readonly journaled?: JournaledProgress;
  /** Envelopes handed out and not yet acknowledged (their intents are kept across compactions). */
  private readonly flying = new Map<string, ObjectEnvelope>();
  private possibleDuplicates = 0;
  private readonly sqs: SqsApi;
  private extensions = 0;
  private requestFlushFn?: () => void;
  private readonly log?: Logger;

  constructor(
    private readonly cfg: SqsS3SourceConfig,
    ctx: BuildContext & { dataDir?: string } = {},
    deps: { sqs?: SqsApi; s3?: Pick<S3Client, 'send'> } = {},
  ) {
    this.name = cfg.name ?? 'sqs-s3';
    this.log = ctx.log;
    const dataDir = resolve(ctx.cwd ?? process.cwd(), cfg.dataDir ?? ctx.dataDir ?? DEFAULT_DATA_DIR);
    this.progressPath = resolve(dataDir, 'sqs-s3', `${this.name}.json`);
    // In the daemon's (locked) data directory, wherever this source keeps its own state.
    this.journal = sourceRedeliveryJournal(ctx, this.name, this.log);
    this.sqs =
      deps.sqs ??
      new SQSClient(
        clientConfig('sqs', { region: cfg.region, endpoint: cfg.endpoint, env: ctx.env }) as SQSClientConfig,
      );
    const s3 =
      deps.s3 ??
      new S3Client(
        clientConfig('s3', { region: cfg.region, endpoint: cfg.endpoint, env: ctx.env }) as S3ClientConfig,
      );
    this.feed = new SqsFeed(
      this.sqs,
      cfg,
      () => {
        if (this.inner.open.size === 0) return true;
        // The queue is empty but messages are in flight: their records may sit in open batches
        // (a sink's maxAgeMs); send them now so they settle and the bounded run can end.
        this.requestFlushFn?.();
        return false;
      },
      ctx.log,
    );
    const rememberDoneMs = cfg.rememberDoneHours * 3_600_000;
    // Written as soon as an acknowledgement moves it (one write at a time): a crash re-reads, and
    // cannot know it delivered, only lines acknowledged while the last write was under way;
    // everything older is resumed past or, when acknowledged out of order, skipped.
    this.progress = new FileProgress(this.progressPath, cfg.queueUrl, PROGRESS_WRITE_MS, rememberDoneMs);
    if (ctx.dataDir !== undefined)
      this.journaled = new JournaledProgress(
        this.progress,
        stateDir(ctx, this.name),
        rememberDoneMs,
        () => this.flying.values(),
        (e) =>
          this.log?.warn(`${this.name}: cannot journal progress; a crash re-sends more`, {
            error: e.message,
          }),
      );
    this.inner = new MessageSource(
      s3,
      this.feed,
      this.journaled ?? this.progress,
      {
        type: 'sqs-s3',
        name: this.name,
        maxConcurrentObjects: cfg.maxConcurrentObjects,
        maxBufferedBytes: cfg.maxBufferedBytes,
        chunkLines: cfg.chunkLines,
        chunkBytes: 1024 * 1024,
        maxLineBytes: cfg.maxLineBytes,
        rememberDoneMs,
        batch: SQS_MAX_MESSAGES,
        onSkipped: (n) => this.journal?.skipped(n),
      },
      ctx.log,
    );
  }

  get requestFlush(): (() => void) | undefined {
    return this.requestFlushFn;
  }
  set requestFlush(fn: (() => void) | undefined) {
    this.requestFlushFn = fn;
    this.inner.requestFlush = fn;
  }

  /** `--once`: drain the queue until it is empty (see the file comment for the rule), then end. */
  bounded(): string | undefined {
    this.feed.bounded = true;
    return undefined;
  }

  get stats(): SqsS3Stats {
    return {
      ...this.inner.stats,
      receives: this.feed.receives,
      emptyReceives: this.feed.emptyReceives,
      deletes: this.feed.deletes,
      visibilityExtensions: this.extensions,
      progressWrites: this.progress.writes,
      possibleDuplicates: this.possibleDuplicates,
    };
  }

  async *envelopes(signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    await (this.journaled ?? this.progress).load();
    this.journal?.start();
    const everyMs = Math.max(1_000, Math.floor((this.cfg.visibilityTimeoutSeconds * 1000) / 3));
    const timer = setInterval(() => void this.extend(), everyMs);
    try {
      const j = this.journaled;
      if (!j) yield* this.inner.envelopes(signal);
      else
        for await (const env of this.inner.envelopes(signal)) {
          const o = env as ObjectEnvelope;
          // Journaled before its records can reach a sink: after a crash they are possible duplicates.
          if (o.records.length > 0 && typeof o.object === 'string') {
            j.intent(o);
            this.flying.set(o.ackId, o);
            // Counted when handed out, not when acknowledged: a copy sent by a run killed before
            // its acknowledgement may have reached the sink too, and the next run sends another.
            const possible = j.possibleOf(o);
            if (possible > 0) {
              this.possibleDuplicates += possible;
              this.journal?.possible(possible);
            }
          }
          yield env;
        }
    } finally {
      clearInterval(timer);
    }
  }

  /** Keeps messages whose objects are in flight invisible (batches of 10). */
  private async extend(): Promise<void> {
    const open = [...this.inner.open];
    for (let i = 0; i < open.length; i += SQS_MAX_MESSAGES) {
      const part = open.slice(i, i + SQS_MAX_MESSAGES);
      try {
        await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.cfg.queueUrl,
            Entries: part.map((m, k) => ({
              Id: String(k),
              ReceiptHandle: m.receipt,
              VisibilityTimeout: this.cfg.visibilityTimeoutSeconds,
            })),
          }),
        );
        this.extensions += part.length;
      } catch (e) {
        // Not fatal: the message may reappear and be read again (resumed from its position).
        this.log?.warn('extending message visibility failed', { source: this.name, error: describeError(e) });
      }
    }
  }

  async ack(envelope: SourceEnvelope, outcome: Outcome): Promise<void> {
    await this.inner.ack(envelope, outcome);
    this.flying.delete(envelope.ackId);
    if (outcome.kind === 'failed') return;
    if (envelope.redelivered) this.journal?.add(envelope.redelivered);
  }

  async close(): Promise<void> {
    await this.inner.drain();
    await this.progress.flush().catch(() => {});
    this.journaled?.close();
  }
}

export const sqsS3SourceSpec: ComponentSpec<SqsS3SourceConfig, Source> = {
  ...sqsS3SourceMeta,
  create: (c, ctx) => new SqsS3Source(c, ctx as BuildContext & { dataDir?: string }),
};
