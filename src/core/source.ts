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
  /** How many of `records` carry `meta.redelivered` (delivered before a restart, handed out again). */
  redelivered?: number;
  /**
   * Events each record stands for (default 1): a packed envelope (src/sources/firehose.ts) carries
   * one record holding all of its CloudWatch events, counted as that many by the runner's tallies.
   */
  eventsPerRecord?: number;
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
  /**
   * Bounded mode (`logferry run --once`), called before `envelopes`: from then on the source reads
   * what is there now and ends (file: every file to its current EOF; kinesis: every shard to the
   * tip, MillisBehindLatest 0; a queue: until it is empty; a backfill: its range). Returns
   * undefined when bounded, or a sentence saying why this source cannot be. A source without this
   * method has no bounded mode and `--once` refuses it.
   */
  bounded?(): string | undefined;
  close?(): Promise<void>;
  /**
   * Set by the runner while it reads the source: sends the open batches now. A source that bounds
   * what it has read but not yet had acknowledged calls it while it waits, so acknowledgements come.
   */
  requestFlush?: () => void;
}
