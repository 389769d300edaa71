import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../core/record.js';
import { createLiftTransform, createNestTransform, liftSchema, nestSchema, wildcardMatcher } from './nest.js';
import { issues, testRecord as rec } from './test-records.js';

const nest = (o: Record<string, unknown>) => createNestTransform(nestSchema.parse({ type: 'nest', ...o }));
const lift = (o: Record<string, unknown>) => createLiftTransform(liftSchema.parse({ type: 'lift', ...o }));
const fields = (r: unknown) => (r as LogRecord).fields;

describe('nest / lift', () => {
  it('wildcards', () => {
    const m = wildcardMatcher(['kubernetes_*', 'exact', '*_id', 'a*b*c']);
    expect(['kubernetes_pod', 'kubernetes_', 'exact', 'trace_id', 'axxbyyc'].every(m)).toBe(true);
    expect(['kubernetes', 'exactly', 'id', 'a.b', 'ab'].some(m)).toBe(false);
    expect(wildcardMatcher(['a.b*'])('aXb')).toBe(false);
  });

  it('nest moves matching fields under one key, removing a prefix', () => {
    const t = nest({ keys: ['kubernetes_*'], under: 'kubernetes', removePrefix: 'kubernetes_' });
    expect(fields(t.apply(rec({ kubernetes_pod: 'p', kubernetes_ns: 'n', level: 'info' })))).toEqual({
      level: 'info',
      kubernetes: { pod: 'p', ns: 'n' },
    });
    // Extends an existing object; leaves a non-object alone; no matches adds nothing.
    expect(fields(t.apply(rec({ kubernetes: { a: 1 }, kubernetes_pod: 'p' })))).toEqual({
      kubernetes: { a: 1, pod: 'p' },
    });
    expect(fields(t.apply(rec({ kubernetes: 'x', kubernetes_pod: 'p' })))).toEqual({
      kubernetes: 'x',
      kubernetes_pod: 'p',
    });
    expect(fields(t.apply(rec({ level: 'info' })))).toEqual({ level: 'info' });
  });

  it('lift moves members up, with a prefix or a key filter, and removes the emptied object', () => {
    expect(
      fields(lift({ under: 'kubernetes' }).apply(rec({ kubernetes: { pod: 'p', ns: 'n' }, a: 1 }))),
    ).toEqual({
      a: 1,
      pod: 'p',
      ns: 'n',
    });
    expect(fields(lift({ under: 'k', addPrefix: 'k_' }).apply(rec({ k: { pod: 'p' } })))).toEqual({
      k_pod: 'p',
    });
    expect(fields(lift({ under: 'k', keys: ['pod*'] }).apply(rec({ k: { pod: 'p', ns: 'n' } })))).toEqual({
      k: { ns: 'n' },
      pod: 'p',
    });
    expect(fields(lift({ under: 'a.b' }).apply(rec({ a: { b: { c: 1 }, d: 2 } })))).toEqual({
      a: { d: 2 },
      c: 1,
    });
    expect(fields(lift({ under: 'k' }).apply(rec({ k: 'text' })))).toEqual({ k: 'text' });
    expect(fields(lift({ under: 'k' }).apply(rec({ k: [1] })))).toEqual({ k: [1] });
  });

  it('nest then lift round-trips', () => {
    const r = rec({ app_name: 'x', app_ver: 2, other: true });
    nest({ keys: ['app_*'], under: 'app', removePrefix: 'app_' }).apply(r);
    lift({ under: 'app', addPrefix: 'app_' }).apply(r);
    expect(r.fields).toEqual({ other: true, app_name: 'x', app_ver: 2 });
  });

  it('never writes __proto__', () => {
    const f = JSON.parse('{"k":{"__proto__":{"polluted":1},"a":1},"x___proto__":2}');
    lift({ under: 'k' }).apply(rec(f));
    nest({ keys: ['x_*'], under: 'n', removePrefix: 'x_' }).apply(rec(f));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(f)).toBe(Object.prototype);
  });

  it('refuses bad config', () => {
    expect(issues(nestSchema.safeParse({ type: 'nest', keys: [], under: 'x' }))).toEqual([
      'keys: nest needs at least one key pattern',
    ]);
    expect(issues(nestSchema.safeParse({ type: 'nest', keys: ['a'], under: 'a.b' }))).toEqual([
      'under: nest: under is a top-level field name',
    ]);
    expect(issues(liftSchema.safeParse({ type: 'lift' })).join()).toMatch(/under/);
    expect(issues(liftSchema.safeParse({ type: 'lift', under: '@message' })).join()).toMatch(/system fields/);
  });
});
