/**
 * The sink compliance suite: every network sink runs the same behavioural scenarios through the
 * core's delivery engine (`deliver`) and the runner, against a local stand-in of its service on
 * 127.0.0.1 that speaks the service's wire protocol and injects faults the way the service
 * reports them:
 *
 * - throttling (429 / 503 / ThrottlingException / HEC busy): retried until delivered, nothing lost;
 * - a permanent error (400-class): rejected at once, no retries;
 * - a partial answer (per-item failures, where the protocol has them): only the failed items are
 *   sent again, nothing stored twice;
 * - batch limits: no send exceeds the sink's `maxRecords` / `maxBytes`;
 * - flush on close: records of a partial batch (far below the limits, `maxAgeMs` far away) are
 *   delivered by the time the runner has run its sources and closed, and the envelope is
 *   acknowledged only after its records were stored.
 *
 * A sink added later gets a harness here (its stand-in's decode and answers); the scenarios stay.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../src/core/deliver.js';
import type { Outcome } from '../../src/core/outcome.js';
import type { LogRecord } from '../../src/core/record.js';
import { createRunner } from '../../src/core/runner.js';
import type { Encoded, Sink } from '../../src/core/sink.js';
import type { Source, SourceEnvelope } from '../../src/core/source.js';
import { FirehoseSink } from '../../src/sinks/firehose.js';
import { sinks as registry } from '../../src/sinks/index.js';
import { SqsMessageSink } from '../../src/sinks/sqs.js';

type Fault = 'ok' | 'throttle' | 'reject' | 'partial';

interface Req {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
  /** Messages the stand-in stored. */
  stored: string[];
  /** Messages it failed retriably (partial answers). */
  retried?: string[];
}

interface Harness {
  type: string;
  /** Per-item answers exist in the protocol (the partial scenario applies). */
  partial: boolean;
  create(url: string): Promise<Sink<unknown>> | Sink<unknown>;
  /** Messages of a data request, in order; undefined for other requests (answered by `other`). */
  decode(req: Req): string[] | undefined;
  answer(fault: Fault, msgs: string[]): Answer;
  other?(req: Req): { status: number; body: string };
}

const json = (v: unknown) => JSON.stringify(v);
const lines = (b: Buffer) => b.toString('utf8').split('\n').filter(Boolean);
const ctx = { resolveSecret: async () => 'compliance-token' };
const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };
// The s3 sink takes credentials from the default chain.
process.env.AWS_ACCESS_KEY_ID ??= creds.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY ??= creds.secretAccessKey;
const SMALL = { maxRecords: 7, maxBytes: 2_000, maxAgeMs: 3_600_000 };

async function fromRegistry(type: string, options: Record<string, unknown>): Promise<Sink<unknown>> {
  const spec = registry.find((s) => s.type === type);
  if (!spec) throw new Error(`no sink ${type}`);
  return spec.create(spec.schema.parse({ type, ...options }), ctx);
}

/** Messages of NDJSON lines holding archive documents. */
const docMessages = (req: Req) => lines(req.body).map((l) => String(JSON.parse(l)['@message']));

function lineProtocol(type: string, extra: Record<string, unknown> = {}): Harness {
  return {
    type,
    partial: false,
    create: (url) => fromRegistry(type, { url, ...SMALL, ...extra }),
    decode: (req) => (req.method === 'POST' ? docMessages(req) : undefined),
    answer: (fault, msgs) =>
      fault === 'throttle'
        ? { status: 429, body: 'slow down', stored: [] }
        : fault === 'reject'
          ? { status: 400, body: 'bad request', stored: [] }
          : { status: 200, body: '{}', stored: msgs },
  };
}

const harnesses: Harness[] = [
  lineProtocol('http'),
  lineProtocol('logzio', { token: 'env:T' }),
  {
    type: 'splunk-hec',
    partial: true,
    create: (url) => fromRegistry('splunk-hec', { url, token: 'env:T', ...SMALL }),
    decode: (req) =>
      req.method === 'POST'
        ? lines(req.body).map((l) => {
            const ev = JSON.parse(l).event;
            return typeof ev === 'string' ? ev : String(ev.message);
          })
        : undefined,
    answer(fault, msgs) {
      if (fault === 'throttle')
        return { status: 503, body: json({ text: 'Server is busy', code: 9 }), stored: [] };
      if (fault === 'reject')
        return { status: 400, body: json({ text: 'Invalid data format', code: 6 }), stored: [] };
      if (fault === 'partial' && msgs.length > 2)
        // HEC indexes events before the first invalid one; the ones after it are not processed.
        return {
          status: 400,
          body: json({ text: 'Invalid data format', code: 6, 'invalid-event-number': 1 }),
          stored: msgs.slice(0, 1),
          retried: msgs.slice(2),
        };
      return { status: 200, body: json({ text: 'Success', code: 0 }), stored: msgs };
    },
  },
  {
    type: 'loki',
    partial: false,
    create: (url) => fromRegistry('loki', { url, ...SMALL }),
    decode: (req) =>
      req.method === 'POST'
        ? (JSON.parse(req.body.toString('utf8')).streams as { values: [string, string][] }[]).flatMap((s) =>
            s.values.map(([, line]) => String(JSON.parse(line)['@message'])),
          )
        : undefined,
    answer: (fault, msgs) =>
      fault === 'throttle'
        ? { status: 429, body: 'Ingestion rate limit exceeded', stored: [] }
        : fault === 'reject'
          ? { status: 400, body: 'error at least one label pair is required per stream', stored: [] }
          : { status: 204, body: '', stored: msgs },
  },
  {
    type: 's3',
    partial: false,
    create: (url) =>
      fromRegistry('s3', { url: 's3://compliance/logs', endpoint: url, region: 'us-east-1', ...SMALL }),
    decode: (req) => {
      if (req.method !== 'PUT') return undefined;
      const body = req.body[0] === 0x1f && req.body[1] === 0x8b ? gunzipSync(req.body) : req.body;
      return lines(body).map((l) => String(JSON.parse(l)['@message']));
    },
    answer(fault, msgs) {
      const xml = (status: number, code: string) => ({
        status,
        headers: { 'content-type': 'application/xml' },
        body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message><RequestId>r</RequestId></Error>`,
        stored: [],
      });
      if (fault === 'throttle') return xml(503, 'SlowDown');
      if (fault === 'reject') return xml(403, 'AccessDenied');
      return { status: 200, headers: { etag: '"0123456789abcdef0123456789abcdef"' }, body: '', stored: msgs };
    },
  },
  {
    type: 'opensearch',
    partial: true,
    create: (url) =>
      fromRegistry('opensearch', { url, index: 'compliance', onMappingError: 'reject', ...SMALL }),
    decode: (req) =>
      req.method === 'POST' && req.path.startsWith('/_bulk')
        ? lines(req.body)
            .filter((_, i) => i % 2 === 1)
            .map((l) => String(JSON.parse(l)['@message']))
        : undefined,
    other: () => ({ status: 200, body: json({ version: { number: '2.19.0', distribution: 'opensearch' } }) }),
    answer(fault, msgs) {
      if (fault === 'throttle')
        return {
          status: 429,
          body: json({ error: { type: 'es_rejected_execution_exception' }, status: 429 }),
          stored: [],
        };
      if (fault === 'reject')
        return {
          status: 400,
          body: json({ error: { type: 'parse_exception', reason: 'bad' }, status: 400 }),
          stored: [],
        };
      const failed = (i: number) => fault === 'partial' && i % 2 === 1;
      return {
        status: 200,
        body: json({
          errors: msgs.some((_, i) => failed(i)),
          items: msgs.map((_, i) => ({
            create: failed(i)
              ? { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } }
              : { status: 201 },
          })),
        }),
        stored: msgs.filter((_, i) => !failed(i)),
        retried: msgs.filter((_, i) => failed(i)),
      };
    },
  },
  {
    type: 'firehose',
    partial: true,
    create: (url) =>
      new FirehoseSink(
        'compliance',
        new FirehoseClient({ endpoint: url, region: 'us-east-1', credentials: creds, maxAttempts: 1 }),
      ),
    decode: (req) =>
      req.method === 'POST'
        ? (JSON.parse(req.body.toString('utf8')).Records as { Data: string }[]).map((r) =>
            Buffer.from(r.Data, 'base64').toString('utf8').trimEnd(),
          )
        : undefined,
    answer(fault, msgs) {
      const aws = (type: string) => ({
        status: 400,
        body: json({ __type: type, message: 'injected' }),
        stored: [],
      });
      if (fault === 'throttle') return aws('ThrottlingException');
      if (fault === 'reject') return aws('InvalidArgumentException');
      const failed = (i: number) => fault === 'partial' && i % 3 === 0;
      return {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: json({
          FailedPutCount: msgs.filter((_, i) => failed(i)).length,
          RequestResponses: msgs.map((_, i) =>
            failed(i)
              ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }
              : { RecordId: `r${i}` },
          ),
        }),
        stored: msgs.filter((_, i) => !failed(i)),
        retried: msgs.filter((_, i) => failed(i)),
      };
    },
  },
  {
    // The sqs dead-letter store's sink (dead letters are delivered by the same engine).
    type: 'sqs',
    partial: true,
    create: (url) =>
      new SqsMessageSink(
        { queueUrl: `${url}/123456789012/dlq`, maxMessageBytes: 262_144, maxAttempts: 4, timeoutMs: 5_000 },
        new SQSClient({ endpoint: url, region: 'us-east-1', credentials: creds, maxAttempts: 1 }),
      ),
    decode: (req) =>
      req.method === 'POST'
        ? (JSON.parse(req.body.toString('utf8')).Entries as { MessageBody: string }[]).map(
            (e) => e.MessageBody,
          )
        : undefined,
    answer(fault, msgs) {
      const aws = (type: string) => ({
        status: 400,
        body: json({ __type: `com.amazonaws.sqs#${type}`, message: 'injected' }),
        stored: [],
      });
      if (fault === 'throttle') return aws('RequestThrottled');
      if (fault === 'reject') return aws('InvalidParameterValue');
      const failed = (i: number) => fault === 'partial' && i % 2 === 0;
      return {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0' },
        body: json({
          Successful: msgs
            .map((m, i) => ({ m, i }))
            .filter(({ i }) => !failed(i))
            .map(({ m, i }) => ({
              Id: `e${i}`,
              MessageId: `m${i}`,
              MD5OfMessageBody: createHash('md5').update(m).digest('hex'),
            })),
          Failed: msgs
            .map((_, i) => i)
            .filter(failed)
            .map((i) => ({ Id: `e${i}`, SenderFault: false, Code: 'InternalError', Message: 'injected' })),
        }),
        stored: msgs.filter((_, i) => !failed(i)),
        retried: msgs.filter((_, i) => failed(i)),
      };
    },
  },
];

/** A stand-in server: answers data requests by the current plan and records what was stored. */
interface StandIn {
  url: string;
  plan: (call: number) => Fault;
  requests: string[][];
  stored: string[];
  retried: string[][];
  reset(plan: (call: number) => Fault): void;
  close(): Promise<void>;
}

async function standIn(h: Harness): Promise<StandIn> {
  const s: StandIn = {
    url: '',
    plan: () => 'ok',
    requests: [],
    stored: [],
    retried: [],
    reset(plan) {
      s.plan = plan;
      s.requests = [];
      s.stored = [];
      s.retried = [];
    },
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const r: Req = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      const msgs = h.decode(r);
      if (!msgs) {
        const o = h.other?.(r) ?? { status: 404, body: '' };
        res.writeHead(o.status, { 'content-type': 'application/json' });
        res.end(o.body);
        return;
      }
      const a = h.answer(s.plan(s.requests.length), msgs);
      s.requests.push(msgs);
      s.stored.push(...a.stored);
      if (a.retried) s.retried.push(a.retried);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  s.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return s;
}

function records(n: number, tag: string): LogRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    timestamp: 1_764_000_000_000 + i,
    message: `${tag}-${i}`,
    fields: { n: i },
    meta: {
      owner: '123456789012',
      logGroup: '/aws/lambda/compliance',
      logStream: '2026/12/05/[$LATEST]0123456789abcdef0123456789abcdef',
      id: `${tag}-${i}`,
      source: 'compliance',
      ackId: `${tag}-env`,
    },
  }));
}

const FAST = { retry: { maxAttempts: 6, baseDelayMs: 1, maxDelayMs: 5 }, random: () => 0.5 };

/** Records the batches a sink is given (count and encoded bytes) without changing them. */
function watchSends(sink: Sink<unknown>): { records: number; bytes: number }[] {
  const seen: { records: number; bytes: number }[] = [];
  const send = sink.send.bind(sink);
  sink.send = (batch: readonly Encoded<unknown>[], c) => {
    seen.push({ records: batch.length, bytes: batch.reduce((n, e) => n + e.bytes, 0) });
    return send(batch, c);
  };
  return seen;
}

const sorted = (xs: string[]) => [...xs].sort();

describe.each(harnesses.map((h) => [h.type, h] as const))('%s sink compliance', (_type, h) => {
  let srv: StandIn;
  let sink: Sink<unknown>;
  let n: number;
  beforeAll(async () => {
    srv = await standIn(h);
    sink = await h.create(srv.url);
    n = sink.limits.maxRecords * 3 + 1;
  });
  afterAll(async () => {
    await sink?.close?.();
    await srv?.close();
  });

  it('retries throttling until everything is delivered, without loss or duplicates', async () => {
    srv.reset((call) => (call < 2 ? 'throttle' : 'ok'));
    const recs = records(n, 'thr');
    const out = await deliver(sink, recs, FAST);
    expect(out.map((o) => o.kind)).toEqual(recs.map(() => 'delivered'));
    expect(sorted(srv.stored)).toEqual(sorted(recs.map((r) => r.message)));
    expect(srv.requests.length).toBeGreaterThan(Math.ceil(n / sink.limits.maxRecords));
  });

  it('rejects what the service refuses permanently, without retrying it', async () => {
    srv.reset(() => 'reject');
    const recs = records(5, 'rej');
    const out = await deliver(sink, recs, FAST);
    expect(out.map((o) => o.kind)).toEqual(recs.map(() => 'rejected'));
    expect(out.every((o) => (o.reason ?? '').length > 0)).toBe(true);
    expect(srv.requests).toHaveLength(1);
    expect(srv.stored).toEqual([]);
  });

  it.runIf(h.partial)('re-sends only the items that failed', async () => {
    srv.reset((call) => (call === 0 ? 'partial' : 'ok'));
    const recs = records(Math.min(6, sink.limits.maxRecords), 'part');
    const out = await deliver(sink, recs, FAST);
    expect(srv.retried[0]?.length ?? 0).toBeGreaterThan(0);
    // The second request carries exactly the retried items.
    expect(sorted(srv.requests[1])).toEqual(sorted(srv.retried[0]));
    // Nothing is stored twice; every item is delivered or (refused for good) rejected.
    expect(new Set(srv.stored).size).toBe(srv.stored.length);
    const delivered = recs.filter((_, i) => out[i].kind === 'delivered').map((r) => r.message);
    expect(sorted(srv.stored)).toEqual(sorted(delivered));
    for (const o of out) expect(['delivered', 'rejected']).toContain(o.kind);
  });

  it('never exceeds its batch limits', async () => {
    srv.reset(() => 'ok');
    const seen = watchSends(sink);
    const recs = records(n, 'lim');
    await deliver(sink, recs, FAST);
    expect(seen.length).toBeGreaterThanOrEqual(Math.ceil(n / sink.limits.maxRecords));
    for (const b of seen) {
      expect(b.records).toBeLessThanOrEqual(sink.limits.maxRecords);
      expect(b.bytes).toBeLessThanOrEqual(sink.limits.maxBytes);
    }
    expect(seen.reduce((k, b) => k + b.records, 0)).toBe(n);
  });

  it('flushes a partial batch when the run ends, acknowledging only after delivery', async () => {
    srv.reset(() => 'ok');
    const recs = records(3, 'flush');
    const acks: { outcome: Outcome; storedAtAck: string[] }[] = [];
    const env: SourceEnvelope = { ackId: 'flush-env', records: recs, bytes: 100 };
    const source: Source = {
      type: 'compliance',
      name: 'compliance',
      async *envelopes() {
        yield env;
      },
      async ack(_e, outcome) {
        acks.push({ outcome, storedAtAck: [...srv.stored] });
      },
    };
    const runner = createRunner(
      { sources: [{ name: 'compliance' }], transforms: [], sinks: [{ name: sink.name, sink }] },
      { deliver: FAST },
    );
    const result = await runner.run([source]);
    expect(result.tally.total.delivered).toBe(3);
    expect(acks).toHaveLength(1);
    expect(acks[0].outcome.kind).toBe('delivered');
    expect(sorted(acks[0].storedAtAck)).toEqual(sorted(recs.map((r) => r.message)));
  });
});
