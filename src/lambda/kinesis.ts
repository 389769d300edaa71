/**
 * Kinesis Data Streams → Lambda entry point (docs/kinesis.md): bootstrap only. Configured through
 * LOGFERRY_CONFIG / LOGFERRY_CONFIG_PARAMETER and the shorthand variables (LOGFERRY_OPENSEARCH_URL,
 * LOGFERRY_DLQ, …), once per container; the decoding and the answer are in
 * src/sources/kinesis-handler.ts, the pipeline in src/core/runner.ts. Enable
 * ReportBatchItemFailures. A bad config throws, so the invocation fails loudly and the batch is
 * retried rather than lost; a failed start is not cached.
 */
import { secretContext, sharedSecretResolver } from '../aws/secrets.js';
import { buildSinks, handlerSource } from '../config/build.js';
import { buildGraphTransforms, buildTransforms } from '../config/build-pipeline.js';
import { configOnce } from '../config/env.js';
import type { BuildContext } from '../core/component.js';
import { LogferryError } from '../core/errors.js';
import { describeGraph } from '../core/graph.js';
import { type LambdaContextLike, once } from '../core/lambda.js';
import { jsonLogger } from '../core/logger.js';
import type { KinesisBatchResponse, KinesisEvent } from '../sources/kinesis-event.js';
import {
  KINESIS_SOURCE_NAME,
  type KinesisHandlerDeps,
  processKinesisEvent,
} from '../sources/kinesis-handler.js';

export function kinesisLambdaHandler(
  opts: { env?: NodeJS.ProcessEnv } = {},
): (event: KinesisEvent, context?: LambdaContextLike) => Promise<KinesisBatchResponse> {
  const ready = once(async (): Promise<KinesisHandlerDeps> => {
    const env = opts.env ?? process.env;
    const log = jsonLogger({ source: 'kinesis-event' });
    const cfg = await configOnce(env);
    const ctx: BuildContext = { log, env, ...secretContext(sharedSecretResolver(env)) };
    const problems: string[] = [];
    const transforms = await buildTransforms(cfg, ctx);
    const graphTransforms = await buildGraphTransforms(cfg, ctx, problems);
    const { sinks, sinkNodes, deadLetter } = await buildSinks(cfg, ctx);
    if (problems.length > 0)
      throw new LogferryError(
        'CONFIG_INVALID',
        `cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      );
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
    const source = handlerSource(cfg, 'kinesis', KINESIS_SOURCE_NAME);
    const graph = { sources: [source], transforms: graphTransforms, sinks: sinkNodes };
    const safety = Number(env.LOGFERRY_DEADLINE_SAFETY_MS);
    log.info('kinesis handler ready', {
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
    };
  });
  return async (event, context) => (await processKinesisEvent(event, context, await ready())).response;
}

export const handler = kinesisLambdaHandler();
