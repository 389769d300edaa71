import { describe, expect, it } from 'vitest';
import { runStages } from '../core/stages.js';
import { createDedupeTransform, dedupeSchema } from './dedupe.js';
import { issues, testRecord as rec } from './test-records.js';

const make = (o: Record<string, unknown>, now?: () => number) =>
  createDedupeTransform(dedupeSchema.parse({ type: 'dedupe', ...o }), { now });

describe('dedupe transform', () => {
  it('drops the same line from the same stream within the window (event time), as DUPLICATE', async () => {
    const t = make({ window: '10s' });
    const input = [
      rec({}, { message: 'a', timestamp: 0 }),
      rec({}, { message: 'a', timestamp: 5_000 }), // dup
      rec({}, { message: 'b', timestamp: 5_000 }),
      rec({}, { message: 'a', timestamp: 6_000 }, { logStream: 'other' }), // other stream
      rec({}, { message: 'a', timestamp: 10_000 }), // window measured from the first: not a dup
      rec({}, { message: 'a', timestamp: 12_000 }), // dup of the 10 s one
    ];
    const out = await runStages([t], input);
    expect(out.records.map((r) => `${r.message}@${r.timestamp}`)).toEqual([
      'a@0',
      'b@5000',
      'a@6000',
      'a@10000',
    ]);
    expect(out.dropped.map((d) => d.outcome.code)).toEqual(['DUPLICATE', 'DUPLICATE']);
  });

  it('by fields or by key expression; missing key values pass', async () => {
    const f = make({ window: '1m', fields: ['requestID', 'verb'] });
    const got = [
      { requestID: 'x', verb: 'get' },
      { requestID: 'x', verb: 'get' },
      { requestID: 'x', verb: 'list' },
      { requestID: 'x' },
      { requestID: 'x', verb: null },
    ].map((fl) => f.apply(rec(fl)) !== null);
    expect(got).toEqual([true, false, true, true, false]);
    const k = make({ window: '1m', key: 'auditID' });
    expect(
      [k.apply(rec({ auditID: 'a' })), k.apply(rec({ auditID: 'a' })), k.apply(rec()), k.apply(rec())].map(
        (r) => r !== null,
      ),
    ).toEqual([true, false, true, true]);
  });

  it('values are separated: ("ab","c") is not ("a","bc")', async () => {
    const t = make({ window: '1m', fields: ['x', 'y'] });
    expect(t.apply(rec({ x: 'ab', y: 'c' }))).not.toBeNull();
    expect(t.apply(rec({ x: 'a', y: 'bc' }))).not.toBeNull();
  });

  it('time: clock', async () => {
    let now = 0;
    const t = make({ window: '1s', time: 'clock' }, () => now);
    expect(t.apply(rec())).not.toBeNull();
    now = 999;
    expect(t.apply(rec())).toBeNull();
    now = 1000;
    expect(t.apply(rec())).not.toBeNull();
  });

  it('memory is bounded by maxEntries (the oldest key is forgotten first); long keys hashed', async () => {
    const t = make({ window: '1h', maxEntries: 2 });
    const seq = ['a', 'b', 'c', 'a', 'c'].map((m) => t.apply(rec({}, { message: m })) !== null);
    expect(seq).toEqual([true, true, true, true, false]);
    const long = 'x'.repeat(100_000);
    const u = make({ window: '1h' });
    expect(u.apply(rec({}, { message: long }))).not.toBeNull();
    expect(u.apply(rec({}, { message: long }))).toBeNull();
    expect(u.apply(rec({}, { message: `${long}y` }))).not.toBeNull();
  });

  it('refuses bad config', async () => {
    expect(issues(dedupeSchema.safeParse({ type: 'dedupe' })).join()).toMatch(/window/);
    expect(issues(dedupeSchema.safeParse({ type: 'dedupe', window: '1s', fields: ['a'], key: 'a' }))).toEqual(
      [': dedupe takes fields or key, not both'],
    );
    expect(issues(dedupeSchema.safeParse({ type: 'dedupe', window: '1s', fields: [] })).join()).toMatch(
      /fields/,
    );
    expect(issues(dedupeSchema.safeParse({ type: 'dedupe', window: '1s', maxEntries: 0 })).join()).toMatch(
      /maxEntries/,
    );
  });
});
