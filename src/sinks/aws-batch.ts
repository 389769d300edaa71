/**
 * What the AWS batch-put sinks (`firehose`: PutRecordBatch, `kinesis`: PutRecords) share: one call
 * for a batch, and the answer read entry by entry. A failed call becomes the runner's error (retry
 * on throttling and transient errors, reject on permanent ones); an entry is delivered only when
 * its answer names where it went (`RecordId`, `SequenceNumber`) and carries no `ErrorCode`, else it
 * is retried (throttling, transient codes, a missing answer) or rejected with its code.
 */
import { classifyAwsCode, classifyAwsError } from '../aws/errors.js';
import { describeError, LogferryError } from '../core/errors.js';
import type { ItemProblem, SendResult } from '../core/sink.js';

export interface BatchPutStats {
  calls: number;
  /** Entries sent again after a failure. */
  retriedEntries: number;
  /** Throttled calls and entries. */
  throttled: number;
}

/** One entry's answer: accepted (`ok`) or its error code and message. */
export interface EntryAnswer {
  ok: boolean;
  code?: string;
  message?: string;
}

/**
 * Runs one batch call (`what`: `PutRecords to app-logs`, for the error) and turns its entries'
 * answers (`answers(out)`, in batch order) into the send result.
 */
export async function batchPut<O>(
  stats: BatchPutStats,
  what: string,
  count: number,
  attempt: number,
  call: () => Promise<O>,
  answers: (out: O) => readonly (EntryAnswer | undefined)[],
): Promise<SendResult> {
  stats.calls++;
  if (attempt > 1) stats.retriedEntries += count;
  let out: O;
  try {
    out = await call();
  } catch (e) {
    const c = classifyAwsError(e);
    if (c.kind === 'throttled') stats.throttled++;
    throw new LogferryError(
      c.retry ? (c.kind === 'throttled' ? 'SINK_THROTTLED' : 'SINK_UNAVAILABLE') : 'SINK_REJECTED',
      `${what} failed (${c.name}): ${describeError(e)}`,
      { cause: e, details: { retryAfterMs: c.retryAfterMs, awsCode: c.name } },
    );
  }
  const got = answers(out);
  const problems: ItemProblem[] = [];
  for (let j = 0; j < count; j++) {
    const a = got[j];
    if (a?.ok) continue;
    // A missing answer means we cannot know the entry was put: send it again.
    const code = a?.code ?? 'MISSING_RESPONSE';
    const c = classifyAwsCode(code);
    if (c.kind === 'throttled') stats.throttled++;
    problems.push({
      index: j,
      action: c.retry || code === 'MISSING_RESPONSE' ? 'retry' : 'reject',
      code,
      reason: a?.message ? `${code}: ${a.message}` : code,
    });
  }
  return { problems };
}
