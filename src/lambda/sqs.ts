/**
 * SQS (S3 object notifications) → Lambda entry point (docs/sources.md, "Lambda: S3 notifications through SQS"):
 * bootstrap only. Configured through LOGFERRY_CONFIG / LOGFERRY_CONFIG_PARAMETER and the shorthand
 * variables (LOGFERRY_OPENSEARCH_URL, LOGFERRY_DLQ, …), once per container; the reading, the
 * deadline and the answer are in src/sources/sqs-s3-handler.ts. A configured `sqs-s3` source (if
 * any) gives the event its name and its reading options (maxConcurrentObjects, maxLineBytes,
 * chunkLines, maxBufferedBytes). Enable ReportBatchItemFailures. A bad config throws, so the
 * invocation fails loudly and the messages are redelivered rather than lost.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { clientConfig } from '../aws/clients.js';
import { secretContext, sharedSecretResolver } from '../aws/secrets.js';
import { buildSinks, handlerSource } from '../config/build.js';
import { buildGraphTransforms, buildTransforms } from '../config/build-pipeline.js';
import { configOnce } from '../config/env.js';
import type { BuildContext } from '../core/component.js';
import { LogferryError } from '../core/errors.js';
import { describeGraph } from '../core/graph.js';
import { type LambdaContextLike, once } from '../core/lambda.js';
import { jsonLogger } from '../core/logger.js';
import {
  processSqsEvent,
  SQS_SOURCE_NAME,
  type SqsBatchResponse,
  type SqsEvent,
  type SqsHandlerDeps,
} from '../sources/sqs-s3-handler.js';
import { lazyS3Client } from '../sources/s3-object/read-object.js';

export function sqsLambdaHandler(
  opts: { env?: NodeJS.ProcessEnv } = {},
): (event: SqsEvent, context?: LambdaContextLike) => Promise<SqsBatchResponse> {
  const ready = once(async (): Promise<SqsHandlerDeps> => {
    const env = opts.env ?? process.env;
    const log = jsonLogger({ source: 'sqs-event' });
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
    if (sinks.length === 0)
      throw new LogferryError(
        'CONFIG_INVALID',
        'no sink configured: set LOGFERRY_OPENSEARCH_URL or `sinks` in LOGFERRY_CONFIG',
      );
    if (!deadLetter)
      log.warn(
        'no dead-letter sink configured: corrupt objects and unrecognised messages will be redelivered until the queue gives up; set LOGFERRY_DLQ',
      );
    const source = handlerSource(cfg, 'sqs-s3', SQS_SOURCE_NAME);
    const srcCfg = cfg.sources.find((s) => s.type === 'sqs-s3') as Record<string, unknown> | undefined;
    const num = (k: string) => (typeof srcCfg?.[k] === 'number' ? (srcCfg[k] as number) : undefined);
    const graph = { sources: [source], transforms: graphTransforms, sinks: sinkNodes };
    const safety = Number(env.LOGFERRY_DEADLINE_SAFETY_MS);
    const s3 = lazyS3Client(clientConfig('s3', { env }) as S3ClientConfig);
    log.info('sqs handler ready', {
      sinks: sinks.map((s) => s.name),
      deadLetter: deadLetter?.type,
      graph: describeGraph(graph),
    });
    return {
      s3,
      transforms,
      sinks,
      graph,
      sourceName: source.name,
      deadLetter,
      log,
      safetyMs: Number.isFinite(safety) && safety > 0 ? safety : undefined,
      maxConcurrentObjects: num('maxConcurrentObjects'),
      maxLineBytes: num('maxLineBytes'),
      chunkLines: num('chunkLines'),
      maxBufferedBytes: num('maxBufferedBytes'),
    };
  });
  return async (event, context) => (await processSqsEvent(event, context, await ready())).response;
}

export const handler = sqsLambdaHandler();
