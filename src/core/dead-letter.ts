/**
 * The dead-letter hand-off. Whatever can never be delivered — a malformed envelope, a record a
 * sink rejected — is written to a dead-letter sink with its reason, so nothing is lost silently.
 * If the dead-letter sink itself cannot store an entry, the record becomes `failed` so the source
 * redrives it instead of acknowledging it.
 */
import { type DeliverOptions, deliver } from './deliver.js';
import type { Outcome } from './outcome.js';
import type { Deadline } from './retry.js';
import type { LogRecord } from './record.js';
import type { Sink } from './sink.js';

export interface DeadLetter {
  /** Stable reason code (`ENVELOPE_NOT_GZIP`, `mapper_parsing_exception`, …). */
  code: string;
  reason: string;
  /** Delivery attempts made before giving up (0 for records that were never sendable). */
  attempts: number;
  source: string;
  /** The upstream unit (Kinesis sequence number, Firehose recordId, file offset). */
  ackId: string;
  logGroup?: string;
  logStream?: string;
  /** CloudWatch event id, when the entry is one record. */
  id?: string;
  /** The record as the sink would have received it (after masking), when the entry is one record. */
  record?: Omit<LogRecord, 'meta'> & { meta?: LogRecord['meta'] };
  /** The original payload (base64 of what arrived), when the entry is a whole malformed envelope. */
  payload?: string;
  /** ISO 8601 time the entry was written. */
  at: string;
}

export interface DeadLetterContext {
  /** The run's deadline (the Lambda's remaining time): no attempt starts after it. */
  deadline?: Deadline;
  signal?: AbortSignal;
}

export interface DeadLetterSink {
  readonly type: string;
  /** Stores entries; returns, per entry, whether it was stored durably. Never throws for one entry. */
  put(entries: readonly DeadLetter[], ctx?: DeadLetterContext): Promise<boolean[]>;
  /** Why the last `put` could not store entries (an OS or service error), for logs and outcomes. */
  readonly lastError?: string;
  close?(): Promise<void>;
}

/**
 * One entry as a JSON line. An entry that cannot be serialised (a record nested thousands of levels
 * deep, a value JSON cannot hold) is stored in a safe form instead: its provenance, the reason, why
 * it could not be serialised, and the record's message as base64 of its original bytes — so a
 * dead-letter store never refuses an entry for its content (and a shard is never blocked by one).
 */
export function serializeDeadLetter(e: DeadLetter): string {
  try {
    return JSON.stringify(e);
  } catch (err) {
    const safe = {
      code: e.code,
      reason: e.reason,
      attempts: e.attempts,
      source: e.source,
      ackId: e.ackId,
      logGroup: e.logGroup,
      logStream: e.logStream,
      id: e.id,
      at: e.at,
      payload: e.payload,
      timestamp: e.record?.timestamp,
      unserializable: `the entry could not be written as JSON (${err instanceof Error ? err.message : String(err)}); its message is kept as base64 of the original bytes`,
      messageBase64:
        typeof e.record?.message === 'string'
          ? Buffer.from(e.record.message, 'utf8').toString('base64')
          : undefined,
    };
    return JSON.stringify(safe);
  }
}

/** A dead-letter entry as a record, so any sink can store dead letters (one JSON line each). */
export function deadLetterRecord(e: DeadLetter): LogRecord {
  return {
    timestamp: e.record?.timestamp ?? Date.parse(e.at),
    message: serializeDeadLetter(e),
    fields: {},
    meta: {
      owner: e.record?.meta?.owner ?? '',
      logGroup: e.logGroup ?? '(dead-letter)',
      logStream: e.logStream ?? '',
      id: `${e.ackId}\u0000${e.id ?? ''}\u0000${e.code}`,
      source: 'dead-letter',
      ackId: e.ackId,
    },
  };
}

/**
 * Sends rejected records to the dead-letter sink and rewrites outcomes of entries it could not
 * store to `failed` (so the source redrives). Returns the final outcomes.
 */
export async function handOffRejected(
  dlq: DeadLetterSink | undefined,
  records: readonly LogRecord[],
  outcomes: Outcome[],
  attempts: (i: number) => number = (i) => outcomes[i].attempts ?? 1,
  ctx?: DeadLetterContext,
): Promise<Outcome[]> {
  const idx: number[] = [];
  const entries: DeadLetter[] = [];
  const at = new Date().toISOString();
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i];
    if (o.kind !== 'rejected') continue;
    const r = records[i];
    idx.push(i);
    entries.push({
      code: o.code ?? 'SINK_REJECTED',
      reason: o.reason ?? 'rejected',
      attempts: attempts(i),
      source: r.meta.source,
      ackId: r.meta.ackId,
      logGroup: r.meta.logGroup,
      logStream: r.meta.logStream,
      id: r.meta.id,
      record: { timestamp: r.timestamp, message: r.message, fields: r.fields, meta: r.meta },
      at,
    });
  }
  if (entries.length === 0) return outcomes;
  let stored: boolean[];
  let why: string | undefined;
  if (!dlq) stored = entries.map(() => false);
  else {
    try {
      stored = await dlq.put(entries, ctx);
      why = dlq.lastError;
    } catch (e) {
      stored = entries.map(() => false);
      why = e instanceof Error ? e.message : String(e);
    }
  }
  for (let k = 0; k < idx.length; k++) {
    if (!stored[k]) {
      const o = outcomes[idx[k]];
      outcomes[idx[k]] = {
        kind: 'failed',
        code: 'DEAD_LETTER_UNAVAILABLE',
        reason: `rejected (${o.code}: ${o.reason}) and the dead-letter sink ${dlq ? `did not store it${why ? `: ${why}` : ''}` : 'is not configured'}`,
      };
    }
  }
  return outcomes;
}

/**
 * Any sink as the dead-letter store (`deadLetter: {type: s3, …}`): each entry becomes one record
 * whose message is the entry's JSON line, delivered by the one engine (`deliver`: the sink's
 * limits, retries of what it says is retriable) within the run's deadline.
 */
export class SinkDeadLetter implements DeadLetterSink {
  readonly type: string;
  lastError: string | undefined;
  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
    private readonly sink: Sink<any>,
    private readonly opts: Omit<DeliverOptions, 'deadline' | 'signal'> = {},
  ) {
    this.type = sink.type;
  }
  async put(entries: readonly DeadLetter[], ctx?: DeadLetterContext): Promise<boolean[]> {
    const outs = await deliver(this.sink, entries.map(deadLetterRecord), {
      ...this.opts,
      deadline: ctx?.deadline,
      signal: ctx?.signal,
    });
    const bad = outs.find((o) => o.kind !== 'delivered');
    this.lastError = bad ? `${bad.code}: ${bad.reason}` : undefined;
    return outs.map((o) => o.kind === 'delivered');
  }
  async close(): Promise<void> {
    await this.sink.close?.();
  }
}
