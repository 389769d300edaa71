/** `logferry deploy` end to end through the installed entry point (bin/logferry.mjs). */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cdkCli } from '../../src/cli/commands/deploy.js';

const root = new URL('../..', import.meta.url).pathname;
const logferry = (...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'logferry.mjs'), ...args], {
    encoding: 'utf8',
    cwd: tmpdir(),
  });

describe('logferry deploy', () => {
  it('--synth-only writes the template and its assets without an AWS account, paths on stdout', () => {
    const out = mkdtempSync(join(tmpdir(), 'logferry-deploy-'));
    const cfgFile = join(out, 'deploy.yaml');
    writeFileSync(cfgFile, 'subscriptions:\n  selection:\n    prefixes: [/aws/eks/]\n');
    const r = logferry(
      'deploy',
      'subscriptions',
      '--config',
      cfgFile,
      '--synth-only',
      '--out',
      join(out, 'synth'),
    );
    expect(r.stderr).toContain('synthesized subscriptions as stack LogferrySubscriptions');
    // No trail in the config: the synth says the CreateLogGroup rule needs one.
    expect(r.stderr).toContain('logferry: warning: new log groups are found through the EventBridge rule');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(join(out, 'synth', 'Subscriptions.template.json'));
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(existsSync(l), l).toBe(true);
    const t = JSON.parse(readFileSync(lines[0], 'utf8'));
    expect(
      JSON.parse(
        t.Resources[Object.keys(t.Resources).find((k) => k.startsWith('SubscriberFunction'))!].Properties
          .Environment.Variables.LOGFERRY_SUB_SELECTION,
      ).prefixes,
    ).toEqual(['/aws/eks/']);
  }, 120_000);

  it('refuses bad options and bad configs with a sentence and exit 2', () => {
    const a = logferry('deploy', 'everything');
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(
      /unknown stack "everything": choose one of firehose-archive, kinesis-search, subscriptions/,
    );
    const b = logferry('deploy', 'kinesis-search', '--synth-only', '--diff');
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--synth-only and --diff cannot be combined/);
    const c = logferry('deploy', 'kinesis-search', '--frobnicate');
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/unknown option '--frobnicate'/);
    const dir = mkdtempSync(join(tmpdir(), 'logferry-deploy-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'kinesisSearch:\n  eventSource:\n    parallelizationFactor: 50\n  lambda: {memoryMiB: 1}\nsubscriptions:\n  mode: sometimes\n',
    );
    const d = logferry('deploy', 'kinesis-search', '--config', bad, '--synth-only', '--out', join(dir, 'o'));
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/3 problems/);
    expect(d.stderr).toMatch(/kinesisSearch\.eventSource\.parallelizationFactor/);
    expect(d.stderr).toMatch(/kinesisSearch\.lambda\.memoryMiB/);
    expect(d.stderr).toMatch(/subscriptions\.mode/);
    expect(d.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(d.stdout).toBe('');
  }, 60_000);

  it('uses the pinned 2.x CDK CLI shipped as a dependency', () => {
    const cli = cdkCli();
    expect(cli).toContain(join('node_modules', 'aws-cdk'));
    const v = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' });
    expect(v.stdout).toMatch(/^2\.1\d+\.\d+/);
  }, 60_000);
});
