/**
 * The functions of AWS's newer Logs Insights reference (conversion, conditional, string, encoding,
 * hashing, date formatting, IP, JSON, query window, time-series aggregates): results, null
 * handling, and argument errors with line/column.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isLogferryError, type LogferryError } from '../../core/errors.js';
import { compileQuery } from '../compile.js';
import { parseQuery } from '../parser.js';
import { formatValue } from '../render/format.js';
import type { Row } from '../types.js';
import { FUNCTION_NAMES } from './registry.js';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const T = Date.UTC(2026, 10, 22, 10, 37, 42, 123); // a Sunday

async function ev(
  expr: string,
  row: Row = {},
  opts: { start?: number; end?: number } = {},
): Promise<unknown> {
  const q = compileQuery(`fields ${expr} as v`, { now: NOW, ...opts });
  const r = await q.execute([{ '@timestamp': T, ...row }]);
  return r.rows[0].v;
}

function problemsOf(q: string): { line: number; column: number; message: string }[] {
  try {
    parseQuery(q);
  } catch (e) {
    expect(isLogferryError(e, 'QUERY_SYNTAX')).toBe(true);
    return (e as LogferryError).details!.problems as { line: number; column: number; message: string }[];
  }
  throw new Error(`expected a syntax error for: ${q}`);
}

describe('conversion and conditional functions', () => {
  it.each([
    ['toNumber(s)', { s: '42.5' }, 42.5],
    ['toNumber(s)', { s: ' -3 ' }, -3],
    ['toNumber(s)', { s: '1e3' }, 1000],
    ['toNumber(s)', { s: 'abc' }, null],
    ['toNumber(b)', { b: true }, 1],
    ['toNumber(missing)', {}, null],
    ['toString(n)', { n: 200 }, '200'],
    ['toString(o)', { o: { a: 1 } }, '{"a":1}'],
    ['toString(missing)', {}, null],
    ['toString(n) = "200"', { n: 200 }, true],
    ['isNumeric(s)', { s: '12' }, true],
    ['isNumeric(n)', { n: 12 }, true],
    ['isNumeric(s)', { s: '12a' }, false],
    ['isNumeric(missing)', {}, false],
    ['round(n)', { n: 2.5 }, 3],
    ['round(n)', { n: -2.5 }, -3],
    ['round(n, 2)', { n: 1.005 }, 1.01],
    ['round(n, 1)', { n: 3.14159 }, 3.1],
    ['round(n, -2)', { n: 1234 }, 1200],
    ['round(s)', { s: '7.6' }, 8],
    ['round(missing)', {}, null],
    ['round(s)', { s: 'x' }, null],
    ['case(status >= 500, "server", status >= 400, "client", "ok")', { status: 503 }, 'server'],
    ['case(status >= 500, "server", status >= 400, "client", "ok")', { status: 404 }, 'client'],
    ['case(status >= 500, "server", status >= 400, "client", "ok")', { status: 200 }, 'ok'],
    ['case(status >= 500, "server", status >= 400, "client")', { status: 200 }, null],
    ['case(status >= 500, "server")', {}, null],
  ])('%s on %j → %j', async (expr, row, want) => {
    expect(await ev(expr, row as Row)).toEqual(want);
  });
});

describe('string functions of the newer reference', () => {
  it.each([
    ['startsWith(s, "kube-")', { s: 'kube-apiserver' }, true],
    ['startsWith(s, "etcd")', { s: 'kube-apiserver' }, false],
    ['startsWith(missing, "x")', {}, null],
    ['endsWith(s, ".log")', { s: 'a/b.log' }, true],
    ['endsWith(s, ".gz")', { s: 'a/b.log' }, false],
    ['split(s, ",")', { s: 'a,b,,c' }, ['a', 'b', '', 'c']],
    ['split(s, "::")', { s: 'x::y' }, ['x', 'y']],
    ['split(missing, ",")', {}, null],
    ['regexReplace(s, /\\d+/, "N")', { s: 'pod-123 restarted 4 times' }, 'pod-N restarted N times'],
    ['regexReplace(s, "[aeiou]", "")', { s: 'education' }, 'dctn'],
    ['regexReplace(s, /(?<k>\\w+)=(?<v>\\w+)/, "$2:$1")', { s: 'a=1 b=2' }, '1:a 2:b'],
    ['regexReplace(s, /(?<k>\\w+)=(?<v>\\w+)/, "${v}<-${k}")', { s: 'a=1' }, '1<-a'],
    ['regexReplace(s, /(?i)error/, "E")', { s: 'Error ERROR error' }, 'E E E'],
    ['regexReplace(s, /x/, r)', { s: 'axbx', r: '-' }, 'a-b-'],
    ['regexReplace(missing, /x/, "y")', {}, null],
    ['strcontains(s, "ERR")', { s: 'an error' }, 0],
    ['strcontains(s, "ERR", true)', { s: 'an error' }, 1],
    ['strcontains(s, "ERR", false)', { s: 'an error' }, 0],
    ['strcontains(s, "ERR", 1)', { s: 'an error' }, 1],
    ['strcontains(missing, "x", true)', {}, null],
  ])('%s on %j → %j', async (expr, row, want) => {
    expect(await ev(expr, row as Row)).toEqual(want);
  });

  it('regexReplace runs catastrophic patterns in linear time', { timeout: 10_000 }, async () => {
    expect(await ev('regexReplace(s, /(a+)+$/, "x")', { s: `${'a'.repeat(40)}b` })).toBe(
      `${'a'.repeat(40)}b`,
    );
  });
});

describe('encoding and hashing functions', () => {
  const sha = (s: string, a: string) => createHash(a).update(s).digest('hex');
  it.each([
    ['urlEncode(s)', { s: 'a b&c=d/é' }, 'a%20b%26c%3Dd%2F%C3%A9'],
    ['urlDecode(s)', { s: 'a%20b+c%26%C3%A9' }, 'a b c&é'],
    ['urlDecode(s)', { s: '%E0%A4%A' }, null],
    ['base64Encode(s)', { s: 'héllo' }, 'aMOpbGxv'],
    ['base64Decode(s)', { s: 'aMOpbGxv' }, 'héllo'],
    ['base64Decode(s)', { s: 'aGk=' }, 'hi'],
    ['base64Decode(s)', { s: 'not base64!' }, null],
    ['hexEncode(s)', { s: 'Hi!' }, '486921'],
    ['hexDecode(s)', { s: '486921' }, 'Hi!'],
    ['hexDecode(s)', { s: '48692' }, null],
    ['hexDecode(s)', { s: 'zz' }, null],
    ['md5(s)', { s: 'hello' }, '5d41402abc4b2a76b9719d911017c592'],
    ['sha256(s)', { s: 'hello' }, sha('hello', 'sha256')],
    ['md5(missing)', {}, null],
    ['sha256(n)', { n: 1 }, sha('1', 'sha256')],
  ])('%s on %j → %j', async (expr, row, want) => {
    expect(await ev(expr, row as Row)).toEqual(want);
  });
});

describe('date formatting and parsing', () => {
  it.each([
    ['strftime(@timestamp, "%Y-%m-%dT%H:%M:%S.%LZ")', {}, '2026-11-22T10:37:42.123Z'],
    ['strftime(@timestamp, "%a %d %b %Y %I:%M %p, day %j")', {}, 'Sun 22 Nov 2026 10:37 AM, day 326'],
    ['strftime(@timestamp, "%F %T %z %s")', {}, `2026-11-22 10:37:42 +0000 ${Math.floor(T / 1000)}`],
    ['formatDate(@timestamp, "yyyy-MM-dd HH:mm:ss.SSS")', {}, '2026-11-22 10:37:42.123'],
    ['formatDate(@timestamp, "EEE, d MMM yyyy \'at\' hh a")', {}, 'Sun, 22 Nov 2026 at 10 AM'],
    ['formatDate(t, "yyyyMMdd")', { t: '2024-02-29T23:59:59Z' }, '20240229'],
    ['formatDate(missing, "yyyy")', {}, null],
    ['formatDate(t, "yyyy")', { t: 'not a date' }, null],
    ['parseDate(s)', { s: '2026-11-22T10:37:42.123Z' }, T],
    ['parseDate(s, "yyyy-MM-dd HH:mm:ss")', { s: '2026-11-22 10:37:42' }, T - 123],
    ['parseDate(s, "dd/MMM/yyyy:HH:mm:ss Z")', { s: '22/Nov/2026:11:37:42 +0100' }, T - 123],
    ['parseDate(s, "%d/%m/%Y %H:%M")', { s: '22/11/2026 10:37' }, Date.UTC(2026, 10, 22, 10, 37)],
    ['parseDate(s, "%s")', { s: '1700000000' }, 1_700_000_000_000],
    ['parseDate(s, "yyyy-MM-dd")', { s: '2026-02-30' }, null],
    ['parseDate(s, "yyyy-MM-dd")', { s: 'yesterday' }, null],
    ['parseDate(missing, "yyyy")', {}, null],
  ])('%s on %j → %j', async (expr, row, want) => {
    expect(await ev(expr, row as Row)).toEqual(want);
  });

  it('parseDate results are shown as times', async () => {
    const r = await compileQuery('fields parseDate(s, "yyyy-MM-dd") as d').execute([
      { '@timestamp': T, s: '2026-01-02' },
    ]);
    expect(r.rows[0].d).toBe(Date.UTC(2026, 0, 2));
    expect(formatValue(r.rows[0].d, true)).toBe('2026-01-02 00:00:00.000');
  });
});

describe('IP functions of the newer reference', () => {
  it.each([
    ['ipv4ToNumber(ip)', { ip: '10.0.0.1' }, 167772161],
    ['ipv4ToNumber(ip)', { ip: '255.255.255.255' }, 4294967295],
    ['ipv4ToNumber(ip)', { ip: '::1' }, null],
    ['ipv4ToNumber(missing)', {}, null],
    ['isPrivateIP(ip)', { ip: '10.1.2.3' }, true],
    ['isPrivateIP(ip)', { ip: '172.31.255.1' }, true],
    ['isPrivateIP(ip)', { ip: '172.32.0.1' }, false],
    ['isPrivateIP(ip)', { ip: '192.168.0.9' }, true],
    ['isPrivateIP(ip)', { ip: 'fd12::1' }, true],
    ['isPrivateIP(ip)', { ip: '::ffff:10.0.0.1' }, true],
    ['isPrivateIP(ip)', { ip: 'nope' }, null],
    ['isPublicIP(ip)', { ip: '8.8.8.8' }, true],
    ['isPublicIP(ip)', { ip: '2600:1f18::1' }, true],
    ['isPublicIP(ip)', { ip: '10.0.0.1' }, false],
    ['isPublicIP(ip)', { ip: '127.0.0.1' }, false],
    ['isReservedIP(ip)', { ip: '127.0.0.1' }, true],
    ['isReservedIP(ip)', { ip: '169.254.169.254' }, true],
    ['isReservedIP(ip)', { ip: '100.64.1.1' }, true],
    ['isReservedIP(ip)', { ip: '224.0.0.251' }, true],
    ['isReservedIP(ip)', { ip: '255.255.255.255' }, true],
    ['isReservedIP(ip)', { ip: '::1' }, true],
    ['isReservedIP(ip)', { ip: 'fe80::1' }, true],
    ['isReservedIP(ip)', { ip: '2001:db8::1' }, true],
    ['isReservedIP(ip)', { ip: '10.0.0.1' }, false],
    ['isReservedIP(ip)', { ip: '8.8.8.8' }, false],
  ])('%s on %j → %j', async (expr, row, want) => {
    expect(await ev(expr, row as Row)).toEqual(want);
  });
});

describe('JSON functions of the newer reference', () => {
  it.each([
    ['jsonArraySize(a)', { a: [1, 2, 3] }, 3],
    ['jsonArraySize(s)', { s: '["x", "y"]' }, 2],
    ['jsonArraySize(s)', { s: '{"a":1}' }, null],
    ['jsonArraySize(s)', { s: 'x' }, null],
    ['jsonArraySize(missing)', {}, null],
    ['jsonArrayContains(a, "get")', { a: ['get', 'list'] }, true],
    ['jsonArrayContains(a, "watch")', { a: ['get', 'list'] }, false],
    ['jsonArrayContains(s, 2)', { s: '[1, 2, 3]' }, true],
    ['jsonArrayContains(s, "2")', { s: '[1, 2, 3]' }, true],
    ['jsonArrayContains(missing, 1)', {}, false],
    ['jsonArrayContains(s, "a")', { s: 'not json' }, false],
    ['jsonArrayContains(s, "a")', { s: '{"a":1}' }, false],
    ['jsonArrayContains(s, "a")', { s: '[]' }, false],
    ['jsonArrayContains(s, "Admin")', { s: '["admin"]' }, false],
  ])('%s on %j → %j', async (expr, row, want) => {
    expect(await ev(expr, row as Row)).toEqual(want);
  });
});

describe('message size and the query window', () => {
  it('messageSize() is the UTF-8 byte size of @message (or of its argument)', async () => {
    expect(await ev('messageSize()', { '@message': 'héllo' })).toBe(6);
    expect(await ev('messageSize(x)', { x: 'abc' })).toBe(3);
    expect(await ev('messageSize()', {})).toBeNull();
  });

  it('queryStartTime()/queryEndTime() are the range the query reads (end defaults to now)', async () => {
    expect(await ev('queryStartTime()', {}, { start: NOW - 3_600_000, end: NOW })).toBe(NOW - 3_600_000);
    expect(await ev('queryEndTime()', {}, { start: NOW - 3_600_000, end: NOW - 60_000 })).toBe(NOW - 60_000);
    expect(await ev('queryEndTime()')).toBe(NOW);
    expect(await ev('queryStartTime()')).toBeNull();
    const r = await compileQuery('filter @timestamp >= queryEndTime() - 1h', { now: NOW }).execute([
      { '@timestamp': NOW - 10 },
      { '@timestamp': NOW - 7_200_000 },
    ]);
    expect(r.rows.length).toBe(1);
  });
});

describe('time-series aggregates', () => {
  const M = 60_000;
  const base = Date.UTC(2026, 0, 1);
  const rows: Row[] = [
    { '@timestamp': base + 0 * M, c: 100, ms: 10 },
    { '@timestamp': base + 1 * M, c: 160, ms: 20 },
    { '@timestamp': base + 4 * M, c: 400, ms: 30 },
    { '@timestamp': base + 5 * M, c: 460, ms: 40, other: 1 },
    { '@timestamp': base + 9 * M, c: 700, ms: 100 },
  ];

  it('count_over_time and sum_over_time per bin', async () => {
    const r = await compileQuery(
      'stats count_over_time(ms) as n, sum_over_time(ms) as total, count_over_time(other) as o by bin(5m) as t | sort t asc',
    ).execute(rows);
    expect(r.rows).toEqual([
      { t: base, n: 3, total: 60, o: 0 },
      { t: base + 5 * M, n: 2, total: 140, o: 1 },
    ]);
  });

  it('rate(field, interval) is the change per interval between the first and last event of the group', async () => {
    const r = await compileQuery(
      'stats rate(c, 1m) as perMin, rate(c, 1s) as perSec by bin(5m) as t | sort t asc',
    ).execute(rows);
    // First bin: 100 → 400 over 4 minutes = 75/min; second: 460 → 700 over 4 minutes = 60/min.
    expect(r.rows).toEqual([
      { t: base, perMin: 75, perSec: 1.25 },
      { t: base + 5 * M, perMin: 60, perSec: 1 },
    ]);
    const one = await compileQuery('stats rate(c, 1m) as r').execute(rows.slice(0, 1));
    expect(one.rows[0].r).toBeNull();
  });

  it('histogram(field, buckets) counts values in equal-width ranges from min to max', async () => {
    const r = await compileQuery('stats histogram(ms, 3) as h').execute(rows);
    expect(r.rows[0].h).toEqual({ '10-40': 3, '40-70': 1, '70-100': 1 });
    const same = await compileQuery('stats histogram(ms, 4) as h').execute([
      { '@timestamp': 1, ms: 5 },
      { '@timestamp': 2, ms: 5 },
    ]);
    expect(same.rows[0].h).toEqual({ '5-5': 2 });
    const none = await compileQuery('stats histogram(ms, 4) as h').execute([{ '@timestamp': 1 }]);
    expect(none.rows[0].h).toBeNull();
  });
});

describe('argument rules', () => {
  it.each([
    ['fields toNumber()', 1, 8, 'toNumber() takes 1 argument(s), got 0'],
    ['fields round(a, 1, 2)', 1, 8, 'round() takes 1 to 2 argument(s), got 3'],
    ['fields case(a)', 1, 8, 'case() takes at least 2 argument(s), got 1'],
    ['fields strcontains(a, "b", true, 1)', 1, 8, 'strcontains() takes 2 to 3 argument(s), got 4'],
    [
      'fields x\n| fields regexReplace(a, b, "c")',
      2,
      10,
      'regexReplace() expects a /regex/ or "string" as its second argument',
    ],
    ['fields regexReplace(a, /(x/, "c")', 1, 8, 'regexReplace(): invalid regular expression'],
    ['fields formatDate(@timestamp, f)', 1, 8, 'formatDate() expects a format "string"'],
    ['fields strftime(@timestamp, "%Q")', 1, 8, "unknown date format directive '%Q'"],
    ['fields formatDate(@timestamp, "yyyy-MM-dd bogus")', 1, 8, "unknown date format letters 'b'"],
    ['stats rate(x, 5) by bin(5m)', 1, 7, 'rate() expects a time period'],
    ['stats histogram(x, 0)', 1, 7, 'histogram() expects a whole number of buckets'],
    ['stats histogram(x)', 1, 7, 'histogram() takes 2 argument(s), got 1'],
    ['fields count_over_time(x)', 1, 8, 'the aggregate count_over_time() can only be used in stats'],
    ['fields queryStartTime(1)', 1, 8, 'queryStartTime() takes 0 argument(s), got 1'],
    ['fields md5()', 1, 8, 'md5() takes 1 argument(s), got 0'],
  ])('%j → line %i, column %i: %s', (q, line, column, msg) => {
    const ps = problemsOf(q);
    const p = ps.find((x) => x.message.includes(msg));
    expect(p, JSON.stringify(ps)).toBeDefined();
    expect([p!.line, p!.column]).toEqual([line, column]);
  });

  it('knows all 87 function names of the reference (none answers "unknown function")', () => {
    // AWS's newest reference, page by page (see "Coverage" in docs/query-language.md).
    const reference: Record<string, string[]> = {
      // CWL_QuerySyntax-operations-functions: numeric operators (13)
      numeric: [
        'abs',
        'ceil',
        'floor',
        'greatest',
        'least',
        'log',
        'round',
        'sqrt',
        'haversine',
        'toNumber',
        'toInt',
        'toLong',
        'toDouble',
      ],
      // … datetime functions (8, and the alias strftime of formatDate)
      datetime: [
        'bin',
        'datefloor',
        'dateceil',
        'fromMillis',
        'toMillis',
        'now',
        'parseDate',
        'formatDate',
        'strftime',
      ],
      // … general functions (9)
      general: [
        'ispresent',
        'coalesce',
        'case',
        'if',
        'isNumeric',
        'messageSize',
        'queryStartTime',
        'queryEndTime',
        'queryTimeRange',
      ],
      // … JSON functions (4)
      json: ['jsonParse', 'jsonStringify', 'jsonArraySize', 'jsonArrayContains'],
      // … IP address string functions (10)
      ip: [
        'isValidIp',
        'isValidIpV4',
        'isValidIpV6',
        'isIpInSubnet',
        'isIpv4InSubnet',
        'isIpv6InSubnet',
        'ipv4ToNumber',
        'isPrivateIP',
        'isPublicIP',
        'isReservedIP',
      ],
      // … string functions (23)
      string: [
        'isempty',
        'isblank',
        'concat',
        'ltrim',
        'rtrim',
        'trim',
        'strlen',
        'toupper',
        'tolower',
        'substr',
        'replace',
        'regexReplace',
        'strcontains',
        'startsWith',
        'endsWith',
        'urlencode',
        'urldecode',
        'base64encode',
        'base64decode',
        'split',
        'hexToAscii',
        'hexToDec',
        'decToHex',
      ],
      // CWL_QuerySyntax-hash-functions (2)
      hash: ['md5', 'sha256'],
      // CWL_QuerySyntax-Stats: aggregation (8) and non-aggregation (4) functions
      stats: [
        'avg',
        'count',
        'count_distinct',
        'max',
        'min',
        'pct',
        'stddev',
        'sum',
        'earliest',
        'latest',
        'sortsFirst',
        'sortsLast',
      ],
      // CWL_QuerySyntax-timeseries-functions (4)
      timeseries: ['rate', 'count_over_time', 'sum_over_time', 'histogram'],
      // CWL_QuerySyntax-Unmask: unmask(@message) is written as a function
      unmask: ['unmask'],
    };
    const all = Object.values(reference).flat();
    expect(all.length).toBe(87);
    expect(new Set(all.map((n) => n.toLowerCase())).size).toBe(87);
    const known = new Set(FUNCTION_NAMES);
    expect(all.filter((n) => !known.has(n.toLowerCase()))).toEqual([]);
    // logferry's names beyond the reference (kept; marked as extensions in the docs).
    const reference87 = new Set(all.map((n) => n.toLowerCase()));
    expect(FUNCTION_NAMES.filter((n) => !reference87.has(n))).toEqual(['tostring', 'hexencode', 'hexdecode']);
  });
});

describe('the functions of the newest reference that were missing', () => {
  it.each([
    // numeric and conversion
    ['haversine(48.8566, 2.3522, 51.5074, -0.1278)', {}, 343.557],
    ['haversine(0, 0, 0, 180)', {}, 20015.114],
    ['haversine(lat, 0, 0, 0)', { lat: '90' }, 10007.557],
    ['toInt(s)', { s: '42.9' }, 42],
    ['toInt(n)', { n: -2.7 }, -2],
    ['toInt(n)', { n: 2147483647 }, 2147483647],
    ['toLong(s)', { s: '9007199254740991' }, 9007199254740991],
    ['toLong(n)', { n: -3.9 }, -3],
    ['toDouble(s)', { s: '3.5' }, 3.5],
    ['toDouble(b)', { b: true }, 1],
    // hex strings
    ['hexToAscii("48656c6c6f")', {}, 'Hello'],
    ['hexToAscii(s)', { s: '0x4869' }, 'Hi'],
    ['hexToDec("0xff")', {}, 255],
    ['hexToDec(s)', { s: 'FF' }, 255],
    ['hexToDec(s)', { s: '-0x10' }, -16],
    ['decToHex(255)', {}, '0xff'],
    ['decToHex(n)', { n: -255 }, '-0xff'],
    ['decToHex(n)', { n: 255.9 }, '0xff'],
    ['decToHex(n)', { n: 0 }, '0x0'],
  ])('%s on %j → %j', async (expr, row, want) => {
    const got = await ev(expr, row as Row);
    if (typeof want === 'number' && !Number.isInteger(want)) expect(got).toBeCloseTo(want, 2);
    else expect(got).toEqual(want);
  });

  it.each([
    ['haversine(a, 0, 0, 0)', { a: 'north' }],
    ['haversine(91, 0, 0, 0)', {}],
    ['haversine(missing, 0, 0, 0)', {}],
    ['toInt(s)', { s: '2147483648' }],
    ['toInt(s)', { s: 'x' }],
    ['toLong(s)', { s: '1e19' }],
    ['toDouble(missing)', {}],
    ['hexToAscii(s)', { s: '4g' }],
    ['hexToAscii(s)', { s: '486' }],
    ['hexToDec(s)', { s: 'zz' }],
    ['hexToDec(missing)', {}],
    ['decToHex(s)', { s: 'x' }],
    ['decToHex(missing)', {}],
  ])('%s on %j → null', async (expr, row) => {
    expect(await ev(expr, row as Row)).toBeNull();
  });

  it('queryTimeRange() is the query window in ms, null without a start', async () => {
    expect(await ev('queryTimeRange()', {}, { start: NOW - 3_600_000, end: NOW })).toBe(3_600_000);
    expect(await ev('queryTimeRange()', {}, { start: NOW - 60_000 })).toBe(60_000);
    expect(await ev('queryTimeRange()')).toBeNull();
  });

  it('case() takes up to 10 branches, as documented', async () => {
    const branches = (n: number) => Array.from({ length: n }, (_, i) => `x = ${i}, "b${i}"`).join(', ');
    expect(await ev(`case(${branches(10)}, "other")`, { x: 9 })).toBe('b9');
    const ps = problemsOf(`fields case(${branches(11)}) as v`);
    expect(ps.map((p) => [p.line, p.column, p.message])).toEqual([
      [1, 8, 'case() supports up to 10 branches (condition, value pairs), got 11'],
    ]);
  });

  it('filter jsonArrayContains(@roles, "admin") keeps the events whose array holds the value (AWS\'s example)', async () => {
    const rows = ['["admin","dev"]', '["dev"]', 'admin', '[]'].map((r, i) => ({
      '@timestamp': i,
      '@roles': r,
    }));
    const r = await compileQuery('fields @roles | filter jsonArrayContains(@roles, "admin")').execute(rows);
    expect(r.rows.map((x) => x['@roles'])).toEqual(['["admin","dev"]']);
  });
});

describe('time zones in parseDate, formatDate and strftime (third argument)', () => {
  it.each([
    ['formatDate(@timestamp, "%Y-%m-%d", "UTC")', {}, '2026-11-22'],
    ['formatDate(@timestamp, "%Y-%m-%d %H:%M %z", "America/New_York")', {}, '2026-11-22 05:37 -0500'],
    ['strftime(@timestamp, "%H:%M %Z", "Asia/Kolkata")', {}, '16:07 Asia/Kolkata'],
    ['formatDate(@timestamp, "HH:mm", "+05:30")', {}, '16:07'],
    ['formatDate(@timestamp, "yyyy-MM-dd HH:mm", "Pacific/Kiritimati")', {}, '2026-11-23 00:37'],
    ['formatDate(t, "%H:%M %z", "Europe/Paris")', { t: Date.UTC(2026, 6, 1, 10) }, '12:00 +0200'],
    ['parseDate(s, "yyyy-MM-dd", "UTC")', { s: '2026-11-22' }, Date.UTC(2026, 10, 22)],
    [
      'parseDate(s, "yyyy-MM-dd HH:mm:ss", "Europe/Paris")',
      { s: '2026-07-01 12:00:00' },
      Date.UTC(2026, 6, 1, 10),
    ],
    ['parseDate(s, "yyyy-MM-dd HH:mm:ss", "Europe/Paris")', { s: '2026-11-22 11:37:42' }, T - 123],
    ['parseDate(s, "%d/%m/%Y %H:%M", "-08:00")', { s: '22/11/2026 02:37' }, Date.UTC(2026, 10, 22, 10, 37)],
    // An offset in the text wins over the zone argument.
    [
      'parseDate(s, "dd/MMM/yyyy:HH:mm:ss Z", "America/New_York")',
      { s: '22/Nov/2026:11:37:42 +0100' },
      T - 123,
    ],
    ['formatDate(missing, "%Y", "UTC")', {}, null],
  ])('%s on %j → %j', async (expr, row, want) => {
    expect(await ev(expr, row as Row)).toEqual(want);
  });

  it.each([
    ['fields formatDate(@timestamp, "%Y", "Mars/Olympus")', 1, 8, "unknown time zone 'Mars/Olympus'"],
    ['fields strftime(@timestamp, "%Y", tz)', 1, 8, 'strftime() expects a time zone "string"'],
    ['fields parseDate(s, "yyyy", "+19:00")', 1, 8, "time zone offset '+19:00' is beyond"],
    ['fields formatDate(@timestamp, "%Y", "UTC", 1)', 1, 8, 'formatDate() takes 2 to 3 argument(s), got 4'],
  ])('%j → line %i, column %i: %s', (q, line, column, msg) => {
    const ps = problemsOf(q);
    const p = ps.find((x) => x.message.includes(msg));
    expect(p, JSON.stringify(ps)).toBeDefined();
    expect([p!.line, p!.column]).toEqual([line, column]);
  });
});

describe('booleans display as 1/0, as Logs Insights shows them', () => {
  it('formats computed true/false as 1 and 0 in tables, CSV and JSON', async () => {
    const r = await compileQuery('fields isempty(a) as e, ispresent(a) as p, a = "x" as eq').execute([
      { '@timestamp': 1, a: 'x' },
    ]);
    const row = r.rows[0];
    expect([formatValue(row.e, false), formatValue(row.p, false), formatValue(row.eq, false)]).toEqual([
      '0',
      '1',
      '1',
    ]);
  });
});

describe('tag fields', () => {
  it('@`aws.tag.team` reads the field @aws.tag.team in fields, filter and stats', async () => {
    const rows = [
      { '@timestamp': 1, '@aws.tag.team': 'core' },
      { '@timestamp': 2, '@aws.tag.team': 'core' },
      { '@timestamp': 3, '@aws.tag.team': 'edge' },
    ];
    const r = await compileQuery(
      'filter @`aws.tag.team` != "edge" | stats count(*) as n by @`aws.tag.team`',
    ).execute(rows);
    expect(r.rows).toEqual([{ '@aws.tag.team': 'core', n: 2 }]);
  });
});

describe("AWS's documented examples give the documented results", () => {
  it.each([
    ['ltrim("xyZfooxyZ", "xyZ")', 'fooxyZ'],
    ['rtrim("xyZfooxyZ", "xyZ")', 'xyZfoo'],
    ['trim("xyZfooxyZ", "xyZ")', 'foo'],
    ['substr("xyZfooxyZ", 3, 3)', 'foo'],
    ['replace("foo", "o", "0")', 'f00'],
    ['strcontains("foo", "oo")', 1],
    ['2 ^ 3', 8],
    ['10 % 3', 1],
    ['strlen("a😀b")', 3],
  ])('%s → %j', async (expr, want) => {
    expect(await ev(expr)).toEqual(want);
  });

  it('filter f1 =~ /^(?i)Exception$/ matches exactly the word, in any case', async () => {
    const rows = ['Exception', 'EXCEPTION', 'an exception', 'exceptions'].map((f1, i) => ({
      '@timestamp': i,
      f1,
    }));
    const r = await compileQuery('fields f1 | filter f1 =~ /^(?i)Exception$/ | sort @timestamp asc').execute(
      rows,
    );
    expect(r.rows.map((x) => x.f1)).toEqual(['Exception', 'EXCEPTION']);
    const like = await compileQuery('fields f1 | filter f1 like /(?i)Exception/').execute(rows);
    expect(like.rows.length).toBe(4);
  });

  it('filter statusCode like /2\\d\\d/ keeps the 2xx codes', async () => {
    const rows = [200, 204, 302, 404, 299].map((statusCode, i) => ({ '@timestamp': i, statusCode }));
    const r = await compileQuery(
      'fields statusCode | filter statusCode like /2\\d\\d/ | sort @timestamp asc',
    ).execute(rows);
    expect(r.rows.map((x) => x.statusCode)).toEqual([200, 204, 299]);
  });
});

describe('booleans in JSON and CSV output', () => {
  it('displayRows turns true/false into 1/0 and keeps other values', async () => {
    const { displayRows } = await import('../render/format.js');
    const rows = displayRows(['a', 'b', 'c'], [{ a: true, b: false, c: 'true' }], new Set());
    expect(rows).toEqual([{ a: 1, b: 0, c: 'true' }]);
  });
});

describe("bin(), datefloor(), dateceil(): AWS's per-unit period caps", () => {
  // "The cap for ms is 1000, the caps for s and m are 60, and the cap for h is 24" — Logs Insights
  // silently clamps (bin(300s) runs as 60s); logferry refuses with line and column instead.
  it.each([
    [
      'stats count(*) by bin(300s)',
      1,
      23,
      "bin(): the period 300s is over Logs Insights' cap of 60s",
      'write 5m instead',
    ],
    ['stats count(*) by bin(90s)', 1, 23, 'cap of 60s', 'write it in a larger unit'],
    ['stats count(*) by bin(2000ms)', 1, 23, 'cap of 1000ms', 'write 2s instead'],
    ['stats count(*) by bin(1001ms)', 1, 23, 'cap of 1000ms', 'write it in a larger unit'],
    ['stats count(*) by bin(120m)', 1, 23, 'cap of 60m', 'write 2h instead'],
    ['stats count(*) by bin(48h)', 1, 23, 'cap of 24h', 'write 2d instead'],
    ['stats count(*) by bin(36h)', 1, 23, 'cap of 24h', 'write it in a larger unit'],
    [
      'fields x\n| fields datefloor(@timestamp, 90min) as t',
      2,
      32,
      'datefloor(): the period 90min',
      'cap of 60m',
    ],
    [
      'fields dateceil(@timestamp, 3600secs) as t',
      1,
      29,
      'dateceil(): the period 3600secs',
      'write 1h instead',
    ],
  ])('%j → line %i, column %i', (q, line, column, msg, hint) => {
    const ps = problemsOf(q);
    const p = ps.find((x) => x.message.includes(msg));
    expect(p, JSON.stringify(ps)).toBeDefined();
    expect(p!.message).toContain(hint);
    expect([p!.line, p!.column]).toEqual([line, column]);
  });

  it('reports every over-cap period of a query at once', () => {
    const ps = problemsOf(
      'fields datefloor(@timestamp, 61m) as a, dateceil(@timestamp, 25h) as b | stats count(*) by bin(61s)',
    );
    expect(ps.map((p) => p.message.match(/the period (\S+)/)?.[1])).toEqual(['61m', '25h', '61s']);
  });

  it('periods at the cap, and units without a documented cap, are accepted', async () => {
    expect(await ev('bin(1000ms)')).toBe(Math.floor(T / 1000) * 1000);
    expect(await ev('bin(60s)')).toBe(Date.UTC(2026, 10, 22, 10, 37, 0));
    expect(await ev('bin(60m)')).toBe(Date.UTC(2026, 10, 22, 10, 0, 0));
    expect(await ev('bin(24h)')).toBe(Date.UTC(2026, 10, 22));
    expect(await ev('bin(7m)')).toBe(Math.floor(T / 420_000) * 420_000);
    expect(await ev('datefloor(@timestamp, 400d)')).toBe(
      Math.floor(T / (400 * 86_400_000)) * 400 * 86_400_000,
    );
    expect(await ev('dateceil(@timestamp, 14mo)')).toBeGreaterThan(T);
  });
});

describe('docs/query-language.md lists every function and command the engine knows', () => {
  it('each function name is in the Functions reference and each command in a Commands table', async () => {
    const { readFileSync } = await import('node:fs');
    const { COMMANDS } = await import('../parser.js');
    const doc = readFileSync(new URL('../../../docs/query-language.md', import.meta.url), 'utf8');
    const section = (title: string) => {
      const at = doc.indexOf(`\n## ${title}`);
      expect(at, title).toBeGreaterThan(-1);
      const end = doc.indexOf('\n## ', at + 4);
      return (end < 0 ? doc.slice(at) : doc.slice(at, end)).toLowerCase();
    };
    const fns = section('Functions reference');
    // The core commands are in "Commands", the rest in "Commands reference".
    const cmds = section('Commands\n') + section('Commands reference');
    const named = (text: string, name: string) => new RegExp('`' + name.toLowerCase() + '[(` ]').test(text);
    expect(FUNCTION_NAMES.filter((n) => !named(fns, n))).toEqual([]);
    expect(COMMANDS.filter((c) => !named(cmds, c))).toEqual([]);
  });
});
