/**
 * `logferry run` with a `stdin` source, as users pipe into it: the built CLI reads standard input
 * to EOF and exits; records go to stdout (stdout sink), the summary to stderr; a line that is not
 * JSON under `format: ndjson` is dead-lettered with its line number, nothing lost.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle } from './infra/cli-bundle.js';

const root = new URL('..', import.meta.url).pathname;
// Inside the repository so the bundle's external packages resolve from node_modules.
const outDir = join(root, 'node_modules', '.cache', `logferry-stdin-cli-${process.pid}`);
const cli = join(outDir, 'cli', 'logferry.mjs');
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lf-stdin-'));
  await buildCliBundle(outDir);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});

function run(config: string, input: string) {
  const path = join(dir, `cfg-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, config);
  const r = spawnSync(process.execPath, [cli, 'run', path, '--json'], {
    cwd: dir,
    input,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, LOGFERRY_OPENSEARCH_URL: '', LOGFERRY_S3_URL: '', LOGFERRY_DLQ: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('logferry run with a stdin source', () => {
  it('ships text and NDJSON lines to stdout and ends at EOF', () => {
    const lines = [
      '{"@timestamp":"2026-12-05T10:00:00.000Z","message":"user login","user":"ana"}',
      '10.0.0.1 - - [05/Dec/2026:10:00:01 +0000] "GET / HTTP/1.1" 200 512',
      '',
      '{"log":"E1205 watch failed","stream":"stderr"}',
    ];
    const r = run(
      'sources:\n  - type: stdin\n    logGroup: piped\nsinks:\n  - type: stdout\nmask: false\nparse: none\n',
      `${lines.join('\n')}\n`,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out).toHaveLength(3);
    expect(JSON.stringify(out)).toContain('user login');
    expect(JSON.stringify(out)).toContain('GET / HTTP/1.1');
    expect(JSON.stringify(out)).toContain('E1205 watch failed');
    const summary = JSON.parse(r.stderr.trim().split('\n').at(-1) as string);
    expect(summary.events).toMatchObject({ received: 3, delivered: 3, failed: 0 });
  });

  it('ndjson: a bad line is dead-lettered with its line number; the others are delivered', () => {
    const dl = join(dir, 'dead');
    const r = run(
      `sources:\n  - type: stdin\n    format: ndjson\nsinks:\n  - type: stdout\ndeadLetter:\n  type: file\n  path: ${dl}\n`,
      '{"message":"a"}\nnot json at all\n{"message":"b"}\n',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    const summary = JSON.parse(r.stderr.trim().split('\n').at(-1) as string);
    expect(summary.events).toMatchObject({ received: 3, delivered: 2, rejected: 1 });
    const files = readdirSync(dl);
    const entry = JSON.parse(readFileSync(join(dl, files[0]), 'utf8').trim());
    expect(entry).toMatchObject({ code: 'ENVELOPE_NOT_JSON', payload: 'not json at all' });
    expect(entry.reason).toContain('line 2 of standard input');
  });
});
