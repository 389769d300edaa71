/**
 * Benchmark `archive-to-console`: time to first rows in `logferry console` against `logferry query`
 * on the 1 GB archive of bench/query-scan (generated there on first use and cached), same queries,
 * same run. Both are the built CLI bundle in child processes; the console is started once and
 * asked over its HTTP API (`POST /api/query`), the CLI is started per query (`-o json`), as users
 * run them. Reports, per query, the median of 3 runs:
 *   - CLI: process start → first byte of stdout (its first row) and → exit;
 *   - console: request → first progress event, → first rows (a `partial` event with rows, or the
 *     result when none came first), → result event (the whole answer);
 * and the ratio console/CLI for first rows. Results in bench/results/console-first-rows.json.
 *
 *   npx tsx bench/console-first-rows.ts [--gb 1]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { median, writeResults } from './lib/harness.js';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const gb = Number(args.includes('--gb') ? args[args.indexOf('--gb') + 1] : '1');
const RUNS = 3;

const QUERIES: Record<string, string> = {
  'aws-auth (seed)': `fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name, responseObject.code, @message
| filter @logStream like /^kube-apiserver-audit/
| filter objectRef.resource == "configmaps"
| filter objectRef.name == "aws-auth"
| filter verb not in ["watch", "list", "get"]
| sort @timestamp desc`,
  'newest 20': 'fields @timestamp, @message | sort @timestamp desc | limit 20',
  'stats by bin(1h)': 'stats count(*) by bin(1h)',
};

function cliRun(cli: string, dir: string, query: string): Promise<{ firstMs: number; totalMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let firstMs = -1;
    const p = spawn(process.execPath, [cli, 'query', query, '--from', dir, '-o', 'json'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    p.stdout.on('data', () => {
      if (firstMs < 0) firstMs = performance.now() - t0;
    });
    p.on('error', reject);
    p.on('exit', (code) =>
      code === 0
        ? resolve({ firstMs, totalMs: performance.now() - t0 })
        : reject(new Error(`logferry query exited ${code}`)),
    );
  });
}

function consoleRun(
  base: string,
  query: string,
): Promise<{ progressMs: number; rowsMs: number; resultMs: number; rows: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let progressMs = -1;
    let rowsMs = -1;
    let buf = '';
    const req = request(
      new URL('/api/query', base),
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            const ev = JSON.parse(buf.slice(0, nl)) as { type: string; rows?: unknown[]; error?: string };
            buf = buf.slice(nl + 1);
            nl = buf.indexOf('\n');
            if (ev.type === 'progress' && progressMs < 0) progressMs = performance.now() - t0;
            if (ev.type === 'partial' && rowsMs < 0 && (ev.rows?.length ?? 0) > 0)
              rowsMs = performance.now() - t0;
            if (ev.type === 'result') {
              const resultMs = performance.now() - t0;
              resolve({
                progressMs,
                rowsMs: rowsMs < 0 ? resultMs : rowsMs,
                resultMs,
                rows: ev.rows?.length ?? 0,
              });
            }
            if (ev.type === 'error') reject(new Error(ev.error));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ query }));
  });
}

async function main(): Promise<void> {
  const dir = join(
    process.env.LOGFERRY_BENCH_CACHE ?? join(homedir(), '.cache', 'logferry-bench'),
    `query-scan-v1-${gb}gb`,
  );
  if (!existsSync(join(dir, '.complete'))) {
    console.log('archive missing: running bench/query-scan once to generate it…');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench', 'query-scan.ts'), '--gb', String(gb)],
      {
        stdio: 'inherit',
      },
    );
    if (r.status !== 0) throw new Error('bench/query-scan failed');
  }
  const out = mkdtempSync(join(root, 'build', 'bench-console-'));
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
    env: { ...process.env, LOGFERRY_BUILD_OUT: out },
    stdio: 'inherit',
  });
  if (b.status !== 0) throw new Error('build failed');
  const cli = join(out, 'cli', 'logferry.mjs');
  let server: ChildProcess | undefined;
  try {
    server = spawn(process.execPath, [cli, 'console', '--from', dir, '--port', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const base = await new Promise<string>((resolve, reject) => {
      let err = '';
      server?.stderr?.on('data', (d) => {
        err += d.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(err);
        if (m) resolve(m[1] as string);
      });
      server?.on('exit', (c) => reject(new Error(`console exited ${c}: ${err}`)));
    });
    const results: Record<string, unknown> = {};
    for (const [name, q] of Object.entries(QUERIES)) {
      const cliRuns: { firstMs: number; totalMs: number }[] = [];
      const conRuns: { progressMs: number; rowsMs: number; resultMs: number; rows: number }[] = [];
      // Alternate the two so drift on a shared machine hits both alike.
      for (let i = 0; i < RUNS; i++) {
        cliRuns.push(await cliRun(cli, dir, q));
        conRuns.push(await consoleRun(base, q));
      }
      const cliFirst = median(cliRuns.map((r) => r.firstMs));
      const conRows = median(conRuns.map((r) => r.rowsMs));
      results[name] = {
        cli: {
          firstRowsMs: Math.round(cliFirst),
          totalMs: Math.round(median(cliRuns.map((r) => r.totalMs))),
        },
        console: {
          firstProgressMs: Math.round(median(conRuns.map((r) => r.progressMs))),
          firstRowsMs: Math.round(conRows),
          resultMs: Math.round(median(conRuns.map((r) => r.resultMs))),
          rows: conRuns[0]?.rows,
        },
        firstRowsRatioConsoleOverCli: Number((conRows / cliFirst).toFixed(3)),
      };
      console.log(
        `${name.padEnd(18)} CLI first rows ${(cliFirst / 1000).toFixed(2)} s · console first progress ${(median(conRuns.map((r) => r.progressMs)) / 1000).toFixed(2)} s, rows ${(conRows / 1000).toFixed(2)} s · console/CLI ${(conRows / cliFirst).toFixed(2)}×`,
      );
    }
    writeResults('console-first-rows', {
      scenario: 'archive-to-console',
      archive: dir,
      runs: RUNS,
      machine: { cpus: cpus().length, loadavg: loadavg().map((x) => Number(x.toFixed(2))) },
      results,
    });
  } finally {
    server?.kill('SIGINT');
    rmSync(out, { recursive: true, force: true });
  }
}

await main();
