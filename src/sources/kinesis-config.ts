/** The `kinesis` source's config and registry description, apart from its SDK client (kinesis.ts). */
import * as z from 'zod';
import type { ComponentMeta } from '../core/component.js';

/** GetRecords: at most 10,000 records per call — https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html */
export const GET_RECORDS_MAX_RECORDS = 10_000;
/** GetRecords: 5 transactions per second per shard — same page. */
export const GET_RECORDS_MIN_INTERVAL_MS = 200;
/** Back-off cap after ProvisionedThroughputExceededException or an API error. */
export const MAX_BACKOFF_MS = 10_000;
/** Bytes of an undecodable record kept (base64) for the dead-letter sink. */
export const MALFORMED_PAYLOAD_BYTES = 256 * 1024;

export const STREAM_ARN = /^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/[A-Za-z0-9_.-]+$/;

export const kinesisSourceConfig = z
  .strictObject({
    type: z.literal('kinesis'),
    name: z.string().min(1).optional(),
    /** Stream name, or use `streamArn`. */
    stream: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,128}$/)
      .optional(),
    streamArn: z.string().regex(STREAM_ARN, 'not a Kinesis stream ARN').optional(),
    /**
     * Local checkpoint file (relative paths resolve against the config's directory); default
     * `<dataDir>/state/<name>/checkpoint.json`.
     */
    checkpointPath: z.string().min(1).optional(),
    /** Where to start on the very first run (no checkpoint file yet). */
    startPosition: z.enum(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP']).default('TRIM_HORIZON'),
    /** For AT_TIMESTAMP: ISO 8601 time or epoch ms. */
    startTimestamp: z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]).optional(),
    /** Idle wait on an empty shard. */
    pollIntervalMs: z.number().int().min(GET_RECORDS_MIN_INTERVAL_MS).default(1_000),
    maxRecords: z.number().int().min(1).max(GET_RECORDS_MAX_RECORDS).default(1_000),
    /** How often to look for new shards (children appear on resharding). */
    shardSyncIntervalMs: z.number().int().min(1_000).default(30_000),
    /** Coalesce checkpoint writes (0: write after every acknowledgement that advances it). */
    checkpointIntervalMs: z.number().int().min(0).default(1_000),
    /** Envelopes read ahead of the consumer before readers pause. */
    readAhead: z.number().int().min(1).default(2_000),
    /**
     * `auto`: CloudWatch subscription payloads and any other record (JSON object, NDJSON, text lines;
     * gzip or zlib compressed), detected per record; `cloudwatch`: only CloudWatch payloads (anything
     * else is malformed).
     */
    format: z.enum(['auto', 'cloudwatch']).default('auto'),
    region: z.string().min(1).optional(),
    endpoint: z.url().optional(),
  })
  .superRefine((c, ctx) => {
    if (!c.stream === !c.streamArn) {
      ctx.addIssue({ code: 'custom', path: ['stream'], message: 'set exactly one of stream or streamArn' });
    }
    if (c.startPosition === 'AT_TIMESTAMP' && c.startTimestamp === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['startTimestamp'],
        message: 'AT_TIMESTAMP needs startTimestamp',
      });
    }
  });

export type KinesisSourceConfig = z.infer<typeof kinesisSourceConfig>;

/** The registry entry's description (the registry imports the implementation on first create). */
export const kinesisSourceMeta: ComponentMeta<KinesisSourceConfig> = {
  type: 'kinesis',
  iam: ['kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords'],
  summary: 'Reads every shard of a Kinesis data stream (resharding-aware) with a local checkpoint.',
  schema: kinesisSourceConfig,
};
