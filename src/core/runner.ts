/**
 * The one pipeline runner every home shares — the daemon (`logferry run`), the Kinesis and the
 * Firehose Lambda handlers, and every source or handler to come:
 *
 *   envelopes → decode outcome → pre stages (parse, mask) → graph (named transforms, routes)
 *     → one `Batcher` per sink → `deliver` (retries, deadline) → dead-letter hand-off → settle → ack
 *
 * A home is a thin adapter: a daemon source is an async iterable of envelopes with `ack`; a Lambda
 * handler decodes its event into envelopes, runs them with `runEnvelopes` and turns the outcomes
 * into its answer (`core/lambda.ts`). Nothing else re-implements settling, retries, the dead-letter
 * hand-off or the tally.
 *
 * Outcome semantics (the table in docs/architecture.md):
 * - control message → `dropped CONTROL_MESSAGE`; a payload without events → `dropped NO_EVENTS`
 *   (one record each, under the `(control)` group);
 * - malformed envelope → to the dead-letter sink whole, `rejected <code>` (or `failed
 *   DEAD_LETTER_UNAVAILABLE` when it cannot be stored), one record under `(malformed)`;
 * - a transform that throws → that record `rejected TRANSFORM_FAILED` → dead-letter sink;
 * - a transform that drops → `dropped <dropCode>`; one that emits n records counts n − 1 more received;
 * - a record no sink takes → `dropped NO_ROUTE`;
 * - a record sent to several sinks (fan-out) gets the worst of its branches, where a drop on one
 *   branch does not outweigh a delivery on another (failed > rejected > delivered > dropped);
 * - sink outcomes come from `deliver`; rejected ones go to the dead-letter sink.
 * `received = delivered + dropped + rejected + failed` per log group, in every home.
 *
 * Batching, bounds and shutdown are as the daemon always did: records of many envelopes share a
 * batch per sink; at most `maxInFlightEnvelopes`/`maxInFlightRecords` are held; a batch leaves when
 * full, when its oldest record reaches `maxAgeMs`, half-way to the in-flight bound, and at the end.
 * An envelope is acknowledged with its worst record's outcome once every record has one.
 * A packed envelope (`eventsPerRecord`: one record holding n events) counts each of its records as
 * that many events in every tally, so packing never changes what is counted.
 */
import type { Logger } from './component.js';
import type { DeadLetter, DeadLetterSink } from './dead-letter.js';
import { handOffRejected } from './dead-letter.js';
import { type DeliverOptions, deliver } from './deliver.js';
import { describeError } from './errors.js';
import {
  type EdgeNode,
  type PlannedTransform,
  planGraph,
  type SourcePlan,
  type SourceNode,
} from './graph.js';
import { type Outcome, Tally, worstOutcome } from './outcome.js';
import type { Transform } from './pipeline.js';
import type { LogRecord } from './record.js';
import type { Deadline } from './retry.js';
import type { Sink } from './sink.js';
import type { Source, SourceEnvelope } from './source.js';

/** Tally groups for envelopes that carry no log group. */
export const CONTROL_GROUP = '(control)';
export const MALFORMED_GROUP = '(malformed)';

export const CONTROL_DROP: Outcome = Object.freeze({
  kind: 'dropped',
  code: 'CONTROL_MESSAGE',
  reason: 'CloudWatch Logs control message (subscription health check)',
}) as Outcome;
export const NO_EVENTS_DROP: Outcome = Object.freeze({
  kind: 'dropped',
  code: 'NO_EVENTS',
  reason: 'payload has no log events',
}) as Outcome;
export const NO_ROUTE_DROP: Outcome = Object.freeze({
  kind: 'dropped',
  code: 'NO_ROUTE',
  reason: 'no sink takes this record',
}) as Outcome;

export interface SinkNode extends EdgeNode {
  // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
  sink: Sink<any>;
  /** Records / estimated bytes this sink may hold (open batches + deliveries) before sources pause. */
  maxInFlightRecords?: number;
  maxInFlightBytes?: number;
}

/** What the runner runs: named sources (names and tags only), transforms and sinks. */
export interface RunnerGraph {
  /** Stages every record goes through first, in order (parse `auto`, masking). */
  pre?: readonly Transform[];
  sources: readonly SourceNode[];
  transforms: readonly PlannedTransform[];
  sinks: readonly SinkNode[];
  deadLetter?: DeadLetterSink;
}

export interface RunnerOptions {
  /** Envelopes read but not yet acknowledged (default 1,000). */
  maxInFlightEnvelopes?: number;
  /** Records held in batches and deliveries (default 200,000). */
  maxInFlightRecords?: number;
  /** Concurrent `deliver` calls per sink (default 2). */
  flushConcurrency?: number;
  deliver?: Omit<DeliverOptions, 'signal' | 'onSend' | 'deadline'>;
  /** Label for the per-component tally (e.g. EKS component, `lambda`, `ecs`). */
  componentOf?: (record: LogRecord) => string;
  log?: Logger;
  /**
   * Called with each record leaving a component (`logferry tap`): sources after parse and mask,
   * named transforms, and sinks (records routed to them). Never changes delivery.
   */
  tap?: (component: string, record: LogRecord) => void;
}

export interface RunOptions {
  /** Stop reading, flush, finish (graceful shutdown). */
  signal?: AbortSignal;
  /** Give up on deliveries still in progress (records become `failed`). */
  abortDelivery?: AbortSignal;
  /** No new attempt starts after it; deliveries still running when it passes are abandoned. */
  deadline?: Deadline;
  onProgress?: (p: RunProgress) => void;
  progressIntervalMs?: number;
  /** Runs after everything settled and before the final snapshot (the daemon closes sinks here). */
  beforeDone?: () => Promise<void>;
}

export interface SinkProgress {
  name: string;
  type: string;
  /** `send` calls, records in sends that fully succeeded, their encoded bytes, sends with problems. */
  sends: number;
  records: number;
  bytes: number;
  sendsWithProblems: number;
  /** Retried sends (attempt > 1). */
  retries: number;
  /** Records waiting in this sink's open batches. */
  buffered: number;
  /** Records per `send` (for batch-size histograms): sum and count. */
  batchRecords: { sum: number; count: number };
  /** Whatever the sink exposes as `stats` (the s3 sink: objects, compressed bytes). */
  stats?: unknown;
  /**
   * Records a source handed out again after a restart (`meta.redelivered`) that this sink took
   * (delivered): stored once by a sink that dedupes by id (`dedupes`), else possible duplicates.
   */
  redelivered: number;
  dedupes: boolean;
}

export interface RunProgress {
  phase: 'running' | 'flushing' | 'done';
  elapsedMs: number;
  envelopes: { read: number; acked: number; inFlight: number; expected?: number };
  /** Bytes as received from sources (compressed payloads). */
  bytesIn: number;
  tally: Tally;
  components: Tally;
  /** Per named component (source, transform, sink): records in and their outcomes there. */
  nodes: Map<string, Tally>;
  sinks: SinkProgress[];
  /** Milliseconds from event time to settlement, sum and count of delivered records (lag). */
  lag: { sumMs: number; count: number; maxMs: number };
  /** Per source: records handed out again after a restart (`meta.redelivered`). */
  redelivered: Map<string, number>;
}

export interface RunResult extends RunProgress {
  balanced: boolean;
  /** Sources that stopped with an error (after everything read was flushed). */
  sourceErrors: { source: string; error: string }[];
}

export interface Runner {
  readonly graph: RunnerGraph;
  /** Runs sources until they end (or `signal` aborts); sinks stay open for the next run. */
  run(sources: readonly Source[], opts?: RunOptions): Promise<RunResult>;
  /** Closes sinks and the dead-letter sink. */
  close(): Promise<void>;
}

interface Pending {
  env: SourceEnvelope;
  source: Source;
  /** Per accounting entity (a received record, or an extra one a transform emitted). */
  /** The log group of every entity when they share one (almost always); else `groups`. */
  group: string;
  groups: string[] | undefined;
  /** Accounting entities (received records plus extras a transform emitted). */
  count: number;
  labels: string[] | undefined;
  outs: (Outcome | undefined)[];
  reached: Uint8Array | number[];
  remaining: number;
  /** Records a transform threw on. */
  thrown: { record: LogRecord; e: number; error: string; code: string }[] | undefined;
  /** Event time of the envelope's first record (lag is measured from it). */
  ts0: number;
  /** Some records are re-deliveries (`meta.redelivered`): sinks count what they take of them. */
  redelivered: boolean;
  /** Events each entity stands for in the tallies (`SourceEnvelope.eventsPerRecord`; usually 1). */
  w: number;
}

const gOf = (p: Pending, e: number): string => (p.groups === undefined ? p.group : p.groups[e]);

/** 0, 1, 2, … shared by every envelope (read only): an envelope's entity numbers before any split. */
let IDENT: number[] = [];
function identity(n: number): number[] {
  if (IDENT.length < n) {
    const next = new Array<number>(Math.max(n, IDENT.length * 2));
    for (let i = 0; i < next.length; i++) next[i] = i;
    IDENT = next;
  }
  return IDENT;
}

/** A run of one envelope's records bound for one sink (no object per record). */
interface Seg {
  p: Pending;
  recs: LogRecord[];
  ents: number[];
  from: number;
  to: number;
}

/** The open batch of a sink: segments, cut by the sink's maxRecords/maxBytes/maxAgeMs. */
interface OpenBatch {
  segs: Seg[];
  records: number;
  bytes: number;
  since: number;
}

interface Lane {
  node: SinkNode;
  // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
  sink: Sink<any>;
  open: OpenBatch | undefined;
  flushing: Set<Promise<void>>;
  queue: Seg[][];
  progress: SinkProgress;
  /** Records and estimated bytes held (open batch, queued, being delivered), and their bounds. */
  held: number;
  heldBytes: number;
  maxHeld: number;
  maxHeldBytes: number;
}

const DELIVERED: Outcome = { kind: 'delivered' };
/** Outcomes that count alike (the tally keeps counts by kind and code). */
const same = (a: Outcome | undefined, b: Outcome | undefined) =>
  a === b || (a !== undefined && b !== undefined && a.kind === b.kind && a.code === b.code);
/** Combining branches of one record: a drop on one branch does not outweigh a delivery on another. */
const BRANCH_RANK = { dropped: 0, delivered: 1, rejected: 2, failed: 3 } as const;
function combineBranch(a: Outcome | undefined, b: Outcome): Outcome {
  if (!a) return b;
  return BRANCH_RANK[b.kind] > BRANCH_RANK[a.kind] ? b : a;
}
/** Longest stretch of reading without letting timers and signal handlers run. */
const YIELD_EVERY_MS = 20;
/** Estimated framing per record on top of the message, for batch sizing before encoding. */
const RECORD_OVERHEAD_BYTES = 256;

/**
 * Event times a record may carry: 0000-01-01T00:00:00.000Z … 9999-12-31T23:59:59.999Z, the range
 * a four-digit ISO-8601 date (OpenSearch `@timestamp`, partition keys `year=…`) can state.
 * Outside it (`1e20`, NaN, a parser's garbage) the record is `rejected TIMESTAMP_OUT_OF_RANGE`.
 */
export const MIN_TIMESTAMP_MS = -62_167_219_200_000;
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;
export const TIMESTAMP_OUT_OF_RANGE = 'TIMESTAMP_OUT_OF_RANGE';

/** True when `t` is an event time a record may carry (see MIN/MAX_TIMESTAMP_MS). */
export const timestampInRange = (t: number): boolean => t >= MIN_TIMESTAMP_MS && t <= MAX_TIMESTAMP_MS;

/**
 * Takes records with an out-of-range event time out of a slot and books them on `p.thrown` (to the
 * dead-letter sink, `rejected TIMESTAMP_OUT_OF_RANGE`). Allocates only when there is one.
 */
function rejectBadTimes(
  p: Pending,
  slotR: (LogRecord[] | undefined)[],
  slotE: (number[] | undefined)[],
  slot: number,
): void {
  const rs = slotR[slot];
  if (!rs) return;
  let bad = -1;
  for (let i = 0; i < rs.length; i++) {
    const t = rs[i].timestamp;
    if (!(t >= MIN_TIMESTAMP_MS && t <= MAX_TIMESTAMP_MS)) {
      bad = i;
      break;
    }
  }
  if (bad < 0) return;
  const es = slotE[slot]!;
  const keepR = rs.slice(0, bad);
  const keepE = es.slice(0, bad);
  for (let i = bad; i < rs.length; i++) {
    const t = rs[i].timestamp;
    if (t >= MIN_TIMESTAMP_MS && t <= MAX_TIMESTAMP_MS) {
      keepR.push(rs[i]);
      keepE.push(es[i]);
      continue;
    }
    if (!p.thrown) p.thrown = [];
    p.thrown.push({
      record: rs[i],
      e: es[i],
      code: TIMESTAMP_OUT_OF_RANGE,
      error: `event time ${String(t)} is outside the representable range (years 0000–9999)`,
    });
  }
  slotR[slot] = keepR;
  slotE[slot] = keepE;
}

/** A copy a second branch may change without the first seeing it (meta is shared: sources own it). */
function copyRecord(r: LogRecord): LogRecord {
  return { timestamp: r.timestamp, message: r.message, fields: structuredClone(r.fields), meta: r.meta };
}

export function createRunner(graph: RunnerGraph, opts: RunnerOptions = {}): Runner {
  const plans = planGraph(graph);
  const pre = graph.pre ?? [];
  const log = opts.log;
  const componentOf = opts.componentOf;
  const tap = opts.tap;
  const flushConcurrency = Math.max(1, opts.flushConcurrency ?? 2);
  // A source not named in the graph (a Lambda event, a test source) reads like every source.
  const anyPlan = planGraph({ ...graph, sources: [{ name: '\u0000any' }] }).get('\u0000any')!;
  const planFor = (name: string): SourcePlan => plans.get(name) ?? anyPlan;
  // Envelopes that carry their own tag (a forward source: the sender's tag) are routed by it.
  const tagPlans = new Map<string, SourcePlan>();
  const planForTag = (name: string, tag: string): SourcePlan => {
    const key = `${name}\u0000${tag}`;
    let p = tagPlans.get(key);
    if (!p) {
      if (tagPlans.size >= 10_000) tagPlans.clear(); // bounded: tags are few in practice
      p = planGraph({ ...graph, sources: [{ name, tag }] }).get(name)!;
      tagPlans.set(key, p);
    }
    return p;
  };
  /** The distinct slots some sink reads, per plan (the time check runs once per slot). */
  const sinkSlots = new Map<SourcePlan, number[]>();
  const sinkSlotsOf = (plan: SourcePlan): number[] => {
    let s = sinkSlots.get(plan);
    if (!s) {
      s = [...new Set(plan.sinks.flatMap((k) => k.inputs))];
      sinkSlots.set(plan, s);
    }
    return s;
  };

  async function run(sources: readonly Source[], ro: RunOptions = {}): Promise<RunResult> {
    const started = Date.now();
    const tally = new Tally();
    const components = new Tally();
    const nodes = new Map<string, Tally>();
    const nodeTally = (name: string) => {
      let t = nodes.get(name);
      if (!t) {
        t = new Tally();
        nodes.set(name, t);
      }
      return t;
    };
    const lag = { sumMs: 0, count: 0, maxMs: 0 };
    const maxEnvelopes = Math.max(1, opts.maxInFlightEnvelopes ?? 1_000);
    const maxRecords = Math.max(1, opts.maxInFlightRecords ?? 200_000);
    const signal = ro.signal ?? new AbortController().signal;
    const expected = sources.every((s) => s.expected !== undefined)
      ? sources.reduce((n, s) => n + (s.expected ?? 0), 0)
      : undefined;

    // The deadline also abandons deliveries still running when it passes (a sink that hangs).
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    ro.abortDelivery?.addEventListener('abort', onAbort, { once: true });
    if (ro.abortDelivery?.aborted) abort.abort();
    const remaining = ro.deadline?.remainingMs();
    const deadlineTimer =
      remaining !== undefined && Number.isFinite(remaining)
        ? setTimeout(onAbort, Math.max(0, Math.min(remaining, 2 ** 31 - 1)))
        : undefined;

    let read = 0;
    let acked = 0;
    let inFlight = 0;
    let inFlightRecords = 0;
    let bytesIn = 0;
    let phase: RunProgress['phase'] = 'running';
    const acks = new Set<Promise<void>>();
    const waiters = new Set<() => void>();
    const wake = () => {
      for (const w of waiters) w();
    };

    const dlCtx = { deadline: ro.deadline, signal: abort.signal };
    /** Logs (once per batch) that the dead-letter store failed, with the error it gave. */
    const noteDeadLetterFailure = (outs: readonly Outcome[]) => {
      const bad = outs.find((o) => o.code === 'DEAD_LETTER_UNAVAILABLE');
      if (bad && graph.deadLetter)
        log?.warn('dead-letter sink could not store entries', {
          error: graph.deadLetter.lastError ?? 'no reason given',
          entries: outs.filter((o) => o.code === 'DEAD_LETTER_UNAVAILABLE').length,
        });
    };
    const lanes: Lane[] = graph.sinks.map((node) => ({
      node,
      sink: node.sink,
      open: undefined,
      flushing: new Set(),
      queue: [],
      held: 0,
      heldBytes: 0,
      maxHeld: node.maxInFlightRecords ?? Number.POSITIVE_INFINITY,
      maxHeldBytes: node.maxInFlightBytes ?? Number.POSITIVE_INFINITY,
      progress: {
        name: node.name,
        type: node.sink.type,
        sends: 0,
        records: 0,
        bytes: 0,
        sendsWithProblems: 0,
        retries: 0,
        buffered: 0,
        batchRecords: { sum: 0, count: 0 },
        redelivered: 0,
        dedupes: node.sink.dedupesById === true,
      },
    }));
    const redelivered = new Map<string, number>();

    const snapshot = (): RunProgress => ({
      phase,
      elapsedMs: Date.now() - started,
      envelopes: { read, acked, inFlight, expected },
      bytesIn,
      tally,
      components,
      nodes,
      lag: { ...lag },
      redelivered: new Map(redelivered),
      sinks: lanes.map((l) => {
        const stats = (l.sink as { stats?: unknown }).stats;
        return {
          ...l.progress,
          batchRecords: { ...l.progress.batchRecords },
          buffered: l.open?.records ?? 0,
          ...(stats === undefined ? {} : { stats: structuredClone(stats) }),
        };
      }),
    });

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

    const settleRecordless = (
      env: SourceEnvelope,
      source: Source,
      group: string,
      label: string,
      o: Outcome,
    ) => {
      tally.received(group);
      tally.settle(group, o);
      components.received(label);
      components.settle(label, o);
      const nt = nodeTally(source.name);
      nt.received(group);
      nt.settle(group, o);
      ack(source, env, o);
    };

    function finish(p: Pending): void {
      let envWorst: Outcome | undefined;
      const now = Date.now();
      const st = nodeTally(p.source.name);
      // Settle in runs of one group and one outcome (records of an envelope mostly share both).
      const n = p.count;
      let run = 0;
      for (let e = 0; e < n; e++) {
        const o = p.outs[e] ?? NO_ROUTE_DROP;
        if (p.labels) components.settle(p.labels[e], o, p.w);
        if (o.kind === 'delivered') {
          const ms = now - p.ts0;
          lag.sumMs += ms * p.w;
          lag.count += p.w;
          if (ms > lag.maxMs) lag.maxMs = ms;
        }
        if (e + 1 === n || gOf(p, e + 1) !== gOf(p, e) || !same(p.outs[e + 1] ?? NO_ROUTE_DROP, o)) {
          tally.settle(gOf(p, e), o, (e + 1 - run) * p.w);
          st.settle(gOf(p, e), o, (e + 1 - run) * p.w);
          run = e + 1;
        }
        envWorst = worstOutcome(envWorst, o);
      }
      inFlight--;
      inFlightRecords -= p.count;
      ack(p.source, p.env, envWorst ?? DELIVERED);
      wake();
    }

    async function flushOne(lane: Lane, segs: Seg[]): Promise<void> {
      let total = 0;
      for (const sg of segs) total += sg.to - sg.from;
      const recs: LogRecord[] = new Array(total);
      let at = 0;
      for (const sg of segs) for (let i = sg.from; i < sg.to; i++) recs[at++] = sg.recs[i];
      // What addToLane counted for these records (only kept exact when the sink has a bytes bound).
      let bytes = 0;
      if (lane.maxHeldBytes !== Number.POSITIVE_INFINITY)
        for (let i = 0; i < total; i++) bytes += recs[i].message.length + RECORD_OVERHEAD_BYTES;
      let outcomes: Outcome[];
      try {
        outcomes = await deliver(lane.sink, recs, {
          ...opts.deliver,
          deadline: ro.deadline,
          signal: abort.signal,
          onSend: (info) => {
            const pr = lane.progress;
            pr.sends++;
            if (info.attempt > 1) pr.retries++;
            pr.batchRecords.sum += info.records;
            pr.batchRecords.count++;
            if (info.problems === 0 && !info.error) {
              pr.records += info.records;
              pr.bytes += info.bytes;
            } else pr.sendsWithProblems++;
          },
        });
        outcomes = await handOffRejected(graph.deadLetter, recs, outcomes, undefined, dlCtx);
        noteDeadLetterFailure(outcomes);
      } catch (e) {
        // deliver() reports outcomes rather than throwing; reaching here is a bug in a sink or the core.
        log?.error('delivery failed unexpectedly', { sink: lane.node.name, error: describeError(e) });
        const o: Outcome = {
          kind: 'failed',
          code: 'INTERNAL',
          reason: `delivery to ${lane.node.name} failed: ${describeError(e)}`,
        };
        outcomes = recs.map(() => o);
      }
      lane.held -= total;
      lane.heldBytes -= bytes;
      const nt = nodeTally(lane.node.name);
      let k = 0;
      for (const sg of segs) {
        const p = sg.p;
        let run = k;
        for (let i = sg.from; i < sg.to; i++, k++) {
          const e = sg.ents[i];
          const o = outcomes[k];
          const prev = p.outs[e];
          p.outs[e] = prev === undefined ? o : combineBranch(prev, o);
          if (i + 1 === sg.to || !same(outcomes[k + 1], o) || gOf(p, sg.ents[i + 1]) !== gOf(p, e)) {
            nt.settle(gOf(p, e), o, (k + 1 - run) * p.w);
            run = k + 1;
          }
        }
        if (p.redelivered)
          for (let i = sg.from, q = k - (sg.to - sg.from); i < sg.to; i++, q++)
            if (sg.recs[i].meta.redelivered && outcomes[q].kind === 'delivered') lane.progress.redelivered++;
        p.remaining -= sg.to - sg.from;
        if (p.remaining === 0) finish(p);
      }
    }

    /** Adds records [from, to) of a slot to the lane's open batch, cutting full batches off. */
    function addToLane(
      lane: Lane,
      p: Pending,
      recs: LogRecord[],
      ents: number[],
      from: number,
      to: number,
      now: number,
      full: [Lane, Seg[]][],
    ): void {
      const lim = lane.sink.limits;
      let start = from;
      let open = lane.open;
      if (lim.maxBytes >= Number.MAX_SAFE_INTEGER && (open?.records ?? 0) + (to - from) <= lim.maxRecords) {
        // An unbounded sink (the Firehose answer): one segment, no per-record sizing.
        if (!open) {
          open = { segs: [], records: 0, bytes: 0, since: now };
          lane.open = open;
        }
        open.records += to - from;
        open.segs.push({ p, recs, ents, from, to });
        lane.held += to - from;
        if (lane.maxHeldBytes !== Number.POSITIVE_INFINITY)
          for (let i = from; i < to; i++) lane.heldBytes += recs[i].message.length + RECORD_OVERHEAD_BYTES;
        return;
      }
      for (let i = from; i < to; i++) {
        const bytes = recs[i].message.length + RECORD_OVERHEAD_BYTES;
        if (!open) {
          open = { segs: [], records: 0, bytes: 0, since: now };
          lane.open = open;
        } else if (
          open.records > 0 &&
          (open.records >= lim.maxRecords || open.bytes + bytes > lim.maxBytes)
        ) {
          if (i > start) open.segs.push({ p, recs, ents, from: start, to: i });
          start = i;
          full.push([lane, open.segs]);
          open = { segs: [], records: 0, bytes: 0, since: now };
          lane.open = open;
        }
        open.records++;
        open.bytes += bytes;
        lane.heldBytes += bytes;
      }
      lane.held += to - from;
      if (open && to > start) open.segs.push({ p, recs, ents, from: start, to });
    }

    /** Queues a batch; at most `flushConcurrency` deliveries run per sink. */
    function flush(lane: Lane, segs: Seg[]): void {
      lane.queue.push(segs);
      pump(lane);
    }

    function pump(lane: Lane): void {
      while (lane.flushing.size < flushConcurrency && lane.queue.length > 0) {
        const items = lane.queue.shift()!;
        const r: Promise<void> = flushOne(lane, items).finally(() => {
          lane.flushing.delete(r);
          pump(lane);
          wake();
        });
        lane.flushing.add(r);
      }
    }

    const idle = (l: Lane) => l.flushing.size === 0 && l.queue.length === 0;
    const laneFull = (l: Lane) => l.held >= l.maxHeld || l.heldBytes >= l.maxHeldBytes;

    function flushAll(): void {
      for (const lane of lanes) {
        const open = lane.open;
        lane.open = undefined;
        if (open && open.records > 0) flush(lane, open.segs);
      }
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
      let why: string | undefined;
      if (graph.deadLetter) {
        try {
          [stored] = await graph.deadLetter.put([entry], dlCtx);
          if (!stored) why = graph.deadLetter.lastError;
        } catch (e) {
          why = describeError(e);
        }
        if (!stored) log?.warn('dead-letter sink could not store an entry', { code: m.code, error: why });
      }
      const outcome: Outcome = stored
        ? { kind: 'rejected', code: m.code, reason: m.reason }
        : {
            kind: 'failed',
            code: 'DEAD_LETTER_UNAVAILABLE',
            reason: `malformed envelope (${m.code}: ${m.reason}) and the dead-letter sink ${graph.deadLetter ? `did not store it${why ? `: ${why}` : ''}` : 'is not configured'}`,
          };
      settleRecordless(env, source, MALFORMED_GROUP, 'malformed', outcome);
    }

    /** Runs one transform over records; drops, splits and throws are booked on `p`. */
    function apply(
      t: Transform,
      name: string | undefined,
      recs: LogRecord[],
      ents: number[],
      p: Pending,
      copy: boolean,
    ): [LogRecord[], number[]] {
      // Most stages (parse, mask) hand back each record they were given: while they do, the input
      // arrays are the output and nothing is allocated; the first other answer copies the prefix.
      let outR: LogRecord[] | undefined;
      let outE: number[] | undefined;
      const nt = name === undefined ? undefined : nodeTally(name);
      let drop: Outcome | undefined;
      for (let i = 0; i < recs.length; i++) {
        const e = ents[i];
        const r = copy ? copyRecord(recs[i]) : recs[i];
        let out: LogRecord | LogRecord[] | null;
        try {
          out = t.apply(r);
          if (out === r && !copy) {
            if (outR !== undefined) {
              outR.push(r);
              (outE as number[]).push(e);
            }
            if (tap && name !== undefined) tap(name, r);
            continue;
          }
        } catch (err) {
          outR ??= recs.slice(0, i);
          outE ??= ents.slice(0, i);
          if (!p.thrown) p.thrown = [];
          p.thrown.push({
            record: r,
            e,
            error: `${name ?? t.type}: ${describeError(err)}`,
            code: 'TRANSFORM_FAILED',
          });
          continue;
        }
        outR ??= recs.slice(0, i);
        outE ??= ents.slice(0, i);
        if (out === null || (Array.isArray(out) && out.length === 0)) {
          // A drop (null, or no records at all), counted with the transform's reason code.
          if (!drop)
            drop = {
              kind: 'dropped',
              code: t.dropCode ?? `DROPPED_BY_${t.type.toUpperCase().replace(/-/g, '_')}`,
              reason: `dropped by ${name ?? t.type}`,
            };
          const o = drop;
          p.outs[e] = combineBranch(p.outs[e], o);
          nt?.settle(gOf(p, e), o, p.w);
        } else if (Array.isArray(out)) {
          for (let k = 0; k < out.length; k++) {
            let ek = e;
            if (k > 0) {
              // An extra record: a new accounting entity in the same log group (of the same weight).
              ek = p.count++;
              const g = gOf(p, e);
              if (p.groups) p.groups.push(g);
              p.outs.push(undefined);
              if (p.reached instanceof Uint8Array) p.reached = Array.from(p.reached);
              p.reached.push(0);
              p.labels?.push(p.labels[e]);
              tally.received(g, p.w);
              nodeTally(p.source.name).received(g, p.w);
              p.labels && components.received(p.labels[e], p.w);
            }
            outR.push(out[k]);
            outE.push(ek);
            if (tap && name !== undefined) tap(name, out[k]);
          }
        } else {
          outR.push(out);
          outE.push(e);
          if (tap && name !== undefined) tap(name, out);
        }
      }
      if (outR === undefined || outE === undefined) {
        outR = recs;
        outE = ents.length === recs.length ? ents : ents.slice(0, recs.length);
      }
      if (nt) {
        // Per-node counts: records in, by group (run-length; records of one envelope share one).
        let g = 0;
        for (let i = 1; i <= recs.length; i++)
          if (i === recs.length || gOf(p, ents[i]) !== gOf(p, ents[g])) {
            nt.received(gOf(p, ents[g]), (i - g) * p.w);
            g = i;
          }
        // Records passed on count as delivered by this node.
        let h = 0;
        for (let i = 1; i <= outR.length; i++)
          if (i === outR.length || gOf(p, outE[i]) !== gOf(p, outE[h])) {
            nt.settle(gOf(p, outE[h]), DELIVERED, (i - h) * p.w);
            h = i;
          }
      }
      return [outR, outE];
    }

    async function take(env: SourceEnvelope, source: Source): Promise<void> {
      read++;
      bytesIn += env.bytes;
      if (env.control) return settleRecordless(env, source, CONTROL_GROUP, 'control', CONTROL_DROP);
      if (env.malformed) return malformed(env, source);
      const input = env.records;
      if (input.length === 0) return settleRecordless(env, source, CONTROL_GROUP, 'control', NO_EVENTS_DROP);

      const n = input.length;
      const group = env.logGroup ?? input[0].meta.logGroup;
      let uniform = true;
      if (env.logGroup === undefined)
        for (let i = 1; i < n; i++)
          if (input[i].meta.logGroup !== group) {
            uniform = false;
            break;
          }
      let ents: number[] = identity(n);
      const p: Pending = {
        env,
        source,
        group,
        groups: uniform ? undefined : input.map((r) => r.meta.logGroup),
        count: n,
        labels: componentOf ? input.map(componentOf) : undefined,
        outs: new Array(n),
        reached: new Uint8Array(n),
        remaining: 0,
        thrown: undefined,
        ts0: input[0].timestamp,
        redelivered: (env.redelivered ?? 0) > 0,
        w: env.eventsPerRecord ?? 1,
      };
      if (p.redelivered)
        redelivered.set(source.name, (redelivered.get(source.name) ?? 0) + (env.redelivered as number));
      // Count received per log group; records of one envelope almost always share one group.
      const st = nodeTally(source.name);
      let g = 0;
      for (let i = 1; i <= n; i++) {
        if (i === n || gOf(p, i) !== gOf(p, g)) {
          tally.received(gOf(p, g), (i - g) * p.w);
          st.received(gOf(p, g), (i - g) * p.w);
          g = i;
        }
      }
      if (p.labels) for (const l of p.labels) components.received(l, p.w);

      let recs: LogRecord[] = input;
      for (const t of pre) [recs, ents] = apply(t, undefined, recs, ents, p, false);
      // Tapped after parsing and masking: a tap never shows an unmasked secret.
      if (tap) for (const r of recs) tap(source.name, r);

      const plan = env.tag === undefined ? planFor(source.name) : planForTag(source.name, env.tag);
      const slotR: (LogRecord[] | undefined)[] = new Array(plan.slots);
      const slotE: (number[] | undefined)[] = new Array(plan.slots);
      slotR[0] = recs;
      slotE[0] = ents;
      for (const step of plan.transforms) {
        let inR: LogRecord[] = [];
        let inE: number[] = [];
        let copy = false;
        if (step.inputs.length === 1) {
          inR = slotR[step.inputs[0]] ?? [];
          inE = slotE[step.inputs[0]] ?? [];
          copy = step.copy[0];
        } else {
          // Several inputs: copy those another branch also reads, then apply once over all.
          for (let k = 0; k < step.inputs.length; k++) {
            const rs = slotR[step.inputs[k]] ?? [];
            const es = slotE[step.inputs[k]] ?? [];
            for (let i = 0; i < rs.length; i++) {
              inR.push(step.copy[k] ? copyRecord(rs[i]) : rs[i]);
              inE.push(es[i]);
            }
          }
        }
        [slotR[step.out], slotE[step.out]] = apply(step.transform, step.name, inR, inE, p, copy);
      }

      // One rule for every home: a record whose event time no date can hold is rejected before any
      // sink sees it (it would become `NaN` partition keys, an invalid `@timestamp`, a crash).
      for (const slot of sinkSlotsOf(plan)) rejectBadTimes(p, slotR, slotE, slot);

      // Records a transform threw on: to the dead-letter sink, one by one (never the envelope).
      if (p.thrown) {
        const thrown = p.thrown;
        const outs = await handOffRejected(
          graph.deadLetter,
          thrown.map((x) => x.record),
          thrown.map((x) => ({ kind: 'rejected', code: x.code, reason: x.error }) as Outcome),
          () => 0,
          dlCtx,
        );
        noteDeadLetterFailure(outs);
        for (let k = 0; k < thrown.length; k++)
          p.outs[thrown[k].e] = combineBranch(p.outs[thrown[k].e], outs[k]);
      }
      // Route to sinks.
      const now = Date.now();
      const full: [Lane, Seg[]][] = [];
      for (const s of plan.sinks) {
        const lane = lanes[s.index];
        for (const slot of s.inputs) {
          const rs = slotR[slot];
          const es = slotE[slot]!;
          if (!rs || rs.length === 0) continue;
          for (let i = 0; i < rs.length; i++) p.reached[es[i]] = 1;
          if (tap) for (const r of rs) tap(s.name, r);
          p.remaining += rs.length;
          addToLane(lane, p, rs, es, 0, rs.length, now, full);
        }
      }

      // Entities that reached no sink and have no outcome yet: dropped, no route.
      for (let e = 0; e < p.count; e++)
        if (!p.reached[e] && p.outs[e] === undefined) p.outs[e] = NO_ROUTE_DROP;

      inFlight++;
      inFlightRecords += p.count;
      if (p.remaining === 0) {
        finish(p);
        return;
      }
      for (const [lane, b] of full) flush(lane, b);
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
      for (const lane of lanes) {
        const open = lane.open;
        if (open && open.records > 0 && now - open.since >= lane.sink.limits.maxAgeMs) {
          lane.open = undefined;
          flush(lane, open.segs);
        }
      }
    }, tickMs);
    const progressTimer = ro.onProgress
      ? setInterval(() => ro.onProgress?.(snapshot()), ro.progressIntervalMs ?? 250)
      : undefined;

    const sourceErrors: RunResult['sourceErrors'] = [];
    async function runSource(source: Source): Promise<void> {
      let lastYield = Date.now();
      // A source whose read-ahead is full (it waits for acknowledgements) asks for open batches to go.
      source.requestFlush = () => {
        if (lanes.every(idle)) flushAll();
      };
      try {
        for await (const env of source.envelopes(signal)) {
          // Half-way to the bound, send what is open while reading goes on (overlap, not stop-and-go).
          if ((inFlight >= maxEnvelopes / 2 || inFlightRecords >= maxRecords / 2) && lanes.every(idle))
            flushAll();
          // Backpressure: a sink holding its bound (memory, or a full disk buffer blocking) pauses reading.
          while (inFlight >= maxEnvelopes || inFlightRecords >= maxRecords || lanes.some(laneFull)) {
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
      await Promise.all(sources.map(runSource));
      phase = 'flushing';
      flushAll();
      while (inFlight > 0 || lanes.some((l) => l.flushing.size > 0 || l.queue.length > 0)) {
        await Promise.all(lanes.flatMap((l) => [...l.flushing]));
        if (inFlight > 0 && lanes.every(idle)) flushAll();
        if (lanes.every((l) => l.flushing.size === 0) && inFlight > 0) await waitForProgress();
      }
      await Promise.all([...acks]);
    } finally {
      clearInterval(ageTimer);
      if (progressTimer) clearInterval(progressTimer);
      if (deadlineTimer) clearTimeout(deadlineTimer);
      ro.abortDelivery?.removeEventListener('abort', onAbort);
      await ro.beforeDone?.();
    }
    phase = 'done';
    const final = snapshot();
    ro.onProgress?.(final);
    return { ...final, balanced: tally.balanced(), sourceErrors };
  }

  async function close(): Promise<void> {
    for (const s of graph.sinks) {
      try {
        await s.sink.close?.();
      } catch (e) {
        log?.warn('sink close failed', { sink: s.name, error: describeError(e) });
      }
    }
    await graph.deadLetter
      ?.close?.()
      .catch((e) => log?.warn('dead-letter sink close failed', { error: describeError(e) }));
  }

  return { graph, run, close };
}

/** A source over a fixed list of envelopes (a Lambda event); `outcomes[i]` is envelope i's worst. */
/** The envelopes of one batch, in order, possibly still being decoded: exactly `count` of them. */
export interface EnvelopeStream<E> {
  count: number;
  envelopes: AsyncIterable<E> | Iterable<E>;
}

/**
 * Runs one batch (a Lambda invocation, a telemetry batch, a list of records) to completion: the
 * runner takes each envelope as soon as it is yielded (so decoding the next ones overlaps the work
 * on this one), and every envelope has an outcome when this returns, bounded by `deadline`.
 * `envelopes[i]`/`outcomes[i]`: the i-th envelope and its worst outcome. A stream that yields fewer
 * than `count` envelopes is a bug in its decoder: this throws (the invocation fails and is retried
 * whole) rather than answer for records it never saw.
 */
export async function runEnvelopeStream<E extends SourceEnvelope>(
  runner: Runner,
  source: { type: string; name: string },
  stream: EnvelopeStream<E>,
  ro: RunOptions = {},
): Promise<{ envelopes: E[]; outcomes: Outcome[]; result: RunResult }> {
  const { count } = stream;
  const envelopes: E[] = new Array(count);
  const outcomes: Outcome[] = new Array(count);
  const index = new Map<SourceEnvelope, number>();
  let seen = 0;
  const src: Source = {
    type: source.type,
    name: source.name,
    expected: count,
    async *envelopes() {
      for await (const env of stream.envelopes) {
        if (seen >= count) break;
        envelopes[seen] = env;
        index.set(env, seen++);
        yield env;
      }
    },
    async ack(env, outcome) {
      const i = index.get(env);
      if (i !== undefined) outcomes[i] = outcome;
    },
  };
  const result = await runner.run([src], ro);
  if (seen < count)
    throw new Error(
      `${source.name}: decoded ${seen} of ${count} envelopes${result.sourceErrors[0] ? ` (${result.sourceErrors[0].error})` : ''}`,
    );
  for (let i = 0; i < count; i++) outcomes[i] ??= { kind: 'failed', code: 'INTERNAL', reason: 'no outcome' };
  return { envelopes, outcomes, result };
}

/** `runEnvelopeStream` for a batch already decoded. */
export async function runEnvelopes<E extends SourceEnvelope>(
  runner: Runner,
  source: { type: string; name: string },
  envelopes: readonly E[],
  ro: RunOptions = {},
): Promise<{ outcomes: Outcome[]; result: RunResult }> {
  const { outcomes, result } = await runEnvelopeStream(
    runner,
    source,
    { count: envelopes.length, envelopes },
    ro,
  );
  return { outcomes, result };
}
