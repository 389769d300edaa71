/** The `demo` source's config and registry description, apart from its generator (demo.ts). */
import * as z from 'zod';
import type { ComponentMeta } from '../core/component.js';

export const demoConfig = z.strictObject({
  type: z.literal('demo'),
  name: z.string().min(1).optional(),
  /** Payloads to emit (ignored with `follow`). 400 × 50 = 20,000 events by default. */
  envelopes: z.number().int().min(0).default(400),
  /** Log events per DATA_MESSAGE. CloudWatch batches vary; a fixed count keeps totals predictable. */
  eventsPerEnvelope: z.number().int().min(1).max(10_000).default(50),
  seed: z.number().int().default(1),
  /** Keep emitting until interrupted. */
  follow: z.boolean().default(false),
  /** Most events per second (0 = unbounded). */
  rate: z.number().min(0).default(0),
  /** Event times spread over this many minutes before the start (bounded runs). */
  windowMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60)
    .default(60),
  /** One envelope in N is a CONTROL_MESSAGE (0 = never). */
  controlEvery: z.number().int().min(0).default(200),
  /** One envelope in N is corrupted in transit (truncated gzip) to exercise the dead-letter path (0 = never). */
  corruptEvery: z.number().int().min(0).default(0),
  /** AWS account id used as the payload owner. */
  owner: z
    .string()
    .regex(/^\d{12}$/, 'owner must be a 12-digit AWS account id')
    .default('123456789012'),
  /** EKS cluster name used in log group names. */
  cluster: z.string().min(1).default('demo-prod'),
});
export type DemoConfig = z.infer<typeof demoConfig>;

export const demoSourceMeta: ComponentMeta<DemoConfig> = {
  type: 'demo',
  iam: [],
  summary:
    'Realistic CloudWatch subscription payloads (EKS control plane, Lambda, ECS, control messages), seeded.',
  schema: demoConfig,
};
