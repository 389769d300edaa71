/**
 * `logferry validate <config> [--connect]`: everything `logferry run` checks before it starts —
 * YAML syntax (line and column), every component's options, names, `inputs`/`match` wiring and
 * cycles, what component factories check (conditions compile, secret references resolve, URLs) —
 * every problem listed at once, exit 2. A valid config prints one line describing the graph and
 * exits 0. An empty file is an error (it would silently run the demo). `--connect` also opens a
 * connection to each sink's endpoint (TCP to its host and port; a writable directory for local
 * archives and dead-letter files) and lists every one it cannot reach.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { sharedSecretResolver, secretContext } from '../../aws/secrets.js';
import { buildDaemon, withDefaults } from '../../config/build.js';
import { parseConfigText, readConfigFile, validateConfig } from '../../config/load.js';
import type { ComponentConfig, Config } from '../../config/schema.js';
import { applyShorthands } from '../../config/shorthands.js';
import { describeError, LogferryError } from '../../core/errors.js';
import { describeGraph } from '../../core/graph.js';
import { silentLogger } from '../../core/logger.js';

const CONNECT_TIMEOUT_MS = 5_000;

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('Check a config as `run` would (every problem at once, exit 2); print the graph when valid.')
    .argument('<config>', 'YAML or JSON config file')
    .option('--connect', "also reach each sink's endpoint")
    .addHelpText(
      'after',
      `
Examples:
  $ logferry validate pipeline.yaml             exit 0 and one line: sources, transforms, sinks, edges
  $ logferry validate pipeline.yaml --connect   and check every sink can be reached`,
    )
    .action(async (configPath: string, opts: { connect?: boolean }) => {
      const line = await validateFile(configPath, opts);
      process.stdout.write(`${line}\n`);
    });
}

function invalid(configPath: string, problems: string[]): LogferryError {
  return new LogferryError(
    'CONFIG_INVALID',
    `${configPath} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
      .map((p) => `  - ${p}`)
      .join('\n')}`,
    { details: { problems } },
  );
}

export async function validateFile(configPath: string, opts: { connect?: boolean } = {}): Promise<string> {
  const text = readConfigFile(configPath);
  if (text.trim() === '' || /^\s*(#.*)?(\n\s*(#.*)?)*$/.test(text))
    throw invalid(configPath, [
      '(top level): the file is empty; write at least `sinks:` (logferry run without a config runs the demo)',
    ]);
  const doc = parseConfigText(text, configPath);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalid(configPath, ['(top level): must be a mapping (sources:, transforms:, sinks:, …)']);
  const cfg = validateConfig(
    withDefaults(applyShorthands(doc as Record<string, unknown>, process.env)),
    configPath,
  );
  const cwd = dirname(resolve(configPath));
  // Build every component as `run` would (factories check conditions, secrets, endpoints), then
  // close them without reading anything.
  let built: Awaited<ReturnType<typeof buildDaemon>>;
  try {
    built = await buildDaemon(cfg, { cwd, log: silentLogger, ...secretContext(sharedSecretResolver()) });
  } catch (e) {
    const problems = (e as LogferryError).details?.problems as string[] | undefined;
    if (problems) throw invalid(configPath, problems);
    throw e;
  }
  await Promise.all([
    ...built.sinks.map((s) => s.close?.().catch(() => {})),
    ...built.sources.map((s) => s.close?.().catch(() => {})),
    built.deadLetter?.close?.().catch(() => {}),
  ]);
  if (opts.connect) {
    const problems = await reachAll(cfg, cwd);
    if (problems.length > 0) throw invalid(configPath, problems);
  }
  const summary = describeGraph({
    sources: built.sourceNodes,
    transforms: built.graphTransforms,
    sinks: built.sinkNodes,
  });
  const stages = built.transforms.map((t) => t.type).join(' → ');
  return `${configPath}: valid — ${summary}${stages ? `; every record: ${stages}` : ''}${opts.connect ? '; every sink reachable' : ''}`;
}

/** Where a sink (or dead-letter store) sends: a network endpoint or a local directory. */
function targetOf(c: ComponentConfig, cwd: string): { url?: URL; dir?: string } | undefined {
  const raw = [c.url, c.endpoint, c.queueUrl].find((v): v is string => typeof v === 'string');
  if (typeof c.path === 'string') return { dir: dirname(resolve(cwd, c.path)) };
  if (!raw) return undefined;
  if (raw.startsWith('file://')) {
    // `file://./archive` (relative, as the docs write it) and `file:///abs/path` alike.
    const rest = raw.slice('file://'.length);
    return {
      dir: rest.startsWith('/') ? fileURLToPath(`file://${rest}`) : resolve(cwd, decodeURIComponent(rest)),
    };
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return { dir: resolve(cwd, raw) };
  const u = new URL(raw);
  if (u.protocol === 's3:') {
    // The bucket's regional endpoint (or the configured one).
    const region = typeof c.region === 'string' ? c.region : (process.env.AWS_REGION ?? 'us-east-1');
    return {
      url: new URL(typeof c.endpoint === 'string' ? c.endpoint : `https://s3.${region}.amazonaws.com`),
    };
  }
  return { url: u };
}

async function reach(name: string, t: { url?: URL; dir?: string }): Promise<string | undefined> {
  if (t.dir) {
    // The directory, or the nearest existing parent, must be writable (run creates the rest).
    let d = t.dir;
    while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
    try {
      accessSync(d, constants.W_OK);
      return undefined;
    } catch (e) {
      return `${name}: cannot write to ${d}: ${describeError(e)}`;
    }
  }
  const u = t.url!;
  const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((done) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      done(`${name}: no answer from ${host}:${port} within ${CONNECT_TIMEOUT_MS / 1000} s`);
    }, CONNECT_TIMEOUT_MS);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      done(undefined);
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      done(`${name}: cannot reach ${host}:${port}: ${describeError(e)}`);
    });
  });
}

async function reachAll(cfg: Config, cwd: string): Promise<string[]> {
  const checks: Promise<string | undefined>[] = [];
  cfg.sinks.forEach((s) => {
    const t = targetOf(s, cwd);
    const name = `sinks.${typeof s.name === 'string' ? s.name : s.type}`;
    if (t) checks.push(reach(name, t));
  });
  if (cfg.deadLetter) {
    const t = targetOf(cfg.deadLetter, cwd);
    if (t) checks.push(reach('deadLetter', t));
  }
  return (await Promise.all(checks)).filter((p): p is string => p !== undefined);
}
