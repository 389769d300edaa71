/**
 * How `logferry run` stops (config `shutdown`). On SIGTERM or SIGINT the daemon stops reading,
 * flushes what it read to the sinks (and into disk buffers) and exits with the summary; deliveries
 * still running when `drainTimeout` has passed are abandoned — their records are counted `failed`
 * and not acknowledged, so the source delivers them again after a restart. A second signal
 * abandons them at once.
 */
import * as z from 'zod';

/** Default time SIGTERM/SIGINT wait for deliveries in progress. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A duration: `500ms`, `30s`, `2m`, `1h`, or a number of seconds. */
export const duration = z.union([z.number().nonnegative(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return Math.round(v * 1_000);
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(v);
  if (!m) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration such as "30s", "500ms" or "2m" (or a number of seconds), got "${v}"`,
    });
    return z.NEVER;
  }
  return Math.round(Number(m[1]) * UNITS[m[2]]);
});

export const shutdownSettings = z.strictObject({
  /** Longest wait for deliveries after SIGTERM/SIGINT before abandoning them (default 30s). */
  drainTimeout: duration.optional(),
});

export type ShutdownSettings = z.infer<typeof shutdownSettings>;
