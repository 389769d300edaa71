/**
 * Truthful output of the built `logferry query` (issue 8 §2): whatever the output format, with
 * stderr a pipe (not a terminal), data the scan could not read — an unreadable object, a damaged
 * (truncated) gzip object, lines over the length cap — is reported on stderr and the exit status is
 * 3, unless `--allow-partial`; a truncated object still yields the lines before the damage. Paths
 * that are no archive (`/dev/zero`, a FIFO, a binary file) are refused with a sentence and exit 2,
 * never a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildCliBundle } from './infra/cli-bundle.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'node_modules', '.cache', `logferry-query-partial-${process.pid}`);
let dir: string;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [join(outDir, 'cli', 'logferry.mjs'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const doc = (i: number) =>
  JSON.stringify({ '@timestamp': T0 + i, '@message': `event ${i}`, '@logStream': 'web-1', '@log': '/app' });

/** An archive of two objects: 1,000 events each, the second cut in half. */
function writeArchive(at: string): void {
  mkdirSync(join(at, 'app'), { recursive: true });
  const a = Array.from({ length: 1000 }, (_, i) => doc(i));
  const b = Array.from({ length: 1000 }, (_, i) => doc(1000 + i));
  writeFileSync(join(at, 'app', 'a-2026-11-20-10-00-00-aaaa.gz'), gzipSync(`${a.join('\n')}\n`));
  const gz = gzipSync(`${b.join('\n')}\n`);
  writeFileSync(join(at, 'app', 'b-2026-11-20-10-00-00-bbbb.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
}

beforeAll(async () => {
  await buildCliBundle(outDir);
  dir = mkdtempSync(join(tmpdir(), 'lf-query-partial-'));
}, 120_000);

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const COUNT = 'stats count(*) as n';

describe('logferry query: skipped data is never silent', () => {
  it('a truncated gzip object yields its lines before the damage, is reported, and exits 3 (json, csv, table)', () => {
    const at = join(dir, 'truncated');
    writeArchive(at);
    const json = cli(['query', '--from', at, '-o', 'json', COUNT]);
    expect(json.code).toBe(3);
    const n = Number(JSON.parse(json.stdout)[0].n);
    expect(n).toBeGreaterThan(1000);
    expect(n).toBeLessThan(2000);
    expect(json.stderr).toMatch(
      /warning: 1 damaged object\(s\).*b-2026-11-20-10-00-00-bbbb\.gz: gzip data ends early \(truncated object\)/,
    );
    expect(json.stderr).toMatch(/bytes known lost/);
    expect(json.stderr).toMatch(/exit status 3/);
    expect(json.stderr).not.toMatch(/\n\s+at /);

    const csv = cli(['query', '--from', at, '-o', 'csv', '--threads', '0', COUNT]);
    expect(csv.code).toBe(3);
    expect(csv.stdout).toBe(`n\r\n${n}\r\n`);
    expect(csv.stderr).toMatch(/damaged object/);

    const table = cli(['query', '--from', at, COUNT]);
    expect(table.code).toBe(3);
    expect(table.stderr).toMatch(/damaged object/);

    const partial = cli(['query', '--from', at, '-o', 'json', '--allow-partial', COUNT]);
    expect(partial.code).toBe(0);
    expect(partial.stdout).toBe(json.stdout);
    expect(partial.stderr).toMatch(/damaged object/);
    expect(partial.stderr).toMatch(/partial \(--allow-partial\)/);
  });

  it('an object that cannot be read is reported and exits 3; --stats-json says what was skipped', () => {
    const at = join(dir, 'unreadable');
    mkdirSync(join(at, 'app'), { recursive: true });
    writeFileSync(join(at, 'app', 'a.gz'), gzipSync(`${doc(1)}\n${doc(2)}\n`));
    symlinkSync(join(dir, 'nowhere.gz'), join(at, 'app', 'gone.gz'));
    const statsFile = join(dir, 'stats.json');
    const r = cli(['query', '--from', at, '-o', 'json', '--stats-json', statsFile, COUNT]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual([{ n: 2 }]);
    expect(r.stderr).toMatch(/1 object\(s\) could not be read and were skipped: app\/gone\.gz: /);
    const stats = JSON.parse(readFileSync(statsFile, 'utf8'));
    expect(stats).toMatchObject({ complete: false, objectsFailed: 1, recordsScanned: 2 });
    const complete = cli([
      'query',
      '--from',
      join(at, 'app', 'a.gz'),
      '-o',
      'json',
      '--stats-json',
      '-',
      COUNT,
    ]);
    expect(complete.code).toBe(0);
    expect(JSON.parse(complete.stderr.trim())).toMatchObject({ complete: true, incomplete: [] });
  });

  it('lines over --max-line-bytes are skipped, counted and reported (exit 3)', () => {
    const at = join(dir, 'long');
    mkdirSync(at, { recursive: true });
    const long = JSON.stringify({ '@timestamp': T0, '@message': 'x'.repeat(5000) });
    writeFileSync(join(at, 'a.gz'), gzipSync(`${doc(1)}\n${long}\n${doc(2)}\n`));
    const r = cli([
      'query',
      '--from',
      at,
      '-o',
      'json',
      '--max-line-bytes',
      '4k',
      '--stats-json',
      '-',
      COUNT,
    ]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual([{ n: 2 }]);
    expect(r.stderr).toMatch(/1 line\(s\) longer than 4096 bytes were skipped \(5\d{3} bytes\)/);
    const stats = JSON.parse(r.stderr.split('\n').find((l) => l.startsWith('{')) as string);
    expect(stats).toMatchObject({ linesTooLong: 1, maxLineBytes: 4096 });
    expect(cli(['query', '--from', at, '-o', 'json', COUNT]).code).toBe(0);
    expect(cli(['query', '--from', at, '--max-line-bytes', 'lots', COUNT]).code).toBe(2);
  });

  it('refuses what is not an archive with a sentence and exit 2, never a stack trace', () => {
    const fifo = join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    const binary = join(dir, 'binary.bin');
    writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 1, 2, 3]));
    const cases: [string, RegExp][] = [
      ['/dev/zero', /--from \/dev\/zero: is a character device, not an archive/],
      [fifo, /is a FIFO \(named pipe\), not an archive/],
      [binary, /is not an archive object \(binary data/],
      [join(dir, 'binary.bin', 'x'), /no such file or directory/],
    ];
    for (const [from, message] of cases) {
      const r = cli(['query', '--from', from, '-o', 'json', COUNT]);
      expect(r.code, from).toBe(2);
      expect(r.stdout, from).toBe('');
      expect(r.stderr, from).toMatch(message);
      expect(r.stderr, from).not.toMatch(/\n\s+at |Error:/);
      expect(r.stderr.trim().split('\n'), from).toHaveLength(1);
    }
  });
});
