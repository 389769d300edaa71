/**
 * `logferry run [config.yaml]`: runs the daemon. With no config it uses the embedded defaults —
 * realistic demo CloudWatch payloads (EKS control plane, Lambda, ECS, control messages) through the
 * shared transforms (parse `auto`, masking) into a local archive in the S3 layout
 * (`./logferry-data`), with a dead-letter file beside it. Bounded by default (~20,000 events);
 * `--events N` ships about N, `--follow` runs until Ctrl-C (first Ctrl-C or SIGTERM: stop reading,
 * flush within `shutdown.drainTimeout`, print the summary; second: stop without waiting — records
 * not yet delivered count as `failed` and are not acknowledged). `--once` makes every source read
 * what is there now and end (sources without a bounded mode are refused). State lives under the
 * locked `dataDir` (core/data-dir.ts).
 *
 * Output: stdout carries records only (a `stdout` sink's NDJSON stays valid). A progress bar on a
 * TTY (plain periodic lines otherwise; never one per record) and then the summary table go to
 * stderr (`--json`: the summary as one JSON line, the last line on stderr). Config problems are all
 * listed at once and exit 2 (main.ts owns exit codes).
 */
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { classifyStream, componentLabel } from '../../aws/classify.js';
import { sharedSecretResolver, secretContext } from '../../aws/secrets.js';
import { buildDaemon, DEFAULT_DATA_DIR, withDefaults } from '../../config/build.js';
import { parseConfigText, readConfigFile, validateConfig } from '../../config/load.js';
import { applyShorthands } from '../../config/shorthands.js';
import type { Logger } from '../../core/component.js';
import { lockDataDir } from '../../core/data-dir.js';
import { type DaemonResult, runDaemon } from '../../core/daemon.js';
import { LogferryError } from '../../core/errors.js';
import { jsonLogger } from '../../core/logger.js';
import type { LogRecord } from '../../core/record.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../../core/shutdown.js';
import type { Source } from '../../core/source.js';
import type { Config } from '../../config/schema.js';
import { jsonText } from '../../query/values.js';
import { tuneHeapGrowth } from '../heap.js';
import { type PipelineShape, startMetricsServer } from '../metrics-server.js';
import { ProgressDisplay } from './run-progress.js';
import { readJournals, resetJournals } from '../../core/redelivery-journal.js';
import { buildSummary, describeDeadLetter, formatSummary } from './run-summary.js';

export { ProgressDisplay } from './run-progress.js';
export {
  buildSummary,
  describeDeadLetter,
  formatBytes,
  formatSummary,
  type RunSummary,
} from './run-summary.js';

/** Demo events per envelope unless the config says otherwise (matches the demo source default). */
const DEMO_EVENTS_PER_ENVELOPE = 50;

/** `--follow` paces demo sources at this many events per second unless told otherwise. */
const DEFAULT_FOLLOW_RATE = 2_000;

export interface RunOptions {
  events?: string;
  rate?: string;
  follow?: boolean;
  out?: string;
  json?: boolean;
  metricsAddress?: string;
  once?: boolean;
}

/** `logferry tap`: print records leaving these components (all sources when empty) as NDJSON. */
export interface TapOptions {
  components: string[];
}

const EXAMPLES = `
Examples:
  $ logferry run                          ~20,000 demo events → ./logferry-data (S3 layout), then a summary
  $ logferry run --events 200000          ship about 200,000 demo events
  $ logferry run --follow                 keep shipping (2,000 events/s) until Ctrl-C: flushes, then the summary
  $ logferry run --follow --rate 20000    follow at a higher rate
  $ logferry run --out /tmp/archive --json
  $ logferry run logferry.yaml            sources, transforms and sinks from a config file
  $ logferry run logferry.yaml --once     read what is there now (files to EOF, streams to the tip), then exit

With no config: source demo → parse (auto) → mask → s3 sink at file://./logferry-data (ndjson),
dead letters in ./logferry-data/dead-letter. A config file that leaves out sources, sinks or
deadLetter gets these defaults for that section. See docs/configuration.md.`;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'Run the ferry: read sources, parse and mask, deliver to sinks (demo → local S3-layout archive by default).',
    )
    .argument('[config]', 'YAML or JSON config file (default: embedded defaults)')
    .option('--events <n>', 'demo sources: ship about N events (default ~20,000)')
    .option('--follow', 'demo sources: keep producing until interrupted (Ctrl-C)')
    .option(
      '--rate <n>',
      `demo sources: events per second (default: as fast as possible; ${DEFAULT_FOLLOW_RATE} with --follow)`,
    )
    .option(
      '--out <dir>',
      `archive directory for the default sink and dead letters (default ${DEFAULT_DATA_DIR})`,
    )
    .option(
      '--once',
      'read what the sources hold now, deliver it, and exit (file: to EOF; kinesis: to the tip; sqs-s3: until the queue is empty; cloudwatch: its backfill range; stdin: to EOF)',
    )
    .option('--json', 'print the summary as one JSON line (on stderr, like the table)')
    .option(
      '--metrics-address <host:port>',
      'serve Prometheus /metrics and /health there (e.g. 127.0.0.1:9598)',
    )
    .addHelpText('after', EXAMPLES)
    .action(async (configPath: string | undefined, opts: RunOptions) => {
      await run(configPath, opts);
    });
  program.addHelpText(
    'after',
    `
Quick start:
  $ logferry run                 demo CloudWatch logs (EKS, Lambda, ECS) → ./logferry-data, with a summary
  $ logferry run --help          options and examples for running the ferry`,
  );
}

/** The one logger (core/logger.ts), on stderr: stdout carries records only. Warnings and errors by default. */
function stderrLogger(): Logger {
  return jsonLogger({}, process.env.LOGFERRY_LOG_LEVEL ?? 'warn', (line) => process.stderr.write(line));
}

function loadDoc(configPath: string | undefined): { doc: Record<string, unknown>; origin: string } {
  if (!configPath) return { doc: {}, origin: 'embedded defaults' };
  const text = readConfigFile(configPath);
  const doc = parseConfigText(text, configPath);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new LogferryError(
      'CONFIG_INVALID',
      `${configPath} is invalid: the top level must be a mapping (sources:, sinks:, …)`,
    );
  }
  return { doc: doc as Record<string, unknown>, origin: configPath };
}

function positiveNumber(flag: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/[_,]/g, ''));
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new LogferryError(
      'CONFIG_INVALID',
      `${flag} must be a positive ${integer ? 'whole ' : ''}number (got "${v}")`,
    );
  }
  return n;
}

function applyRunFlags(doc: Record<string, unknown>, opts: RunOptions): void {
  const events = positiveNumber('--events', opts.events, true);
  const rate = positiveNumber('--rate', opts.rate, false);
  if (opts.once && opts.follow)
    throw new LogferryError(
      'CONFIG_INVALID',
      '--once and --follow contradict each other: --once reads what is there now and exits, --follow runs until Ctrl-C. Pick one.',
    );
  if (events === undefined && rate === undefined && !opts.follow) return;
  if (events !== undefined && opts.follow) {
    throw new LogferryError(
      'CONFIG_INVALID',
      '--events and --follow contradict each other: --events N ships about N events and stops, --follow ships until Ctrl-C. Pick one.',
    );
  }
  const sources = Array.isArray(doc.sources)
    ? (doc.sources as Record<string, unknown>[])
    : doc.sources && typeof doc.sources === 'object'
      ? (Object.values(doc.sources) as Record<string, unknown>[])
      : [];
  const demos = sources.filter((s) => s && typeof s === 'object' && s.type === 'demo');
  if (demos.length === 0) {
    throw new LogferryError(
      'CONFIG_INVALID',
      '--events, --rate and --follow apply to demo sources, and this config has none',
    );
  }
  for (const d of demos) {
    if (opts.follow) {
      d.follow = true;
      if (d.rate === undefined) d.rate = DEFAULT_FOLLOW_RATE;
    }
    if (rate !== undefined) d.rate = rate;
    if (events !== undefined) {
      const per = typeof d.eventsPerEnvelope === 'number' ? d.eventsPerEnvelope : DEMO_EVENTS_PER_ENVELOPE;
      d.envelopes = Math.ceil(events / demos.length / per);
    }
  }
}

/** EKS component / lambda / ecs / default, cached per stream (the label depends on group and stream only). */
function componentCache(): (r: LogRecord) => string {
  const cache = new Map<string, string>();
  // Records of one envelope share group and stream: a one-entry memo skips building the key.
  let lastGroup = '';
  let lastStream = '';
  let last = '';
  return (r) => {
    if (r.meta.logGroup === lastGroup && r.meta.logStream === lastStream && last !== '') return last;
    lastGroup = r.meta.logGroup;
    lastStream = r.meta.logStream;
    const key = `${r.meta.logGroup}\u0000${r.meta.logStream}`;
    let v = cache.get(key);
    if (v === undefined) {
      if (cache.size > 10_000) cache.clear();
      v = componentLabel(classifyStream(r.meta.logGroup, r.meta.logStream));
      cache.set(key, v);
    }
    last = v;
    return v;
  };
}

export async function run(
  configPath: string | undefined,
  opts: RunOptions,
  tapOpts?: TapOptions,
): Promise<void> {
  tuneHeapGrowth();
  const { doc: fileDoc, origin } = loadDoc(configPath);
  const cwd = configPath ? dirname(resolve(configPath)) : process.cwd();
  // The default archive and dead letters go to --out, else to the config's own dataDir (a user who
  // moved the state to /var/lib/logferry expects nothing in ./logferry-data), else ./logferry-data.
  const ownDir =
    typeof fileDoc.dataDir === 'string' && fileDoc.dataDir !== '' ? resolve(cwd, fileDoc.dataDir) : undefined;
  const outDir = resolve(opts.out ?? ownDir ?? DEFAULT_DATA_DIR);
  const doc = withDefaults(applyShorthands(fileDoc, process.env), { dataDir: outDir });
  applyRunFlags(doc, opts);
  const cfg = validateConfig(doc, origin);
  const log = stderrLogger();
  // State (positions, checkpoints, disk buffers) under one locked directory: the config's
  // `dataDir` (relative to the config file, validated above), else --out, else ./logferry-data.
  const dataDir = ownDir ?? outDir;
  // A disk buffer's own `path`, like every path in the config, is relative to the config file.
  for (const b of Object.values(cfg.sinkBuffers ?? {}))
    if (b.type === 'disk' && b.path !== undefined) b.path = resolve(cwd, b.path);
  const lock = lockDataDir(dataDir);
  if (lock.tookOver)
    log.warn('took over a stale data directory lock', { path: lock.path, why: lock.tookOver });
  try {
    await runLocked(cfg, { configPath, cwd, dataDir, log, opts, tapOpts });
  } finally {
    lock.release();
  }
}

async function runLocked(
  cfg: Config,
  ctx: {
    configPath: string | undefined;
    cwd: string;
    dataDir: string;
    log: Logger;
    opts: RunOptions;
    tapOpts: TapOptions | undefined;
  },
): Promise<void> {
  const { cwd, dataDir, log, opts, tapOpts } = ctx;
  const built = await buildDaemon(cfg, {
    cwd,
    dataDir,
    log,
    ...secretContext(sharedSecretResolver()),
  });
  if (opts.once) boundSources(built);

  const drainTimeoutMs = cfg.shutdown?.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const stop = new AbortController();
  const hard = new AbortController();
  let drainTimer: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!stop.signal.aborted) {
      stop.abort();
      progress.note(
        `${sig}: stopping — flushing what was read (up to ${formatMs(drainTimeoutMs)}; a second signal stops without waiting)…`,
      );
      drainTimer = setTimeout(() => {
        if (hard.signal.aborted) return;
        hard.abort();
        progress.note(
          `drain timeout (${formatMs(drainTimeoutMs)}) passed: records not yet delivered are counted as failed and not acknowledged`,
        );
      }, drainTimeoutMs);
    } else if (!hard.signal.aborted) {
      hard.abort();
      progress.note(`${sig} again: stopping now — records not yet delivered are counted as failed`);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = new ProgressDisplay(process.stderr, !!opts.json);
  const metricsAddress = opts.metricsAddress ?? cfg.metricsAddress;
  const metrics = metricsAddress ? await startMetricsServer(metricsAddress, pipelineShape(built)) : undefined;
  if (metrics) log.warn('serving metrics', { address: `http://${metrics.address}/metrics` });
  const cliTap = tapOpts ? tapWriter(tapOpts, built) : undefined;
  const tap =
    cliTap && metrics
      ? (c: string, r: LogRecord) => {
          cliTap(c, r);
          metrics.tap(c, r);
        }
      : (cliTap ?? (metrics ? (c: string, r: LogRecord) => metrics.tap(c, r) : undefined));
  let result: DaemonResult;
  try {
    result = await runDaemon({
      sources: built.sources,
      sourceTags: Object.fromEntries(built.sourceNodes.map((n) => [n.name, n.tag])),
      transforms: built.transforms,
      graphTransforms: built.graphTransforms,
      sinks: built.sinkNodes,
      deadLetter: built.deadLetter,
      signal: stop.signal,
      abortDelivery: hard.signal,
      componentOf: componentCache(),
      log,
      tap,
      dataDir,
      onProgress: (p) => {
        progress.update(p);
        metrics?.update(p);
      },
      progressIntervalMs: 100,
    });
  } finally {
    if (drainTimer) clearTimeout(drainTimer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.end();
    await metrics?.close();
  }
  // Disk buffers with their own `path` keep their replay journal there.
  const bufferDirs: Record<string, string> = {};
  for (const [sink, b] of Object.entries(cfg.sinkBuffers ?? {}))
    if (b.type === 'disk' && b.path !== undefined) bufferDirs[sink] = b.path;
  const journals = readJournals(dataDir, bufferDirs);
  const summary = buildSummary(result, {
    targets: built.sinks.map((s) => (s as { describe?: () => string }).describe?.() ?? s.name),
    deadLetter: cfg.deadLetter ? describeDeadLetter(cfg.deadLetter, cwd) : undefined,
    interrupted: stop.signal.aborted,
    abandoned: hard.signal.aborted,
    journals,
  });
  // The summary is not data: stderr, so stdout stays records only.
  process.stderr.write(opts.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  // A clean stop has reported every re-delivery since the previous one: start counting afresh.
  // After a stop that abandoned deliveries or lost a source, the next start keeps adding to it.
  if (!hard.signal.aborted && result.sourceErrors.length === 0)
    resetJournals(dataDir, Object.keys(journals), bufferDirs);
  if (result.sourceErrors.length > 0) {
    throw new LogferryError(
      'SOURCE_FAILED',
      result.sourceErrors.map((e) => `source ${e.source} stopped: ${e.error}`).join('; '),
    );
  }
  if (result.tally.total.failed > 0) process.exitCode = 1;
  // --once promises everything delivered: records left in a disk buffer (the sink failed while
  // draining) are kept for the next start, but this run did not finish its job.
  const left = summary.sinks.reduce((n, s) => n + (s.buffer?.pending ?? 0), 0);
  if (opts.once && left > 0) {
    process.stderr.write(
      `logferry: ${left} records are still in disk buffers (the sink did not take them); they are delivered on the next start\n`,
    );
    process.exitCode = 1;
  }
}

/** `--once`: every source reads what is there now and ends; one that cannot is refused (exit 2). */
function boundSources(built: { sources: Source[] }): void {
  const problems: string[] = [];
  for (const s of built.sources) {
    const why = s.bounded ? s.bounded() : 'it has no bounded mode (it would run until stopped)';
    if (why !== undefined) problems.push(`source ${s.name} (type ${s.type}): ${why}`);
  }
  if (problems.length > 0)
    throw new LogferryError(
      'CONFIG_INVALID',
      `--once needs every source to stop by itself, and ${problems.length === 1 ? 'one cannot' : `${problems.length} cannot`}:\n${problems.map((p) => `  - ${p}`).join('\n')}\nRun without --once, or remove ${problems.length === 1 ? 'that source' : 'those sources'}.`,
    );
}

const formatMs = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/**
 * The `tap` hook: one JSON line per record leaving a tapped component, on stdout (records are the
 * only thing stdout carries). Sources are tapped after parsing and masking, so no secret is shown.
 */
function tapWriter(
  t: TapOptions,
  built: {
    sourceNodes: { name: string }[];
    graphTransforms: { name: string }[];
    sinkNodes: { name: string }[];
  },
): (component: string, record: LogRecord) => void {
  const known = [
    ...built.sourceNodes.map((n) => n.name),
    ...built.graphTransforms.map((n) => n.name),
    ...built.sinkNodes.map((n) => n.name),
  ];
  const unknown = t.components.filter((c) => !known.includes(c));
  if (unknown.length > 0)
    throw new LogferryError(
      'CONFIG_INVALID',
      `tap: no component named ${unknown.map((u) => `"${u}"`).join(', ')} (components: ${known.join(', ')})`,
    );
  const wanted = new Set(t.components.length > 0 ? t.components : built.sourceNodes.map((n) => n.name));
  return (component, r) => {
    if (!wanted.has(component)) return;
    // jsonText: a record nested deeper than JSON.stringify's stack is shown capped, never stops its source.
    process.stdout.write(
      `${jsonText({
        component,
        timestamp: r.timestamp,
        message: r.message,
        fields: r.fields,
        logGroup: r.meta.logGroup,
        logStream: r.meta.logStream,
        id: r.meta.id,
      })}\n`,
    );
  };
}

/** The running graph for `/api/pipeline` (names, types, wiring; counts come from progress). */
function pipelineShape(built: {
  sources: { name: string; type: string }[];
  sourceNodes: { name: string; tag?: string }[];
  graphTransforms: {
    name: string;
    inputs?: readonly string[];
    match?: string;
    transform: { type: string };
  }[];
  sinkNodes: { name: string; inputs?: readonly string[]; match?: string; sink: { type?: string } }[];
}): PipelineShape {
  const typeOf = new Map(built.sources.map((s) => [s.name, s.type]));
  return {
    sources: built.sourceNodes.map((n) => ({ name: n.name, type: typeOf.get(n.name), tag: n.tag })),
    transforms: built.graphTransforms.map((t) => ({
      name: t.name,
      type: t.transform.type,
      inputs: t.inputs,
      match: t.match,
    })),
    sinks: built.sinkNodes.map((s) => ({
      name: s.name,
      type: s.sink.type,
      inputs: s.inputs,
      match: s.match,
    })),
  };
}
