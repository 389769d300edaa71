/**
 * Firehose data-transformation Lambda entry point (docs/firehose.md): bootstrap only. Configured
 * through LOGFERRY_CONFIG or LOGFERRY_CONFIG_PARAMETER once per container; the decoding, the answer
 * and the re-ingest are in src/sources/firehose.ts, the pipeline in src/core/runner.ts. A bad config
 * throws, so the invocation fails loudly and Firehose retries it rather than losing data.
 *
 * The configured `sinks` and `deadLetter` are honoured as the Kinesis handler honours them: the
 * answer is one more branch of the graph, so records also go to each configured sink (by its
 * `inputs`/`match`); rejected records go to the configured dead-letter sink (their `recordId` is
 * still answered for its other records), and without one the error prefix is the dead-letter store
 * (the whole `recordId` is answered ProcessingFailed).
 */
import { secretContext, sharedSecretResolver } from '../aws/secrets.js';
import { buildSinks, handlerSource } from '../config/build.js';
import { buildGraphTransforms, buildTransforms } from '../config/build-pipeline.js';
import { configOnce } from '../config/env.js';
import type { Config } from '../config/schema.js';
import type { BuildContext, Logger } from '../core/component.js';
import { LogferryError } from '../core/errors.js';
import { type LambdaContextLike, once } from '../core/lambda.js';
import { jsonLogger } from '../core/logger.js';
import type { Transform } from '../core/pipeline.js';
import { lambdaDeadline } from '../core/retry.js';
import { FirehoseWorkerPool, firehoseWorkerThreads } from './firehose-workers.js';
import {
  FIREHOSE_SOURCE_NAME,
  type FirehoseTransformationEvent,
  type FirehoseTransformationResponse,
  FirehoseTransformer,
  type FirehoseTransformerDeps,
} from '../sources/firehose.js';

/**
 * The stages for this handler. `raw` output is the messages alone, so parsed fields would be
 * thrown away: parsing is skipped unless configured transforms (which may read fields) follow.
 * Masking still runs on every message (it does not need parsed fields to rewrite the message).
 */
export function buildFirehoseTransforms(cfg: Config, ctx: BuildContext = {}): Promise<Transform[]> {
  const fieldsUnused =
    cfg.firehose.format === 'raw' && cfg.transforms.length === 0 && (cfg.graphTransforms?.length ?? 0) === 0;
  return buildTransforms(fieldsUnused ? { ...cfg, parse: 'none' } : cfg, ctx);
}

/**
 * The transformer for a validated config (the handler's and each worker thread's): stages, graph
 * transforms, configured sinks and dead-letter sink. A bad config throws (CONFIG_INVALID).
 */
export async function buildFirehoseTransformer(
  cfg: Config,
  ctx: BuildContext & { log: Logger },
): Promise<{ transformer: FirehoseTransformer; deps: FirehoseTransformerDeps }> {
  const transforms = await buildFirehoseTransforms(cfg, ctx);
  const problems: string[] = [];
  const graphTransforms = await buildGraphTransforms(cfg, ctx, problems);
  if (problems.length > 0)
    throw new LogferryError('CONFIG_INVALID', `cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  // Configured sinks fan out beside the answer; the configured dead-letter sink replaces the
  // error prefix for rejected records (buildSinks lists every problem at once).
  const { sinkNodes, deadLetter } = await buildSinks(cfg, ctx);
  const deps: FirehoseTransformerDeps = {
    transforms,
    graphTransforms,
    source: handlerSource(cfg, 'firehose', FIREHOSE_SOURCE_NAME),
    sinks: sinkNodes,
    deadLetter,
    log: ctx.log,
  };
  return { transformer: new FirehoseTransformer(cfg.firehose, deps), deps };
}

export function firehoseLambdaHandler(
  opts: { env?: NodeJS.ProcessEnv } = {},
): (
  event: FirehoseTransformationEvent,
  context?: LambdaContextLike,
) => Promise<FirehoseTransformationResponse> {
  const ready = once(async (): Promise<Pick<FirehoseTransformer, 'transform'>> => {
    const env = opts.env ?? process.env;
    const log = jsonLogger({ source: 'firehose' });
    const cfg = await configOnce(env);
    const ctx: BuildContext & { log: Logger } = { log, env, ...secretContext(sharedSecretResolver(env)) };
    const { transformer, deps } = await buildFirehoseTransformer(cfg, ctx);
    const threads = firehoseWorkerThreads(cfg);
    log.info('firehose transformer ready', {
      format: cfg.firehose.format,
      transforms: deps.transforms.map((t) => t.type),
      graphTransforms: (deps.graphTransforms ?? []).map((t) => t.name),
      sinks: (deps.sinks ?? []).map((s) => s.name),
      deadLetter: deps.deadLetter?.type ?? 'error prefix',
      workers: threads.count,
      ...(threads.why ? { workersOff: threads.why } : {}),
    });
    // Worker threads start on the first big invocation (small ones never need them).
    return threads.count > 0
      ? new FirehoseWorkerPool(transformer, { threads: threads.count, config: cfg, log })
      : transformer;
  });
  return async (event, context) => {
    const transformer = await ready();
    return (await transformer.transform(event, lambdaDeadline(context))).response;
  };
}

export const handler = firehoseLambdaHandler();
