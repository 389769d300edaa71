/**
 * The opensearch sink against a real OpenSearch 2.x node (started by the global setup), directly
 * and through the fault-injecting proxy: exactly one document per record after faults and
 * redrives, 409s counted as delivered, mapping conflicts, 413 splitting, index templates, SigV4 and
 * basic auth on the wire.
 *
 * `LOGFERRY_TEST_ELASTICSEARCH=8.19.21,7.17.29` runs the same suite against Elasticsearch nodes
 * (integ-test zips from Maven Central, started here) as well.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../src/core/deliver.js';
import type { LogRecord } from '../src/core/record.js';
import {
  createOpenSearchSink,
  documentId,
  type OpenSearchSink,
  opensearchSinkConfig,
} from '../src/sinks/opensearch.js';
import { type FaultProxy, startFaultProxy } from './infra/fault-proxy.js';
import { type RunningOpenSearch, startElasticsearch } from './infra/opensearch.js';
import { opensearchUrl } from './infra/services.js';

const FAST_RETRY = { maxAttempts: 40, baseDelayMs: 5, maxDelayMs: 100 };
const run = randomBytes(4).toString('hex');

const GROUPS = [
  { logGroup: '/aws/eks/prod/cluster', logStream: 'kube-apiserver-audit-1a2b' },
  { logGroup: '/aws/eks/prod/cluster', logStream: 'authenticator-9f8e' },
  { logGroup: '/aws/lambda/orders', logStream: '2026/11/22/[$LATEST]0123abcd' },
];

function records(n: number, tag: string): LogRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const g = GROUPS[i % GROUPS.length];
    return {
      timestamp: Date.UTC(2026, 10, 22, 8, 0, 0) + i * 1000,
      message: `${tag} event ${i} ${'x'.repeat(i % 200)}`,
      fields: { level: i % 5 === 0 ? 'error' : 'info', n: i },
      meta: {
        owner: '111122223333',
        ...g,
        id: `${tag}-${String(i).padStart(6, '0')}`,
        source: 'test',
        ackId: `a${i}`,
      },
    };
  });
}

function suite(start: () => Promise<string>, stopNode?: () => Promise<void>) {
  let os: string;
  let proxy: FaultProxy;
  const sinks: OpenSearchSink[] = [];

  beforeAll(async () => {
    os = await start();
    proxy = await startFaultProxy(os);
  });

  afterAll(async () => {
    await Promise.all(sinks.map((s) => s.close()));
    await proxy?.stop();
    if (os) await fetch(`${os}/t${run}-*`, { method: 'DELETE' });
    await stopNode?.();
  });

  async function sink(cfg: Record<string, unknown>, ctx = {}): Promise<OpenSearchSink> {
    const s = await createOpenSearchSink(opensearchSinkConfig.parse({ type: 'opensearch', ...cfg }), ctx);
    sinks.push(s);
    return s;
  }

  async function api<T = Record<string, unknown>>(path: string, init?: RequestInit): Promise<T> {
    const res = await fetch(`${os}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...(init?.headers ?? {}) },
    });
    return (await res.json()) as T;
  }

  async function docs(
    index: string,
  ): Promise<{ _id: string; _index: string; _source: Record<string, unknown> }[]> {
    await api(`/${index}/_refresh`, { method: 'POST' });
    const r = await api<{
      hits: { hits: { _id: string; _index: string; _source: Record<string, unknown> }[] };
    }>(`/${index}/_search`, {
      method: 'POST',
      body: JSON.stringify({ size: 10_000, query: { match_all: {} } }),
    });
    return r.hits.hits;
  }

  it('stores every record exactly once through item 429s, 503s, resets and a full redrive', async () => {
    proxy.setOptions({
      seed: 42,
      itemThrottleRate: 0.15,
      requestFailRate: 0.1,
      resetRate: 0.15,
      slowRate: 0.05,
      slowMs: 50,
      maxFaults: 150,
    });
    const s = await sink({ url: proxy.url, index: `t${run}-once-{component}-YYYY.MM.dd`, maxRecords: 150 });
    const input = records(3000, 'once');
    const first = await deliver(s, input, { retry: FAST_RETRY, concurrency: 2 });
    expect(first.filter((o) => o.kind !== 'delivered')).toEqual([]);
    // The Kinesis batch is redriven whole (e.g. another record in it failed): same records again.
    const again = await deliver(s, input, { retry: FAST_RETRY, concurrency: 2 });
    expect(again.filter((o) => o.kind !== 'delivered')).toEqual([]);

    expect(proxy.stats.itemsThrottled).toBeGreaterThan(0);
    expect(proxy.stats.requestsFailed).toBeGreaterThan(0);
    expect(proxy.stats.resetsAfter).toBeGreaterThan(0);
    expect(proxy.stats.resetsBefore).toBeGreaterThan(0);

    const stored = await docs(`t${run}-once-*`);
    expect(stored).toHaveLength(input.length);
    const byId = new Map(stored.map((d) => [d._id, d]));
    expect(byId.size).toBe(input.length);
    for (const r of input) {
      const d = byId.get(documentId(r.meta));
      expect(d?._source['@id']).toBe(r.meta.id);
    }
  });

  it('counts a duplicate create (409) as delivered', async () => {
    proxy.setOptions({});
    const index = `t${run}-dup`;
    const s = await sink({ url: os, index });
    const input = records(20, 'dup');
    const batch = input.map((r) => s.encode(r)).filter((e) => !('reject' in e)) as Exclude<
      ReturnType<OpenSearchSink['encode']>,
      { reject: string }
    >[];
    expect(await s.send(batch, { attempt: 1 })).toEqual({ problems: [] });
    // The node itself answers 409 for the same bulk body…
    const raw = await fetch(`${os}/_bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: batch.map((e) => e.data).join(''),
    });
    const rawBody = (await raw.json()) as { items: { create: { status: number } }[] };
    expect(rawBody.items.map((i) => i.create.status)).toEqual(input.map(() => 409));
    // …and the sink reports those as delivered.
    expect(await s.send(batch, { attempt: 2 })).toEqual({ problems: [] });
    expect(await docs(index)).toHaveLength(20);
  });

  it('moves fields of a conflicting shape into @fields_json (default) and keeps the record searchable', async () => {
    const index = `t${run}-map-fallback`;
    const s = await sink({ url: os, index });
    const [a, b] = records(2, 'map');
    a.fields = { user: { id: 7, name: 'ann' } };
    b.fields = { user: 'bob', level: 'warn' };
    expect(await deliver(s, [a])).toEqual([{ kind: 'delivered' }]);
    expect(await deliver(s, [b])).toEqual([{ kind: 'delivered' }]);
    const stored = new Map((await docs(index)).map((d) => [d._source['@id'], d._source]));
    expect(stored.get(a.meta.id)).toMatchObject({ user: { id: 7, name: 'ann' } });
    expect(stored.get(b.meta.id)).toMatchObject({
      '@message': b.message,
      '@fields_json': JSON.stringify(b.fields),
    });
    expect(stored.get(b.meta.id)?.['@mapping_error']).toMatch(/^(mapper|document)_parsing_exception: /);
    expect(stored.get(b.meta.id)?.user).toBeUndefined();
    // A redrive of the fallen-back record is a 409: still exactly one document.
    expect(await deliver(s, [b])).toEqual([{ kind: 'delivered' }]);
    expect(await docs(index)).toHaveLength(2);
  });

  it('rejects a mapping conflict with the server reason when onMappingError is reject', async () => {
    const index = `t${run}-map-reject`;
    const s = await sink({ url: os, index, onMappingError: 'reject' });
    const [a, b] = records(2, 'mapr');
    a.fields = { user: { id: 7 } };
    b.fields = { user: 'bob' };
    const out = await deliver(s, [a, b]);
    expect(out[0]).toEqual({ kind: 'delivered' });
    expect(out[1]).toMatchObject({ kind: 'rejected' });
    expect(out[1].code).toMatch(/^(mapper|document)_parsing_exception$/);
    expect(out[1].reason).toMatch(/user/);
  });

  it('rejects to the dead-letter path when even the safe form is refused (strict mapping)', async () => {
    const index = `t${run}-strict`;
    await api(`/${index}`, {
      method: 'PUT',
      body: JSON.stringify({
        mappings: {
          dynamic: 'strict',
          properties: {
            '@timestamp': { type: 'date' },
            '@message': { type: 'text' },
            '@logStream': { type: 'keyword' },
            '@log': { type: 'keyword' },
            '@id': { type: 'keyword' },
          },
        },
      }),
    });
    const s = await sink({ url: os, index });
    const [plain, extra] = records(2, 'strict');
    plain.fields = {};
    extra.fields = { surprise: 1 };
    const out = await deliver(s, [plain, extra]);
    expect(out[0]).toEqual({ kind: 'delivered' });
    expect(out[1]).toMatchObject({ kind: 'rejected' });
    expect(out[1].code).toMatch(/^(strict_dynamic_mapping|document_parsing)_exception$/);
    expect(out[1].reason).toMatch(/strict/);
    expect(out[1].reason).toMatch(/safe form .* refused too/);
  });

  it('splits batches the server refuses with 413 and delivers all of them once', async () => {
    proxy.setOptions({ maxBodyBytes: 8_000 });
    const index = `t${run}-split`;
    const s = await sink({ url: proxy.url, index });
    const input = records(60, 'split');
    const out = await deliver(s, input, { retry: FAST_RETRY });
    expect(out.every((o) => o.kind === 'delivered')).toBe(true);
    expect(proxy.stats.tooLarge).toBeGreaterThan(0);
    expect(await docs(index)).toHaveLength(60);

    // A single record larger than the server accepts is rejected, not retried forever.
    const big = records(1, 'big')[0];
    big.message = 'y'.repeat(9_000);
    const one = await deliver(s, [big], { retry: FAST_RETRY });
    expect(one[0]).toMatchObject({ kind: 'rejected', code: 'RECORD_TOO_LARGE' });
  });

  it('names indexes from the template: component, cluster, log group, date', async () => {
    const s1 = await sink({ url: os, index: `t${run}-tpl-{component}-YYYY.MM.dd` });
    const s2 = await sink({ url: os, index: `t${run}-tpl2-{cluster}-{logGroup}` });
    const input = records(6, 'tpl');
    input[5].timestamp = Date.UTC(2026, 11, 31, 23, 59, 59);
    expect((await deliver(s1, input)).every((o) => o.kind === 'delivered')).toBe(true);
    expect((await deliver(s2, input)).every((o) => o.kind === 'delivered')).toBe(true);
    await api('/_refresh', { method: 'POST' });
    const cat = await api<{ index: string; 'docs.count': string }[]>(
      `/_cat/indices/t${run}-tpl*?format=json`,
    );
    const counts = Object.fromEntries(cat.map((c) => [c.index, Number(c['docs.count'])]));
    expect(counts).toEqual({
      [`t${run}-tpl-kube-apiserver-audit-2026.11.22`]: 2,
      [`t${run}-tpl-authenticator-2026.11.22`]: 2,
      [`t${run}-tpl-lambda-2026.11.22`]: 1,
      [`t${run}-tpl-lambda-2026.12.31`]: 1,
      [`t${run}-tpl2-prod-aws-eks-prod-cluster`]: 4,
      [`t${run}-tpl2-none-aws-lambda-orders`]: 2,
    });
  });

  it('signs requests with SigV4 for es and aoss', async () => {
    for (const service of ['es', 'aoss'] as const) {
      proxy.setOptions({});
      const s = await sink({
        url: proxy.url,
        index: `t${run}-sigv4-${service}`,
        auth: { type: 'sigv4', service, region: 'eu-west-1' },
      });
      const out = await deliver(s, records(3, `sig${service}`));
      expect(out.every((o) => o.kind === 'delivered')).toBe(true);
      const h = proxy.headers.at(-1);
      expect(h?.authorization).toMatch(
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=[^/]+/\\d{8}/eu-west-1/${service}/aws4_request, SignedHeaders=`,
        ),
      );
      expect(h?.['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      if (service === 'aoss') {
        expect(h?.['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
        // Serverless has no version banner: the sink must not ask for one.
        expect(proxy.stats.requests).toBe(1);
      }
    }
  });

  it('re-reads a rotated secret after a 401 and delivers', async () => {
    proxy.setOptions({ authFailures: 1 });
    let password = 'v1';
    const reads: string[] = [];
    const s = await sink(
      {
        url: proxy.url,
        index: `t${run}-auth`,
        auth: { type: 'basic', username: 'logs', password: 'ssm:/logferry/os' },
      },
      {
        resolveSecret: async (ref: string) => {
          reads.push(`resolve ${ref}`);
          return password;
        },
        refreshSecret: async (ref: string) => {
          reads.push(`refresh ${ref}`);
          return password;
        },
      },
    );
    password = 'v2';
    const out = await deliver(s, records(2, 'auth'), { retry: FAST_RETRY });
    expect(out.every((o) => o.kind === 'delivered')).toBe(true);
    expect(reads).toEqual(['resolve ssm:/logferry/os', 'refresh ssm:/logferry/os']);
    expect(proxy.stats.authFailed).toBe(1);
    expect(proxy.headers.at(-1)?.authorization).toBe(`Basic ${Buffer.from('logs:v2').toString('base64')}`);
  });
}

describe('opensearch sink on a real OpenSearch node', () => {
  suite(async () => opensearchUrl());
});

for (const version of (process.env.LOGFERRY_TEST_ELASTICSEARCH ?? '').split(',').filter(Boolean)) {
  describe(`opensearch sink on a real Elasticsearch ${version} node`, () => {
    let node: RunningOpenSearch | undefined;
    suite(
      async () => {
        node = await startElasticsearch(version);
        return node.url;
      },
      async () => node?.stop(),
    );
  });
}
