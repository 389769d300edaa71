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
  corpusSummary,
  fluentBitPhase,
  logferryPhase,
  type Measured,
  naivePhase,
  printRows,
  peerRatios,
  runPhases,
} from './lib/file-peers.js';
import { writeResults } from './lib/harness.js';

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
    const m = logferryPhase(corpus, `{ type: opensearch, url: '${base}', index: ${INDEX} }`, {
      phase: 'logferry-opensearch',
    });
    const docs = await count();
    if (docs !== corpus.entries) throw new Error(`OpenSearch holds ${docs} documents of ${corpus.entries}`);
    return m;
  };
  const rows = await runPhases(
    {
      cat: () => catPhase(corpus),
      'naive-node': () => naivePhase(corpus),
      'logferry-opensearch': logferry,
      'fluent-bit-stock': () => fluentBitPhase(corpus, undefined),
      'fluent-bit-256k': () => fluentBitPhase(corpus, 256),
    },
    RUNS,
    corpus,
  );
  const vs = (by: 'wall' | 'cpu') => peerRatios(rows, 'logferry-opensearch', by, 'ToNull');
  const result = {
    scenario: 'file-to-opensearch',
    at: new Date().toISOString(),
    cpus: cpus().length,
    loadAverage: loadavg().map((x) => +x.toFixed(1)),
    opensearch: node.version,
    runs: RUNS,
    corpus: corpusSummary(corpus, SEED),
    documentsIndexed: corpus.entries,
    phases: rows,
    logferryVs: vs('wall'),
    /** By MiB per CPU-second of the client process (OpenSearch's own CPU is not counted). */
    logferryVsByCpu: vs('cpu'),
  };
  printRows(rows);
  const w = result.logferryVs;
  console.log(
    `logferry → OpenSearch = ${w.cat} × cat, ${w.naiveNode} × naive Node, ${w.fluentBitStockToNull ?? '–'} × Fluent Bit stock → null, ${w.fluentBit256kToNull ?? '–'} × Fluent Bit 256k → null (load average ${result.loadAverage.join(' ')})`,
  );
  writeResults('file-to-opensearch', result);
} finally {
  await node.stop();
}
