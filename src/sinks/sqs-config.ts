/** The `sqs` dead-letter sink's config and registry description, apart from its SDK clients (src/sinks/sqs.ts). */
import * as z from 'zod';
import type { ComponentMeta } from '../core/component.js';

/** Entries per SendMessageBatch (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html). */
export const SQS_MAX_BATCH_ENTRIES = 10;
/** Sum of message sizes in one SendMessageBatch (same page). */
export const SQS_MAX_BATCH_BYTES = 1_048_576;
/** Largest message SQS accepts when the queue allows it (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/** The historical default queue `MaximumMessageSize`: safe for every queue. */
export const SQS_DEFAULT_MESSAGE_BYTES = 262_144;

export const sqsDeadLetterConfig = z.strictObject({
  type: z.literal('sqs'),
  queueUrl: z.url({
    protocol: /^https?$/,
    error: 'queueUrl must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)',
  }),
  /** `s3://bucket/prefix` for entries larger than `maxMessageBytes`. */
  overflowS3Url: z
    .string()
    .regex(
      /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/,
      'overflowS3Url must look like s3://bucket/prefix',
    )
    .optional(),
  maxMessageBytes: z.number().int().min(1024).max(SQS_MAX_MESSAGE_BYTES).default(SQS_DEFAULT_MESSAGE_BYTES),
  maxAttempts: z.number().int().min(1).max(10).default(4),
  /** Total time one `put` may spend, including retries. */
  timeoutMs: z.number().int().min(100).max(60_000).default(3_000),
  region: z.string().min(1).optional(),
});

export type SqsDeadLetterConfig = z.infer<typeof sqsDeadLetterConfig>;
/** The registry entry's description (src/sinks/index.ts loads sqs.ts on first create). */
export const sqsDeadLetterMeta: ComponentMeta<SqsDeadLetterConfig> = {
  type: 'sqs',
  iam: ['sqs:SendMessage', 's3:PutObject'],
  summary: 'Stores dead-letter entries as SQS messages (oversize entries in S3 with a pointer).',
  schema: sqsDeadLetterConfig,
};
