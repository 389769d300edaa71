import { describe, expect, it } from 'vitest';
import { compileQuery } from '../compile.js';
import type { Row } from '../types.js';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const T = Date.UTC(2026, 10, 22, 10, 37, 42, 123); // a Sunday

/** Evaluates `expr` on one row through `fields expr as v`. */
async function ev(expr: string, row: Row = {}): Promise<unknown> {
  const q = compileQuery(`fields ${expr} as v`, { now: NOW });
  const r = await q.execute([{ '@timestamp': T, ...row }]);
  return r.rows[0].v;
}

/** Runs `stats <agg> as v` over rows. */
async function agg(expr: string, rows: Row[]): Promise<unknown> {
  const r = await compileQuery(`stats ${expr} as v`).execute(rows);
  return r.rows[0].v;
}

describe('string functions', () => {
  it.each([
    ['strlen(s)', { s: 'héllo' }, 5],
    ['strlen(n)', { n: 1234 }, 4],
    ['strlen(missing)', {}, null],
    ['toupper(s)', { s: 'aBc' }, 'ABC'],
    ['tolower(s)', { s: 'aBc' }, 'abc'],
    ['trim(s)', { s: '  a b  ' }, 'a b'],
    ['ltrim(s)', { s: '  a  ' }, 'a  '],
    ['rtrim(s)', { s: '  a  ' }, '  a'],
    ['trim(s, "xy")', { s: 'xyaxy' }, 'a'],
    ['ltrim(s, "/")', { s: '//path/' }, 'path/'],
    ['rtrim(s, "/")', { s: '//path//' }, '//path'],
    ['substr(s, 2)', { s: 'abcdef' }, 'cdef'],
    ['substr(s, 1, 3)', { s: 'abcdef' }, 'bcd'],
    ['substr(s, 4, 10)', { s: 'abcdef' }, 'ef'],
    ['substr(s, 0, 0)', { s: 'abc' }, ''],
    ['replace(s, "a", "o")', { s: 'banana' }, 'bonono'],
    ['replace(s, "", "x")', { s: 'ab' }, 'ab'],
    ['replace(s, ".", "!")', { s: 'a.b.c' }, 'a!b!c'],
    ['strcontains(s, "nan")', { s: 'banana' }, 1],
    ['strcontains(s, "NAN")', { s: 'banana' }, 0],
    ['strcontains(missing, "x")', {}, null],
    ['concat(a, "-", b, 1)', { a: 'x', b: 'y' }, 'x-y1'],
    ['concat(a, missing)', { a: 'x' }, 'x'],
    ['isempty(s)', { s: '' }, true],
    ['isempty(missing)', {}, true],
    ['isempty(s)', { s: ' ' }, false],
    ['isblank(s)', { s: ' \t' }, true],
    ['isblank(missing)', {}, true],
    ['isblank(s)', { s: ' x ' }, false],
  ])('%s on %j = %j', async (expr, row, want) => {
    expect(await ev(expr, row)).toEqual(want);
  });
});

describe('numeric functions and operators', () => {
  it.each([
    ['abs(n)', { n: -3.5 }, 3.5],
    ['ceil(n)', { n: 1.2 }, 2],
    ['floor(n)', { n: -1.2 }, -2],
    ['greatest(a, b, 7)', { a: 3, b: '9' }, 9],
    ['least(a, b, 7)', { a: 3, b: '9' }, 3],
    ['greatest(missing, a)', { a: 3 }, 3],
    ['log(n)', { n: Math.E }, 1],
    ['log(n)', { n: 0 }, null],
    ['sqrt(n)', { n: 16 }, 4],
    ['sqrt(n)', { n: 'x' }, null],
    ['2 ^ 3', {}, 8],
    ['10 % 3', {}, 1],
    ['a + b * 2', { a: 1, b: '4' }, 9],
    ['(a + b) * 2', { a: 1, b: 4 }, 10],
    ['a / 0', { a: 1 }, null],
    ['a + missing', { a: 1 }, null],
    ['a + s', { a: 1, s: 'x' }, null],
    ['-a', { a: 2 }, -2],
  ])('%s on %j = %j', async (expr, row, want) => {
    const v = await ev(expr, row);
    if (typeof want === 'number') expect(v).toBeCloseTo(want, 10);
    else expect(v).toEqual(want);
  });
});

describe('datetime functions', () => {
  it('bin() floors @timestamp to the period', async () => {
    expect(await ev('bin(5m)')).toBe(Date.UTC(2026, 10, 22, 10, 35));
    expect(await ev('bin(1h)')).toBe(Date.UTC(2026, 10, 22, 10));
    expect(await ev('bin(100ms)')).toBe(Date.UTC(2026, 10, 22, 10, 37, 42, 100));
    expect(await ev('bin(1d)')).toBe(Date.UTC(2026, 10, 22));
    // Weeks start on Monday (UTC): Sunday 22 Nov 2026 falls in the week of Monday 16 Nov.
    expect(await ev('bin(1w)')).toBe(Date.UTC(2026, 10, 16));
    expect(await ev('bin(1mo)')).toBe(Date.UTC(2026, 10, 1));
    expect(await ev('bin(1q)')).toBe(Date.UTC(2026, 9, 1));
    expect(await ev('bin(1y)')).toBe(Date.UTC(2026, 0, 1));
  });

  it('datefloor/dateceil work on any timestamp value, ISO strings included', async () => {
    expect(await ev('datefloor(@timestamp, 1h)')).toBe(Date.UTC(2026, 10, 22, 10));
    expect(await ev('dateceil(@timestamp, 1h)')).toBe(Date.UTC(2026, 10, 22, 11));
    expect(await ev('dateceil(t, 1mo)', { t: '2026-12-15T00:00:00Z' })).toBe(Date.UTC(2027, 0, 1));
    expect(await ev('dateceil(t, 1h)', { t: Date.UTC(2026, 0, 1, 5) })).toBe(Date.UTC(2026, 0, 1, 5));
    expect(await ev('datefloor(missing, 1h)')).toBeNull();
  });

  it('fromMillis/toMillis convert between numbers and timestamps; now() is the query start in seconds', async () => {
    expect(await ev('fromMillis(ms)', { ms: '1700000000000' })).toBe(1700000000000);
    expect(await ev('toMillis(@timestamp)')).toBe(T);
    expect(await ev('toMillis(t)', { t: '2026-11-22T10:37:42.123Z' })).toBe(T);
    expect(await ev('now()')).toBe(NOW / 1000);
    const q = compileQuery('fields bin(1m) as b, fromMillis(x) as f, toMillis(@timestamp) as m');
    const r = await q.execute([{ '@timestamp': T, x: 1 }]);
    expect(r.timeFields).toEqual(['b', 'f']);
    const q2 = compileQuery('fields @timestamp, bin(1m) as b, fromMillis(x) as f, toMillis(@timestamp) as m');
    expect((await q2.execute([{ '@timestamp': T }])).timeFields).toEqual(['@timestamp', 'b', 'f']);
  });
});

describe('general functions', () => {
  it.each([
    ['ispresent(a)', { a: 0 }, true],
    ['ispresent(a)', { a: '' }, true],
    ['ispresent(a)', { a: null }, false],
    ['ispresent(a.b)', { a: { b: 1 } }, true],
    ['coalesce(a, b, "d")', { b: 2 }, 2],
    ['coalesce(a, b)', {}, null],
    ['if(a > 1, "big", "small")', { a: 5 }, 'big'],
    ['if(a > 1, "big", "small")', { a: 0 }, 'small'],
    ['if(a > 1, "big")', {}, null],
    ['unmask(@message)', { '@message': 'pw=***' }, 'pw=***'],
  ])('%s on %j = %j', async (expr, row, want) => {
    expect(await ev(expr, row)).toEqual(want);
  });
});

describe('IP functions', () => {
  it.each([
    ['isValidIp(ip)', '10.0.0.1', true],
    ['isValidIp(ip)', '2001:db8::1', true],
    ['isValidIp(ip)', '10.0.0.256', false],
    ['isValidIpV4(ip)', '192.168.1.1', true],
    ['isValidIpV4(ip)', '::1', false],
    ['isValidIpV6(ip)', '::ffff:10.0.0.1', true],
    ['isValidIpV6(ip)', 'fe80::1%eth0', true],
    ['isValidIpV6(ip)', '1.2.3.4', false],
    ['isIpInSubnet(ip, "10.0.0.0/8")', '10.20.30.40', true],
    ['isIpInSubnet(ip, "10.0.0.0/8")', '11.0.0.1', false],
    ['isIpInSubnet(ip, "2001:db8::/32")', '2001:db8:1::5', true],
    ['isIpv4InSubnet(ip, "192.168.0.0/23")', '192.168.1.255', true],
    ['isIpv4InSubnet(ip, "192.168.0.0/23")', '192.168.2.0', false],
    ['isIpv4InSubnet(ip, "0.0.0.0/0")', '8.8.8.8', true],
    ['isIpv4InSubnet(ip, "10.0.0.0/33")', '10.0.0.1', false],
    ['isIpv6InSubnet(ip, "fd00::/8")', 'fd12:3456::1', true],
    ['isIpv6InSubnet(ip, "fd00::/8")', 'fe80::1', false],
    ['isIpv6InSubnet(ip, "::ffff:0:0/96")', '::ffff:10.1.2.3', true],
    ['isIpv6InSubnet(ip, "2001:db8::1/128")', '2001:0db8:0000::0001', true],
  ])('%s with %s = %j', async (expr, ip, want) => {
    expect(await ev(expr, { ip })).toBe(want);
  });

  it('is null for a missing address', async () => {
    expect(await ev('isValidIp(x)')).toBeNull();
  });
});

describe('JSON functions and structure access', () => {
  it('jsonParse makes a map usable with dots and brackets; jsonStringify reverses it', async () => {
    const row = { '@message': '{"users":[{"action":"Get"},{"action":"PutData"}],"status_code":200}' };
    const q = compileQuery(
      'fields jsonParse(@message) as j | filter j.users[1].action = "PutData" | fields j.status_code as code, jsonStringify(j.users.0) as first',
    );
    const r = await q.execute([{ '@timestamp': 1, ...row }]);
    expect(r.rows).toEqual([{ j: JSON.parse(row['@message']), code: 200, first: '{"action":"Get"}' }]);
    expect(await ev('jsonParse(s)', { s: 'not json' })).toBeNull();
  });
});

describe('aggregate functions', () => {
  const rows: Row[] = [
    { '@timestamp': 3000, d: 10, u: 'b', s: 'x10' },
    { '@timestamp': 1000, d: '30', u: 'a', s: 'x9' },
    { '@timestamp': 2000, d: 20, u: 'b' },
    { '@timestamp': 4000, u: 'c', d: 'n/a' },
  ];
  it.each([
    ['count()', 4],
    ['count(*)', 4],
    ['count(d)', 4],
    ['count(s)', 2],
    ['count_distinct(u)', 3],
    ['sum(d)', 60],
    ['avg(d)', 20],
    ['min(d)', 10],
    ['max(d)', 30],
    ['stddev(d)', 10],
    ['pct(d, 50)', 20],
    ['pct(d, 99)', 30],
    ['pct(d, 0)', 10],
    ['earliest(u)', 'a'],
    ['latest(u)', 'c'],
    ['earliest(s)', 'x9'],
    ['sortsFirst(s)', 'x9'],
    ['sortsLast(s)', 'x10'],
    ['sortsFirst(d)', 'n/a'],
    ['min(s)', 'x9'],
    ['max(s)', 'x10'],
    ['max(@timestamp)', 4000],
    ['sum(d) / count(*)', 15],
  ])('%s = %j', async (expr, want) => {
    expect(await agg(expr, rows)).toEqual(want);
  });

  it('gives null (count 0) over no values', async () => {
    expect(await agg('sum(missing)', rows)).toBeNull();
    expect(await agg('avg(missing)', rows)).toBeNull();
    expect(await agg('count(missing)', rows)).toBe(0);
    expect(await agg('stddev(d)', [{ d: 5 }])).toBe(0);
  });
});
