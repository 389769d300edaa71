/**
 * The `kinesis` daemon source: reads every shard of a Kinesis data stream that CloudWatch Logs
 * subscriptions write to, with GetShardIterator/GetRecords, and yields one envelope per Kinesis
 * record (a gzip CloudWatch payload: `CONTROL_MESSAGE`s become counted drops, undecodable data a
 * `malformed` envelope with its reason). It is resharding-aware: ListShards gives each shard's
 * parent and adjacent parent, and a child is read only once its parents are finished (read to
 * SHARD_END and every record acknowledged), so records of one partition key stay in order across
 * splits and merges.
 *
 * Delivery: at-least-once. The checkpoint (a local JSON file, written atomically) holds, per shard,
 * the highest sequence number whose record and all earlier ones were acknowledged with an outcome
 * other than `failed`, and whether the shard is finished; a restart resumes AFTER_SEQUENCE_NUMBER.
 * A `failed` acknowledgement rewinds that shard to its checkpoint (records after it are read again;
 * sinks dedupe by record id). Nothing behind a checkpoint is delivered again.
 * Records known delivered are not sent again: the checkpoint also lists, per shard, the sequence
 * numbers past `seq` already acknowledged when it was written (`acked`: acknowledged out of order,
 * or done before a rewind); a record read again with one of them after a restart (or a rewind) is
 * skipped (counted `skipped`, its events in the re-delivery journal). Under the daemon (a
 * `dataDir`) every record handed out and every acknowledgement is also journaled
 * (kinesis-journal.ts), so after a `kill -9` the checkpoint moves past what was acknowledged since
 * its last write (within `checkpointIntervalMs`), those records are skipped too, and records that
 * were in flight (handed out, not acknowledged) are sent again and their events counted as
 * possible duplicates (`possibleDuplicates`; `p <n>` in redelivered.journal) each time they are
 * handed out again.
 *
 * Limits: GetRecords returns at most 10,000 records / 10 MiB per call and each shard allows 5 calls
 * per second (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html), so a
 * reader never polls a shard more often than every 200 ms and idles `pollIntervalMs` on an empty
 * shard; ProvisionedThroughputExceededException backs off exponentially with jitter; a shard
 * iterator expires after 5 minutes (ExpiredIteratorException: re-acquired after the last record read).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  KinesisClient,
  type KinesisClientConfig,
  ListShardsCommand,
  type ListShardsCommandInput,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { clientConfig } from '../aws/clients.js';
import { decodeRecordData, linesToRecords, toRecords } from '../aws/cloudwatch-payload.js';
import type { BuildContext, ComponentSpec, Logger } from '../core/component.js';
import { stateDir } from '../core/data-dir.js';
import { type RedeliveryJournal, sourceRedeliveryJournal } from '../core/redelivery-journal.js';
import { describeError, LogferryError } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import { sleep } from '../core/retry.js';
import type { Source, SourceEnvelope } from '../core/source.js';
import { streamOfArn } from './kinesis-event.js';
import { KinesisAckJournal, seqCompare } from './kinesis-journal.js';
import {
  GET_RECORDS_MIN_INTERVAL_MS,
  type KinesisSourceConfig,
  kinesisSourceMeta,
  MALFORMED_PAYLOAD_BYTES,
  MAX_BACKOFF_MS,
} from './kinesis-config.js';

export {
  GET_RECORDS_MAX_RECORDS,
  GET_RECORDS_MIN_INTERVAL_MS,
  kinesisSourceConfig,
  type KinesisSourceConfig,
  MAX_BACKOFF_MS,
} from './kinesis-config.js';

/** Intents are journaled for up to this many queued records of a shard at once (one `write()`). */
const DECLARE_AHEAD = 32;
/**
 * A resumed LATEST source reads from this long before its first start: Kinesis stamps arrival
 * times on its own clock, so a little clock skew must not skip a record (a record from before the
 * start may come once; never one after it is missed).
 */
const LATEST_START_SLACK_MS = 5_000;

/** The subset of the SDK client the source uses (injectable for tests of throttling). */
export interface KinesisApi {
  send(command: ListShardsCommand | GetShardIteratorCommand | GetRecordsCommand): Promise<unknown>;
}

interface CheckpointFile {
  version: 1;
  stream: string;
  shards: Record<string, { seq?: string; finished?: boolean; acked?: string[] }>;
  /**
   * When the first run began with `startPosition: LATEST` (epoch ms). Written at once, so a run
   * that resumes reads every shard without a checkpoint from that time (AT_TIMESTAMP) instead of
   * from LATEST again, which would skip what was put while logferry was down.
   */
  startedAt?: number;
}

interface PendingSeq {
  seq: string;
  done: boolean;
}

interface ShardState {
  id: string;
  parents: string[];
  /** waiting: parents unfinished; reading; ended: SHARD_END read, acks outstanding; finished. */
  status: 'waiting' | 'reading' | 'ended' | 'finished';
  running: boolean;
  gen: number;
  pending: PendingSeq[];
  lastRead?: string;
  /** First record read while the shard had no checkpoint: where a rewind restarts then. */
  firstSeq?: string;
  rewind: boolean;
  /** Start position for a shard with no checkpoint. */
  initial: 'configured' | 'TRIM_HORIZON';
  /** Bounded mode: read to the tip (MillisBehindLatest 0); the reader stopped there. */
  caughtUp?: boolean;
  /** Sequence numbers past the checkpoint already delivered: read again, they are skipped. */
  redo: Set<string>;
  /** Sequence numbers in flight at the last stop (journal): handed out again, possible duplicates. */
  possible: Set<string>;
}

interface InFlight {
  shard: string;
  gen: number;
  entry: PendingSeq;
  /** Its intent is journaled (it was handed to the pipeline, or is next in line to be). */
  handed: boolean;
}

export interface KinesisSourceStats {
  envelopes: number;
  records: number;
  throttled: number;
  errors: number;
  rewinds: number;
  checkpointWrites: number;
  /** Events of records read again that were known delivered (not sent: no duplicate). */
  skipped: number;
  /** Events of records sent again that were in flight at the last stop (possibly delivered before). */
  possibleDuplicates: number;
  /** Shard id → MillisBehindLatest of its last GetRecords. */
  behindMs: Record<string, number>;
}

function errorName(e: unknown): string {
  return (e as { name?: string })?.name ?? '';
}

export class KinesisSource implements Source {
  readonly type = 'kinesis';
  readonly name: string;
  readonly stats: KinesisSourceStats = {
    envelopes: 0,
    records: 0,
    throttled: 0,
    errors: 0,
    rewinds: 0,
    checkpointWrites: 0,
    skipped: 0,
    possibleDuplicates: 0,
    behindMs: {},
  };
  private readonly cfg: KinesisSourceConfig;
  private readonly client: KinesisApi;
  private readonly log?: Logger;
  /** Re-delivered records acknowledged since the last clean stop, kept across crashes (the daemon's, which gives a `dataDir`). */
  private readonly journal?: RedeliveryJournal;
  /** Records handed out and acknowledged since the last checkpoint write (the daemon's, with a `dataDir`). */
  private readonly acks?: KinesisAckJournal;
  /** From the journal at start, by shard: records in flight at the last stop, and where to start a shard with no checkpoint. */
  private readonly possibleAt = new Map<string, Set<string>>();
  private readonly firstAt = new Map<string, string>();
  private readonly checkpointPath: string;
  private readonly streamKey: string;
  /** Log group / owner of records that are not CloudWatch payloads. */
  private readonly streamName: string;
  private readonly account: string;
  private readonly random: () => number;

  private readonly shards = new Map<string, ShardState>();
  private checkpoint: CheckpointFile;
  private firstRun = false;
  private readonly inflight = new Map<string, InFlight>();
  private queue: { env: SourceEnvelope; shard: string; gen: number }[] = [];
  private wakeConsumer?: () => void;
  private wakeReaders: (() => void)[] = [];
  private signal?: AbortSignal;
  private dirty = false;
  private flushTimer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private syncing?: Promise<void>;
  private failure?: unknown;
  /** `--once`: every shard is read to its tip (or its end), then the source ends. */
  private boundedMode = false;

  constructor(
    cfg: KinesisSourceConfig,
    ctx: BuildContext = {},
    deps: { client?: KinesisApi; random?: () => number } = {},
  ) {
    this.cfg = cfg;
    this.name = cfg.name ?? 'kinesis';
    this.log = ctx.log;
    this.random = deps.random ?? Math.random;
    this.checkpointPath =
      cfg.checkpointPath === undefined
        ? join(stateDir(ctx, this.name), 'checkpoint.json')
        : resolvePath(ctx.cwd ?? process.cwd(), cfg.checkpointPath);
    // In the daemon's (locked) data directory, wherever this source keeps its own state.
    if (ctx.dataDir !== undefined)
      this.acks = new KinesisAckJournal(stateDir(ctx, this.name), (e) =>
        this.log?.warn(`${this.name}: cannot journal acknowledgements; a crash re-sends more`, {
          error: e.message,
        }),
      );
    this.journal = sourceRedeliveryJournal(ctx, this.name, this.log);
    this.streamKey = cfg.streamArn ?? (cfg.stream as string);
    const arn = cfg.streamArn ? streamOfArn(cfg.streamArn) : undefined;
    this.streamName = arn?.name ?? (cfg.stream as string);
    this.account = arn?.account ?? '';
    this.checkpoint = { version: 1, stream: this.streamKey, shards: {} };
    this.client =
      deps.client ??
      new KinesisClient(
        clientConfig('kinesis', {
          region: cfg.region,
          endpoint: cfg.endpoint,
          env: ctx.env,
        }) as KinesisClientConfig,
      );
  }

  /**
   * `--once`: read every shard until GetRecords says it is at the tip (MillisBehindLatest 0) or
   * the shard ends, then end. Children of a shard that ended are read too (after their parents).
   */
  bounded(): string | undefined {
    this.boundedMode = true;
    return undefined;
  }

  /** Bounded mode: every reader stopped at the tip or the end of its shard, and nothing is queued. */
  private boundedDone(): boolean {
    if (!this.boundedMode || this.queue.length > 0) return false;
    for (const s of this.shards.values())
      if (s.running || (s.status === 'reading' && !s.caughtUp)) return false;
    return true;
  }

  /** The persisted checkpoint (for tests and `logferry status`). */
  async readCheckpoint(): Promise<CheckpointFile | undefined> {
    try {
      return JSON.parse(await readFile(this.checkpointPath, 'utf8')) as CheckpointFile;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new LogferryError(
        'SOURCE_FAILED',
        `${this.name}: checkpoint ${this.checkpointPath} is unreadable: ${describeError(e)}`,
        { cause: e },
      );
    }
  }

  async *envelopes(outer: AbortSignal): AsyncIterable<SourceEnvelope> {
    // Readers stop when the caller aborts or stops iterating.
    const stop = new AbortController();
    const signal = stop.signal;
    const onOuterAbort = () => stop.abort();
    if (outer.aborted) stop.abort();
    else outer.addEventListener('abort', onOuterAbort, { once: true });
    this.signal = signal;
    this.journal?.start();
    const saved = await this.readCheckpoint();
    if (saved) {
      if (saved.stream !== this.streamKey) {
        throw new LogferryError(
          'SOURCE_FAILED',
          `${this.name}: checkpoint ${this.checkpointPath} belongs to stream ${saved.stream}, not ${this.streamKey}; use another checkpointPath`,
        );
      }
      this.checkpoint = { version: 1, stream: saved.stream, shards: saved.shards ?? {} };
      if (typeof saved.startedAt === 'number' && Number.isFinite(saved.startedAt))
        this.checkpoint.startedAt = saved.startedAt;
    } else {
      this.firstRun = true;
      if (this.cfg.startPosition === 'LATEST') {
        // Taken before any iterator: records put from now on are read, now or by a resumed run.
        this.checkpoint.startedAt = Date.now();
        this.dirty = true;
        await this.flush();
      }
    }
    this.applyJournal();
    // The first listing may be throttled (ListShards is rate-limited: LimitExceededException) or
    // the endpoint briefly unreachable: retry with back-off before giving up.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.syncShards();
        break;
      } catch (e) {
        if (errorName(e) === 'ResourceNotFoundException' || attempt >= 8 || signal.aborted) {
          throw new LogferryError(
            'SOURCE_FAILED',
            `${this.name}: cannot list the shards of ${this.streamKey}: ${describeError(e)}`,
            {
              cause: e,
            },
          );
        }
        await sleep(this.backoffMs(attempt), signal);
      }
    }
    this.firstRun = false;
    const timer = setInterval(() => {
      this.syncShards().catch((e) =>
        this.log?.warn('kinesis: shard sync failed', { source: this.name, error: describeError(e) }),
      );
    }, this.cfg.shardSyncIntervalMs);
    timer.unref();
    const onAbort = () => this.wake();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        if (this.failure) throw this.failure;
        if (this.boundedDone()) return;
        const next = this.queue.shift();
        if (next) {
          if (this.queue.length < this.cfg.readAhead) this.wakeAllReaders();
          this.handOut(next.env, next.shard);
          yield next.env;
          continue;
        }
        await new Promise<void>((r) => {
          this.wakeConsumer = r;
        });
        this.wakeConsumer = undefined;
      }
    } finally {
      clearInterval(timer);
      signal.removeEventListener('abort', onAbort);
      outer.removeEventListener('abort', onOuterAbort);
      stop.abort();
      this.wakeAllReaders();
    }
  }

  async ack(envelope: SourceEnvelope, outcome: Outcome): Promise<void> {
    const f = this.inflight.get(envelope.ackId);
    if (!f) return;
    this.inflight.delete(envelope.ackId);
    const shard = this.shards.get(f.shard);
    if (!shard) return;
    if (shard.gen !== f.gen) {
      // Acknowledgement of a rewound generation: delivered all the same, so when the rewind reads
      // it again it is skipped (unless it was read again already).
      if (outcome.kind !== 'failed' && shard.status !== 'finished') {
        const base = this.checkpoint.shards[shard.id]?.seq;
        if (base === undefined || seqCompare(f.entry.seq, base) > 0) {
          shard.redo.add(f.entry.seq);
          this.acks?.acked(shard.id, f.entry.seq, base);
          this.dirty = true;
        }
      }
      return;
    }
    if (outcome.kind === 'failed') {
      this.rewindShard(shard, outcome);
      return;
    }
    f.entry.done = true;
    this.advance(shard);
    this.acks?.acked(shard.id, f.entry.seq, this.checkpoint.shards[shard.id]?.seq);
    // Out of order too: the checkpoint's `acked` list remembers it, so it is skipped if read again.
    await this.scheduleFlush();
    if (shard.status === 'ended' && shard.pending.length === 0) await this.finishShard(shard);
  }

  /** Moves the shard's checkpoint past the acknowledged (or skipped) records at the head of `pending`. */
  private advance(shard: ShardState): void {
    let advanced: string | undefined;
    while (shard.pending.length > 0 && shard.pending[0].done)
      advanced = (shard.pending.shift() as PendingSeq).seq;
    if (advanced !== undefined) {
      const cp = this.checkpoint.shards[shard.id] ?? {};
      cp.seq = advanced;
      this.checkpoint.shards[shard.id] = cp;
    }
  }

  /**
   * An envelope goes to the pipeline: its intent is journaled first, and if it was in flight at
   * the last stop its events are counted as possible duplicates (each time it is handed out again).
   */
  private handOut(env: SourceEnvelope, shardId: string): void {
    const f = this.inflight.get(env.ackId);
    if (!f) return;
    if (!f.handed) this.declare(f);
    const shard = this.shards.get(shardId);
    if (shard && shard.possible.size > 0 && shard.possible.delete(f.entry.seq) && env.records.length > 0) {
      this.stats.possibleDuplicates += env.records.length;
      this.journal?.possible(env.records.length);
    }
  }

  /**
   * Journals the intent of `f` and of the next queued records of its shard (up to DECLARE_AHEAD,
   * one `write()`): they may count as possible duplicates after a kill though not handed out yet,
   * never the other way round.
   */
  private declare(f: InFlight): void {
    f.handed = true;
    if (!this.acks) return;
    const seqs = [f.entry.seq];
    for (let i = 0; i < this.queue.length && i < 4 * DECLARE_AHEAD && seqs.length < DECLARE_AHEAD; i++) {
      const q = this.queue[i];
      if (q.shard !== f.shard) continue;
      const g = this.inflight.get(q.env.ackId);
      if (!g || g.handed) continue;
      g.handed = true;
      seqs.push(g.entry.seq);
    }
    this.acks.inflight(f.shard, seqs);
  }

  /**
   * Replays the acknowledgement journal over the checkpoint just read: each shard's checkpoint
   * moves to the highest one journaled, records acknowledged past it join its `acked` list (they
   * are skipped when read again), records handed out and not acknowledged are possible
   * duplicates, and a shard with no checkpoint starts at the first record journaled (not at
   * LATEST again).
   */
  private applyJournal(): void {
    const acks = this.acks;
    if (!acks) return;
    for (const [id, j] of acks.load()) {
      const cp = this.checkpoint.shards[id] ?? {};
      if (cp.finished) continue;
      if (j.base !== undefined && (cp.seq === undefined || seqCompare(j.base, cp.seq) > 0)) cp.seq = j.base;
      const past = (q: string) => cp.seq === undefined || seqCompare(q, cp.seq) > 0;
      const acked = new Set((cp.acked ?? []).filter(past));
      for (const q of j.acked) if (past(q)) acked.add(q);
      if (acked.size > 0) cp.acked = [...acked];
      else delete cp.acked;
      const possible = new Set<string>();
      for (const q of j.inflight) if (past(q) && !acked.has(q)) possible.add(q);
      if (possible.size > 0) this.possibleAt.set(id, possible);
      if (cp.seq === undefined) {
        let first: string | undefined;
        for (const q of [...j.inflight, ...j.acked])
          if (first === undefined || seqCompare(q, first) < 0) first = q;
        if (first !== undefined) this.firstAt.set(id, first);
      }
      if (cp.seq !== undefined || cp.acked) this.checkpoint.shards[id] = cp;
      this.dirty = true;
    }
  }

  async close(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flush();
    this.acks?.close();
  }

  // ---- shards ---------------------------------------------------------------------------------

  private async listShards(): Promise<Shard[]> {
    const out: Shard[] = [];
    let token: string | undefined;
    do {
      const input: ListShardsCommandInput = token
        ? { NextToken: token }
        : this.cfg.streamArn
          ? { StreamARN: this.cfg.streamArn }
          : { StreamName: this.cfg.stream };
      const res = (await this.client.send(new ListShardsCommand(input))) as {
        Shards?: Shard[];
        NextToken?: string;
      };
      out.push(...(res.Shards ?? []));
      token = res.NextToken;
    } while (token);
    return out;
  }

  /** Lists shards, records new ones, and starts readers for every shard whose parents are finished. */
  private syncShards(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        const listed = await this.listShards();
        const present = new Set(listed.map((s) => s.ShardId as string));
        for (const s of listed) {
          const id = s.ShardId as string;
          if (this.shards.has(id)) continue;
          const cp = this.checkpoint.shards[id];
          this.shards.set(id, {
            id,
            parents: [s.ParentShardId, s.AdjacentParentShardId].filter(
              (p): p is string => !!p && present.has(p),
            ),
            status: cp?.finished ? 'finished' : 'waiting',
            running: false,
            gen: 0,
            pending: [],
            rewind: false,
            redo: new Set(cp?.acked ?? []),
            possible: this.possibleAt.get(id) ?? new Set(),
            firstSeq: this.firstAt.get(id),
            // The configured start applies only to shards seen on the very first run; every shard
            // found later (children of a reshard, or while we were down) is read from its start.
            initial: this.firstRun ? 'configured' : 'TRIM_HORIZON',
          });
        }
        this.startEligible();
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private startEligible(): void {
    if (this.signal?.aborted) return;
    for (const shard of this.shards.values()) {
      if (shard.status !== 'waiting') continue;
      // Bounded mode reads a child once its parents were read to their end (acknowledged or not).
      const ready = shard.parents.every((p) => {
        const st = this.shards.get(p)?.status;
        return st === 'finished' || (this.boundedMode && st === 'ended');
      });
      if (!ready) continue;
      shard.status = 'reading';
      this.startReader(shard);
    }
  }

  private startReader(shard: ShardState): void {
    if (shard.running) return;
    shard.running = true;
    this.readShard(shard)
      .catch((e) => {
        // Unexpected errors (e.g. the stream was deleted) end the source with SOURCE_FAILED.
        this.failure = new LogferryError(
          'SOURCE_FAILED',
          `${this.name}: reading ${shard.id} failed: ${describeError(e)}`,
          { cause: e },
        );
        this.wake();
      })
      .finally(() => {
        shard.running = false;
        this.wake();
        // A rewind that arrived while this reader was on its way out needs a new reader.
        if (shard.rewind && shard.status === 'reading' && !this.signal?.aborted) this.startReader(shard);
      });
  }

  private async finishShard(shard: ShardState): Promise<void> {
    if (shard.status === 'finished') return;
    shard.status = 'finished';
    const cp = this.checkpoint.shards[shard.id] ?? {};
    cp.finished = true;
    this.checkpoint.shards[shard.id] = cp;
    this.dirty = true;
    await this.flush();
    this.log?.info('kinesis: shard finished', { source: this.name, shard: shard.id });
    // Its children may be eligible now (and may not be listed yet: look).
    this.startEligible();
    await this.syncShards();
  }

  private rewindShard(shard: ShardState, outcome: Outcome): void {
    this.stats.rewinds++;
    this.log?.warn('kinesis: delivery failed; re-reading the shard from its checkpoint', {
      source: this.name,
      shard: shard.id,
      code: outcome.code,
    });
    shard.gen++;
    // Records after the failed one that were delivered come again with the rewind: re-deliveries.
    for (const p of shard.pending) if (p.done) shard.redo.add(p.seq);
    shard.pending = [];
    shard.rewind = true;
    shard.caughtUp = false;
    // Drop queued envelopes of the old generation: they will be read again.
    this.queue = this.queue.filter((q) => {
      if (q.shard !== shard.id) return true;
      this.inflight.delete(q.env.ackId);
      return false;
    });
    if (shard.status === 'ended') shard.status = 'reading';
    if (shard.status === 'reading') this.startReader(shard);
  }

  // ---- reading --------------------------------------------------------------------------------

  private async iterator(shard: ShardState, after?: string): Promise<string | undefined> {
    const base: GetShardIteratorCommandInput = this.cfg.streamArn
      ? { StreamARN: this.cfg.streamArn, ShardId: shard.id, ShardIteratorType: 'TRIM_HORIZON' }
      : { StreamName: this.cfg.stream, ShardId: shard.id, ShardIteratorType: 'TRIM_HORIZON' };
    const seq = after ?? this.checkpoint.shards[shard.id]?.seq;
    if (seq) {
      base.ShardIteratorType = 'AFTER_SEQUENCE_NUMBER';
      base.StartingSequenceNumber = seq;
    } else if (shard.firstSeq) {
      // Rewound before anything was checkpointed: LATEST/AT_TIMESTAMP would skip the failed records.
      base.ShardIteratorType = 'AT_SEQUENCE_NUMBER';
      base.StartingSequenceNumber = shard.firstSeq;
    } else if (shard.initial === 'configured') {
      base.ShardIteratorType = this.cfg.startPosition;
      if (this.cfg.startPosition === 'AT_TIMESTAMP')
        base.Timestamp = new Date(this.cfg.startTimestamp as string | number);
    } else if (this.checkpoint.startedAt !== undefined) {
      // A resumed run of a source that began at LATEST: from when it began, not from the shard's
      // start (a shard created later starts after that time anyway).
      base.ShardIteratorType = 'AT_TIMESTAMP';
      base.Timestamp = new Date(this.checkpoint.startedAt - LATEST_START_SLACK_MS);
    }
    const res = (await this.client.send(new GetShardIteratorCommand(base))) as { ShardIterator?: string };
    return res.ShardIterator;
  }

  private backoffMs(attempt: number): number {
    const cap = Math.min(MAX_BACKOFF_MS, GET_RECORDS_MIN_INTERVAL_MS * 2 ** Math.min(attempt, 10));
    return Math.max(GET_RECORDS_MIN_INTERVAL_MS, Math.floor(this.random() * cap));
  }

  private async readShard(shard: ShardState): Promise<void> {
    const signal = this.signal as AbortSignal;
    let iterator: string | undefined;
    let needIterator = true;
    let failures = 0;
    let gen = shard.gen;
    while (!signal.aborted) {
      if (shard.rewind || gen !== shard.gen) {
        shard.rewind = false;
        gen = shard.gen;
        shard.lastRead = undefined;
        needIterator = true;
        // Give the failing destination a moment before the same records come again.
        await sleep(this.backoffMs(++failures), signal);
        continue;
      }
      if (this.queue.length >= this.cfg.readAhead) {
        await new Promise<void>((r) => this.wakeReaders.push(r));
        continue;
      }
      let res: GetRecordsCommandOutput;
      try {
        if (needIterator) {
          iterator = await this.iterator(shard, shard.lastRead);
          needIterator = false;
        }
        if (!iterator) break;
        res = (await this.client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: this.cfg.maxRecords }),
        )) as GetRecordsCommandOutput;
        failures = 0;
      } catch (e) {
        const name = errorName(e);
        if (name === 'ResourceNotFoundException') throw e;
        if (name === 'ProvisionedThroughputExceededException' || name === 'LimitExceededException')
          this.stats.throttled++;
        else if (name === 'ExpiredIteratorException') needIterator = true;
        else {
          this.stats.errors++;
          this.log?.warn('kinesis: GetRecords failed; backing off', {
            source: this.name,
            shard: shard.id,
            error: describeError(e),
          });
        }
        await sleep(this.backoffMs(++failures), signal);
        continue;
      }
      if (gen !== shard.gen) continue; // rewound while the call was in flight
      const records = res.Records ?? [];
      this.stats.behindMs[shard.id] = res.MillisBehindLatest ?? 0;
      let skipped = 0;
      let skippedEvents = 0;
      for (const r of records) {
        const seq = r.SequenceNumber as string;
        const env = this.toEnvelope(shard.id, seq, r.Data ?? new Uint8Array(), r.ApproximateArrivalTimestamp);
        shard.lastRead = seq;
        if (shard.firstSeq === undefined && !this.checkpoint.shards[shard.id]?.seq) shard.firstSeq = seq;
        // Delivered before (a restart or a rewind reads it again): not sent, the checkpoint moves
        // past it. Kept in `redo` until the checkpoint passes it: a second crash before then still knows.
        if (shard.redo.size > 0 && shard.redo.has(seq)) {
          shard.pending.push({ seq, done: true });
          shard.possible.delete(seq);
          skipped++;
          skippedEvents += env.records.length;
          continue;
        }
        const entry: PendingSeq = { seq, done: false };
        shard.pending.push(entry);
        this.inflight.set(env.ackId, { shard: shard.id, gen, entry, handed: false });
        this.queue.push({ env, shard: shard.id, gen });
      }
      if (skipped > 0) {
        // toEnvelope counted them as read: they are counted skipped instead.
        this.stats.envelopes -= skipped;
        this.stats.records -= skippedEvents;
        this.stats.skipped += skippedEvents;
        this.journal?.skipped(skippedEvents);
        this.advance(shard);
        await this.scheduleFlush();
      }
      if (records.length > skipped) this.wake();
      iterator = res.NextShardIterator;
      if (!iterator) {
        // SHARD_END: finished once every record read is acknowledged.
        shard.status = 'ended';
        if (shard.pending.length === 0) await this.finishShard(shard);
        else if (this.boundedMode) this.startEligible();
        return;
      }
      const behind = res.MillisBehindLatest ?? 0;
      if (this.boundedMode && behind === 0) {
        // At the tip: what was there when we looked has been read.
        shard.caughtUp = true;
        return;
      }
      await sleep(
        records.length === 0 || behind === 0 ? this.cfg.pollIntervalMs : GET_RECORDS_MIN_INTERVAL_MS,
        signal,
      );
    }
  }

  private toEnvelope(shardId: string, seq: string, data: Uint8Array, arrival?: Date): SourceEnvelope {
    const ackId = `${shardId}/${seq}`;
    this.stats.envelopes++;
    const res = decodeRecordData(data, { format: this.cfg.format });
    if (!res.ok) {
      return {
        ackId,
        records: [],
        malformed: {
          code: res.code,
          reason: `${res.reason} (stream ${this.streamKey}, ${shardId}, sequence ${seq})`,
          payload: Buffer.from(data.subarray(0, MALFORMED_PAYLOAD_BYTES)).toString('base64'),
        },
        bytes: data.length,
      };
    }
    if (res.message === undefined) {
      // Not a CloudWatch payload: one record per line, ids from shard + sequence number + line.
      const records = linesToRecords(res, {
        owner: this.account,
        logGroup: this.streamName,
        logStream: shardId,
        idBase: `${shardId}:${seq}`,
        source: 'kinesis',
        ackId,
        fallbackTime: arrival?.getTime() ?? Date.now(),
      });
      this.stats.records += records.length;
      return { ackId, records, logGroup: this.streamName, bytes: data.length };
    }
    if (res.message.messageType === 'CONTROL_MESSAGE')
      return { ackId, records: [], control: true, bytes: data.length };
    const records = toRecords(res.message, 'kinesis', ackId);
    this.stats.records += records.length;
    return { ackId, records, bytes: data.length };
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private wake(): void {
    this.wakeConsumer?.();
  }

  private wakeAllReaders(): void {
    const w = this.wakeReaders;
    this.wakeReaders = [];
    for (const r of w) r();
  }

  /** With `checkpointIntervalMs: 0` the write completes before the acknowledgement returns. */
  private async scheduleFlush(): Promise<void> {
    this.dirty = true;
    if (this.cfg.checkpointIntervalMs === 0) return this.flush();
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.cfg.checkpointIntervalMs);
    this.flushTimer.unref();
  }

  /**
   * Sets each shard's `acked` in the checkpoint: sequence numbers past `seq` delivered already
   * (acknowledged out of order, or waiting in `redo` to be read again), those behind `seq` dropped.
   */
  private noteAcked(): void {
    for (const shard of this.shards.values()) {
      const cp = this.checkpoint.shards[shard.id];
      const after = cp?.seq === undefined ? undefined : BigInt(cp.seq);
      if (after !== undefined) for (const q of shard.redo) if (BigInt(q) <= after) shard.redo.delete(q);
      const acked = [...shard.redo];
      for (const p of shard.pending) if (p.done && !shard.redo.has(p.seq)) acked.push(p.seq);
      if (acked.length > 0 && shard.status !== 'finished') {
        const c = cp ?? {};
        c.acked = acked;
        this.checkpoint.shards[shard.id] = c;
      } else if (cp) delete cp.acked;
    }
  }

  /** Records handed out and not acknowledged, and possible duplicates not handed out again yet. */
  private *outstanding(): Iterable<{ shard: string; seq: string }> {
    for (const f of this.inflight.values()) if (f.handed) yield { shard: f.shard, seq: f.entry.seq };
    for (const s of this.shards.values()) for (const seq of s.possible) yield { shard: s.id, seq };
  }

  /**
   * Writes the checkpoint atomically (temp file + rename); writes never overlap. The journal
   * starts a new generation with the snapshot and drops the older ones once it is in place.
   */
  private flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      this.noteAcked();
      const text = `${JSON.stringify(this.checkpoint, null, 1)}\n`;
      const compacted = this.acks?.rotate(this.outstanding());
      const tmp = `${this.checkpointPath}.tmp`;
      try {
        await mkdir(dirname(this.checkpointPath), { recursive: true });
        await writeFile(tmp, text);
        await rename(tmp, this.checkpointPath);
        compacted?.();
        this.stats.checkpointWrites++;
      } catch (e) {
        this.dirty = true;
        this.log?.error('kinesis: cannot write checkpoint', {
          source: this.name,
          path: this.checkpointPath,
          error: describeError(e),
        });
      }
    });
    return this.writing;
  }
}

export const kinesisSourceSpec: ComponentSpec<KinesisSourceConfig, KinesisSource> = {
  ...kinesisSourceMeta,
  create: (config, ctx) => new KinesisSource(config, ctx),
};
