/**
 * The one HTTP client of the HTTP log-service sinks (loki, splunk-hec, logzio, http): resolves the
 * token (a secret reference) on first use and re-resolves it once after a 401/403, gzips bodies
 * when asked, POSTs over Node's fetch (undici, keep-alive) within `timeoutMs` and the core's abort
 * signal, never logs or carries on the URL or the token (Logz.io puts it in the query string; a
 * server echoing it has it redacted), and reads an answer by the rules every service shares unless
 * its protocol knows better. Protocols (one per service) say how records are encoded, how a request
 * body and its URL/headers are built, and how partial answers are attributed to items.
 */
import { promisify } from 'node:util';
import { constants as zc, gzip as gzipCb } from 'node:zlib';
import { classifyStream, componentLabel } from '../../aws/classify.js';
import type { BuildContext, Logger } from '../../core/component.js';
import { LogferryError } from '../../core/errors.js';
import type { LogRecord } from '../../core/record.js';
import type { Encoded, SendContext, SendResult } from '../../core/sink.js';
import type { HttpSinkConfig } from './config.js';

const gzip = promisify(gzipCb);

/** Characters of a server's error body kept in reasons (bodies never carry our token). */
const BODY_EXCERPT = 300;

/** One encoded line; `stream` (Loki) is the stream's label set, serialised. */
export interface HttpItem {
  line: string;
  /** Event time, epoch ms (Loki matches rejected entries by it). */
  ts: number;
  stream?: string;
}

export interface HttpAnswer {
  status: number;
  text: string;
  retryAfterMs?: number;
}

/** What makes one service's wire protocol. */
export interface HttpProtocol {
  /** Default limits (config overrides them). */
  readonly defaults: { maxRecords: number; maxBytes: number; maxRecordBytes: number };
  /** Bytes each line costs beyond what `encode` counts (newline, framing). */
  readonly framingBytes: number;
  readonly gzipByDefault: boolean;
  encode(r: LogRecord): HttpItem;
  body(batch: readonly Encoded<HttpItem>[]): { body: string; contentType: string };
  /** The request URL, with auth headers set on `headers`. */
  target(url: string, token: string | undefined, headers: Record<string, string>): string;
  /** The service's own reading of an answer; undefined falls back to the shared rules. */
  interpret?(batch: readonly Encoded<HttpItem>[], res: HttpAnswer, name: string): SendResult | undefined;
}

/** Parses a Retry-After header (delta-seconds or HTTP-date) into ms. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return Math.round(s * 1000);
  const t = Date.parse(value);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

export function excerpt(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > BODY_EXCERPT ? `${t.slice(0, BODY_EXCERPT)}…` : t;
}

/** The component label (EKS component, lambda, ecs) a record's stream belongs to, by name. */
export function componentOf(r: LogRecord): string | undefined {
  const c = componentLabel(classifyStream(r.meta.logGroup, r.meta.logStream));
  return c === 'default' ? undefined : c;
}

/** The payload budget left once `records` lines of `perRecord` framing bytes are set aside. */
export function framedBudget(maxBytes: number, records: number, perRecord: number): number {
  return Math.max(Math.floor(maxBytes / 2), maxBytes - records * perRecord);
}

/**
 * Appends the API path unless the configured URL already names the endpoint (`/services/collector`
 * is HEC's alias of `/services/collector/event`).
 */
export function joinPath(base: string, path: string, alias?: string): string {
  const u = new URL(base);
  const p = u.pathname.replace(/\/+$/, '');
  if (p.endsWith(path) || (alias && p.endsWith(alias))) return u.toString();
  u.pathname = p + path;
  return u.toString();
}

function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return cause.code;
  return e instanceof Error ? e.name : 'network error';
}

export interface HttpClientStats {
  requests: number;
  authRefreshes: number;
}

export class HttpClient {
  readonly stats: HttpClientStats = { requests: 0, authRefreshes: 0 };
  private token?: string;
  private readonly resolveSecret?: (ref: string) => Promise<string>;
  private readonly refreshSecret?: (ref: string) => Promise<string>;
  private readonly log?: Logger;
  private readonly useGzip: boolean;

  constructor(
    private readonly cfg: HttpSinkConfig,
    private readonly protocol: HttpProtocol,
    private readonly name: string,
    ctx: BuildContext,
  ) {
    this.useGzip = cfg.gzip ?? protocol.gzipByDefault;
    this.resolveSecret = ctx.resolveSecret;
    this.refreshSecret = ctx.refreshSecret;
    this.log = ctx.log;
  }

  /** One request for the batch (and one more after a 401/403 with a re-read token), read as a result. */
  async send(batch: readonly Encoded<HttpItem>[], ctx: SendContext): Promise<SendResult> {
    const { body, contentType } = this.protocol.body(batch);
    const payload = this.useGzip ? await gzip(body, { level: zc.Z_BEST_SPEED }) : body;
    let res = await this.post(payload, contentType, ctx, false);
    if (res.status === 401 || res.status === 403) {
      if (this.cfg.token) {
        // Maybe a rotated credential: re-resolve once, then try this request again.
        this.stats.authRefreshes++;
        this.log?.warn('http sink: authentication refused; re-resolving the token once', {
          sink: this.name,
          status: res.status,
        });
        res = await this.post(payload, contentType, ctx, true);
      }
      if (res.status === 401 || res.status === 403) {
        throw new LogferryError(
          'SINK_AUTH',
          `${this.name}: authentication refused (HTTP ${res.status}): ${excerpt(res.text)}`,
        );
      }
    }
    return this.interpret(batch, res);
  }

  private async credential(refresh: boolean): Promise<string | undefined> {
    const ref = this.cfg.token;
    if (!ref) return undefined;
    if (this.token !== undefined && !refresh) return this.token;
    const resolve = refresh ? (this.refreshSecret ?? this.resolveSecret) : this.resolveSecret;
    let value: string;
    if (resolve) value = await resolve(ref);
    else {
      const { sharedSecretResolver } = await import('../../aws/secrets.js');
      const r = sharedSecretResolver();
      value = await (refresh ? r.refresh(ref) : r.resolve(ref));
    }
    this.token = value;
    return value;
  }

  private async post(
    payload: string | Buffer,
    contentType: string,
    ctx: SendContext,
    refresh: boolean,
  ): Promise<HttpAnswer> {
    const token = await this.credential(refresh);
    const headers: Record<string, string> = { ...this.cfg.headers, 'content-type': contentType };
    if (this.useGzip) headers['content-encoding'] = 'gzip';
    const url = this.protocol.target(this.cfg.url, token, headers);
    const timeout = AbortSignal.timeout(this.cfg.timeoutMs);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
    this.stats.requests++;
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body: payload, signal });
    } catch (e) {
      // Never include `url` (Logz.io carries the token in it) or the headers.
      const why = timeout.aborted ? `no answer within ${this.cfg.timeoutMs} ms` : networkReason(e);
      throw new LogferryError('SINK_UNAVAILABLE', `${this.name}: request failed: ${why}`);
    }
    let text = await res.text().catch(() => '');
    // A server may echo the request (URL with the Logz.io token, headers): never carry it onwards.
    if (token && token.length >= 4 && text.includes(token)) text = text.split(token).join('[redacted]');
    return { status: res.status, text, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) };
  }

  private interpret(batch: readonly Encoded<HttpItem>[], res: HttpAnswer): SendResult {
    const { status } = res;
    if (status === 413) return { problems: [], tooLarge: true };
    const own = this.protocol.interpret?.(batch, res, this.name);
    if (own) return own;
    if (status >= 200 && status < 300) return { problems: [] };
    if (status === 429 || status === 503) {
      throw new LogferryError(
        'SINK_THROTTLED',
        `${this.name}: throttled (HTTP ${status}): ${excerpt(res.text)}`,
        { details: { retryAfterMs: res.retryAfterMs } },
      );
    }
    if (status >= 500 || status === 408) {
      throw new LogferryError('SINK_UNAVAILABLE', `${this.name}: HTTP ${status}: ${excerpt(res.text)}`, {
        details: { retryAfterMs: res.retryAfterMs },
      });
    }
    throw new LogferryError(
      'SINK_REJECTED',
      `${this.name}: request refused (HTTP ${status}): ${excerpt(res.text)}`,
    );
  }
}
