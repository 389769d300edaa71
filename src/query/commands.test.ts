/**
 * The commands of the newest Logs Insights reference beyond the core: each page's example run as
 * written with the result the page states (or that follows from its wording), then realistic EKS,
 * Lambda and ECS queries whose answers were derived by hand, then parse errors with line/column.
 * Pages: CWL_QuerySyntax-{Limit,Parse,Unnest,Fillmissing,Filldown,Addtotals,Accum,Autoregress,
 * Outlier,Sessionize,CountFrequent,Expand,Source,FilterIndex}.
 */
import { describe, expect, it } from 'vitest';
import { isLogferryError, type LogferryError } from '../core/errors.js';
import { compileQuery } from './compile.js';
import { parseQuery } from './parser.js';
import type { Row } from './types.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const MIN = 60_000;

async function run(q: string, rows: Row[]) {
  return compileQuery(q, { now: T0 + 86_400_000 }).execute(rows);
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

describe('where, filterIndex, SOURCE', () => {
  const rows = [
    { '@timestamp': T0, '@log': '/aws/lambda/checkout', status: 500 },
    { '@timestamp': T0 + 1, '@log': '/aws/lambda/cart', status: 200 },
    { '@timestamp': T0 + 2, '@log': '/ecs/web', status: 503 },
    { '@timestamp': T0 + 3, '@log': '/aws/eks/prod/cluster', status: 404 },
  ];

  it('where is filter', async () => {
    const a = await run('where status >= 500 | fields @log', rows);
    const b = await run('filter status >= 500 | fields @log', rows);
    expect(a.rows).toEqual(b.rows);
    expect(a.rows.map((r) => r['@log'])).toEqual(['/ecs/web', '/aws/lambda/checkout']);
  });

  it('filterIndex filters like filter (and is pushed down as one)', async () => {
    const c = compileQuery('filterIndex status in [500, 503] | fields @log');
    expect(c.pushdownFilters).toHaveLength(1);
    const r = await c.execute(rows);
    expect(r.rows.map((x) => x['@log'])).toEqual(['/ecs/web', '/aws/lambda/checkout']);
  });

  it('SOURCE logGroups(namePrefix: [...], class: …) selects by @log prefix', async () => {
    const r = await run(
      "SOURCE logGroups(namePrefix: ['/aws/lambda', '/ecs/'], class: 'STANDARD') | stats count(*) as n by @log | sort @log",
      rows,
    );
    expect(r.rows).toEqual([
      { '@log': '/aws/lambda/cart', n: 1 },
      { '@log': '/aws/lambda/checkout', n: 1 },
      { '@log': '/ecs/web', n: 1 },
    ]);
  });

  it("SOURCE 'group', … selects those log groups exactly, as a push-down filter", async () => {
    const c = compileQuery("SOURCE '/ecs/web', '/aws/eks/prod/cluster' | fields status");
    expect(c.pushdownFilters).toHaveLength(1);
    const r = await c.execute(rows);
    expect(r.rows).toEqual([{ status: 404 }, { status: 503 }]);
  });

  it('an archived @log of the form owner:group matches by its group name', async () => {
    const owned = [
      { '@timestamp': T0, '@log': '123456789012:/aws/lambda/checkout' },
      { '@timestamp': T0 + 1, '@log': '123456789012:/ecs/web' },
    ];
    const a = await run("SOURCE logGroups(namePrefix: ['/aws/lambda']) | fields @log", owned);
    expect(a.rows).toEqual([{ '@log': '123456789012:/aws/lambda/checkout' }]);
    const b = await run("SOURCE '/ecs/web' | fields @log", owned);
    expect(b.rows).toEqual([{ '@log': '123456789012:/ecs/web' }]);
    const c = await run("SOURCE '/ecs/we' | fields @log", owned);
    expect(c.rows).toEqual([]);
  });

  it('regex metacharacters in a prefix are literal', async () => {
    const r = await run("SOURCE logGroups(namePrefix: ['/aws/lambda/c.rt']) | fields @log", rows);
    expect(r.rows).toEqual([]);
  });
});

describe('limit any', () => {
  it('returns N matching events and stops reading (documented: fields @message | limit any 1)', async () => {
    let read = 0;
    function* gen() {
      for (let i = 0; i < 100_000; i++) {
        read++;
        yield { '@timestamp': T0 + i, '@message': `m${i}` };
      }
    }
    const r = await compileQuery('fields @message | limit any 1').execute(gen());
    expect(r.rows).toHaveLength(1);
    expect(read).toBe(1);
  });

  it('limit any N after a filter keeps N matches', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ '@timestamp': T0 + i, n: i }));
    const r = await run('filter n % 10 = 0 | fields n | limit any 3', rows);
    expect(r.rows).toHaveLength(3);
    for (const x of r.rows) expect((x.n as number) % 10).toBe(0);
  });
});

describe('parse modes', () => {
  it('logfmt: documented filter lf.level = "error" | display lf.msg, lf.duration', async () => {
    const r = await run(
      'parse @message logfmt as lf | filter lf.level = "error" | display lf.msg, lf.duration',
      [
        { '@timestamp': T0, '@message': 'level=info msg="started" duration=1ms' },
        {
          '@timestamp': T0 + 1,
          '@message': 'level=error msg="db timeout after \\"5s\\"" duration=5001ms host=a',
        },
      ],
    );
    expect(r.fields).toEqual(['lf.msg', 'lf.duration']);
    expect(r.rows).toEqual([{ 'lf.msg': 'db timeout after "5s"', 'lf.duration': '5001ms' }]);
  });

  it('logfmt: documented stats count(*) by lf.host (field omitted means @message)', async () => {
    const r = await run('parse logfmt as lf | stats count(*) as n by lf.host | sort n desc', [
      { '@timestamp': T0, '@message': 'host=a x=1' },
      { '@timestamp': T0 + 1, '@message': 'host=b x=2' },
      { '@timestamp': T0 + 2, '@message': 'host=a debug' },
    ]);
    expect(r.rows).toEqual([
      { 'lf.host': 'a', n: 2 },
      { 'lf.host': 'b', n: 1 },
    ]);
  });

  it('csv: documented filter level = "ERROR" | display timestamp, message (quoted commas kept)', async () => {
    const r = await run(
      'parse @message csv as timestamp, level, message | filter level = "ERROR" | display timestamp, message',
      [
        { '@timestamp': T0, '@message': '2026-11-22T10:00:00Z,INFO,ok' },
        { '@timestamp': T0 + 1, '@message': '2026-11-22T10:00:01Z,ERROR,"disk full, /var at ""100%"""' },
      ],
    );
    expect(r.rows).toEqual([{ timestamp: '2026-11-22T10:00:01Z', message: 'disk full, /var at "100%"' }]);
  });

  it('csv: documented stats avg(duration) by method', async () => {
    const r = await run(
      'parse @message csv as host, method, path, status, duration | stats avg(duration) as d by method | sort method',
      [
        { '@timestamp': T0, '@message': 'h1,GET,/a,200,10' },
        { '@timestamp': T0 + 1, '@message': 'h1,GET,/b,200,30' },
        { '@timestamp': T0 + 2, '@message': 'h2,POST,/c,500,7' },
      ],
    );
    expect(r.rows).toEqual([
      { method: 'GET', d: 20 },
      { method: 'POST', d: 7 },
    ]);
  });

  it('multi: documented one row per IP address, then stats count(*) by ip_addr', async () => {
    const r = await run(
      'parse @message /(\\d+\\.\\d+\\.\\d+\\.\\d+)/ as ip_addr multi | stats count(*) as n by ip_addr | sort ip_addr',
      [
        { '@timestamp': T0, '@message': 'from 10.0.0.1 via 10.0.0.2 to 10.0.0.1' },
        { '@timestamp': T0 + 1, '@message': 'from 192.168.1.9' },
        { '@timestamp': T0 + 2, '@message': 'no address' },
      ],
    );
    expect(r.rows).toEqual([
      { ip_addr: '10.0.0.1', n: 2 },
      { ip_addr: '10.0.0.2', n: 1 },
      { ip_addr: '192.168.1.9', n: 1 },
      { ip_addr: null, n: 1 },
    ]);
  });

  it('regex with as: documented /(?<payload>\\{.*\\})/ as payload', async () => {
    const r = await run('parse @message /(?<payload>\\{.*\\})/ as payload | display payload', [
      { '@timestamp': T0, '@message': 'event {"user":{"name":"ann"}} done' },
    ]);
    expect(r.rows).toEqual([{ payload: '{"user":{"name":"ann"}}' }]);
  });
});

describe('stats … by bin() offset', () => {
  it('shifts the bin boundaries by the offset', async () => {
    // Hour bins starting at :30: 10:10 → 09:30 bin, 10:40 and 11:20 → 10:30 bin.
    const rows = [T0 + 10 * MIN, T0 + 40 * MIN, T0 + 80 * MIN].map((t) => ({ '@timestamp': t }));
    const r = await run('stats count(*) as n by bin(1h) offset 30m', rows);
    expect(r.rows).toEqual([
      { 'bin(1h)': T0 + 30 * MIN, n: 2 },
      { 'bin(1h)': T0 - 30 * MIN, n: 1 },
    ]);
  });
});

describe('unnest and expand', () => {
  it('documented: jsonParse then unnest json_message.events into event | display event.name', async () => {
    const r = await run(
      'fields jsonParse(@message) as json_message | unnest json_message.events into event | display event.name',
      [{ '@timestamp': T0, '@message': '{"events":[{"name":"exception"},{"name":"user action"}]}' }],
    );
    expect(r.rows).toEqual([{ 'event.name': 'exception' }, { 'event.name': 'user action' }]);
  });

  it('documented: unnest a list then aggregate by account', async () => {
    const r = await run(
      'fields jsonParse(trimmedData) as accounts | unnest accounts into account | stats sum(account.droppedSpans) as n by account.accountId | sort n desc | limit 10',
      [
        {
          '@timestamp': T0,
          trimmedData: '[{"accountId":"a","droppedSpans":3},{"accountId":"b","droppedSpans":1}]',
        },
        { '@timestamp': T0 + 1, trimmedData: '{"accountId":"a","droppedSpans":4}' },
      ],
    );
    // The second row's value is a map: one item, not dropped.
    expect(r.rows).toEqual([
      { 'account.accountId': 'a', n: 7 },
      { 'account.accountId': 'b', n: 1 },
    ]);
  });

  it('documented expand: items = ["apple","banana","cherry"] with host web-01 makes three events', async () => {
    const r = await run('expand items | stats count(*) as n by items, host | sort items', [
      { '@timestamp': T0, items: ['apple', 'banana', 'cherry'], host: 'web-01' },
    ]);
    expect(r.rows).toEqual([
      { items: 'apple', host: 'web-01', n: 1 },
      { items: 'banana', host: 'web-01', n: 1 },
      { items: 'cherry', host: 'web-01', n: 1 },
    ]);
  });
});

describe('fillmissing', () => {
  it('documented: empty 1-minute bins get a row with avg_latency 0', async () => {
    const rows = [
      { '@timestamp': T0, latency: 10 },
      { '@timestamp': T0 + 30_000, latency: 20 },
      { '@timestamp': T0 + 3 * MIN, latency: 40 },
    ];
    const r = await run(
      'fields @timestamp, latency | stats avg(latency) as avg_latency by bin(1m) | fillmissing with 0 for avg_latency',
      rows,
    );
    expect(r.rows).toEqual([
      { 'bin(1m)': T0 + 3 * MIN, avg_latency: 40 },
      { 'bin(1m)': T0 + 2 * MIN, avg_latency: 0 },
      { 'bin(1m)': T0 + MIN, avg_latency: 0 },
      { 'bin(1m)': T0, avg_latency: 15 },
    ]);
  });

  it('without with, inserted rows have null aggregates; other by keys are filled per group', async () => {
    const rows = [
      { '@timestamp': T0, svc: 'a' },
      { '@timestamp': T0 + 2 * MIN, svc: 'a' },
      { '@timestamp': T0 + MIN, svc: 'b' },
    ];
    const r = await run('stats count(*) as n by bin(1m), svc | fillmissing', rows);
    expect(r.rows).toEqual(
      expect.arrayContaining([
        { 'bin(1m)': T0 + MIN, svc: 'a', n: null },
        { 'bin(1m)': T0 + MIN, svc: 'b', n: 1 },
      ]),
    );
    expect(r.rows).toHaveLength(4);
  });
});

describe('filldown, accum, autoregress (rows in the default newest-first order unless sorted)', () => {
  it('documented filldown host cpu*: the last non-null value is carried forward', async () => {
    const rows = [
      { '@timestamp': T0, host: 'web-1', cpu_user: 10, cpu_system: 3 },
      { '@timestamp': T0 + 1, cpu_user: 12 },
      { '@timestamp': T0 + 2, host: null, cpu_system: 5 },
    ];
    const r = await run(
      'fields @timestamp, host, cpu_user, cpu_system | sort @timestamp asc | filldown host cpu*',
      rows,
    );
    expect(r.rows).toEqual([
      { '@timestamp': T0, host: 'web-1', cpu_user: 10, cpu_system: 3 },
      { '@timestamp': T0 + 1, host: 'web-1', cpu_user: 12, cpu_system: 3 },
      { '@timestamp': T0 + 2, host: 'web-1', cpu_user: 12, cpu_system: 5 },
    ]);
  });

  it('documented accum bytes AS totalBytes: running total', async () => {
    const rows = [100, 250, 50].map((b, i) => ({ '@timestamp': T0 + i, bytes: b }));
    const r = await run('fields @timestamp, bytes | sort @timestamp asc | accum bytes AS totalBytes', rows);
    expect(r.rows.map((x) => x.totalBytes)).toEqual([100, 350, 400]);
    // Without a sort the rows come newest first, as Logs Insights shows them.
    const d = await run('fields @timestamp, bytes | accum bytes AS totalBytes', rows);
    expect(d.rows.map((x) => x.totalBytes)).toEqual([50, 300, 400]);
  });

  it('documented autoregress bytes p=1-4 creates bytes_p1 … bytes_p4', async () => {
    const rows = [1, 2, 3, 4, 5].map((b, i) => ({ '@timestamp': T0 + i, bytes: b }));
    const r = await run('fields @timestamp, bytes | sort @timestamp asc | autoregress bytes p=1-4', rows);
    expect(r.fields).toEqual(['@timestamp', 'bytes', 'bytes_p1', 'bytes_p2', 'bytes_p3', 'bytes_p4']);
    expect(r.rows[4]).toMatchObject({ bytes: 5, bytes_p1: 4, bytes_p2: 3, bytes_p3: 2, bytes_p4: 1 });
    expect(r.rows[1]).toMatchObject({ bytes: 2, bytes_p1: 1, bytes_p2: null });
  });

  it('autoregress with as and one lag', async () => {
    const rows = [10, 20, 40].map((b, i) => ({ '@timestamp': T0 + i, v: b }));
    const r = await run(
      'fields v | sort @timestamp asc | autoregress v as prev | fields v - prev as delta',
      rows,
    );
    expect(r.rows.map((x) => x.delta)).toEqual([null, 10, 20]);
  });
});

describe('addtotals', () => {
  const rows = [
    { '@timestamp': T0, a: 1, b: 2, price: 10, tax: 1, qty: 3, val: 5, x: 4 },
    { '@timestamp': T0 + 1, a: 3, b: '4', price: 20, tax: 2, qty: 1, val: 7, x: 6 },
  ];
  it('documented: row totals of all numeric fields', async () => {
    const r = await run(
      'fields a, b | sort @timestamp asc | addtotals',
      rows.map((x) => ({ '@timestamp': x['@timestamp'], a: x.a, b: x.b })),
    );
    expect(r.rows).toEqual([
      { a: 1, b: 2, Total: 3 },
      { a: 3, b: '4', Total: 7 },
    ]);
  });
  it('documented: only specific fields', async () => {
    const r = await run('fields price, tax, qty | sort @timestamp asc | addtotals price, tax', rows);
    expect(r.rows.map((x) => x.Total)).toEqual([11, 22]);
  });
  it('documented: custom total column name', async () => {
    const r = await run('fields val | sort @timestamp asc | addtotals fieldname=RowSum val', rows);
    expect(r.fields).toEqual(['val', 'RowSum']);
    expect(r.rows.map((x) => x.RowSum)).toEqual([5, 7]);
  });
  it('documented: col=true adds a summary row', async () => {
    const r = await run('fields x | sort @timestamp asc | addtotals col=true x', rows);
    expect(r.rows).toEqual([
      { x: 4, Total: 4 },
      { x: 6, Total: 6 },
      { x: 10, Total: 10 },
    ]);
  });
});

describe('outlier', () => {
  // cpu: 10,11,12,13,14,15,16,17,95 → Q1 12, Q3 16, IQR 4; param 3.0 → bounds [0, 28]: 95 is out.
  const cpu = [10, 11, 12, 13, 14, 15, 16, 17, 95];
  const rows = cpu.map((c, i) => ({ '@timestamp': T0 + i, cpu: c, memory: 50 }));
  it('documented: action=remove param=3.0 uselower=true mark=true cpu memory', async () => {
    const r = await run(
      'fields @timestamp, cpu, memory | outlier action=remove param=3.0 uselower=true mark=true cpu memory',
      rows,
    );
    expect(r.rows).toHaveLength(8);
    expect(r.rows.every((x) => x.outlier === false)).toBe(true);
    expect(r.rows.map((x) => x.cpu)).not.toContain(95);
  });
  it('default transform clamps to Q3 + 2.5×IQR', async () => {
    const r = await run('fields cpu | sort cpu desc | outlier cpu | limit 1', rows);
    expect(r.rows).toEqual([{ cpu: 26 }]);
  });
});

describe('sessionize', () => {
  it('documented: sessionize userId, deviceId maxspan 1h as my_session', async () => {
    const rows = [
      { '@timestamp': T0, userId: 'u1', deviceId: 'd1' },
      { '@timestamp': T0 + 30 * MIN, userId: 'u1', deviceId: 'd1' },
      { '@timestamp': T0 + 200 * MIN, userId: 'u1', deviceId: 'd1' },
      { '@timestamp': T0 + 10 * MIN, userId: 'u1', deviceId: 'd2' },
      { '@timestamp': T0 + 5 * MIN, userId: 'u2', deviceId: 'd1' },
    ];
    const r = await run(
      'fields @timestamp, userId, deviceId | sessionize userId, deviceId maxspan 1h as my_session | sort @timestamp asc',
      rows,
    );
    expect(r.rows.map((x) => [x.userId, x.deviceId, x.my_session])).toEqual([
      ['u1', 'd1', 1],
      ['u2', 'd1', 2],
      ['u1', 'd2', 3],
      ['u1', 'd1', 1],
      ['u1', 'd1', 4],
    ]);
  });
  it('default maxspan is 30m and the default field is session_id', async () => {
    const rows = [0, 29, 60].map((m) => ({ '@timestamp': T0 + m * MIN, u: 'x' }));
    const r = await run('fields u | sessionize u | sort @timestamp asc', rows);
    expect(r.rows.map((x) => x.session_id)).toEqual([1, 1, 2]);
  });
});

describe('countFrequent / count_frequent', () => {
  it('documented: countFrequent method, status gives _approxcount, most frequent first', async () => {
    const rows = [
      ['GET', 200],
      ['GET', 200],
      ['POST', 500],
      ['GET', 200],
      ['POST', 201],
      ['POST', 500],
    ].map(([m, s], i) => ({ '@timestamp': T0 + i, method: m, status: s }));
    const r = await run('fields method, status | countFrequent method, status', rows);
    expect(r.fields).toEqual(['method', 'status', '_approxcount']);
    expect(r.rows).toEqual([
      { method: 'GET', status: 200, _approxcount: 3 },
      { method: 'POST', status: 500, _approxcount: 2 },
      { method: 'POST', status: 201, _approxcount: 1 },
    ]);
    const same = await run('count_frequent method, status', rows);
    expect(same.rows).toEqual(r.rows);
  });
});

describe('realistic EKS / Lambda / ECS queries (answers derived by hand)', () => {
  const audit = (verb: string, resource: string, user: string, t: number): Row => ({
    '@timestamp': T0 + t * MIN,
    '@log': '/aws/eks/prod/cluster',
    '@logStream': 'kube-apiserver-audit-0a1b',
    verb,
    objectRef: { resource },
    user: { username: user },
  });
  const eks = [
    audit('create', 'pods', 'system:serviceaccount:kube-system:replicaset-controller', 0),
    audit('delete', 'pods', 'alice', 1),
    audit('create', 'pods', 'system:serviceaccount:kube-system:replicaset-controller', 2),
    audit('get', 'configmaps', 'bob', 3),
    audit('update', 'configmaps', 'alice', 4),
    audit('create', 'secrets', 'alice', 50),
    audit('delete', 'pods', 'bob', 95),
  ];

  it('EKS: which writes happen most (countFrequent over audit events)', async () => {
    const r = await run(
      'filter @logStream like /^kube-apiserver-audit/ and verb in ["create", "update", "patch", "delete"] | countFrequent objectRef.resource, verb',
      eks,
    );
    expect(r.rows).toEqual([
      { 'objectRef.resource': 'pods', verb: 'create', _approxcount: 2 },
      { 'objectRef.resource': 'pods', verb: 'delete', _approxcount: 2 },
      { 'objectRef.resource': 'configmaps', verb: 'update', _approxcount: 1 },
      { 'objectRef.resource': 'secrets', verb: 'create', _approxcount: 1 },
    ]);
  });

  it('EKS: human sessions (30-minute gaps) and their sizes', async () => {
    // alice: 1, 4 (one session), 50 (another); bob: 3, 95 → two sessions.
    const r = await run(
      'filter user.username not like /^system:/ | sessionize user.username as s | stats count(*) as events by user.username, s | sort user.username, s',
      eks,
    );
    expect(r.rows).toEqual([
      { 'user.username': 'alice', s: 1, events: 2 },
      { 'user.username': 'alice', s: 3, events: 1 },
      { 'user.username': 'bob', s: 2, events: 1 },
      { 'user.username': 'bob', s: 4, events: 1 },
    ]);
  });

  it('Lambda: REPORT lines, memory headroom per 5 minutes with empty bins filled', async () => {
    const report = (t: number, used: number): Row => ({
      '@timestamp': T0 + t * MIN,
      '@log': '/aws/lambda/checkout',
      '@message': `REPORT RequestId: 8f5c0b2e-0000-4000-8000-${String(t).padStart(12, '0')}\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: ${used} MB\t`,
    });
    const rows = [
      report(1, 100),
      report(3, 140),
      report(16, 300),
      { '@timestamp': T0, '@log': '/aws/lambda/checkout', '@message': 'START RequestId: x Version: $LATEST' },
    ];
    const r = await run(
      'SOURCE logGroups(namePrefix: [\'/aws/lambda/\']) | filter @type = "REPORT" | stats max(@maxMemoryUsed) / 1000 / 1000 as peak by bin(5m) | fillmissing with 0 for peak',
      rows,
    );
    expect(r.rows).toEqual([
      { 'bin(5m)': T0 + 15 * MIN, peak: 300 },
      { 'bin(5m)': T0 + 10 * MIN, peak: 0 },
      { 'bin(5m)': T0 + 5 * MIN, peak: 0 },
      { 'bin(5m)': T0, peak: 140 },
    ]);
  });

  it('ECS: logfmt app lines, error share per status with a row total and a summary row', async () => {
    const line = (t: number, msg: string): Row => ({
      '@timestamp': T0 + t,
      '@log': '/ecs/web',
      '@message': msg,
    });
    const rows = [
      line(0, 'ts=2026-11-22T10:00:00Z level=info method=GET path=/ status=200 bytes=512'),
      line(1, 'ts=2026-11-22T10:00:01Z level=error method=POST path=/pay status=502 bytes=64'),
      line(2, 'ts=2026-11-22T10:00:02Z level=info method=GET path=/ status=200 bytes=1024'),
      line(3, 'ts=2026-11-22T10:00:03Z level=warn method=GET path=/img status=404 bytes=0'),
    ];
    const r = await run(
      'SOURCE "/ecs/web" | parse @message logfmt as lf | stats sum(lf.bytes) as bytes, count(*) as requests by lf.status | sort lf.status | addtotals col=true bytes, requests',
      rows,
    );
    expect(r.rows).toEqual([
      { 'lf.status': '200', bytes: 1536, requests: 2, Total: 1538 },
      { 'lf.status': '404', bytes: 0, requests: 1, Total: 1 },
      { 'lf.status': '502', bytes: 64, requests: 1, Total: 65 },
      { 'lf.status': null, bytes: 1600, requests: 4, Total: 1604 },
    ]);
  });

  it('ECS: running bytes per container log, oldest first', async () => {
    const rows = [300, 200, 500].map((b, i) => ({
      '@timestamp': T0 + i * MIN,
      '@log': '/ecs/api',
      bytes: b,
    }));
    const r = await run(
      'fields @timestamp, bytes | sort @timestamp asc | accum bytes as running | autoregress bytes as previous',
      rows,
    );
    expect(r.rows.map((x) => [x.bytes, x.running, x.previous])).toEqual([
      [300, 300, null],
      [200, 500, 300],
      [500, 1000, 200],
    ]);
  });
});

describe('parse errors of the new commands (line/column)', () => {
  it.each([
    ['parse @message logfmt as a, b', 1, 16, 'logfmt as takes one name'],
    ['parse @message csv', 1, 19, "expected 'as'"],
    ['parse @message /(\\d+)/ as a, b', 1, 24, 'has 1 capturing group(s) but 2 name(s)'],
    ['stats count(*) by bin(5m) offset 5', 1, 34, 'offset expects a time period'],
    ['addtotals row=maybe', 1, 15, 'row= expects true or false'],
    ['outlier action=drop cpu', 1, 16, 'action= expects remove or transform'],
    ['outlier param=3', 1, 16, 'outlier expects one or more numeric fields'],
    ['autoregress x p=0', 1, 17, 'p= expects a positive whole number'],
    ['autoregress x as y p=1-3', 1, 1, 'as takes a single lag'],
    ['sessionize u maxspan 1mo', 1, 22, 'maxspan expects a fixed time period'],
    ['fields a\n| fillmissing with x for y', 2, 20, 'expects a constant'],
    ['SOURCE logGroups(namePrefix: [1])', 1, 31, 'namePrefix expects quoted names'],
    [
      'SOURCE logGroups(prefix: ["a"])',
      1,
      18,
      "logGroups() takes namePrefix, class or accountIdentifier, not 'prefix'",
    ],
    ['countFrequent', 1, 14, 'countFrequent expects a field name'],
    ['accum', 1, 6, 'accum expects a field name'],
    ['cidrlookup net ip', 1, 18, 'expected OUTPUT or OUTPUTNEW'],
    ['join left=a right=a where a.x = a.y (fields x)', 1, 1, 'aliases must differ'],
    ['join left=a right=b where a.x = c.y (fields x)', 1, 33, "'c' is not the right alias 'b'"],
    ['join left=a right=b where x = b.y (fields x)', 1, 27, 'expects alias.field'],
    ['appendcols max=0 (fields x)', 1, 16, 'max= expects a whole number from 1 to 100000'],
    ['relevantfields a, b', 1, 20, "relevantfields needs 'where <condition>'"],
    ['expnad x', 1, 1, "unknown command 'expnad' (did you mean 'expand'?)"],
  ])('%j → line %i, column %i: %s', (q, line, column, msg) => {
    const ps = problemsOf(q);
    const p = ps.find((x) => x.message.includes(msg));
    expect(p, JSON.stringify(ps)).toBeDefined();
    expect([p!.line, p!.column]).toEqual([line, column]);
  });
});

describe('subqueries', () => {
  it('problems inside a subquery are reported with their place in the whole query', () => {
    const ps = problemsOf('filter requestId in (filter level = "ERROR" | stat x)\n| fields requestId');
    expect(ps).toEqual([{ line: 1, column: 47, message: "unknown command 'stat' (did you mean 'stats'?)" }]);
    expect(problemsOf('filter x in ()')[0].message).toBe('the subquery is empty');
    expect(problemsOf('filter x in (fields x | SOURCE "a")')[0].message).toBe(
      'SOURCE must be the first command of the query',
    );
  });
});
