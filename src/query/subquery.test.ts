/**
 * join, subqueries (`x in (…)`), appendcols, lookup/cidrlookup and relevantfields: AWS's documented
 * examples give the documented result over rows whose answer is derived by hand, and the choices made
 * where the docs are silent (docs/query-language.md, "Commands reference") hold.
 */
import { describe, expect, it } from 'vitest';
import { isLogferryError, type LogferryError } from '../core/errors.js';
import { compileQuery } from './compile.js';
import { tableFromCsv } from './lookup/table.js';
import type { Row } from './types.js';

const API = '123456789012:/aws/apigateway/prod';
const FN = '123456789012:/aws/lambda/my-function';
const DB = '123456789012:/aws/lambda/database-service';

const ROWS: Row[] = [
  {
    '@timestamp': 1_000,
    '@log': API,
    requestId: 'r1',
    status: 502,
    latency: 1900,
    endpoint: '/orders',
    userId: 'u1',
  },
  {
    '@timestamp': 2_000,
    '@log': API,
    requestId: 'r2',
    status: 200,
    latency: 40,
    endpoint: '/orders',
    userId: 'u2',
  },
  {
    '@timestamp': 3_000,
    '@log': API,
    requestId: 'r3',
    status: 503,
    latency: 2500,
    endpoint: '/cart',
    userId: 'u3',
  },
  {
    '@timestamp': 4_000,
    '@log': API,
    requestId: 'r4',
    status: 500,
    latency: 700,
    endpoint: '/cart',
    userId: 'u1',
  },
  { '@timestamp': 1_100, '@log': FN, requestId: 'r1', duration: 1850, memoryUsed: 128 },
  { '@timestamp': 3_100, '@log': FN, requestId: 'r3', duration: 2400, memoryUsed: 256 },
  { '@timestamp': 3_200, '@log': FN, requestId: 'r3', duration: 10, memoryUsed: 64 },
  { '@timestamp': 1_200, '@log': DB, requestId: 'r1', errorType: 'DatabaseConnectionTimeout' },
  { '@timestamp': 4_200, '@log': DB, requestId: 'r4', errorType: 'DatabaseConnectionTimeout' },
  { '@timestamp': 2_200, '@log': DB, requestId: 'r2', errorType: 'Deadlock' },
];

async function run(q: string, rows: Row[] = ROWS, lookups?: Map<string, ReturnType<typeof tableFromCsv>>) {
  return compileQuery(q, { now: 10_000, lookups }).execute(rows);
}

describe('join (CWL_QuerySyntax-Join)', () => {
  it('example 1: API Gateway requests with their Lambda executions (inner)', async () => {
    const r = await run(`SOURCE '/aws/apigateway/prod'
| filter status >= 500
| join type=inner left=api right=lambda
    where api.requestId=lambda.requestId
    (SOURCE '/aws/lambda/my-function')
| fields api.requestId, api.status, api.latency, lambda.duration, lambda.memoryUsed
| sort api.latency desc, lambda.duration desc`);
    expect(r.fields).toEqual([
      'api.requestId',
      'api.status',
      'api.latency',
      'lambda.duration',
      'lambda.memoryUsed',
    ]);
    // r4 has no Lambda event (dropped by inner); r3 matches two (one row each).
    expect(r.rows.map((x) => [x['api.requestId'], x['lambda.duration']])).toEqual([
      ['r3', 2400],
      ['r3', 10],
      ['r1', 1850],
    ]);
  });

  it('type=left keeps rows without a match, with the right side null; keys written either way round', async () => {
    const r = await run(`SOURCE '/aws/apigateway/prod' | filter status >= 500
| join type=left left=api right=lambda where lambda.requestId = api.requestId (SOURCE '/aws/lambda/my-function' | filter duration > 100)
| fields api.requestId, lambda.duration | sort api.requestId asc`);
    expect(r.rows).toEqual([
      { 'api.requestId': 'r1', 'lambda.duration': 1850 },
      { 'api.requestId': 'r3', 'lambda.duration': 2400 },
      { 'api.requestId': 'r4', 'lambda.duration': null },
    ]);
  });

  it('keys compare as = does (a number matches its text); missing keys never match', async () => {
    const rows: Row[] = [
      { '@log': 'a', id: 7 },
      { '@log': 'a' },
      { '@log': 'b', id: '7', v: 'x' },
      { '@log': 'b', v: 'no id' },
    ];
    const r = await run(
      `SOURCE 'a' | join left=l right=r where l.id = r.id (SOURCE 'b') | fields l.id, r.v`,
      rows,
    );
    expect(r.rows).toEqual([{ 'l.id': 7, 'r.v': 'x' }]);
  });
});

describe('subqueries (CWL_QuerySyntax-Subqueries)', () => {
  it('example 1: requests that hit a downstream timeout', async () => {
    const r = await run(`SOURCE '/aws/apigateway/prod'
| filter requestId in (
    SOURCE '/aws/lambda/database-service'
    | filter errorType = "DatabaseConnectionTimeout"
    | fields requestId
)
| fields @timestamp, requestId, endpoint, userId, responseTime
| sort @timestamp desc`);
    expect(r.rows.map((x) => x.requestId)).toEqual(['r4', 'r1']);
  });

  it('not in, a nested subquery, and a subquery that returns one column under another name', async () => {
    const r = await run(`SOURCE '/aws/apigateway/prod'
| filter requestId not in (SOURCE '/aws/lambda/my-function' | filter requestId in (SOURCE '/aws/lambda/database-service' | fields requestId) | stats count(*) as n by requestId as rid | display rid)
| fields requestId | sort requestId`);
    expect(r.rows.map((x) => x.requestId)).toEqual(['r2', 'r3', 'r4']);
  });

  it('a subquery without the field says how to fix it', async () => {
    await expect(run(`filter requestId in (SOURCE 'x' | fields a, b)`)).rejects.toThrow(
      /end it with `fields requestId`/,
    );
  });
});

describe('appendcols (CWL_QuerySyntax-Appendcols)', () => {
  const rows: Row[] = [
    { '@log': 'app', svc: 'a' },
    { '@log': 'app', svc: 'b' },
    { '@log': 'app', svc: 'a' },
    { '@log': 'lg', svc: 'a', latency: 10 },
    { '@log': 'lg', svc: 'a', latency: 30 },
    { '@log': 'lg', svc: 'b', latency: 5 },
  ];
  it('the documented example: per-service average latency appended by row position', async () => {
    const r = await run(
      `SOURCE 'app' | fields svc
| stats count(*) as cnt by svc
| appendcols override=true ( SOURCE 'lg' | stats avg(latency) as avgLat by svc )`,
      rows,
    );
    expect(r.fields).toEqual(['svc', 'cnt', 'avgLat']);
    expect(r.rows).toEqual([
      { svc: 'a', cnt: 2, avgLat: 20 },
      { svc: 'b', cnt: 1, avgLat: 5 },
    ]);
  });

  it('without override the row keeps its own value; max caps the subquery rows', async () => {
    const r = await run(
      `SOURCE 'app' | stats count(*) as cnt by svc | appendcols max=1 (SOURCE 'lg' | stats avg(latency) as avgLat, count(*) as cnt by svc)`,
      rows,
    );
    expect(r.rows).toEqual([
      { svc: 'a', cnt: 2, avgLat: 20 },
      { svc: 'b', cnt: 1, avgLat: null },
    ]);
  });
});

describe('lookup and cidrlookup (CWL_QuerySyntax-Lookup, -Cidrlookup)', () => {
  const users = tableFromCsv(
    'user_data',
    'id,name,email,department\nu1,Ana,ana@x.io,"Sales, EMEA"\nu2,Bo,bo@x.io,\n',
  );
  const net = tableFromCsv(
    'net_table',
    'cidr,region,owner,datacenter\n10.0.0.0/8,us-east-1,infra,dc1\n10.20.0.0/16,eu-west-1,payments,dc7\n2001:db8::/32,ap-south-1,ipv6-team,dc9\n',
  );
  const tables = new Map([
    ['user_data', users],
    ['net_table', net],
  ]);

  it('enriches events with user details; no match passes unchanged; an empty cell writes nothing', async () => {
    const rows: Row[] = [{ id: 'u1', department: 'old' }, { id: 'u2', department: 'kept' }, { id: 'u9' }];
    const r = await run('lookup user_data id OUTPUT name, email, department | sort id', rows, tables);
    expect(r.rows).toEqual([
      { '@timestamp': null, '@message': null },
      { '@timestamp': null, '@message': null },
      { '@timestamp': null, '@message': null },
    ]);
    const f = await run(
      'fields id | lookup user_data id OUTPUT name, email, department | sort id',
      rows,
      tables,
    );
    expect(f.fields).toEqual(['id', 'name', 'email', 'department']);
    expect(f.rows).toEqual([
      { id: 'u1', name: 'Ana', email: 'ana@x.io', department: 'Sales, EMEA' },
      { id: 'u2', name: 'Bo', email: 'bo@x.io', department: 'kept' },
      { id: 'u9', name: null, email: null, department: null },
    ]);
  });

  it('as maps the table column to a log field; OUTPUTNEW fills only empty fields; no OUTPUT adds every column', async () => {
    const rows: Row[] = [
      { userId: 'u1', name: 'given' },
      { userId: 'u2', name: '' },
    ];
    const a = await run(
      'fields userId, name | lookup user_data id as userId OUTPUTNEW name AS name | sort userId',
      rows,
      tables,
    );
    expect(a.rows.map((x) => x.name)).toEqual(['given', 'Bo']);
    const b = await run('fields userId | lookup user_data id as userId | sort userId', rows, tables);
    expect(b.fields).toEqual(['userId', 'name', 'email', 'department']);
    expect(b.rows[0]).toEqual({ userId: 'u1', name: 'Ana', email: 'ana@x.io', department: 'Sales, EMEA' });
  });

  it('the documented cidrlookup example: most specific range wins, IPv6 and IPv4-mapped addresses work', async () => {
    const rows: Row[] = [
      { '@timestamp': 4, srcAddr: '10.20.3.4' },
      { '@timestamp': 3, srcAddr: '10.9.9.9' },
      { '@timestamp': 2, srcAddr: '2001:db8::1' },
      { '@timestamp': 1, srcAddr: '::ffff:10.20.0.1' },
      { '@timestamp': 0, srcAddr: '8.8.8.8' },
    ];
    const r = await run(
      'fields @timestamp, srcAddr\n| cidrlookup net_table srcAddr OUTPUT region, owner, datacenter',
      rows,
      tables,
    );
    expect(r.rows.map((x) => [x.srcAddr, x.region, x.datacenter])).toEqual([
      ['10.20.3.4', 'eu-west-1', 'dc7'],
      ['10.9.9.9', 'us-east-1', 'dc1'],
      ['2001:db8::1', 'ap-south-1', 'dc9'],
      ['::ffff:10.20.0.1', 'eu-west-1', 'dc7'],
      ['8.8.8.8', null, null],
    ]);
  });

  it('a table not loaded, or a column it lacks, is refused at once with line and column', () => {
    let err: unknown;
    try {
      compileQuery('fields a\n| lookup nosuch a OUTPUT b\n| cidrlookup net_table ip OUTPUT zone', {
        lookups: tables,
      });
    } catch (e) {
      err = e;
    }
    expect(isLogferryError(err, 'QUERY_SYNTAX')).toBe(true);
    expect((err as LogferryError).details?.problems).toEqual([
      {
        line: 2,
        column: 10,
        message:
          "lookup table 'nosuch' is not loaded; name it with --lookup nosuch=file.csv (or s3://bucket/key.csv)",
      },
      {
        line: 3,
        column: 14,
        message:
          "cidrlookup: the table 'net_table' has no column 'zone' (its columns: cidr, region, owner, datacenter)",
      },
    ]);
  });
});

describe('relevantfields (CWL_QuerySyntax-RelevantFields)', () => {
  // Slow requests (Time > 400) all come from the Report controller; Path is spread evenly.
  const rows: Row[] = [];
  for (let i = 0; i < 40; i++) {
    const slow = i % 4 === 0;
    rows.push({
      '@timestamp': i,
      '@message': `m${i}`,
      Controller: slow ? 'Report' : i % 2 ? 'Home' : 'Cart',
      Path: `/p${i % 2}`,
      Time: slow ? 500 + i : 100 + i,
      Bytes: 1000 + (i % 5),
    });
  }

  it('ranks the field that explains the condition first, with the documented output columns', async () => {
    const r = await run('relevantfields where Time > 400', rows);
    expect(r.fields).toEqual([
      '@fieldName',
      '@relevanceScore',
      '@topRelevanceContributors',
      '@conditionalMedian',
      '@baselineMedian',
    ]);
    const byName = new Map(r.rows.map((x) => [x['@fieldName'], x]));
    // Time separates the two sets completely (KS = 1); Controller: TV distance 1 (only Report when slow).
    expect(byName.get('Time')).toMatchObject({
      '@relevanceScore': 1,
      '@conditionalMedian': 518,
      '@baselineMedian': 120,
    });
    expect(byName.get('Controller')).toMatchObject({ '@relevanceScore': 1 });
    expect(byName.get('Controller')?.['@topRelevanceContributors']).toEqual([
      { value: 'Report', conditionRatio: 1, baselineRatio: 0 },
      { value: 'Home', conditionRatio: 0, baselineRatio: 0.667 },
      { value: 'Cart', conditionRatio: 0, baselineRatio: 0.333 },
    ]);
    // Path: slow rows are all /p0 (i % 4 = 0), the baseline is 1/3 /p0 and 2/3 /p1 → TV 2/3.
    expect(byName.get('Path')?.['@relevanceScore']).toBe(0.667);
    expect(byName.has('@message')).toBe(false);
    const scores = r.rows.map((x) => x['@relevanceScore'] as number);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('analyses only the listed fields', async () => {
    const r = await run('relevantfields Controller, Path where Time > 400', rows);
    expect(r.rows.map((x) => x['@fieldName'])).toEqual(['Controller', 'Path']);
  });

  it('gives no rows when every row (or none) meets the condition', async () => {
    expect((await run('relevantfields where Time > 0', rows)).rows).toEqual([]);
  });
});
