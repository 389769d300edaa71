import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { consume, pipeline, waitFor } from '../../test/infra/net-sources.js';
import { controlMessage, encodeCloudWatchPayload } from '../aws/cloudwatch-payload.js';
import { DELIVERED } from '../core/outcome.js';
import { HttpSource, httpSourceConfig } from './http.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function source(cfg: Record<string, unknown> = {}, env: Record<string, string> = {}): HttpSource {
  return new HttpSource(httpSourceConfig.parse({ type: 'http', port: 0, ...cfg }), {
    resolveSecret: async (ref) => {
      const v = env[ref.slice(4)];
      if (v === undefined) throw new Error(`no ${ref}`);
      return v;
    },
  });
}

async function started(src: HttpSource, ack?: Parameters<typeof consume>[1]) {
  const c = consume(src, ack);
  cleanup.push(() => c.stop());
  const a = await src.ready;
  return { c, base: `http://127.0.0.1:${a.port}` };
}

const cwPayload = (group: string, n: number, from = 0) =>
  encodeCloudWatchPayload({
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: group,
    logStream: 'stream-1',
    subscriptionFilters: ['f'],
    logEvents: Array.from({ length: n }, (_, i) => ({
      id: `ev-${from + i}`,
      timestamp: 1_700_000_000_000 + from + i,
      message: `event ${from + i}`,
    })),
  }).toString('base64');

/** A request exactly as Firehose's HTTP endpoint destination sends it (protocol version 1.0). */
function firehoseRequest(
  requestId: string,
  records: string[],
  opts: { key?: string; gzip?: boolean } = {},
): RequestInit {
  const json = JSON.stringify({
    requestId,
    timestamp: 1_700_000_000_123,
    records: records.map((data) => ({ data })),
  });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amz-firehose-protocol-version': '1.0',
    'x-amz-firehose-request-id': requestId,
    'x-amz-firehose-source-arn': 'arn:aws:firehose:us-east-1:123456789012:deliverystream/cwl-to-logferry',
  };
  if (opts.key !== undefined) headers['x-amz-firehose-access-key'] = opts.key;
  if (opts.gzip) headers['content-encoding'] = 'gzip';
  headers['x-amz-firehose-common-attributes'] = JSON.stringify({
    commonAttributes: { env: 'prod', team: 'platform' },
  });
  return { method: 'POST', headers, body: opts.gzip ? gzipSync(json) : json };
}

describe('http source: Firehose HTTP endpoint protocol', () => {
  it('decodes CloudWatch payloads, control messages and plain records; answers {requestId, timestamp} only after the ack', async () => {
    const src = source({ accessKey: 'env:FH_KEY', tag: 'cwl' }, { FH_KEY: 'k-123456' });
    const { c, base } = await started(src, () => undefined);
    const plain = Buffer.from('{"a":1}\n{"a":2}\n').toString('base64');
    const ctl = encodeCloudWatchPayload(controlMessage(1_700_000_000_000)).toString('base64');
    let answered = false;
    const resP = fetch(
      `${base}/firehose`,
      firehoseRequest('req-1', [cwPayload('/aws/eks/demo/cluster', 3), ctl, plain], {
        key: 'k-123456',
        gzip: true,
      }),
    ).then((r) => {
      answered = true;
      return r;
    });
    await waitFor(() => c.got.length === 3, 'three envelopes');
    const [cw, control, text] = c.got;
    expect(cw.logGroup).toBe('/aws/eks/demo/cluster');
    expect(cw.records.map((r) => r.message)).toEqual(['event 0', 'event 1', 'event 2']);
    expect(cw.records[0].meta).toMatchObject({
      id: 'ev-0',
      owner: '123456789012',
      source: 'http',
      ackId: 'req-1:0',
    });
    expect(cw.records[0].fields.tag).toBe('cwl');
    expect(cw.records[0].fields.commonAttributes).toEqual({ env: 'prod', team: 'platform' });
    expect(text.records[1].fields.commonAttributes).toEqual({ env: 'prod', team: 'platform' });
    expect(control.control).toBe(true);
    expect(text.records.map((r) => [r.message, r.meta.id, r.meta.logStream])).toEqual([
      ['{"a":1}', 'req-1:2:0', 'cwl-to-logferry'],
      ['{"a":2}', 'req-1:2:1', 'cwl-to-logferry'],
    ]);
    // Nothing is answered while an envelope is unsettled.
    await c.settle(0);
    await c.settle(1, { kind: 'dropped', code: 'CONTROL_MESSAGE' });
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    await c.settle(2, { kind: 'rejected', code: 'X', reason: 'dead-lettered' });
    const res = await resP;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['requestId', 'timestamp']);
    expect(body.requestId).toBe('req-1');
    expect(typeof body.timestamp).toBe('number');
  });

  it('answers 5xx with {requestId, timestamp, errorMessage} when a record failed, and 401/403 for the access key', async () => {
    const src = source({ accessKey: 'env:FH_KEY' }, { FH_KEY: 'k-123456' });
    const { base } = await started(src, (env) =>
      env.ackId.endsWith(':1') ? { kind: 'failed', code: 'SINK_UNAVAILABLE', reason: 'down' } : DELIVERED,
    );
    const res = await fetch(
      `${base}/firehose`,
      firehoseRequest('req-2', [cwPayload('/g', 1), cwPayload('/g', 1, 5)], { key: 'k-123456' }),
    );
    expect(res.status).toBe(503);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['errorMessage', 'requestId', 'timestamp']);
    expect(body.requestId).toBe('req-2');
    expect(body.errorMessage).toContain('SINK_UNAVAILABLE');

    const none = await fetch(`${base}/firehose`, firehoseRequest('req-3', [cwPayload('/g', 1)]));
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ requestId: 'req-3', errorMessage: 'missing access key' });
    const wrong = await fetch(
      `${base}/firehose`,
      firehoseRequest('req-4', [cwPayload('/g', 1)], { key: 'nope' }),
    );
    expect(wrong.status).toBe(403);
    const text = await wrong.text();
    expect(text).not.toContain('k-123456');
  });

  it('refuses malformed requests with 400 and keeps corrupt records as malformed envelopes', async () => {
    const src = source();
    const { c, base } = await started(src);
    const bad = await fetch(`${base}/firehose`, {
      method: 'POST',
      headers: { 'x-amz-firehose-request-id': 'req-5' },
      body: '{"requestId":"req-5","records":"x"}',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ requestId: 'req-5' });
    const truncated = Buffer.from(cwPayload('/g', 50), 'base64').subarray(0, 40).toString('base64');
    const ok = await fetch(`${base}/firehose`, firehoseRequest('req-6', [truncated]));
    expect(ok.status).toBe(200);
    expect(c.got[0].malformed?.code).toBe('ENVELOPE_GZIP_TRUNCATED');
    expect(c.got[0].malformed?.payload).toBe(truncated);
  });

  it('answers 413 above maxBodyBytes (as sent and after gunzip) and 429 at the pending bound', async () => {
    const src = source({ maxBodyBytes: 2048, maxDecodedBytes: 4096, maxPendingRecords: 2 });
    const { c, base } = await started(src, () => undefined);
    const big = await fetch(`${base}/`, { method: 'POST', body: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    const bomb = await fetch(`${base}/`, {
      method: 'POST',
      headers: { 'content-encoding': 'gzip' },
      body: gzipSync('y'.repeat(100_000)),
    });
    expect(bomb.status).toBe(413);
    const first = fetch(`${base}/`, { method: 'POST', body: 'a\nb\nc\n' });
    await waitFor(() => c.got.length === 1, 'first request taken');
    const busy = await fetch(`${base}/firehose`, firehoseRequest('req-7', [cwPayload('/g', 1)]));
    expect(busy.status).toBe(429);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(await busy.json()).toMatchObject({ requestId: 'req-7' });
    await c.settle(0);
    expect((await first).status).toBe(200);
    const after = fetch(`${base}/`, { method: 'POST', body: 'd\n' });
    await waitFor(() => c.got.length === 2, 'room again');
    await c.settle(1);
    expect((await after).status).toBe(200);
    expect(src.stats.throttled).toBe(1);
  });
});

describe('http source: clients that go away', () => {
  it('a body abandoned half-way frees what it held (no 429 afterwards)', async () => {
    const src = source({ maxPendingBytes: 4096 });
    const { c, base } = await started(src);
    const port = (await src.ready).port;
    const { connect } = await import('node:net');
    const s = connect(port, '127.0.0.1');
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3500\r\n\r\n${'a'.repeat(3000)}`);
    await new Promise((r) => setTimeout(r, 50));
    s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const ok = await fetch(`${base}/`, { method: 'POST', body: `${'b'.repeat(2000)}\n` });
    expect(ok.status).toBe(200);
    expect(c.messages()).toEqual(['b'.repeat(2000)]);
  });
});

describe('http source: plain POSTs', () => {
  it('takes text lines (CRLF too) and NDJSON with time and message keys; a bad NDJSON line refuses the body', async () => {
    const lines = source({ path: '/ingest', logGroup: 'apps' });
    const { c, base } = await started(lines);
    const r = await fetch(`${base}/ingest`, { method: 'POST', body: 'one\r\ntwo\n\nthree' });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ accepted: 3 });
    expect(c.messages()).toEqual(['one', 'two', 'three']);
    expect(c.got[0].records[0].meta.logGroup).toBe('apps');
    expect((await fetch(`${base}/other`, { method: 'POST', body: 'x' })).status).toBe(404);
    expect((await fetch(`${base}/ingest`)).status).toBe(405);

    const nd = source({ format: 'ndjson' });
    const n = await started(nd);
    const ok = await fetch(`${n.base}/`, {
      method: 'POST',
      body: '{"log":"hello","time":1700000000.5,"k":1}\n{"msg":"x","@timestamp":"2024-01-02T03:04:05Z"}\n',
    });
    expect(ok.status).toBe(200);
    const recs = n.c.got[0].records;
    expect(recs.map((x) => [x.message, x.timestamp])).toEqual([
      ['hello', 1_700_000_000_500],
      ['x', Date.UTC(2024, 0, 2, 3, 4, 5)],
    ]);
    expect(recs[0].fields.k).toBe(1);
    const arr = await fetch(`${n.base}/`, { method: 'POST', body: '[{"message":"a"},{"message":"b"}]' });
    expect(arr.status).toBe(200);
    const bad = await fetch(`${n.base}/`, { method: 'POST', body: '{"a":1}\nnot json\n' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('line 2');
    expect(n.c.got).toHaveLength(2);
  });

  it('requires the bearer token when accessKey is set', async () => {
    const src = source({ accessKey: 'env:K' }, { K: 'tok-abcdef' });
    const { base } = await started(src);
    expect((await fetch(`${base}/`, { method: 'POST', body: 'x' })).status).toBe(401);
    const ok = await fetch(`${base}/`, {
      method: 'POST',
      body: 'x',
      headers: { authorization: 'Bearer tok-abcdef' },
    });
    expect(ok.status).toBe(200);
  });

  it('serves HTTPS with tls cert and key files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logferry-tls-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
    } catch {
      throw new Error('openssl is needed to make a test certificate');
    }
    const src = source({ tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } });
    const { c } = await started(src);
    const port = (await src.ready).port;
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/', rejectUnauthorized: false },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('secure line\n');
    });
    expect(status).toBe(200);
    expect(c.messages()).toEqual(['secure line']);
  });

  it('refuses a literal accessKey and listens on 127.0.0.1 by default', () => {
    const r = httpSourceConfig.safeParse({ type: 'http', accessKey: 'plain-secret' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).not.toContain('plain-secret');
    expect(httpSourceConfig.parse({ type: 'http' }).address).toBe('127.0.0.1');
  });

  it('says which address is in use', async () => {
    const a = source();
    await started(a);
    const port = (await a.ready).port;
    const b = source({ port });
    const c = consume(b);
    cleanup.push(() => c.stop());
    await expect(b.ready).rejects.toThrow(/cannot listen on 127\.0\.0\.1:\d+: the address is already in use/);
  });
});

describe('http source through the runner', () => {
  it('a Firehose request is answered 200 once delivered; 503 when the sink fails, and the retry with the same requestId delivers', async () => {
    const src = source();
    const p = await pipeline(src);
    const base = `http://127.0.0.1:${(await src.ready).port}`;
    const res = await fetch(`${base}/firehose`, firehoseRequest('r-1', [cwPayload('/g/a', 2)]));
    expect(res.status).toBe(200);
    expect(p.receiver.docs.map((d) => d['@message'])).toEqual(['event 0', 'event 1']);
    p.receiver.failNext(2, 500, 'down');
    const failed = await fetch(`${base}/firehose`, firehoseRequest('r-2', [cwPayload('/g/a', 1, 7)]));
    expect(failed.status).toBe(503);
    const retried = await fetch(`${base}/firehose`, firehoseRequest('r-2', [cwPayload('/g/a', 1, 7)]));
    expect(retried.status).toBe(200);
    expect(p.receiver.docs.map((d) => d['@message'])).toEqual(['event 0', 'event 1', 'event 7']);
    const corrupt = Buffer.from([0x1f, 0x8b, 1, 2, 3]).toString('base64');
    const dl = await fetch(`${base}/firehose`, firehoseRequest('r-3', [corrupt]));
    expect(dl.status).toBe(200); // kept in the dead-letter store
    expect(p.deadLetters()[0]).toMatchObject({ code: expect.stringMatching(/^ENVELOPE_GZIP/) });
    const result = await p.stop();
    expect(result.balanced).toBe(true);
    expect(result.tally.total).toMatchObject({ received: 5, delivered: 3, failed: 1, rejected: 1 });
  });
});
