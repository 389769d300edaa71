/**
 * Benchmark `archive-to-query`: `logferry query` scanning a ≥ 1 GB (uncompressed) local archive
 * written by the real S3 sink (gzip ndjson, seed EKS layout, demo events without parsed fields, so
 * the reader parses JSON messages on read), running the seed's aws-auth query — against `jq` doing
 * the same filter over the same files (`gzip -dc | jq -c 'select(…)'`), in the same run.
 * Reports events/s, MB/s (uncompressed), peak RSS of each, and logferry's speed-up over jq.
 *
 *   npx tsx bench/query-scan.ts [--gb 1] [--threads N]
 *
 * The archive is generated once (deterministic seed, about a minute) and cached in
 * ~/.cache/logferry-bench/query-scan-v1-<gb>gb. jq must be installed (`apt-get install -y jq`).
 * Peak RSS comes from GNU time (`/usr/bin/time -f %M`) for both tools. Results also go to
 * bench/results/query-scan.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { LogRecord } from '../src/core/record.js';
import type { Encoded } from '../src/core/sink.js';
import { runQuery } from '../src/query/backends/index.js';
import { S3Sink } from '../src/sinks/s3.js';
import { DemoGenerator } from '../src/sources/demo.js';

const QUERY = `fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name, responseObject.code, @message
| filter @logStream like /^kube-apiserver-audit/
| filter objectRef.resource == "configmaps"
| filter objectRef.name == "aws-auth"
| filter verb not in ["watch", "list", "get"]
| sort @timestamp desc`;

// The same filter for jq: fields from the document, or from the JSON message when absent.
const JQ_FILTER = `select((."@logStream" // "" | startswith("kube-apiserver-audit"))
  and ((if .objectRef then . else (."@message" | fromjson? // {}) end) as $m
       | ($m.objectRef.resource == "configmaps") and ($m.objectRef.name == "aws-auth")
         and (($m.verb | IN("watch", "list", "get")) | not)))`;

const args = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.name.endsWith('.gz')) out.push(p);
  }
  return out.sort();
}

async function generate(dir: string, targetBytes: number): Promise<void> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const sink = new S3Sink({ url: dir, format: 'ndjson', maxRecords: 10_000 });
  const gen = new DemoGenerator({
    seed: 42,
    eventsPerEnvelope: 100,
    now: Date.UTC(2026, 10, 1),
    windowMinutes: 24 * 60,
    totalEnvelopes: 12_000,
    controlEvery: 0,
  });
  const pending = new Map<string, Encoded<string>[]>();
  let rawBytes = 0;
  let events = 0;
  const flush = async (k: string) => {
    const g = pending.get(k);
    if (!g?.length) return;
    pending.delete(k);
    const res = await sink.send(g, { attempt: 1 });
    if (res.problems.length) throw new Error(`archive write failed: ${res.problems[0].reason}`);
  };
  const started = Date.now();
  while (rawBytes < targetBytes) {
    const m = gen.nextMessage();
    if (m.messageType !== 'DATA_MESSAGE') continue;
    for (const e of m.logEvents) {
      const r: LogRecord = {
        timestamp: e.timestamp,
        message: e.message,
        fields: {},
        meta: {
          owner: m.owner,
          logGroup: m.logGroup,
          logStream: m.logStream,
          id: e.id,
          source: 'bench',
          ackId: '',
        },
      };
      const enc = sink.encode(r);
      if ('reject' in enc) continue;
      rawBytes += enc.bytes;
      events++;
      const k = enc.partition ?? '';
      const g = pending.get(k);
      if (g) g.push(enc);
      else pending.set(k, [enc]);
      if ((pending.get(k)?.length ?? 0) >= 10_000) await flush(k);
    }
    if (events % 100_000 < 100)
      process.stderr.write(
        `\rgenerating… ${(rawBytes / 1e6).toFixed(0)} MB, ${events.toLocaleString()} events`,
      );
  }
  for (const k of [...pending.keys()]) await flush(k);
  await sink.close();
  process.stderr.write(
    `\rgenerated ${(rawBytes / 1e6).toFixed(0)} MB, ${events.toLocaleString()} events in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  writeFileSync(join(dir, '.complete'), JSON.stringify({ rawBytes, events }));
}

interface ChildResult {
  elapsedMs: number;
  scanned: number;
  matched: number;
  rows: number;
  bytesIn: number;
  bytesText: number;
  threads: number;
}

async function child(dir: string, threads?: number): Promise<void> {
  const started = performance.now();
  const run = await runQuery({ query: QUERY, from: dir, threads });
  const out: ChildResult = {
    elapsedMs: performance.now() - started,
    scanned: run.progress.recordsScanned,
    matched: run.progress.recordsMatched,
    rows: run.result.rows.length,
    bytesIn: run.progress.bytesIn,
    bytesText: run.progress.bytesText,
    threads: run.progress.threads,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function peakRss(timeFile: string): number {
  const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
  return Number(lines[lines.length - 1]) * 1024;
}

async function main(): Promise<void> {
  if (args[0] === '--child') return child(args[1], args[2] ? Number(args[2]) : undefined);
  const gb = Number(arg('gb', '1'));
  const threads = args.includes('--threads') ? Number(arg('threads', '0')) : undefined;
  const dir = join(
    process.env.LOGFERRY_BENCH_CACHE ?? join(homedir(), '.cache', 'logferry-bench'),
    `query-scan-v1-${gb}gb`,
  );
  if (!existsSync(join(dir, '.complete'))) await generate(dir, gb * 1e9);
  const meta = JSON.parse(readFileSync(join(dir, '.complete'), 'utf8')) as {
    rawBytes: number;
    events: number;
  };
  const files = walk(dir);
  const gzBytes = files.reduce((n, f) => n + statSync(f).size, 0);
  console.log(
    `archive: ${files.length} objects, ${(gzBytes / 1e6).toFixed(0)} MB gzip, ${(meta.rawBytes / 1e6).toFixed(0)} MB uncompressed, ${meta.events.toLocaleString()} events (${dir})`,
  );
  const timeFile = join(dir, '..', `.time-${process.pid}`);

  // logferry, bundled as the CLI is (esbuild, this file + the scan worker side by side), in a child
  // process so its peak RSS is its own; the workers are threads of that process.
  const bundleDir = join(
    new URL('..', import.meta.url).pathname,
    'node_modules',
    '.cache',
    `logferry-bench-query-scan-${process.pid}`,
  );
  await build({
    entryPoints: {
      'query-scan': new URL(import.meta.url).pathname,
      'query-worker': new URL('../src/query/backends/scan-worker.ts', import.meta.url).pathname,
    },
    outdir: bundleDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  const t0 = performance.now();
  const lf = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      '%M',
      '-o',
      timeFile,
      process.execPath,
      join(bundleDir, 'query-scan.mjs'),
      '--child',
      dir,
      ...(threads === undefined ? [] : [String(threads)]),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  rmSync(bundleDir, { recursive: true, force: true });
  if (lf.status !== 0) throw new Error(`logferry run failed: ${lf.stderr}`);
  // Wall time of the whole process (node start-up included), like the jq pipeline's.
  const lfWallMs = performance.now() - t0;
  const lfr = JSON.parse(lf.stdout.trim().split('\n').pop() as string) as ChildResult;
  const lfRss = peakRss(timeFile);

  // jq over the same files (gzip -dc decompresses in its own process, as a shell user would run it).
  let jq: { elapsedMs: number; matched: number; rss: number } | undefined;
  try {
    execFileSync('jq', ['--version'], { stdio: 'ignore' });
    const list = join(dir, '..', `.files-${process.pid}`);
    writeFileSync(list, `${files.join('\0')}\0`);
    const started = performance.now();
    const out = execFileSync(
      'bash',
      [
        '-c',
        `set -o pipefail; xargs -0 cat < '${list}' | gzip -dc | /usr/bin/time -f %M -o '${timeFile}' jq -c '${JQ_FILTER.replace(/'/g, "'\\''")}' | wc -l`,
      ],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    jq = { elapsedMs: performance.now() - started, matched: Number(out.trim()), rss: peakRss(timeFile) };
    rmSync(list, { force: true });
  } catch (e) {
    console.log(
      `jq baseline skipped (${(e as Error).message.split('\n')[0]}); install it with: apt-get install -y jq`,
    );
  }
  rmSync(timeFile, { force: true });

  const row = (name: string, ms: number, matched: number, rss: number) =>
    `${name.padEnd(22)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${Math.round(meta.events / (ms / 1000))
      .toLocaleString()
      .padStart(
        11,
      )} events/s  ${(meta.rawBytes / 1e6 / (ms / 1000)).toFixed(0).padStart(5)} MB/s  ${String(matched).padStart(6)} matched  peak RSS ${(rss / 1e6).toFixed(0)} MB`;
  console.log(
    `query: the seed's aws-auth filter (${lfr.threads} scan worker thread(s); ${lfr.scanned.toLocaleString()} records scanned after key pruning)`,
  );
  console.log(row('logferry query', lfWallMs, lfr.matched, lfRss));
  console.log(`  (in-process query time ${(lfr.elapsedMs / 1000).toFixed(2)} s; the rest is node start-up)`);
  const phase = (name: string, ms: number, matched: number, rss: number) => ({
    phase: name,
    records: meta.events,
    bytes: meta.rawBytes,
    matched,
    wallMs: Math.round(ms),
    recordsPerSec: Math.round(meta.events / (ms / 1000)),
    mbPerSec: Math.round((meta.rawBytes / 1e6 / (ms / 1000)) * 10) / 10,
    peakRssMb: Math.round(rss / 1e6),
  });
  const results = {
    scenario: 'query-scan',
    at: new Date().toISOString(),
    cpus: cpus().length,
    loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
    archive: { objects: files.length, gzipBytes: gzBytes, bytes: meta.rawBytes, events: meta.events },
    query: 'seed aws-auth changes',
    phases: [
      {
        ...phase('logferry', lfWallMs, lfr.matched, lfRss),
        threads: lfr.threads,
        scannedAfterPruning: lfr.scanned,
        inProcessMs: Math.round(lfr.elapsedMs),
      },
      ...(jq ? [phase('jq', jq.elapsedMs, jq.matched, jq.rss)] : []),
    ],
    speedupVsJq: jq ? Math.round((jq.elapsedMs / lfWallMs) * 100) / 100 : null,
  };
  const resultsDir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'query-scan.json'), `${JSON.stringify(results, null, 2)}\n`);
  if (jq) {
    console.log(row('jq (gzip -dc | jq)', jq.elapsedMs, jq.matched, jq.rss));
    console.log(
      `logferry is ${(jq.elapsedMs / lfWallMs).toFixed(1)}× jq${jq.matched === lfr.matched ? '' : `  (MISMATCH: logferry ${lfr.matched} vs jq ${jq.matched})`}`,
    );
  }
}

await main();
