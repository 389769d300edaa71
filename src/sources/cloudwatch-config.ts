/** The `cloudwatch` source's config and registry description, apart from its SDK client (cloudwatch.ts). */
import * as z from 'zod';
import type { ComponentMeta } from '../core/component.js';
import { describeError } from '../core/errors.js';
import { resolveTime } from './cloudwatch-time.js';

/** FilterLogEvents returns at most 10,000 events (1 MB) per page. */
export const FILTER_MAX_LIMIT = 10_000;
/** StartLiveTail: at most 10 log groups per session. */
export const LIVE_TAIL_MAX_GROUPS = 10;
/** Pause before a new live tail session after one ended normally. */
export const LIVE_RECONNECT_MS = 250;
/** Back-off cap after throttling or a transient error. */
export const MAX_BACKOFF_MS = 20_000;

export const timeSpec = z.union([z.string().min(1), z.number().int().nonnegative()]);

export const cloudwatchSourceConfig = z
  .strictObject({
    type: z.literal('cloudwatch'),
    name: z.string().min(1).optional(),
    mode: z.enum(['backfill', 'live']).default('backfill'),
    /** Exact log group names. */
    logGroups: z.array(z.string().min(1)).optional(),
    /** Every log group whose name starts with this. */
    prefix: z.string().min(1).optional(),
    /** A regular expression over log group names (with `prefix`: over the prefix's groups). */
    pattern: z.string().min(1).optional(),
    /** Start of the range (backfill): `-1h`, ISO 8601, epoch ms. */
    from: timeSpec.optional(),
    /** End of the range (backfill), default `now` (when the source starts). */
    to: timeSpec.default('now'),
    /** CloudWatch filter pattern applied by the service (default: every event). */
    filterPattern: z.string().optional(),
    /** Checkpoint granularity: the range is read in windows of this many minutes. */
    windowMinutes: z.number().positive().max(10_080).default(60),
    /** Events per FilterLogEvents page. */
    pageSize: z.number().int().min(1).max(FILTER_MAX_LIMIT).default(FILTER_MAX_LIMIT),
    /** Attempts per API call on throttling / transient errors before the source stops. */
    maxAttempts: z.number().int().min(1).max(100).default(10),
    /** Where the checkpoint lives (relative to the config's directory). */
    dataDir: z.string().min(1).default('./logferry-data/state'),
    region: z.string().min(1).optional(),
    endpoint: z.url().optional(),
  })
  .superRefine((c, ctx) => {
    if (!c.logGroups?.length && !c.prefix && !c.pattern)
      ctx.addIssue({
        code: 'custom',
        path: ['logGroups'],
        message: 'select log groups with logGroups, prefix or pattern',
      });
    if (c.pattern) {
      try {
        new RegExp(c.pattern);
      } catch (e) {
        ctx.addIssue({
          code: 'custom',
          path: ['pattern'],
          message: `not a regular expression: ${describeError(e)}`,
        });
      }
    }
    const now = Date.now();
    if (c.mode === 'backfill' && c.from === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['from'],
        message: 'backfill needs from (e.g. -1h or 2026-12-01T00:00:00Z)',
      });
    const from = c.from === undefined ? undefined : resolveTime(c.from, now);
    const to = resolveTime(c.to, now);
    if (typeof from === 'string') ctx.addIssue({ code: 'custom', path: ['from'], message: from });
    if (typeof to === 'string') ctx.addIssue({ code: 'custom', path: ['to'], message: to });
    if (typeof from === 'number' && typeof to === 'number' && from >= to)
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to' });
  });

export type CloudWatchSourceConfig = z.infer<typeof cloudwatchSourceConfig>;

/** The registry entry's description (the registry imports the implementation on first create). */
export const cloudwatchSourceMeta: ComponentMeta<CloudWatchSourceConfig> = {
  type: 'cloudwatch',
  iam: ['logs:DescribeLogGroups', 'logs:FilterLogEvents', 'logs:StartLiveTail'],
  summary:
    'Backfills a time range of CloudWatch Logs groups (FilterLogEvents, same event ids as a subscription) or follows them live (StartLiveTail).',
  schema: cloudwatchSourceConfig,
};
