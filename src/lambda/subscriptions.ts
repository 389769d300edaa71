/**
 * Subscriptions Lambda entry point (see infra/runtime/subscriber.ts and docs/deploy.md): subscribes
 * new log groups (EventBridge rule on CloudTrail CreateLogGroup), backfills existing ones and removes
 * what it created (CloudFormation custom resource). Configured by the `subscriptions` stack.
 */
import { awsClients, createHandler } from '../../infra/runtime/subscriber.js';

export const handler = createHandler(awsClients);
