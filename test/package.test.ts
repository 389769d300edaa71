/**
 * The published package as a user gets it: `npm pack` of a staged copy, `npm install -g` into a
 * temporary prefix, then the installed `logferry` binary. It must start without building or
 * installing anything (the tarball carries dist/), install no dev tools, answer `--version` from
 * package.json, run the demo on its defaults, and exit 2 on a bad option.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};
let work: string;
let prefix: string;
let tarball: string;
let installed: string;

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, npm_config_loglevel: 'error', ...env },
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function files(d: string, base = d): string[] {
  const out: string[] = [];
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) out.push(...files(p, base));
    else out.push(p.slice(base.length + 1));
  }
  return out.sort();
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'lf-pkg-'));
  const stage = join(work, 'stage');
  mkdirSync(stage);
  for (const f of ['package.json', 'README.md', 'bin', 'docs', 'charts'])
    cpSync(join(root, f), join(stage, f), { recursive: true });
  const b = sh(process.execPath, [join(root, 'scripts', 'build.mjs')], root, {
    LOGFERRY_BUILD_OUT: join(stage, 'dist'),
  });
  if (b.code !== 0) throw new Error(`build failed: ${b.stderr}`);
  const p = sh('npm', ['pack', '--ignore-scripts', '--pack-destination', work], stage);
  if (p.code !== 0) throw new Error(`npm pack failed: ${p.stderr}`);
  tarball = join(work, `logferry-${pkg.version}.tgz`);
  prefix = join(work, 'prefix');
  const i = sh(
    'npm',
    ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball],
    work,
  );
  if (i.code !== 0) throw new Error(`npm install -g failed: ${i.stderr}`);
  installed = join(prefix, 'lib', 'node_modules', 'logferry');
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const bin = () => join(prefix, 'bin', 'logferry');

describe('the published package', () => {
  it('ships the built CLI and Lambda bundles, and no sources, tests or build scripts', () => {
    const listed = sh('tar', ['tzf', tarball], work).stdout.split('\n').filter(Boolean);
    expect(listed).toContain('package/dist/cli/logferry.mjs');
    expect(listed).toContain('package/dist/cli/query-worker.mjs');
    for (const h of ['firehose', 'kinesis', 'subscription', 'sqs', 'subscriptions'])
      expect(listed).toContain(`package/dist/lambda/${h}/index.mjs`);
    expect(listed).toContain('package/dist/lambda/extension/logferry-extension/index.mjs');
    expect(listed.filter((f) => f.startsWith('package/dist/lambda/') && f.endsWith('.map'))).toEqual([]);
    expect(listed).toContain('package/bin/logferry.mjs');
    // `onboard eks --agent` installs this chart from the installed package.
    expect(listed).toContain('package/charts/logferry-agent/Chart.yaml');
    expect(listed).toContain('package/charts/logferry-agent/templates/daemonset.yaml');
    for (const f of listed) expect(f).not.toMatch(/^package\/(src|test|scripts|bench)\//);
  });

  it('installs no development tools', () => {
    const nm = join(installed, 'node_modules');
    for (const dev of Object.keys(pkg.devDependencies)) expect(existsSync(join(nm, dev)), dev).toBe(false);
  });

  it('answers --version from package.json, through the fast path and through the CLI', () => {
    const fast = sh(bin(), ['--version'], work);
    expect(fast.code).toBe(0);
    expect(fast.stdout.trim()).toBe(pkg.version);
    const full = sh(process.execPath, [join(installed, 'dist', 'cli', 'logferry.mjs'), '--version'], work);
    expect(full.code).toBe(0);
    expect(full.stdout.trim()).toBe(pkg.version);
  });

  it('runs the demo on its defaults without building or installing anything inside the package', () => {
    const before = files(installed);
    const stampBefore = statSync(join(installed, 'dist', '.build-stamp')).mtimeMs;
    const cwd = join(work, 'user');
    mkdirSync(cwd);
    const r = sh(bin(), ['run', '--events', '300', '--json'], cwd, {
      LOGFERRY_OPENSEARCH_URL: '',
      LOGFERRY_S3_URL: '',
      LOGFERRY_DLQ: '',
    });
    expect(r.stderr).not.toMatch(/installing dependencies|building dist/);
    expect(r.code).toBe(0);
    expect(existsSync(join(cwd, 'logferry-data'))).toBe(true);
    expect(files(installed)).toEqual(before);
    expect(statSync(join(installed, 'dist', '.build-stamp')).mtimeMs).toBe(stampBefore);
  });

  it('exits 2 with a sentence on an unknown option or command', () => {
    const opt = sh(bin(), ['run', '--no-such-option'], work);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/unknown option '--no-such-option'/);
    const cmd = sh(bin(), ['no-such-command'], work);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toMatch(/unknown command/);
    expect(opt.stderr + cmd.stderr).not.toMatch(/\n\s+at /);
  });
});
