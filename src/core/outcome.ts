/**
 * Per-record outcomes and the accounting invariant:
 *   received = delivered + dropped + rejected + failed   (per log group and in total)
 * An envelope's outcome is its worst record's (failed > rejected > dropped > delivered) — a
 * `failed` record makes the upstream redrive the envelope; `rejected` ones went to the dead-letter
 * sink and must not be redriven.
 */
export type OutcomeKind = 'delivered' | 'dropped' | 'rejected' | 'failed';

export interface Outcome {
  kind: OutcomeKind;
  /** Stable code for dropped/rejected/failed (`CONTROL_MESSAGE`, `ENVELOPE_NOT_GZIP`, `SINK_THROTTLED`…). */
  code?: string;
  reason?: string;
  /** Sends tried before this outcome was settled (set by `deliver`; 0 = never sendable). */
  attempts?: number;
}

const RANK: Record<OutcomeKind, number> = { delivered: 0, dropped: 1, rejected: 2, failed: 3 };

export function worstOutcome(a: Outcome | undefined, b: Outcome): Outcome {
  if (!a) return b;
  return RANK[b.kind] > RANK[a.kind] ? b : a;
}

export const DELIVERED: Outcome = Object.freeze({ kind: 'delivered' }) as Outcome;

export interface Counts {
  received: number;
  delivered: number;
  dropped: number;
  rejected: number;
  failed: number;
}

function zero(): Counts {
  return { received: 0, delivered: 0, dropped: 0, rejected: 0, failed: 0 };
}

/**
 * Counts outcomes by log group and by reason code. Cheap enough for hot paths: one map lookup per
 * call, callers pass `n` to count many records at once.
 */
export class Tally {
  readonly total: Counts = zero();
  readonly byGroup = new Map<string, Counts>();
  /** `kind:code` → count, for drops, rejections and failures. */
  readonly byReason = new Map<string, number>();
  /**
   * `failed:code` → the first reason seen, so a summary can say *why* (connection refused, not a
   * directory, …). Failures only: their reasons describe transport and storage errors, while a
   * rejection's reason may quote a record.
   */
  readonly failureExamples = new Map<string, string>();

  received(group: string, n = 1): void {
    this.total.received += n;
    this.group(group).received += n;
  }

  settle(group: string, outcome: Outcome, n = 1): void {
    this.total[outcome.kind] += n;
    this.group(group)[outcome.kind] += n;
    if (outcome.kind !== 'delivered') {
      const key = `${outcome.kind}:${outcome.code ?? 'UNKNOWN'}`;
      this.byReason.set(key, (this.byReason.get(key) ?? 0) + n);
      if (outcome.kind === 'failed' && outcome.reason && !this.failureExamples.has(key))
        this.failureExamples.set(key, outcome.reason);
    }
  }

  /** True when every received record has exactly one outcome. */
  balanced(): boolean {
    const t = this.total;
    return t.received === t.delivered + t.dropped + t.rejected + t.failed;
  }

  merge(other: Tally): void {
    for (const [g, c] of other.byGroup) {
      const mine = this.group(g);
      for (const k of Object.keys(c) as (keyof Counts)[]) mine[k] += c[k];
    }
    for (const k of Object.keys(other.total) as (keyof Counts)[]) this.total[k] += other.total[k];
    for (const [r, n] of other.byReason) this.byReason.set(r, (this.byReason.get(r) ?? 0) + n);
    for (const [r, e] of other.failureExamples)
      if (!this.failureExamples.has(r)) this.failureExamples.set(r, e);
  }

  toJSON(): { total: Counts; byGroup: Record<string, Counts>; byReason: Record<string, number> } {
    return {
      total: { ...this.total },
      byGroup: Object.fromEntries(this.byGroup),
      byReason: Object.fromEntries(this.byReason),
    };
  }

  private group(g: string): Counts {
    let c = this.byGroup.get(g);
    if (!c) {
      c = zero();
      this.byGroup.set(g, c);
    }
    return c;
  }
}
