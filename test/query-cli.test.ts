/**
 * The built `logferry query` / `logferry recipes` commands end to end: table, json and csv output
 * over an archive written by the real S3 sink, recipes with parameters, the bundled scan worker,
 * and exit code 2 with a caret message for a bad query. The CLI is bundled with the same esbuild
 * settings as scripts/build.mjs into a private directory (other test runs rebuild dist/ at any
 * moment), inside node_modules/.cache so its external packages resolve.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCliBundle } from './infra/cli-bundle.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AWS_AUTH_FIELDS,
  AWS_AUTH_QUERY,
  expectedAwsAuth,
  type Fixture,
  makeFixture,
  writeArchive,
} from './query-fixtures.js';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'node_modules', '.cache', `logferry-query-cli-${process.pid}`);
let dir: string;
let archive: string;
let fx: Fixture;

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [join(outDir, 'cli', 'logferry.mjs'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TS = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;

function fmt(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

beforeAll(async () => {
  await buildCliBundle(outDir);
  dir = mkdtempSync(join(tmpdir(), 'lf-query-cli-'));
  archive = join(dir, 'archive');
  fx = makeFixture();
  await writeArchive(archive, fx.records);
}, 120_000);

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('logferry query (built CLI)', () => {
  it('prints a table with a histogram and a footer', () => {
    const r = cli(['query', '--from', archive, '--width', '120', AWS_AUTH_QUERY]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^matching events over time · /);
    expect(r.stdout).toMatch(/@timestamp\s+verb\s+user\.\S+\s+objectR/);
    expect(r.stdout).toContain(fmt(expectedAwsAuth(fx)[0].ts));
    expect(r.stdout).toMatch(
      new RegExp(
        `${expectedAwsAuth(fx).length} rows · ${expectedAwsAuth(fx).length} of [\\d,]+ records matched`,
      ),
    );
    for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
  });

  it('--output json prints exactly the displayed fields with console timestamps', () => {
    const r = cli(['query', '--from', archive, '-o', 'json', AWS_AUTH_QUERY]);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    const want = expectedAwsAuth(fx);
    expect(rows.map((x) => [x['@timestamp'], x.verb, x['user.username']])).toEqual(
      want.map((a) => [fmt(a.ts), a.verb, a.user]),
    );
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(AWS_AUTH_FIELDS);
      expect(row['@timestamp']).toMatch(TS);
    }
  });

  it('--output json into a pipe is complete beyond the 64 KiB pipe buffer', () => {
    // Regression: the CLI exited before stdout drained, so `-o json | jq` got a cut document.
    const r = cli(['query', '--from', archive, '-o', 'json', 'fields @timestamp, @message']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(256 * 1024);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(fx.records.length);
  });

  it('--output csv, -f file and --limit', () => {
    writeFileSync(
      join(dir, 'q.insights'),
      'fields @timestamp, verb\n| filter objectRef.name == "aws-auth"\n| sort @timestamp asc\n',
    );
    const r = cli(['query', '--from', archive, '-f', 'q.insights', '--limit', '3', '--output', 'csv']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toBe('@timestamp,verb');
    expect(lines).toHaveLength(4);
    const first = fx.audit.filter((a) => a.name === 'aws-auth').sort((a, b) => a.ts - b.ts)[0];
    expect(lines[1]).toBe(`${fmt(first.ts)},${first.verb}`);
  });

  it('uses the bundled scan worker and gets the same answer', () => {
    const inline = cli(['query', '--from', archive, '-o', 'json', '--threads', '0', AWS_AUTH_QUERY]);
    const workers = cli(['query', '--from', archive, '-o', 'json', '--threads', '2', AWS_AUTH_QUERY], {
      LOGFERRY_QUERY_INLINE_MAX_BYTES: '0',
    });
    expect(workers.code).toBe(0);
    expect(JSON.parse(workers.stdout)).toEqual(JSON.parse(inline.stdout));
  });

  it('a syntax error exits 2 with the caret message', () => {
    const r = cli(['query', '--from', archive, 'fields @timestamp\n| filter verb = = "x"']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/line 2/i);
    expect(r.stderr).toMatch(/\n\s*\^/);
  });

  it('explains a missing --from and a bad --output', () => {
    const r = cli(['query', '--from', join(dir, 'missing'), 'limit 1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no such file or directory\. Run `logferry run` first/);
    expect(cli(['query', '--from', archive, '-o', 'xml', 'limit 1']).stderr).toMatch(
      /expected table, json or csv/,
    );
  });

  it('runs recipes with parameters', () => {
    const prod = cli([
      'query',
      '--from',
      archive,
      '--recipe',
      'eks/aws-auth-changes',
      '--param',
      'cluster=prod',
      '-o',
      'json',
    ]);
    expect(prod.code).toBe(0);
    expect((JSON.parse(prod.stdout) as unknown[]).length).toBe(expectedAwsAuth(fx).length);
    const staging = cli([
      'query',
      '--from',
      archive,
      '--recipe',
      'eks/aws-auth-changes',
      '--param',
      'cluster=staging',
      '-o',
      'json',
    ]);
    expect(JSON.parse(staging.stdout)).toEqual([]);
    const bad = cli(['query', '--from', archive, '--recipe', 'ecs/task-logs', '--param', 'task=xyz']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected a task id/);
  });

  it('logferry recipes lists them as a table and as JSON', () => {
    const t = cli(['recipes']);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/recipe\s+parameters\s+description/);
    expect(t.stdout).toContain('eks/aws-auth-changes');
    const j = JSON.parse(cli(['recipes', '--json']).stdout) as { name: string; params: unknown[] }[];
    expect(j.map((x) => x.name)).toContain('lambda/cold-starts');
    const one = cli(['recipes', 'eks/aws-auth-changes', '--param', 'cluster=prod']);
    expect(one.stdout).toContain('| filter @log like "/aws/eks/prod/cluster"');
  });
});

describe('docs/query.md: lookup tables', () => {
  it('--help lists --lookup, and the documented example prints the documented table', () => {
    expect(cli(['query', '--help']).stdout).toMatch(/--lookup <name=file\.csv>/);
    const doc = readFileSync(join(root, 'docs', 'query.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Lookup tables'), doc.indexOf('## Recipes'));
    const blocks = [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)];
    const script = blocks.find((b) => b[1] === 'sh')?.[2];
    const table = blocks.find((b) => b[1] === '')?.[2];
    expect(script).toBeDefined();
    expect(table).toBeDefined();
    const work = mkdtempSync(join(dir, 'lookup-doc-'));
    const bin = join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'logferry'),
      `#!/bin/sh\nexec "${process.execPath}" "${join(outDir, 'cli', 'logferry.mjs')}" "$@"\n`,
      { mode: 0o755 },
    );
    const r = spawnSync('sh', ['-e', '-c', script!], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const got = r.stdout.split('\n').map((l) => l.trimEnd());
    const want = table!.trimEnd().split('\n');
    const at = got.indexOf(want[0]);
    expect(at).toBeGreaterThan(-1);
    expect(got.slice(at, at + want.length)).toEqual(want);
  });
});
