import { describe, expect, it } from 'vitest';
import { Tally, worstOutcome } from './outcome.js';

describe('outcomes', () => {
  it('an envelope takes its worst record outcome', () => {
    let w = worstOutcome(undefined, { kind: 'delivered' });
    w = worstOutcome(w, { kind: 'rejected', code: 'X' });
    w = worstOutcome(w, { kind: 'dropped', code: 'CONTROL_MESSAGE' });
    expect(w).toEqual({ kind: 'rejected', code: 'X' });
    expect(worstOutcome(w, { kind: 'failed', code: 'T' }).kind).toBe('failed');
  });

  it('keeps received = delivered + dropped + rejected + failed, per group and by reason', () => {
    const t = new Tally();
    t.received('g1', 5);
    t.received('g2', 1);
    t.settle('g1', { kind: 'delivered' }, 3);
    t.settle('g1', { kind: 'dropped', code: 'CONTROL_MESSAGE' });
    expect(t.balanced()).toBe(false);
    t.settle('g1', { kind: 'failed', code: 'SINK_THROTTLED' });
    t.settle('g2', { kind: 'rejected', code: 'MAPPING' });
    expect(t.balanced()).toBe(true);
    const other = new Tally();
    other.received('g2', 2);
    other.settle('g2', { kind: 'dropped', code: 'CONTROL_MESSAGE' }, 2);
    t.merge(other);
    expect(t.toJSON()).toEqual({
      total: { received: 8, delivered: 3, dropped: 3, rejected: 1, failed: 1 },
      byGroup: {
        g1: { received: 5, delivered: 3, dropped: 1, rejected: 0, failed: 1 },
        g2: { received: 3, delivered: 0, dropped: 2, rejected: 1, failed: 0 },
      },
      byReason: { 'dropped:CONTROL_MESSAGE': 3, 'failed:SINK_THROTTLED': 1, 'rejected:MAPPING': 1 },
    });
  });
});
