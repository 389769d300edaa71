/**
 * Scenario `query-engine`: the Logs Insights engine alone (no I/O) — compiled closures, bounded-heap
 * sort+limit, Map-grouped stats — against a naive AST-walking interpreter (bench/naive/
 * query-interpreter.ts) on the same in-memory rows in the same run. Rows are archived documents as
 * the readers hand them over: EKS audit events with their structure (through the k8s-audit parser),
 * klog/authenticator lines, Lambda and ECS lines, `@timestamp` in epoch ms. Queries: the seed's
 * aws-auth audit query, a newest-20 listing, a stats by verb/resource, a stats by bin(5m).
 * Each variant runs in its own Node process so its peak RSS is its own; results are checked equal.
 * Times are the process's CPU time per query (best pass after a warm-up), wall time alongside.
 *
 *   node --import tsx bench/query-engine.ts            (or: npm run bench -- query-engine)
 *   BENCH_ROWS=300000 BENCH_PASSES=3 BENCH_SEED=42
 *
 * Results go to stdout and bench/results/query-engine.json.
 */
import { spawnSync } from 'node:child_process';
import { isParseFailure } from '../src/core/pipeline.js';
import { parseAuditEvent } from '../src/parsers/k8s-audit.js';
import { compileQuery, parseQuery, type Row } from '../src/query/index.js';
import { events, rng, type StreamKind, streamFor } from './data.js';
import { writeResults } from './lib/harness.js';
import { naiveRun } from './naive/query-interpreter.js';

const env = process.env;
const ROWS = Number(env.BENCH_ROWS ?? 300_000);
const PASSES = Number(env.BENCH_PASSES ?? 3);
const SEED = Number(env.BENCH_SEED ?? 42);

const QUERIES: Record<string, string> = {
  'aws-auth': `fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name, responseStatus.code, @message
| filter @logStream like /^kube-apiserver-audit/
| filter objectRef.resource == "configmaps"
| filter objectRef.namespace == "kube-system"
| filter verb not in ["watch", "list", "get"]
| sort @timestamp desc`,
  'newest-20': 'fields @timestamp, @message | sort @timestamp desc | limit 20',
  'stats-by-verb': `filter @logStream like /^kube-apiserver-audit/ | stats count(*) as n by verb, objectRef.resource`,
  'stats-by-bin': 'stats count(*) as n by bin(5m)',
};

/** Mix of streams as an EKS cluster with a few Lambda/ECS groups produces them. */
const MIX: [StreamKind, number][] = [
  ['kube-apiserver-audit', 0.55],
  ['kube-apiserver', 0.1],
  ['authenticator', 0.1],
  ['kube-controller-manager', 0.08],
  ['cloud-controller-manager', 0.02],
  ['kube-scheduler', 0.05],
  ['lambda', 0.05],
  ['ecs', 0.05],
];

function makeRows(n: number): Row[] {
  const r = rng(SEED);
  const rows: Row[] = [];
  for (const [kind, share] of MIX) {
    const count = Math.round(n * share);
    const stream = streamFor(kind, r);
    for (const ev of events(kind, count, r, 1_763_800_000_000 + Math.floor(r() * 60_000))) {
      const row: Row = {
        '@timestamp': ev.timestamp,
        '@message': ev.message,
        '@logStream': stream.logStream,
        '@log': `${stream.owner}:${stream.logGroup}`,
      };
      if (kind === 'kube-apiserver-audit') {
        const f = parseAuditEvent(ev.message);
        if (!isParseFailure(f)) Object.assign(row, f);
      }
      rows.push(row);
    }
  }
  return rows;
}

interface VariantResult {
  variant: string;
  perQuery: Record<
    string,
    { ms: number; wallMs: number; rowsPerSec: number; mbPerSec: number; resultRows: number; digest: string }
  >;
  peakRssMb: number;
  inputMb: number;
  rows: number;
}

function digest(rows: Row[]): string {
  // Order-insensitive for stats (group order is not part of the naive baseline's contract).
  const lines = rows.map((r) => JSON.stringify(r)).sort();
  let h = 0;
  for (const l of lines) for (let i = 0; i < l.length; i++) h = (Math.imul(h, 31) + l.charCodeAt(i)) | 0;
  return `${rows.length}:${(h >>> 0).toString(16)}`;
}

async function child(variant: string): Promise<void> {
  const rows = makeRows(ROWS);
  let bytes = 0;
  for (const r of rows) bytes += JSON.stringify(r).length;
  const out: VariantResult = { variant, perQuery: {}, peakRssMb: 0, inputMb: bytes / 1e6, rows: rows.length };
  for (const [name, text] of Object.entries(QUERIES)) {
    let best = Number.POSITIVE_INFINITY;
    let bestWall = Number.POSITIVE_INFINITY;
    let result: Row[] = [];
    for (let p = 0; p < PASSES + 1; p++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      if (variant === 'logferry') {
        result = (await compileQuery(text).execute(rows)).rows;
      } else {
        result = naiveRun(parseQuery(text), rows);
      }
      const c = process.cpuUsage(c0);
      // CPU time (user + system) of this process: the machine is shared, so wall time is noisy.
      const ms = (c.user + c.system) / 1000;
      if (p > 0) {
        best = Math.min(best, ms); // first pass warms up
        bestWall = Math.min(bestWall, performance.now() - t0);
      }
    }
    out.perQuery[name] = {
      ms: Math.round(best * 10) / 10,
      wallMs: Math.round(bestWall * 10) / 10,
      rowsPerSec: Math.round(rows.length / (best / 1000)),
      mbPerSec: Math.round((bytes / 1e6 / (best / 1000)) * 10) / 10,
      resultRows: result.length,
      digest: digest(result),
    };
  }
  out.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function parent(): void {
  const results: VariantResult[] = [];
  for (const variant of ['logferry', 'naive']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, variant], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      env: { ...process.env },
    });
    if (r.status !== 0) {
      process.stderr.write(r.stderr);
      throw new Error(`variant ${variant} failed`);
    }
    results.push(JSON.parse(r.stdout.trim().split('\n').at(-1)!));
  }
  const [fast, naive] = results;
  console.log(
    `rows: ${fast.rows.toLocaleString()}  input: ${fast.inputMb.toFixed(1)} MB (JSON)  passes: ${PASSES}`,
  );
  console.log('query            variant   CPU ms  wall ms   rows/s (CPU)  MB/s (CPU)  result  speed-up');
  let mismatch = false;
  for (const q of Object.keys(QUERIES)) {
    const a = fast.perQuery[q];
    const b = naive.perQuery[q];
    if (a.digest !== b.digest) mismatch = true;
    for (const [v, x] of [
      ['logferry', a],
      ['naive', b],
    ] as const) {
      console.log(
        `${q.padEnd(16)} ${v.padEnd(9)} ${String(x.ms).padStart(7)} ${String(x.wallMs).padStart(8)} ${x.rowsPerSec.toLocaleString().padStart(12)} ${String(x.mbPerSec).padStart(10)} ${String(x.resultRows).padStart(8)}  ${v === 'logferry' ? `${(b.ms / a.ms).toFixed(1)}×` : ''}`,
      );
    }
  }
  console.log(
    `peak RSS: logferry ${fast.peakRssMb} MB, naive ${naive.peakRssMb} MB (both include the ${fast.inputMb.toFixed(0)} MB of rows)`,
  );
  console.log(mismatch ? 'RESULTS DIFFER between variants' : 'results identical between variants');
  writeResults('query-engine', {
    scenario: 'query-engine',
    date: new Date().toISOString(),
    node: process.version,
    results,
  });
  if (mismatch) process.exit(1);
}

if (process.argv[2]) await child(process.argv[2]);
else parent();
