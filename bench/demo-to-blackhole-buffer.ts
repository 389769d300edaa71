/**
 * Scenario `demo-to-blackhole-buffer`: what a sink's buffer costs on the daemon path. The same
 * pre-generated CloudWatch payloads (DemoGenerator, fixed seed) go through `runDaemon` into a
 * blackhole sink (JSON-encoding every record), with:
 *
 *   unbounded     no per-sink bound (the runner's global bounds only: the behaviour before buffers)
 *   memory        the default per-sink memory bound (100,000 records / 64 MiB, backpressure)
 *   disk          a disk buffer (write-ahead segments, fdatasync per batch, drained to the sink)
 *
 * Each variant runs in its own Node process (its own peak RSS), three times; the median is reported
 * with its ratio to `unbounded` in the same run.
 *
 *   node --import tsx bench/demo-to-blackhole-buffer.ts
 *   BENCH_ENVELOPES=2000 BENCH_EVENTS_PER_ENVELOPE=50 BENCH_SEED=7 BENCH_RUNS=3
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BufferConfig } from '../src/core/buffer/config.js';
import { runDaemon } from '../src/core/daemon.js';
import { BlackholeSink, blackholeSinkConfig } from '../src/sinks/blackhole.js';
import {
  demoPayloads,
  lastJsonLine,
  median,
  peakRssMb,
  replaySource,
  runTsxChild,
  writeResults,
} from './lib/harness.js';

const env = process.env;
const ENVELOPES = Number(env.BENCH_ENVELOPES ?? 2000);
const PER = Number(env.BENCH_EVENTS_PER_ENVELOPE ?? 50);
const SEED = Number(env.BENCH_SEED ?? 7);
const RUNS = Number(env.BENCH_RUNS ?? 3);
const ALL = ['unbounded', 'memory', 'disk'] as const;
type Variant = (typeof ALL)[number];
/** BENCH_VARIANTS=unbounded,memory runs a subset (the first is the baseline). */
const VARIANTS: readonly Variant[] = env.BENCH_VARIANTS
  ? (env.BENCH_VARIANTS.split(',') as Variant[]).filter((v) => ALL.includes(v))
  : ALL;

interface Result {
  variant: Variant;
  seconds: number;
  records: number;
  decodedMB: number;
  maxRssMB: number;
  bufferMB?: number;
}

const BUFFERS: Record<Variant, BufferConfig | undefined> = {
  unbounded: { type: 'memory', maxRecords: Number.POSITIVE_INFINITY, maxBytes: Number.POSITIVE_INFINITY },
  memory: undefined,
  disk: { type: 'disk', maxBytes: 1024 ** 3, whenFull: 'block' },
};

async function child(variant: Variant): Promise<void> {
  const data = demoPayloads({ seed: SEED, eventsPerEnvelope: PER, envelopes: ENVELOPES });
  const decodedBytes = data.reduce((n, p) => n + gunzipSync(p.gzip).length, 0);
  const dataDir = mkdtempSync(join(tmpdir(), 'lf-bench-buffer-'));
  const sink = new BlackholeSink(
    blackholeSinkConfig.parse({ type: 'blackhole', encode: 'json', maxAgeMs: 200 }),
  );
  const t0 = process.hrtime.bigint();
  const res = await runDaemon({
    sources: [replaySource(data, SEED)],
    transforms: [],
    sinks: [{ name: 'out', sink, buffer: BUFFERS[variant] }],
    dataDir,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!res.balanced || res.tally.total.delivered !== data.length * PER)
    throw new Error(`unexpected outcome: ${JSON.stringify(res.tally.total)}`);
  const buf = (res.sinks[0].stats as { buffer?: { writtenBytes: number; delivered: number } } | undefined)
    ?.buffer;
  if (buf && buf.delivered !== data.length * PER) throw new Error(`buffer delivered ${buf.delivered}`);
  rmSync(dataDir, { recursive: true, force: true });
  const r: Result = {
    variant,
    seconds,
    records: res.tally.total.delivered,
    decodedMB: decodedBytes / 1e6,
    maxRssMB: peakRssMb(),
    ...(buf ? { bufferMB: buf.writtenBytes / 1e6 } : {}),
  };
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

async function main(): Promise<void> {
  const runs = Object.fromEntries(VARIANTS.map((v) => [v, [] as Result[]])) as Record<Variant, Result[]>;
  // Interleaved so machine load drifts hit every variant alike.
  for (let i = 0; i < RUNS; i++)
    for (const v of VARIANTS)
      runs[v].push(
        lastJsonLine<Result>(
          runTsxChild(new URL(import.meta.url).pathname, ['--child', v], { env, label: v }),
        ),
      );
  const summary = VARIANTS.map((v) => {
    const rs = runs[v];
    const secs = median(rs.map((r) => r.seconds));
    return {
      variant: v,
      recordsPerSecond: Math.round(rs[0].records / secs),
      decodedMBps: rs[0].decodedMB / secs,
      peakRssMB: median(rs.map((r) => r.maxRssMB)),
      bufferMB: rs[0].bufferMB,
      seconds: rs.map((r) => r.seconds),
    };
  });
  const base = summary[0].recordsPerSecond;
  console.log(
    `demo-to-blackhole-buffer: ${ENVELOPES} payloads × ${PER} events (seed ${SEED}), median of ${RUNS}`,
  );
  console.log(
    `variant       records/s   MB/s (decoded)   vs ${VARIANTS[0].padEnd(9)}   peak RSS MB   buffer MB written`,
  );
  for (const s of summary)
    console.log(
      `${s.variant.padEnd(12)}${s.recordsPerSecond.toLocaleString('en-US').padStart(11)}${s.decodedMBps.toFixed(1).padStart(17)}${(s.recordsPerSecond / base).toFixed(2).padStart(14)}${s.peakRssMB.toFixed(0).padStart(14)}${(s.bufferMB === undefined ? '–' : s.bufferMB.toFixed(1)).padStart(20)}`,
    );
  writeResults('demo-to-blackhole-buffer', {
    at: new Date().toISOString(),
    envelopes: ENVELOPES,
    eventsPerEnvelope: PER,
    seed: SEED,
    runs: RUNS,
    results: summary.map((s) => ({ ...s, ratioToUnbounded: s.recordsPerSecond / base })),
  });
}

if (process.argv[2] === '--child') await child(process.argv[3] as Variant);
else await main();
