/**
 * The `http` source: an HTTP(S) listener that takes (a) deliveries from Amazon Data Firehose's
 * HTTP endpoint destination (https://docs.aws.amazon.com/firehose/latest/dev/httpdeliveryrequestresponse.html),
 * so a Firehose stream delivers straight to logferry, and (b) plain text-lines or NDJSON POSTs from
 * any producer (Fluent Bit's `http` output with `json_lines`, Vector, curl).
 *
 * Delivery: at least once, acknowledged. A request is answered only once every record in it has an
 * outcome: 200 when all were delivered, dropped on purpose or dead-lettered; 503 when any failed
 * (the sender keeps the request and retries — Firehose with the same request id, which makes record
 * ids repeat, so sinks that dedupe by id store a retry once). Firehose answers are exactly the
 * documented shapes: `{requestId, timestamp}` with 200, `{requestId, timestamp, errorMessage}` with
 * 4xx/5xx, `Content-Type: application/json`.
 *
 * Limits and push-back: a body over `maxBodyBytes` (as sent) or over `maxDecodedBytes` (after
 * `Content-Encoding: gzip`) is answered 413 without being taken; while records and bytes handed to
 * the pipeline and not yet acknowledged are at `maxPendingRecords`/`maxPendingBytes`, new requests
 * are answered 429 with `Retry-After` before their body is read. Firehose allows up to 64 MiB
 * buffers: keep `maxBodyBytes` at least the stream's buffer size. Firehose answers must come within
 * 3 minutes (Firehose's request timeout); sinks' batch ages are far below that. The stream's
 * parameters (`X-Amz-Firehose-Common-Attributes`) become `fields.commonAttributes` of its records.
 *
 * Security: listens on 127.0.0.1 unless `address` says otherwise; `accessKey` (a secret reference,
 * never a literal) is compared in constant time with `X-Amz-Firehose-Access-Key` (Firehose) or an
 * `Authorization: Bearer` token (lines), and the resolved value is registered for masking.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createGunzip, createInflate } from 'node:zlib';
import type { BuildContext, ComponentSpec } from '../core/component.js';
import type { Source, SourceEnvelope } from '../core/source.js';
import {
  type BodyError,
  decodeFirehoseRequest,
  type LineMeta,
  lineRecords,
  ndjsonRecords,
} from './http-decode.js';
import { formatAddress, listenError, loadTls, resolveSecretRef, sameSecret } from './listen.js';
import { outcomeJoin, type PushStats } from './push-queue.js';
import { ListenerSource } from './listener-source.js';
import { FIREHOSE_MAX_ACCESS_KEY_BYTES, type HttpSourceConfig, httpSourceMeta } from './http-config.js';

export {
  FIREHOSE_MAX_ACCESS_KEY_BYTES,
  FIREHOSE_MAX_BUFFER_BYTES,
  httpSourceConfig,
  type HttpSourceConfig,
} from './http-config.js';

export interface HttpSourceStats extends PushStats {
  requests: number;
  /** Answers by status code. */
  answers: Record<number, number>;
}

const RETRY_AFTER_S = 1;

export class HttpSource extends ListenerSource<AddressInfo> {
  readonly type = 'http';
  private readonly cfg: HttpSourceConfig;
  private server: Server | undefined;
  private key: string | undefined;
  /** Bytes of bodies being read (not yet handed over), counted against `maxPendingBytes`. */
  private reading = 0;
  private readonly counters = { requests: 0, answers: {} as Record<number, number> };

  constructor(cfg: HttpSourceConfig, ctx: BuildContext = {}) {
    super(cfg.name ?? 'http', cfg, ctx);
    this.cfg = cfg;
  }

  get stats(): HttpSourceStats {
    return { ...this.queue.stats, requests: this.counters.requests, answers: { ...this.counters.answers } };
  }

  async close(): Promise<void> {
    this.queue.end();
    this.queue.failOutstanding();
    const s = this.server;
    this.server = undefined;
    if (s) {
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeIdleConnections();
        setTimeout(() => s.closeAllConnections(), 1000).unref();
      });
    }
  }

  protected async listen(): Promise<AddressInfo> {
    const c = this.cfg;
    if (c.accessKey) {
      this.key = await resolveSecretRef(c.accessKey, this.ctx);
      if (Buffer.byteLength(this.key) > FIREHOSE_MAX_ACCESS_KEY_BYTES)
        this.log?.warn(`${this.name}: accessKey is longer than Firehose's 4,096-byte limit`);
    }
    const tls = await loadTls(c.tls, this.ctx.cwd ?? process.cwd());
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    const server = tls
      ? createHttpsServer({ ...tls, requestCert: tls.ca !== undefined }, handler)
      : createHttpServer(handler);
    // Receiving a request (not answering it: that waits for the outcome) must finish within 5 minutes.
    server.requestTimeout = 300_000;
    server.headersTimeout = 60_000;
    server.keepAliveTimeout = 65_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: unknown) => reject(listenError(this.name, c.address, c.port, e));
      server.once('error', onError);
      server.listen(c.port, c.address, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (e) => this.log?.error(`${this.name}: server error`, { error: (e as Error).message }));
    const addr = server.address() as AddressInfo;
    this.log?.info(`${this.name}: listening`, {
      address: formatAddress(addr.address, addr.port),
      tls: tls !== undefined,
    });
    return addr;
  }

  protected stopListening(): void {
    // No new connections; requests in progress are still answered (close() ends the rest).
    this.server?.close();
    this.server?.closeIdleConnections();
  }

  private answer(
    res: ServerResponse,
    status: number,
    body: unknown,
    extra: Record<string, string> = {},
  ): void {
    this.counters.answers[status] = (this.counters.answers[status] ?? 0) + 1;
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      ...extra,
    });
    res.end(text);
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    this.counters.requests++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const p = q < 0 ? url : url.slice(0, q);
    const firehose = p === this.cfg.firehosePath;
    const headerId = header(req, 'x-amz-firehose-request-id');
    const fail = (
      status: number,
      message: string,
      requestId = headerId,
      extra: Record<string, string> = {},
    ) => {
      if (firehose)
        this.answer(
          res,
          status,
          { requestId: requestId ?? '', timestamp: Date.now(), errorMessage: message },
          extra,
        );
      else this.answer(res, status, { error: message }, extra);
      if (!req.complete) {
        // Do not read a body we refused; close the connection once the answer is out.
        res.once('finish', () => req.destroy());
      }
    };
    if (!firehose && p !== this.cfg.path) return fail(404, `no endpoint at ${p}`);
    if (req.method !== 'POST') return fail(405, 'only POST is accepted', headerId, { allow: 'POST' });
    if (this.key !== undefined) {
      const presented = firehose ? header(req, 'x-amz-firehose-access-key') : bearer(req);
      if (!sameSecret(presented, this.key))
        return fail(
          presented === undefined ? 401 : 403,
          presented === undefined ? 'missing access key' : 'access key does not match',
        );
    }
    if (this.queue.closed)
      return fail(503, 'logferry is shutting down; send again later', headerId, { 'retry-after': '5' });
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > this.cfg.maxBodyBytes)
      return fail(413, `body of ${declared} bytes exceeds maxBodyBytes ${this.cfg.maxBodyBytes}`);
    const expect = Number.isFinite(declared) ? declared : 0;
    if (this.queue.full || this.queue.pending.bytes + this.reading + expect > this.cfg.maxPendingBytes) {
      this.queue.throttled();
      return fail(429, 'logferry is at its pending-records bound; slow down', headerId, {
        'retry-after': String(RETRY_AFTER_S),
      });
    }
    const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'deflate')
      return fail(415, `unsupported Content-Encoding ${encoding} (gzip, deflate or none)`);
    this.readBody(req, encoding, (err, body, wire) => {
      if (err) return fail(err.status, err.message);
      if (firehose) this.takeFirehose(req, body!, wire, headerId, res, fail);
      else this.takeLines(req, body!, wire, res, fail);
    });
  }

  /** Reads the body within the limits; `wire` is the size as sent. */
  private readBody(
    req: IncomingMessage,
    encoding: string,
    done: (err: BodyError | undefined, body?: Buffer, wire?: number) => void,
  ): void {
    const max = this.cfg.maxBodyBytes;
    const maxDecoded = this.cfg.maxDecodedBytes;
    const chunks: Buffer[] = [];
    let wire = 0;
    let decodedLen = 0;
    let finished = false;
    const finish = (err: BodyError | undefined) => {
      if (finished) return;
      finished = true;
      this.reading -= wire;
      if (err) {
        req.pause();
        done(err);
      } else done(undefined, Buffer.concat(chunks, decodedLen), wire);
    };
    const inflater =
      encoding === 'gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : undefined;
    req.on('data', (c: Buffer) => {
      if (finished) return;
      wire += c.length;
      this.reading += c.length;
      if (wire > max) return finish({ status: 413, message: `body exceeds maxBodyBytes ${max}` });
      if (inflater) inflater.write(c);
      else {
        chunks.push(c);
        decodedLen += c.length;
      }
    });
    req.on('error', () => finish({ status: 400, message: 'the request was aborted' }));
    // A client that goes away mid-body emits neither 'end' nor always 'error': free what it held.
    req.on('close', () => {
      if (!req.complete) finish({ status: 400, message: 'the request was aborted' });
    });
    if (!inflater) {
      req.on('end', () => finish(undefined));
      return;
    }
    inflater.on('data', (c: Buffer) => {
      if (finished) return;
      decodedLen += c.length;
      if (decodedLen > maxDecoded) {
        inflater.destroy();
        return finish({ status: 413, message: `decompressed body exceeds maxDecodedBytes ${maxDecoded}` });
      }
      chunks.push(c);
    });
    inflater.on('error', (e) =>
      finish({ status: 400, message: `body is not valid ${encoding}: ${e.message}` }),
    );
    inflater.on('end', () => finish(undefined));
    req.on('end', () => inflater.end());
  }

  private meta(req: IncomingMessage): LineMeta {
    const arn = header(req, 'x-amz-firehose-source-arn');
    const stream = arn?.slice(arn.lastIndexOf('/') + 1);
    return {
      logGroup: this.cfg.logGroup ?? this.name,
      logStream: stream || req.socket.remoteAddress || 'http',
      ...(this.cfg.tag === undefined ? {} : { tag: this.cfg.tag }),
    };
  }

  private takeFirehose(
    req: IncomingMessage,
    body: Buffer,
    _wire: number | undefined,
    headerId: string | undefined,
    res: ServerResponse,
    fail: (status: number, message: string, requestId?: string) => void,
  ) {
    let decoded: ReturnType<typeof decodeFirehoseRequest>;
    try {
      decoded = decodeFirehoseRequest(body, headerId, this.meta(req), this.cfg.maxDecodedBytes);
    } catch (e) {
      // A record's gzip decompressing past the limit or corrupt on the second look.
      return fail(400, `a record could not be decoded: ${(e as Error).message}`);
    }
    if ('status' in decoded) return fail(decoded.status, decoded.message, decoded.requestId);
    const { requestId, envelopes } = decoded;
    const attrs = commonAttributes(header(req, 'x-amz-firehose-common-attributes'));
    if (attrs)
      for (const env of envelopes) for (const r of env.records) r.fields.commonAttributes = { ...attrs };
    const settle = outcomeJoin(envelopes.length, (worst) => {
      if (worst.kind === 'failed')
        fail(503, `records could not be delivered (${worst.code ?? 'FAILED'}); retry`, requestId);
      else this.answer(res, 200, { requestId, timestamp: Date.now() });
    });
    for (const env of envelopes) this.queue.push(env, settle);
  }

  private takeLines(
    req: IncomingMessage,
    body: Buffer,
    wire: number | undefined,
    res: ServerResponse,
    fail: (status: number, message: string) => void,
  ) {
    const now = Date.now();
    const seq = this.counters.requests;
    const ackId = `${this.name}:${now}:${seq}`;
    const text = body.toString('utf8');
    const meta = this.meta(req);
    const records =
      this.cfg.format === 'ndjson'
        ? ndjsonRecords(text, meta, ackId, ackId, now)
        : lineRecords(text, meta, ackId, ackId, now);
    if (!Array.isArray(records)) return fail(records.status, records.message);
    if (records.length === 0) return this.answer(res, 200, { accepted: 0 });
    const env: SourceEnvelope = { ackId, records, bytes: wire ?? body.length };
    this.queue.push(env, (o) => {
      if (o.kind === 'failed') fail(503, `records could not be delivered (${o.code ?? 'FAILED'}); retry`);
      else this.answer(res, 200, { accepted: records.length });
    });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The stream's configured parameters, `X-Amz-Firehose-Common-Attributes:
 * {"commonAttributes":{"k":"v"}}`; undefined when absent or not that shape.
 */
export function commonAttributes(v: string | undefined): Record<string, string> | undefined {
  if (!v) return undefined;
  try {
    const doc = JSON.parse(v) as { commonAttributes?: unknown };
    const a = doc?.commonAttributes;
    if (typeof a !== 'object' || a === null || Array.isArray(a)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(a)) if (typeof x === 'string') out[k] = x;
    return Object.keys(out).length > 0 ? out : undefined;
  } catch {
    return undefined;
  }
}

function bearer(req: IncomingMessage): string | undefined {
  const auth = header(req, 'authorization');
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return header(req, 'x-amz-firehose-access-key');
}

export const httpSourceSpec: ComponentSpec<HttpSourceConfig, Source> = {
  ...httpSourceMeta,
  create: (cfg, ctx) => new HttpSource(cfg, ctx),
};
