import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deliver } from '../core/deliver.js';
import { toDocument } from '../core/document.js';
import { isLogferryError } from '../core/errors.js';
import type { LogRecord } from '../core/record.js';
import {
  awsEndpointRegion,
  classifyItem,
  compileIndexTemplate,
  createOpenSearchSink,
  detectServer,
  documentId,
  IndexNamer,
  isSupported,
  OPENSEARCH_DEFAULT_MAX_BYTES,
  opensearchSinkConfig,
  sanitizeIndexPart,
} from './opensearch.js';

function rec(over: Partial<LogRecord> = {}, meta: Partial<LogRecord['meta']> = {}): LogRecord {
  return {
    timestamp: Date.UTC(2026, 10, 22, 7, 5, 9),
    message: 'hello',
    fields: {},
    ...over,
    meta: {
      owner: '111122223333',
      logGroup: '/aws/eks/prod/cluster',
      logStream: 'kube-apiserver-audit-0123',
      id: '3720000000000000000000000001',
      source: 'test',
      ackId: 'a1',
      ...meta,
    },
  };
}

describe('document id', () => {
  it('is stable for the same (logGroup, logStream, id) and differs otherwise', () => {
    const a = documentId(rec().meta);
    expect(a).toBe(documentId(rec({ message: 'other text' }).meta));
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(documentId(rec({}, { id: '2' }).meta)).not.toBe(a);
    expect(documentId(rec({}, { logStream: 'x' }).meta)).not.toBe(a);
    expect(documentId(rec({}, { logGroup: '/g' }).meta)).not.toBe(a);
  });
});

describe('index names', () => {
  it('sanitises values into valid index name parts', () => {
    expect(sanitizeIndexPart('/aws/lambda/My_Func')).toBe('aws-lambda-my_func');
    expect(sanitizeIndexPart('  A*B?C  ')).toBe('a-b-c');
    expect(sanitizeIndexPart('___')).toBe('');
  });

  it('renders the default template from UTC event time', () => {
    expect(new IndexNamer('logs-YYYY.MM.dd').name(rec())).toBe('logs-2026.11.22');
    expect(new IndexNamer('logs-yyyy.MM.dd-HH').name(rec())).toBe('logs-2026.11.22-07');
  });

  it('fills {component} and {cluster} from the stream classification', () => {
    const n = new IndexNamer('logs-{cluster}-{component}-YYYY.MM.dd');
    expect(n.name(rec())).toBe('logs-prod-kube-apiserver-audit-2026.11.22');
    expect(n.name(rec({}, { logStream: 'authenticator-abc' }))).toBe('logs-prod-authenticator-2026.11.22');
    const lambda = rec({}, { logGroup: '/aws/lambda/Orders-API', logStream: '2026/11/22/[$LATEST]abcdef' });
    expect(n.name(lambda)).toBe('logs-none-lambda-2026.11.22');
    expect(new IndexNamer('fn-{function}').name(lambda)).toBe('fn-orders-api');
    expect(new IndexNamer('g-{logGroup}').name(lambda)).toBe('g-aws-lambda-orders-api');
    expect(new IndexNamer('logs-{component}').name(rec({}, { logGroup: 'app', logStream: 's' }))).toBe(
      'logs-default',
    );
  });

  it('reads {fields.*} and uses "unknown" for missing values', () => {
    const n = new IndexNamer('logs-{fields.kubernetes.namespace}');
    expect(n.name(rec({ fields: { kubernetes: { namespace: 'Kube-System' } } }))).toBe('logs-kube-system');
    expect(n.name(rec())).toBe('logs-unknown');
  });

  it('keeps lower-case letters that merely contain a date token literal', () => {
    expect(new IndexNamer('address-dd').name(rec())).toBe('address-22');
  });

  it('refuses unknown variables and invalid literal text at config time', () => {
    expect(() => compileIndexTemplate('logs-{nope}')).toThrow(/unknown \{nope\}/);
    expect(() => compileIndexTemplate('Logs-YYYY')).toThrow(/literal text/);
    expect(() => compileIndexTemplate('logs/x')).toThrow(/literal text/);
  });
});

describe('bulk item classification', () => {
  it.each([
    [{ status: 201 }, 'delivered'],
    [{ status: 409, error: { type: 'version_conflict_engine_exception' } }, 'delivered'],
    [{ status: 429, error: { type: 'es_rejected_execution_exception' } }, 'retry'],
    [{ status: 429, error: { type: 'rejected_execution_exception' } }, 'retry'],
    [{ status: 503, error: { type: 'unavailable_shards_exception' } }, 'retry'],
    [{ status: 403, error: { type: 'cluster_block_exception' } }, 'retry'],
    [{ status: 400, error: { type: 'mapper_parsing_exception' } }, 'mapping'],
    [{ status: 400, error: { type: 'document_parsing_exception' } }, 'mapping'],
    [{ status: 400, error: { type: 'illegal_argument_exception' } }, 'mapping'],
    [{ status: 400, error: { type: 'x', caused_by: { type: 'mapper_parsing_exception' } } }, 'mapping'],
    [{ status: 404, error: { type: 'index_not_found_exception' } }, 'reject'],
    [{ status: 400, error: { type: 'invalid_index_name_exception' } }, 'reject'],
  ])('%j → %s', (item, verdict) => {
    expect(classifyItem(item)).toBe(verdict);
  });
});

describe('server detection', () => {
  it.each([
    [{ version: { distribution: 'opensearch', number: '1.3.20' } }, 'opensearch', 1, true],
    [{ version: { distribution: 'opensearch', number: '2.19.1' } }, 'opensearch', 2, true],
    [{ version: { distribution: 'opensearch', number: '3.2.0' } }, 'opensearch', 3, true],
    [{ version: { number: '6.8.23' } }, 'elasticsearch', 6, false],
    [{ version: { number: '7.10.2', build_flavor: 'oss' } }, 'elasticsearch', 7, true],
    [{ version: { number: '8.15.0' } }, 'elasticsearch', 8, true],
    [{ version: { number: '9.1.0' } }, 'elasticsearch', 9, true],
  ])('%j', (body, flavor, major, supported) => {
    const s = detectServer(body);
    expect(s).toMatchObject({ flavor, major });
    expect(isSupported(s)).toBe(supported);
  });

  it('refuses a body without a version', () => {
    expect(() => detectServer({ ok: true })).toThrow(/did not report a version/);
  });
});

describe('config and encoding', () => {
  it('derives limits from httpMaxContentLength and refuses maxBytes above it', async () => {
    const s1 = await createOpenSearchSink(
      opensearchSinkConfig.parse({ type: 'opensearch', url: 'http://127.0.0.1:1' }),
    );
    expect(s1.limits.maxBytes).toBe(OPENSEARCH_DEFAULT_MAX_BYTES);
    const s2 = await createOpenSearchSink(
      opensearchSinkConfig.parse({
        type: 'opensearch',
        url: 'http://127.0.0.1:1',
        httpMaxContentLength: 1_000_000,
      }),
    );
    expect(s2.limits).toMatchObject({ maxBytes: 1_000_000, maxRecordBytes: 1_000_000 });
    const bad = opensearchSinkConfig.safeParse({
      type: 'opensearch',
      url: 'http://h',
      httpMaxContentLength: 10,
      maxBytes: 11,
    });
    expect(bad.success).toBe(false);
    expect(opensearchSinkConfig.safeParse({ type: 'opensearch', url: 'ftp://h' }).success).toBe(false);
    expect(opensearchSinkConfig.safeParse({ type: 'opensearch', url: 'http://h', extra: 1 }).success).toBe(
      false,
    );
    await Promise.all([s1.close(), s2.close()]);
  });

  it('validates the index template with the rest of the config', () => {
    const r = opensearchSinkConfig.safeParse({ type: 'opensearch', url: 'http://h', index: 'logs-{nope}' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/unknown \{nope\}/);
  });

  it('reads the SigV4 region from Amazon OpenSearch endpoints', () => {
    expect(awsEndpointRegion('search-logs-abc123.eu-west-1.es.amazonaws.com')).toBe('eu-west-1');
    expect(awsEndpointRegion('vpc-logs-abc.us-gov-west-1.es.amazonaws.com')).toBe('us-gov-west-1');
    expect(awsEndpointRegion('x1y2z3.us-east-1.aoss.amazonaws.com')).toBe('us-east-1');
    expect(awsEndpointRegion('opensearch.internal')).toBeUndefined();
  });

  it('encodes one create action and one ISO-timestamped document per record', async () => {
    const sink = await createOpenSearchSink(
      opensearchSinkConfig.parse({ type: 'opensearch', url: 'http://127.0.0.1:1' }),
    );
    const r = rec({ fields: { level: 'info', '@message': 'never overrides' } });
    const enc = sink.encode(r);
    if ('reject' in enc) throw new Error(enc.reject);
    const [action, doc, tail] = enc.data.split('\n');
    expect(tail).toBe('');
    expect(enc.bytes).toBe(Buffer.byteLength(enc.data));
    expect(JSON.parse(action)).toEqual({ create: { _index: 'logs-2026.11.22', _id: documentId(r.meta) } });
    expect(JSON.parse(doc)).toMatchObject({
      '@timestamp': '2026-11-22T07:05:09.000Z',
      '@message': 'hello',
      '@id': r.meta.id,
      level: 'info',
    });
    const fb = sink.encodeFallback(r, 'mapper_parsing_exception: x').split('\n');
    expect(JSON.parse(fb[1])).toMatchObject({
      '@message': 'hello',
      '@fields_json': JSON.stringify(r.fields),
      '@mapping_error': 'mapper_parsing_exception: x',
    });
    expect(JSON.parse(fb[1]).level).toBeUndefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(sink.encode(rec({ fields: cyclic }))).toMatchObject({ code: 'SINK_REJECTED' });
    await sink.close();
  });

  it('omits _id with documentId: none', async () => {
    const sink = await createOpenSearchSink(
      opensearchSinkConfig.parse({ type: 'opensearch', url: 'http://127.0.0.1:1', documentId: 'none' }),
    );
    const enc = sink.encode(rec());
    if ('reject' in enc) throw new Error(enc.reject);
    expect(JSON.parse(enc.data.split('\n')[0])).toEqual({ create: { _index: 'logs-2026.11.22' } });
    await sink.close();
  });

  it('needs a resolver for secret references and refuses credentials given twice', async () => {
    const auth = { type: 'basic', username: 'ssm:/os/user', password: 'ssm:/os/pass' };
    await expect(
      createOpenSearchSink(opensearchSinkConfig.parse({ type: 'opensearch', url: 'http://h:1', auth })),
    ).rejects.toThrow(/no secret resolver/);
    await expect(
      createOpenSearchSink(
        opensearchSinkConfig.parse({
          type: 'opensearch',
          url: 'http://u:p@h:1',
          auth: { ...auth, username: 'x' },
        }),
      ),
    ).rejects.toThrow(/either in the url or in auth/);
  });
});

/**
 * A scripted HTTP server on loopback standing in for server versions and failure answers that the
 * real node used by test/opensearch-sink.test.ts cannot produce on demand (Elasticsearch 6/8/9
 * banners, whole-request 401/429/413).
 */
interface Scripted {
  url: string;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  server: Server;
}

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

async function scripted(
  handle: (req: { method: string; url: string; body: string; n: number }, res: ServerResponse) => void,
): Promise<Scripted> {
  const requests: Scripted['requests'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handle({ method: req.method ?? '', url: req.url ?? '', body, n: requests.length }, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function bulkItems(body: string): { _index: string; _id?: string }[] {
  const lines = body.split('\n').filter(Boolean);
  const out: { _index: string; _id?: string }[] = [];
  for (let i = 0; i < lines.length; i += 2) out.push(JSON.parse(lines[i]).create);
  return out;
}

describe('send against a scripted server', () => {
  const records = Array.from({ length: 6 }, (_, i) => rec({ message: `m${i}` }, { id: String(i) }));

  it('reports per item: 201/409 delivered, 429 retried, 404 rejected; works with Elasticsearch 8 and 9', async () => {
    for (const version of ['8.15.0', '9.1.0', '7.17.0']) {
      const srv = await scripted(({ method, url, body }, res) => {
        if (method === 'GET' && url === '/') return json(res, 200, { version: { number: version } });
        const items = bulkItems(body);
        json(res, 200, {
          errors: true,
          items: items.map((it, i) => ({
            create: {
              ...it,
              status: [201, 409, 429, 404, 201, 503][i],
              error:
                i === 1
                  ? { type: 'version_conflict_engine_exception' }
                  : i === 2
                    ? { type: 'es_rejected_execution_exception', reason: 'queue full' }
                    : i === 3
                      ? { type: 'index_not_found_exception', reason: 'no such index' }
                      : i === 5
                        ? { type: 'unavailable_shards_exception', reason: 'primary not active' }
                        : undefined,
            },
          })),
        });
      });
      const sink = await createOpenSearchSink(
        opensearchSinkConfig.parse({ type: 'opensearch', url: srv.url }),
      );
      const batch = records.map((r) => sink.encode(r)).filter((e) => !('reject' in e));
      const res = await sink.send(batch as never, { attempt: 1 });
      expect(res.problems.map((p) => [p.index, p.action, p.code])).toEqual([
        [2, 'retry', 'es_rejected_execution_exception'],
        [3, 'reject', 'index_not_found_exception'],
        [5, 'retry', 'unavailable_shards_exception'],
      ]);
      // Version detected once; bulk requests carry plain NDJSON without _type.
      expect(srv.requests.filter((r) => r.url === '/')).toHaveLength(1);
      const bulk = srv.requests.find((r) => r.url.startsWith('/_bulk'));
      expect(bulk?.headers['content-type']).toBe('application/x-ndjson');
      expect(bulk?.body).not.toContain('_type');
      await sink.close();
    }
  });

  it('refuses Elasticsearch 6 as unsupported (retriable: fix the config, the source redrives)', async () => {
    const srv = await scripted((_req, res) => json(res, 200, { version: { number: '6.8.23' } }));
    const sink = await createOpenSearchSink(opensearchSinkConfig.parse({ type: 'opensearch', url: srv.url }));
    const enc = sink.encode(records[0]);
    if ('reject' in enc) throw new Error(enc.reject);
    await expect(sink.send([enc], { attempt: 1 })).rejects.toMatchObject({ code: 'SINK_UNAVAILABLE' });
    expect(srv.requests.some((r) => r.url.startsWith('/_bulk'))).toBe(false);
    await sink.close();
  });

  it('goes on when GET / is forbidden or not served (writer-only roles, minimal builds)', async () => {
    for (const status of [403, 405]) {
      const srv = await scripted(({ method, url, body }, res) => {
        if (method === 'GET' && url === '/') return json(res, status, { error: 'no' });
        json(res, 200, {
          errors: false,
          items: bulkItems(body).map((c) => ({ create: { ...c, status: 201 } })),
        });
      });
      const warned: string[] = [];
      const log = { debug() {}, info() {}, warn: (m: string) => warned.push(m), error() {} };
      const sink = await createOpenSearchSink(
        opensearchSinkConfig.parse({ type: 'opensearch', url: srv.url }),
        { log },
      );
      expect(await deliver(sink, records.slice(0, 2))).toEqual([
        { kind: 'delivered' },
        { kind: 'delivered' },
      ]);
      expect(warned).toEqual(['opensearch: could not read the server version; assuming a supported server']);
      expect(srv.requests.filter((r) => r.url === '/')).toHaveLength(1);
      await sink.close();
    }
  });

  it('answers a whole-request 413 with tooLarge, so the core splits', async () => {
    const srv = await scripted(({ url, body }, res) => {
      if (url === '/') return json(res, 200, { version: { distribution: 'opensearch', number: '2.19.1' } });
      if (body.length > 700) return json(res, 413, { error: 'too large' });
      json(res, 200, {
        errors: false,
        items: bulkItems(body).map((c) => ({ create: { ...c, status: 201 } })),
      });
    });
    const sink = await createOpenSearchSink(opensearchSinkConfig.parse({ type: 'opensearch', url: srv.url }));
    const out = await deliver(sink, records, { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    expect(out.every((o) => o.kind === 'delivered')).toBe(true);
    expect(srv.requests.filter((r) => r.url.startsWith('/_bulk')).length).toBeGreaterThan(2);
    await sink.close();
  });

  it('throws SINK_THROTTLED with the Retry-After hint on a whole-request 429', async () => {
    const srv = await scripted(({ url }, res) => {
      if (url === '/') return json(res, 200, { version: { distribution: 'opensearch', number: '2.19.1' } });
      json(res, 429, { error: { type: 'too_many_requests' } }, { 'retry-after': '2' });
    });
    const sink = await createOpenSearchSink(opensearchSinkConfig.parse({ type: 'opensearch', url: srv.url }));
    const enc = sink.encode(records[0]);
    if ('reject' in enc) throw new Error(enc.reject);
    const err = await sink.send([enc], { attempt: 1 }).catch((e) => e);
    expect(isLogferryError(err, 'SINK_THROTTLED')).toBe(true);
    expect(err.details).toEqual({ retryAfterMs: 2000 });
    await sink.close();
  });

  it('on 401 re-reads secret credentials once, then succeeds with the new ones; never logs them', async () => {
    let current = 'old-password';
    const srv = await scripted(({ url, body }, res) => {
      const n = srv.requests.length;
      const auth = srv.requests[n - 1].headers.authorization;
      if (auth !== `Basic ${Buffer.from('svc:new-password').toString('base64')}`)
        return json(res, 401, { error: 'no' });
      if (url === '/') return json(res, 200, { version: { distribution: 'opensearch', number: '2.19.1' } });
      json(res, 200, {
        errors: false,
        items: bulkItems(body).map((c) => ({ create: { ...c, status: 201 } })),
      });
    });
    const resolved: string[] = [];
    const refreshed: string[] = [];
    const logged: string[] = [];
    const log = {
      debug: (m: string, d?: unknown) => logged.push(m + JSON.stringify(d)),
      info: (m: string, d?: unknown) => logged.push(m + JSON.stringify(d)),
      warn: (m: string, d?: unknown) => logged.push(m + JSON.stringify(d)),
      error: (m: string, d?: unknown) => logged.push(m + JSON.stringify(d)),
    };
    const sink = await createOpenSearchSink(
      opensearchSinkConfig.parse({
        type: 'opensearch',
        url: srv.url,
        auth: { type: 'basic', username: 'svc', password: 'secretsmanager:os#password' },
      }),
      {
        log,
        resolveSecret: async (ref) => {
          resolved.push(ref);
          return current;
        },
        refreshSecret: async (ref) => {
          refreshed.push(ref);
          return current;
        },
      },
    );
    current = 'new-password'; // rotated after the sink read it
    const out = await deliver(sink, records.slice(0, 2), {
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    });
    expect(out).toEqual([{ kind: 'delivered' }, { kind: 'delivered' }]);
    expect(resolved).toEqual(['secretsmanager:os#password']);
    expect(refreshed).toEqual(['secretsmanager:os#password']);
    expect(logged.join('\n')).not.toMatch(/password"|old-password|new-password/);
    await sink.close();
  });

  it('with SigV4, starts a fresh credential chain after a 403 (rotated role credentials)', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIAOLDOLDOLD';
    process.env.AWS_SECRET_ACCESS_KEY = 'old-secret';
    try {
      const srv = await scripted(({ url, body }, res) => {
        const auth = String(srv.requests.at(-1)?.headers.authorization ?? '');
        if (!auth.includes('Credential=AKIANEWNEWNEW/'))
          return json(res, 403, { message: 'The security token is invalid' });
        if (url === '/') return json(res, 200, { version: { distribution: 'opensearch', number: '2.19.1' } });
        json(res, 200, {
          errors: false,
          items: bulkItems(body).map((c) => ({ create: { ...c, status: 201 } })),
        });
      });
      const sink = await createOpenSearchSink(
        opensearchSinkConfig.parse({
          type: 'opensearch',
          url: srv.url,
          auth: { type: 'sigv4', service: 'es', region: 'eu-west-1' },
        }),
      );
      const enc = sink.encode(records[0]);
      if ('reject' in enc) throw new Error(enc.reject);
      // The version probe's 403 is tolerated; the bulk's 403 re-reads credentials.
      await expect(sink.send([enc], { attempt: 1 })).rejects.toMatchObject({ code: 'SINK_AUTH' });
      process.env.AWS_ACCESS_KEY_ID = 'AKIANEWNEWNEW';
      process.env.AWS_SECRET_ACCESS_KEY = 'new-secret';
      await expect(sink.send([enc], { attempt: 2 })).resolves.toEqual({ problems: [] });
      await sink.close();
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  it('keeps failing with SINK_AUTH when the re-read credential is still refused (no second re-read)', async () => {
    const srv = await scripted((_req, res) => json(res, 403, { error: 'forbidden' }));
    let reads = 0;
    const sink = await createOpenSearchSink(
      opensearchSinkConfig.parse({
        type: 'opensearch',
        url: srv.url,
        auth: { type: 'basic', username: 'env:OS_USER', password: 'env:OS_PASS' },
      }),
      { resolveSecret: async () => 'x', refreshSecret: async () => `x${++reads}` },
    );
    const out = await deliver(sink, records.slice(0, 1), {
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    });
    expect(out[0]).toMatchObject({ kind: 'failed', code: 'SINK_AUTH' });
    expect(reads).toBe(2); // username and password, once
    await sink.close();
  });

  it('sends basic credentials from the URL without keeping them in the endpoint', async () => {
    const srv = await scripted(({ url, body }, res) => {
      if (url === '/') return json(res, 200, { version: { distribution: 'opensearch', number: '1.3.20' } });
      json(res, 200, {
        errors: false,
        items: bulkItems(body).map((c) => ({ create: { ...c, status: 201 } })),
      });
    });
    const withCreds = srv.url.replace('http://', 'http://logs%40x:p%3Ass@');
    const sink = await createOpenSearchSink(
      opensearchSinkConfig.parse({ type: 'opensearch', url: withCreds }),
    );
    const out = await deliver(sink, records.slice(0, 1));
    expect(out[0].kind).toBe('delivered');
    expect(
      srv.requests.every(
        (r) => r.headers.authorization === `Basic ${Buffer.from('logs@x:p:ss').toString('base64')}`,
      ),
    ).toBe(true);
    await sink.close();
  });
});

describe('hot-path caches agree with the uncached computation', () => {
  it('document id is exactly the first 24 bytes of SHA-256 (one-shot hash or not)', () => {
    const meta = rec().meta;
    const key = `${meta.logGroup}\u0000${meta.logStream}\u0000${meta.id}`;
    expect(documentId(meta)).toBe(createHash('sha256').update(key).digest('base64url').slice(0, 32));
    const odd = rec({}, { logGroup: 'grüße/ü', logStream: '\u{1f600}', id: '' }).meta;
    expect(documentId(odd)).toBe(
      createHash('sha256').update(`grüße/ü\u0000\u{1f600}\u0000`).digest('base64url').slice(0, 32),
    );
  });

  it('a reused namer (last stream, last hour, fast finish) names like a fresh one per record', () => {
    const templates = [
      'logs-YYYY.MM.dd-HH',
      'logs-{cluster}-{component}-yyyy.MM.dd',
      '{fields.ns}-{logStream}-HH',
      '-_.{fields.ns}',
      `${'x'.repeat(80)}-{logGroup}-{logStream}-YYYY`,
    ];
    const hour = 3_600_000;
    const base = Date.UTC(2026, 11, 31, 23, 0, 0);
    const stamps = [
      base - 1,
      base,
      base + hour - 1,
      base + hour,
      base + 5,
      -1,
      0,
      8.64e15,
      8.64e15 + 1,
      -8.64e15 - 1,
    ];
    const streams = [
      { logGroup: '/aws/eks/prod/cluster', logStream: 'kube-apiserver-audit-1' },
      { logGroup: '/aws/eks/prod/cluster', logStream: 'authenticator-2' },
      { logGroup: '/aws/lambda/orders-api', logStream: `2026/11/22/[$LATEST]${'a'.repeat(200)}` },
    ];
    const nss = ['payments', '--Lead', '', 'y'.repeat(300)];
    for (const t of templates) {
      const reused = new IndexNamer(t);
      let n = 0;
      for (const ts of stamps)
        for (const st of streams)
          for (const ns of nss) {
            const r = rec({ timestamp: ts, fields: { ns } }, st);
            expect(reused.name(r)).toBe(new IndexNamer(t).name(r));
            n++;
          }
      expect(n).toBe(stamps.length * streams.length * nss.length);
    }
  });
});

describe('bulk document built directly (fast path) equals JSON.stringify(toDocument(record, iso))', () => {
  it('for plain, nested, unicode, empty, undefined-valued, colliding and index-like fields', async () => {
    const sink = await createOpenSearchSink(
      opensearchSinkConfig.parse({ type: 'opensearch', url: 'http://127.0.0.1:1' }),
    );
    const noIds = await createOpenSearchSink(
      opensearchSinkConfig.parse({ type: 'opensearch', url: 'http://127.0.0.1:1', documentId: 'none' }),
    );
    const proto = Object.create({ inherited: 'x' }) as Record<string, unknown>;
    proto.own = 1;
    const fieldsList: Record<string, unknown>[] = [
      {},
      { level: 'info', n: 1.5, ok: true, nil: null },
      {
        nested: { a: [1, 'two', { three: 3 }], 'we"ird\\key': 'v\u2028\n"q"' },
        emoji: '\u{1f600}',
        lone: '\ud800',
      },
      { gone: undefined },
      { gone: undefined, kept: 'k' },
      { '@message': 'never overrides', '@timestamp': 1, level: 'x' },
      { '10': 'index-like', b: 2 },
      { '1a': 'digit first', z: 0 },
      Object.assign(Object.create(null) as Record<string, unknown>, { bare: 'null prototype' }),
      proto,
      { toJSON: 'not a function' },
      { big: 1e21, neg: -0, nan: Number.NaN, date: new Date(0) },
    ];
    const metas: Partial<LogRecord['meta']>[] = [
      {},
      { owner: '', logGroup: 'g"q', logStream: 's\\t' },
      { logStream: 'other', id: 'ü-1' },
    ];
    // The message's byte count is derived from the message (see jsonStringBytes): escapes, Latin-1,
    // BMP and astral characters, U+2028, and lone surrogates (JSON writes them escaped).
    const messages = [
      'm "quoted"\n\t\u0001',
      'ü € \u{1f600} \u2028 \\ \u007f \u0000',
      'lone high \ud800 and low \udc00',
      '\ud83d',
      '',
    ];
    let n = 0;
    for (const message of messages)
      for (const meta of metas)
        for (const fields of fieldsList)
          for (const timestamp of [
            Date.UTC(2026, 10, 22, 7, 5, 9, 123),
            0,
            -1,
            1.5,
            253402300799999,
            253402300800000,
          ]) {
            const r = rec({ fields, timestamp, message }, meta);
            const enc = sink.encode(r);
            if ('reject' in enc) throw new Error(enc.reject);
            const [, doc] = enc.data.split('\n');
            expect(doc).toBe(JSON.stringify(toDocument(r, 'iso')));
            // The byte count summed from the parts is the encoded line's, with and without `_id`.
            expect(enc.bytes).toBe(Buffer.byteLength(enc.data));
            const plain = noIds.encode(r);
            if ('reject' in plain) throw new Error(plain.reject);
            expect(plain.data.split('\n')[1]).toBe(doc);
            expect(plain.bytes).toBe(Buffer.byteLength(plain.data));
            n++;
          }
    expect(n).toBe(messages.length * metas.length * fieldsList.length * 6);
    // Invalid dates and unserialisable fields are still rejected as before.
    expect(sink.encode(rec({ timestamp: 8.64e15 + 1 }))).toMatchObject({ code: 'SINK_REJECTED' });
    expect(sink.encode(rec({ fields: { b: 10n } }))).toMatchObject({ code: 'SINK_REJECTED' });
    await sink.close();
    await noIds.close();
  });
});
