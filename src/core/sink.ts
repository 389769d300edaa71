/**
 * The sink contract. A sink declares its limits, encodes records purely, and does I/O only in
 * `send`, where it reports per item what must be retried and what is permanently rejected. It does
 * not retry by itself: the core's `deliver` owns retries, backoff, splitting and outcomes, so there
 * is one retry layer (AWS SDK clients used by sinks run with their own retries off).
 */
import type { LogRecord } from './record.js';

export interface SinkLimits {
  /** Most records in one `send`. */
  maxRecords: number;
  /** Most encoded bytes in one `send`. */
  maxBytes: number;
  /** Largest single encoded record; larger ones are rejected with RECORD_TOO_LARGE. */
  maxRecordBytes: number;
  /** Longest a partial batch may wait before it is flushed (daemon batching). */
  maxAgeMs: number;
}

/** What `encode` produced for one record. */
export interface Encoded<E = Uint8Array> {
  record: LogRecord;
  data: E;
  /** Bytes `data` will take on the wire. */
  bytes: number;
  /** Optional batch key: records with different keys never share a batch (e.g. S3 partition). */
  partition?: string;
}

export interface ItemProblem {
  /** Index into the batch passed to `send`. */
  index: number;
  /**
   * `retry`: transient (throttle, 5xx, reset); `reject`: permanent (mapping error, 400), goes to the
   * dead-letter sink; `fail`: not delivered and not worth retrying now (the source redrives it);
   * `drop`: handed on elsewhere on purpose (Firehose re-ingest), counted `dropped` with `code`.
   */
  action: 'retry' | 'reject' | 'fail' | 'drop';
  code: string;
  reason: string;
  /** Server hint (Retry-After) in ms. */
  retryAfterMs?: number;
}

export interface SendResult {
  /** Items not listed here were delivered (a duplicate-create 409 counts as delivered). */
  problems: ItemProblem[];
  /** The request as a whole was too large (HTTP 413): the core splits the batch and sends again. */
  tooLarge?: boolean;
}

export interface SendContext {
  attempt: number;
  signal?: AbortSignal;
}

export interface Sink<E = Uint8Array> {
  readonly type: string;
  /** Instance name from config (defaults to type). */
  readonly name: string;
  readonly limits: SinkLimits;
  /**
   * True when a record sent again is stored once (OpenSearch `create` with the record's stable
   * `_id`: the second copy answers 409, counted delivered). Re-delivered records reaching such a
   * sink count as deduplicated, elsewhere as possible duplicates.
   */
  readonly dedupesById?: boolean;
  /** Pure. Return a string reason to reject the record permanently (e.g. unencodable). */
  encode(record: LogRecord): Encoded<E> | { reject: string; code: string };
  /**
   * The only I/O. Throwing means the whole batch failed: a LogferryError with code SINK_REJECTED
   * or RECORD_TOO_LARGE rejects every item; anything else (SINK_THROTTLED, SINK_UNAVAILABLE,
   * network errors) retries every item.
   */
  send(batch: readonly Encoded<E>[], ctx: SendContext): Promise<SendResult>;
  /**
   * For in-process sinks only (the Firehose answer, `tap`): takes the records themselves in one
   * call, without encoding or batching; problems index into `records`. `deliver` calls it instead
   * of `send` and settles the problems the same way (a `retry` counts as failed: nothing to resend).
   */
  sendRecords?(records: readonly LogRecord[], ctx: SendContext): Promise<SendResult>;
  /** Flush anything buffered and release resources. */
  close?(): Promise<void>;
}

export const ALL_DELIVERED: SendResult = Object.freeze({ problems: [] }) as SendResult;
