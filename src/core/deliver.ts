/**
 * The delivery engine: encode → batch within the sink's limits → send → settle, retrying only the
 * items a sink reports as retriable, with capped exponential backoff and full jitter, bounded by a
 * deadline. It returns exactly one outcome per input record (same order), so callers can keep the
 * invariant received = delivered + dropped + rejected + failed.
 *
 * Semantics: at-least-once towards the sink (a retried batch may land twice; sinks dedupe with the
 * record's stable id). A record is `failed` only when attempts or time ran out on a retriable
 * problem; `rejected` when the sink said the record can never succeed.
 */
import { onAbort, requestSignal } from './abort.js';
import { describeError, LogferryError } from './errors.js';
import type { Outcome } from './outcome.js';
import type { LogRecord } from './record.js';
import {
  backoffDelayMs,
  DEFAULT_RETRY,
  type Deadline,
  NO_DEADLINE,
  type RetryPolicy,
  sleep,
} from './retry.js';
import type { Encoded, ItemProblem, SendResult, Sink, SinkLimits } from './sink.js';

export interface DeliverOptions {
  retry?: RetryPolicy;
  deadline?: Deadline;
  /** Batches in flight at once. */
  concurrency?: number;
  signal?: AbortSignal;
  random?: () => number;
  /** Observability hook: called once per send with its size and result (no record contents). */
  onSend?: (info: {
    attempt: number;
    records: number;
    bytes: number;
    problems: number;
    error?: string;
  }) => void;
}

const DELIVERED: Outcome = { kind: 'delivered' };

/** Groups items by partition (stable order) and cuts them into batches within the limits. */
export function chunk<T extends { enc: { bytes: number; partition?: string } }>(
  items: readonly T[],
  limits: Pick<SinkLimits, 'maxRecords' | 'maxBytes'>,
): T[][] {
  const encs = items.map((it) => it.enc);
  return chunkIndexes(
    items.map((_, i) => i),
    encs,
    limits,
  ).map((b) => b.map((i) => items[i]));
}

/** `chunk` over positions into `encs` (the engine's own form: no object per item). */
function chunkIndexes(
  pending: number[],
  encs: readonly { bytes: number; partition?: string }[],
  limits: Pick<SinkLimits, 'maxRecords' | 'maxBytes'>,
): number[][] {
  let partitioned = false;
  let total = 0;
  for (let k = 0; k < pending.length; k++) {
    const e = encs[pending[k]];
    total += e.bytes;
    if (e.partition !== undefined && e.partition !== '') partitioned = true;
  }
  if (!partitioned && pending.length <= limits.maxRecords && total <= limits.maxBytes) return [pending];
  const lists = new Map<string, number[]>();
  if (!partitioned) lists.set('', pending);
  else
    for (const i of pending) {
      const key = encs[i].partition ?? '';
      let l = lists.get(key);
      if (!l) {
        l = [];
        lists.set(key, l);
      }
      l.push(i);
    }
  const batches: number[][] = [];
  for (const list of lists.values()) {
    let cur: number[] = [];
    let bytes = 0;
    for (const i of list) {
      const b = encs[i].bytes;
      if (cur.length > 0 && (cur.length >= limits.maxRecords || bytes + b > limits.maxBytes)) {
        batches.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push(i);
      bytes += b;
    }
    if (cur.length > 0) batches.push(cur);
  }
  return batches;
}

function classifyThrown(e: unknown): {
  action: 'retry' | 'reject';
  code: string;
  reason: string;
  retryAfterMs?: number;
} {
  if (e instanceof LogferryError) {
    const retryAfterMs = typeof e.details?.retryAfterMs === 'number' ? e.details.retryAfterMs : undefined;
    if (e.code === 'SINK_REJECTED' || e.code === 'RECORD_TOO_LARGE') {
      return { action: 'reject', code: e.code, reason: e.message };
    }
    return { action: 'retry', code: e.code, reason: e.message, retryAfterMs };
  }
  const code = (e as { code?: unknown })?.code;
  return {
    action: 'retry',
    code: typeof code === 'string' ? code : 'SINK_UNAVAILABLE',
    reason: describeError(e),
  };
}

/** Thrown when the signal ends a send that would not end by itself (a sink that hangs). */
class Abandoned extends LogferryError {
  constructor() {
    super('DEADLINE', 'the send was abandoned: no time left (deadline or shutdown)');
  }
}

/**
 * Runs one send with a signal of its own (aborted with `signal`) and resolves as it does, or rejects
 * with `Abandoned` once `signal` aborts, whichever comes first. The shared signal keeps one listener
 * however many sends run at once (see core/abort.ts); the sink's own listeners go on the send's signal.
 */
function untilAborted<T>(
  send: (signal: AbortSignal | undefined) => Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (!signal) return send(undefined);
  if (signal.aborted) return Promise.reject(new Abandoned());
  return new Promise<T>((resolve, reject) => {
    const req = requestSignal(signal);
    let p: Promise<T>;
    try {
      p = send(req.signal);
    } catch (e) {
      p = Promise.reject(e);
    }
    const stop = onAbort(req.signal, () => {
      p.catch(() => {});
      reject(new Abandoned());
    });
    p.then(
      (v) => {
        stop();
        req.release();
        resolve(v);
      },
      (e) => {
        stop();
        req.release();
        reject(e);
      },
    );
  });
}

/**
 * `sink.encode`, with a throw (a message nested too deep for JSON.stringify, a value a sink's
 * encoder cannot take) turned into a rejection of that one record, so one hostile record never
 * fails the batch it was read with.
 */
function encodeOne<E>(sink: Sink<E>, record: LogRecord): Encoded<E> | { reject: string; code: string } {
  try {
    return sink.encode(record);
  } catch (e) {
    return {
      reject: `${sink.name} cannot encode the record: ${describeError(e)}`,
      code: 'RECORD_UNENCODABLE',
    };
  }
}

export async function deliver<E>(
  sink: Sink<E>,
  records: readonly LogRecord[],
  opts: DeliverOptions = {},
): Promise<Outcome[]> {
  const policy = opts.retry ?? DEFAULT_RETRY;
  const deadline = opts.deadline ?? NO_DEADLINE;
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const outcomes: Outcome[] = new Array(records.length);
  if (sink.sendRecords) return deliverLocal(sink, records, outcomes, opts);
  // Positions of the records still to send; `encs[i]` is record i's encoding (no object per item).
  const encs: Encoded<E>[] = new Array(records.length);
  let pending: number[] = [];

  for (let i = 0; i < records.length; i++) {
    const enc = encodeOne(sink, records[i]);
    if ('reject' in enc) {
      outcomes[i] = { kind: 'rejected', code: enc.code, reason: enc.reject, attempts: 0 };
    } else if (enc.bytes > sink.limits.maxRecordBytes) {
      outcomes[i] = {
        kind: 'rejected',
        code: 'RECORD_TOO_LARGE',
        reason: `encoded record is ${enc.bytes} bytes; ${sink.name} accepts at most ${sink.limits.maxRecordBytes}`,
        attempts: 0,
      };
    } else {
      encs[i] = enc;
      pending.push(i);
    }
  }

  let attempt = 1;
  while (pending.length > 0) {
    const retry: { item: number; problem: ItemProblem }[] = [];
    const queue = chunkIndexes(pending, encs, sink.limits);

    const worker = async () => {
      for (let batch = queue.shift(); batch; batch = queue.shift()) {
        if (deadline.remainingMs() <= 0 || opts.signal?.aborted) {
          for (const item of batch) {
            outcomes[item] = {
              kind: 'failed',
              code: 'DEADLINE',
              reason: 'no time left before the deadline',
              attempts: attempt - 1,
            };
          }
          continue;
        }
        let bytes = 0;
        const sent: Encoded<E>[] = new Array(batch.length);
        for (let j = 0; j < batch.length; j++) {
          sent[j] = encs[batch[j]];
          bytes += sent[j].bytes;
        }
        try {
          const res = await untilAborted((signal) => sink.send(sent, { attempt, signal }), opts.signal);
          opts.onSend?.({ attempt, records: batch.length, bytes, problems: res.problems.length });
          if (res.tooLarge) {
            if (batch.length === 1) {
              outcomes[batch[0]] = {
                kind: 'rejected',
                code: 'RECORD_TOO_LARGE',
                reason: `${sink.name} refused a request holding only this record (${bytes} bytes) as too large`,
                attempts: attempt,
              };
            } else {
              const half = Math.ceil(batch.length / 2);
              queue.push(batch.slice(0, half), batch.slice(half));
            }
            continue;
          }
          if (res.problems.length === 0) {
            for (let j = 0; j < batch.length; j++) outcomes[batch[j]] = DELIVERED;
            continue;
          }
          const seen = new Set<number>();
          for (const p of res.problems) {
            const item = batch[p.index];
            if (item === undefined || seen.has(p.index)) continue;
            seen.add(p.index);
            if (p.action === 'reject')
              outcomes[item] = { kind: 'rejected', code: p.code, reason: p.reason, attempts: attempt };
            else if (p.action === 'fail')
              outcomes[item] = { kind: 'failed', code: p.code, reason: p.reason, attempts: attempt };
            else if (p.action === 'drop')
              outcomes[item] = { kind: 'dropped', code: p.code, reason: p.reason, attempts: attempt };
            else retry.push({ item, problem: p });
          }
          for (let j = 0; j < batch.length; j++) if (!seen.has(j)) outcomes[batch[j]] = DELIVERED;
        } catch (e) {
          if (e instanceof Abandoned) {
            opts.onSend?.({ attempt, records: batch.length, bytes, problems: batch.length, error: e.code });
            for (const item of batch)
              outcomes[item] = {
                kind: 'failed',
                code: 'DEADLINE',
                reason: e.message,
                attempts: attempt,
              };
            continue;
          }
          const c = classifyThrown(e);
          opts.onSend?.({ attempt, records: batch.length, bytes, problems: batch.length, error: c.code });
          for (let j = 0; j < batch.length; j++) {
            const item = batch[j];
            if (c.action === 'reject')
              outcomes[item] = { kind: 'rejected', code: c.code, reason: c.reason, attempts: attempt };
            else retry.push({ item, problem: { index: j, ...c } });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length || 1) }, worker));

    if (retry.length === 0) break;
    if (attempt >= policy.maxAttempts) {
      for (const r of retry) {
        outcomes[r.item] = {
          kind: 'failed',
          code: r.problem.code,
          reason: `${r.problem.reason} (gave up after ${attempt} attempts)`,
          attempts: attempt,
        };
      }
      break;
    }
    const hint = retry.reduce((m, r) => Math.max(m, r.problem.retryAfterMs ?? 0), 0);
    const delay = backoffDelayMs(policy, attempt, hint, opts.random);
    if (deadline.remainingMs() <= delay) {
      for (const r of retry) {
        outcomes[r.item] = {
          kind: 'failed',
          code: r.problem.code,
          reason: `${r.problem.reason} (stopped before the deadline after ${attempt} attempts)`,
          attempts: attempt,
        };
      }
      break;
    }
    await sleep(delay, opts.signal);
    attempt++;
    pending = retry.map((r) => r.item);
  }
  return outcomes;
}

/** In-process sinks (`sendRecords`): one call with the records, problems settled as `send`'s are. */
async function deliverLocal<E>(
  sink: Sink<E>,
  records: readonly LogRecord[],
  outcomes: Outcome[],
  opts: DeliverOptions,
): Promise<Outcome[]> {
  let res: SendResult;
  try {
    res = await untilAborted((signal) => sink.sendRecords!(records, { attempt: 1, signal }), opts.signal);
  } catch (e) {
    const c =
      e instanceof Abandoned ? { action: 'fail', code: e.code, reason: e.message } : classifyThrown(e);
    const o: Outcome = {
      kind: c.action === 'reject' ? 'rejected' : 'failed',
      code: c.code,
      reason: c.reason,
      attempts: 1,
    };
    opts.onSend?.({ attempt: 1, records: records.length, bytes: 0, problems: records.length, error: c.code });
    return outcomes.fill(o);
  }
  opts.onSend?.({ attempt: 1, records: records.length, bytes: 0, problems: res.problems.length });
  outcomes.fill(DELIVERED);
  for (const p of res.problems) {
    if (p.index < 0 || p.index >= records.length || outcomes[p.index] !== DELIVERED) continue;
    const kind = p.action === 'reject' ? 'rejected' : p.action === 'drop' ? 'dropped' : ('failed' as const);
    outcomes[p.index] = { kind, code: p.code, reason: p.reason, attempts: 1 };
  }
  return outcomes;
}
