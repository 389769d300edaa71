/**
 * Operating a pipeline from the command line: `logferry validate` (every problem at once, exit 2;
 * one line when valid; `--connect`), `logferry tap` (NDJSON of records leaving a component, delivery
 * unchanged), `--metrics-address` (Prometheus /metrics and /health while running) and named routing
 * through `logferry run`. Runs the CLI from source (tsx) in a temp directory; no services needed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walk } from './infra/cli-daemon.js';

const root = new URL('..', import.meta.url).pathname;
const main = join(root, 'src', 'cli', 'main.ts');
/** tsx by absolute URL: the CLI runs with a temp directory as its working directory. */
const tsx = import.meta.resolve('tsx');
let dir: string;
const env = { ...process.env, LOGFERRY_OPENSEARCH_URL: '', LOGFERRY_S3_URL: '', LOGFERRY_DLQ: '' };

function cli(args: string[], cwd = dir) {
  const r = spawnSync(process.execPath, ['--import', tsx, main, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
    env,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return name;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lf-operate-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Demo source; `only-lambda` keeps Lambda records (parse transform as a stand-in keeps all). */
const ROUTED = [
  'sources:',
  '  demo: { type: demo, envelopes: 40, eventsPerEnvelope: 20, seed: 3, tag: cwl.demo }',
  'transforms:',
  '  parsed: { type: parse, parser: { type: json }, onError: keep }',
  'sinks:',
  '  archive: { type: s3, url: file://./archive, format: ndjson }',
  '  copy: { type: s3, url: file://./copy, format: ndjson, inputs: [parsed] }',
  '  tagged: { type: s3, url: file://./tagged, format: ndjson, match: "cwl.*" }',
  'deadLetter: { type: file, path: ./dlq }',
];

describe('logferry validate', () => {
  it('prints one line describing the graph and exits 0 for a good config', () => {
    const r = cli(['validate', file('good.yaml', ROUTED)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(
      /good\.yaml: valid — 1 source \(demo\), 1 transform \(parsed\), 3 sinks \(archive, copy, tagged\)/,
    );
  });

  it('lists every problem at once with its path, exit 2, no stack trace', () => {
    const r = cli([
      'validate',
      file('bad.yaml', [
        'sources:',
        '  demo: { type: demo, colour: blue }',
        'transforms:',
        '  a: { type: parse, parser: { type: json }, inputs: [b] }',
        '  b: { type: parse, parser: { type: json }, inputs: [a] }',
        '  c: { type: parse, parser: { type: nonsense } }',
        'sinks:',
        '  search: { type: s3, url: file://./x, inputs: [no-such-thing] }',
        '  tagged: { type: s3, url: file://./y, match: "kube.*" }',
        '  demo: { type: blackhole }',
      ]),
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toMatch(/sources\.demo: unknown key\(s\): colour/);
    expect(r.stderr).toMatch(/transforms\.c\.parser/);
    expect(r.stderr).toMatch(/sinks\.search\.inputs\[0\]: "no-such-thing" names no source or transform/);
    expect(r.stderr).toMatch(/sinks\.tagged\.match: "kube\.\*" matches no source's tag/);
    expect(r.stderr).toMatch(/cycle (a → b → a|b → a → b)/);
    expect(r.stderr).toMatch(/sinks\.demo: the name "demo" is already used by a source/);
  });

  it('refuses an empty file, a YAML alias bomb and a directory with a sentence (exit 2)', () => {
    const empty = cli(['validate', file('empty.yaml', ['# nothing here', ''])]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/the file is empty/);
    const bomb = cli([
      'validate',
      file('bomb.yaml', [
        'a: &a ["x","x","x","x","x","x","x","x","x"]',
        'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
        'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
        'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
        'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      ]),
    ]);
    expect(bomb.code).toBe(2);
    expect(bomb.stderr).toMatch(/too many alias expansions/);
    expect(bomb.stderr).not.toMatch(/ReferenceError|\n\s+at /);
    const run = cli(['run', 'bomb.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/too many alias expansions/);
    const d = cli(['validate', '.']);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/directory/);
  });

  it('--connect reports every sink it cannot reach', () => {
    const r = cli([
      'validate',
      '--connect',
      file('connect.yaml', [
        'sources: { demo: { type: demo } }',
        'sinks:',
        '  search: { type: opensearch, url: "http://127.0.0.1:1" }',
        '  local: { type: s3, url: file://./ok }',
        '  hook: { type: http, flavor: ndjson, url: "http://127.0.0.1:2/in" }',
      ]),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sinks\.search: cannot reach 127\.0\.0\.1:1/);
    expect(r.stderr).toMatch(/sinks\.hook: cannot reach 127\.0\.0\.1:2/);
    expect(r.stderr).not.toMatch(/sinks\.local/);
  });
});

describe('routing through logferry run, and tap', () => {
  it('fans out by inputs and match; each archive gets every record once; stdout stays empty', () => {
    const r = cli(['run', 'good.yaml', '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    const s = JSON.parse(lines[lines.length - 1]);
    expect(s.balanced).toBe(true);
    const count = (sub: string) =>
      walk(join(dir, sub))
        .filter((f) => f.endsWith('.gz'))
        .reduce((n, f) => n + gunzipSync(readFileSync(f)).toString('utf8').trim().split('\n').length, 0);
    expect(count('archive')).toBe(s.events.delivered);
    expect(count('copy')).toBe(s.events.delivered);
    expect(count('tagged')).toBe(s.events.delivered);
  });

  it('tap prints NDJSON of the records leaving a component, and delivery is unchanged', () => {
    const r = cli(['tap', 'good.yaml', 'parsed']);
    expect(r.stderr.split('\n').filter((l) => l.includes('"level"'))).toEqual([]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const docs = lines.map((l) => JSON.parse(l));
    expect(docs.every((d) => d.component === 'parsed' && typeof d.message === 'string')).toBe(true);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}');
    expect(docs.length).toBe(summary.events.delivered);
    const unknown = cli(['tap', 'good.yaml', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no component named "nope"/);
  });
});

describe('--metrics-address', () => {
  it('serves /metrics and /health while running; the counters add up', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        tsx,
        main,
        'run',
        '--follow',
        '--rate',
        '2000',
        '--out',
        join(dir, 'm'),
        '--metrics-address',
        '127.0.0.1:0',
      ],
      { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let exited = false;
    const exit = new Promise((r) =>
      child.once('exit', () => {
        exited = true;
        r(undefined);
      }),
    );
    let stderr = '';
    child.stderr?.on('data', (c) => {
      stderr += String(c);
    });
    try {
      const address = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no metrics address in: ${stderr}`)), 30_000);
        const check = setInterval(() => {
          if (exited) {
            clearTimeout(t);
            clearInterval(check);
            reject(new Error(`the run ended early: ${stderr}`));
          }
          const m = /"address":"(http:\/\/[^"]+)\/metrics"/.exec(stderr);
          if (m) {
            clearTimeout(t);
            clearInterval(check);
            resolve(m[1]);
          }
        }, 50);
      });
      expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${address}/health`)).status).toBe(200);
      let text = '';
      for (let i = 0; i < 100; i++) {
        text = await (await fetch(`${address}/metrics`)).text();
        if (/outcome="delivered"} [1-9]/.test(text)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(text).toMatch(/# TYPE logferry_records_total counter/);
      expect(text).toMatch(
        /logferry_records_total\{component="demo",log_group="[^"]+",outcome="received"\} \d+/,
      );
      expect(text).toMatch(/logferry_queue_depth\{component="s3"\} \d+/);
      // Per component and log group: received ≥ delivered + dropped + rejected + failed (in flight = rest).
      const rows = [
        ...text.matchAll(
          /logferry_records_total\{component="demo",log_group="([^"]+)",outcome="(\w+)"\} (\d+)/g,
        ),
      ];
      const by = new Map<string, Record<string, number>>();
      for (const [, g, o, n] of rows) by.set(g, { ...by.get(g), [o]: Number(n) });
      for (const c of by.values())
        expect(c.received).toBeGreaterThanOrEqual(c.delivered + c.dropped + c.rejected + c.failed);
      expect(await (await fetch(`${address}/nope`)).status).toBe(404);
    } finally {
      if (!exited) child.kill('SIGINT');
      await exit;
    }
    expect(stderr).toMatch(/logferry run: interrupted/);
  });
});
