/**
 * The record model every stage shares. `message` is the text as CloudWatch delivered it; parsers
 * never rewrite it. The one exception is masking, which replaces secrets in it before any sink sees
 * the record (security beats fidelity). `meta` is provenance and is written only by sources.
 */
export interface RecordMeta {
  /** AWS account id that owns the log group. */
  owner: string;
  logGroup: string;
  logStream: string;
  /** CloudWatch event id (or a source offset for non-CloudWatch sources): the idempotency key. */
  id: string;
  subscriptionFilters?: string[];
  /** Which source produced it (`kinesis`, `firehose`, `demo`, `file`, …). */
  source: string;
  /** Id of the envelope (unit acknowledged upstream) this record came in. */
  ackId: string;
  /**
   * Set by a source on a record it hands out again after a restart although it was delivered
   * before (it lies in what the source's state recorded as acknowledged past its resume point):
   * a duplicate for sinks that cannot dedupe by id. See docs/architecture.md, delivery semantics.
   */
  redelivered?: true;
}

export interface LogRecord {
  /** Event time, epoch milliseconds — never the forwarding time. */
  timestamp: number;
  /** Raw message text. */
  message: string;
  /** Fields added by parsers and transforms (nested objects allowed). */
  fields: Record<string, unknown>;
  meta: RecordMeta;
}

/** Stable per-record id used by sinks that can dedupe (OpenSearch `_id`, S3 keys). */
export function recordKey(meta: Pick<RecordMeta, 'logGroup' | 'logStream' | 'id'>): string {
  return `${meta.logGroup}\u0000${meta.logStream}\u0000${meta.id}`;
}
