/**
 * Retry timing shared by every sink and the re-ingest path: capped exponential backoff with full
 * jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"), honouring a server's
 * throttle hint (Retry-After) and never sleeping past a deadline (the Lambda's remaining time).
 */
import { onAbort } from './abort.js';

export interface RetryPolicy {
  /** Total tries including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 8,
  baseDelayMs: 100,
  maxDelayMs: 20_000,
});

/** Delay before retry number `attempt` (1 = first retry). `random` is injectable for tests. */
export function backoffDelayMs(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs = 0,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = Math.floor(random() * cap);
  return Math.max(jittered, Math.min(retryAfterMs, policy.maxDelayMs));
}

/** A point in time after which no new attempt may start. `Infinity` when unbounded. */
export interface Deadline {
  /** Milliseconds left (may be negative). */
  remainingMs(): number;
}

export const NO_DEADLINE: Deadline = { remainingMs: () => Number.POSITIVE_INFINITY };

export function deadlineIn(ms: number, now: () => number = Date.now): Deadline {
  const end = now() + ms;
  return { remainingMs: () => end - now() };
}

/** Lambda's context, minus a safety margin for answering after the last attempt. */
export function lambdaDeadline(
  context: { getRemainingTimeInMillis(): number } | undefined,
  safetyMs = 3_000,
): Deadline {
  if (!context || typeof context.getRemainingTimeInMillis !== 'function') return NO_DEADLINE;
  return { remainingMs: () => context.getRemainingTimeInMillis() - safetyMs };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    // Through core/abort.ts: many concurrent sleeps on one run signal keep one listener on it.
    const stop = signal ? onAbort(signal, done) : undefined;
    function done() {
      stop?.();
      clearTimeout(t);
      resolve();
    }
  });
}
