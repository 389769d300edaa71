/** The `kinesis` sink's config and registry description, apart from its SDK client (src/sinks/kinesis.ts). */
import * as z from 'zod';
import type { ComponentMeta } from '../core/component.js';

export const KINESIS_SINK_IAM_ACTIONS = ['kinesis:PutRecords'] as const;

export const kinesisSinkConfig = z.strictObject({
  type: z.literal('kinesis'),
  name: z.string().min(1).optional(),
  /** The data stream: its name, or its ARN (`arn:aws:kinesis:…:stream/<name>`). */
  stream: z.string().min(1),
  region: z.string().min(1).optional(),
  endpoint: z.url().optional(),
  /**
   * `json` (default): each record as one JSON document — the archive's document (`@timestamp`,
   * `@message`, `@logGroup`, `@logStream`, `@id`, parsed fields) — which logferry's kinesis source
   * and handler read back as records (`format: auto`), as does Logstash's `codec => json`.
   * `raw`: the message alone.
   */
  format: z.enum(['json', 'raw']).default('json'),
  /**
   * The partition key: a field of the record, read as conditions read it (`@logStream`, `@logGroup`,
   * `@log`, `@id`, or a parsed field by dotted path), whose value becomes the key, so one stream's
   * records stay in order on one shard. Default (and
   * when the field is missing or empty): a key that changes with every record, spreading records
   * evenly over the shards, as Fluent Bit's `kinesis_streams` and the Kinesis Agent do.
   */
  partitionKey: z.string().min(1).optional(),
  maxAgeMs: z.number().int().positive().default(1_000),
});

export type KinesisSinkConfig = z.input<typeof kinesisSinkConfig>;

/** The registry entry's description (src/sinks/index.ts loads kinesis.ts on first create). */
export const kinesisSinkMeta: ComponentMeta<KinesisSinkConfig & { type: 'kinesis' }> = {
  type: 'kinesis',
  iam: KINESIS_SINK_IAM_ACTIONS,
  summary: 'Puts records into an Amazon Kinesis data stream (PutRecords), as JSON documents or raw messages.',
  schema: kinesisSinkConfig,
};
