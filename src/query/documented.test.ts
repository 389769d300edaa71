/**
 * The examples of the CloudWatch Logs Insights documentation, run as written, with the results
 * the documentation states (or that follow directly from its wording). Pages:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Parse.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Sort.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Dedup.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Stats.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-operations-functions.html
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-examples.html (sample queries)
 */
import { describe, expect, it } from 'vitest';
import { compileQuery } from './compile.js';
import type { Row } from './types.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

async function run(q: string, rows: Row[]) {
  return compileQuery(q, { now: T0 + 86_400_000 }).execute(rows);
}

describe('parse (documented examples)', () => {
  it('glob: user=*, method:*, latency := * with stats avg by @method, @user', async () => {
    const msgs = [
      'user=alice, method:GET, latency := 10',
      'user=alice, method:GET, latency := 30',
      'user=bob, method:POST, latency := 7',
      'no match here',
    ];
    const r = await run(
      'parse @message "user=*, method:*, latency := *" as @user, @method, @latency | stats avg(@latency) by @method, @user',
      msgs.map((m, i) => ({ '@timestamp': T0 + i, '@message': m })),
    );
    expect(r.fields).toEqual(['@method', '@user', 'avg(@latency)']);
    // "If a log event doesn't match the specified pattern, you still see it … without the extracted fields."
    expect(r.rows).toEqual(
      expect.arrayContaining([
        { '@method': 'GET', '@user': 'alice', 'avg(@latency)': 20 },
        { '@method': 'POST', '@user': 'bob', 'avg(@latency)': 7 },
      ]),
    );
  });

  it('regex: named capturing group on a VPC flow log extracts the ENI', async () => {
    const r = await run(
      'parse @message /(?<NetworkInterface>eni-.*?) / | display NetworkInterface, @message',
      [
        {
          '@timestamp': T0,
          '@message':
            '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK',
        },
      ],
    );
    expect(r.fields).toEqual(['NetworkInterface', '@message']);
    expect(r.rows[0].NetworkInterface).toBe('eni-1235b8ca123456789');
  });

  it('regex: user2/method2 from the regex form of the glob example', async () => {
    const r = await run(
      'parse @message /user=(?<user2>.*?), method:(?<method2>.*?), latency := (?<latency2>.*?)/ | display user2, method2',
      [{ '@timestamp': T0, '@message': 'user=carol, method:PUT, latency := 3' }],
    );
    expect(r.rows).toEqual([{ user2: 'carol', method2: 'PUT' }]);
  });

  it('chained parse: url=* then /api/*/users/*', async () => {
    const r = await run(
      'parse @message "url=*" as url | parse url "/api/*/users/*" as apiVersion, userId | display apiVersion, userId',
      [{ '@timestamp': T0, '@message': 'GET url=/api/v2/users/42' }],
    );
    expect(r.rows).toEqual([{ apiVersion: 'v2', userId: '42' }]);
  });

  it('parse @logStream "*/*/*/*" as env, service, instance, shard | stats count(*) by env, service', async () => {
    const streams = ['prod/api/i-1/s1', 'prod/api/i-2/s2', 'dev/web/i-3/s1'];
    const r = await run(
      'parse @logStream "*/*/*/*" as env, service, instance, shard | stats count(*) by env, service',
      streams.map((s, i) => ({ '@timestamp': T0 + i, '@message': 'x', '@logStream': s })),
    );
    expect(r.rows).toEqual(
      expect.arrayContaining([
        { env: 'prod', service: 'api', 'count(*)': 2 },
        { env: 'dev', service: 'web', 'count(*)': 1 },
      ]),
    );
    expect(r.rows).toHaveLength(2);
  });
});

describe('sort (documented example)', () => {
  it('ascending natural order, numbers last; descending is the reverse', async () => {
    const asc = [
      '!:',
      '#',
      '*%04',
      '0#',
      '5A',
      '111A',
      '2345_',
      '@',
      '@_',
      'A',
      'A9876fghj',
      'a12345hfh',
      '0',
      '01',
      '1',
      '2',
      '3',
    ];
    const shuffled = [...asc].reverse().map((v, i) => ({ '@timestamp': T0 + ((i * 7) % 17), v }));
    const up = await run('fields v | sort v asc', shuffled);
    expect(up.rows.map((x) => x.v)).toEqual(asc);
    const down = await run('fields v | sort v desc', shuffled);
    expect(down.rows.map((x) => x.v)).toEqual([...asc].reverse());
  });
});

describe('dedup (documented example)', () => {
  it('keeps the most recent event per server; events without server are kept', async () => {
    const rows: Row[] = [
      { '@timestamp': T0 + 1, server: 'a', severity: 'info', message: 'a-old' },
      { '@timestamp': T0 + 3, server: 'a', severity: 'warn', message: 'a-new' },
      { '@timestamp': T0 + 2, server: 'b', severity: 'info', message: 'b-only' },
      { '@timestamp': T0 + 4, severity: 'info', message: 'no server 1' },
      { '@timestamp': T0 + 5, severity: 'info', message: 'no server 2' },
    ];
    const r = await run(
      'fields @timestamp, server, severity, message | sort @timestamp desc | dedup server',
      rows,
    );
    expect(r.rows.map((x) => x.message)).toEqual(['no server 2', 'no server 1', 'a-new', 'b-only']);
  });

  it('dedup on several fields keeps one event per combination', async () => {
    const rows: Row[] = [
      { '@timestamp': T0 + 1, a: 1, b: 'x' },
      { '@timestamp': T0 + 2, a: 1, b: 'y' },
      { '@timestamp': T0 + 3, a: 1, b: 'x' },
      { '@timestamp': T0 + 4, a: 2, b: 'x' },
    ];
    const r = await run('fields @timestamp, a, b | sort @timestamp desc | dedup a, b', rows);
    expect(r.rows.map((x) => x['@timestamp'])).toEqual([T0 + 4, T0 + 3, T0 + 2]);
  });
});

describe('stats (documented examples)', () => {
  it('a second stats over the first: peak/min/avg ingestion per 5 minutes', async () => {
    // 3 five-minute bins holding 1 MiB, 2 MiB and 3 MiB of message text.
    const MiB = 1024 * 1024;
    const rows: Row[] = [];
    for (const [bin, mib] of [
      [0, 1],
      [1, 2],
      [2, 3],
    ] as const) {
      for (let i = 0; i < mib * 4; i++)
        rows.push({ '@timestamp': T0 + bin * 300_000 + i, '@message': 'x'.repeat(MiB / 4) });
    }
    const r = await run(
      `FIELDS strlen(@message) AS message_length
| STATS sum(message_length)/1024/1024 as logs_mb BY bin(5m)
| STATS max(logs_mb) AS peak_ingest_mb,
        min(logs_mb) AS min_ingest_mb,
        avg(logs_mb) AS avg_ingest_mb`,
      rows,
    );
    expect(r.fields).toEqual(['peak_ingest_mb', 'min_ingest_mb', 'avg_ingest_mb']);
    expect(r.rows).toEqual([{ peak_ingest_mb: 3, min_ingest_mb: 1, avg_ingest_mb: 2 }]);
  });

  it('stats count(*) by queryType, bin(1h)', async () => {
    const rows: Row[] = [
      { '@timestamp': T0 + 60_000, queryType: 'A' },
      { '@timestamp': T0 + 120_000, queryType: 'A' },
      { '@timestamp': T0 + 3_700_000, queryType: 'A' },
      { '@timestamp': T0 + 3_800_000, queryType: 'AAAA' },
    ];
    const r = await run('stats count(*) by queryType, bin(1h)', rows);
    expect(r.fields).toEqual(['queryType', 'bin(1h)', 'count(*)']);
    expect(r.rows).toEqual(
      expect.arrayContaining([
        { queryType: 'A', 'bin(1h)': T0, 'count(*)': 2 },
        { queryType: 'A', 'bin(1h)': T0 + 3_600_000, 'count(*)': 1 },
        { queryType: 'AAAA', 'bin(1h)': T0 + 3_600_000, 'count(*)': 1 },
      ]),
    );
    expect(r.rows).toHaveLength(3);
    expect(r.timeFields).toEqual(['bin(1h)']);
  });

  it('top talkers: stats sum(packets) by srcAddr, dstAddr | sort desc | limit', async () => {
    const rows: Row[] = [
      { '@timestamp': T0, srcAddr: '10.0.0.1', dstAddr: '10.0.0.2', packets: 5 },
      { '@timestamp': T0, srcAddr: '10.0.0.1', dstAddr: '10.0.0.2', packets: '7' },
      { '@timestamp': T0, srcAddr: '10.0.0.3', dstAddr: '10.0.0.2', packets: 20 },
      { '@timestamp': T0, srcAddr: '10.0.0.4', dstAddr: '10.0.0.2', packets: 1 },
    ];
    const r = await run(
      'stats sum(packets) as packetsTransferred by srcAddr, dstAddr | sort packetsTransferred desc | limit 2',
      rows,
    );
    expect(r.rows).toEqual([
      { srcAddr: '10.0.0.3', dstAddr: '10.0.0.2', packetsTransferred: 20 },
      { srcAddr: '10.0.0.1', dstAddr: '10.0.0.2', packetsTransferred: 12 },
    ]);
  });
});

describe('operators and functions (documented examples)', () => {
  it('2 ^ 3 returns 8, 10 % 3 returns 1, substr("xyZfooxyZ", 3, 3) returns "foo"', async () => {
    const r = await run('fields 2 ^ 3 as p, 10 % 3 as m, substr("xyZfooxyZ", 3, 3) as s | display p, m, s', [
      { '@timestamp': T0 },
    ]);
    expect(r.rows).toEqual([{ p: 8, m: 1, s: 'foo' }]);
  });
});

describe('sample queries (Lambda)', () => {
  const reports: Row[] = [
    {
      '@timestamp': T0,
      '@type': 'REPORT',
      '@requestId': 'r1',
      '@billedDuration': 120,
      '@memorySize': 512e6,
      '@maxMemoryUsed': 100e6,
    },
    {
      '@timestamp': T0 + 1,
      '@type': 'REPORT',
      '@requestId': 'r2',
      '@billedDuration': 900,
      '@memorySize': 512e6,
      '@maxMemoryUsed': 300e6,
    },
    { '@timestamp': T0 + 2, '@message': 'START RequestId: r3' },
  ];

  it('overprovisioned memory: a stats item may use the aliases of the aggregates before it', async () => {
    // Regression: refused with "'provisonedMemoryMB' must be inside an aggregate function".
    const r = await run(
      `filter @type = "REPORT"
    | stats max(@memorySize / 1000 / 1000) as provisonedMemoryMB,
        min(@maxMemoryUsed / 1000 / 1000) as smallestMemoryRequestMB,
        avg(@maxMemoryUsed / 1000 / 1000) as avgMemoryUsedMB,
        max(@maxMemoryUsed / 1000 / 1000) as maxMemoryUsedMB,
        provisonedMemoryMB - maxMemoryUsedMB as overProvisionedMB`,
      reports,
    );
    expect(r.rows).toEqual([
      {
        provisonedMemoryMB: 512,
        smallestMemoryRequestMB: 100,
        avgMemoryUsedMB: 200,
        maxMemoryUsedMB: 300,
        overProvisionedMB: 212,
      },
    ]);
  });

  it('most expensive requests: sort by @billedDuration desc', async () => {
    // Regression: `sort by …` was refused ("expected a value, found the keyword 'by'").
    const r = await run(
      'filter @type = "REPORT" | fields @requestId, @billedDuration | sort by @billedDuration desc',
      reports,
    );
    expect(r.rows).toEqual([
      { '@requestId': 'r2', '@billedDuration': 900 },
      { '@requestId': 'r1', '@billedDuration': 120 },
    ]);
  });

  it('an alias used before it is defined, or a plain field, is still refused in stats', () => {
    expect(() => compileQuery('stats later - 1 as early, count(*) as later')).toThrow(
      /must be inside an aggregate/,
    );
    expect(() => compileQuery('stats count(*) as n, bytes as b')).toThrow(/must be inside an aggregate/);
  });
});

describe('query syntax page example', () => {
  it('FIELDS | PARSE | FILTER … IN | DISPLAY with a computed item (upper-case commands)', async () => {
    // Regression: display refused `loggingType = "ERROR" as isError` ("display takes field names only").
    const r = await run(
      `FIELDS @message
    | PARSE @message "* [*] *" as loggingTime, loggingType, loggingMessage
    | FILTER loggingType IN ["ERROR", "INFO"]
    | DISPLAY loggingMessage, loggingType = "ERROR" as isError`,
      [
        { '@timestamp': T0 + 1, '@message': '2026-11-22T10:00:01Z [ERROR] disk full' },
        { '@timestamp': T0 + 2, '@message': '2026-11-22T10:00:02Z [INFO] started' },
        { '@timestamp': T0 + 3, '@message': '2026-11-22T10:00:03Z [DEBUG] noise' },
      ],
    );
    expect(r.fields).toEqual(['loggingMessage', 'isError']);
    expect(r.rows).toEqual([
      { loggingMessage: 'started', isError: false },
      { loggingMessage: 'disk full', isError: true },
    ]);
  });
});

describe('where (documented example, CWL_QuerySyntax-Where)', () => {
  it('fields @timestamp, @message | where @message like /error/ keeps exactly what filter keeps', async () => {
    const rows = ['an error here', 'all fine', 'error: disk', 'ERROR upper'].map((m, i) => ({
      '@timestamp': T0 + i,
      '@message': m,
    }));
    const r = await run('fields @timestamp, @message | where @message like /error/', rows);
    expect(r.rows.map((x) => x['@message']).sort()).toEqual(['an error here', 'error: disk']);
    const f = await run('fields @timestamp, @message | filter @message like /error/', rows);
    expect(r.rows).toEqual(f.rows);
  });
});
