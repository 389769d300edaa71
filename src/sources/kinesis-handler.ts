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
import type { Logger } from '../core/component.js';
import type { DeadLetterSink } from '../core/dead-letter.js';
import {
  DEFAULT_DEADLINE_SAFETY_MS,
  invokeLambda,
  type LambdaContextLike,
  type LambdaDecoder,
} from '../core/lambda.js';
import type { Outcome, Tally } from '../core/outcome.js';
import type { Transform } from '../core/pipeline.js';
import type { RetryPolicy } from '../core/retry.js';
import { createRunner, type Runner, type RunnerGraph } from '../core/runner.js';
import type { Sink } from '../core/sink.js';
import {
  decodeKinesisEvent,
  type KinesisBatchResponse,
  type KinesisEnvelope,
  type KinesisEvent,
  kinesisResponse,
  SOURCE_TYPE,
} from './kinesis-event.js';

export { DEFAULT_DEADLINE_SAFETY_MS, type LambdaContextLike };

/** The source name of the event in a handler's graph. */
export const KINESIS_SOURCE_NAME = 'kinesis';

export const kinesisDecoder: LambdaDecoder<KinesisEvent, KinesisEnvelope, KinesisBatchResponse> = {
  name: KINESIS_SOURCE_NAME,
  type: SOURCE_TYPE,
  decode: (event) => decodeKinesisEvent(event),
  respond: (envelopes, outcomes) => kinesisResponse(envelopes, outcomes),
};

export interface KinesisHandlerDeps {
  /** Stages every record goes through (parse, mask, list-form transforms). */
  transforms: readonly Transform[];
  /** Sinks that take every record (list form); ignored when `graph` is given. */
  // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
  sinks: readonly Sink<any>[];
  deadLetter?: DeadLetterSink;
  /** A whole graph of named components (from config); `transforms` still run first. */
  graph?: Omit<RunnerGraph, 'pre' | 'deadLetter'>;
  /** The event's source name in `graph` (default `kinesis`). */
  sourceName?: string;
  log: Logger;
  retry?: RetryPolicy;
  /** Batches in flight per sink. */
  concurrency?: number;
  safetyMs?: number;
}

export interface KinesisInvocationResult {
  response: KinesisBatchResponse;
  /** Worst outcome per envelope (Kinesis record), in event order. */
  envelopes: Outcome[];
  tally: Tally;
}

const runners = new WeakMap<KinesisHandlerDeps, Runner>();

/** The runner for a set of handler components (built once per deps object). */
export function kinesisRunner(deps: KinesisHandlerDeps): Runner {
  let r = runners.get(deps);
  if (!r) {
    const graph: RunnerGraph = deps.graph
      ? { ...deps.graph, pre: deps.transforms, deadLetter: deps.deadLetter }
      : {
          pre: deps.transforms,
          sources: [{ name: KINESIS_SOURCE_NAME }],
          transforms: [],
          sinks: deps.sinks.map((sink) => ({ name: sink.name, sink })),
          deadLetter: deps.deadLetter,
        };
    r = createRunner(graph, {
      log: deps.log,
      flushConcurrency: deps.concurrency ?? 4,
      deliver: { retry: deps.retry, concurrency: 1 },
      // One invocation is one bounded batch: never stop reading it half-way.
      maxInFlightEnvelopes: Number.MAX_SAFE_INTEGER,
      maxInFlightRecords: Number.MAX_SAFE_INTEGER,
    });
    runners.set(deps, r);
  }
  return r;
}

export async function processKinesisEvent(
  event: KinesisEvent,
  context: LambdaContextLike | undefined,
  deps: KinesisHandlerDeps,
): Promise<KinesisInvocationResult> {
  const inv = await invokeLambda(kinesisRunner(deps), kinesisDecoder, event, context, {
    log: deps.log,
    source: deps.sourceName,
    safetyMs: deps.safetyMs ?? DEFAULT_DEADLINE_SAFETY_MS,
    extra: (_r, answer) => ({
      batchItemFailures: (answer as KinesisBatchResponse).batchItemFailures.map((f) => f.itemIdentifier),
    }),
  });
  return { response: inv.answer, envelopes: inv.outcomes, tally: inv.tally };
}
