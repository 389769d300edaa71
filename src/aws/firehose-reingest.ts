/**
 * Puts payloads back into a Firehose delivery stream with `PutRecordBatch` — the Firehose
 * transformation's way out when records do not fit the 6 MB response. Delivery semantics: at least
 * once per payload; a payload is reported put only when Firehose acknowledged it (no `ErrorCode` in
 * its `RequestResponses` entry). Only failed entries are re-sent, with capped exponential backoff and
 * full jitter (core/retry.ts), and no attempt starts past the deadline (the Lambda's remaining time),
 * so the caller can still answer `ProcessingFailed` for what could not be put.
 *
 * Limits: at most 500 records and 4 MiB per call, 1,000 KiB per record (before base64)
 * (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html).
 */
import {
  type FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandOutput,
} from '@aws-sdk/client-firehose';
import type { Logger } from '../core/component.js';
import { describeError } from '../core/errors.js';
import { backoffDelayMs, type Deadline, DEFAULT_RETRY, type RetryPolicy, sleep } from '../core/retry.js';

/** https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html */
export const PUT_RECORD_BATCH_MAX_RECORDS = 500;
/** 4 MiB per PutRecordBatch call (record data before base64). */
export const PUT_RECORD_BATCH_MAX_BYTES = 4 * 1024 * 1024;
/** 1,000 KiB per record (before base64); https://docs.aws.amazon.com/firehose/latest/dev/limits.html */
export const FIREHOSE_MAX_RECORD_BYTES = 1000 * 1024;

/** Errors that will not get better by retrying: fail the entries at once. */
const PERMANENT = new Set([
  'ResourceNotFoundException',
  'InvalidArgumentException',
  'InvalidKMSResourceException',
  'InvalidSourceException',
  'AccessDeniedException',
  'ValidationException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
]);

export interface ReingestOptions {
  deadline: Deadline;
  policy?: RetryPolicy;
  log?: Logger;
  /** Injectable for tests. */
  random?: () => number;
  /** Time one call is assumed to need; no attempt starts with less than this left. */
  minCallMs?: number;
}

export interface ReingestReport {
  /** Per payload (same order as input): `undefined` when put, else the last error code. */
  errors: (string | undefined)[];
  calls: number;
  /** Entries sent again after a failure. */
  retriedEntries: number;
  throttled: number;
}

/** Groups indices into calls within the count and byte limits (greedy, order kept). */
export function planBatches(sizes: readonly number[], indices: readonly number[]): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let bytes = 0;
  for (const i of indices) {
    const n = sizes[i];
    if (
      cur.length > 0 &&
      (cur.length >= PUT_RECORD_BATCH_MAX_RECORDS || bytes + n > PUT_RECORD_BATCH_MAX_BYTES)
    ) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(i);
    bytes += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function errorName(e: unknown): string {
  const err = e as { name?: string; code?: string };
  return err?.name && err.name !== 'Error' ? err.name : (err?.code ?? 'SINK_UNAVAILABLE');
}

function isRetryable(e: unknown): boolean {
  const name = errorName(e);
  if (PERMANENT.has(name)) return false;
  const status = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408) {
    // Client faults other than throttling: retry only the throttling-style names.
    return /throttl|slow ?down|limitexceeded|serviceunavailable|timeout/i.test(name);
  }
  return true;
}

/** Retry-After style hint from a throttling response, if any. */
function retryAfterMs(e: unknown): number {
  const h = (e as { $response?: { headers?: Record<string, string> } })?.$response?.headers?.['retry-after'];
  const s = h === undefined ? Number.NaN : Number(h);
  return Number.isFinite(s) ? s * 1000 : 0;
}

/**
 * Puts every payload into `streamName`, re-sending only the entries that failed. Never throws:
 * every payload ends with either success or an error code in the report.
 */
export async function reingest(
  client: FirehoseClient,
  streamName: string,
  payloads: readonly Uint8Array[],
  opts: ReingestOptions,
): Promise<ReingestReport> {
  const policy = opts.policy ?? DEFAULT_RETRY;
  const minCallMs = opts.minCallMs ?? 500;
  const sizes = payloads.map((p) => p.byteLength);
  const errors: (string | undefined)[] = new Array(payloads.length).fill(undefined);
  const lastCode: (string | undefined)[] = new Array(payloads.length).fill(undefined);
  const report: ReingestReport = { errors, calls: 0, retriedEntries: 0, throttled: 0 };
  let pending: number[] = [];
  for (let i = 0; i < payloads.length; i++) {
    if (sizes[i] > FIREHOSE_MAX_RECORD_BYTES) errors[i] = 'RECORD_TOO_LARGE';
    else pending.push(i);
  }

  for (let attempt = 1; pending.length > 0; attempt++) {
    const remaining = opts.deadline.remainingMs();
    if (remaining < minCallMs) {
      for (const i of pending) lastCode[i] ??= 'DEADLINE';
      opts.log?.warn('PutRecordBatch not attempted: deadline reached', { pending: pending.length, attempt });
      break;
    }
    const batches = planBatches(sizes, pending);
    let hint = 0;
    const next: number[] = [];
    await Promise.all(
      batches.map(async (batch) => {
        report.calls++;
        let out: PutRecordBatchCommandOutput;
        try {
          out = await client.send(
            new PutRecordBatchCommand({
              DeliveryStreamName: streamName,
              Records: batch.map((i) => ({ Data: payloads[i] })),
            }),
            Number.isFinite(remaining)
              ? { abortSignal: AbortSignal.timeout(Math.max(minCallMs, Math.floor(remaining))) }
              : {},
          );
        } catch (e) {
          const code = errorName(e);
          if (/throttl|slow ?down|serviceunavailable|limitexceeded/i.test(code)) report.throttled++;
          hint = Math.max(hint, retryAfterMs(e));
          const retry = isRetryable(e);
          opts.log?.warn('PutRecordBatch failed', {
            code,
            entries: batch.length,
            attempt,
            retry,
            error: describeError(e),
          });
          for (const i of batch) {
            lastCode[i] = code;
            if (retry) next.push(i);
            else errors[i] = code;
          }
          return;
        }
        const responses = out.RequestResponses ?? [];
        let failedHere = 0;
        for (let j = 0; j < batch.length; j++) {
          const r = responses[j];
          // A missing entry means we cannot know it was put: treat it as failed and send again.
          if (!r || r.ErrorCode || !r.RecordId) {
            const code = r?.ErrorCode ?? 'MISSING_RESPONSE';
            if (/throttl|serviceunavailable/i.test(code)) report.throttled++;
            lastCode[batch[j]] = code;
            next.push(batch[j]);
            failedHere++;
          }
        }
        if (failedHere > 0) {
          opts.log?.warn('PutRecordBatch partially failed', {
            failed: failedHere,
            failedPutCount: out.FailedPutCount,
            entries: batch.length,
            attempt,
          });
        }
      }),
    );
    pending = next.sort((a, b) => a - b);
    if (pending.length === 0 || attempt >= policy.maxAttempts) break;
    const delay = backoffDelayMs(policy, attempt, hint, opts.random);
    if (opts.deadline.remainingMs() < delay + minCallMs) {
      opts.log?.warn('PutRecordBatch retries stopped by the deadline', { pending: pending.length, attempt });
      break;
    }
    report.retriedEntries += pending.length;
    await sleep(delay);
  }
  for (const i of pending) errors[i] = lastCode[i] ?? 'SINK_UNAVAILABLE';
  return report;
}
