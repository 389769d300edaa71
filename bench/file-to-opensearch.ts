/**
 * Scenario `file-to-opensearch`: `logferry run --once` over the CRI corpus of bench/file-to-blackhole
 * (bench/lib/cri-logs.ts; file source `format: cri`, JSON decode of each message) into a real
 * OpenSearch node (test/infra/opensearch.ts; `_bulk` with stable document ids), compared in the same
 * run with the read-only peers of the blackhole bench: `cat`, the naive Node reader with
 * `JSON.parse`, and Fluent Bit `tail` (CRI) → json `parser` → `null` with stock and 256 KiB buffers
 * when `LOGFERRY_FLUENT_BIT` is set. The index is deleted before each logferry run and its document
 * count must equal the corpus's entries afterwards. Every phase is a process under `/usr/bin/time`.
 *
 *   node --import tsx bench/file-to-opensearch.ts     (or: node scripts/bench.mjs file-to-opensearch)
 *   BENCH_MB=500 BENCH_SEED=1 BENCH_RUNS=1 BENCH_OPENSEARCH_HEAP_MB=1024 LOGFERRY_FLUENT_BIT=…
 *   LOGFERRY_OPENSEARCH_URL=http://… uses a running node instead of starting one.
 *
 * Results go to stdout and bench/results/file-to-opensearch.json.
 */
import { cpus, loadavg } from 'node:os';
import { startOpenSearch } from '../test/infra/opensearch.js';
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
const INDEX = 'bench-file-cri';

const corpus = criCorpus({ seed: SEED, totalMb: MB });
const node = await startOpenSearch({ heapMb: Number(env.BENCH_OPENSEARCH_HEAP_MB ?? 1024) });
try {
  const base = node.url;
  const count = async (): Promise<number> => {
    await fetch(`${base}/${INDEX}/_refresh`, { method: 'POST' });
    return ((await (await fetch(`${base}/${INDEX}/_count`)).json()) as { count: number }).count;
  };
  const logferry = async (): Promise<Measured> => {
    await fetch(`${base}/${INDEX}`, { method: 'DELETE' });
    const m = logferryPhase(corpus, `{ type: opensearch, url: '${base}', index: ${INDEX} }`);
    const docs = await count();
    if (docs !== corpus.entries) throw new Error(`OpenSearch holds ${docs} documents of ${corpus.entries}`);
    return m;
  };
  const phases: Record<string, () => Promise<Measured | undefined>> = {
    cat: async () => catPhase(corpus),
    'naive-node': async () => naivePhase(corpus),
    'logferry-opensearch': logferry,
    'fluent-bit-stock': async () => fluentBitPhase(corpus, undefined),
    'fluent-bit-256k': async () => fluentBitPhase(corpus, 256),
  };
  const names = Object.keys(phases);
  const runs = new Map<string, Measured[]>(names.map((n) => [n, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const n of i % 2 === 0 ? names : [...names].reverse()) {
      const m = await phases[n]();
      if (m) runs.get(n)?.push(m);
      process.stderr.write(
        m ? `  ${n}: ${m.wallS} s, ${m.peakRssMb} MB\n` : `  ${n}: ${FLUENT_BIT_SKIPPED}\n`,
      );
    }
  }
  const out: (PhaseFigures | { phase: string; skipped: string })[] = [];
  for (const n of names) {
    const ms = runs.get(n) ?? [];
    if (ms.length === 0) {
      out.push({ phase: n, skipped: FLUENT_BIT_SKIPPED });
      continue;
    }
    const wall = median(ms.map((m) => m.wallS));
    const m = ms.find((x) => x.wallS === wall) as Measured;
    out.push({ ...figures(m, corpus), peakRssMb: Math.max(...ms.map((x) => x.peakRssMb)) });
  }
  const get = (n: string) => out.find((p): p is PhaseFigures => p.phase === n && 'mibPerSec' in p);
  const lf = get('logferry-opensearch') as PhaseFigures;
  const ratio = (n: string) => {
    const p = get(n);
    return p ? +(lf.mibPerSec / p.mibPerSec).toFixed(2) : null;
  };
  const cpuRatio = (n: string) => {
    const p = get(n);
    return p ? +(lf.mibPerCpuSec / p.mibPerCpuSec).toFixed(2) : null;
  };
  const result = {
    scenario: 'file-to-opensearch',
    at: new Date().toISOString(),
    cpus: cpus().length,
    loadAverage: loadavg().map((x) => +x.toFixed(1)),
    opensearch: node.version,
    runs: RUNS,
    corpus: {
      seed: SEED,
      files: corpus.files.length,
      mib: +(corpus.bytes / 1048576).toFixed(1),
      lines: corpus.lines,
      entries: corpus.entries,
      jsonEntries: corpus.jsonEntries,
    },
    documentsIndexed: corpus.entries,
    phases: out,
    logferryVs: {
      cat: ratio('cat'),
      naiveNode: ratio('naive-node'),
      fluentBitStockToNull: ratio('fluent-bit-stock'),
      fluentBit256kToNull: ratio('fluent-bit-256k'),
    },
    /** The same ratios by MiB per CPU-second of the client process (OpenSearch's own CPU excluded). */
    logferryVsByCpu: {
      naiveNode: cpuRatio('naive-node'),
      fluentBitStockToNull: cpuRatio('fluent-bit-stock'),
      fluentBit256kToNull: cpuRatio('fluent-bit-256k'),
    },
  };
  for (const p of out) {
    if ('skipped' in p) console.log(`${p.phase.padEnd(20)} ${p.skipped}`);
    else
      console.log(
        `${p.phase.padEnd(20)} ${String(p.mibPerSec).padStart(7)} MiB/s ${String(p.linesPerSec).padStart(9)} lines/s  wall ${p.wallS} s  cpu ${p.cpuS} s (${p.mibPerCpuSec} MiB/cpu-s)  peak RSS ${p.peakRssMb} MB`,
      );
  }
  console.log(
    `logferry → OpenSearch = ${result.logferryVs.cat} × cat, ${result.logferryVs.naiveNode} × naive Node, ${result.logferryVs.fluentBitStockToNull ?? '–'} × Fluent Bit stock → null, ${result.logferryVs.fluentBit256kToNull ?? '–'} × Fluent Bit 256k → null (load average ${result.loadAverage.join(' ')})`,
  );
  writeResults('file-to-opensearch', result);
} finally {
  await node.stop();
}
