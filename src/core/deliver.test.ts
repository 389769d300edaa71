import { describe, expect, it } from 'vitest';
import { handOffRejected, type DeadLetter, type DeadLetterSink } from './dead-letter.js';
import { chunk, deliver } from './deliver.js';
import { LogferryError } from './errors.js';
import type { LogRecord } from './record.js';
import { deadlineIn } from './retry.js';
import type { Encoded, ItemProblem, SendResult, Sink, SinkLimits } from './sink.js';

const rec = (i: number, message = `m${i}`): LogRecord => ({
  timestamp: 1_700_000_000_000 + i,
  message,
  fields: {},
  meta: { owner: '1', logGroup: 'g', logStream: 's', id: String(i), source: 'test', ackId: `a${i}` },
});

type Script = (batch: readonly Encoded<string>[], attempt: number) => SendResult | Promise<SendResult>;

/** A sink whose answers are scripted per call; it records every batch it was sent. */
function scripted(script: Script, limits: Partial<SinkLimits> = {}) {
  const calls: { ids: string[]; attempt: number }[] = [];
  const sink: Sink<string> = {
    type: 'scripted',
    name: 'scripted',
    limits: { maxRecords: 100, maxBytes: 1_000_000, maxRecordBytes: 1000, maxAgeMs: 1000, ...limits },
    encode(r) {
      if (r.message === 'unencodable') return { reject: 'cannot encode', code: 'ENCODE' };
      return {
        record: r,
        data: r.message,
        bytes: r.message.length,
        partition: r.fields.p as string | undefined,
      };
    },
    async send(batch, ctx) {
      calls.push({ ids: batch.map((b) => b.record.meta.id), attempt: ctx.attempt });
      return script(batch, ctx.attempt);
    },
  };
  return { sink, calls };
}

const fast = { retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 2 } };

describe('deliver', () => {
  it('re-sends only the items a sink reports as retriable, and settles every record once', async () => {
    const { sink, calls } = scripted((batch, attempt) => ({
      problems: batch.flatMap((b, index): ItemProblem[] => {
        const id = Number(b.record.meta.id);
        if (id === 3) return [{ index, action: 'reject' as const, code: 'MAPPING', reason: 'bad field' }];
        if (id % 2 === 0 && attempt < 3)
          return [{ index, action: 'retry' as const, code: 'THROTTLED', reason: '429' }];
        return [];
      }),
    }));
    const records = Array.from({ length: 8 }, (_, i) => rec(i));
    const out = await deliver(sink, records, fast);
    expect(out.map((o) => o.kind)).toEqual([
      'delivered',
      'delivered',
      'delivered',
      'rejected',
      'delivered',
      'delivered',
      'delivered',
      'delivered',
    ]);
    expect(out[3]).toMatchObject({ code: 'MAPPING', attempts: 1 });
    expect(calls.map((c) => c.ids)).toEqual([
      ['0', '1', '2', '3', '4', '5', '6', '7'],
      ['0', '2', '4', '6'],
      ['0', '2', '4', '6'],
    ]);
  });

  it('fails records whose retries run out, with the last reason and the attempt count', async () => {
    const { sink, calls } = scripted((batch) => ({
      problems: batch.map((_, index) => ({
        index,
        action: 'retry' as const,
        code: 'SINK_THROTTLED',
        reason: '429',
      })),
    }));
    const out = await deliver(sink, [rec(1)], fast);
    expect(out[0]).toMatchObject({ kind: 'failed', code: 'SINK_THROTTLED', attempts: 5 });
    expect(calls).toHaveLength(5);
  });

  it('treats a thrown SINK_REJECTED as permanent and other errors as retriable', async () => {
    let n = 0;
    const { sink } = scripted(() => {
      n++;
      if (n === 1) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      throw new LogferryError('SINK_REJECTED', 'bucket does not exist');
    });
    const out = await deliver(sink, [rec(1), rec(2)], fast);
    expect(out.map((o) => [o.kind, o.code, o.attempts])).toEqual([
      ['rejected', 'SINK_REJECTED', 2],
      ['rejected', 'SINK_REJECTED', 2],
    ]);
  });

  it('splits a batch the sink calls too large, and rejects a lone record that still is', async () => {
    const { sink, calls } = scripted((batch) => ({
      problems: [],
      tooLarge: batch.length > 2 || batch.some((b) => b.data === 'huge'),
    }));
    const records = [rec(0), rec(1), rec(2), rec(3, 'huge'), rec(4)];
    const out = await deliver(sink, records, fast);
    expect(out.map((o) => o.kind)).toEqual(['delivered', 'delivered', 'delivered', 'rejected', 'delivered']);
    expect(out[3].code).toBe('RECORD_TOO_LARGE');
    expect(calls.every((c) => c.attempt === 1)).toBe(true);
  });

  it('rejects unencodable and oversized records without sending them', async () => {
    const { sink, calls } = scripted(() => ({ problems: [] }), { maxRecordBytes: 10 });
    const out = await deliver(sink, [rec(0, 'unencodable'), rec(1, 'x'.repeat(11)), rec(2)], fast);
    expect(out.map((o) => [o.kind, o.code, o.attempts])).toEqual([
      ['rejected', 'ENCODE', 0],
      ['rejected', 'RECORD_TOO_LARGE', 0],
      ['delivered', undefined, undefined],
    ]);
    expect(calls.map((c) => c.ids)).toEqual([['2']]);
  });

  it('stops before the deadline instead of sleeping past it', async () => {
    const { sink, calls } = scripted((batch) => ({
      problems: batch.map((_, index) => ({
        index,
        action: 'retry' as const,
        code: 'SINK_UNAVAILABLE',
        reason: '503',
        retryAfterMs: 5_000,
      })),
    }));
    const t0 = Date.now();
    const out = await deliver(sink, [rec(1)], {
      retry: { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 10_000 },
      deadline: deadlineIn(1_000),
    });
    expect(Date.now() - t0).toBeLessThan(900);
    expect(out[0]).toMatchObject({ kind: 'failed', code: 'SINK_UNAVAILABLE', attempts: 1 });
    expect(out[0].reason).toMatch(/deadline/);
    expect(calls).toHaveLength(1);
  });

  it('never mixes partitions in one batch and respects count and byte limits', () => {
    const items = [
      ...Array.from({ length: 5 }, (_, i) => ({ enc: { bytes: 10, partition: 'a' }, i })),
      ...Array.from({ length: 3 }, (_, i) => ({ enc: { bytes: 40, partition: 'b' }, i })),
    ];
    const batches = chunk(items, { maxRecords: 2, maxBytes: 70 });
    expect(batches.map((b) => b.map((x) => `${x.enc.partition}${x.i}`))).toEqual([
      ['a0', 'a1'],
      ['a2', 'a3'],
      ['a4'],
      ['b0'],
      ['b1'],
      ['b2'],
    ]);
  });
});

describe('handOffRejected', () => {
  const outcomes = () => [
    { kind: 'delivered' as const },
    { kind: 'rejected' as const, code: 'MAPPING', reason: 'bad', attempts: 2 },
    { kind: 'rejected' as const, code: 'RECORD_TOO_LARGE', reason: 'big', attempts: 0 },
  ];

  it('stores rejected records with reason and attempts, keeping their outcome', async () => {
    const got: DeadLetter[] = [];
    const dlq: DeadLetterSink = {
      type: 'mem',
      async put(entries) {
        got.push(...entries);
        return entries.map(() => true);
      },
    };
    const out = await handOffRejected(dlq, [rec(0), rec(1), rec(2)], outcomes());
    expect(out.map((o) => o.kind)).toEqual(['delivered', 'rejected', 'rejected']);
    expect(got.map((e) => [e.id, e.code, e.attempts])).toEqual([
      ['1', 'MAPPING', 2],
      ['2', 'RECORD_TOO_LARGE', 0],
    ]);
  });

  it('turns what the dead-letter sink could not store into failures, so the source redrives them', async () => {
    const dlq: DeadLetterSink = { type: 'mem', put: async (entries) => entries.map((_, i) => i === 0) };
    const out = await handOffRejected(dlq, [rec(0), rec(1), rec(2)], outcomes());
    expect(out.map((o) => o.kind)).toEqual(['delivered', 'rejected', 'failed']);
    const none = await handOffRejected(undefined, [rec(0), rec(1), rec(2)], outcomes());
    expect(none.map((o) => o.kind)).toEqual(['delivered', 'failed', 'failed']);
    expect(none[1].code).toBe('DEAD_LETTER_UNAVAILABLE');
  });
});
