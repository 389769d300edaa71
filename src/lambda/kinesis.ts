/**
 * Kinesis Data Streams → Lambda entry point (docs/kinesis.md): bootstrap only. Configured through
 * LOGFERRY_CONFIG / LOGFERRY_CONFIG_PARAMETER and the shorthand variables (LOGFERRY_OPENSEARCH_URL,
 * LOGFERRY_DLQ, …), once per container (src/config/lambda-deps.ts); the decoding and the answer are
 * in src/sources/kinesis-handler.ts, the pipeline in src/core/runner.ts. Enable
 * ReportBatchItemFailures. A bad config throws, so the invocation fails loudly and the batch is
 * retried rather than lost; a failed start is not cached. Records that are not CloudWatch payloads
 * (JSON, NDJSON, text lines; gzip/zlib) are decoded too; LOGFERRY_KINESIS_FORMAT=cloudwatch (or
 * `format: cloudwatch` on the config's kinesis source) refuses them as malformed instead.
 */
import { buildLambdaDeps } from '../config/lambda-deps.js';
import { type LambdaContextLike, once } from '../core/lambda.js';
import type { KinesisBatchResponse, KinesisEvent, KinesisRecordFormat } from '../sources/kinesis-event.js';
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
    const deps = await buildLambdaDeps(env, 'kinesis', KINESIS_SOURCE_NAME, 'kinesis-event');
    const configured = (deps.sourceConfig as { format?: KinesisRecordFormat } | undefined)?.format;
    const format = env.LOGFERRY_KINESIS_FORMAT === 'cloudwatch' ? 'cloudwatch' : (configured ?? 'auto');
    return { ...deps, format };
  });
  return async (event, context) => (await processKinesisEvent(event, context, await ready())).response;
}

export const handler = kinesisLambdaHandler();
