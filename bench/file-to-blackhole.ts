/**
 * Scenario `file-to-blackhole`: `logferry run --once` reading ~500 MB of Kubernetes CRI container
 * logs (bench/lib/cri-logs.ts: JSON app lines, audit JSON, klog and other text lines, `P` partial
 * pieces) through the file source (`format: cri`, partial-line reassembly, Kubernetes names from the
 * file names) and a JSON decode of each message (`parse` transform, `json` parser) into the
 * blackhole sink — compared in the same run with `cat FILES > /dev/null`, a naive Node line reader
 * with `JSON.parse` (bench/naive/cri-lines.ts) and, when `LOGFERRY_FLUENT_BIT` names a binary,
 * Fluent Bit's `tail` (CRI multiline parser) → `parser` json filter → `null` with stock buffers and
 * with 256 KiB buffers (bench/lib/file-peers.ts). Every phase is its own process under
 * `/usr/bin/time`: MiB/s and lines/s are of the wall time including start-up, peak RSS is the
 * process's maximum resident set. Phases alternate order between runs; the median run is reported.
 *
 *   node --import tsx bench/file-to-blackhole.ts      (or: node scripts/bench.mjs file-to-blackhole)
 *   BENCH_MB=500 BENCH_SEED=1 BENCH_RUNS=1 LOGFERRY_FLUENT_BIT=/path/to/fluent-bit
 *   BENCH_CPU_PROF=DIR  also writes a V8 CPU profile of one logferry run into DIR
 *
 * Results go to stdout and bench/results/file-to-blackhole.json.
 */
import { cpus, loadavg } from 'node:os';
import { criCorpus } from './lib/cri-logs.js';
import {
  catPhase,
  FLUENT_BIT_SKIPPED,
  figures,
  fluentBitPhase,
  logferryPhase,
  type Measured,
  naivePhase,
  type PhaseFigures,
} from './lib/file-peers.js';
import { median, writeResults } from './lib/harness.js';

const env = process.env;
const MB = Number(env.BENCH_MB ?? 500);
const SEED = Number(env.BENCH_SEED ?? 1);
const RUNS = Number(env.BENCH_RUNS ?? 1);

const corpus = criCorpus({ seed: SEED, totalMb: MB });
const phases: Record<string, () => Measured | undefined> = {
  cat: () => catPhase(corpus),
  'naive-node': () => naivePhase(corpus),
  logferry: () => logferryPhase(corpus, '{ type: blackhole }'),
  'fluent-bit-stock': () => fluentBitPhase(corpus, undefined),
  'fluent-bit-256k': () => fluentBitPhase(corpus, 256),
};
const names = Object.keys(phases);
const runs = new Map<string, Measured[]>(names.map((n) => [n, []]));
for (let i = 0; i < RUNS; i++) {
  const order = i % 2 === 0 ? names : [...names].reverse();
  for (const n of order) {
    const m = phases[n]();
    if (m) runs.get(n)!.push(m);
    process.stderr.write(m ? `  ${n}: ${m.wallS} s, ${m.peakRssMb} MB\n` : `  ${n}: ${FLUENT_BIT_SKIPPED}\n`);
  }
}
if (env.BENCH_CPU_PROF)
  logferryPhase(corpus, '{ type: blackhole }', {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`],
  });

const out: (PhaseFigures | { phase: string; skipped: string })[] = [];
for (const n of names) {
  const ms = runs.get(n)!;
  if (ms.length === 0) {
    out.push({ phase: n, skipped: FLUENT_BIT_SKIPPED });
    continue;
  }
  const wall = median(ms.map((m) => m.wallS));
  const m = ms.find((x) => x.wallS === wall)!;
  out.push({ ...figures(m, corpus), peakRssMb: Math.max(...ms.map((x) => x.peakRssMb)) });
}
const get = (n: string) => out.find((p): p is PhaseFigures => p.phase === n && 'mibPerSec' in p);
const lf = get('logferry')!;
const ratio = (n: string) => {
  const p = get(n);
  return p ? +(lf.mibPerSec / p.mibPerSec).toFixed(2) : null;
};
const cpuRatio = (n: string) => {
  const p = get(n);
  return p ? +(lf.mibPerCpuSec / p.mibPerCpuSec).toFixed(2) : null;
};
const result = {
  scenario: 'file-to-blackhole',
  at: new Date().toISOString(),
  cpus: cpus().length,
  loadAverage: loadavg().map((x) => +x.toFixed(1)),
  runs: RUNS,
  corpus: {
    seed: SEED,
    files: corpus.files.length,
    mib: +(corpus.bytes / 1048576).toFixed(1),
    lines: corpus.lines,
    entries: corpus.entries,
    jsonEntries: corpus.jsonEntries,
  },
  decoding: 'CRI header + partial-line reassembly, then JSON decode of each message that is an object',
  phases: out,
  logferryVs: {
    cat: ratio('cat'),
    naiveNode: ratio('naive-node'),
    fluentBitStock: ratio('fluent-bit-stock'),
    fluentBit256k: ratio('fluent-bit-256k'),
  },
  /** The same ratios by MiB per CPU-second (user + system), steadier on a shared machine. */
  logferryVsByCpu: {
    naiveNode: cpuRatio('naive-node'),
    fluentBitStock: cpuRatio('fluent-bit-stock'),
    fluentBit256k: cpuRatio('fluent-bit-256k'),
  },
  goal: {
    text: "at least Fluent Bit's 256 KiB-buffer throughput, under 150 MB peak RSS",
    rssMet: lf.peakRssMb < 150,
    throughputMet: get('fluent-bit-256k') ? lf.mibPerSec >= get('fluent-bit-256k')!.mibPerSec : null,
    throughputByCpuMet: get('fluent-bit-256k')
      ? lf.mibPerCpuSec >= get('fluent-bit-256k')!.mibPerCpuSec
      : null,
  },
};
for (const p of out) {
  if ('skipped' in p) console.log(`${p.phase.padEnd(17)} ${p.skipped}`);
  else
    console.log(
      `${p.phase.padEnd(17)} ${String(p.mibPerSec).padStart(7)} MiB/s ${String(p.linesPerSec).padStart(9)} lines/s  wall ${p.wallS} s  cpu ${p.cpuS} s (${p.mibPerCpuSec} MiB/cpu-s)  peak RSS ${p.peakRssMb} MB`,
    );
}
console.log(
  `logferry = ${result.logferryVs.cat} × cat, ${result.logferryVs.naiveNode} × naive Node, ${result.logferryVs.fluentBitStock ?? '–'} × Fluent Bit stock, ${result.logferryVs.fluentBit256k ?? '–'} × Fluent Bit 256k; by CPU: ${result.logferryVsByCpu.naiveNode} × naive, ${result.logferryVsByCpu.fluentBitStock ?? '–'} × Fluent Bit stock, ${result.logferryVsByCpu.fluentBit256k ?? '–'} × Fluent Bit 256k (load average ${result.loadAverage.join(' ')})`,
);
writeResults('file-to-blackhole', result);
