/**
 * Parallel archive scan: prunes objects by key (time window, log stream / component), then scans
 * the rest on all cores — one worker_thread per core, one object at a time each, running the
 * query's row stage — and streams the matched rows to the caller (the query's stateful `finish`).
 * Local files are read by the workers themselves; remote objects (S3) are fetched by the main
 * thread, a few ahead, and their bytes transferred. Small scans (or `threads: 0`) run inline.
 *
 * Memory: bounded by (workers × 4 chunks × 1,000 rows) in flight plus prefetched remote objects;
 * the caller's `finish` decides the rest (constant for non-aggregating queries with a limit).
 * An object that fails to read is counted and reported, and the scan goes on; a damaged gzip object
 * keeps the lines before the damage and is reported with what was lost (`ScanProgress.damaged`), and
 * lines over the length cap are counted (`linesTooLong`). `incompleteReasons()` sums it all up so the
 * CLI can say what was skipped and exit non-zero.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type WorkerEntry, workerEntry } from '../../core/worker-entry.js';
import type { CompiledQuery, Row } from '../types.js';
import { AsyncQueue } from './async-queue.js';
import type { ObjectInfo } from './partition-path.js';
import { lineRequirement, mayMatch } from './prune.js';
import { DEFAULT_MAX_LINE_BYTES, type ObjectScanStats, projectionFor, scanObject } from './scan-object.js';
import type { WorkerInit, WorkerMessage, WorkerTask } from './scan-worker.js';
import type { TimeRange } from './time-range.js';

/** Below this many bytes in total a scan runs inline: starting workers would cost more. */
export const INLINE_SCAN_MAX_BYTES = 8 * 1024 * 1024;
/** Remote objects fetched ahead of the workers. */
const PREFETCH = 2;

export interface ScanTarget {
  info: ObjectInfo;
  size?: number;
  /** Local file path (workers open it). */
  path?: string;
  /** Remote object: fetches all its bytes (to hand to a worker). */
  fetch?: (signal?: AbortSignal) => Promise<Uint8Array>;
  /** Remote object as a byte stream (inline scans: constant memory whatever the object's size). */
  stream?: (signal?: AbortSignal) => Promise<AsyncIterable<Uint8Array>>;
}

export interface ScanProgress {
  objectsListed: number;
  objectsPruned: number;
  objectsDone: number;
  objectsFailed: number;
  /** First few failures, `key: reason`. */
  failures: string[];
  /** Objects read only in part (damaged gzip): the lines before the damage were kept. */
  objectsDamaged: number;
  /** First few damaged objects, `key: what was lost`. */
  damaged: string[];
  /** Bytes known lost in damaged objects. */
  bytesLost: number;
  /** Lines longer than the line cap, skipped, and their bytes. */
  linesTooLong: number;
  bytesTooLong: number;
  /** The line cap in force, bytes. */
  maxLineBytes: number;
  bytesIn: number;
  bytesText: number;
  recordsScanned: number;
  recordsMatched: number;
  /** Worker threads the scan used (0: inline). */
  threads: number;
  startedAt: number;
}

export interface ScanOptions {
  compiled: CompiledQuery;
  queryText: string;
  now: number;
  range: TimeRange;
  /** Worker threads; default: all cores. 0 runs inline. */
  threads?: number;
  /** Give every row `@ptr` even when the query does not read it (the console opens events by it). */
  pointers?: boolean;
  /** Key-time slack for pruning, ms (default 1 h); negative disables time pruning by key. */
  pruneSlackMs?: number;
  /** Scans smaller than this many bytes run inline (default INLINE_SCAN_MAX_BYTES). */
  inlineMaxBytes?: number;
  /** Longest line read (bytes); longer lines are skipped and counted. Default DEFAULT_MAX_LINE_BYTES. */
  maxLineBytes?: number;
  signal?: AbortSignal;
}

export const DEFAULT_PRUNE_SLACK_MS = 3_600_000;

/** Rows carry `@ptr` (`<key>:<line>`) only when the query reads it: numbering lines costs the grep path. */
export function wantsPointers(referenced: Set<string> | '*'): boolean {
  return referenced === '*' || referenced.has('@ptr');
}

/**
 * Sentences saying what a finished scan did not read: unreadable objects, damaged objects and
 * over-long lines. Empty when the answer covers every byte listed.
 */
export function incompleteReasons(p: ScanProgress): string[] {
  const out: string[] = [];
  if (p.objectsFailed)
    out.push(
      `${p.objectsFailed} object(s) could not be read and were skipped: ${p.failures.join('; ')}${p.objectsFailed > p.failures.length ? '; …' : ''}`,
    );
  if (p.objectsDamaged)
    out.push(
      `${p.objectsDamaged} damaged object(s) were read up to the damage (${p.bytesLost} bytes known lost): ${p.damaged.join('; ')}${p.objectsDamaged > p.damaged.length ? '; …' : ''}`,
    );
  if (p.linesTooLong)
    out.push(
      `${p.linesTooLong} line(s) longer than ${p.maxLineBytes} bytes were skipped (${p.bytesTooLong} bytes); --max-line-bytes raises the cap`,
    );
  return out;
}

export function newProgress(): ScanProgress {
  return {
    objectsListed: 0,
    objectsPruned: 0,
    objectsDone: 0,
    objectsFailed: 0,
    failures: [],
    objectsDamaged: 0,
    damaged: [],
    bytesLost: 0,
    linesTooLong: 0,
    bytesTooLong: 0,
    maxLineBytes: DEFAULT_MAX_LINE_BYTES,
    bytesIn: 0,
    bytesText: 0,
    recordsScanned: 0,
    recordsMatched: 0,
    threads: 0,
    startedAt: Date.now(),
  };
}

/**
 * The worker script: the bundled `dist/cli/query-worker.mjs` beside the CLI bundle, or — running
 * from source (tests, tsx) — `scan-worker.ts` loaded through tsx's loader in the worker.
 */
const scanWorkerEntry = (): WorkerEntry | undefined =>
  workerEntry(import.meta.url, './scan-worker.ts', ['./query-worker.mjs']);

export class ArchiveScan {
  readonly progress: ScanProgress = newProgress();
  /** Matched events per minute (epoch ms of the minute → count). */
  readonly histogram = new Map<number, number>();
  private readonly targets: ScanTarget[];
  private readonly workers: Worker[] = [];
  private stopped = false;

  constructor(
    targets: ScanTarget[],
    private readonly opts: ScanOptions,
  ) {
    const slack = opts.pruneSlackMs ?? DEFAULT_PRUNE_SLACK_MS;
    this.progress.objectsListed = targets.length;
    if (opts.maxLineBytes !== undefined) this.progress.maxLineBytes = opts.maxLineBytes;
    this.targets = targets.filter((t) => mayMatch(t.info, opts.compiled.pushdownFilters, opts.range, slack));
    this.progress.objectsPruned = targets.length - this.targets.length;
    for (const t of this.targets) if (t.info.fields) for (const k in t.info.fields) this.keyFields.add(k);
  }

  /** Partition field names the scanned keys provide (kept out of the line pre-check). */
  private readonly keyFields = new Set<string>();

  private fail(info: ObjectInfo, message: string): void {
    this.progress.objectsFailed++;
    if (this.progress.failures.length < 5) this.progress.failures.push(`${info.key}: ${message}`);
  }

  private addStats(info: ObjectInfo, s: ObjectScanStats): void {
    const p = this.progress;
    p.bytesIn += s.bytesIn;
    p.bytesText += s.bytesText;
    p.recordsScanned += s.recordsScanned;
    p.recordsMatched += s.recordsMatched;
    p.linesTooLong += s.linesTooLong;
    p.bytesTooLong += s.bytesTooLong;
    if (s.damage) {
      p.objectsDamaged++;
      p.bytesLost += s.damage.bytesLost;
      if (p.damaged.length < 5) p.damaged.push(`${info.key}: ${s.damage.message}`);
    }
  }

  /** Matched rows (after the row stage), in no particular order. */
  async *rows(): AsyncGenerator<Row> {
    const totalBytes = this.targets.reduce((n, t) => n + (t.size ?? Number.POSITIVE_INFINITY), 0);
    let threads = this.opts.threads ?? availableParallelism();
    threads = Math.min(threads, this.targets.length);
    const entry =
      threads > 0 && totalBytes >= (this.opts.inlineMaxBytes ?? INLINE_SCAN_MAX_BYTES)
        ? scanWorkerEntry()
        : undefined;
    const queue = new AsyncQueue<Row[]>(threads > 0 ? threads * 4 : 4);
    this.progress.threads = entry ? threads : 0;
    const done = entry ? this.runWorkers(queue, threads, entry) : this.runInline(queue);
    done.then(
      () => queue.close(),
      (e) => queue.close(e),
    );
    let finished = false;
    try {
      for await (const chunk of queue) yield* chunk;
      await done;
      finished = true;
    } finally {
      if (!finished) {
        // The consumer stopped early or the scan failed: stop the workers, drop what is in flight.
        this.stopped = true;
        queue.close();
        await Promise.all(this.workers.map((w) => w.terminate()));
        await done.catch(() => {});
      }
    }
  }

  private async runInline(queue: AsyncQueue<Row[]>): Promise<void> {
    const { compiled, range, signal } = this.opts;
    const requirement = lineRequirement(compiled.pushdownFilters, this.keyFields);
    for (const t of this.targets) {
      signal?.throwIfAborted();
      if (this.stopped) return;
      try {
        const source: AsyncIterable<Buffer | Uint8Array> = t.path
          ? (await import('node:fs')).createReadStream(t.path, { highWaterMark: 1 << 20 })
          : t.stream
            ? await t.stream(signal)
            : (async function* () {
                if (t.fetch) yield await t.fetch(signal);
              })();
        const stats = await scanObject(source, {
          info: t.info,
          range,
          requirement,
          rowStage: (r) => compiled.rowStage(r),
          histogram: this.histogram,
          maxLineBytes: this.progress.maxLineBytes,
          sizeBytes: t.size,
          pointers: this.opts.pointers === true || wantsPointers(compiled.referencedFields),
          emit: (rows) => queue.push(rows),
        });
        this.addStats(t.info, stats);
      } catch (e) {
        if (signal?.aborted) throw e;
        this.fail(t.info, (e as Error)?.message ?? String(e));
      }
      this.progress.objectsDone++;
    }
  }

  private async runWorkers(queue: AsyncQueue<Row[]>, threads: number, entry: WorkerEntry): Promise<void> {
    const { compiled, range, signal } = this.opts;
    const keep = projectionFor(compiled.referencedFields);
    const init: WorkerInit = {
      queryText: this.opts.queryText,
      now: this.opts.now,
      range,
      requirement: lineRequirement(compiled.pushdownFilters, this.keyFields),
      keep: keep ? [...keep.names] : undefined,
      maxLineBytes: this.progress.maxLineBytes,
      pointers: this.opts.pointers === true || wantsPointers(compiled.referencedFields),
    };
    const targets = this.targets;
    let next = 0;
    // Remote prefetch: a sliding window of fetches started ahead of the workers.
    const fetched = new Map<number, Promise<Uint8Array>>();
    const prefetch = () => {
      for (let i = next; i < Math.min(targets.length, next + threads + PREFETCH); i++) {
        const t = targets[i];
        if (!t.path && t.fetch && !fetched.has(i)) {
          const p = t.fetch(signal);
          p.catch(() => {});
          fetched.set(i, p);
        }
      }
    };
    const workers = this.workers;
    try {
      await Promise.all(
        Array.from({ length: threads }, async () => {
          const w =
            'url' in entry
              ? new Worker(entry.url, { workerData: init })
              : new Worker(entry.code, { eval: true, workerData: init });
          workers.push(w);
          let current: { resolve: () => void; reject: (e: unknown) => void; info: ObjectInfo } | undefined;
          let workerError: unknown;
          w.on('message', (m: WorkerMessage) => {
            if (m.type === 'rows') {
              queue.push(m.rows).then(() => w.postMessage({ type: 'ack' }));
            } else if (m.type === 'done') {
              if (current) this.addStats(current.info, m.stats);
              for (const [k, v] of m.histogram) this.histogram.set(k, (this.histogram.get(k) ?? 0) + v);
              current?.resolve();
            } else if (m.type === 'failed') {
              if (current) this.fail(current.info, m.message);
              current?.resolve();
            }
          });
          w.on('error', (e) => {
            workerError = e;
            current?.reject(e);
          });
          w.on('exit', (code) => {
            if (code !== 0 && current)
              current.reject(workerError ?? new Error(`scan worker exited with code ${code}`));
          });
          for (;;) {
            signal?.throwIfAborted();
            if (workerError) throw workerError;
            if (this.stopped) break;
            const i = next++;
            if (i >= targets.length) break;
            prefetch();
            const t = targets[i];
            const task: WorkerTask = { type: 'task', id: i, info: t.info, size: t.size };
            const transfer: ArrayBuffer[] = [];
            if (t.path) task.path = t.path;
            else {
              try {
                const bytes = await (fetched.get(i) ??
                  (t.fetch ? t.fetch(signal) : Promise.resolve(new Uint8Array())));
                fetched.delete(i);
                task.bytes = bytes;
                if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength)
                  transfer.push(bytes.buffer as ArrayBuffer);
              } catch (e) {
                fetched.delete(i);
                if (signal?.aborted) throw e;
                this.fail(t.info, (e as Error)?.message ?? String(e));
                this.progress.objectsDone++;
                continue;
              }
            }
            await new Promise<void>((resolve, reject) => {
              current = { resolve, reject, info: t.info };
              w.postMessage(task, transfer);
            });
            current = undefined;
            this.progress.objectsDone++;
          }
        }),
      );
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
}
