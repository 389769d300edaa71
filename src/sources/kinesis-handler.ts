/**
 * The Kinesis Lambda home as a decoder over the one runner: `decode` turns the event into one
 * envelope per Kinesis record (src/sources/kinesis-event.ts), the runner takes them through parse,
 * mask, the graph, delivery and the dead-letter hand-off (src/core/runner.ts), and `respond`
 * answers `batchItemFailures` (the earliest failed sequence number per shard). Bootstrap (config,
 * secrets, building components) lives in src/lambda/kinesis.ts.
 *
 * Delivery semantics: a record sent to several sinks gets the worst of its branches; an envelope is
 * reported failed when any of its records is `failed` (retries or time ran out, or the dead-letter
 * sink could not store a rejection), and Lambda then redrives from the earliest failed sequence
 * number of the shard — sinks dedupe redriven records by their stable id. Control messages are
 * counted drops; malformed records, records a transform threw on and records a sink rejected go to
 * the dead-letter sink and are not redriven.
 */
import {
  DEFAULT_DEADLINE_SAFETY_MS,
  type HandlerDeps,
  handlerRunner,
  invokeLambda,
  type LambdaContextLike,
  type LambdaDecoder,
} from '../core/lambda.js';
import type { Outcome, Tally } from '../core/outcome.js';
import type { Runner } from '../core/runner.js';
import {
  decodeKinesisEvent,
  decodeKinesisEventAhead,
  type KinesisBatchResponse,
  type KinesisEnvelope,
  type KinesisEvent,
  type KinesisRecordFormat,
  kinesisResponse,
  SOURCE_TYPE,
} from './kinesis-event.js';

export { DEFAULT_DEADLINE_SAFETY_MS, type LambdaContextLike };

/** The source name of the event in a handler's graph. */
export const KINESIS_SOURCE_NAME = 'kinesis';

function kinesisDecoderFor(
  format: KinesisRecordFormat,
): LambdaDecoder<KinesisEvent, KinesisEnvelope, KinesisBatchResponse> {
  return {
    name: KINESIS_SOURCE_NAME,
    type: SOURCE_TYPE,
    decode: (event) => decodeKinesisEvent(event, { format }),
    decodeAhead: (event) => decodeKinesisEventAhead(event, { format }),
    respond: (envelopes, outcomes) => kinesisResponse(envelopes, outcomes),
  };
}

export const kinesisDecoder = kinesisDecoderFor('auto');
const cloudwatchOnlyDecoder = kinesisDecoderFor('cloudwatch');

export interface KinesisHandlerDeps extends HandlerDeps {
  /** `auto` (default): CloudWatch payloads and any JSON/NDJSON/text record; `cloudwatch`: only CloudWatch payloads. */
  format?: KinesisRecordFormat;
}

export interface KinesisInvocationResult {
  response: KinesisBatchResponse;
  /** Worst outcome per envelope (Kinesis record), in event order. */
  envelopes: Outcome[];
  tally: Tally;
}

/** The runner for a set of handler components (built once per deps object). */
export function kinesisRunner(deps: KinesisHandlerDeps): Runner {
  return handlerRunner(deps, KINESIS_SOURCE_NAME);
}

export async function processKinesisEvent(
  event: KinesisEvent,
  context: LambdaContextLike | undefined,
  deps: KinesisHandlerDeps,
): Promise<KinesisInvocationResult> {
  const inv = await invokeLambda(
    kinesisRunner(deps),
    deps.format === 'cloudwatch' ? cloudwatchOnlyDecoder : kinesisDecoder,
    event,
    context,
    {
      log: deps.log,
      source: deps.sourceName,
      safetyMs: deps.safetyMs ?? DEFAULT_DEADLINE_SAFETY_MS,
      extra: (_r, answer) => ({
        batchItemFailures: (answer as KinesisBatchResponse).batchItemFailures.map((f) => f.itemIdentifier),
      }),
    },
  );
  return { response: inv.answer, envelopes: inv.outcomes, tally: inv.tally };
}
