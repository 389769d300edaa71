/**
 * Builds what the daemon runs — sources, transforms, sinks and the dead-letter sink — from a
 * validated Config through the component registries, and holds the embedded defaults that make
 * `logferry run` work with no config at all: the demo source, the shared transforms (parse `auto`,
 * masking on), a local archive in the S3 layout and a local dead-letter file. A config file that
 * leaves out `sources`, `sinks` or `deadLetter` gets that section's default.
 */
import { join } from 'node:path';
import type { BuildContext, Registry } from '../core/component.js';
import type { DeadLetterSink } from '../core/dead-letter.js';
import { describeError, LogferryError } from '../core/errors.js';
import type { Transform } from '../core/pipeline.js';
import type { Sink } from '../core/sink.js';
import type { Source } from '../core/source.js';
import { deadLetterSinks, sinks as sinkRegistry } from '../sinks/index.js';
import { sources as sourceRegistry } from '../sources/index.js';
import { buildTransforms } from './build-pipeline.js';
import type { ComponentConfig, Config } from './schema.js';

/** Where the default archive goes, relative to the working directory. */
export const DEFAULT_DATA_DIR = './logferry-data';

export interface DefaultsOptions {
  /** Archive directory for the default sink and dead-letter file (default `./logferry-data`). */
  dataDir?: string;
}

/** The configuration used when there is no config file. */
export function defaultConfigDoc(opts: DefaultsOptions = {}): Record<string, unknown> {
  return withDefaults({}, opts);
}

/** Fills the sections a config document leaves out with the embedded defaults (input unchanged). */
export function withDefaults(
  doc: Record<string, unknown>,
  opts: DefaultsOptions = {},
): Record<string, unknown> {
  const dir = opts.dataDir ?? DEFAULT_DATA_DIR;
  const out = { ...doc };
  if (out.sources === undefined) out.sources = [{ type: 'demo' }];
  if (out.sinks === undefined) {
    // A 10 s age limit (Firehose buffers up to 900 s) so a local run shows objects while it goes.
    out.sinks = [
      {
        type: 's3',
        url: opts.dataDir ? dir : `file://${DEFAULT_DATA_DIR}`,
        format: 'ndjson',
        maxAgeMs: 10_000,
      },
    ];
  }
  if (out.deadLetter === undefined) out.deadLetter = { type: 'file', path: join(dir, 'dead-letter') };
  return out;
}

export interface BuiltDaemon {
  sources: Source[];
  transforms: Transform[];
  // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
  sinks: Sink<any>[];
  deadLetter?: DeadLetterSink;
}

async function create<T>(
  kind: string,
  registry: Registry<T>,
  item: ComponentConfig,
  ctx: BuildContext,
  at: string,
  problems: string[],
): Promise<T | undefined> {
  const spec = registry.find((s) => s.type === item.type);
  if (!spec) {
    problems.push(`${at}: unknown ${kind} type "${item.type}"`);
    return undefined;
  }
  try {
    return await spec.create(item, ctx);
  } catch (e) {
    problems.push(`${at}: ${describeError(e)}`);
    return undefined;
  }
}

function refuse(problems: string[]): LogferryError {
  return new LogferryError(
    'CONFIG_INVALID',
    `cannot start (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    { details: { problems } },
  );
}

async function createSinks(
  cfg: Config,
  ctx: BuildContext,
  problems: string[],
): Promise<Pick<BuiltDaemon, 'sinks' | 'deadLetter'>> {
  const built: Pick<BuiltDaemon, 'sinks' | 'deadLetter'> = { sinks: [] };
  for (const [i, s] of cfg.sinks.entries()) {
    const sink = await create('sink', sinkRegistry, s, ctx, `sinks[${i}]`, problems);
    if (sink) built.sinks.push(sink);
  }
  if (cfg.deadLetter)
    built.deadLetter = await create(
      'dead-letter sink',
      deadLetterSinks,
      cfg.deadLetter,
      ctx,
      'deadLetter',
      problems,
    );
  return built;
}

/**
 * Creates the configured sinks and dead-letter sink (Lambda handlers need no source). Problems
 * found while creating them are reported together.
 */
export async function buildSinks(
  cfg: Config,
  ctx: BuildContext = {},
): Promise<Pick<BuiltDaemon, 'sinks' | 'deadLetter'>> {
  const problems: string[] = [];
  const built = await createSinks(cfg, ctx, problems);
  if (problems.length > 0) {
    await Promise.all(built.sinks.map((s) => s.close?.().catch(() => {})));
    throw refuse(problems);
  }
  return built;
}

/**
 * Creates every component; problems found while creating them (an unreadable secret, a bad
 * endpoint) are reported together, like validation problems.
 */
export async function buildDaemon(cfg: Config, ctx: BuildContext = {}): Promise<BuiltDaemon> {
  const problems: string[] = [];
  const built: BuiltDaemon = { sources: [], transforms: [], sinks: [] };
  for (const [i, s] of cfg.sources.entries()) {
    const src = await create('source', sourceRegistry, s, ctx, `sources[${i}]`, problems);
    if (src) built.sources.push(src);
  }
  Object.assign(built, await createSinks(cfg, ctx, problems));
  try {
    built.transforms = await buildTransforms(cfg, ctx);
  } catch (e) {
    problems.push(`transforms: ${describeError(e)}`);
  }
  if (built.sources.length === 0 && problems.length === 0)
    problems.push('sources: at least one source is needed');
  if (built.sinks.length === 0 && problems.length === 0) problems.push('sinks: at least one sink is needed');
  if (problems.length > 0) {
    await Promise.all(built.sinks.map((s) => s.close?.().catch(() => {})));
    throw refuse(problems);
  }
  return built;
}
