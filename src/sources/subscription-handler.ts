/**
 * The direct CloudWatch Logs subscription Lambda home (a subscription filter whose destination is
 * the function — the classic forwarder shape): the event is `{"awslogs":{"data":"<base64 gzip
 * JSON>"}}`, one CloudWatch payload per invocation. `decode` turns it into one envelope
 * (src/aws/cloudwatch-payload.ts), the one runner takes it through parse, mask, the graph,
 * delivery and the dead-letter hand-off (src/core/runner.ts), and the answer is whether anything
 * must be redriven. Bootstrap lives in src/lambda/subscription.ts.
 *
 * CloudWatch Logs invokes the function **asynchronously**, so there is no per-record answer:
 * failure means throwing. When any record ends `failed` (a sink still failing after retries or the
 * invocation deadline, or a rejection the dead-letter sink could not store) the handler throws
 * after the run; Lambda retries the whole event (twice by default, `MaximumRetryAttempts`) and then
 * hands it to the function's on-failure destination / dead-letter queue with the original payload.
 * Records already delivered in the failed attempt are sent again on the retry; every sink that can
 * dedupe does (OpenSearch `_id` is derived from log group, stream and the CloudWatch event id; S3
 * keys from the batch's first and last event), so a retry does not duplicate there. Rejected and
 * malformed records went to the dead-letter sink on the first attempt and are final (a retry
 * rejects them again: the dead-letter queue may hold the same rejection twice, with the same id).
 * Control messages are counted drops. Nothing is lost: a record is either delivered, in the
 * dead-letter sink, dropped by the config, or the event is retried / in the on-failure destination.
 */
import { decodeBase64Payload, toRecords } from '../aws/cloudwatch-payload.js';
import { LogferryError } from '../core/errors.js';
import {
  DEFAULT_DEADLINE_SAFETY_MS,
  type HandlerDeps,
  handlerRunner,
  invokeLambda,
  type LambdaContextLike,
  type LambdaDecoder,
} from '../core/lambda.js';
import type { Outcome, Tally } from '../core/outcome.js';
import type { SourceEnvelope } from '../core/source.js';

/** `meta.source` of its records. */
export const SUBSCRIPTION_SOURCE_TYPE = 'subscription';
/** The source name of the event in a handler's graph. */
export const SUBSCRIPTION_SOURCE_NAME = 'subscription';

/** The event CloudWatch Logs sends to a subscribed function. */
export interface SubscriptionEvent {
  awslogs?: { data?: string };
}

/** What the handler knows after a run; the Lambda export throws when `failed > 0`. */
export interface SubscriptionAnswer {
  /** Envelopes (0 or 1) whose worst outcome is `failed`. */
  failed: number;
  outcome?: Outcome;
}

/** Decodes the one payload of an event. Never throws: records, a control drop or a malformed envelope. */
export function decodeSubscriptionEvent(event: SubscriptionEvent): SourceEnvelope[] {
  const data = event?.awslogs?.data;
  const bytes = typeof data === 'string' ? Math.floor((data.length * 3) / 4) : 0;
  const res = decodeBase64Payload(data);
  if (!res.ok) {
    return [
      {
        ackId: 'awslogs',
        records: [],
        bytes,
        malformed: {
          code: res.code,
          reason: event?.awslogs
            ? res.reason
            : 'event has no awslogs.data (not a CloudWatch Logs subscription event)',
          payload: typeof data === 'string' ? data : JSON.stringify(event ?? null).slice(0, 256 * 1024),
        },
      },
    ];
  }
  if (res.message.messageType === 'CONTROL_MESSAGE')
    return [{ ackId: 'awslogs', records: [], bytes, control: true }];
  const m = res.message;
  // Deterministic: the same payload (a retry) gets the same ack id as the first attempt.
  const ackId = `${m.logGroup}/${m.logStream}/${m.logEvents[0]?.id ?? ''}`;
  return [{ ackId, records: toRecords(m, SUBSCRIPTION_SOURCE_TYPE, ackId), logGroup: m.logGroup, bytes }];
}

export const subscriptionDecoder: LambdaDecoder<SubscriptionEvent, SourceEnvelope, SubscriptionAnswer> = {
  name: SUBSCRIPTION_SOURCE_NAME,
  type: SUBSCRIPTION_SOURCE_TYPE,
  decode: decodeSubscriptionEvent,
  respond: (_envelopes, outcomes) => {
    const failed = outcomes.filter((o) => o.kind === 'failed');
    return { failed: failed.length, outcome: failed[0] };
  },
};

export interface SubscriptionInvocationResult {
  answer: SubscriptionAnswer;
  /** Worst outcome of the event's envelope. */
  envelopes: Outcome[];
  tally: Tally;
}

/** Runs one event; never throws for record outcomes (see `handleSubscriptionEvent`). */
export async function processSubscriptionEvent(
  event: SubscriptionEvent,
  context: LambdaContextLike | undefined,
  deps: HandlerDeps,
): Promise<SubscriptionInvocationResult> {
  const inv = await invokeLambda(
    handlerRunner(deps, SUBSCRIPTION_SOURCE_NAME),
    subscriptionDecoder,
    event,
    context,
    {
      log: deps.log,
      source: deps.sourceName,
      safetyMs: deps.safetyMs ?? DEFAULT_DEADLINE_SAFETY_MS,
    },
  );
  return { answer: inv.answer, envelopes: inv.outcomes, tally: inv.tally };
}

/**
 * The Lambda contract: resolves when every record has a final outcome (delivered, dropped,
 * dead-lettered); throws when any record must be redriven, so Lambda retries the event and finally
 * sends it to the on-failure destination.
 */
export async function handleSubscriptionEvent(
  event: SubscriptionEvent,
  context: LambdaContextLike | undefined,
  deps: HandlerDeps,
): Promise<SubscriptionInvocationResult> {
  const res = await processSubscriptionEvent(event, context, deps);
  if (res.answer.failed > 0) {
    const t = res.tally.total;
    throw new LogferryError(
      'SINK_UNAVAILABLE',
      `${t.failed} of ${t.received} records were not delivered (${res.answer.outcome?.code ?? 'failed'}); failing the invocation so Lambda retries the event`,
      { details: { code: res.answer.outcome?.code, failed: t.failed, delivered: t.delivered } },
    );
  }
  return res;
}
