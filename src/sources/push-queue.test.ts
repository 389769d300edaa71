import { describe, expect, it } from 'vitest';
import type { Outcome } from '../core/outcome.js';
import type { LogRecord } from '../core/record.js';
import type { SourceEnvelope } from '../core/source.js';
import { outcomeJoin, PushQueue } from './push-queue.js';

const env = (id: string, n: number, bytes = 10): SourceEnvelope => ({
  ackId: id,
  records: Array.from({ length: n }, () => ({}) as LogRecord),
  bytes,
});

describe('push queue', () => {
  it('counts records and bytes until acknowledged, reports full, and wakes waiters when room frees', async () => {
    const q = new PushQueue({ maxPendingRecords: 3, maxPendingBytes: 1000 });
    const got: Outcome[] = [];
    const ac = new AbortController();
    const it = q.envelopes(ac.signal)[Symbol.asyncIterator]();
    q.push(env('a', 2), (o) => got.push(o));
    expect(q.full).toBe(false);
    q.push(env('b', 1), (o) => got.push(o));
    expect(q.full).toBe(true);
    let roomy = false;
    const room = q.whenRoom().then(() => {
      roomy = true;
    });
    const first = (await it.next()).value as SourceEnvelope;
    expect(first.ackId).toBe('a');
    await Promise.resolve();
    expect(roomy).toBe(false); // pulled is not settled
    q.ack(first, { kind: 'delivered' });
    await room;
    expect(got).toEqual([{ kind: 'delivered' }]);
    expect(q.pending).toEqual({ records: 1, bytes: 10, envelopes: 1 });
    q.ack(first, { kind: 'failed' }); // a second ack of one envelope is ignored
    expect(got).toHaveLength(1);
    ac.abort();
    expect((await it.next()).done).toBe(true);
    // 'b' was queued but never pulled: answered SHUTDOWN so its sender keeps it.
    expect(got[1]).toMatchObject({ kind: 'failed', code: 'SHUTDOWN' });
    expect(q.pending.records).toBe(0);
    const late: Outcome[] = [];
    q.push(env('c', 1), (o) => late.push(o));
    expect(late[0]).toMatchObject({ kind: 'failed', code: 'SHUTDOWN' });
  });

  it('bytes bound the queue too; failOutstanding answers what was pulled and never acknowledged', async () => {
    const q = new PushQueue({ maxPendingRecords: 100, maxPendingBytes: 50 });
    const got: Outcome[] = [];
    q.push(env('a', 1, 60), (o) => got.push(o));
    expect(q.full).toBe(true);
    const it = q.envelopes(new AbortController().signal)[Symbol.asyncIterator]();
    await it.next();
    q.failOutstanding();
    expect(got).toEqual([expect.objectContaining({ kind: 'failed', code: 'SHUTDOWN' })]);
    expect(q.full).toBe(false);
  });

  it('outcomeJoin answers once with the worst outcome', () => {
    const seen: Outcome[] = [];
    const j = outcomeJoin(3, (o) => seen.push(o));
    j({ kind: 'delivered' });
    j({ kind: 'rejected', code: 'X' });
    expect(seen).toEqual([]);
    j({ kind: 'dropped', code: 'CONTROL_MESSAGE' });
    expect(seen).toEqual([{ kind: 'rejected', code: 'X' }]);
  });
});
