import { describe, expect, it } from 'vitest';
import { compileQuery } from './compile.js';
import { globToRegex } from './row-commands.js';
import {
  compareValues,
  fieldGetter,
  looseEquals,
  naturalCompare,
  sortCompare,
  toEpochMs,
  toNumber,
  toStr,
  truthy,
} from './values.js';

describe('value semantics', () => {
  it.each([
    [1, 1, true],
    [1, '1', true],
    ['1.0', 1, true],
    [' 2 ', 2, true],
    ['a', 'a', true],
    ['a', 'A', false],
    [true, 'true', true],
    [true, 1, false],
    [null, null, false],
    [undefined, 'x', false],
    [{ a: 1 }, '{"a":1}', true],
    ['0x10', 16, false],
    ['', 0, false],
  ])('looseEquals(%j, %j) = %j', (a, b, want) => {
    expect(looseEquals(a, b)).toBe(want);
  });

  it('compares numerically when both sides are numeric, else as text; NaN with missing', () => {
    expect(compareValues('10', 9)).toBeGreaterThan(0);
    expect(compareValues('10', '9')).toBeGreaterThan(0);
    expect(compareValues('b', 'a')).toBeGreaterThan(0);
    expect(compareValues('10', 'a')).toBeLessThan(0);
    expect(compareValues(null, 1)).toBeNaN();
  });

  it('toNumber accepts only whole number-like strings', () => {
    expect(toNumber('1e3')).toBe(1000);
    expect(toNumber('-.5')).toBe(-0.5);
    expect(toNumber('12ms')).toBeNaN();
    expect(toNumber('')).toBeNaN();
    expect(toNumber(null)).toBeNaN();
    expect(toNumber(false)).toBe(0);
  });

  it('toStr renders objects as JSON and missing as empty', () => {
    expect(toStr([1, 'a'])).toBe('[1,"a"]');
    expect(toStr(undefined)).toBe('');
    expect(toStr(1.5)).toBe('1.5');
  });

  it('truthy: true and non-zero numbers only', () => {
    expect([true, 1, -2, 0, false, 'true', 'x', null, Number.NaN].map(truthy)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('naturalCompare orders digit runs by length then value', () => {
    const vals = ['x10', 'x9', 'x09', 'x1a', 'y', 'x'];
    expect(vals.slice().sort(naturalCompare)).toEqual(['x', 'x1a', 'x9', 'x09', 'x10', 'y']);
  });

  it('sortCompare puts text before numbers and numeric strings among numbers', () => {
    const vals = [3, 'b', '10', 'a', 2.5, '01'];
    expect(vals.slice().sort(sortCompare)).toEqual(['a', 'b', '01', 2.5, 3, '10']);
  });

  it('toEpochMs normalises timestamps', () => {
    expect(toEpochMs('2026-11-22T10:00:00Z')).toBe(Date.UTC(2026, 10, 22, 10));
    expect(toEpochMs('2026-11-22T12:00:00+02:00')).toBe(Date.UTC(2026, 10, 22, 10));
    expect(toEpochMs('2026-11-22 10:00:00.250')).toBe(Date.UTC(2026, 10, 22, 10, 0, 0, 250));
    expect(toEpochMs('1763805600000')).toBe(1763805600000);
    expect(toEpochMs(new Date(5))).toBe(5);
    expect(toEpochMs('yesterday')).toBeNull();
    expect(toEpochMs(Number.NaN)).toBeNull();
  });

  it('fieldGetter resolves exact keys first, then walks; @timestamp is normalised', () => {
    const row = {
      'a.b': 1,
      a: { b: 2, 'c.d': { e: 3 } },
      list: [{ x: 'y' }],
      '@timestamp': '1970-01-01T00:00:01Z',
    };
    expect(fieldGetter('a.b')(row)).toBe(1);
    expect(fieldGetter('a.c.d.e')(row)).toBe(3);
    expect(fieldGetter('list.0.x')(row)).toBe('y');
    expect(fieldGetter('list.1.x')(row)).toBeUndefined();
    expect(fieldGetter('a.')(row)).toBeUndefined();
    expect(fieldGetter('@timestamp')(row)).toBe(1000);
    expect(fieldGetter('toString')({})).toBeUndefined();
    expect(fieldGetter('__proto__')({})).toBeUndefined();
    expect(fieldGetter('a.constructor')({ a: {} })).toBeUndefined();
  });

  it('globToRegex escapes everything but stars', () => {
    expect(globToRegex('a.b(*)[*]').exec('xx a.b(1)[2] yy')!.slice(1)).toEqual(['1', '2']);
    expect(globToRegex('*=*').exec('k=v=w')!.slice(1)).toEqual(['k', 'v=w']);
  });
});

describe('edge cases through the whole engine', () => {
  const run = (q: string, rows: Record<string, unknown>[]) => compileQuery(q).execute(rows);

  it('treats regex metacharacters in a like string literally', async () => {
    const r = await run('filter m like "a.b(" | fields m', [
      { '@timestamp': 1, m: 'xa.b(y' },
      { '@timestamp': 2, m: 'xaXb(y' },
    ]);
    expect(r.rows).toEqual([{ m: 'xa.b(y' }]);
  });

  it('gives literal-looking regexes (run without the regex engine) the same meaning as regexes', async () => {
    const rows = [
      { '@timestamp': 1, m: 'kube-apiserver-audit-1' },
      { '@timestamp': 2, m: 'x kube-apiserver-audit' },
      { '@timestamp': 3, m: 'ecs/app/1' },
      { '@timestamp': 4, m: 'axb' },
      { '@timestamp': 5, m: 'KUBE-apiserver' },
    ];
    const hits = async (re: string) =>
      (await run(`filter m like ${re} | fields m | sort @timestamp asc`, rows)).rows.map((r) => r.m);
    expect(await hits('/^kube-apiserver-audit/')).toEqual(['kube-apiserver-audit-1']);
    expect(await hits('/kube-apiserver-audit/')).toEqual([
      'kube-apiserver-audit-1',
      'x kube-apiserver-audit',
    ]);
    expect(await hits('/ecs\\/app\\//')).toEqual(['ecs/app/1']);
    expect(await hits('/a.b/')).toEqual(['axb']);
    expect(await hits('/^kube/i')).toEqual(['kube-apiserver-audit-1', 'KUBE-apiserver']);
    expect(await hits('/\\-apiserver$/')).toEqual(['KUBE-apiserver']);
  });

  it('handles unicode, empty strings and numbers in text functions', async () => {
    const r = await run('fields toupper(s) as u, strlen(s) as n, concat(s, 1, true) as c', [
      { '@timestamp': 1, s: 'ünï' },
    ]);
    expect(r.rows).toEqual([{ u: 'ÜNÏ', n: 3, c: 'ünï1true' }]);
    const e = await run('filter s = "" | fields isempty(s) as e', [{ '@timestamp': 1, s: '' }]);
    expect(e.rows).toEqual([{ e: true }]);
  });

  it('compares booleans and nested values', async () => {
    const rows = [
      { '@timestamp': 1, ok: true, obj: { k: [1, 2] } },
      { '@timestamp': 2, ok: false, obj: { k: [3] } },
    ];
    expect((await run('filter ok = true | fields obj.k.1 as v', rows)).rows).toEqual([{ v: 2 }]);
    expect((await run('filter ok = "false" | fields obj.k.0 as v', rows)).rows).toEqual([{ v: 3 }]);
    expect((await run('filter ok in [true] | fields ok', rows)).rows).toEqual([{ ok: true }]);
  });

  it('matches like against non-string values by their text', async () => {
    const r = await run('filter code like "50" | fields code', [
      { '@timestamp': 1, code: 503 },
      { '@timestamp': 2, code: 200 },
    ]);
    expect(r.rows).toEqual([{ code: 503 }]);
  });

  it('supports in-lists with computed items and mixed types', async () => {
    const rows = [
      { '@timestamp': 1, a: 'x', b: 'x' },
      { '@timestamp': 2, a: 2, b: 'y' },
      { '@timestamp': 3, a: 'z', b: 'y' },
    ];
    expect((await run('filter a in [b, 2] | fields a', rows)).rows).toEqual([{ a: 2 }, { a: 'x' }]);
  });

  it('keeps rows whose filter errors cannot happen: bad regex input types never throw', async () => {
    const r = await run('filter m like /^a/ | fields m', [
      { '@timestamp': 1, m: null },
      { '@timestamp': 2, m: { a: 1 } },
      { '@timestamp': 3, m: 'abc' },
    ]);
    expect(r.rows).toEqual([{ m: 'abc' }]);
  });

  it('handles empty input', async () => {
    expect((await run('fields a', [])).rows).toEqual([]);
    expect((await run('stats count(*) as n by a', [])).rows).toEqual([]);
    expect((await run('stats count(*) as n', [])).rows).toEqual([{ n: 0 }]);
  });

  it('sorts by a computed expression and by an alias made earlier', async () => {
    const rows = [
      { '@timestamp': 1, a: 3, b: 1 },
      { '@timestamp': 2, a: 1, b: 1 },
      { '@timestamp': 3, a: 2, b: 5 },
    ];
    expect((await run('fields a | sort a * b desc', rows)).rows.map((x) => x.a)).toEqual([2, 3, 1]);
    expect((await run('fields a - b as d | sort d | display d', rows)).rows).toEqual([
      { d: -3 },
      { d: 0 },
      { d: 2 },
    ]);
  });

  it('does not hoist a fields command past a sort whose key it rewrites', async () => {
    const rows = [
      { '@timestamp': 1, a: 1 },
      { '@timestamp': 2, a: 2 },
    ];
    const r = await run('sort a desc | fields -a as a', rows);
    expect(r.rows).toEqual([{ a: -2 }, { a: -1 }]);
  });

  it('dedups on several fields and on nested ones', async () => {
    const rows = [
      { '@timestamp': 3, o: { n: 'a' }, v: 'x' },
      { '@timestamp': 2, o: { n: 'a' }, v: 'x' },
      { '@timestamp': 1, o: { n: 'a' }, v: 'y' },
    ];
    expect((await run('fields @timestamp | dedup o.n, v', rows)).rows).toEqual([
      { '@timestamp': 3 },
      { '@timestamp': 1 },
    ]);
  });

  it('stats by a missing key groups the rows without it together', async () => {
    const r = await run('stats count(*) as n by k', [
      { '@timestamp': 1, k: 'a' },
      { '@timestamp': 2 },
      { '@timestamp': 3, k: null },
    ]);
    expect(r.rows).toEqual([
      { k: 'a', n: 1 },
      { k: null, n: 2 },
    ]);
  });

  it('distinguishes the number 1 from the string "1" as group keys only by value text', async () => {
    const r = await run('stats count(*) as n by k', [
      { '@timestamp': 1, k: 1 },
      { '@timestamp': 2, k: '1' },
    ]);
    expect(r.rows.length).toBe(2);
  });
});
