/**
 * The console's live views against a real running daemon: `logferry run --follow` on the demo
 * source with --metrics-address, and `logferry console --daemon` pointed at it. The pipeline view
 * shows the graph with counts that grow; the live tail shows only records the filter keeps and
 * stops updating while paused. In headless Chromium, with screenshots under docs/images/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningConsole, startConsole } from '../src/console/server.js';
import { launchChromium, screenshotDir } from './infra/chromium.js';
import { freePort, waitFor } from './infra/process.js';

interface Dom {
  innerText: string;
  textContent: string | null;
}
declare const document: { querySelector(s: string): Dom | null; querySelectorAll(s: string): ArrayLike<Dom> };

const root = new URL('..', import.meta.url).pathname;
const images = screenshotDir();
let dir: string;
let build: string;
let daemon: ChildProcess;
let metrics: string;
let c: RunningConsole;
let browser: Browser;
let page: Page;

/** Reads NDJSON lines from a streaming GET until `n` records arrived, then closes it. */
function readTail(path: string, n: number): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const out: Record<string, unknown>[] = [];
    let buf = '';
    const req = request(new URL(path, c.url), (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
          if (!line) continue;
          const ev = JSON.parse(line) as Record<string, unknown>;
          if (ev.type === 'record') out.push(ev);
          if (out.length >= n) {
            req.destroy();
            resolve(out);
            return;
          }
        }
      });
      res.on('end', () => resolve(out));
    });
    req.on('error', (e) => (out.length >= n ? resolve(out) : reject(e)));
    req.end();
  });
}

beforeAll(async () => {
  mkdirSync(images, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'lf-console-live-'));
  build = mkdtempSync(join(root, 'build', 'console-live-'));
  const { buildWeb } = (await import(join(root, 'scripts', 'build-web.mjs'))) as {
    buildWeb: (root: string, dist: string) => Promise<void>;
  };
  await buildWeb(root, build);
  const port = await freePort();
  metrics = `127.0.0.1:${port}`;
  const config = join(dir, 'pipeline.yaml');
  writeFileSync(
    config,
    [
      'sources:',
      '  demo: { type: demo, tag: demo.eks }',
      'sinks:',
      `  archive: { type: s3, url: ${JSON.stringify(join(dir, 'archive'))} }`,
      '',
    ].join('\n'),
  );
  daemon = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'src', 'cli', 'main.ts'),
      'run',
      config,
      '--follow',
      '--rate',
      '200',
      '--metrics-address',
      metrics,
      '--out',
      join(dir, 'data'),
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  daemon.stderr?.on('data', (d) => {
    err = (err + d.toString()).slice(-4000);
  });
  await waitFor(
    `logferry run (stderr: ${err})`,
    async () => (await fetch(`http://${metrics}/health`)).ok,
    60_000,
    daemon,
  );
  c = await startConsole({
    from: join(dir, 'archive'),
    queriesDir: join(dir, 'queries'),
    assetsDir: join(build, 'console'),
    daemon: metrics,
    threads: 0,
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await c?.close();
  if (daemon && daemon.exitCode === null) {
    const gone = new Promise((r) => daemon.once('exit', r));
    daemon.kill('SIGINT');
    await gone;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (build) rmSync(build, { recursive: true, force: true });
});

describe('console live views of a running daemon', () => {
  it('reports the daemon graph with counts that grow while it runs', async () => {
    const get = async () =>
      (await (await fetch(new URL('/api/daemon/pipeline', c.url))).json()) as {
        phase: string;
        sources: { name: string; type: string; tag: string; counts: { received: number } | null }[];
        sinks: { name: string; type: string }[];
      };
    const first = await get();
    expect(first.phase).toBe('running');
    expect(first.sources.map((s) => [s.name, s.type, s.tag])).toEqual([['demo', 'demo', 'demo.eks']]);
    expect(first.sinks.map((s) => [s.name, s.type])).toEqual([['archive', 's3']]);
    const n0 = first.sources[0]?.counts?.received ?? 0;
    await waitFor(
      'received count to grow',
      async () => ((await get()).sources[0]?.counts?.received ?? 0) > n0,
      30_000,
    );
  });

  it('tails only the records the Logs Insights filter keeps', async () => {
    const recs = await readTail(
      `/api/daemon/tail?components=demo&filter=${encodeURIComponent('@logStream like /^kube-apiserver-audit/')}`,
      5,
    );
    expect(recs).toHaveLength(5);
    for (const r of recs) {
      expect(r.component).toBe('demo');
      expect(String(r.logStream)).toMatch(/^kube-apiserver-audit/);
    }
  });

  it('refuses a bad filter with its line and column', async () => {
    const res = await fetch(new URL(`/api/daemon/tail?filter=${encodeURIComponent('verb = ')}`, c.url));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { problems: { line: number; column: number }[] };
    expect(body.problems[0]).toMatchObject({ line: 1 });
  });

  it('shows the pipeline and a filtered, pausable live tail in the browser', async () => {
    await page.goto(c.url);
    await page.waitForSelector('nav.modes button:has-text("Pipeline"):not([disabled])');
    await page.click('nav.modes button:has-text("Pipeline")');
    await page.waitForSelector('[data-testid=node-demo]');
    await page.waitForSelector('[data-testid=node-archive]');
    await page.waitForFunction(() =>
      /[1-9][\d,]* records\/s/.test(document.querySelector('[data-testid=node-demo]')?.innerText ?? ''),
    );
    await page.screenshot({ path: join(images, 'console-pipeline.png') });

    await page.click('nav.modes button:has-text("Live tail")');
    await page.fill('form[aria-label="live tail"] input[name=filter]', '@logStream like /^authenticator/');
    await page.click('form[aria-label="live tail"] button[type=submit]');
    await page.waitForFunction(
      () => document.querySelectorAll('table[aria-label="live records"] tbody tr').length >= 3,
      undefined,
      {
        timeout: 30_000,
      },
    );
    const streams = await page.$$eval('table[aria-label="live records"] tbody tr td:nth-child(3)', (tds) =>
      tds.map((t) => t.textContent ?? ''),
    );
    for (const s of streams) expect(s).toMatch(/^authenticator/);
    await page.screenshot({ path: join(images, 'console-tail.png') });

    await page.click('form[aria-label="live tail"] button:has-text("Pause")');
    await page.waitForTimeout(600);
    const paused = await page.$$eval('table[aria-label="live records"] tbody tr', (trs) => trs.length);
    await page.waitForTimeout(1500);
    expect(await page.$$eval('table[aria-label="live records"] tbody tr', (trs) => trs.length)).toBe(paused);
    await page.click('form[aria-label="live tail"] button:has-text("Resume")');
    await page.waitForFunction(
      (n) => document.querySelectorAll('table[aria-label="live records"] tbody tr').length > n,
      paused,
      { timeout: 30_000 },
    );
  });
});
