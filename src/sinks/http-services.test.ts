/**
 * The HTTP log services as sink types of their own (`loki`, `splunk-hec`, `logzio`) over the one
 * HTTP client: each sends exactly what `type: http` with that flavor sends (same URL path, headers
 * and body), refuses options of other services, and keeps the service's own checks (a token for
 * Splunk and Logz.io). A local server on 127.0.0.1 records the requests.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../core/deliver.js';
import type { ComponentSpec } from '../core/component.js';
import type { LogRecord } from '../core/record.js';
import type { Sink } from '../core/sink.js';
import { httpSinkSpec } from './http.js';
import { sinks } from './index.js';
import { logzioSinkSpec } from './logzio.js';
import { lokiSinkSpec } from './loki.js';
import { splunkHecSinkSpec } from './splunk-hec.js';

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
let server: Server;
let url = '';
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      seen.push({ path: req.url ?? '', headers: req.headers, body: body.toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.includes('collector') ? '{"text":"Success","code":0}' : '{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const records: LogRecord[] = [1, 2, 3].map((i) => ({
  timestamp: 1_764_000_000_000 + i,
  message: `line ${i}`,
  fields: i === 2 ? { status: 200 } : {},
  meta: {
    owner: '123456789012',
    logGroup: '/aws/eks/prod/cluster',
    logStream: 'kube-apiserver-0123456789abcdef0123456789abcdef',
    id: `e${i}`,
    source: 'test',
    ackId: 'a',
  },
}));

const ctx = { resolveSecret: async () => 'tok-123456' };

async function capture(sink: Sink<unknown>): Promise<Seen> {
  seen.length = 0;
  const out = await deliver(sink, records);
  expect(out.every((o) => o.kind === 'delivered')).toBe(true);
  expect(seen).toHaveLength(1);
  const s = seen[0];
  // Header order and connection details differ; compare what the service reads.
  return {
    path: s.path,
    body: s.body,
    headers: {
      authorization: s.headers.authorization,
      'content-type': s.headers['content-type'],
      'x-scope-orgid': s.headers['x-scope-orgid'],
    },
  };
}

const cases = [
  ['loki', lokiSinkSpec, { tenant: 'team-a', staticLabels: { env: 'prod' } }],
  ['splunk-hec', splunkHecSinkSpec, { token: 'env:HEC', index: 'logs' }],
  ['logzio', logzioSinkSpec, { token: 'env:LOGZ', logType: 'cw' }],
] as const;

describe.each(cases)('%s sink type', (type, spec, opts) => {
  it('sends exactly what `type: http` with that flavor sends', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: one case per service type
    const own = await (spec as ComponentSpec<any, Sink<unknown>>).create(
      spec.schema.parse({ type, url, ...opts }),
      ctx,
    );
    const legacy = await httpSinkSpec.create(
      httpSinkSpec.schema.parse({ type: 'http', flavor: type, url, ...opts }),
      ctx,
    );
    expect(own.type).toBe(type);
    expect(own.name).toBe(type);
    expect(legacy.name).toBe(`http-${type}`);
    expect(own.limits).toEqual(legacy.limits);
    const a = await capture(own);
    const b = await capture(legacy);
    expect(a).toEqual(b);
    expect(a.body).toContain('line 2');
  });

  it('is registered and refuses options of other services', () => {
    expect(sinks.some((s) => s.type === type)).toBe(true);
    const r = spec.schema.safeParse({ type, url, ...opts, flavor: 'ndjson', tokenHeader: 'x' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/flavor/);
  });
});

describe('service checks', () => {
  it('needs a token for splunk-hec and logzio, and refuses a literal token', () => {
    expect(splunkHecSinkSpec.schema.safeParse({ type: 'splunk-hec', url }).success).toBe(false);
    expect(logzioSinkSpec.schema.safeParse({ type: 'logzio', url, token: 'abc' }).success).toBe(false);
    expect(lokiSinkSpec.schema.safeParse({ type: 'loki', url }).success).toBe(true);
  });
  it('keeps Logz.io limits', () => {
    const r = logzioSinkSpec.schema.safeParse({ type: 'logzio', url, token: 'env:T', maxBytes: 20_000_000 });
    expect(r.success).toBe(false);
  });
  it('accepts `type: http` without a flavor as the generic NDJSON sink', async () => {
    const s = await httpSinkSpec.create(httpSinkSpec.schema.parse({ type: 'http', url }), ctx);
    expect(s.name).toBe('http-ndjson');
    const got = await capture(s);
    expect(got.headers['content-type']).toBe('application/x-ndjson');
    expect(got.body.trim().split('\n')).toHaveLength(3);
  });
});
