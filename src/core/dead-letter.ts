/**
 * The dead-letter hand-off. Whatever can never be delivered — a malformed envelope, a record a
 * sink rejected — is written to a dead-letter sink with its reason, so nothing is lost silently.
 * If the dead-letter sink itself cannot store an entry, the record becomes `failed` so the source
 * redrives it instead of acknowledging it.
 */
import type { Outcome } from './outcome.js';
import type { LogRecord } from './record.js';

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

export interface DeadLetterSink {
  readonly type: string;
  /** Stores entries; returns, per entry, whether it was stored durably. Never throws for one entry. */
  put(entries: readonly DeadLetter[]): Promise<boolean[]>;
  close?(): Promise<void>;
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
  if (!dlq) stored = entries.map(() => false);
  else {
    try {
      stored = await dlq.put(entries);
    } catch {
      stored = entries.map(() => false);
    }
  }
  for (let k = 0; k < idx.length; k++) {
    if (!stored[k]) {
      const o = outcomes[idx[k]];
      outcomes[idx[k]] = {
        kind: 'failed',
        code: 'DEAD_LETTER_UNAVAILABLE',
        reason: `rejected (${o.code}: ${o.reason}) and the dead-letter sink ${dlq ? 'did not store it' : 'is not configured'}`,
      };
    }
  }
  return outcomes;
}
