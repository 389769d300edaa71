/** The `sqs-s3` source's config and registry description, apart from its SDK clients (sqs-s3.ts). */
import * as z from 'zod';
import type { ComponentMeta } from '../core/component.js';
import { DEFAULT_MAX_LINE_BYTES } from './s3-object/lines.js';

/** ReceiveMessage: at most 10 messages per call and a 20 s long poll — https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html */
export const SQS_MAX_MESSAGES = 10;
export const SQS_MAX_WAIT_SECONDS = 20;
/** Visibility timeout: 0 s … 12 h — https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;
/** Where state goes when neither the source nor the config names a data directory. */
export const DEFAULT_DATA_DIR = './logferry-data';

export const sqsS3SourceConfig = z.strictObject({
  type: z.literal('sqs-s3'),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'name may hold only letters, digits, `_`, `.` and `-`')
    .optional(),
  /** The queue S3 notifications arrive on (directly, through SNS, or from EventBridge). */
  queueUrl: z.url(),
  waitTimeSeconds: z.number().int().min(0).max(SQS_MAX_WAIT_SECONDS).default(SQS_MAX_WAIT_SECONDS),
  /** Messages (objects) read at once. */
  maxConcurrentObjects: z.number().int().min(1).max(1_000).default(4),
  /** Visibility timeout asked for on receive and renewed while an object is in flight. */
  visibilityTimeoutSeconds: z.number().int().min(5).max(SQS_MAX_VISIBILITY_SECONDS).default(120),
  /** A message that could not be completed becomes visible again after this long. */
  retryDelaySeconds: z.number().int().min(0).max(SQS_MAX_VISIBILITY_SECONDS).default(30),
  /** Longer lines go to the dead-letter store (S3_LINE_TOO_LONG) with their first KiB. */
  maxLineBytes: z
    .number()
    .int()
    .min(64)
    .max(256 * 1024 * 1024)
    .default(DEFAULT_MAX_LINE_BYTES),
  /** Lines per envelope (the unit of resume positions). */
  chunkLines: z.number().int().min(1).max(100_000).default(1_000),
  /** Text read but not yet acknowledged before reading pauses (bounds memory). */
  maxBufferedBytes: z
    .number()
    .int()
    .min(1024 * 1024)
    .default(32 * 1024 * 1024),
  /** State directory (default: the config's `dataDir`, else ./logferry-data). */
  dataDir: z.string().min(1).optional(),
  /** Bounded mode, as `logferry run --once`: stop once the queue is empty and everything read has settled. */
  once: z.boolean().default(false),
  /** Bounded mode: empty receives in a row, with nothing of this run in flight, that mean "empty". */
  onceEmptyReceives: z.number().int().min(1).max(100).default(2),
  /** Bounded mode: the long poll of each receive (≥ 1 s: a 0 s short poll may miss messages). */
  onceWaitSeconds: z.number().int().min(1).max(SQS_MAX_WAIT_SECONDS).default(2),
  /** How long an object read completely is remembered (a duplicate notification then reads nothing). */
  rememberDoneHours: z
    .number()
    .min(0)
    .max(24 * 14)
    .default(24),
  region: z.string().min(1).optional(),
  /** API endpoint override for SQS and S3 (emulators); default LOGFERRY_SQS_ENDPOINT / LOGFERRY_S3_ENDPOINT / LOGFERRY_AWS_ENDPOINT. */
  endpoint: z.url().optional(),
});
export type SqsS3SourceConfig = z.infer<typeof sqsS3SourceConfig>;

/** The registry entry's description (the registry imports the implementation on first create). */
export const sqsS3SourceMeta: ComponentMeta<SqsS3SourceConfig> = {
  type: 'sqs-s3',
  summary:
    'Drains an SQS queue of S3 object notifications (raw, SNS-wrapped, EventBridge) and ships each object line by line; deletes a message only after delivery, resumes inside an object after a crash.',
  iam: [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueAttributes',
    's3:GetObject',
    's3:GetObjectVersion',
    'kms:Decrypt',
  ],
  schema: sqsS3SourceConfig,
};
