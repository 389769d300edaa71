/**
 * Scenario `firehose-transform`: the Firehose transformation Lambda's work per invocation (decode,
 * validate, shared transforms from the default config, format, partition keys, response budget,
 * response JSON) against a naive implementation of the seed's transformation
 * (bench/naive/firehose-seed.ts) on the same invocations in the same run. Data: hundreds of
 * CloudWatch payloads of ~100 KB gzip each (EKS audit JSON, klog components, authenticator, Lambda,
 * ECS, generic) from the deterministic generator, grouped into invocations whose output fits one
 * response (as a 0.2–0.3 MB processor buffer yields). Each variant runs in its own Node process so
 * peak RSS is its own; variants alternate over rounds; the best timed pass counts (one warm-up pass).
 * A last process runs all variants taking turns per invocation ("paired"): its CPU-time ratio is the
 * steadier one on a loaded machine.
 *
 *   node --import tsx bench/firehose-transform.ts          (or: npm run bench -- firehose-transform)
 *   BENCH_RECORDS=160 BENCH_RECORD_KB=100 BENCH_PASSES=2 BENCH_ROUNDS=2 BENCH_SEED=42
 *
 * Results go to stdout and bench/results/firehose-transform.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { validateConfig } from '../src/config/load.js';
import { buildFirehoseTransforms } from '../src/lambda/firehose.js';
import { NO_DEADLINE } from '../src/core/retry.js';
import { FirehoseTransformer, type FirehoseTransformationEvent } from '../src/sources/firehose.js';
import { FirehoseWorkerPool, firehoseWorkerThreads } from '../src/lambda/firehose-workers.js';
import { firehoseEvent, payloadOfSize, rng, type StreamKind } from './data.js';
import { BusyMeter, silentLogger, writeResults } from './lib/harness.js';
import { naiveSeedHandler } from './naive/firehose-seed.js';

const env = process.env;
const RECORDS = Number(env.BENCH_RECORDS ?? 160);
const RECORD_KB = Number(env.BENCH_RECORD_KB ?? 100);
const PASSES = Number(env.BENCH_PASSES ?? 2);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 2);
const SEED = Number(env.BENCH_SEED ?? 42);
/** Decoded bytes per invocation: ndjson of this fits the 5.5 MB budget with room. */
const INVOCATION_DECODED_BYTES = 2_000_000;

/** `raw-nomask`: the default pipeline with `mask: false` — the seed's work plus validation, budget and keys. */
/** `raw-workers`: `raw` with `firehose.workers: auto` (src/lambda/firehose-workers.ts). */
const VARIANTS = ['naive', 'raw', 'raw-workers', 'raw-nomask', 'ndjson'] as const;
type Variant = (typeof VARIANTS)[number];

/** Weighted like an EKS-heavy account: audit dominates volume. */
const MIX: StreamKind[] = [
  'kube-apiserver-audit',
  'kube-apiserver-audit',
  'kube-apiserver-audit',
  'kube-apiserver',
  'authenticator',
  'kube-controller-manager',
  'cloud-controller-manager',
  'kube-scheduler',
  'lambda',
  'ecs',
  'generic',
];

const silent = silentLogger;

interface DataFile {
  invocations: FirehoseTransformationEvent[];
  records: number;
  events: number;
  gzipBytes: number;
  decodedBytes: number;
}

interface ChildResult {
  variant: Variant;
  /** Best pass by CPU time (user + system): robust on a shared machine; wall time of that pass beside it. */
  bestSeconds: number;
  bestWallSeconds: number;
  passSeconds: number[];
  passWallSeconds: number[];
  /** Main-thread busy seconds per pass: event-loop active time, and the thread's CPU time (/proc). */
  passActiveSeconds: number[];
  passMainCpuSeconds: number[];
  /** Wall ms per invocation (handler + response JSON) over the timed passes. */
  p50Ms: number;
  p99Ms: number;
  responseBytes: number;
  ok: number;
  dropped: number;
  failed: number;
  maxRssMB: number;
  transforms: string[];
  /** `raw-workers`: threads, pool start (spawn to every worker ready, tsx-loaded here), invocations on workers / answered again on the main thread. */
  workers?: { threads: number; startMs: number; fallbacks: number; invocations: number };
}

async function makeHandler(variant: Variant): Promise<{
  handle: (ev: FirehoseTransformationEvent) => Promise<unknown>;
  transforms: string[];
  /** `raw-workers`: the pool (started before the timed passes; its start time is reported). */
  pool?: FirehoseWorkerPool;
}> {
  if (variant === 'naive') return { handle: (ev) => naiveSeedHandler(ev), transforms: [] };
  const format = variant === 'ndjson' ? 'ndjson' : 'raw';
  const workers = variant === 'raw-workers';
  const cfg = validateConfig(
    {
      ...(variant === 'raw-nomask' ? { mask: false } : {}),
      firehose: { format, reingest: false, workers: workers ? 'auto' : 'off' },
    },
    'bench',
  );
  const transforms = await buildFirehoseTransforms(cfg, { log: silent });
  const t = new FirehoseTransformer(cfg.firehose, { transforms, log: silent });
  const threads = firehoseWorkerThreads(cfg);
  if (workers && threads.count === 0) throw new Error(`raw-workers: workers are off (${threads.why})`);
  const pool = workers
    ? new FirehoseWorkerPool(t, { threads: threads.count, config: cfg, log: silent })
    : undefined;
  if (pool) await pool.start();
  return {
    handle: async (ev) => (await (pool ?? t).transform(ev, NO_DEADLINE)).response,
    transforms: transforms.map((x) => x.type),
    pool,
  };
}

async function child(variant: Variant, file: string): Promise<void> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as DataFile;
  const { handle, transforms, pool } = await makeHandler(variant);
  const passSeconds: number[] = [];
  const passWallSeconds: number[] = [];
  const passActiveSeconds: number[] = [];
  const passMainCpuSeconds: number[] = [];
  const latencies: number[] = [];
  let responseBytes = 0;
  const counts = { ok: 0, dropped: 0, failed: 0 };
  for (let p = 0; p <= PASSES; p++) {
    responseBytes = 0;
    counts.ok = counts.dropped = counts.failed = 0;
    const t0 = process.hrtime.bigint();
    const busy = new BusyMeter();
    for (const ev of data.invocations) {
      const i0 = process.hrtime.bigint();
      const res = (await handle(ev)) as { records: { result: string }[] };
      // The Lambda runtime serialises the answer: part of the cost.
      responseBytes += JSON.stringify(res).length;
      if (p > 0) latencies.push(Number(process.hrtime.bigint() - i0) / 1e6);
      for (const r of res.records) {
        if (r.result === 'Ok') counts.ok++;
        else if (r.result === 'Dropped') counts.dropped++;
        else counts.failed++;
      }
    }
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    busy.stop();
    if (p > 0) {
      // pass 0 warms up
      passSeconds.push(busy.cpuSeconds);
      passWallSeconds.push(wall);
      passActiveSeconds.push(busy.activeSeconds);
      passMainCpuSeconds.push(busy.mainCpuSeconds);
    }
  }
  const best = passSeconds.indexOf(Math.min(...passSeconds));
  latencies.sort((a, b) => a - b);
  const pct = (q: number) =>
    +latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1);
  const out: ChildResult = {
    variant,
    bestSeconds: passSeconds[best],
    bestWallSeconds: passWallSeconds[best],
    passSeconds,
    passWallSeconds,
    passActiveSeconds,
    passMainCpuSeconds,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    responseBytes,
    ...counts,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    transforms,
    ...(pool
      ? {
          workers: {
            threads: pool.workerCount,
            startMs: pool.stats.startMs,
            fallbacks: pool.stats.fallbacks,
            invocations: pool.stats.invocations,
          },
        }
      : {}),
  };
  await pool?.close();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/**
 * All variants in one process, taking turns invocation by invocation (order rotated), so machine
 * load drifts hit them alike: the CPU-time ratio from this run is the steadier one.
 */
async function paired(file: string): Promise<void> {
  const data = JSON.parse(readFileSync(file, 'utf8')) as DataFile;
  const handlers = await Promise.all(VARIANTS.map((v) => makeHandler(v)));
  const meters = VARIANTS.map(() => new BusyMeter());
  for (let p = 0; p <= PASSES; p++) {
    if (p === 1) for (let k = 0; k < VARIANTS.length; k++) meters[k] = new BusyMeter(); // pass 0 warms up
    for (let i = 0; i < data.invocations.length; i++) {
      for (let k = 0; k < VARIANTS.length; k++) {
        const v = (i + k) % VARIANTS.length;
        meters[v].start();
        JSON.stringify(await handlers[v].handle(data.invocations[i]));
        meters[v].stop();
      }
    }
  }
  const per = (f: (m: BusyMeter) => number) =>
    Object.fromEntries(VARIANTS.map((v, k) => [v, f(meters[k]) / PASSES]));
  await Promise.all(handlers.map((h) => h.pool?.close()));
  process.stdout.write(
    `${JSON.stringify({ cpu: per((m) => m.cpuSeconds), active: per((m) => m.activeSeconds), mainCpu: per((m) => m.mainCpuSeconds) })}\n`,
  );
}

function generate(): DataFile {
  const r = rng(SEED);
  const payloads = [];
  let events = 0;
  let gzipBytes = 0;
  let decodedBytes = 0;
  for (let i = 0; i < RECORDS; i++) {
    const p = payloadOfSize(MIX[i % MIX.length], RECORD_KB * 1000, r);
    const decoded = gunzipSync(p.gzip).length;
    payloads.push({ gzip: p.gzip, decoded });
    events += p.events.length;
    gzipBytes += p.gzip.length;
    decodedBytes += decoded;
  }
  const invocations: FirehoseTransformationEvent[] = [];
  let group: Buffer[] = [];
  let size = 0;
  const flush = () => {
    if (group.length === 0) return;
    invocations.push(
      firehoseEvent(group, { invocationId: `bench-${invocations.length}` }) as FirehoseTransformationEvent,
    );
    group = [];
    size = 0;
  };
  for (const p of payloads) {
    if (size + p.decoded > INVOCATION_DECODED_BYTES) flush();
    group.push(p.gzip);
    size += p.decoded;
  }
  flush();
  return { invocations, records: RECORDS, events, gzipBytes, decodedBytes };
}

/** raw must reproduce the seed's bytes exactly (when no transform rewrites messages). */
async function checkRawMatchesSeed(
  data: DataFile,
): Promise<{ compared: number; equal: number; transforms: string[] }> {
  const mine = await makeHandler('raw');
  let compared = 0;
  let equal = 0;
  for (const ev of data.invocations.slice(0, 20)) {
    const a = (await naiveSeedHandler(ev)).records as {
      data?: string;
      metadata?: { partitionKeys: { object_prefix: string } };
    }[];
    const b = (await mine.handle(ev)) as {
      records: { data: string; metadata?: { partitionKeys: { object_prefix: string } } }[];
    };
    a.forEach((rec, i) => {
      compared++;
      const same =
        rec.data === b.records[i].data &&
        rec.metadata?.partitionKeys.object_prefix === b.records[i].metadata?.partitionKeys.object_prefix;
      if (same) equal++;
    });
  }
  return { compared, equal, transforms: mine.transforms };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const data = generate();
  const dir = mkdtempSync(join(tmpdir(), 'logferry-bench-'));
  const file = join(dir, 'invocations.json');
  writeFileSync(file, JSON.stringify(data));
  console.error(
    `firehose-transform: ${data.records} records (${(data.gzipBytes / 1e6).toFixed(1)} MB gzip, ${(data.decodedBytes / 1e6).toFixed(1)} MB decoded, ${data.events} events) in ${data.invocations.length} invocations; generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  const check = await checkRawMatchesSeed(data);
  const runs: ChildResult[] = [];
  let pairedCpu = Object.fromEntries(VARIANTS.map((v) => [v, 0])) as Record<Variant, number>;
  let pairedActive: Record<Variant, number> = { ...pairedCpu };
  let pairedMainCpu: Record<Variant, number> = { ...pairedCpu };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const v of order) {
        const res = spawnSync(
          process.execPath,
          ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', v, file],
          {
            encoding: 'utf8',
            env: { ...env, LOGFERRY_LOG_LEVEL: 'error' },
            maxBuffer: 1 << 24,
          },
        );
        if (res.status !== 0) throw new Error(`${v} run failed:\n${res.stderr}`);
        const line = res.stdout.trim().split('\n').pop()!;
        runs.push(JSON.parse(line));
        console.error(`  round ${round + 1} ${v}: ${runs[runs.length - 1].bestSeconds.toFixed(3)} s`);
      }
    }
    const res = spawnSync(
      process.execPath,
      ['--import', 'tsx', new URL(import.meta.url).pathname, '--paired', file],
      {
        encoding: 'utf8',
        env: { ...env, LOGFERRY_LOG_LEVEL: 'error' },
        maxBuffer: 1 << 24,
      },
    );
    if (res.status !== 0) throw new Error(`paired run failed:\n${res.stderr}`);
    ({
      cpu: pairedCpu,
      active: pairedActive,
      mainCpu: pairedMainCpu,
    } = JSON.parse(res.stdout.trim().split('\n').pop()!));
    console.error(
      `  paired: cpu ${JSON.stringify(pairedCpu)} main-thread active ${JSON.stringify(pairedActive)} main-thread cpu ${JSON.stringify(pairedMainCpu)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const best = (v: Variant) => {
    const mine = runs.filter((r) => r.variant === v);
    const fastest = mine.reduce((a, b) => (b.bestSeconds < a.bestSeconds ? b : a));
    return { ...fastest, maxRssMB: Math.max(...mine.map((r) => r.maxRssMB)) };
  };
  const naive = best('naive');
  const pairedProjected = (v: Variant, main: Record<Variant, number>) => Math.max(main[v], pairedCpu[v] / 2);
  const figures = VARIANTS.map((v) => {
    const b = best(v);
    const at = b.passSeconds.indexOf(b.bestSeconds);
    const n = naive.passSeconds.indexOf(naive.bestSeconds);
    // On an idle 2-core host a pass takes about max(main-thread busy, CPU / 2).
    const projected = (r: ChildResult, main: number[], k: number) => Math.max(main[k], r.passSeconds[k] / 2);
    return {
      variant: v,
      cpuSeconds: +b.bestSeconds.toFixed(4),
      wallSeconds: +b.bestWallSeconds.toFixed(4),
      recordsPerSec: Math.round(data.records / b.bestSeconds),
      eventsPerSec: Math.round(data.events / b.bestSeconds),
      compressedMBps: +(data.gzipBytes / 1e6 / b.bestSeconds).toFixed(1),
      decodedMBps: +(data.decodedBytes / 1e6 / b.bestSeconds).toFixed(1),
      peakRssMB: Math.round(b.maxRssMB),
      invocationP50Ms: b.p50Ms,
      invocationP99Ms: b.p99Ms,
      throughputVsNaive: +(naive.bestSeconds / b.bestSeconds).toFixed(3),
      wallThroughputVsNaive: +(naive.bestWallSeconds / b.bestWallSeconds).toFixed(3),
      rssVsNaive: +(b.maxRssMB / naive.maxRssMB).toFixed(3),
      pairedCpuSeconds: +pairedCpu[v].toFixed(4),
      pairedThroughputVsNaive: +(pairedCpu.naive / pairedCpu[v]).toFixed(3),
      /**
       * Main-thread busy time of the best pass: event-loop active time (grows while the thread waits
       * for a core, so only meaningful on a quiet host) and the thread's CPU time (/proc; steady under
       * load). On an idle 2-core host a pass takes about max(main-thread busy, CPU / 2): the
       * `projectedIdle2Core…VsNaive` ratios are naive's projection over this variant's, from
       * event-loop active time (`…ByActive`) and from main-thread CPU (`…ByMainCpu`).
       */
      mainThreadActiveSeconds: +b.passActiveSeconds[at].toFixed(4),
      mainThreadCpuSeconds: +b.passMainCpuSeconds[at].toFixed(4),
      projectedIdle2CoreVsNaiveByActive: +(
        projected(naive, naive.passActiveSeconds, n) / projected(b, b.passActiveSeconds, at)
      ).toFixed(3),
      projectedIdle2CoreVsNaiveByMainCpu: +(
        projected(naive, naive.passMainCpuSeconds, n) / projected(b, b.passMainCpuSeconds, at)
      ).toFixed(3),
      pairedMainThreadActiveSeconds: +pairedActive[v].toFixed(4),
      pairedMainThreadCpuSeconds: +pairedMainCpu[v].toFixed(4),
      pairedProjectedIdle2CoreVsNaiveByActive: +(
        pairedProjected('naive', pairedActive) / pairedProjected(v, pairedActive)
      ).toFixed(3),
      pairedProjectedIdle2CoreVsNaiveByMainCpu: +(
        pairedProjected('naive', pairedMainCpu) / pairedProjected(v, pairedMainCpu)
      ).toFixed(3),
      ok: b.ok,
      dropped: b.dropped,
      failed: b.failed,
      responseMB: +(b.responseBytes / 1e6).toFixed(1),
      transforms: b.transforms,
      ...(b.workers ? { workers: b.workers } : {}),
    };
  });
  const result = {
    scenario: 'firehose-transform',
    date: new Date().toISOString(),
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    params: {
      records: RECORDS,
      recordKB: RECORD_KB,
      passes: PASSES,
      rounds: ROUNDS,
      seed: SEED,
      invocations: data.invocations.length,
    },
    data: {
      records: data.records,
      events: data.events,
      gzipMB: +(data.gzipBytes / 1e6).toFixed(1),
      decodedMB: +(data.decodedBytes / 1e6).toFixed(1),
    },
    rawMatchesSeed: check,
    figures,
  };
  writeResults('firehose-transform', result);
  console.log('rates per CPU-second (best pass; the machine is shared, so wall time is noisier)');
  console.log(
    'variant      records/s  events/s   MB/s gz  MB/s dec  peak RSS  vs naive  paired  p50/p99 ms  ok/dropped/failed',
  );
  for (const f of figures) {
    console.log(
      `${f.variant.padEnd(11)} ${String(f.recordsPerSec).padStart(9)} ${String(f.eventsPerSec).padStart(9)} ${String(f.compressedMBps).padStart(9)} ${String(f.decodedMBps).padStart(9)} ${`${f.peakRssMB} MB`.padStart(9)} ${`${f.throughputVsNaive}×`.padStart(9)} ${`${f.pairedThroughputVsNaive}×`.padStart(7)}  ${`${f.invocationP50Ms}/${f.invocationP99Ms}`.padStart(10)}  ${f.ok}/${f.dropped}/${f.failed}`,
    );
  }
  console.log(
    'main thread busy (event-loop active / thread CPU) and projected idle-2-core throughput vs naive, max(main, CPU/2): separate runs | paired',
  );
  for (const f of figures)
    console.log(
      `${f.variant.padEnd(11)} active ${f.mainThreadActiveSeconds.toFixed(3)} s  main cpu ${f.mainThreadCpuSeconds.toFixed(3)} s  cpu ${f.cpuSeconds.toFixed(3)} s  by active ${f.projectedIdle2CoreVsNaiveByActive}×  by main cpu ${f.projectedIdle2CoreVsNaiveByMainCpu}×  | paired active ${f.pairedMainThreadActiveSeconds.toFixed(3)} s main cpu ${f.pairedMainThreadCpuSeconds.toFixed(3)} s cpu ${f.pairedCpuSeconds.toFixed(3)} s  by active ${f.pairedProjectedIdle2CoreVsNaiveByActive}×  by main cpu ${f.pairedProjectedIdle2CoreVsNaiveByMainCpu}×`,
    );
  console.log(
    `raw output identical to the seed's: ${check.equal}/${check.compared} records (transforms: ${check.transforms.join(', ') || 'none'})`,
  );
}

const argv = process.argv;
const at = argv.indexOf('--child');
const pairedAt = argv.indexOf('--paired');
if (at >= 0) await child(argv[at + 1] as Variant, argv[at + 2]);
else if (pairedAt >= 0) await paired(argv[pairedAt + 1]);
else await main();
