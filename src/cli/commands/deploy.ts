/**
 * `logferry deploy <firehose-archive|kinesis-search|subscriptions> [--config file]`: synthesizes the
 * stack from infra/ (in process, no AWS account needed) and, unless `--synth-only`, hands the cloud
 * assembly to the pinned AWS CDK CLI (`aws-cdk` 2.x, a dependency of logferry — never a global
 * install) for `--diff` or a real deploy. See docs/deploy.md.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type Command, CommanderError } from 'commander';
import { LogferryError } from '../../core/errors.js';

const KINDS = ['firehose-archive', 'kinesis-search', 'subscriptions'] as const;

interface DeployOptions {
  config?: string;
  synthOnly?: boolean;
  out?: string;
  diff?: boolean;
  bootstrap?: boolean;
  yes?: boolean;
  outputsFile?: string;
  profile?: string;
  parameter?: string[];
}

const EXAMPLES = `
Examples:
  $ logferry deploy firehose-archive --config deploy.yaml --synth-only --out ./synth
  $ logferry deploy kinesis-search --config deploy.yaml --diff
  $ logferry deploy kinesis-search --config deploy.yaml --bootstrap     first deploy in an account/region
  $ logferry deploy subscriptions --config deploy.yaml --yes --outputs-file outputs.json
`;

function bad(message: string): never {
  throw new LogferryError('CONFIG_INVALID', message);
}

/** The pinned CDK CLI shipped with logferry (node_modules/aws-cdk). */
export function cdkCli(): string {
  const require = createRequire(import.meta.url);
  let pkgFile: string;
  try {
    pkgFile = require.resolve('aws-cdk/package.json');
  } catch {
    throw new LogferryError(
      'INTERNAL',
      'the AWS CDK CLI (npm package aws-cdk 2.x) is not installed with logferry: run npm ci',
    );
  }
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string; bin: Record<string, string> };
  if (!pkg.version.startsWith('2.'))
    throw new LogferryError(
      'INTERNAL',
      `aws-cdk ${pkg.version} is installed; logferry needs the 2.x CLI (2.1148.1)`,
    );
  return join(dirname(pkgFile), pkg.bin.cdk);
}

function runCdk(args: string[]): Promise<number> {
  return new Promise((resolveRun, reject) => {
    // The CLI's progress goes to stderr; its data (diff, outputs) to stdout.
    const child = spawn(process.execPath, [cdkCli(), ...args, '--no-notices', '--no-version-reporting'], {
      stdio: ['inherit', 'inherit', 'inherit'],
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolveRun(code ?? (signal ? 1 : 0)));
  });
}

export async function deploy(kind: string, opts: DeployOptions): Promise<number> {
  const problems: string[] = [];
  if (!(KINDS as readonly string[]).includes(kind))
    problems.push(`unknown stack "${kind}": choose one of ${KINDS.join(', ')}`);
  if (opts.synthOnly && opts.diff) problems.push('--synth-only and --diff cannot be combined');
  if (opts.synthOnly && (opts.bootstrap || opts.yes || opts.outputsFile))
    problems.push('--bootstrap, --yes and --outputs-file need a real deploy (drop --synth-only)');
  if (opts.diff && (opts.bootstrap || opts.outputsFile))
    problems.push('--diff deploys nothing: drop --bootstrap/--outputs-file');
  if (opts.out !== undefined && opts.out.trim() === '') problems.push('--out needs a directory');
  for (const p of opts.parameter ?? [])
    if (!/^[A-Za-z0-9]+=/.test(p))
      problems.push(`--parameter ${p}: write it as Name=value (e.g. EksClusterNames=prod,dev)`);
  if (opts.synthOnly && opts.parameter?.length) problems.push('--parameter needs a deploy or --diff');
  if (problems.length)
    bad(problems.length === 1 ? problems[0] : `bad options:\n  - ${problems.join('\n  - ')}`);

  // aws-cdk-lib is large: load the app only when deploy runs.
  const { loadDeployConfig } = await import('../../../infra/src/config.js');
  const { synth } = await import('../../../infra/src/app.js');
  const cfg = loadDeployConfig(opts.config);
  const outDir = opts.out
    ? resolve(opts.out)
    : opts.synthOnly
      ? resolve('cdk.out')
      : mkdtempSync(join(tmpdir(), 'logferry-cdk-'));
  let built: ReturnType<typeof synth>;
  try {
    built = synth(kind as (typeof KINDS)[number], cfg, outDir);
  } catch (e) {
    if (e instanceof LogferryError) throw e;
    // CDK validation errors are sentences about the configuration.
    bad(`cannot synthesize ${kind}: ${(e as Error).message}`);
  }
  const stack = built.assembly.getStackByName(built.stackName);
  process.stderr.write(`logferry: synthesized ${kind} as stack ${built.stackName} in ${outDir}\n`);
  // The stack's synth-time warnings (e.g. the subscriptions rule needing a CloudTrail trail).
  for (const m of stack.messages)
    if (m.level === 'warning') process.stderr.write(`logferry: warning: ${String(m.entry.data)}\n`);
  if (opts.synthOnly) {
    // stdout: the template, then each asset directory (data only).
    process.stdout.write(`${stack.templateFullPath}\n`);
    for (const f of readdirSync(outDir).sort())
      if (f.startsWith('asset.')) process.stdout.write(`${join(outDir, f)}\n`);
    return 0;
  }
  const app = ['--app', outDir];
  const profile = opts.profile ? ['--profile', opts.profile] : [];
  try {
    if (opts.diff)
      return await runCdk([
        'diff',
        ...app,
        ...profile,
        built.stackName,
        ...(opts.parameter ?? []).flatMap((p) => ['--parameters', `${built.stackName}:${p}`]),
      ]);
    if (opts.bootstrap) {
      const code = await runCdk(['bootstrap', ...app, ...profile]);
      if (code !== 0) return code;
    }
    return await runCdk([
      'deploy',
      ...app,
      ...profile,
      built.stackName,
      '--require-approval',
      opts.yes ? 'never' : 'broadening',
      ...(opts.outputsFile ? ['--outputs-file', resolve(opts.outputsFile)] : []),
      ...(opts.parameter ?? []).flatMap((p) => ['--parameters', `${built.stackName}:${p}`]),
    ]);
  } finally {
    if (!opts.out) rmSync(outDir, { recursive: true, force: true });
  }
}

export function registerDeploy(program: Command): void {
  const cmd = program
    .command('deploy')
    .description('Deploy a logferry stack with the pinned AWS CDK (or only synthesize its CloudFormation).')
    .argument('<stack>', KINDS.join(' | '))
    .option(
      '--config <file>',
      'deploy configuration (YAML/JSON; sections firehoseArchive, kinesisSearch, subscriptions)',
    )
    .option('--synth-only', 'write the CloudFormation template and assets; no AWS account needed')
    .option(
      '--out <dir>',
      'where to write the cloud assembly (default: ./cdk.out with --synth-only, else a temporary directory)',
    )
    .option('--diff', 'show what a deploy would change (needs credentials)')
    .option('--bootstrap', 'run `cdk bootstrap` first (once per account and region)')
    .option('--yes', 'do not ask before IAM or security-group changes')
    .option(
      '--outputs-file <file>',
      'write the stack outputs (DestinationArn, CloudWatchLogsRoleArn, …) as JSON',
    )
    .option('--profile <name>', 'AWS profile for the CDK CLI')
    .option(
      '--parameter <Name=value>',
      'a CloudFormation parameter (repeatable), e.g. EksClusterNames=prod,dev when the config names no clusters',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .addHelpText('after', EXAMPLES)
    .action(async (kind: string, opts: DeployOptions) => {
      process.exitCode = await deploy(kind, opts);
    });
  // Bad options (unknown flag, missing argument) are usage errors: exit 2 like a bad config.
  cmd.exitOverride((err) => {
    if (err.exitCode === 0) throw err;
    throw new CommanderError(2, err.code, err.message);
  });
}
