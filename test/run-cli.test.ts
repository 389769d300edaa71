/**
 * `logferry run` as users run it: the built CLI in a temp directory. Checks the archive (gzip
 * NDJSON in the S3 layout), that the --json summary balances and matches what is on disk, that
 * dead letters land where the summary says, and that a bad config exits 2 listing every problem.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walk } from './infra/cli-daemon.js';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist', 'cli', 'logferry.mjs');
let dir: string;

function run(args: string[], cwd = dir) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, LOGFERRY_OPENSEARCH_URL: '', LOGFERRY_S3_URL: '', LOGFERRY_DLQ: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Counts {
  received: number;
  delivered: number;
  dropped: number;
  rejected: number;
  failed: number;
}
const sum = (c: Counts) => c.delivered + c.dropped + c.rejected + c.failed;

beforeAll(() => {
  // dist/ is built once by test/global-setup.ts.
  dir = mkdtempSync(join(tmpdir(), 'lf-run-'));
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The --json summary: the last line on stderr (stdout carries records only, and here none). */
function summaryOf(r: { stdout: string; stderr: string }) {
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

describe('logferry run', () => {
  it('ships demo events into a gzip NDJSON archive in the S3 layout; the --json summary balances and matches the files', () => {
    const out = join(dir, 'archive');
    const r = run(['run', '--events', '3000', '--out', out, '--json']);
    expect(r.stderr).not.toMatch(/"level":"error"/);
    expect(r.code).toBe(0);
    const s = summaryOf(r);
    expect(s.ok).toBe(true);
    expect(s.balanced).toBe(true);
    expect(s.events.received).toBe(sum(s.events));
    expect(s.events.received).toBeGreaterThanOrEqual(2900);
    expect(s.events.received).toBeLessThanOrEqual(3000);
    const byComponent = Object.values(s.byComponent as Record<string, Counts>);
    expect(byComponent.reduce((n, c) => n + c.received, 0)).toBe(s.events.received);
    expect(Object.keys(s.byComponent)).toEqual(
      expect.arrayContaining(['kube-apiserver-audit', 'authenticator', 'lambda', 'ecs']),
    );
    for (const [k, n] of Object.entries(s.byReason as Record<string, number>)) {
      expect(n).toBeGreaterThan(0);
      expect(k).toMatch(/^(dropped|rejected|failed):/);
    }

    const files = walk(out).filter((f) => f.endsWith('.gz'));
    expect(files.length).toBe(s.sinks[0].objects);
    expect(walk(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    let lines = 0;
    let bytes = 0;
    const ids = new Set<string>();
    for (const f of files) {
      const rel = relative(out, f);
      expect(rel).toMatch(
        /^(_aws_eks_demo-prod_cluster\/[a-z-]+\/[a-z-]+-[0-9a-f]{32}|[^/]+\/(?:lambda|ecs|default)\/[^/]+)\/logferry-\d{4}(-\d\d){5}-[0-9a-f]{16}\.gz$/,
      );
      const raw = readFileSync(f);
      bytes += raw.length;
      for (const l of gunzipSync(raw).toString('utf8').trimEnd().split('\n')) {
        const doc = JSON.parse(l);
        expect(typeof doc['@timestamp']).toBe('number');
        expect(typeof doc['@message']).toBe('string');
        ids.add(doc['@id']);
        lines++;
      }
    }
    expect(lines).toBe(s.events.delivered);
    expect(ids.size).toBe(lines);
    expect(bytes).toBe(s.sinks[0].bytes);
  });

  it('uses ./logferry-data by default and prints a readable summary table', () => {
    const cwd = mkdtempSync(join(dir, 'default-'));
    const r = run(['run', '--events', '500'], cwd);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/events by component +received +delivered +dropped +rejected +failed/);
    expect(r.stderr).toMatch(/\n {2}total +[\d,]+ +[\d,]+/);
    expect(r.stderr).toMatch(/s3 sink +.*logferry-data/);
    expect(r.stderr).toMatch(/objects, .* gzip/);
    expect(r.stderr).toMatch(/throughput +[\d,]+ events\/s/);
    // Not a TTY: no progress bar redraws, nothing per record.
    expect(r.stderr).not.toContain('\r');
    const progress = r.stderr.slice(0, r.stderr.indexOf('logferry run:'));
    expect(progress.split('\n').length).toBeLessThan(20);
    expect(walk(join(cwd, 'logferry-data')).some((f) => f.endsWith('.gz'))).toBe(true);
  });

  it('follows a config file: Hive-style keys, raw lines, corrupt payloads dead-lettered with their reason', () => {
    const cfgDir = mkdtempSync(join(dir, 'cfg-'));
    writeFileSync(
      join(cfgDir, 'logferry.yaml'),
      [
        'sources:',
        '  - type: demo',
        '    envelopes: 60',
        '    eventsPerEnvelope: 20',
        '    corruptEvery: 10',
        '    seed: 5',
        'sinks:',
        '  - type: s3',
        '    url: ./hive',
        '    format: raw',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the sink's own placeholders, written into YAML
        "    keyTemplate: 'cluster=${cluster}/component=${component}/dt=${year}-${month}-${day}/hour=${hour}'",
        'deadLetter:',
        '  type: file',
        '  path: ./dlq',
        '',
      ].join('\n'),
    );
    const r = run(['run', 'logferry.yaml', '--json'], cfgDir);
    expect(r.code).toBe(0);
    const s = summaryOf(r);
    expect(s.balanced).toBe(true);
    expect(s.byReason['rejected:ENVELOPE_GZIP_TRUNCATED']).toBe(6);
    expect(s.events.rejected).toBe(6);
    const files = walk(join(cfgDir, 'hive'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files)
      expect(relative(join(cfgDir, 'hive'), f)).toMatch(
        /^cluster=(demo-prod|none)\/component=[a-z-]+\/dt=\d{4}-\d\d-\d\d\/hour=\d\d\/logferry-/,
      );
    const raw = files.map((f) => gunzipSync(readFileSync(f)).toString('utf8')).join('');
    expect(raw.split('\n').filter(Boolean).length).toBe(s.events.delivered);
    const dead = walk(join(cfgDir, 'dlq'))
      .flatMap((f) => readFileSync(f, 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l));
    expect(dead).toHaveLength(6);
    expect(dead[0]).toMatchObject({ code: 'ENVELOPE_GZIP_TRUNCATED', source: 'demo', attempts: 0 });
    expect(typeof dead[0].payload).toBe('string');
  });

  it('refuses a bad config with exit code 2, listing every problem', () => {
    const cfgDir = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(
      join(cfgDir, 'bad.yaml'),
      [
        'sources:',
        '  - type: demo',
        '    envelopes: -5',
        '    colour: blue',
        '  - type: carrier-pigeon',
        'sinks:',
        '  - type: s3',
        '    url: s3://Not_A_Bucket/x',
        '    format: xml',
        '',
      ].join('\n'),
    );
    const r = run(['run', 'bad.yaml'], cfgDir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml is invalid \(5 problems\)/);
    expect(r.stderr).toMatch(/sources\[0\]\.envelopes/);
    expect(r.stderr).toMatch(/sources\[0\].*unknown key\(s\): colour/);
    expect(r.stderr).toMatch(/sources\[1\]\.type: unknown source type "carrier-pigeon"/);
    expect(r.stderr).toMatch(/sinks\[0\]\.url: .*not a valid S3 bucket name/);
    expect(r.stderr).toMatch(/sinks\[0\]\.format/);
    expect(r.stdout).toBe('');
  });

  it('exits 2 for a missing config file and a bad --events value', () => {
    const missing = run(['run', 'nope.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read config file nope\.yaml/);
    const bad = run(['run', '--events', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--events must be a positive whole number/);
    const both = run(['run', '--events', '100', '--follow']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--events and --follow contradict each other/);
  });

  it('explains itself', () => {
    const top = run(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/run \[options\] \[config\]/);
    expect(top.stdout).toMatch(/\$ logferry run /);
    const help = run(['run', '--help']);
    expect(help.code).toBe(0);
    for (const s of [
      '--events <n>',
      '--follow',
      '--out <dir>',
      '--json',
      'Examples:',
      'logferry run --events 200000',
    ])
      expect(help.stdout).toContain(s);
  });
});
