import { describe, expect, it } from 'vitest';
import { runStages } from '../core/stages.js';
import { createThrottleTransform, throttleSchema } from './throttle.js';
import { issues, testRecord as rec } from './test-records.js';

const make = (o: Record<string, unknown>, now?: () => number) =>
  createThrottleTransform(throttleSchema.parse({ type: 'throttle', ...o }), { now });

describe('throttle transform', () => {
  it('lets threshold records per key and window through, drops the rest as THROTTLED', async () => {
    let t = 10_000;
    const th = make({ threshold: 2, window: '1s', key: 'user' }, () => t);
    const users = ['a', 'a', 'a', 'b', 'a', 'b', 'b'];
    const out = await runStages(
      [th],
      users.map((user) => rec({ user })),
    );
    expect(out.records.map((r) => r.fields.user)).toEqual(['a', 'a', 'b', 'b']);
    expect(out.dropped.map((d) => d.outcome.code)).toEqual(['THROTTLED', 'THROTTLED', 'THROTTLED']);
    t += 999; // window [10000, 11000) still
    expect(th.apply(rec({ user: 'a' }))).toBeNull();
    t += 1; // next window
    expect(th.apply(rec({ user: 'a' }))).not.toBeNull();
  });

  it('without a key all records share one budget; missing key values share one', async () => {
    const one = make({ threshold: 1, window: 1000 }, () => 0);
    expect([one.apply(rec()), one.apply(rec({ x: 1 }))].map((r) => r !== null)).toEqual([true, false]);
    const k = make({ threshold: 1, window: 1000, key: 'user' }, () => 0);
    expect(
      [k.apply(rec()), k.apply(rec({ user: null })), k.apply(rec({ user: 'null' }))].map((r) => r !== null),
    ).toEqual([true, false, true]);
  });

  it('condition: other records pass and use no budget', async () => {
    const th = make({ threshold: 1, window: '1m', condition: 'verb = "get"' }, () => 0);
    const out = await runStages(
      [th],
      ['get', 'create', 'get', 'create'].map((verb) => rec({ verb })),
    );
    expect(out.records.map((r) => r.fields.verb)).toEqual(['get', 'create', 'create']);
  });

  it('time: record uses event time (replay gives the same decisions)', async () => {
    const run = () => {
      const th = make({ threshold: 1, window: '10s', time: 'record', key: '@logStream' }, () => {
        throw new Error('clock must not be read');
      });
      return [0, 5_000, 10_000, 19_999, 20_000, 3_000].map(
        (ts) => th.apply(rec({}, { timestamp: ts })) !== null,
      );
    };
    // A late record (3 s) counts in the newest window seen (20–30 s), whose budget is used.
    expect(run()).toEqual([true, false, true, false, true, false]);
    expect(run()).toEqual(run());
  });

  it('expression keys and the maxKeys bound (overflow shares one budget)', async () => {
    const th = make({ threshold: 1, window: '1h', key: 'concat(user, ":", verb)', maxKeys: 2 }, () => 0);
    const got = [
      ['a', 'get'],
      ['a', 'list'],
      ['b', 'get'], // third key: overflow budget (1)
      ['c', 'get'], // overflow exhausted
      ['a', 'get'], // tracked key, exhausted
    ].map(([user, verb]) => th.apply(rec({ user, verb })) !== null);
    expect(got).toEqual([true, true, true, false, false]);
  });

  it('refuses bad config', async () => {
    expect(
      issues(throttleSchema.safeParse({ type: 'throttle', threshold: 1.5, window: '1s' })).join(),
    ).toMatch(/threshold/);
    expect(issues(throttleSchema.safeParse({ type: 'throttle', threshold: 1, window: '0s' })).join()).toMatch(
      /not a positive duration/,
    );
    expect(issues(throttleSchema.safeParse({ type: 'throttle', threshold: 1 })).join()).toMatch(/window/);
    expect(
      issues(throttleSchema.safeParse({ type: 'throttle', threshold: 1, window: 1, key: 'count(*)' })).join(),
    ).toMatch(/key: expression has a problem/);
    expect(
      issues(throttleSchema.safeParse({ type: 'throttle', threshold: 1, window: 1, time: 'wall' })).join(),
    ).toMatch(/time/);
  });
});
