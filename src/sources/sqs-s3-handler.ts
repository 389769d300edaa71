/**
 * The `sqs` Lambda home: S3 object notifications through SQS (raw S3 events, SNS-wrapped,
 * EventBridge `Object Created`), each announced object read as a stream and its lines run through
 * the one runner (src/core/runner.ts) exactly as the `sqs-s3` daemon source does
 * (src/sources/s3-object/message-source.ts), answering `batchItemFailures` (enable
 * ReportBatchItemFailures on the event source mapping) with every message whose records did not
 * all get an outcome other than `failed`.
 *
 * Deadline: reading stops when less than `reserveMs` (5 s, at most a quarter of the invocation's
 * time) is left before the delivery deadline (`safetyMs` before Lambda's), what was read is
 * flushed, and every message not completely read or delivered is listed as failed — Lambda makes
 * it visible again after the queue's visibility timeout and redelivers it.
 *
 * Redelivery and duplicates, exactly: a record's id is `s3://bucket/key?v=<versionId or ETag>#<line>`,
 * the same on every read of the same object version, and the OpenSearch sink's `_id` is a hash of
 * it (`create`: a line stored before answers 409, counted delivered). So a redelivered message
 * re-sends lines OpenSearch already holds without storing them twice. On a warm container the
 * handler also remembers, per object, the last line whose outcome and every earlier line's was
 * settled (in memory, up to 10,000 objects) and a redelivered message resumes after it, re-sending
 * nothing. When the redelivery lands on another container that position is unknown and the object
 * is read from its first line: for sinks that cannot dedupe by id (S3, HTTP) the lines delivered by
 * the earlier attempt are stored again; the summary line counts every record re-sent this way
 * (`resentAfterRedelivery`, records of messages with ApproximateReceiveCount > 1 read without a
 * known position) as the upper bound of such duplicates.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  emfMetrics,
  type HandlerDeps,
  handlerRunner,
  invocationDeadline,
  type LambdaContextLike,
} from '../core/lambda.js';
import type { Tally } from '../core/outcome.js';
import { DEFAULT_MAX_LINE_BYTES } from './s3-object/lines.js';
import {
  type FeedMessage,
  type MessageFeed,
  MessageSource,
  type MessageSourceStats,
  MemoryProgress,
  type ProgressStore,
} from './s3-object/message-source.js';

export const SQS_SOURCE_NAME = 'sqs';
export const SQS_SOURCE_TYPE = 'sqs-s3';
/** Time kept back from Lambda's deadline for the last deliveries, the dead-letter hand-off and the answer. */
export const DEFAULT_SQS_SAFETY_MS = 3_000;
/** Reading stops this long before the delivery deadline, so what was read can still be delivered. */
export const DEFAULT_READ_RESERVE_MS = 5_000;
/** Envelopes (≤ 1 MiB / 1,000 lines each) read but not yet settled. */
const IN_FLIGHT_ENVELOPES = 64;

/** The parts of an SQS event record we read (aws-lambda's SQSRecord). */
export interface SqsEventRecord {
  messageId?: string;
  receiptHandle?: string;
  body?: string;
  attributes?: { ApproximateReceiveCount?: string; [k: string]: string | undefined };
  eventSourceARN?: string;
}

export interface SqsEvent {
  Records?: SqsEventRecord[];
}

export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export interface SqsHandlerDeps extends HandlerDeps {
  s3: Pick<S3Client, 'send'>;
  readReserveMs?: number;
  maxConcurrentObjects?: number;
  maxLineBytes?: number;
  chunkLines?: number;
  maxBufferedBytes?: number;
  /** Resume positions (default: one in-memory store per container). */
  progress?: ProgressStore;
}

export interface SqsInvocationResult {
  response: SqsBatchResponse;
  tally: Tally;
  stats: MessageSourceStats;
  /** Message ids whose records all settled (Lambda deletes them). */
  completed: string[];
}

const containerProgress = new MemoryProgress();

/** The invocation's messages as a feed: handed out once, settlements recorded. */
class EventFeed implements MessageFeed {
  private at = 0;
  readonly ok = new Set<string>();
  constructor(private readonly messages: FeedMessage[]) {}
  async next(max: number): Promise<FeedMessage[] | null> {
    if (this.at >= this.messages.length) return null;
    const part = this.messages.slice(this.at, this.at + max);
    this.at += part.length;
    return part;
  }
  async settle(m: FeedMessage, ok: boolean): Promise<void> {
    if (ok) this.ok.add(m.id);
  }
}

export async function processSqsEvent(
  event: SqsEvent,
  context: LambdaContextLike | undefined,
  deps: SqsHandlerDeps,
): Promise<SqsInvocationResult> {
  const started = Date.now();
  const list = Array.isArray(event?.Records) ? event.Records : [];
  const messages: FeedMessage[] = list.map((r, i) => ({
    id: r.messageId ?? `#${i}`,
    body: r.body ?? '',
    receiveCount: Number(r.attributes?.ApproximateReceiveCount ?? '1') || 1,
  }));
  const deadline = invocationDeadline(context, deps.safetyMs ?? DEFAULT_SQS_SAFETY_MS);
  const initial = deadline.remainingMs();
  const reserve = Math.min(
    deps.readReserveMs ?? DEFAULT_READ_RESERVE_MS,
    Number.isFinite(initial) ? Math.max(0, Math.floor(initial / 4)) : Number.POSITIVE_INFINITY,
  );
  const feed = new EventFeed(messages);
  const source = new MessageSource(
    deps.s3,
    feed,
    deps.progress ?? containerProgress,
    {
      type: SQS_SOURCE_TYPE,
      name: deps.sourceName ?? SQS_SOURCE_NAME,
      maxConcurrentObjects: deps.maxConcurrentObjects ?? 4,
      maxBufferedBytes: deps.maxBufferedBytes ?? 32 * 1024 * 1024,
      chunkLines: deps.chunkLines ?? 1_000,
      chunkBytes: 1024 * 1024,
      maxLineBytes: deps.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      rememberDoneMs: 24 * 3_600_000,
      shouldStop: () => deadline.remainingMs() < reserve,
      batch: messages.length || 1,
    },
    deps.log,
  );
  // Deliveries overlap reading (half-way to the bound the open batches go), so time left at the
  // deadline is spent on what was read rather than on one flush at the end.
  const result = await handlerRunner(deps, SQS_SOURCE_NAME, {
    maxInFlightEnvelopes: IN_FLIGHT_ENVELOPES,
  }).run([source], { deadline });
  await source.drain();
  const failed = messages.filter((m) => !feed.ok.has(m.id)).map((m) => m.id);
  const response = { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  const t = result.tally.toJSON();
  const data = {
    requestId: context?.awsRequestId,
    messages: { received: messages.length, completed: feed.ok.size, failed: failed.length },
    batchItemFailures: failed,
    objects: {
      read: source.stats.objects,
      complete: source.stats.objectsComplete,
      unfinished: source.stats.objectsUnfinished,
      alreadyDone: source.stats.objectsAlreadyDone,
    },
    testEvents: source.stats.testEvents,
    ignoredEvents: source.stats.ignoredEvents,
    lines: source.stats.lines,
    resentAfterRedelivery: source.stats.resentAfterRedelivery,
    records: t.total,
    recordReasons: t.byReason,
    durationMs: Date.now() - started,
    ...emfMetrics('sqs', result, failed.length),
  };
  if (failed.length > 0) deps.log.warn('sqs batch: some messages will be redelivered', data);
  else deps.log.info('sqs batch', data);
  return { response, tally: result.tally, stats: source.stats, completed: [...feed.ok] };
}
