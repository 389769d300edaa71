/**
 * The Lambda home: a handler is a decoder (`decode(event) → envelopes`, `respond(envelopes,
 * outcomes) → answer`) plus bootstrap in `src/lambda/<name>.ts`. `invokeLambda` runs the decoded
 * envelopes through the one runner bounded by the invocation's deadline, asks the decoder for the
 * answer and writes the one summary line of the invocation — counts by outcome and reason, and the
 * same counters as CloudWatch Embedded Metric Format (namespace `logferry`, dimension `handler`), so
 * an alarm is one line of IaC (docs/architecture.md, "Metrics").
 *
 * Deadline: retries stop `safetyMs` before the Lambda deadline (default 5 s, but at most a quarter
 * of the time the invocation starts with, so a 3 s function still delivers); what is left is
 * reported failed instead of timing out, because a timed-out invocation retries the whole batch.
 */
import type { Logger } from './component.js';
import type { DeadLetterSink } from './dead-letter.js';
import { type Outcome, Tally } from './outcome.js';
import type { Transform } from './pipeline.js';
import { lambdaDeadline, type RetryPolicy } from './retry.js';
import {
  createRunner,
  type EnvelopeStream,
  type RunResult,
  type Runner,
  type RunnerGraph,
  runEnvelopeStream,
} from './runner.js';
import { redactSecrets } from './secrets-registry.js';
import type { Sink } from './sink.js';
import type { SourceEnvelope } from './source.js';

/** Time kept back from the Lambda deadline for the dead-letter hand-off and the answer. */
export const DEFAULT_DEADLINE_SAFETY_MS = 5_000;
/** Longest failure reason quoted in the per-invocation log line. */
const MAX_LOGGED_REASON_CHARS = 300;
/** CloudWatch EMF namespace of the handlers' metrics. */
export const METRICS_NAMESPACE = 'logferry';

export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

export interface LambdaDecoder<Ev, Env extends SourceEnvelope, Ans> {
  /** Handler name (`kinesis`, `firehose`): the source name in the graph and the EMF dimension. */
  readonly name: string;
  /** `meta.source` of its records. */
  readonly type: string;
  /** Never throws: every unit of the event becomes an envelope (records, control or malformed). */
  decode(event: Ev): Env[];
  /**
   * `decode` as a stream the runner reads while the rest is still being decoded (payloads inflating
   * on the thread pool ahead of the one being processed): the same envelopes, in the same order.
   */
  decodeAhead?(event: Ev): EnvelopeStream<Env>;
  /** The handler's answer from each envelope's worst outcome. */
  respond(envelopes: readonly Env[], outcomes: readonly Outcome[], result: RunResult): Ans;
}

export interface InvokeOptions {
  log: Logger;
  /** The event's source name in the graph (default the decoder's name). */
  source?: string;
  safetyMs?: number;
  /** Extra fields for the summary line (decoder specific: response bytes, re-ingest counts). */
  extra?: (result: RunResult, answer: unknown) => Record<string, unknown>;
}

export interface Invocation<Env, Ans> {
  answer: Ans;
  envelopes: Env[];
  /** Worst outcome per envelope, in event order. */
  outcomes: Outcome[];
  tally: Tally;
  result: RunResult;
}

export function invocationDeadline(
  context: LambdaContextLike | undefined,
  safetyMs = DEFAULT_DEADLINE_SAFETY_MS,
) {
  const initialMs = context?.getRemainingTimeInMillis?.();
  const safety = Math.min(safetyMs, initialMs ? Math.floor(initialMs / 4) : Number.POSITIVE_INFINITY);
  return lambdaDeadline(context, safety);
}

export async function invokeLambda<Ev, Env extends SourceEnvelope, Ans>(
  runner: Runner,
  decoder: LambdaDecoder<Ev, Env, Ans>,
  event: Ev,
  context: LambdaContextLike | undefined,
  opts: InvokeOptions,
): Promise<Invocation<Env, Ans>> {
  const started = Date.now();
  const deadline = invocationDeadline(context, opts.safetyMs);
  const source = { type: decoder.type, name: opts.source ?? decoder.name };
  const stream = decoder.decodeAhead?.(event) ?? listStream(decoder.decode(event));
  const { envelopes, outcomes, result } = await runEnvelopeStream(runner, source, stream, { deadline });
  const answer = decoder.respond(envelopes, outcomes, result);
  logInvocation(
    opts.log,
    decoder.name,
    context,
    outcomes,
    result,
    Date.now() - started,
    deadline.remainingMs(),
    {
      ...opts.extra?.(result, answer),
    },
  );
  return { answer, envelopes, outcomes, tally: result.tally, result };
}

function listStream<E>(envelopes: E[]): EnvelopeStream<E> {
  return { count: envelopes.length, envelopes };
}

/** The EMF block and metric values for a run's counters (the same names `/metrics` uses). */
export function emfMetrics(
  handler: string,
  result: RunResult,
  envelopesFailed: number,
): Record<string, unknown> {
  const t = result.tally.total;
  const values: Record<string, number> = {
    records_received: t.received,
    records_delivered: t.delivered,
    records_dropped: t.dropped,
    records_rejected: t.rejected,
    records_failed: t.failed,
    envelopes_failed: envelopesFailed,
    bytes_in: result.bytesIn,
    send_retries: result.sinks.reduce((n, s) => n + s.retries, 0),
  };
  return {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [['handler']],
          Metrics: Object.keys(values).map((Name) => ({
            Name,
            Unit: Name === 'bytes_in' ? 'Bytes' : 'Count',
          })),
        },
      ],
    },
    handler,
    ...values,
  };
}

function logInvocation(
  log: Logger,
  handler: string,
  context: LambdaContextLike | undefined,
  outcomes: readonly Outcome[],
  result: RunResult,
  durationMs: number,
  remainingMs: number,
  extra: Record<string, unknown>,
): void {
  const envelopes = { received: outcomes.length, delivered: 0, dropped: 0, rejected: 0, failed: 0 };
  const envelopeReasons: Record<string, number> = {};
  // Why records will be redriven (one example per code): without it an operator sees only
  // SINK_UNAVAILABLE and cannot tell a refused connection from DNS, TLS or auth trouble. Failure
  // reasons describe transport errors, never record contents; registered secrets are redacted.
  let failureReasons: Record<string, string> | undefined;
  for (const o of outcomes) {
    envelopes[o.kind]++;
    if (o.kind !== 'delivered') {
      const k = `${o.kind}:${o.code ?? 'UNKNOWN'}`;
      envelopeReasons[k] = (envelopeReasons[k] ?? 0) + 1;
      if (o.kind === 'failed' && o.reason && !failureReasons?.[k]) {
        failureReasons ??= {};
        // DEAD_LETTER_UNAVAILABLE embeds the sink's rejection reason, which may quote a record.
        const why = o.reason.replace(
          /^(rejected|malformed envelope) \(([^:)]+):.*\) and the dead-letter sink/s,
          '$1 ($2) and the dead-letter sink',
        );
        failureReasons[k] = redactSecrets(why).slice(0, MAX_LOGGED_REASON_CHARS);
      }
    }
  }
  const t = result.tally.toJSON();
  const data = {
    requestId: context?.awsRequestId,
    envelopes,
    envelopeReasons,
    failureReasons,
    records: t.total,
    recordReasons: t.byReason,
    logGroups: result.tally.byGroup.size,
    durationMs,
    remainingMs: Number.isFinite(remainingMs) ? remainingMs : undefined,
    ...extra,
    ...emfMetrics(handler, result, envelopes.failed),
  };
  if (envelopes.failed > 0) log.warn(`${handler} batch: some records will be redriven`, data);
  else log.info(`${handler} batch`, data);
}

/** The components of a record-shipping handler (Kinesis, subscription). */
export interface HandlerDeps {
  /** Stages every record goes through (parse, mask, list-form transforms). */
  transforms: readonly Transform[];
  /** Sinks that take every record (list form); ignored when `graph` is given. */
  // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
  sinks: readonly Sink<any>[];
  deadLetter?: DeadLetterSink;
  /** A whole graph of named components (from config); `transforms` still run first. */
  graph?: Omit<RunnerGraph, 'pre' | 'deadLetter'>;
  /** The event's source name in `graph` (default the handler's name). */
  sourceName?: string;
  log: Logger;
  retry?: RetryPolicy;
  /** Batches in flight per sink. */
  concurrency?: number;
  safetyMs?: number;
}

const runners = new WeakMap<HandlerDeps, Runner>();

/**
 * The runner for a set of handler components (built once per deps object). One invocation is one
 * bounded batch: the runner never stops reading it half-way.
 */
export function handlerRunner(
  deps: HandlerDeps,
  sourceName: string,
  /** How far reading runs ahead of delivery; default: the whole invocation (it is bounded). */
  inFlight: { maxInFlightEnvelopes?: number; maxInFlightRecords?: number } = {
    maxInFlightEnvelopes: Number.MAX_SAFE_INTEGER,
    maxInFlightRecords: Number.MAX_SAFE_INTEGER,
  },
): Runner {
  let r = runners.get(deps);
  if (!r) {
    const graph: RunnerGraph = deps.graph
      ? { ...deps.graph, pre: deps.transforms, deadLetter: deps.deadLetter }
      : {
          pre: deps.transforms,
          sources: [{ name: sourceName }],
          transforms: [],
          sinks: deps.sinks.map((sink) => ({ name: sink.name, sink })),
          deadLetter: deps.deadLetter,
        };
    r = createRunner(graph, {
      log: deps.log,
      flushConcurrency: deps.concurrency ?? 4,
      deliver: { retry: deps.retry, concurrency: 1 },
      ...inFlight,
    });
    runners.set(deps, r);
  }
  return r;
}

/** Lazily built, cached handler state; a failed start is not cached, so the next invocation retries. */
export function once<T>(init: () => Promise<T>): () => Promise<T> {
  let ready: Promise<T> | undefined;
  return () => {
    if (!ready) {
      ready = init();
      ready.catch(() => {
        ready = undefined;
      });
    }
    return ready;
  };
}

export { Tally };
