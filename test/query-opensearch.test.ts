/**
 * `logferry query --from opensearch://…` against a real OpenSearch node: documents written by the
 * real opensearch sink (dynamic mapping: text + .keyword), queried with push-down, give the same
 * rows as a local evaluation of every document in the index — and the push-down really narrows
 * what is fetched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Encoded } from '../src/core/sink.js';
import { compileQuery } from '../src/query/index.js';
import { runQuery } from '../src/query/backends/index.js';
import { discoverFields, SAMPLE_RECORDS } from '../src/console/fields.js';
import { hitToRow } from '../src/query/backends/opensearch.js';
import { OpenSearchSink, opensearchSinkConfig } from '../src/sinks/opensearch.js';
import { opensearchUrl } from './infra/services.js';
import {
  AUTH_STREAM,
  AWS_AUTH_QUERY,
  expectedAwsAuth,
  type Fixture,
  makeFixture,
  T0,
  TASK_ID,
} from './query-fixtures.js';

const PREFIX = `lfq${process.pid}`;
let base: string;
let from: string;
let fx: Fixture;
let allDocs: Record<string, unknown>[];
/** A second index where every audit event carries its parsed fields (as with the json parser on). */
let fromParsed: string;
let parsedDocs: Record<string, unknown>[];

async function load(index: string, records: Fixture['records']): Promise<Record<string, unknown>[]> {
  const sink = new OpenSearchSink(
    opensearchSinkConfig.parse({ type: 'opensearch', url: base, index: `${index}-YYYY.MM.dd` }),
    {},
  );
  const enc = records.map((r) => sink.encode(r)) as Encoded<string>[];
  for (let i = 0; i < enc.length; i += 200) {
    const res = await sink.send(enc.slice(i, i + 200), { attempt: 1 });
    expect(res.problems).toEqual([]);
  }
  await sink.close?.();
  await fetch(`${base}/${index}-*/_refresh`, { method: 'POST' });
  const res = await fetch(`${base}/${index}-*/_search?size=10000`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: { match_all: {} } }),
  });
  const body = (await res.json()) as { hits: { hits: { _source: Record<string, unknown> }[] } };
  return body.hits.hits.map((h) => h._source);
}

beforeAll(async () => {
  base = opensearchUrl().replace(/\/$/, '');
  from = `opensearch://${new URL(base).host}/${PREFIX}-*`;
  fx = makeFixture();
  allDocs = await load(PREFIX, fx.records);
  expect(allDocs.length).toBe(fx.records.length);
  const parsed = fx.records.map((r) =>
    r.message.startsWith('{') ? { ...r, fields: JSON.parse(r.message) as Record<string, unknown> } : r,
  );
  parsedDocs = await load(`${PREFIX}p`, parsed);
  fromParsed = `opensearch://${new URL(base).host}/${PREFIX}p-*`;
}, 300_000);

afterAll(async () => {
  if (base) await fetch(`${base}/${PREFIX}-*,${PREFIX}p-*`, { method: 'DELETE' }).catch(() => {});
});

/** The same query evaluated locally over every document in the index. */
async function local(query: string, range: { startMs?: number; endMs?: number } = {}, docs = allDocs) {
  const compiled = compileQuery(query);
  const rows = docs
    .map((d) => hitToRow(structuredClone(d)))
    .filter(
      (r) =>
        (range.startMs === undefined || (r['@timestamp'] as number) >= range.startMs) &&
        (range.endMs === undefined || (r['@timestamp'] as number) < range.endMs),
    );
  return compiled.execute(rows);
}

const QUERIES = [
  AWS_AUTH_QUERY,
  'filter @logStream like /^authenticator/ | filter @message like "access denied" | stats count(*) as n by bin(1h)',
  'filter verb in ["delete", "patch"] and responseStatus.code >= 400 | stats count(*) as n by verb | sort verb asc',
  'fields @timestamp, @message | filter @logStream like /^kube-apiserver-/ | filter @logStream not like /^kube-apiserver-audit/ | filter @message like "FLAG" | sort @timestamp desc',
  'filter not (objectRef.resource = "pods") and verb != "get" | stats count(*) as n by objectRef.resource | sort n desc, objectRef.resource asc',
  `fields @logStream, @timestamp, @message | filter @logStream like "${TASK_ID}" | sort @timestamp desc`,
  'fields @timestamp, requestURI | filter @logStream like /^kube-apiserver-audit/ | filter requestURI like "/api/v1/nodes/" | filter verb == "delete" | sort @timestamp desc',
  'filter @message like /Init Duration/ | fields @timestamp, @message',
];

describe('OpenSearch field discovery (console sidebar and autocomplete)', () => {
  it('samples the newest documents of the range and names fields as the query engine reads them', async () => {
    const d = await discoverFields({ from: fromParsed, now: T0 + 4 * 3_600_000 });
    expect(d.sampled).toBe(Math.min(SAMPLE_RECORDS, parsedDocs.length));
    const byName = new Map(d.fields.map((f) => [f.name, f]));
    expect(byName.get('@timestamp')?.type).toBe('time');
    expect(byName.get('@logStream')?.count).toBe(d.sampled);
    // Audit events' parsed fields, as `filter verb = …` reads them.
    const verb = byName.get('verb');
    expect(verb?.type).toBe('string');
    expect(verb?.top.length).toBeGreaterThan(0);
    const empty = await discoverFields({
      from,
      start: '1990-01-01T00:00:00Z',
      end: '1990-01-02T00:00:00Z',
      now: T0,
    });
    expect(empty.sampled).toBe(0);
    const err = await discoverFields({ from: 'opensearch://127.0.0.1:1/logs-*', now: T0 }).catch((e) => e);
    expect(String(err.message)).toMatch(/field discovery in .* check that OpenSearch is reachable/);
  });
});

describe('OpenSearch reader', () => {
  for (const q of QUERIES) {
    it(`push-down equals local evaluation: ${q.replace(/\s+/g, ' ').slice(0, 90)}`, async () => {
      const pushed = await runQuery({ query: q, from });
      const want = await local(q);
      expect(pushed.result.fields).toEqual(want.fields);
      expect(pushed.result.rows).toEqual(want.rows);
      expect(pushed.notes.join(' ')).toMatch(/pushed down to OpenSearch/);
    });
  }

  const AGG_QUERIES = [
    `filter @logStream = "${AUTH_STREAM}" and @message like "access denied" | stats count(*) as n by bin(1h)`,
    'filter @logStream like /^kube-apiserver-audit/ and verb != "get" | stats count(*) as n, sum(responseStatus.code) as s, avg(responseStatus.code), min(responseStatus.code) as lo, max(responseStatus.code) as hi by objectRef.resource, bin(30m) | sort n desc, objectRef.resource asc, lo asc | limit 20',
    'filter @logStream like /^kube-apiserver-audit/ | filter verb in ["delete", "patch"] and responseStatus.code >= 400 | stats count(*) as n, count(user.username) as users by verb | sort verb asc',
    'filter @logStream like /^kube-apiserver-audit/ | stats count(*) as events',
  ];
  for (const q of AGG_QUERIES) {
    it(`stats pushed down as aggregations equal local evaluation: ${q.slice(0, 80)}`, async () => {
      const pushed = await runQuery({ query: q, from: fromParsed });
      const want = await local(q, {}, parsedDocs);
      expect(pushed.notes.join(' ')).toMatch(/stats pushed down to OpenSearch as aggregations/);
      expect(pushed.result.fields).toEqual(want.fields);
      expect(pushed.result.rows).toEqual(want.rows);
      expect(want.rows.length).toBeGreaterThan(0);
    });
  }

  it('keeps stats local when documents lack indexed values (fields parsed on read)', async () => {
    const q = 'filter objectRef.resource = "configmaps" | stats count(*) as n by verb | sort verb asc';
    const run = await runQuery({ query: q, from });
    expect(run.notes.join(' ')).toMatch(
      /stats evaluated locally: \d+ matching document\(s\) lack an indexed value/,
    );
    expect(run.result.rows).toEqual((await local(q)).rows);
  });

  it('fetches only what the filters allow, and matches the fixture', async () => {
    const run = await runQuery({ query: AWS_AUTH_QUERY, from });
    expect(run.result.rows.map((r) => r['@timestamp'])).toEqual(expectedAwsAuth(fx).map((a) => a.ts));
    // Audit stream only (@logStream prefix is exact), and parsed-field docs narrowed further.
    const audit = fx.audit.length;
    expect(run.progress.recordsScanned).toBeLessThan(audit);
    expect(run.progress.recordsScanned).toBeGreaterThanOrEqual(expectedAwsAuth(fx).length);
    const task = await runQuery({ query: `filter @logStream like "${TASK_ID}"`, from });
    expect(task.progress.recordsScanned).toBe(30);
  });

  it('pushes --start/--end down as a @timestamp range', async () => {
    const startMs = T0 + 3_600_000;
    const endMs = T0 + 5_400_000;
    const q = 'fields @timestamp, @logStream | sort @timestamp asc | limit 10000';
    const run = await runQuery({
      query: q,
      from,
      start: new Date(startMs).toISOString(),
      end: new Date(endMs).toISOString(),
    });
    const want = await local(q, { startMs, endMs });
    expect(run.result.rows).toEqual(want.rows);
    expect(run.progress.recordsScanned).toBe(want.rows.length);
  });

  it('explains an unreachable node', async () => {
    const err = await runQuery({ query: 'limit 1', from: 'opensearch://127.0.0.1:1/logs-*' }).catch((e) => e);
    expect(String(err.message)).toMatch(/check that OpenSearch is reachable at http:\/\/127\.0\.0\.1:1/);
  });
});
