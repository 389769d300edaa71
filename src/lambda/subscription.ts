/**
 * CloudWatch Logs subscription → Lambda entry point (a subscription filter whose destination is
 * this function; docs/sources.md "Lambda: CloudWatch Logs subscription"): bootstrap only.
 * Configured like the Kinesis handler (LOGFERRY_CONFIG / LOGFERRY_CONFIG_PARAMETER and the shorthand
 * variables, src/config/lambda-deps.ts); decoding and the failure contract are in
 * src/sources/subscription-handler.ts, the pipeline in src/core/runner.ts. The invocation is
 * asynchronous: it resolves when every record has a final outcome and throws when any must be
 * redriven (Lambda retries, then the on-failure destination keeps the event). Configure an
 * on-failure destination or a DLQ on the function so nothing expires unseen.
 */
import { buildLambdaDeps } from '../config/lambda-deps.js';
import type { HandlerDeps, LambdaContextLike } from '../core/lambda.js';
import { once } from '../core/lambda.js';
import {
  handleSubscriptionEvent,
  SUBSCRIPTION_SOURCE_NAME,
  type SubscriptionEvent,
} from '../sources/subscription-handler.js';

export function subscriptionLambdaHandler(
  opts: { env?: NodeJS.ProcessEnv } = {},
): (event: SubscriptionEvent, context?: LambdaContextLike) => Promise<void> {
  const ready = once(
    (): Promise<HandlerDeps> =>
      buildLambdaDeps(opts.env ?? process.env, 'subscription', SUBSCRIPTION_SOURCE_NAME, 'subscription'),
  );
  return async (event, context) => {
    await handleSubscriptionEvent(event, context, await ready());
  };
}

export const handler = subscriptionLambdaHandler();
