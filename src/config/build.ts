/**
 * Builds what the daemon runs — sources, transforms, sinks and the dead-letter sink — from a
 * validated Config through the component registries, and holds the embedded defaults that make
 * `logferry run` work with no config at all: the demo source, the shared transforms (parse `auto`,
 * masking on), a local archive in the S3 layout and a local dead-letter file. A config file that
 * leaves out `sources`, `sinks` or `deadLetter` gets that section's default.
 */
import { join } from 'node:path';
import type { BuildContext, Registry } from '../core/component.js';
import { type DeadLetterSink, SinkDeadLetter } from '../core/dead-letter.js';
import { describeError, LogferryError } from '../core/errors.js';
import type { PlannedTransform, SourceNode } from '../core/graph.js';
import type { Transform } from '../core/pipeline.js';
import type { DaemonSinkNode as SinkNode } from '../core/daemon.js';
import type { Sink } from '../core/sink.js';
import type { Source } from '../core/source.js';
import { deadLetterSinks, sinks as sinkRegistry } from '../sinks/index.js';
import { sources as sourceRegistry } from '../sources/index.js';
import { buildGraphTransforms, buildTransforms } from './build-pipeline.js';
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
  /** Stages every record goes through before routing: parse, mask, list-form transforms. */
  transforms: Transform[];
  /** Named transforms (map form) with their wiring. */
  graphTransforms: PlannedTransform[];
  // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
  sinks: Sink<any>[];
  /** The sinks with their names and wiring, in the same order as `sinks`. */
  sinkNodes: SinkNode[];
  /** Source names and tags as the graph sees them. */
  sourceNodes: SourceNode[];
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
): Promise<Pick<BuiltDaemon, 'sinks' | 'deadLetter' | 'sinkNodes'>> {
  const built: Pick<BuiltDaemon, 'sinks' | 'deadLetter' | 'sinkNodes'> = { sinks: [], sinkNodes: [] };
  for (const [i, s] of cfg.sinks.entries()) {
    const name = typeof s.name === 'string' ? s.name : s.type;
    const at = cfg.sinkEdges || !/^[\w-]+$/.test(name) ? `sinks.${name}` : `sinks[${i}]`;
    const sink = await create('sink', sinkRegistry, s, ctx, at, problems);
    if (sink) {
      built.sinks.push(sink);
      built.sinkNodes.push({ name, sink, ...cfg.sinkEdges?.[name], buffer: cfg.sinkBuffers?.[name] });
    }
  }
  if (cfg.deadLetter) {
    if (deadLetterSinks.some((d) => d.type === cfg.deadLetter?.type))
      built.deadLetter = await create(
        'dead-letter sink',
        deadLetterSinks,
        cfg.deadLetter,
        ctx,
        'deadLetter',
        problems,
      );
    else {
      // Any ordinary sink in the dead-letter role, driven by the same delivery engine and deadline.
      const sink = await create('sink', sinkRegistry, cfg.deadLetter, ctx, 'deadLetter', problems);
      if (sink) built.deadLetter = new SinkDeadLetter(sink);
    }
  }
  return built;
}

/**
 * Creates the configured sinks and dead-letter sink (Lambda handlers need no source). Problems
 * found while creating them are reported together.
 */
export async function buildSinks(
  cfg: Config,
  ctx: BuildContext = {},
): Promise<Pick<BuiltDaemon, 'sinks' | 'deadLetter' | 'sinkNodes'>> {
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
  const built: BuiltDaemon = {
    sources: [],
    transforms: [],
    graphTransforms: [],
    sinks: [],
    sinkNodes: [],
    sourceNodes: sourceNodes(cfg),
  };
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
  built.graphTransforms = await buildGraphTransforms(cfg, ctx, problems);
  if (built.sources.length === 0 && problems.length === 0)
    problems.push('sources: at least one source is needed');
  if (built.sinks.length === 0 && problems.length === 0) problems.push('sinks: at least one sink is needed');
  if (problems.length > 0) {
    await Promise.all(built.sinks.map((s) => s.close?.().catch(() => {})));
    throw refuse(problems);
  }
  return built;
}

/** The graph's source names and tags (a source's name is its `name` or its type). */
export function sourceNodes(cfg: Config): SourceNode[] {
  return cfg.sources.map((s) => ({
    name: typeof s.name === 'string' ? s.name : s.type,
    tag: cfg.sourceTags?.[typeof s.name === 'string' ? s.name : s.type],
  }));
}

/**
 * In a Lambda handler the event is the one source: it takes the name (and tag) of the configured
 * source of the handler's type, else of the only configured source, else the handler's own name,
 * so `inputs` naming that source work unchanged.
 */
export function handlerSource(cfg: Config, type: string, fallback: string): SourceNode {
  const nodes = sourceNodes(cfg);
  const i = cfg.sources.findIndex((s) => s.type === type);
  if (i >= 0) return nodes[i];
  if (nodes.length === 1) return nodes[0];
  return { name: fallback };
}
