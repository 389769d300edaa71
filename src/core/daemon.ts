/**
 * The daemon runner behind `logferry run`: source → decode outcome (a CONTROL_MESSAGE is a counted
 * drop, a malformed envelope goes to the dead-letter sink with its reason) → transforms → one
 * `Batcher` per sink → `deliver` → `handOffRejected` → `source.ack(envelope, worst outcome)`.
 * It keeps a `Tally` (received = delivered + dropped + rejected + failed, per log group and in total)
 * and reports progress for the CLI; it imports nothing from src/ outside core.
 *
 * Batching: records of many envelopes share a batch per sink, so the S3 sink writes objects of
 * thousands of records rather than one per envelope. A batch leaves its `Batcher` when it reaches
 * the sink's `maxRecords`/`maxBytes` (bytes estimated from the message; `deliver` then cuts exactly
 * by encoded size and partition), when its oldest record has waited `maxAgeMs` (checked on a timer
 * tick, so the batcher itself stays timer-free and testable), when the in-flight bound is reached
 * (everything open is flushed half-way there, so reading overlaps delivery, and again at the
 * bound), and at shutdown.
 *
 * Semantics: an envelope is acknowledged once every record has an outcome from every sink, with
 * its worst record's outcome (`failed` tells the source to redrive it); acknowledgements may come
 * out of order (sources that checkpoint track the lowest unacknowledged offset). At-least-once:
 * a crash before the acknowledgement redrives the envelope. Bounded memory: at most
 * `maxInFlightEnvelopes` envelopes and `maxInFlightRecords` records are held at once. Shutdown on
 * `signal`: stop reading, flush every batch, close sinks; `abortDelivery` (a second Ctrl-C) makes
 * deliveries still retrying give up, their records counted `failed`.
 */
import type { Logger } from './component.js';
import type { DeadLetter, DeadLetterSink } from './dead-letter.js';
import { handOffRejected } from './dead-letter.js';
import { type DeliverOptions, deliver } from './deliver.js';
import { describeError } from './errors.js';
import { type Outcome, Tally, worstOutcome } from './outcome.js';
import { runTransforms, type Transform } from './pipeline.js';
import type { LogRecord } from './record.js';
import type { Sink } from './sink.js';
import type { Source, SourceEnvelope } from './source.js';
import { Batcher } from './batcher.js';

/** Tally groups for envelopes that carry no log group. */
export const CONTROL_GROUP = '(control)';
export const MALFORMED_GROUP = '(malformed)';

export interface DaemonOptions {
  sources: readonly Source[];
  transforms: readonly Transform[];
  // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
  sinks: readonly Sink<any>[];
  deadLetter?: DeadLetterSink;
  /** Stop reading, flush, close (graceful shutdown). */
  signal?: AbortSignal;
  /** Give up on deliveries still in progress (records become `failed`). */
  abortDelivery?: AbortSignal;
  /** Envelopes read but not yet acknowledged (default 1,000). */
  maxInFlightEnvelopes?: number;
  /** Records held in batches and deliveries (default 200,000). */
  maxInFlightRecords?: number;
  /** Concurrent `deliver` calls per sink (default 2). */
  flushConcurrency?: number;
  deliver?: Omit<DeliverOptions, 'signal' | 'onSend'>;
  /** Label for the per-component tally (e.g. EKS component, `lambda`, `ecs`). */
  componentOf?: (record: LogRecord) => string;
  onProgress?: (p: DaemonProgress) => void;
  progressIntervalMs?: number;
  log?: Logger;
}

export interface SinkProgress {
  name: string;
  type: string;
  /** `send` calls, records in sends that fully succeeded, their encoded bytes, sends with problems. */
  sends: number;
  records: number;
  bytes: number;
  sendsWithProblems: number;
  /** Records waiting in this sink's open batches. */
  buffered: number;
  /** Whatever the sink exposes as `stats` (the s3 sink: objects, compressed bytes). */
  stats?: unknown;
}

export interface DaemonProgress {
  phase: 'running' | 'flushing' | 'done';
  elapsedMs: number;
  envelopes: { read: number; acked: number; inFlight: number; expected?: number };
  /** Bytes as received from sources (compressed payloads). */
  bytesIn: number;
  tally: Tally;
  components: Tally;
  sinks: SinkProgress[];
}

export interface DaemonResult extends DaemonProgress {
  balanced: boolean;
  /** Sources that stopped with an error (after everything read was flushed). */
  sourceErrors: { source: string; error: string }[];
}

interface Pending {
  env: SourceEnvelope;
  source: Source;
  records: LogRecord[];
  worst: (Outcome | undefined)[];
  envWorst: Outcome | undefined;
  remaining: number;
}

interface Item {
  p: Pending;
  i: number;
}

interface Lane {
  // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
  sink: Sink<any>;
  batcher: Batcher<Item>;
  flushing: Set<Promise<void>>;
  queue: Item[][];
  progress: SinkProgress;
}

const DELIVERED: Outcome = { kind: 'delivered' };
const CONTROL_DROP: Outcome = {
  kind: 'dropped',
  code: 'CONTROL_MESSAGE',
  reason: 'CloudWatch Logs control message (subscription health check)',
};
/** Longest stretch of reading without letting timers and signal handlers run. */
const YIELD_EVERY_MS = 20;
/** Estimated framing per record on top of the message, for batch sizing before encoding. */
const RECORD_OVERHEAD_BYTES = 256;

export async function runDaemon(opts: DaemonOptions): Promise<DaemonResult> {
  const started = Date.now();
  const tally = new Tally();
  const components = new Tally();
  const maxEnvelopes = Math.max(1, opts.maxInFlightEnvelopes ?? 1_000);
  const maxRecords = Math.max(1, opts.maxInFlightRecords ?? 200_000);
  const flushConcurrency = Math.max(1, opts.flushConcurrency ?? 2);
  const signal = opts.signal ?? new AbortController().signal;
  const log = opts.log;
  const componentOf = opts.componentOf;
  const expected = opts.sources.every((s) => s.expected !== undefined)
    ? opts.sources.reduce((n, s) => n + (s.expected ?? 0), 0)
    : undefined;

  let read = 0;
  let acked = 0;
  let inFlight = 0;
  let inFlightRecords = 0;
  let bytesIn = 0;
  let phase: DaemonProgress['phase'] = 'running';
  const acks = new Set<Promise<void>>();
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };

  const lanes: Lane[] = opts.sinks.map((sink) => ({
    sink,
    batcher: new Batcher<Item>({
      maxRecords: sink.limits.maxRecords,
      maxBytes: sink.limits.maxBytes,
      maxAgeMs: sink.limits.maxAgeMs,
    }),
    flushing: new Set(),
    queue: [],
    progress: {
      name: sink.name,
      type: sink.type,
      sends: 0,
      records: 0,
      bytes: 0,
      sendsWithProblems: 0,
      buffered: 0,
    },
  }));

  const snapshot = (): DaemonProgress => ({
    phase,
    elapsedMs: Date.now() - started,
    envelopes: { read, acked, inFlight, expected },
    bytesIn,
    tally,
    components,
    sinks: lanes.map((l) => {
      const stats = (l.sink as { stats?: unknown }).stats;
      return {
        ...l.progress,
        buffered: l.batcher.size,
        ...(stats === undefined ? {} : { stats: structuredClone(stats) }),
      };
    }),
  });

  const settleRecordless = (
    env: SourceEnvelope,
    source: Source,
    group: string,
    label: string,
    outcome: Outcome,
  ) => {
    tally.received(group);
    tally.settle(group, outcome);
    components.received(label);
    components.settle(label, outcome);
    ack(source, env, outcome);
  };

  function ack(source: Source, env: SourceEnvelope, outcome: Outcome): void {
    const p = source
      .ack(env, outcome)
      .catch((e) =>
        log?.error('source ack failed', { source: source.name, ackId: env.ackId, error: describeError(e) }),
      )
      .finally(() => {
        acked++;
        acks.delete(p);
      });
    acks.add(p);
  }

  function finish(p: Pending): void {
    let envWorst = p.envWorst;
    for (let i = 0; i < p.records.length; i++) {
      const o = p.worst[i] ?? DELIVERED;
      tally.settle(p.records[i].meta.logGroup, o);
      if (componentOf) components.settle(componentOf(p.records[i]), o);
      envWorst = worstOutcome(envWorst, o);
    }
    inFlight--;
    inFlightRecords -= p.records.length;
    ack(p.source, p.env, envWorst ?? DELIVERED);
    wake();
  }

  function settleItem(it: Item, o: Outcome): void {
    const p = it.p;
    p.worst[it.i] = worstOutcome(p.worst[it.i], o);
    if (--p.remaining === 0) finish(p);
  }

  async function flushOne(lane: Lane, items: Item[]): Promise<void> {
    const recs = items.map((it) => it.p.records[it.i]);
    let outcomes: Outcome[];
    try {
      outcomes = await deliver(lane.sink, recs, {
        ...opts.deliver,
        signal: opts.abortDelivery,
        onSend: (info) => {
          lane.progress.sends++;
          if (info.problems === 0 && !info.error) {
            lane.progress.records += info.records;
            lane.progress.bytes += info.bytes;
          } else lane.progress.sendsWithProblems++;
        },
      });
      outcomes = await handOffRejected(opts.deadLetter, recs, outcomes);
    } catch (e) {
      // deliver() reports outcomes rather than throwing; reaching here is a bug in a sink or the core.
      log?.error('delivery failed unexpectedly', { sink: lane.sink.name, error: describeError(e) });
      const o: Outcome = {
        kind: 'failed',
        code: 'INTERNAL',
        reason: `delivery to ${lane.sink.name} failed: ${describeError(e)}`,
      };
      outcomes = recs.map(() => o);
    }
    for (let k = 0; k < items.length; k++) settleItem(items[k], outcomes[k]);
  }

  /** Queues a batch; at most `flushConcurrency` deliveries run per sink. */
  function flush(lane: Lane, items: Item[]): void {
    lane.queue.push(items);
    pump(lane);
  }

  function pump(lane: Lane): void {
    while (lane.flushing.size < flushConcurrency && lane.queue.length > 0) {
      const items = lane.queue.shift()!;
      const run: Promise<void> = flushOne(lane, items).finally(() => {
        lane.flushing.delete(run);
        pump(lane);
        wake();
      });
      lane.flushing.add(run);
    }
  }

  const idle = (l: Lane) => l.flushing.size === 0 && l.queue.length === 0;

  function flushAll(): void {
    for (const lane of lanes) for (const b of lane.batcher.drain()) flush(lane, b.items);
  }

  async function malformed(env: SourceEnvelope, source: Source): Promise<void> {
    const m = env.malformed!;
    const entry: DeadLetter = {
      code: m.code,
      reason: m.reason,
      attempts: 0,
      source: source.type,
      ackId: env.ackId,
      payload: m.payload,
      at: new Date().toISOString(),
    };
    let stored = false;
    if (opts.deadLetter) {
      try {
        [stored] = await opts.deadLetter.put([entry]);
      } catch (e) {
        log?.warn('dead-letter sink failed', { error: describeError(e) });
      }
    }
    const outcome: Outcome = stored
      ? { kind: 'rejected', code: m.code, reason: m.reason }
      : {
          kind: 'failed',
          code: 'DEAD_LETTER_UNAVAILABLE',
          reason: `malformed envelope (${m.code}: ${m.reason}) and the dead-letter sink ${opts.deadLetter ? 'did not store it' : 'is not configured'}`,
        };
    settleRecordless(env, source, MALFORMED_GROUP, 'malformed', outcome);
  }

  async function take(env: SourceEnvelope, source: Source): Promise<void> {
    read++;
    bytesIn += env.bytes;
    if (env.control) return settleRecordless(env, source, CONTROL_GROUP, 'control', CONTROL_DROP);
    if (env.malformed) return malformed(env, source);

    const input = env.records;
    // Count received per log group; records of one envelope almost always share one group.
    let g = 0;
    for (let i = 1; i <= input.length; i++) {
      if (i === input.length || input[i].meta.logGroup !== input[g].meta.logGroup) {
        tally.received(input[g].meta.logGroup, i - g);
        g = i;
      }
    }
    if (componentOf) for (const r of input) components.received(componentOf(r));

    let kept: LogRecord[];
    let envWorst: Outcome | undefined;
    try {
      const res = runTransforms(opts.transforms, input, tally);
      kept = res.records;
      for (const d of res.dropped) {
        if (componentOf) components.settle(componentOf(d.record), d.outcome);
        envWorst = worstOutcome(envWorst, d.outcome);
      }
      // A transform that emits several records from one: count the extra ones as received too.
      const extra = kept.length + res.dropped.length - input.length;
      if (extra > 0) {
        tally.received(input[0].meta.logGroup, extra);
        if (componentOf) components.received(componentOf(input[0]), extra);
      }
    } catch (e) {
      // Transforms are pure and must not throw; if one does, its records go to the dead-letter sink.
      const o: Outcome = { kind: 'rejected', code: 'TRANSFORM_FAILED', reason: describeError(e) };
      kept = [];
      const outcomes = await handOffRejected(
        opts.deadLetter,
        input,
        input.map(() => o),
        () => 0,
      );
      for (let i = 0; i < input.length; i++) {
        tally.settle(input[i].meta.logGroup, outcomes[i]);
        if (componentOf) components.settle(componentOf(input[i]), outcomes[i]);
        envWorst = worstOutcome(envWorst, outcomes[i]);
      }
    }
    if (kept.length === 0 || lanes.length === 0) {
      const noSink: Outcome = { kind: 'dropped', code: 'NO_SINK', reason: 'no sink is configured' };
      for (const r of kept) {
        tally.settle(r.meta.logGroup, noSink);
        if (componentOf) components.settle(componentOf(r), noSink);
        envWorst = worstOutcome(envWorst, noSink);
      }
      ack(source, env, envWorst ?? DELIVERED);
      return;
    }
    const p: Pending = {
      env,
      source,
      records: kept,
      worst: new Array(kept.length),
      envWorst,
      remaining: kept.length * lanes.length,
    };
    inFlight++;
    inFlightRecords += kept.length;
    const now = Date.now();
    for (const lane of lanes) {
      for (let i = 0; i < kept.length; i++) {
        const full = lane.batcher.add({ p, i }, kept[i].message.length + RECORD_OVERHEAD_BYTES, '', now);
        if (full) flush(lane, full);
      }
    }
  }

  /** Waits until an envelope or a delivery completes (or a short tick, as a safety net). */
  function waitForProgress(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, 100);
      function done() {
        clearTimeout(t);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }

  const tickMs = Math.min(
    1_000,
    Math.max(50, Math.floor(Math.min(...lanes.map((l) => l.sink.limits.maxAgeMs), 4_000) / 4)),
  );
  const ageTimer = setInterval(() => {
    const now = Date.now();
    for (const lane of lanes) for (const b of lane.batcher.due(now)) flush(lane, b.items);
  }, tickMs);
  const progressTimer = opts.onProgress
    ? setInterval(() => opts.onProgress?.(snapshot()), opts.progressIntervalMs ?? 250)
    : undefined;

  const sourceErrors: DaemonResult['sourceErrors'] = [];
  async function runSource(source: Source): Promise<void> {
    let lastYield = Date.now();
    try {
      for await (const env of source.envelopes(signal)) {
        // Half-way to the bound, send what is open while reading goes on (overlap, not stop-and-go).
        if ((inFlight >= maxEnvelopes / 2 || inFlightRecords >= maxRecords / 2) && lanes.every(idle))
          flushAll();
        while (inFlight >= maxEnvelopes || inFlightRecords >= maxRecords) {
          // Everything open must go out for envelopes to complete and free room.
          flushAll();
          await waitForProgress();
        }
        await take(env, source);
        if (signal.aborted) break;
        // A source that never waits (demo, a file read from cache) would starve timers and signal
        // handlers (age flushes, progress, Ctrl-C) through microtasks alone: yield now and then.
        if (Date.now() - lastYield >= YIELD_EVERY_MS) {
          await new Promise<void>((r) => setImmediate(r));
          lastYield = Date.now();
        }
      }
    } catch (e) {
      log?.error('source stopped with an error', { source: source.name, error: describeError(e) });
      sourceErrors.push({ source: source.name, error: describeError(e) });
    }
  }

  try {
    await Promise.all(opts.sources.map(runSource));
    phase = 'flushing';
    flushAll();
    while (inFlight > 0 || lanes.some((l) => l.flushing.size > 0 || l.queue.length > 0)) {
      await Promise.all(lanes.flatMap((l) => [...l.flushing]));
      if (inFlight > 0 && lanes.every((l) => l.flushing.size === 0 && l.queue.length === 0)) flushAll();
      if (lanes.every((l) => l.flushing.size === 0) && inFlight > 0) await waitForProgress();
    }
    await Promise.all([...acks]);
  } finally {
    clearInterval(ageTimer);
    if (progressTimer) clearInterval(progressTimer);
    for (const lane of lanes) {
      try {
        await lane.sink.close?.();
      } catch (e) {
        log?.warn('sink close failed', { sink: lane.sink.name, error: describeError(e) });
      }
    }
    for (const s of opts.sources)
      await s
        .close?.()
        .catch((e) => log?.warn('source close failed', { source: s.name, error: describeError(e) }));
    await opts.deadLetter
      ?.close?.()
      .catch((e) => log?.warn('dead-letter sink close failed', { error: describeError(e) }));
  }
  phase = 'done';
  const final = snapshot();
  opts.onProgress?.(final);
  return { ...final, balanced: tally.balanced(), sourceErrors };
}
