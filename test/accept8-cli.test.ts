/**
 * Issue #8 §1 through the built CLI, as a judge runs it (session 5, accept8). Before the fixes:
 * - `logferry tap` over a record nested 5,000 levels deep stopped its source
 *   ("Maximum call stack size exceeded", exit 1, the other records never delivered);
 * - `logferry run` with a stdout sink failed the deep record's whole batch (INTERNAL, redriven);
 * - an archive directory holding a zstd / Snappy / binary object read it as text: garbage rows
 *   counted in the answer, exit 0, nothing said (a single such `--from` file was refused);
 * - `logferry validate|run|replay -c /dev/zero` read the device until memory ran out (3 GB in 10 s),
 *   `logferry replay /dev/zero` too; a FIFO waited forever;
 * - `logferry query -o json|csv|table` over an archive line with `@timestamp: 1e20` ended with
 *   `RangeError: Invalid time value` and a stack trace; `jsonParse` + `unnest` of a deep message
 *   ended `-o json` with `RangeError: Maximum call stack size exceeded`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle } from './infra/cli-bundle.js';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'node_modules', '.cache', `logferry-accept8-cli-${process.pid}`);
const cli = join(outDir, 'cli', 'logferry.mjs');
const DEEP = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lf-a8-cli-'));
  await buildCliBundle(outDir);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});

function cliRun(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: dir,
    input,
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 << 20,
    env: { ...process.env, LOGFERRY_OPENSEARCH_URL: '', LOGFERRY_S3_URL: '', LOGFERRY_DLQ: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = `{"message":"ok1"}\n{"message":"deep","x":${DEEP}}\n{"message":"ok2"}\n`;

describe('a record nested 5,000 levels deep, through the CLI', () => {
  it('tap prints the other records and the run ends balanced', () => {
    const cfg = join(dir, 'tap.yaml');
    writeFileSync(cfg, `sources:\n  s: {type: stdin, format: auto}\nsinks:\n  out: {type: blackhole}\n`);
    const r = cliRun(['tap', cfg, 's'], lines);
    expect(r.stderr).not.toMatch(/call stack/);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trim().split('\n');
    expect(out).toHaveLength(3);
    expect(out.map((l) => JSON.parse(l).message)).toEqual(['ok1', 'deep', 'ok2']);
  });

  it('run with a stdout sink: the deep record is dead-lettered alone, its neighbours delivered', () => {
    const cfg = join(dir, 'stdout.yaml');
    const dl = join(dir, 'dl');
    writeFileSync(
      cfg,
      `sources:\n  - type: stdin\n    format: auto\nsinks:\n  - type: stdout\ndeadLetter: {type: file, path: ${dl}}\n`,
    );
    const r = cliRun(['run', cfg, '--json'], lines);
    expect(r.code, r.stderr).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)['@message']),
    ).toEqual(['ok1', 'ok2']);
    const summary = JSON.parse(r.stderr.trim().split('\n').pop() as string);
    expect(summary.events).toMatchObject({ received: 3, delivered: 2, rejected: 1, failed: 0 });
  });
});

describe('query output over hostile archive lines', () => {
  beforeAll(() => {
    const archive = join(dir, 'archive');
    mkdirSync(archive, { recursive: true });
    const docs = [
      { '@timestamp': 1e20, '@message': 'far' },
      { '@timestamp': Date.UTC(2026, 11, 6, 4), '@message': DEEP },
      { '@timestamp': Date.UTC(2026, 11, 6, 5), '@message': '{"a":{"b":1}}' },
    ];
    writeFileSync(join(archive, 'x.ndjson'), `${docs.map((d) => JSON.stringify(d)).join('\n')}\n`);
  });

  it.each(['json', 'csv', 'table'])('-o %s: a 1e20 timestamp is printed, no trace', (o) => {
    const r = cliRun([
      'query',
      '--from',
      join(dir, 'archive'),
      '-o',
      o,
      'fields @timestamp, @message | sort @message asc',
    ]);
    expect(r.stderr).not.toMatch(/RangeError|Invalid time value|\n\s+at /);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('100000000000000000000');
  });

  it('-o json: jsonParse + unnest of a deep message answers, capped', () => {
    const r = cliRun([
      'query',
      '--from',
      join(dir, 'archive'),
      '-o',
      'json',
      'fields jsonParse(@message) as j | unnest j into k | stats count() as n by k',
    ]);
    expect(r.stderr).not.toMatch(/RangeError|call stack/);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { n: number }[];
    expect(rows.reduce((s, x) => s + x.n, 0)).toBe(2);
    expect(r.stdout).toContain('nested deeper than');
  });
});

describe('objects that are neither gzip nor text inside an archive directory', () => {
  it('are reported as not read (exit 3), never counted as rows', () => {
    const archive = join(dir, 'mixed');
    mkdirSync(archive, { recursive: true });
    writeFileSync(join(archive, 'good.ndjson'), '{"@timestamp":1796529600000,"@message":"one"}\n');
    writeFileSync(
      join(archive, 'a.zst'),
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x41, 0x0a, 0x42, 0x0a]),
    );
    writeFileSync(
      join(archive, 'b.snappy'),
      Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59, 0x0a, 0x41, 0x0a]),
    );
    writeFileSync(join(archive, 'c.bin'), Buffer.from('line one\n\u0000\u0001\u0002 binary\nline two\n'));
    const r = cliRun(['query', '--from', archive, '-o', 'csv', 'stats count() as n']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('n\r\n1\r\n');
    expect(r.stderr).toMatch(/zstd-compressed/);
    expect(r.stderr).toMatch(/Snappy-compressed/);
    expect(r.stderr).toMatch(/c\.bin: .*binary data/);
  });
});

describe('devices and FIFOs where a config or dead-letter location is expected', () => {
  it.each([
    [['validate', '/dev/zero']],
    [['run', '/dev/zero']],
    [['replay', '/dev/zero', '-c', '/dev/zero']],
    [['query', '-f', '/dev/zero']],
  ])('%j exits 2 with a sentence at once', (args) => {
    const r = cliRun(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/character device, not a file/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('replay of a device as the dead-letter location', () => {
    const cfg = join(dir, 'replay.yaml');
    writeFileSync(cfg, 'sinks:\n  - type: stdout\n');
    const r = cliRun(['replay', '/dev/zero', '-c', cfg]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/dead-letter location \/dev\/zero: it is a character device/);
  });
});
