import { afterEach, describe, expect, it } from 'vitest';
import {
  type LocalService,
  startHecServer,
  startLogzioListener,
  startLokiServer,
  startNdjsonServer,
} from '../../test/infra/http-log-services.js';
import type { Logger } from '../core/component.js';
import { deliver } from '../core/deliver.js';
import type { LogRecord } from '../core/record.js';
import type { RetryPolicy } from '../core/retry.js';
import { HttpSink, httpSinkConfig, parseLokiPushError } from './http.js';

const FAST: RetryPolicy = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50 };
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

function rec(
  i: number,
  over: {
    message?: string;
    ts?: number;
    group?: string;
    stream?: string;
    fields?: Record<string, unknown>;
  } = {},
): LogRecord {
  return {
    timestamp: over.ts ?? T0 + i,
    message: over.message ?? `message ${i}`,
    fields: over.fields ?? {},
    meta: {
      owner: '123456789012',
      logGroup: over.group ?? '/aws/lambda/orders',
      logStream: over.stream ?? '2026/11/22/[$LATEST]abc',
      id: `id-${i}`,
      source: 'test',
      ackId: 'a',
    },
  };
}

const open: LocalService[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const put = (msg: string, data?: Record<string, unknown>) =>
    lines.push(`${msg} ${JSON.stringify(data ?? {})}`);
  return { log: { debug: put, info: put, warn: put, error: put }, lines };
}

function sink(cfg: Record<string, unknown>, secrets: Record<string, string[]> = {}, log?: Logger) {
  const calls: string[] = [];
  const take = (ref: string, refresh: boolean) => {
    calls.push(`${refresh ? 'refresh' : 'resolve'}:${ref}`);
    const list = secrets[ref];
    if (!list || list.length === 0) throw new Error(`no secret ${ref}`);
    if (refresh && list.length > 1) list.shift();
    return Promise.resolve(list[0]);
  };
  const s = new HttpSink(httpSinkConfig.parse({ type: 'http', ...cfg }), {
    resolveSecret: (r) => take(r, false),
    refreshSecret: (r) => take(r, true),
    log,
  });
  return { s, calls };
}

describe('http sink config', () => {
  it('refuses a literal token with a clear message that does not echo it', () => {
    const res = httpSinkConfig.safeParse({
      type: 'http',
      flavor: 'logzio',
      url: 'https://listener.logz.io:8071',
      token: 'abcdefSECRET',
    });
    expect(res.success).toBe(false);
    const msg = JSON.stringify(res.error?.issues);
    expect(msg).toContain('secret reference');
    expect(msg).not.toContain('abcdefSECRET');
  });

  it('needs a token for logzio and splunk-hec, accepts ssm:/secretsmanager:/env: references', () => {
    expect(
      httpSinkConfig.safeParse({ type: 'http', flavor: 'splunk-hec', url: 'https://h:8088' }).success,
    ).toBe(false);
    for (const token of ['ssm:/logz-io/data-shipping-token', 'secretsmanager:hec#token', 'env:HEC_TOKEN']) {
      expect(
        httpSinkConfig.safeParse({ type: 'http', flavor: 'splunk-hec', url: 'https://h:8088', token })
          .success,
      ).toBe(true);
    }
    expect(
      httpSinkConfig.safeParse({
        type: 'http',
        flavor: 'ndjson',
        url: 'http://h',
        headers: { Authorization: 'x' },
      }).success,
    ).toBe(false);
  });
});

describe('http sink: logzio', () => {
  it('ships gzip NDJSON with token and type in the query and never logs the token', async () => {
    const l = await startLogzioListener({ token: 'TOKEN-abc' });
    open.push(l);
    const { log, lines } = capture();
    const { s } = sink(
      { flavor: 'logzio', url: l.url, token: 'ssm:/logz-io/data-shipping-token', logType: 'cloudwatch' },
      { 'ssm:/logz-io/data-shipping-token': ['TOKEN-abc'] },
      log,
    );
    const out = await deliver(s, [rec(1), rec(2), rec(3)], { retry: FAST });
    expect(out.map((o) => o.kind)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(l.requests).toHaveLength(1);
    expect(l.requests[0].headers['content-encoding']).toBe('gzip');
    expect(l.docs.map((d) => d.message)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(l.docs[0]).toMatchObject({
      '@timestamp': new Date(T0 + 1).toISOString(),
      '@id': 'id-1',
      type: 'cloudwatch',
    });
    expect(lines.join('\n')).not.toContain('TOKEN-abc');
  });

  it('attributes a 400 oversizedLines report to the longest lines and keeps the rest delivered once', async () => {
    const l = await startLogzioListener({ token: 't', maxLineBytes: 400 });
    open.push(l);
    const { s } = sink({ flavor: 'logzio', url: l.url, token: 'env:LOGZ' }, { 'env:LOGZ': ['t'] });
    const recs = [rec(1), rec(2, { message: 'x'.repeat(600) }), rec(3)];
    const out = await deliver(s, recs, { retry: FAST });
    expect(out[1]).toMatchObject({ kind: 'rejected', code: 'LOGZIO_OVERSIZED_LINE' });
    expect([out[0].kind, out[2].kind]).toEqual(['delivered', 'delivered']);
    expect(l.requests).toHaveLength(1); // nothing re-sent: no duplicates
    expect(l.docs.map((d) => d['@id'])).toEqual(['id-1', 'id-3']);
  });

  it('rejects a line over the 500,000-byte Logz.io limit before sending', async () => {
    const l = await startLogzioListener({ token: 't' });
    open.push(l);
    const { s } = sink({ flavor: 'logzio', url: l.url, token: 'env:LOGZ' }, { 'env:LOGZ': ['t'] });
    const out = await deliver(s, [rec(1, { message: 'y'.repeat(500_001) }), rec(2)], { retry: FAST });
    expect(out[0]).toMatchObject({ kind: 'rejected', code: 'RECORD_TOO_LARGE' });
    expect(out[1].kind).toBe('delivered');
  });

  it('splits on 413 until every request fits', async () => {
    const l = await startLogzioListener({ token: 't', maxBodyBytes: 700 });
    open.push(l);
    const { s } = sink(
      { flavor: 'logzio', url: l.url, token: 'env:LOGZ', gzip: false },
      { 'env:LOGZ': ['t'] },
    );
    const recs = Array.from({ length: 8 }, (_, i) => rec(i));
    const out = await deliver(s, recs, { retry: FAST });
    expect(out.every((o) => o.kind === 'delivered')).toBe(true);
    expect(l.docs).toHaveLength(8);
    expect(l.requests.length).toBeGreaterThan(1);
  });

  it('re-resolves a rotated token once after 401, and gives up as SINK_AUTH when it stays wrong', async () => {
    const l = await startLogzioListener({ token: 'new' });
    open.push(l);
    const { s, calls } = sink(
      { flavor: 'logzio', url: l.url, token: 'env:LOGZ' },
      { 'env:LOGZ': ['old', 'new'] },
    );
    const out = await deliver(s, [rec(1)], { retry: FAST });
    expect(out[0].kind).toBe('delivered');
    expect(calls).toEqual(['resolve:env:LOGZ', 'refresh:env:LOGZ']);
    expect(s.stats.authRefreshes).toBe(1);

    l.token = 'rotated-again-but-not-in-the-store';
    const out2 = await deliver(s, [rec(2)], { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    expect(out2[0]).toMatchObject({ kind: 'failed', code: 'SINK_AUTH' });
    expect(out2[0].reason).not.toContain('new');
    expect(l.docs).toHaveLength(1);
  });
});

describe('http sink: splunk-hec', () => {
  it('sends concatenated events with time in seconds and HEC metadata', async () => {
    const h = await startHecServer({ token: 'hec-tok' });
    open.push(h);
    const { s } = sink(
      { flavor: 'splunk-hec', url: h.url, token: 'env:HEC', index: 'logs', host: 'cw' },
      { 'env:HEC': ['hec-tok'] },
    );
    const out = await deliver(s, [rec(1), rec(2, { fields: { level: 'warn' } })], { retry: FAST });
    expect(out.map((o) => o.kind)).toEqual(['delivered', 'delivered']);
    expect(h.requests[0].headers.authorization).toBe('Splunk hec-tok');
    expect(h.events[0]).toEqual({
      time: (T0 + 1) / 1000,
      host: 'cw',
      source: '/aws/lambda/orders',
      sourcetype: 'aws:cloudwatchlogs',
      index: 'logs',
      event: 'message 1',
    });
    expect(h.events[1].event).toEqual({ level: 'warn', message: 'message 2', '@id': 'id-2' });
  });

  it('accepts a URL that already names the endpoint (HEC /services/collector alias)', async () => {
    const h = await startHecServer({ token: 'k' });
    open.push(h);
    const { s } = sink(
      { flavor: 'splunk-hec', url: `${h.url}/services/collector`, token: 'env:HEC' },
      { 'env:HEC': ['k'] },
    );
    const { s: s2 } = sink(
      { flavor: 'splunk-hec', url: `${h.url}/services/collector/event/`, token: 'env:HEC' },
      { 'env:HEC': ['k'] },
    );
    expect((await deliver(s, [rec(1)], { retry: FAST }))[0].kind).toBe('delivered');
    expect((await deliver(s2, [rec(2)], { retry: FAST }))[0].kind).toBe('delivered');
    expect(h.requests.map((r) => r.url)).toEqual(['/services/collector', '/services/collector/event/']);
  });

  it('on invalid-event-number: earlier events delivered, the invalid one rejected, later ones re-sent once', async () => {
    const h = await startHecServer({ token: 'k' });
    open.push(h);
    const { s } = sink({ flavor: 'splunk-hec', url: h.url, token: 'env:HEC' }, { 'env:HEC': ['k'] });
    const recs = [rec(0), rec(1), rec(2, { message: '' }), rec(3), rec(4)];
    const out = await deliver(s, recs, { retry: FAST });
    expect(out.map((o) => o.kind)).toEqual(['delivered', 'delivered', 'rejected', 'delivered', 'delivered']);
    expect(out[2]).toMatchObject({ code: 'HEC_13' });
    expect(out[2].reason).toContain('Event field cannot be blank');
    expect(h.events.map((e) => e.event)).toEqual(['message 0', 'message 1', 'message 3', 'message 4']);
    expect(h.requests).toHaveLength(2);
  });

  it('treats 503 "Server is busy" as a throttle and honours Retry-After', async () => {
    const h = await startHecServer({ token: 'k' });
    open.push(h);
    h.busy = true;
    setTimeout(() => {
      h.busy = false;
    }, 300);
    const { s } = sink({ flavor: 'splunk-hec', url: h.url, token: 'env:HEC' }, { 'env:HEC': ['k'] });
    const started = Date.now();
    const out = await deliver(s, [rec(1)], {
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5_000 },
      random: () => 0,
    });
    expect(out[0].kind).toBe('delivered');
    // Jitter is 0 here, so only the server's `Retry-After: 1` can explain the wait.
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(h.events).toHaveLength(1);
  });

  it('403 Invalid token fails the batch as SINK_AUTH after one re-resolution per attempt', async () => {
    const h = await startHecServer({ token: 'right' });
    open.push(h);
    const { s, calls } = sink(
      { flavor: 'splunk-hec', url: h.url, token: 'env:HEC' },
      { 'env:HEC': ['wrong'] },
    );
    const out = await deliver(s, [rec(1)], { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    expect(out[0]).toMatchObject({ kind: 'failed', code: 'SINK_AUTH' });
    expect(calls).toEqual(['resolve:env:HEC', 'refresh:env:HEC']);
  });
});

describe('http sink: loki', () => {
  it('pushes streams labelled from log group/stream/component with ns-string values and the tenant header', async () => {
    const lk = await startLokiServer({ requireTenant: true });
    open.push(lk);
    const { s } = sink({
      flavor: 'loki',
      url: lk.url,
      tenant: 'team-a',
      staticLabels: { env: 'prod' },
      line: 'message',
    });
    const recs = [
      rec(1, { group: '/aws/eks/prod/cluster', stream: 'kube-apiserver-audit-abc' }),
      rec(2),
      rec(3, { group: '/aws/eks/prod/cluster', stream: 'kube-apiserver-audit-abc' }),
    ];
    const out = await deliver(s, recs, { retry: FAST });
    expect(out.every((o) => o.kind === 'delivered')).toBe(true);
    const push = JSON.parse(lk.requests[0].body);
    expect(push.streams).toHaveLength(2);
    expect(push.streams[0]).toEqual({
      stream: {
        log_group: '/aws/eks/prod/cluster',
        log_stream: 'kube-apiserver-audit-abc',
        component: 'kube-apiserver-audit',
        env: 'prod',
      },
      values: [
        [`${T0 + 1}000000`, 'message 1'],
        [`${T0 + 3}000000`, 'message 3'],
      ],
    });
    expect(push.streams[1].stream.component).toBe('lambda');
    expect(lk.requests[0].headers['x-scope-orgid']).toBe('team-a');
    expect([...(lk.store.get('team-a')?.values() ?? [])].flat()).toHaveLength(3);
  });

  it('rejects entries Loki lists as too far behind and delivers the rest exactly once', async () => {
    const lk = await startLokiServer({ windowMs: 60_000, maxReturnedErrors: 1 });
    open.push(lk);
    const { s } = sink({ flavor: 'loki', url: lk.url });
    await deliver(s, [rec(0, { ts: T0 + 3_600_000 })], { retry: FAST });
    const recs = [
      rec(1, { ts: T0 + 3_600_001 }),
      rec(2, { ts: T0 }),
      rec(3, { ts: T0 + 5 }),
      rec(4, { ts: T0 + 3_600_002 }),
    ];
    const out = await deliver(s, recs, { retry: FAST });
    expect(out.map((o) => o.kind)).toEqual(['delivered', 'rejected', 'rejected', 'delivered']);
    expect(out[1]).toMatchObject({ code: 'LOKI_TOO_FAR_BEHIND' });
    expect(out[1].reason).toContain('entry too far behind');
    const stored = [...(lk.store.get('fake')?.values() ?? [])].flat();
    expect(stored).toHaveLength(3); // re-sends (the list was cut to 1 error) did not duplicate
  });

  it('retries a 429 rate limit and delivers', async () => {
    const lk = await startLokiServer();
    open.push(lk);
    lk.failNext(1, 429, 'ingestion rate limit exceeded for user fake', { 'retry-after': '0' });
    const { s } = sink({ flavor: 'loki', url: lk.url });
    const out = await deliver(s, [rec(1)], { retry: FAST });
    expect(out[0].kind).toBe('delivered');
    expect(lk.requests).toHaveLength(2);
  });

  it('parses the ingester error format, including non-UTC offsets', () => {
    const body =
      "entry with timestamp 2024-05-06 17:58:50.5 +0200 CEST ignored, reason: 'entry out of order',\n" +
      'user \'fake\', total ignored: 1 out of 2 for stream: {app="web", host="a\\"b"}';
    const e = parseLokiPushError(body);
    expect(e).toEqual({
      entries: [{ ts: Date.UTC(2024, 4, 6, 15, 58, 50, 500), reason: 'entry out of order' }],
      ignored: 1,
      total: 2,
      labels: { app: 'web', host: 'a"b' },
    });
  });
});

describe('http sink: ndjson', () => {
  it('retries a 500, rejects a 400 with the reason, sends bearer tokens', async () => {
    const n = await startNdjsonServer({ bearer: 'b' });
    open.push(n);
    const { s } = sink(
      { flavor: 'ndjson', url: n.url, token: 'env:B', headers: { 'x-team': 'ops' } },
      { 'env:B': ['b'] },
    );
    n.failNext(1, 500, 'oops');
    const out = await deliver(s, [rec(1), rec(2)], { retry: FAST });
    expect(out.map((o) => o.kind)).toEqual(['delivered', 'delivered']);
    expect(n.docs.map((d) => d['@message'])).toEqual(['message 1', 'message 2']);
    expect(n.requests[1].headers['x-team']).toBe('ops');
    n.failNext(1, 400, 'schema mismatch');
    const out2 = await deliver(s, [rec(3)], { retry: FAST });
    expect(out2[0]).toMatchObject({ kind: 'rejected', code: 'SINK_REJECTED' });
    expect(out2[0].reason).toContain('schema mismatch');
  });

  it('redacts the token when a server echoes it in an error body', async () => {
    const n = await startNdjsonServer({ bearer: 'tok-echoed-123' });
    open.push(n);
    const { s } = sink({ flavor: 'ndjson', url: n.url, token: 'env:B' }, { 'env:B': ['tok-echoed-123'] });
    n.failNext(1, 400, 'bad request: Authorization: Bearer tok-echoed-123');
    const out = await deliver(s, [rec(1)], { retry: FAST });
    expect(out[0]).toMatchObject({ kind: 'rejected', code: 'SINK_REJECTED' });
    expect(out[0].reason).toContain('Bearer [redacted]');
    expect(out[0].reason).not.toContain('tok-echoed-123');
  });

  it('fails as SINK_UNAVAILABLE when nothing listens', async () => {
    const n = await startNdjsonServer();
    const url = n.url;
    await n.close();
    const { s } = sink({ flavor: 'ndjson', url, timeoutMs: 2_000 });
    const out = await deliver(s, [rec(1)], { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    expect(out[0]).toMatchObject({ kind: 'failed', code: 'SINK_UNAVAILABLE' });
  });
});
