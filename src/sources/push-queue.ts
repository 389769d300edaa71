/**
 * The bridge between network listeners (the `http`, `forward` and `syslog` sources), which are
 * *pushed* data, and the runner, which *pulls* envelopes from a source. A listener hands each
 * envelope over with a callback that receives the envelope's outcome once every record in it has
 * one; only then does the listener answer its sender (HTTP status, forward `ack`), so a sender is
 * told "stored" only for records that were delivered, dropped on purpose or dead-lettered.
 *
 * Bounds: `records` and `bytes` count everything handed over and not yet acknowledged (queued for
 * the runner or in its batches). When either reaches its limit, `full` is true: HTTP answers 429,
 * stream listeners pause reading their sockets until `whenRoom()` resolves. One envelope may take
 * the count past the limit (its size is known only once it is read), never more than that per
 * listener connection.
 *
 * Shutdown: when the runner stops pulling (signal aborted) envelopes still queued are answered
 * `failed SHUTDOWN`, so their senders keep them and send again; nothing is acknowledged upstream
 * that was not settled.
 */
import type { Outcome } from '../core/outcome.js';
import type { SourceEnvelope } from '../core/source.js';

export const SHUTDOWN_FAILURE: Outcome = Object.freeze({
  kind: 'failed',
  code: 'SHUTDOWN',
  reason: 'the source stopped before the records were taken; the sender keeps them',
}) as Outcome;

export interface PushLimits {
  maxPendingRecords: number;
  maxPendingBytes: number;
}

export interface PushStats {
  envelopes: number;
  records: number;
  bytes: number;
  /** Envelopes acknowledged, by outcome kind. */
  acked: { delivered: number; dropped: number; rejected: number; failed: number };
  /** Times a sender was told to slow down (HTTP 429) or a socket was paused. */
  throttled: number;
}

type Settle = (outcome: Outcome) => void;

export class PushQueue {
  private readonly queue: SourceEnvelope[] = [];
  /** Per envelope handed over: its callback and the room it takes (counted once, at push). */
  private readonly settle = new Map<SourceEnvelope, { cb: Settle; records: number; bytes: number }>();
  private pendingRecords = 0;
  private pendingBytes = 0;
  private wakeReader: (() => void) | undefined;
  private roomWaiters: (() => void)[] = [];
  private ended = false;
  readonly stats: PushStats = {
    envelopes: 0,
    records: 0,
    bytes: 0,
    acked: { delivered: 0, dropped: 0, rejected: 0, failed: 0 },
    throttled: 0,
  };

  constructor(private readonly limits: PushLimits) {}

  /** Records and bytes handed over and not yet acknowledged. */
  get pending(): { records: number; bytes: number; envelopes: number } {
    return { records: this.pendingRecords, bytes: this.pendingBytes, envelopes: this.settle.size };
  }

  get full(): boolean {
    return (
      this.pendingRecords >= this.limits.maxPendingRecords || this.pendingBytes >= this.limits.maxPendingBytes
    );
  }

  /** True once the runner stopped pulling: new envelopes are refused. */
  get closed(): boolean {
    return this.ended;
  }

  /** Resolves when there is room again (or the queue closed). */
  whenRoom(): Promise<void> {
    if (!this.full || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Counts a refusal for overload (an HTTP 429, a paused socket). */
  throttled(): void {
    this.stats.throttled++;
  }

  /**
   * Hands an envelope to the runner; `onOutcome` is called exactly once with its outcome (or with
   * `failed SHUTDOWN` when the source stops first).
   */
  push(env: SourceEnvelope, onOutcome: Settle): void {
    if (this.ended) {
      onOutcome(SHUTDOWN_FAILURE);
      return;
    }
    const n = env.records.length || 1;
    this.pendingRecords += n;
    this.pendingBytes += env.bytes;
    this.settle.set(env, { cb: onOutcome, records: n, bytes: env.bytes });
    this.stats.envelopes++;
    this.stats.records += env.records.length;
    this.stats.bytes += env.bytes;
    this.queue.push(env);
    const w = this.wakeReader;
    this.wakeReader = undefined;
    w?.();
  }

  /** The runner's side: envelopes in arrival order until `signal` aborts. */
  async *envelopes(signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    const onAbort = () => {
      const w = this.wakeReader;
      this.wakeReader = undefined;
      w?.();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const env = this.queue.shift();
        if (env) {
          yield env;
          continue;
        }
        await new Promise<void>((resolve) => {
          this.wakeReader = resolve;
        });
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.end();
    }
  }

  /** The runner's acknowledgement: frees room and answers the listener. */
  ack(env: SourceEnvelope, outcome: Outcome): void {
    const h = this.settle.get(env);
    if (!h) return;
    this.settle.delete(env);
    this.release(h);
    this.stats.acked[outcome.kind]++;
    h.cb(outcome);
  }

  /** Stops taking envelopes; those queued and never pulled are answered `failed SHUTDOWN`. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const env of this.queue.splice(0)) {
      const h = this.settle.get(env);
      if (!h) continue;
      this.settle.delete(env);
      this.release(h);
      this.stats.acked.failed++;
      h.cb(SHUTDOWN_FAILURE);
    }
    this.notifyRoom();
  }

  /** Envelopes pulled but never acknowledged when the source closes: answered `failed SHUTDOWN`. */
  failOutstanding(): void {
    for (const [env, h] of [...this.settle]) {
      this.settle.delete(env);
      this.release(h);
      this.stats.acked.failed++;
      h.cb(SHUTDOWN_FAILURE);
    }
  }

  private release(h: { records: number; bytes: number }): void {
    this.pendingRecords -= h.records;
    this.pendingBytes -= h.bytes;
    if (!this.full) this.notifyRoom();
  }

  private notifyRoom(): void {
    if (this.roomWaiters.length === 0) return;
    const ws = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of ws) w();
  }
}

/**
 * Collects the outcomes of several envelopes that answer one upstream unit (an HTTP request, a
 * forward chunk) and calls `done` once with the worst of them.
 */
export function outcomeJoin(count: number, done: (worst: Outcome) => void): Settle {
  let left = count;
  let worst: Outcome | undefined;
  const rank = { delivered: 0, dropped: 1, rejected: 2, failed: 3 } as const;
  if (count === 0) queueMicrotask(() => done({ kind: 'delivered' }));
  return (o) => {
    if (worst === undefined || rank[o.kind] > rank[worst.kind]) worst = o;
    if (--left === 0) done(worst);
  };
}
