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
  corpusSummary,
  fluentBitPhase,
  logferryPhase,
  naivePhase,
  printRows,
  peerRatios,
  row,
  runPhases,
} from './lib/file-peers.js';
import { writeResults } from './lib/harness.js';

const env = process.env;
const MB = Number(env.BENCH_MB ?? 500);
const SEED = Number(env.BENCH_SEED ?? 1);
const RUNS = Number(env.BENCH_RUNS ?? 1);

const corpus = criCorpus({ seed: SEED, totalMb: MB });
const rows = await runPhases(
  {
    cat: () => catPhase(corpus),
    'naive-node': () => naivePhase(corpus),
    logferry: () => logferryPhase(corpus, '{ type: blackhole }'),
    'fluent-bit-stock': () => fluentBitPhase(corpus, undefined),
    'fluent-bit-256k': () => fluentBitPhase(corpus, 256),
  },
  RUNS,
  corpus,
);
if (env.BENCH_CPU_PROF)
  logferryPhase(corpus, '{ type: blackhole }', {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`],
  });

const lf = row(rows, 'logferry');
const tuned = row(rows, 'fluent-bit-256k');
if (!lf) throw new Error('the logferry phase did not run');
const vs = (by: 'wall' | 'cpu') => peerRatios(rows, 'logferry', by);
const result = {
  scenario: 'file-to-blackhole',
  at: new Date().toISOString(),
  cpus: cpus().length,
  loadAverage: loadavg().map((x) => +x.toFixed(1)),
  runs: RUNS,
  corpus: corpusSummary(corpus, SEED),
  decoding: 'CRI header + partial-line reassembly, then JSON decode of each message that is an object',
  phases: rows,
  logferryVs: vs('wall'),
  /** The same ratios by MiB per CPU-second (user + system), steadier on a shared machine. */
  logferryVsByCpu: vs('cpu'),
  goal: {
    text: "at least Fluent Bit's 256 KiB-buffer throughput, under 150 MB peak RSS",
    rssMet: lf.peakRssMb < 150,
    throughputMet: tuned ? lf.mibPerSec >= tuned.mibPerSec : null,
    throughputByCpuMet: tuned ? lf.mibPerCpuSec >= tuned.mibPerCpuSec : null,
  },
};
printRows(rows);
const w = result.logferryVs;
const c = result.logferryVsByCpu;
console.log(
  `logferry = ${w.cat} × cat, ${w.naiveNode} × naive Node, ${w.fluentBitStock ?? '–'} × Fluent Bit stock, ${w.fluentBit256k ?? '–'} × Fluent Bit 256k; by CPU: ${c.naiveNode} × naive, ${c.fluentBitStock ?? '–'} × Fluent Bit stock, ${c.fluentBit256k ?? '–'} × Fluent Bit 256k (load average ${result.loadAverage.join(' ')})`,
);
writeResults('file-to-blackhole', result);
