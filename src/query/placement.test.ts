/**
 * The placement and limit rules of the Logs Insights reference, refused with line and column, every
 * problem of a query at once; and the documented queries that respect them still run.
 * Sources: CWL_QuerySyntax-Dedup ("The only query command that you can use in a query after the
 * dedup command is limit"), CWL_QuerySyntax-Stats ("Use multiple stats commands in a single query":
 * at most two; sort/limit after the second; the second refers only to fields of the first; bin needs
 * @timestamp carried over), CWL_QuerySyntax-Limit ("a limit value of up to 100,000").
 */
import { describe, expect, it } from 'vitest';
import { isLogferryError, type LogferryError } from '../core/errors.js';
import { compileQuery } from './compile.js';
import { parseQuery } from './parser.js';

type Problem = { line: number; column: number; message: string };

function problemsOf(q: string): Problem[] {
  try {
    parseQuery(q);
  } catch (e) {
    expect(isLogferryError(e, 'QUERY_SYNTAX')).toBe(true);
    return (e as LogferryError).details!.problems as Problem[];
  }
  throw new Error(`expected a syntax error for: ${q}`);
}

describe('placement rules refused as CloudWatch refuses them', () => {
  it.each([
    ['fields a | dedup a | sort a', 1, 22, 'sort cannot follow dedup'],
    ['dedup a | filter a = 1', 1, 11, 'filter cannot follow dedup'],
    ['dedup a | stats count(*)', 1, 11, 'stats cannot follow dedup'],
    ['dedup a | where a = 1', 1, 11, 'where cannot follow dedup'],
    ['stats count(*) by a | stats count(*) by b | stats count(*)', 1, 45, 'at most two stats'],
    ['stats count(*) as n by a | sort n | stats max(n)', 1, 28, 'sort must come after the second stats'],
    ['limit 5 | stats count(*) as n by a | stats max(n)', 1, 1, 'limit must come after the second stats'],
    [
      'fields @message | stats sum(Fault) by Operation | stats max(strlen(@message)) as MaxMessageSize',
      1,
      68,
      "'@message' is not available in the second stats",
    ],
    [
      'fields strlen(@message) as message_length\n | stats sum(message_length) as ingested_bytes by @logStream\n | stats avg(ingested_bytes) by bin(5m)',
      3,
      33,
      'bin() reads @timestamp',
    ],
    ['limit 100001', 1, 7, 'at most 100,000'],
    ['limit any 0', 1, 11, 'positive whole number'],
    ['fields a | SOURCE "g"', 1, 12, 'SOURCE must be the first command'],
    ['fields a | fillmissing with 0 for a', 1, 12, 'must follow a stats … by bin()'],
    ['stats count(*) by a | fillmissing', 1, 23, 'must follow a stats … by bin()'],
    ['stats count(*) by a offset 1h', 1, 28, 'offset applies to bin()'],
  ])('%j → line %i, column %i: %s', (q, line, column, msg) => {
    const ps = problemsOf(q);
    const p = ps.find((x) => x.message.includes(msg));
    expect(p, JSON.stringify(ps)).toBeDefined();
    expect([p!.line, p!.column]).toEqual([line, column]);
  });

  it('lists every placement problem of a query at once, in text order', () => {
    const ps = problemsOf('sort a | stats count(*) as n by a | stats max(n) by b | dedup n | fields n');
    expect(ps.map((p) => [p.column, p.message.split(':')[0]])).toEqual([
      [1, 'with two stats commands, sort must come after the second stats'],
      [53, "'b' is not available in the second stats"],
      [67, 'fields cannot follow dedup'],
    ]);
  });

  it('the documented two-stats queries are accepted', () => {
    for (const q of [
      'FIELDS strlen(@message) AS message_length | STATS sum(message_length)/1024/1024 as logs_mb BY bin(5m) | STATS max(logs_mb) AS peak_ingest_mb, min(logs_mb) AS min_ingest_mb, avg(logs_mb) AS avg_ingest_mb',
      'STATS count_distinct(client_ip) AS session_ips, count(*) AS requests BY session_id, client_platform | FILTER session_ips > 1 | STATS count(*) AS multiple_ip_sessions, sum(requests) / count(*) AS avg_session_requests BY client_platform',
      'FIELDS strlen(@message) AS message_length | STATS sum(message_length) / 1024 / 1024 AS logs_mb BY BIN(5m) as @t | STATS max(logs_mb) AS peak_ingest_mb, min(logs_mb) AS min_ingest_mb, avg(logs_mb) AS avg_ingest_mb BY dateceil(@t, 10m)',
      'FIELDS strlen(@message) AS message_length | STATS sum(message_length) AS ingested_bytes, max(@timestamp) as @t BY @logStream | STATS avg(ingested_bytes) BY dateceil(@t, 5m)',
      'STATS sum(x) as sum_x by y, z | STATS max(sum_x) as max_x by z | sort max_x desc | limit 3',
      'fields @timestamp, server | sort @timestamp desc | dedup server | limit 5',
      'fields @message | limit 100000',
    ]) {
      expect(() => parseQuery(q), q).not.toThrow();
    }
  });

  it('the second stats over the first one’s 5-minute bins gives the documented peak/min/avg', async () => {
    const T = Date.UTC(2026, 0, 1);
    const rows = [
      { '@timestamp': T, '@message': 'x'.repeat(1024 * 1024) },
      { '@timestamp': T + 60_000, '@message': 'y'.repeat(1024 * 1024) },
      { '@timestamp': T + 5 * 60_000, '@message': 'z'.repeat(1024 * 1024) },
    ];
    const r = await compileQuery(
      'FIELDS strlen(@message) AS message_length | STATS sum(message_length)/1024/1024 as logs_mb BY bin(5m) | STATS max(logs_mb) AS peak_ingest_mb, min(logs_mb) AS min_ingest_mb, avg(logs_mb) AS avg_ingest_mb',
    ).execute(rows);
    expect(r.rows).toEqual([{ peak_ingest_mb: 2, min_ingest_mb: 1, avg_ingest_mb: 1.5 }]);
  });
});
