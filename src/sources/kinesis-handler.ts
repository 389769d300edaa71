/**
 * The Kinesis Lambda handler's logic: decode the event (src/sources/kinesis-event.ts) → parse, mask
 * and transform (`buildTransforms`) → `deliver` to every configured sink in parallel → hand
 * rejected records to the dead-letter sink → answer `batchItemFailures`.
 *
 * Delivery semantics: a record counts as delivered only when every sink took it; an envelope (one
 * Kinesis record) is reported failed when any of its records is `failed` (retries or time ran out,
 * or the dead-letter sink could not store a rejection), and Lambda then redrives from the earliest
 * failed sequence number of the shard — sinks dedupe redriven records by their stable id. Control
 * messages are counted drops; malformed records and rejected records go to the dead-letter sink and
 * are not redriven. Retries stop before the Lambda deadline (`lambdaDeadline(context)`, minus
 * `LOGFERRY_DEADLINE_SAFETY_MS`, default 5 s but at most a quarter of the time the invocation
 * starts with, which leaves time for the dead-letter hand-off and the answer): what is left is
 * reported failed instead of timing out, because a timed-out invocation retries the whole batch.
 * One structured summary line per invocation (counts by outcome and reason), never record contents
 * or secrets. A bad config throws, so the invocation fails loudly and the batch is retried rather
 * than lost.
 */
import { sharedSecretResolver, secretContext } from '../aws/secrets.js';
import { buildTransforms } from '../config/build-pipeline.js';
import { configOnce } from '../config/env.js';
import type { BuildContext, Logger } from '../core/component.js';
import { type DeadLetterSink, handOffRejected } from '../core/dead-letter.js';
import { deliver } from '../core/deliver.js';
import { describeError, LogferryError } from '../core/errors.js';
import { type Outcome, Tally, worstOutcome } from '../core/outcome.js';
import { runTransforms, type Transform } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { lambdaDeadline, type RetryPolicy } from '../core/retry.js';
import { redactSecrets } from '../core/secrets-registry.js';
import type { Sink } from '../core/sink.js';
import { buildSinks } from '../config/build.js';
import { jsonLogger } from './firehose.js';
import {
  decodeKinesisEvent,
  type KinesisBatchResponse,
  type KinesisEvent,
  kinesisResponse,
  malformedDeadLetters,
  SOURCE_TYPE,
} from './kinesis-event.js';

/** Longest failure reason quoted in the per-invocation log line. */
const MAX_LOGGED_REASON_CHARS = 300;

/** Time kept back from the Lambda deadline for the dead-letter hand-off and the answer. */
export const DEFAULT_DEADLINE_SAFETY_MS = 5_000;

export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

export interface KinesisHandlerDeps {
  transforms: readonly Transform[];
  // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
  sinks: readonly Sink<any>[];
  deadLetter?: DeadLetterSink;
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

const NO_EVENTS: Outcome = { kind: 'dropped', code: 'NO_EVENTS', reason: 'payload has no log events' };
const CONTROL: Outcome = {
  kind: 'dropped',
  code: 'CONTROL_MESSAGE',
  reason: 'CloudWatch Logs control message',
};

export async function processKinesisEvent(
  event: KinesisEvent,
  context: LambdaContextLike | undefined,
  deps: KinesisHandlerDeps,
): Promise<KinesisInvocationResult> {
  const started = Date.now();
  // Never keep back more than a quarter of the time the invocation starts with: a short function
  // timeout (3 s by default) must still leave time to deliver, or every batch would be redriven.
  const initialMs = context?.getRemainingTimeInMillis?.();
  const safetyMs = Math.min(
    deps.safetyMs ?? DEFAULT_DEADLINE_SAFETY_MS,
    initialMs ? Math.floor(initialMs / 4) : Number.POSITIVE_INFINITY,
  );
  const deadline = lambdaDeadline(context, safetyMs);
  const envelopes = decodeKinesisEvent(event);
  const envOut: (Outcome | undefined)[] = new Array(envelopes.length);
  const tally = new Tally();

  // Malformed envelopes: whole payloads to the dead-letter sink (never redriven unless unstored).
  const { index: badIdx, entries } = malformedDeadLetters(envelopes);
  const dlqPut = entries.length > 0 ? putDeadLetters(deps.deadLetter, entries) : Promise.resolve([]);

  // Records of good envelopes through the shared stages; `owner[j]` = envelope of record j.
  const records: LogRecord[] = [];
  const owner: number[] = [];
  for (let i = 0; i < envelopes.length; i++) {
    const env = envelopes[i];
    if (env.control) envOut[i] = CONTROL;
    if (env.malformed || env.control) continue;
    if (env.records.length === 0) {
      envOut[i] = NO_EVENTS;
      continue;
    }
    const group = env.records[0].meta.logGroup;
    try {
      const res = runTransforms(deps.transforms, env.records);
      tally.received(group, res.records.length + res.dropped.length);
      for (const d of res.dropped) {
        tally.settle(d.record.meta.logGroup, d.outcome);
        envOut[i] = worstOutcome(envOut[i], d.outcome);
      }
      for (const r of res.records) {
        records.push(r);
        owner.push(i);
      }
    } catch (e) {
      // A transform bug: redrive (Lambda's retry limit and on-failure destination bound it).
      const failed: Outcome = { kind: 'failed', code: 'TRANSFORM_ERROR', reason: describeError(e) };
      tally.received(group, env.records.length);
      tally.settle(group, failed, env.records.length);
      envOut[i] = failed;
    }
  }

  let finals: Outcome[] = [];
  if (records.length > 0) {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), Math.max(0, Math.min(deadline.remainingMs(), 2 ** 31 - 1)));
    try {
      const perSink = await Promise.all(
        deps.sinks.map(async (sink) => {
          const outs = await deliver(sink, records, {
            deadline,
            retry: deps.retry,
            concurrency: deps.concurrency ?? 4,
            signal: ac.signal,
          });
          return handOffRejected(deps.deadLetter, records, outs);
        }),
      );
      finals = perSink.reduce<Outcome[]>((acc, outs) => {
        for (let j = 0; j < outs.length; j++) acc[j] = worstOutcome(acc[j], outs[j]);
        return acc;
      }, new Array(records.length));
    } finally {
      clearTimeout(timer);
    }
  }
  for (let j = 0; j < records.length; j++) {
    const o = finals[j] ?? { kind: 'failed', code: 'NO_SINK', reason: 'no sink configured' };
    tally.settle(records[j].meta.logGroup, o);
    envOut[owner[j]] = worstOutcome(envOut[owner[j]], o);
  }

  const stored = await dlqPut;
  for (let k = 0; k < badIdx.length; k++) {
    const m = entries[k];
    envOut[badIdx[k]] = stored[k]
      ? { kind: 'rejected', code: m.code, reason: m.reason }
      : {
          kind: 'failed',
          code: 'DEAD_LETTER_UNAVAILABLE',
          reason: `malformed (${m.code}) and the dead-letter sink did not store it`,
        };
  }

  const outcomes = envOut.map((o) => o ?? { kind: 'delivered' as const });
  const response = kinesisResponse(envelopes, outcomes);
  logSummary(
    deps.log,
    context,
    envelopes.length,
    outcomes,
    tally,
    response,
    Date.now() - started,
    deadline.remainingMs(),
  );
  return { response, envelopes: outcomes, tally };
}

async function putDeadLetters(
  dlq: DeadLetterSink | undefined,
  entries: Parameters<DeadLetterSink['put']>[0],
): Promise<boolean[]> {
  if (!dlq) return entries.map(() => false);
  try {
    return await dlq.put(entries);
  } catch {
    return entries.map(() => false);
  }
}

function logSummary(
  log: Logger,
  context: LambdaContextLike | undefined,
  received: number,
  outcomes: readonly Outcome[],
  tally: Tally,
  response: KinesisBatchResponse,
  durationMs: number,
  remainingMs: number,
): void {
  const envelopes = { received, delivered: 0, dropped: 0, rejected: 0, failed: 0 };
  const envelopeReasons: Record<string, number> = {};
  // Why records will be redriven (one example per code): without it an operator sees only
  // SINK_UNAVAILABLE and cannot tell a refused connection from DNS, TLS or auth trouble. Failure
  // reasons describe transport errors, never record contents; transform errors are left out (a
  // transform's message may quote a record) and registered secrets are redacted.
  let failureReasons: Record<string, string> | undefined;
  for (const o of outcomes) {
    envelopes[o.kind]++;
    if (o.kind !== 'delivered') {
      const k = `${o.kind}:${o.code ?? 'UNKNOWN'}`;
      envelopeReasons[k] = (envelopeReasons[k] ?? 0) + 1;
      if (o.kind === 'failed' && o.code !== 'TRANSFORM_ERROR' && o.reason && !failureReasons?.[k]) {
        failureReasons ??= {};
        // DEAD_LETTER_UNAVAILABLE embeds the sink's rejection reason, which may quote a record.
        const why = o.reason.replace(
          /^rejected \(([^:)]+):.*\) and the dead-letter sink/s,
          'rejected ($1) and the dead-letter sink',
        );
        failureReasons[k] = redactSecrets(why).slice(0, MAX_LOGGED_REASON_CHARS);
      }
    }
  }
  const t = tally.toJSON();
  const data = {
    requestId: context?.awsRequestId,
    envelopes,
    envelopeReasons,
    failureReasons,
    records: t.total,
    recordReasons: t.byReason,
    logGroups: tally.byGroup.size,
    batchItemFailures: response.batchItemFailures.map((f) => f.itemIdentifier),
    durationMs,
    remainingMs: Number.isFinite(remainingMs) ? remainingMs : undefined,
  };
  if (envelopes.failed > 0) log.warn('kinesis batch: some records will be redriven', data);
  else log.info('kinesis batch', data);
}

/**
 * The Lambda entry: config once per container (`configOnce`: LOGFERRY_CONFIG /
 * LOGFERRY_CONFIG_PARAMETER + shorthands), secrets through the shared resolver, components built
 * once; a failed start is not cached, so the next invocation tries again.
 */
export function kinesisLambdaHandler(
  opts: { env?: NodeJS.ProcessEnv } = {},
): (event: KinesisEvent, context?: LambdaContextLike) => Promise<KinesisBatchResponse> {
  let ready: Promise<KinesisHandlerDeps> | undefined;
  const init = async (): Promise<KinesisHandlerDeps> => {
    const env = opts.env ?? process.env;
    const log = jsonLogger({ source: SOURCE_TYPE });
    const cfg = await configOnce(env);
    const ctx: BuildContext = { log, env, ...secretContext(sharedSecretResolver(env)) };
    const transforms = await buildTransforms(cfg, ctx);
    const { sinks, deadLetter } = await buildSinks(cfg, ctx);
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
    const safety = Number(env.LOGFERRY_DEADLINE_SAFETY_MS);
    log.info('kinesis handler ready', {
      sinks: sinks.map((s) => s.name),
      deadLetter: deadLetter?.type,
      transforms: transforms.map((t) => t.type),
    });
    return {
      transforms,
      sinks,
      deadLetter,
      log,
      safetyMs: Number.isFinite(safety) && safety > 0 ? safety : undefined,
    };
  };
  return async (event, context) => {
    if (!ready) {
      ready = init();
      ready.catch(() => {
        ready = undefined;
      });
    }
    const deps = await ready;
    return (await processKinesisEvent(event, context, deps)).response;
  };
}
