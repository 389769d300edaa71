/**
 * Plumbing shared by the scenario benches, so each bench file keeps only what it measures: the
 * pre-generated inputs several scenarios replay (demo payloads; Kinesis Lambda events built from
 * bench/data.ts), a source that replays pre-decoded demo payloads, a silent logger, the median,
 * peak RSS, running a bench file's child phase in its own Node process (so its peak RSS is its own),
 * and writing bench/results/<scenario>.json. Lives in a subdirectory so scripts/bench.mjs does not
 * take it for a scenario.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Logger } from '../../src/core/component.js';
import type { Source, SourceEnvelope } from '../../src/core/source.js';
import type { KinesisEvent } from '../../src/sources/kinesis-event.js';
import { type DemoPayload, DemoGenerator, DemoSource } from '../../src/sources/demo.js';
import { ALL_KINDS, cwPayload, events, rng, streamFor } from '../data.js';

/** bench/results/: one `<scenario>.json` per bench. */
export const RESULTS_DIR = new URL('../results/', import.meta.url).pathname;

/** Writes `doc` as bench/results/<scenario>.json (pretty JSON, trailing newline). */
export function writeResults(scenario: string, doc: unknown): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${scenario}.json`), `${JSON.stringify(doc, null, 2)}\n`);
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The middle value (upper middle for an even count). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** This process's peak resident set size so far, in MiB (unrounded). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * CPU seconds (user + system) the main JS thread has used so far, from
 * /proc/self/task/<pid>/stat (Linux; 10 ms ticks), or undefined elsewhere. Unlike the event loop's
 * active time it does not grow while the thread waits for a core, so it stays meaningful on a
 * loaded machine; with process CPU it splits the work between the main thread and the rest (libuv
 * pool, GC helpers).
 */
export function mainThreadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at state: utime is the 12th, stime the 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
/** USER_HZ: Linux reports thread times in 1/100 s on every common architecture. */
const CLOCK_TICKS = 100;

/**
 * Busy time of the main thread and of the process over a stretch of work: event-loop active time
 * (`performance.eventLoopUtilization()`, what the lead re-runs on a quiet host), main-thread CPU
 * (/proc, steady under load) and process CPU. On an idle 2-core host the wall time of the stretch
 * is about max(main-thread busy, process CPU / 2): the projection the benches report.
 */
export class BusyMeter {
  activeSeconds = 0;
  mainCpuSeconds = 0;
  cpuSeconds = 0;
  private e0 = performance.eventLoopUtilization();
  private m0 = mainThreadCpuSeconds() ?? 0;
  private c0 = process.cpuUsage();

  start(): void {
    this.e0 = performance.eventLoopUtilization();
    this.m0 = mainThreadCpuSeconds() ?? 0;
    this.c0 = process.cpuUsage();
  }

  /** Adds the time since `start` to the totals. */
  stop(): void {
    const c = process.cpuUsage(this.c0);
    this.activeSeconds += performance.eventLoopUtilization(this.e0).active / 1000;
    this.mainCpuSeconds += (mainThreadCpuSeconds() ?? 0) - this.m0;
    this.cpuSeconds += (c.user + c.system) / 1e6;
  }

  /** Projected idle-2-core wall seconds: max(main-thread CPU, process CPU / 2). */
  get projectedSeconds(): number {
    return Math.max(this.mainCpuSeconds, this.cpuSeconds / 2);
  }
}

/**
 * Runs `script` (a bench file, through tsx) in a child Node process with `args` and returns its
 * stdout; throws with its stderr if it exits non-zero.
 */
export function runTsxChild(
  script: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; label?: string } = {},
): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    encoding: 'utf8',
    env: opts.env ?? process.env,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${opts.label ?? args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** The JSON value on the last line of a child's stdout. */
export function lastJsonLine<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as T;
}

/**
 * `envelopes` demo payloads (DemoGenerator, no control messages) on a fixed clock, the same bytes
 * for the same seed in every process.
 */
export function demoPayloads(opts: {
  seed: number;
  eventsPerEnvelope: number;
  envelopes: number;
}): DemoPayload[] {
  const g = new DemoGenerator({
    seed: opts.seed,
    eventsPerEnvelope: opts.eventsPerEnvelope,
    now: Date.UTC(2026, 10, 22, 12),
    totalEnvelopes: opts.envelopes,
    controlEvery: 0,
  });
  return Array.from({ length: opts.envelopes }, () => g.next());
}

/** A daemon source replaying pre-generated demo payloads through the demo source's decode path. */
export function replaySource(payloads: readonly DemoPayload[], seed: number): Source {
  const demo = new DemoSource({ seed });
  return {
    type: 'bench',
    name: 'bench',
    expected: payloads.length,
    async *envelopes(): AsyncIterable<SourceEnvelope> {
      for (const p of payloads) yield demo.decode(p);
    },
    ack: async () => {},
  };
}

export interface KinesisBenchInput {
  events: KinesisEvent[];
  /** gzip payload bytes (what Kinesis carries before base64). */
  inBytes: number;
  /** Decompressed JSON bytes. */
  decodedBytes: number;
  /** Log events in all payloads. */
  total: number;
}

/**
 * Kinesis Lambda events as AWS delivers them for a CloudWatch Logs subscription: `invocations`
 * events of `records` Kinesis records of `eventsPerRecord` log events each, stream kinds in turn
 * (bench/data.ts, seed `seed`), timestamps rising, sequence numbers increasing on one shard.
 */
export function kinesisEvents(opts: {
  seed: number;
  invocations: number;
  records: number;
  eventsPerRecord: number;
}): KinesisBenchInput {
  const r = rng(opts.seed);
  const out: KinesisEvent[] = [];
  let seq = 49_600_000_000_000_000_000_000_000_000_000_000_000_000_000n;
  let start = Date.UTC(2026, 10, 22, 0, 0, 0);
  let inBytes = 0;
  let decodedBytes = 0;
  let total = 0;
  for (let i = 0; i < opts.invocations; i++) {
    const Records: NonNullable<KinesisEvent['Records']> = [];
    for (let k = 0; k < opts.records; k++) {
      const kind = ALL_KINDS[(i * opts.records + k) % ALL_KINDS.length];
      const stream = streamFor(kind, r);
      const evs = events(kind, opts.eventsPerRecord, r, start);
      start = evs[evs.length - 1].timestamp;
      const gz = cwPayload(stream, evs);
      inBytes += gz.length;
      decodedBytes += gunzipSync(gz).length;
      total += evs.length;
      seq += 1n;
      Records.push({
        eventID: `shardId-000000000000:${seq}`,
        eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/logs',
        kinesis: {
          sequenceNumber: String(seq),
          partitionKey: stream.logStream,
          data: gz.toString('base64'),
          approximateArrivalTimestamp: start / 1000,
        },
      });
    }
    out.push({ Records });
  }
  return { events: out, inBytes, decodedBytes, total };
}
