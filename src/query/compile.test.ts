import { describe, expect, it } from 'vitest';
import { isLogferryError } from '../core/errors.js';
import { compileQuery } from './compile.js';
import type { Row } from './types.js';

async function run(q: string, rows: Iterable<Row>) {
  return compileQuery(q).execute(rows);
}

const base = Date.UTC(2026, 10, 22, 10, 0, 0);
const rows: Row[] = [
  {
    '@timestamp': base + 1000,
    '@message': 'GET /a 200 12ms',
    '@logStream': 's1',
    status: 200,
    ms: 12,
    path: '/a',
  },
  {
    '@timestamp': base + 3000,
    '@message': 'GET /b 500 80ms',
    '@logStream': 's2',
    status: 500,
    ms: 80,
    path: '/b',
  },
  {
    '@timestamp': base + 2000,
    '@message': 'POST /a 201 30ms',
    '@logStream': 's1',
    status: '201',
    ms: 30,
    path: '/a',
  },
  { '@timestamp': base + 4000, '@message': 'no fields here', '@logStream': 's3' },
];

describe('defaults', () => {
  it('shows @timestamp and @message, newest first, when nothing else is said', async () => {
    const r = await run('filter ispresent(@message)', rows);
    expect(r.fields).toEqual(['@timestamp', '@message']);
    expect(r.rows.map((x) => x['@timestamp'])).toEqual([base + 4000, base + 3000, base + 2000, base + 1000]);
    expect(r.stats).toEqual({ recordsScanned: 4, recordsMatched: 4 });
  });

  it('caps results at 10,000 rows unless limit says otherwise (keeping the newest)', async () => {
    const many = Array.from({ length: 12_000 }, (_, i) => ({ '@timestamp': i, '@message': `m${i}` }));
    const r = await run('fields @timestamp', many);
    expect(r.rows.length).toBe(10_000);
    expect(r.rows[0]['@timestamp']).toBe(11_999);
    expect(r.rows.at(-1)!['@timestamp']).toBe(2000);
    const r2 = await run('fields @timestamp | limit 11000', many);
    expect(r2.rows.length).toBe(11_000);
    const r3 = await run('stats count(*) by @timestamp', many);
    expect(r3.rows.length).toBe(10_000);
  });

  it('applies limit to the newest rows when the query does not sort', async () => {
    const r = await run('fields path | limit 2', rows);
    expect(r.rows.map((x) => x.path)).toEqual([null, '/b']);
  });

  it('takes the newest events for a limit or stats that comes before any sort', async () => {
    const r = await run('limit 2 | sort ms asc | fields ms', rows);
    expect(r.rows.map((x) => x.ms)).toEqual([80, null]);
    const s = await run('limit 2 | stats count(*) as n by @logStream | sort n desc', rows);
    // Groups in first-seen order (newest first), kept by the stable sort on equal counts.
    expect(s.rows).toEqual([
      { '@logStream': 's3', n: 1 },
      { '@logStream': 's2', n: 1 },
    ]);
  });

  it('normalises ISO @timestamp strings to epoch ms', async () => {
    const r = await run('fields @timestamp', [
      { '@timestamp': '2026-11-22T10:00:00.500Z' },
      { '@timestamp': '2026-11-22 10:00:01.000' },
    ]);
    expect(r.rows.map((x) => x['@timestamp'])).toEqual([base + 1000, base + 500]);
  });
});

describe('fields and display', () => {
  it('accumulates fields across commands and lets display choose the columns', async () => {
    const r = await run('fields path | fields status, ms * 2 as double | sort double desc', rows);
    expect(r.fields).toEqual(['path', 'status', 'double']);
    expect(r.rows[0]).toEqual({ path: '/b', status: 500, double: 160 });
    const d = await run('fields path, status | display status', rows);
    expect(d.fields).toEqual(['status']);
  });

  it('keeps unlisted fields available to later commands', async () => {
    const r = await run('fields @timestamp | filter status = 500', rows);
    expect(r.rows).toEqual([{ '@timestamp': base + 3000 }]);
  });

  it('does not mutate input rows', async () => {
    const input = [{ '@timestamp': '2026-11-22T10:00:00Z', a: 1 }];
    await run('fields a + 1 as a', input);
    expect(input).toEqual([{ '@timestamp': '2026-11-22T10:00:00Z', a: 1 }]);
  });
});

describe('filter semantics', () => {
  it.each([
    ['filter status = 200', ['/a']],
    ['filter status == "200"', ['/a']],
    ['filter status = 201', ['/a']],
    ['filter status != 200', ['/b', '/a']],
    ['filter status > 200', ['/b', '/a']],
    ['filter status >= "201"', ['/b', '/a']],
    ['filter ms < 30 or ms > 50', ['/b', '/a']],
    ['filter ms >= 30 and path = "/a"', ['/a']],
    ['filter not (status = 200)', [null, '/b', '/a']],
    ['filter status in [200, 500]', ['/b', '/a']],
    ['filter status in ["201"]', ['/a']],
    ['filter status not in [200, 500]', ['/a']],
    ['filter path like "/a"', ['/a', '/a']],
    ['filter @message like "get"', []],
    ['filter @message like /get/i', ['/b', '/a']],
    ['filter @message like /(?i)post/', ['/a']],
    ['filter @message =~ /^GET/', ['/b', '/a']],
    ['filter @message not like /^GET/', [null, '/a']],
    ['filter path like /^\\/[ab]$/ and status < 300', ['/a', '/a']],
    ['filter strcontains(@message, "ms")', ['/b', '/a', '/a']],
    ['filter ispresent(status) and not isblank(path)', ['/b', '/a', '/a']],
    ['filter missing = 1', []],
    ['filter missing != 1', []],
    ['filter missing not in [1]', []],
    ['filter missing not like "x"', []],
  ])('%s', async (q, want) => {
    const r = await run(`${q} | fields path`, rows);
    expect(r.rows.map((x) => x.path)).toEqual(want);
  });
});

describe('sort, limit, dedup', () => {
  it('sorts by several keys with missing values last in both directions', async () => {
    const asc = await run('fields path, ms | sort path asc, ms desc', rows);
    expect(asc.rows.map((x) => [x.path, x.ms])).toEqual([
      ['/a', 30],
      ['/a', 12],
      ['/b', 80],
      [null, null],
    ]);
    const desc = await run('fields ms | sort ms desc', rows);
    expect(desc.rows.map((x) => x.ms)).toEqual([80, 30, 12, null]);
  });

  it('uses the documented natural order: non-numbers first, digit runs by length', async () => {
    const vals = ['a12345hfh', '0', '5A', '111A', 'A', '@', '2345_', '1', '*%04', 'A9876fghj'];
    const r = await run(
      'fields v | sort v asc',
      vals.map((v, i) => ({ '@timestamp': i, v })),
    );
    expect(r.rows.map((x) => x.v)).toEqual([
      '*%04',
      '5A',
      '111A',
      '2345_',
      '@',
      'A',
      'A9876fghj',
      'a12345hfh',
      '0',
      '1',
    ]);
  });

  it('sort then limit keeps the top n (bounded heap) in order, stable for ties', async () => {
    const data = Array.from({ length: 1000 }, (_, i) => ({ '@timestamp': i, k: i % 10, i }));
    const r = await run('fields k, i | sort k desc | limit 3', data);
    expect(r.rows).toEqual([
      { k: 9, i: 9 },
      { k: 9, i: 19 },
      { k: 9, i: 29 },
    ]);
  });

  it('dedup keeps the first row per value after sorting; rows missing the field are kept', async () => {
    const r = await run('fields path, ms | sort ms desc | dedup path', rows);
    expect(r.rows).toEqual([
      { path: '/b', ms: 80 },
      { path: '/a', ms: 30 },
      { path: null, ms: null },
    ]);
  });

  it('reads all input before a limit when sorting (explicitly or newest-first by default)', async () => {
    let pulled = 0;
    function* gen() {
      for (let i = 0; i < 1_000_000; i++) {
        pulled++;
        yield { '@timestamp': i, n: i };
      }
    }
    const r = await run('fields n | sort n asc | limit 2 | limit 1', gen());
    expect(r.rows).toEqual([{ n: 0 }]);
    expect(pulled).toBe(1_000_000);
    pulled = 0;
    const q = compileQuery('fields n | limit 1');
    expect((await q.execute(gen())).rows).toEqual([{ n: 999_999 }]);
    expect(pulled).toBe(1_000_000);
  });
});

describe('parse', () => {
  it('extracts with a glob (lazy stars, trailing star takes the rest)', async () => {
    const r = await run(
      "parse @message '* * * *ms' as method, url, code, took | filter method = 'GET' | fields url, code, took | sort took desc",
      rows,
    );
    expect(r.rows).toEqual([
      { url: '/b', code: '500', took: '80' },
      { url: '/a', code: '200', took: '12' },
    ]);
    const tail = await run("parse @message '[*] *' as level, msg | fields level, msg", [
      { '@timestamp': 1, '@message': 'x [ERROR] disk [full] now' },
    ]);
    expect(tail.rows).toEqual([{ level: 'ERROR', msg: 'disk [full] now' }]);
  });

  it('extracts with a regex and named groups; non-matching rows keep going without the fields', async () => {
    const r = await run(
      'parse @message /(?<method>[A-Z]+) (?<url>\\S+) (?<code>\\d{3})/ | stats count(*) as n by method | sort n desc',
      rows,
    );
    expect(r.rows).toEqual([
      { method: 'GET', n: 2 },
      { method: 'POST', n: 1 },
      { method: null, n: 1 },
    ]);
  });

  it('parses other fields than @message and compares captured numbers numerically', async () => {
    const r = await run("parse path '/*' as p | filter p = 'a' | fields p", rows);
    expect(r.rows).toEqual([{ p: 'a' }, { p: 'a' }]);
    const n = await run("parse @message '* * * *ms' as m, u, c, t | filter t > 20 | fields t", rows);
    expect(n.rows.map((x) => x.t)).toEqual(['80', '30']);
  });
});

describe('stats', () => {
  it('groups by several keys with aliases; by-columns come first', async () => {
    const r = await run(
      'stats count(*) as n, avg(ms) as avgMs by @logStream as stream, path | sort n desc, stream',
      rows,
    );
    expect(r.fields).toEqual(['stream', 'path', 'n', 'avgMs']);
    expect(r.rows).toEqual([
      { stream: 's1', path: '/a', n: 2, avgMs: 21 },
      { stream: 's2', path: '/b', n: 1, avgMs: 80 },
      { stream: 's3', path: null, n: 1, avgMs: null },
    ]);
  });

  it('bins time (newest bin first) and reports binMs', async () => {
    const q = compileQuery('stats count(*) by bin(2s)');
    expect(q.binMs).toBe(2000);
    expect(q.aggregates).toBe(true);
    const r = await q.execute(rows);
    expect(r.fields).toEqual(['bin(2s)', 'count(*)']);
    expect(r.timeFields).toEqual(['bin(2s)']);
    expect(r.rows).toEqual([
      { 'bin(2s)': base + 4000, 'count(*)': 1 },
      { 'bin(2s)': base + 2000, 'count(*)': 2 },
      { 'bin(2s)': base, 'count(*)': 1 },
    ]);
  });

  it('runs a second stats over the first one’s results', async () => {
    const r = await run(
      'stats count(*) as n by @logStream | stats avg(n) as avgPerStream, max(n) as most',
      rows,
    );
    expect(r.rows).toEqual([{ avgPerStream: 4 / 3, most: 2 }]);
  });

  it('lets later commands use stats columns, also by their function text', async () => {
    const r = await run('stats count(*) by path | sort count(*) desc | filter count(*) > 1', rows);
    expect(r.rows).toEqual([{ path: '/a', 'count(*)': 2 }]);
  });

  it('names a stats column by its expression however spelled, group keys such as bin(1h) too', async () => {
    // Regression: `sort bin(1h)` recomputed bin() on the grouped rows (no @timestamp: all null, so
    // the sort did nothing), and `COUNT(*)` vs `count( * )` did not name the same column.
    const up = await run('stats count(*) by bin(1s) | sort bin(1s) asc', rows);
    expect(up.rows.map((x) => x['bin(1s)'])).toEqual([base + 1000, base + 2000, base + 3000, base + 4000]);
    const aliased = await run('stats count(*) as n by bin(1s) as t | sort bin(1s) desc | limit 1', rows);
    expect(aliased.rows).toEqual([{ t: base + 4000, n: 1 }]);
    const cased = await run('stats COUNT( * ) by path | sort count(*) desc | filter Count(*) > 1', rows);
    expect(cased.rows).toEqual([{ path: '/a', 'COUNT( * )': 2 }]);
    const keyed = await run('stats count(*) as n by tolower(path) | sort TOLOWER(path) desc', rows);
    expect(keyed.rows.map((x) => x['tolower(path)'])).toEqual(['/b', '/a', null]);
  });

  it('gives one row with zero counts over no input', async () => {
    const r = await run('filter status = 999 | stats count(*) as n, sum(ms) as s', rows);
    expect(r.rows).toEqual([{ n: 0, s: null }]);
  });

  it('applies fields and filter after stats to the grouped rows', async () => {
    const r = await run(
      'stats sum(ms) as total by path | fields total / 1000 as secs | filter secs > 0.05',
      rows,
    );
    expect(r.fields).toEqual(['path', 'total', 'secs']);
    expect(r.rows).toEqual([{ path: '/b', total: 80, secs: 0.08 }]);
  });
});

describe('unnest', () => {
  it('makes one row per list element; a map, string or number is a one-item list; missing or [] gives none', async () => {
    const data = [
      { '@timestamp': 5, tags: ['a', 'b'] },
      { '@timestamp': 4, tags: '["c"]' },
      { '@timestamp': 3, tags: 'x' },
      { '@timestamp': 2, tags: 7 },
      { '@timestamp': 1, tags: { k: 'v' } },
      { '@timestamp': 0, tags: [] },
      { '@timestamp': -1 },
    ];
    const r = await run('unnest tags into tag | fields @timestamp, tag | sort @timestamp desc', data);
    expect(r.rows).toEqual([
      { '@timestamp': 5, tag: 'a' },
      { '@timestamp': 5, tag: 'b' },
      { '@timestamp': 4, tag: 'c' },
      { '@timestamp': 3, tag: 'x' },
      { '@timestamp': 2, tag: 7 },
      { '@timestamp': 1, tag: { k: 'v' } },
    ]);
  });
});

describe('nested fields', () => {
  const doc = {
    '@timestamp': 1,
    'a.b': 'flat',
    a: { b: 'nested', c: { d: [10, { e: 'deep' }] } },
    labels: { 'app.kubernetes.io/name': 'web' },
  };
  it.each([
    ['a.b', 'flat'],
    ['a.c.d.0', 10],
    ['a.c.d.1.e', 'deep'],
    ['a.c.d[1].e', 'deep'],
    ['`labels`.`app.kubernetes.io/name`', 'web'],
    ['a.c.x', null],
    ['a.b.c', null],
  ])('%s → %j', async (f, want) => {
    const r = await run(`fields ${f} as v`, [doc]);
    expect(r.rows[0].v).toEqual(want);
  });
});

describe('lambda discovered fields', () => {
  it('derives @duration etc. from REPORT lines when the archive did not store them', async () => {
    const lines = [
      'START RequestId: 8f5a Version: $LATEST',
      'REPORT RequestId: 8f5a\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tInit Duration: 150.1 ms',
      'REPORT RequestId: 9a1b\tDuration: 20.5 ms\tBilled Duration: 21 ms\tMemory Size: 128 MB\tMax Memory Used: 71 MB',
      'END RequestId: 8f5a',
    ].map((m, i) => ({ '@timestamp': i, '@message': m }));
    const q = compileQuery(
      'filter @type = "REPORT" | stats count(*) as n, max(@duration) as maxD, count(@initDuration) as cold, max(@maxMemoryUsed) as mem',
    );
    expect(q.referencedFields).toContain('@message');
    expect((await q.execute(lines)).rows).toEqual([{ n: 2, maxD: 102.25, cold: 1, mem: 71_000_000 }]);
  });

  it('derives @requestId from runtime lines, and nothing from other lines or JSON that looks like a failure', async () => {
    const r = await run('filter ispresent(@requestId) | stats count(*) as n by @requestId', [
      { '@timestamp': 1, '@message': '2026-11-22T10:00:00.000Z\tc0ffee00-1111\tINFO\torder placed' },
      { '@timestamp': 2, '@message': 'END RequestId: c0ffee00-1111' },
      { '@timestamp': 3, '@message': 'plain print' },
      { '@timestamp': 4, '@message': '{"error":"boom"}' },
    ]);
    expect(r.rows).toEqual([{ '@requestId': 'c0ffee00-1111', n: 2 }]);
  });

  it('prefers stored fields over derived ones', async () => {
    const r = await run('fields @duration', [
      { '@timestamp': 1, '@message': 'REPORT RequestId: x\tDuration: 1 ms', '@duration': 5 },
    ]);
    expect(r.rows).toEqual([{ '@duration': 5 }]);
  });
});

describe('reader-facing facts', () => {
  it('lists push-down filters that read only raw fields, before any stateful command', () => {
    const q = compileQuery(
      "filter @logStream like /^kube/ | parse @message 'u=*' as user | filter user = 'x' | fields verb | sort @timestamp desc | filter verb = 'get' | stats count(*) | filter 1 = 1",
    );
    expect(q.pushdownFilters.map((e) => e.span.start.column)).toEqual([8, 129]);
    expect(q.aggregates).toBe(true);
  });

  it('reports the fields a query reads', () => {
    expect(
      [...(compileQuery('fields a, b.c | filter d = 1 | sort e').referencedFields as Set<string>)].sort(),
    ).toEqual(['@timestamp', 'a', 'b.c', 'd', 'e'].sort());
    const s = compileQuery("parse @message 'x=*' as x | stats count(*) by x, bin(1m)")
      .referencedFields as Set<string>;
    expect([...s].sort()).toEqual(['@message', '@timestamp']);
    expect([...(compileQuery('filter a = 1').referencedFields as Set<string>)].sort()).toEqual([
      '@message',
      '@timestamp',
      'a',
    ]);
  });

  it('rowStage and finish together give what execute gives (parallel scan contract)', async () => {
    const q = compileQuery('filter status >= 200 | fields path, ms | sort ms desc | limit 2');
    const staged = rows.map((r) => q.rowStage(r)).filter((r): r is Row => r !== null);
    expect(staged.length).toBe(3);
    const viaFinish = await q.finish(staged);
    const direct = await q.execute(rows);
    expect(viaFinish.rows).toEqual(direct.rows);
    expect(viaFinish.rows).toEqual([
      { path: '/b', ms: 80 },
      { path: '/a', ms: 30 },
    ]);
    expect(JSON.parse(JSON.stringify(staged))).toEqual(staged);
  });

  it('accepts async iterables and honours an abort signal', async () => {
    async function* gen() {
      for (const r of rows) yield r;
    }
    expect((await compileQuery('stats count(*) as n').execute(gen())).rows).toEqual([{ n: 4 }]);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(compileQuery('fields a').execute(rows, { signal: ac.signal })).rejects.toThrow('stop');
    const ac2 = new AbortController();
    const endless = (function* () {
      for (let i = 0; ; i++) yield { '@timestamp': i };
    })();
    setTimeout(() => ac2.abort(), 20);
    await expect(
      compileQuery('stats count(*)').execute(endless, { signal: ac2.signal }),
    ).rejects.toBeDefined();
  });

  it('rowStage returns the very same row when nothing is written (no copy), null when filtered out', () => {
    const q = compileQuery('filter status >= 200 | fields path | display path');
    expect(q.rowStage(rows[0])).toBe(rows[0]);
    expect(q.rowStage(rows[3])).toBeNull();
    const iso = { '@timestamp': '2026-11-22T10:00:00Z', status: 200 };
    expect(q.rowStage(iso)).toEqual({ '@timestamp': base, status: 200 });
  });

  it('reports problems found only while compiling a hand-built AST in the same format', () => {
    const ast = compileQuery('filter a = 1').ast;
    const bad = structuredClone(ast);
    const f = bad.commands[0];
    if (f.kind !== 'filter') throw new Error('fixture');
    f.expr = { kind: 'call', name: 'nosuch', rawName: 'nosuch', args: [], span: f.expr.span };
    try {
      compileQuery(bad);
      expect.unreachable();
    } catch (e) {
      expect(isLogferryError(e, 'QUERY_SYNTAX')).toBe(true);
      expect((e as Error).message).toContain("line 1, column 1: unknown function 'nosuch'");
    }
  });

  it('compiles from an AST too and rejects bad text with QUERY_SYNTAX', async () => {
    const q1 = compileQuery('fields a');
    const q2 = compileQuery(q1.ast);
    expect((await q2.execute([{ '@timestamp': 1, a: 1 }])).rows).toEqual([{ a: 1 }]);
    try {
      compileQuery('fields (');
      expect.unreachable();
    } catch (e) {
      expect(isLogferryError(e, 'QUERY_SYNTAX')).toBe(true);
    }
  });
});
