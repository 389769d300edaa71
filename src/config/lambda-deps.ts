/**
 * Components of a record-shipping Lambda handler (Kinesis, CloudWatch Logs subscription), built
 * once per container from LOGFERRY_CONFIG / LOGFERRY_CONFIG_PARAMETER and the shorthand variables:
 * list-form transforms, the named graph, sinks and the dead-letter sink. A bad config throws, so
 * the invocation fails loudly and its records are retried rather than lost.
 */
import { secretContext, sharedSecretResolver } from '../aws/secrets.js';
import type { BuildContext, Logger } from '../core/component.js';
import type { DeadLetterSink } from '../core/dead-letter.js';
import { LogferryError } from '../core/errors.js';
import { describeGraph, type SourceNode } from '../core/graph.js';
import { jsonLogger } from '../core/logger.js';
import type { Transform } from '../core/pipeline.js';
import type { RunnerGraph } from '../core/runner.js';
import type { Sink } from '../core/sink.js';
import { buildSinks, handlerSource } from './build.js';
import { buildGraphTransforms, buildTransforms } from './build-pipeline.js';
import { configOnce } from './env.js';
import type { Config } from './schema.js';

export interface LambdaHandlerDeps {
  transforms: readonly Transform[];
  // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
  sinks: readonly Sink<any>[];
  graph: Omit<RunnerGraph, 'pre' | 'deadLetter'>;
  sourceName: string;
  deadLetter?: DeadLetterSink;
  log: Logger;
  safetyMs?: number;
  /** The handler's source entry in the config, when there is one (handler-specific options). */
  sourceConfig?: Config['sources'][number];
}

/** Builds a handler's components; `type` is the config source type the handler stands for. */
export async function buildLambdaDeps(
  env: NodeJS.ProcessEnv,
  type: string,
  fallbackName: string,
  logSource: string,
): Promise<LambdaHandlerDeps> {
  const log = jsonLogger({ source: logSource });
  const cfg = await configOnce(env);
  const ctx: BuildContext = { log, env, ...secretContext(sharedSecretResolver(env)) };
  const problems: string[] = [];
  const transforms = await buildTransforms(cfg, ctx);
  const graphTransforms = await buildGraphTransforms(cfg, ctx, problems);
  const { sinks, sinkNodes, deadLetter } = await buildSinks(cfg, ctx);
  if (problems.length > 0)
    throw new LogferryError('CONFIG_INVALID', `cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  if (sinks.length === 0) {
    throw new LogferryError(
      'CONFIG_INVALID',
      'no sink configured: set LOGFERRY_OPENSEARCH_URL or `sinks` in LOGFERRY_CONFIG',
    );
  }
  if (!deadLetter) {
    log.warn(
      'no dead-letter sink configured: malformed and rejected records will be redriven until they expire; set LOGFERRY_DLQ',
    );
  }
  const source: SourceNode = handlerSource(cfg, type, fallbackName);
  const graph = { sources: [source], transforms: graphTransforms, sinks: sinkNodes };
  const safety = Number(env.LOGFERRY_DEADLINE_SAFETY_MS);
  log.info(`${fallbackName} handler ready`, {
    sinks: sinks.map((s) => s.name),
    deadLetter: deadLetter?.type,
    transforms: transforms.map((t) => t.type),
    graph: describeGraph(graph),
  });
  return {
    transforms,
    sinks,
    graph,
    sourceName: source.name,
    deadLetter,
    log,
    safetyMs: Number.isFinite(safety) && safety > 0 ? safety : undefined,
    sourceConfig: cfg.sources.find((s) => s.type === type),
  };
}
