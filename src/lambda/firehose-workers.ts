/**
 * The Firehose transformation on worker threads (docs/firehose.md, "Worker threads"). A big
 * invocation is cut into contiguous slices of records; each worker runs its slices through the one
 * runner of its own FirehoseTransformer, built from the same validated config
 * (src/lambda/firehose-worker.ts → `transformParts`), and returns each record's answer without
 * fitting it into a budget. The main thread answers slices too, with its own transformer, while the
 * workers work (each worker holds a slice in hand beside the one it runs, so it never waits for the
 * busy main thread to hand it the next); `auto` so starts one worker less than there are CPUs.
 * The main thread merges the answers in record order and applies what is
 * global to the invocation: the response budget (same order and arithmetic as the single-threaded
 * answer sink), the summary line and its metrics; the deadline travels with each slice.
 *
 * Only configs whose one output is the answer use workers (no configured sinks or dead-letter
 * sink: those would deliver from several threads). An invocation whose answers do not all fit the
 * budget is answered again by the main thread's transformer, which re-ingests what does not fit —
 * nothing has left the process yet, so doing it twice is safe; it costs the workers' work.
 *
 * A worker that crashes (uncaught error, out of memory, exit) fails the invocation — it throws, so
 * Firehose retries the whole batch and no record is lost — and the pool is rebuilt on the next
 * big invocation. Workers start on the first big invocation, which the main thread answers while
 * they start (`firehose workers started` logs `startMs`); the next big ones go to them.
 */
import { availableParallelism } from 'node:os';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/component.js';
import { Tally } from '../core/outcome.js';
import type { Deadline } from '../core/retry.js';
import { type WorkerEntry, workerEntry } from '../core/worker-entry.js';
import type {
  FirehoseInputRecord,
  FirehoseOutputRecord,
  FirehoseParts,
  FirehoseTransformationEvent,
  FirehoseTransformationResponse,
  FirehoseTransformer,
  InvocationSummary,
  RecordFailure,
} from '../sources/firehose.js';

/**
 * Invocations with less base64 input than this stay on the main thread: posting a slice and its
 * answers costs more than it saves (bench/firehose-transform.ts, `raw-workers`).
 */
export const FIREHOSE_WORKERS_MIN_BYTES = 64 * 1024;
/** Slices per thread (workers and the main thread): a few, so one that finishes early takes another. */
const SLICES_PER_WORKER = 3;
/** Slices a worker holds at once (the one it runs and the next). */
const WORKER_SLICES_IN_HAND = 2;

/** Worker threads for a config: `count` 0 means off, with `why`. */
export function firehoseWorkerThreads(
  cfg: Config,
  cpus = availableParallelism(),
): { count: number; why?: string } {
  const w = cfg.firehose.workers ?? 'off';
  if (w === 'off') return { count: 0, why: 'firehose.workers is off' };
  if (cfg.sinks.length > 0 || cfg.deadLetter)
    return { count: 0, why: 'configured sinks or dead-letter sink: the answer is not the only output' };
  // The main thread answers slices too: one worker per further CPU.
  if (w === 'auto') return cpus >= 2 ? { count: cpus - 1 } : { count: 0, why: 'one CPU' };
  return { count: w };
}

/** The worker script of this module (bundled: beside the Lambda entry; from source: through tsx). */
export function firehoseWorkerEntry(): WorkerEntry | undefined {
  return workerEntry(import.meta.url, './firehose-worker.ts', [
    './firehose-worker.mjs',
    '../firehose-worker.mjs',
  ]);
}

export interface FirehoseWorkerPoolOptions {
  threads: number;
  /** The validated config each worker builds its transformer from. */
  config: Config;
  log: Logger;
  /** Base64 input bytes from which an invocation goes to the workers. */
  minBytes?: number;
  /** Tests: limits that make a worker run out of memory. */
  resourceLimits?: ResourceLimits;
  entry?: WorkerEntry;
}

/** Main → worker: one slice of an invocation. */
export interface SliceTask {
  id: number;
  event: Omit<FirehoseTransformationEvent, 'records'> & { records: FirehoseInputRecord[] };
  remainingMs: number;
}

/** Worker → main. */
export type WorkerReply =
  | { ready: true }
  | { ready: false; error: string }
  | { id: number; parts: FirehoseParts }
  | { id: number; error: string };

interface Thread {
  worker: Worker;
  tasks: Map<number, { resolve: (p: FirehoseParts) => void; reject: (e: Error) => void }>;
}

/** A set of started workers; broken (and terminated) as a whole when one crashes. */
class Threads {
  readonly threads: Thread[] = [];
  broken?: Error;
  started = false;
  readonly ready: Promise<void>;
  private nextId = 1;

  constructor(n: number, entry: WorkerEntry, config: Config, resourceLimits?: ResourceLimits) {
    const starts: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const opts = { workerData: { config }, resourceLimits };
      const worker =
        'url' in entry ? new Worker(entry.url, opts) : new Worker(entry.code, { ...opts, eval: true });
      const t: Thread = { worker, tasks: new Map() };
      this.threads.push(t);
      starts.push(
        new Promise<void>((resolve, reject) => {
          const onReply = (m: WorkerReply) => {
            if ('ready' in m) {
              if (m.ready) resolve();
              else this.break(new Error(`firehose worker could not start: ${m.error}`));
              return;
            }
            const task = t.tasks.get(m.id);
            if (!task) return;
            t.tasks.delete(m.id);
            if ('parts' in m) task.resolve(m.parts);
            else task.reject(new Error(`firehose worker failed on a slice: ${m.error}`));
          };
          worker.on('message', onReply);
          worker.on('error', (e) => this.break(new Error(`firehose worker crashed: ${e.message}`)));
          worker.on('exit', (code) => this.break(new Error(`firehose worker exited (code ${code})`)));
          // A start that fails rejects through `break`.
          this.onBreak.push(reject);
        }),
      );
    }
    this.ready = Promise.all(starts).then(() => {
      this.started = true;
    });
    this.ready.catch(() => {});
  }

  private onBreak: ((e: Error) => void)[] = [];

  /** Fails every pending slice and start, and stops every worker. */
  break(e: Error): void {
    if (this.broken) return;
    this.broken = e;
    for (const r of this.onBreak) r(e);
    for (const t of this.threads) {
      for (const task of t.tasks.values()) task.reject(e);
      t.tasks.clear();
      void t.worker.terminate();
    }
  }

  /** Workers keep the process alive only while an invocation uses them. */
  ref(on: boolean): void {
    for (const t of this.threads) on ? t.worker.ref() : t.worker.unref();
  }

  run(t: Thread, slice: Omit<SliceTask, 'id'>): Promise<FirehoseParts> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise<FirehoseParts>((resolve, reject) => {
      t.tasks.set(id, { resolve, reject });
      t.worker.postMessage({ id, ...slice } satisfies SliceTask);
    });
  }
}

/** `FirehoseTransformer.transform` on worker threads for big invocations; see the module comment. */
export class FirehoseWorkerPool {
  private threads?: Threads;
  private starting?: Promise<unknown>;
  /** Milliseconds the last pool took from spawn to every worker ready; pools built so far. */
  readonly stats = { startMs: 0, pools: 0, invocations: 0, fallbacks: 0 };

  constructor(
    readonly transformer: FirehoseTransformer,
    private readonly opts: FirehoseWorkerPoolOptions,
  ) {}

  get workerCount(): number {
    return this.opts.threads;
  }

  /** The running workers (tests: a crash is a worker that exits mid-invocation). */
  workers(): Worker[] {
    return this.threads?.threads.map((t) => t.worker) ?? [];
  }

  /** Starts the workers (if not running) and waits until each built its transformer. */
  async start(): Promise<Threads> {
    if (this.threads && !this.threads.broken) {
      await this.threads.ready;
      return this.threads;
    }
    const entry = this.opts.entry ?? firehoseWorkerEntry();
    if (!entry)
      throw new Error('firehose worker script not found (dist/lambda/firehose/firehose-worker.mjs)');
    const started = performance.now();
    const threads = new Threads(this.opts.threads, entry, this.opts.config, this.opts.resourceLimits);
    this.threads = threads;
    this.stats.pools++;
    await threads.ready;
    this.stats.startMs = Math.round(performance.now() - started);
    threads.ref(false);
    this.opts.log.info('firehose workers started', {
      threads: this.opts.threads,
      startMs: this.stats.startMs,
    });
    return threads;
  }

  /** Stops the workers (tests, tools). */
  async close(): Promise<void> {
    const t = this.threads;
    this.threads = undefined;
    if (t) await Promise.all(t.threads.map((x) => x.worker.terminate()));
  }

  async transform(
    event: FirehoseTransformationEvent,
    deadline: Deadline,
  ): Promise<{ response: FirehoseTransformationResponse; summary: InvocationSummary }> {
    const input = Array.isArray(event?.records) ? event.records : [];
    let bytes = 0;
    for (let i = 0; i < input.length; i++) {
      const d = input[i]?.data;
      if (typeof d === 'string') bytes += d.length;
    }
    if (input.length < 2 || bytes < (this.opts.minBytes ?? FIREHOSE_WORKERS_MIN_BYTES))
      return this.transformer.transform(event, deadline);
    const threads = this.threads;
    if (!threads || threads.broken || !threads.started) {
      // Workers start beside this invocation, which the main thread answers: starting them takes
      // 0.5–0.9 s on a loaded 2-core host (docs/firehose.md), longer than most invocations.
      if (!this.starting)
        this.starting = this.start()
          .catch((e) => this.opts.log.warn('firehose workers did not start', { error: String(e) }))
          .finally(() => {
            this.starting = undefined;
          });
      return this.transformer.transform(event, deadline);
    }
    const started = Date.now();
    this.stats.invocations++;
    threads.ref(true);
    let parts: FirehoseParts[];
    try {
      parts = await runSlices(threads, this.transformer, event, input, bytes, deadline);
    } catch (e) {
      // The invocation fails whole (Firehose retries it); the next big one starts a new pool.
      threads.break(e instanceof Error ? e : new Error(String(e)));
      if (this.threads === threads) this.threads = undefined;
      throw e;
    } finally {
      threads.ref(false);
    }
    const merged = mergeParts(parts, input.length, this.transformer.budgetBytes());
    if (!merged) {
      // Over budget: the main thread answers it, re-ingesting what does not fit.
      this.stats.fallbacks++;
      return this.transformer.transform(event, deadline);
    }
    this.transformer.logMerged(event, merged.summary, merged.failures, merged.result, Date.now() - started, {
      workers: threads.threads.length,
    });
    return { response: { records: merged.records }, summary: merged.summary };
  }
}

/**
 * Cuts the records into contiguous slices of similar base64 size and runs them on free workers and
 * on the main thread (`main`), in slice order as each becomes free.
 */
async function runSlices(
  threads: Threads,
  main: FirehoseTransformer,
  event: FirehoseTransformationEvent,
  input: FirehoseInputRecord[],
  bytes: number,
  deadline: Deadline,
): Promise<FirehoseParts[]> {
  const header = {
    invocationId: event.invocationId,
    deliveryStreamArn: event.deliveryStreamArn,
    region: event.region,
    sourceKinesisStreamArn: event.sourceKinesisStreamArn,
  };
  const wanted = Math.min(input.length, (threads.threads.length + 1) * SLICES_PER_WORKER);
  const per = bytes / wanted;
  const bounds: number[] = [0];
  let acc = 0;
  for (let i = 0; i < input.length; i++) {
    const d = input[i]?.data;
    acc += typeof d === 'string' ? d.length : 0;
    if (acc >= per * bounds.length && i + 1 < input.length && bounds.length < wanted) bounds.push(i + 1);
  }
  bounds.push(input.length);
  const parts: FirehoseParts[] = new Array(bounds.length - 1);
  const slice = (k: number) => ({ ...header, records: input.slice(bounds[k], bounds[k + 1]) });
  let next = 0;
  const loop = async (t: Thread) => {
    while (next < parts.length) {
      const k = next++;
      parts[k] = await threads.run(t, { event: slice(k), remainingMs: deadline.remainingMs() });
    }
  };
  // A slice for each worker, one for the main thread, then each worker's next in hand (lanes take
  // their first slice in the order they start: a 2-record invocation is one record each).
  const lanes: Promise<void>[] = threads.threads.map(loop);
  lanes.push(
    (async () => {
      while (next < parts.length) {
        const k = next++;
        parts[k] = await main.transformParts(slice(k), deadline);
      }
    })(),
  );
  for (const t of threads.threads) for (let j = 1; j < WORKER_SLICES_IN_HAND; j++) lanes.push(loop(t));
  await Promise.all(lanes);
  return parts;
}

/**
 * The slices' answers as one invocation's, budgeted as the single-threaded answer sink does it
 * (`{"records":[…]}` framing, every record first at its failure cost, then `Ok` records by
 * generation, oldest first, then record order). Undefined when one does not fit.
 */
function mergeParts(
  parts: readonly FirehoseParts[],
  count: number,
  budget: number,
):
  | {
      records: FirehoseOutputRecord[];
      failures: RecordFailure[];
      summary: InvocationSummary;
      result: MergedResult;
    }
  | undefined {
  const records: FirehoseOutputRecord[] = new Array(count);
  const okCost = new Float64Array(count);
  const smallCost = new Float64Array(count);
  const generation = new Int32Array(count);
  const failures: RecordFailure[] = [];
  const tally = new Tally();
  let bytesIn = 0;
  let retries = 0;
  let at = 0;
  for (const p of parts) {
    okCost.set(p.okCost, at);
    smallCost.set(p.smallCost, at);
    generation.set(p.generation, at);
    for (let i = 0; i < p.records.length; i++) records[at + i] = p.records[i];
    at += p.records.length;
    for (const f of p.failures) failures.push(f);
    tally.merge(tallyOf(p.tally));
    bytesIn += p.bytesIn;
    retries += p.retries;
  }
  if (at !== count) throw new Error(`firehose workers answered ${at} of ${count} records`);
  let used = 14;
  const candidates: number[] = [];
  let ok = 0;
  let dropped = 0;
  for (let i = 0; i < count; i++) {
    used += smallCost[i];
    const r = records[i].result;
    if (r === 'Ok') {
      candidates.push(i);
      ok++;
    } else if (r === 'Dropped') dropped++;
  }
  candidates.sort((a, b) => generation[b] - generation[a] || a - b);
  for (const i of candidates) {
    used += okCost[i] - smallCost[i];
    if (used > budget) return undefined;
  }
  const summary: InvocationSummary = {
    records: count,
    ok,
    dropped,
    failed: count - ok - dropped,
    reingestedRecords: 0,
    reingestedPayloads: 0,
    splitRecords: 0,
    responseBytes: used,
    budgetBytes: budget,
    tally,
  };
  return {
    records,
    failures,
    summary,
    result: { tally, bytesIn, sinks: [{ retries } as MergedResult['sinks'][number]] },
  };
}

type MergedResult = Parameters<FirehoseTransformer['logMerged']>[3];

function tallyOf(p: FirehoseParts['tally']): Tally {
  const t = new Tally();
  Object.assign(t.total, p.total);
  for (const [g, c] of p.byGroup) t.byGroup.set(g, c);
  for (const [r, n] of p.byReason) t.byReason.set(r, n);
  for (const [r, e] of p.failureExamples) t.failureExamples.set(r, e);
  return t;
}
