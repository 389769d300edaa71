/**
 * Scenario `file-to-opensearch`: `logferry run --once` over the CRI corpus of bench/file-to-blackhole
 * (bench/lib/cri-logs.ts; file source `format: cri`, JSON decode of each message) into a real
 * OpenSearch node (test/infra/opensearch.ts; `_bulk` `create` with stable document ids), compared in
 * the same run with Fluent Bit shipping the same files to the same node (`tail` CRI → json `parser`
 * → `opensearch` output with generated ids, the raw line kept: bench/lib/file-peers.ts) when
 * `LOGFERRY_FLUENT_BIT` is set, and with the read-only peers of the blackhole bench: `cat`, the
 * naive Node reader with `JSON.parse`, Fluent Bit → `null` with stock and 256 KiB buffers.
 *
 * Before each shipping phase the index is deleted and created again with the same settings for
 * both clients (`INDEX_SETTINGS`: one shard, no replica — the node is alone —, a 30 s refresh
 * interval, as bulk loads are usually run); its document count is checked afterwards (logferry's
 * must equal the corpus's entries). The node's own CPU seconds during each phase come from
 * `_nodes/stats/process`: on this machine the node, not the client, is the bottleneck, and
 * documents per server CPU-second compare what each client's requests cost it. Every client phase
 * is a process under `/usr/bin/time`.
 *
 *   node --import tsx bench/file-to-opensearch.ts     (or: node scripts/bench.mjs file-to-opensearch)
 *   BENCH_MB=500 BENCH_SEED=1 BENCH_RUNS=1 BENCH_OPENSEARCH_HEAP_MB=1024 LOGFERRY_FLUENT_BIT=…
 *   LOGFERRY_OPENSEARCH_URL=http://… uses a running node instead of starting one.
 *
 * Results go to stdout and bench/results/file-to-opensearch.json (another BENCH_MB than 500:
 * file-to-opensearch-<MB>mb.json, so a smaller comparison does not replace the full one).
 */
import { cpus, loadavg } from 'node:os';
import { startOpenSearch } from '../test/infra/opensearch.js';
import { criCorpus } from './lib/cri-logs.js';
import {
  catPhase,
  corpusSummary,
  fluentBitOpenSearchOutput,
  fluentBitPhase,
  logferryPhase,
  type Measured,
  naivePhase,
  printRows,
  peerRatios,
  ratioOf,
  row,
  runPhases,
} from './lib/file-peers.js';
import { writeResults } from './lib/harness.js';

const env = process.env;
const MB = Number(env.BENCH_MB ?? 500);
const SEED = Number(env.BENCH_SEED ?? 1);
const RUNS = Number(env.BENCH_RUNS ?? 1);
const INDEX = 'bench-file-cri';
/** The index both clients write to, created before each phase. */
const INDEX_SETTINGS = { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '30s' };
const FB_OPENSEARCH = 'fluent-bit-256k-opensearch';
const SCENARIO = MB === 500 ? 'file-to-opensearch' : `file-to-opensearch-${MB}mb`;

const load = () => loadavg().map((x) => +x.toFixed(1));
const loadAtStart = load();
const corpus = criCorpus({ seed: SEED, totalMb: MB });
const node = await startOpenSearch({ heapMb: Number(env.BENCH_OPENSEARCH_HEAP_MB ?? 1024) });
try {
  const base = node.url;
  const json = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${base}${path}`, init);
    const body = await res.json();
    if (!res.ok && init?.method !== 'DELETE')
      throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
    return body as Record<string, unknown>;
  };
  const count = async (): Promise<number> => {
    await json(`/${INDEX}/_refresh`, { method: 'POST' });
    return (await json(`/${INDEX}/_count`)).count as number;
  };
  const serverCpuMs = async (): Promise<number> => {
    const nodes = (await json('/_nodes/stats/process')).nodes as Record<
      string,
      { process: { cpu: { total_in_millis: number } } }
    >;
    return Object.values(nodes).reduce((s, n) => s + n.process.cpu.total_in_millis, 0);
  };
  const freshIndex = async () => {
    await json(`/${INDEX}`, { method: 'DELETE' });
    await json(`/${INDEX}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ settings: INDEX_SETTINGS }),
    });
  };
  /** Per shipping phase (last run): documents found afterwards and the node's CPU seconds. */
  const server = new Map<string, { documents: number; serverCpuS: number }>();
  const shipping = async (phase: string, run: () => Measured | undefined): Promise<Measured | undefined> => {
    await freshIndex();
    const cpu0 = await serverCpuMs();
    const m = run();
    if (!m) return undefined;
    const documents = await count();
    server.set(phase, { documents, serverCpuS: +((await serverCpuMs()) - cpu0) / 1000 });
    if (phase === 'logferry-opensearch' && documents !== corpus.entries)
      throw new Error(`OpenSearch holds ${documents} documents of ${corpus.entries}`);
    return m;
  };
  const rows = await runPhases(
    {
      cat: () => catPhase(corpus),
      'naive-node': () => naivePhase(corpus),
      'logferry-opensearch': () =>
        shipping('logferry-opensearch', () =>
          logferryPhase(corpus, `{ type: opensearch, url: '${base}', index: ${INDEX} }`, {
            phase: 'logferry-opensearch',
          }),
        ),
      [FB_OPENSEARCH]: () =>
        shipping(FB_OPENSEARCH, () => fluentBitPhase(corpus, 256, fluentBitOpenSearchOutput(base, INDEX))),
      'fluent-bit-stock': () => fluentBitPhase(corpus, undefined),
      'fluent-bit-256k': () => fluentBitPhase(corpus, 256),
    },
    RUNS,
    corpus,
  );
  const withServer = rows.map((r) => {
    const s = server.get(r.phase);
    if (!s || !('wallS' in r)) return r;
    return {
      ...r,
      documents: s.documents,
      docsPerSec: Math.round(s.documents / Math.max(r.wallS, 0.01)),
      serverCpuS: s.serverCpuS,
      docsPerServerCpuSec: Math.round(s.documents / Math.max(s.serverCpuS, 0.01)),
    };
  });
  const vs = (by: 'wall' | 'cpu') => ({
    ...peerRatios(rows, 'logferry-opensearch', by, 'ToNull'),
    fluentBit256kToOpenSearch: ratioOf(rows, 'logferry-opensearch', FB_OPENSEARCH, by),
  });
  const lf = server.get('logferry-opensearch');
  const fb = server.get(FB_OPENSEARCH);
  const result = {
    scenario: SCENARIO,
    at: new Date().toISOString(),
    cpus: cpus().length,
    /** 1, 5 and 15 minute load averages at the start and at the end (the machine is shared). */
    loadAverage: { start: loadAtStart, end: load() },
    opensearch: node.version,
    indexSettings: INDEX_SETTINGS,
    runs: RUNS,
    corpus: corpusSummary(corpus, SEED),
    documentsIndexed: corpus.entries,
    phases: withServer,
    logferryVs: vs('wall'),
    /** By MiB per CPU-second of the client process (the node's own CPU is in `serverCpuS`). */
    logferryVsByCpu: vs('cpu'),
    /**
     * Documents indexed per wall second, logferry's over Fluent Bit's (the MiB/s ratios above count
     * the whole corpus read, whether or not a client got every document in).
     */
    docsPerSecVsFluentBit:
      lf && fb && fb.documents > 0
        ? +(
            lf.documents /
            (row(rows, 'logferry-opensearch')?.wallS ?? Number.NaN) /
            (fb.documents / (row(rows, FB_OPENSEARCH)?.wallS ?? Number.NaN))
          ).toFixed(2)
        : null,
    /** Documents per CPU-second of the OpenSearch node, logferry's over Fluent Bit's. */
    serverCpuPerDocVsFluentBit:
      lf && fb && fb.documents > 0
        ? +(lf.documents / lf.serverCpuS / (fb.documents / fb.serverCpuS)).toFixed(2)
        : null,
  };
  printRows(rows);
  for (const [phase, s] of server)
    console.log(`${phase.padEnd(28)} ${s.documents} documents, OpenSearch node CPU ${s.serverCpuS} s`);
  const w = result.logferryVs as Record<string, number | null | undefined>;
  console.log(
    `logferry → OpenSearch = ${w.fluentBit256kToOpenSearch ?? '–'} × Fluent Bit 256k → OpenSearch, ${w.cat} × cat, ${w.naiveNode} × naive Node, ${w.fluentBitStockToNull ?? '–'} × Fluent Bit stock → null, ${w.fluentBit256kToNull ?? '–'} × Fluent Bit 256k → null (load average ${result.loadAverage.start.join(' ')} → ${result.loadAverage.end.join(' ')})`,
  );
  writeResults(SCENARIO, result);
} finally {
  await node.stop();
}
