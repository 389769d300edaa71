/**
 * The daemon-side source contract: an async iterable of envelopes, each acknowledged once every
 * record in it has an outcome. Sources checkpoint only acknowledged envelopes, so a crash redrives
 * rather than loses.
 */
import type { Outcome } from './outcome.js';
import type { LogRecord } from './record.js';

export interface SourceEnvelope {
  /** Id of the upstream unit (sequence number, file offset, demo counter). */
  ackId: string;
  records: LogRecord[];
  /** Every record's log group, when the source knows they share one (a CloudWatch payload). */
  logGroup?: string;
  /** Intentional drop (CloudWatch CONTROL_MESSAGE): no records, counted by the pipeline. */
  control?: boolean;
  /** Malformed: no records; goes to the dead-letter sink with this reason. */
  malformed?: { code: string; reason: string; payload?: string };
  /** The records' own tag (a forward sender's): routes them by `match` instead of the source's tag. */
  tag?: string;
  /** Bytes as received (for throughput figures). */
  bytes: number;
}

export interface Source {
  readonly type: string;
  readonly name: string;
  /** Yields envelopes until exhausted or `signal` aborts. */
  envelopes(signal: AbortSignal): AsyncIterable<SourceEnvelope>;
  /** Called once per envelope with its worst outcome; `failed` means it must be redelivered. */
  ack(envelope: SourceEnvelope, outcome: Outcome): Promise<void>;
  /** Progress hint for display: total envelopes if known. */
  readonly expected?: number;
  close?(): Promise<void>;
  /**
   * Set by the runner while it reads the source: sends the open batches now. A source that bounds
   * what it has read but not yet had acknowledged calls it while it waits, so acknowledgements come.
   */
  requestFlush?: () => void;
}
