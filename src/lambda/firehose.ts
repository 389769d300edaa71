/**
 * Firehose data-transformation Lambda entry point (docs/firehose.md): bootstrap only. Configured
 * through LOGFERRY_CONFIG or LOGFERRY_CONFIG_PARAMETER once per container; the decoding, the answer
 * and the re-ingest are in src/sources/firehose.ts, the pipeline in src/core/runner.ts. A bad config
 * throws, so the invocation fails loudly and Firehose retries it rather than losing data.
 */
import { secretContext, sharedSecretResolver } from '../aws/secrets.js';
import { handlerSource } from '../config/build.js';
import { buildGraphTransforms, buildTransforms } from '../config/build-pipeline.js';
import { configOnce } from '../config/env.js';
import type { Config } from '../config/schema.js';
import type { BuildContext } from '../core/component.js';
import { LogferryError } from '../core/errors.js';
import { type LambdaContextLike, once } from '../core/lambda.js';
import { jsonLogger } from '../core/logger.js';
import type { Transform } from '../core/pipeline.js';
import { lambdaDeadline } from '../core/retry.js';
import {
  FIREHOSE_SOURCE_NAME,
  type FirehoseTransformationEvent,
  type FirehoseTransformationResponse,
  FirehoseTransformer,
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

export function firehoseLambdaHandler(): (
  event: FirehoseTransformationEvent,
  context?: LambdaContextLike,
) => Promise<FirehoseTransformationResponse> {
  const ready = once(async () => {
    const log = jsonLogger({ source: 'firehose' });
    const cfg = await configOnce();
    const ctx: BuildContext = { log, ...secretContext(sharedSecretResolver()) };
    const transforms = await buildFirehoseTransforms(cfg, ctx);
    const problems: string[] = [];
    const graphTransforms = await buildGraphTransforms(cfg, ctx, problems);
    if (problems.length > 0)
      throw new LogferryError(
        'CONFIG_INVALID',
        `cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      );
    log.info('firehose transformer ready', {
      format: cfg.firehose.format,
      transforms: transforms.map((t) => t.type),
      graphTransforms: graphTransforms.map((t) => t.name),
    });
    return new FirehoseTransformer(cfg.firehose, {
      transforms,
      graphTransforms,
      source: handlerSource(cfg, 'firehose', FIREHOSE_SOURCE_NAME),
      log,
    });
  });
  return async (event, context) => {
    const transformer = await ready();
    return (await transformer.transform(event, lambdaDeadline(context))).response;
  };
}

export const handler = firehoseLambdaHandler();
