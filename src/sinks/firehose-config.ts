/** The `firehose` sink's config and registry description, apart from its SDK client (src/sinks/firehose.ts). */
import * as z from 'zod';
import type { ComponentMeta } from '../core/component.js';

export const FIREHOSE_SINK_IAM_ACTIONS = ['firehose:PutRecordBatch'] as const;

export const firehoseSinkConfig = z.strictObject({
  type: z.literal('firehose'),
  name: z.string().min(1).optional(),
  /** Delivery stream to put records into. */
  deliveryStreamName: z.string().min(1),
  region: z.string().min(1).optional(),
  endpoint: z.url().optional(),
  maxAgeMs: z.number().int().positive().default(1_000),
});

export type FirehoseSinkConfig = z.input<typeof firehoseSinkConfig>;

/** The registry entry's description (src/sinks/index.ts loads firehose.ts on first create). */
export const firehoseSinkMeta: ComponentMeta<FirehoseSinkConfig & { type: 'firehose' }> = {
  type: 'firehose',
  iam: FIREHOSE_SINK_IAM_ACTIONS,
  summary: 'Puts records into an Amazon Data Firehose delivery stream (PutRecordBatch).',
  schema: firehoseSinkConfig,
};
