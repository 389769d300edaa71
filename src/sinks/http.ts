/**
 * The `http` sink: one sink, four wire protocols (`flavor`) for HTTP log services — the Logz.io bulk
 * listener, Splunk HTTP Event Collector, Grafana Loki's push API and a generic NDJSON POST. It
 * encodes purely, sends one request per batch over Node's fetch (undici, keep-alive) and reports per
 * item what to retry and what to reject, so the core's single retry layer re-sends only the failed
 * items. Delivery is at-least-once: a retried request may land twice where the service cannot
 * dedupe (Loki drops exact duplicates of a stream's entries; Logz.io and Splunk do not), which is
 * why partial answers are attributed item by item instead of re-sending whole batches.
 *
 * Tokens are secret references (`ssm:/…`, `secretsmanager:…`, `env:NAME`) resolved through the
 * BuildContext on first use, never literals in config, never logged (the Logz.io token travels in
 * the query string, so the URL is never logged either). A 401/403 re-resolves the token once (a
 * rotated credential) before the batch is given back to the core as SINK_AUTH.
 *
 * Limits (named below with their sources): Logz.io 10 MB per request and 500,000 bytes per line;
 * Loki's default 256 KB line limit; conservative defaults for Splunk HEC and generic endpoints.
 */
import { promisify } from 'node:util';
import { constants as zc, gzip as gzipCb } from 'node:zlib';
import { z } from 'zod';
import { classifyStream, componentLabel } from '../aws/classify.js';
import type { BuildContext, ComponentSpec, Logger } from '../core/component.js';
import { toDocument } from '../core/document.js';
import { LogferryError } from '../core/errors.js';
import type { LogRecord } from '../core/record.js';
import type { Encoded, ItemProblem, SendContext, SendResult, Sink, SinkLimits } from '../core/sink.js';

const gzip = promisify(gzipCb);

/** Logz.io bulk listener: "Max body size is 10 MB (10,485,760 bytes)" — https://docs.logz.io/docs/shipping/Code/HTTP */
export const LOGZIO_MAX_REQUEST_BYTES = 10_485_760;
/** Logz.io bulk listener: "Each log line must be 500,000 bytes or less" — https://docs.logz.io/docs/shipping/Code/HTTP */
export const LOGZIO_MAX_LINE_BYTES = 500_000;
/**
 * Loki `limits_config.max_line_size` default (256KB) — https://grafana.com/docs/loki/latest/configure/#limits_config
 * A longer line is refused by the distributor; we reject it before sending.
 */
export const LOKI_DEFAULT_MAX_LINE_BYTES = 256 * 1024;
/**
 * Request budget for Loki pushes. The push body is bounded by the server's gRPC/HTTP receive size
 * (`server.grpc_server_max_recv_msg_size`, 4 MB by default, the distributor forwards the push as one
 * message) — https://grafana.com/docs/loki/latest/configure/#server
 */
export const LOKI_DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/**
 * Splunk HEC: the request limit is the server's `[http_input] max_content_length` (limits.conf) and
 * differs between Splunk Enterprise and Splunk Cloud — https://docs.splunk.com/Documentation/Splunk/latest/Admin/Limitsconf
 * 1 MiB is a conservative default that every deployment accepts; raise `maxBytes` to match yours.
 */
export const SPLUNK_DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
/** Generic endpoints: a conservative request size; raise `maxBytes` for your server. */
export const NDJSON_DEFAULT_MAX_REQUEST_BYTES = 5 * 1024 * 1024;

const DEFAULT_TIMEOUT_MS = 30_000;
/** Distinct CloudWatch streams whose Loki label sets are kept (bounded: cleared when full). */
const LABEL_CACHE_ENTRIES = 10_000;
/** Characters of a server's error body kept in reasons (bodies never carry our token). */
const BODY_EXCERPT = 300;

export const FLAVORS = ['logzio', 'splunk-hec', 'loki', 'ndjson'] as const;
export type Flavor = (typeof FLAVORS)[number];

const SECRET_REF = /^(ssm:.+|secretsmanager:.+|env:[A-Za-z_][A-Za-z0-9_]*)$/;

const secretRef = z.string().refine((s) => SECRET_REF.test(s), {
  // Never echo the value: it may be a pasted token.
  message:
    'token must be a secret reference (ssm:/name, secretsmanager:<id>[#key] or env:NAME), never a literal token in config',
});

const LOKI_LABEL_SOURCES = ['logGroup', 'logStream', 'component', 'owner'] as const;

export const httpSinkConfig = z
  .strictObject({
    type: z.literal('http'),
    name: z.string().min(1).optional(),
    flavor: z.enum(FLAVORS),
    /** Full endpoint. Logz.io: `https://listener.logz.io:8071`; Splunk: `https://host:8088`; Loki: `http://host:3100`. */
    url: z.url(),
    /** Secret reference for the credential (required for logzio and splunk-hec). */
    token: secretRef.optional(),
    /** Logz.io `type` query parameter (parsing pipeline). */
    logType: z.string().regex(/^\S+$/, 'logType cannot contain spaces').default('logferry'),
    /** Compress request bodies (Content-Encoding: gzip). Default: on for logzio, off otherwise. */
    gzip: z.boolean().optional(),
    /** Extra request headers (not for credentials: use `token`). */
    headers: z.record(z.string(), z.string()).default({}),
    /** ndjson: header that carries the token, and its prefix. */
    tokenHeader: z.string().min(1).default('Authorization'),
    tokenPrefix: z.string().default('Bearer '),
    /** Splunk HEC metadata. */
    index: z.string().min(1).optional(),
    sourcetype: z.string().min(1).default('aws:cloudwatchlogs'),
    source: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    /** Loki: tenant (`X-Scope-OrgID`), which record facts become stream labels, static labels, line format. */
    tenant: z.string().min(1).optional(),
    labels: z.array(z.enum(LOKI_LABEL_SOURCES)).default(['logGroup', 'logStream', 'component']),
    staticLabels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string()).default({}),
    line: z.enum(['json', 'message']).default('json'),
    /** Batch limits (defaults per flavor). */
    maxRecords: z.number().int().positive().optional(),
    maxBytes: z.number().int().positive().optional(),
    maxRecordBytes: z.number().int().positive().optional(),
    maxAgeMs: z.number().int().positive().default(1_000),
    timeoutMs: z.number().int().positive().default(DEFAULT_TIMEOUT_MS),
  })
  .superRefine((c, ctx) => {
    if ((c.flavor === 'logzio' || c.flavor === 'splunk-hec') && !c.token) {
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message: `flavor ${c.flavor} needs a token (a secret reference)`,
      });
    }
    if (c.flavor === 'logzio' && c.maxBytes !== undefined && c.maxBytes > LOGZIO_MAX_REQUEST_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxBytes'],
        message: `Logz.io accepts at most ${LOGZIO_MAX_REQUEST_BYTES} bytes per request`,
      });
    }
    if (c.flavor === 'logzio' && c.maxRecordBytes !== undefined && c.maxRecordBytes > LOGZIO_MAX_LINE_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxRecordBytes'],
        message: `Logz.io accepts at most ${LOGZIO_MAX_LINE_BYTES} bytes per line`,
      });
    }
    for (const h of Object.keys(c.headers)) {
      if (/^(authorization|x-scope-orgid)$/i.test(h)) {
        ctx.addIssue({
          code: 'custom',
          path: ['headers', h],
          message: `set ${h} through token/tenant, not headers`,
        });
      }
    }
  });

export type HttpSinkConfig = z.infer<typeof httpSinkConfig>;

/** One encoded line; `stream` (Loki) is the stream's label set, serialised. */
export interface HttpItem {
  line: string;
  /** Event time, epoch ms (Loki matches rejected entries by it). */
  ts: number;
  stream?: string;
}

const LOKI_LABEL_NAME: Record<(typeof LOKI_LABEL_SOURCES)[number], string> = {
  logGroup: 'log_group',
  logStream: 'log_stream',
  component: 'component',
  owner: 'owner',
};

function defaultsFor(flavor: Flavor): { maxRecords: number; maxBytes: number; maxRecordBytes: number } {
  switch (flavor) {
    case 'logzio':
      return { maxRecords: 5_000, maxBytes: LOGZIO_MAX_REQUEST_BYTES, maxRecordBytes: LOGZIO_MAX_LINE_BYTES };
    case 'splunk-hec':
      return {
        maxRecords: 2_000,
        maxBytes: SPLUNK_DEFAULT_MAX_REQUEST_BYTES,
        maxRecordBytes: SPLUNK_DEFAULT_MAX_REQUEST_BYTES,
      };
    case 'loki':
      return {
        maxRecords: 5_000,
        maxBytes: LOKI_DEFAULT_MAX_REQUEST_BYTES,
        maxRecordBytes: LOKI_DEFAULT_MAX_LINE_BYTES,
      };
    case 'ndjson':
      return { maxRecords: 5_000, maxBytes: NDJSON_DEFAULT_MAX_REQUEST_BYTES, maxRecordBytes: 1024 * 1024 };
  }
}

/** Parses a Retry-After header (delta-seconds or HTTP-date) into ms. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return Math.round(s * 1000);
  const t = Date.parse(value);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

function excerpt(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > BODY_EXCERPT ? `${t.slice(0, BODY_EXCERPT)}…` : t;
}

/** The component label (EKS component, lambda, ecs) a record's stream belongs to, by name. */
function componentOf(r: LogRecord): string | undefined {
  const c = componentLabel(classifyStream(r.meta.logGroup, r.meta.logStream));
  return c === 'default' ? undefined : c;
}

/** A Loki push-error line: `entry with timestamp <go time> ignored, reason: '<reason>',` */
const LOKI_ENTRY_ERR =
  /entry with timestamp (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? ([+-]\d{2})(\d{2})(?: \S+)? ignored, reason: '(.*?)',?\n/g;
const LOKI_TOTAL = /total ignored: (\d+) out of (\d+) for stream: (\{.*\})\s*$/;
const LOKI_LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Go's `time.Time.String()` pieces into epoch ms. */
function goTimeToMs(
  date: string,
  time: string,
  frac: string | undefined,
  offH: string,
  offM: string,
): number {
  const ms = frac ? Number(`0${frac}`) * 1000 : 0;
  const base = Date.parse(`${date}T${time}Z`);
  const sign = offH.startsWith('-') ? -1 : 1;
  const offsetMin = sign * (Math.abs(Number(offH)) * 60 + Number(offM));
  return Math.round(base + ms - offsetMin * 60_000);
}

export interface LokiPushError {
  entries: { ts: number; reason: string }[];
  ignored: number;
  total: number;
  labels: Record<string, string>;
}

/** Parses Loki's 400/429 push error body (as written by the ingester's stream.Push). */
export function parseLokiPushError(body: string): LokiPushError | undefined {
  const total = LOKI_TOTAL.exec(body);
  if (!total) return undefined;
  const entries: { ts: number; reason: string }[] = [];
  for (const m of body.matchAll(LOKI_ENTRY_ERR)) {
    entries.push({ ts: goTimeToMs(m[1], m[2], m[3], m[4], m[5]), reason: m[6] });
  }
  const labels: Record<string, string> = {};
  for (const m of total[3].matchAll(LOKI_LABEL)) labels[m[1]] = JSON.parse(`"${m[2]}"`);
  return { entries, ignored: Number(total[1]), total: Number(total[2]), labels };
}

/** Reason code for a Loki per-entry rejection. */
function lokiCode(reason: string): string {
  if (reason.includes('too far behind')) return 'LOKI_TOO_FAR_BEHIND';
  if (reason.includes('out of order')) return 'LOKI_OUT_OF_ORDER';
  return 'LOKI_REJECTED';
}

export interface HttpSinkStats {
  requests: number;
  authRefreshes: number;
}

export class HttpSink implements Sink<HttpItem> {
  readonly type = 'http';
  readonly name: string;
  readonly limits: SinkLimits;
  readonly stats: HttpSinkStats = { requests: 0, authRefreshes: 0 };
  private readonly cfg: HttpSinkConfig;
  private readonly useGzip: boolean;
  private token?: string;
  private readonly resolveSecret?: (ref: string) => Promise<string>;
  private readonly refreshSecret?: (ref: string) => Promise<string>;
  private readonly log?: Logger;
  private readonly staticLabelText: string;
  private readonly streamLabels = new Map<string, string>();

  constructor(cfg: HttpSinkConfig, ctx: BuildContext = {}) {
    this.cfg = cfg;
    this.name = cfg.name ?? `http-${cfg.flavor}`;
    const d = defaultsFor(cfg.flavor);
    this.limits = {
      maxRecords: cfg.maxRecords ?? d.maxRecords,
      // Every line costs more than `encode` counts: its newline, or Loki's `["<ns>",…]` framing.
      maxBytes: framedBudget(
        cfg.maxBytes ?? d.maxBytes,
        cfg.maxRecords ?? d.maxRecords,
        cfg.flavor === 'loki' ? 40 : 1,
      ),
      maxRecordBytes: cfg.maxRecordBytes ?? d.maxRecordBytes,
      maxAgeMs: cfg.maxAgeMs,
    };
    this.useGzip = cfg.gzip ?? cfg.flavor === 'logzio';
    this.resolveSecret = ctx.resolveSecret;
    this.refreshSecret = ctx.refreshSecret;
    this.log = ctx.log;
    this.staticLabelText = Object.entries(cfg.staticLabels)
      .map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`)
      .join('');
  }

  encode(r: LogRecord): Encoded<HttpItem> | { reject: string; code: string } {
    let line: string;
    let stream: string | undefined;
    switch (this.cfg.flavor) {
      case 'logzio': {
        const doc = toDocument(r, 'iso');
        // Logz.io's pipelines and Kibana read `message`.
        if (!('message' in doc)) doc.message = r.message;
        line = JSON.stringify(doc);
        break;
      }
      case 'splunk-hec': {
        line = JSON.stringify(this.hecEvent(r));
        break;
      }
      case 'loki': {
        stream = this.lokiStream(r);
        line = this.cfg.line === 'message' ? r.message : JSON.stringify(toDocument(r, 'iso'));
        break;
      }
      case 'ndjson':
        line = JSON.stringify(toDocument(r, 'iso'));
        break;
    }
    return { record: r, data: { line, ts: r.timestamp, stream }, bytes: Buffer.byteLength(line) };
  }

  private hecEvent(r: LogRecord): Record<string, unknown> {
    let hasFields = false;
    for (const _ in r.fields) {
      hasFields = true;
      break;
    }
    const ev: Record<string, unknown> = {
      // HEC `time` is epoch seconds; keep millisecond precision as a fraction.
      time: r.timestamp / 1000,
      host: this.cfg.host ?? r.meta.logStream,
      source: this.cfg.source ?? r.meta.logGroup,
      sourcetype: this.cfg.sourcetype,
    };
    if (this.cfg.index) ev.index = this.cfg.index;
    ev.event = hasFields ? { ...r.fields, message: r.message, '@id': r.meta.id } : r.message;
    return ev;
  }

  /**
   * The stream's label set, serialised once per (owner, log group, log stream): records of one
   * CloudWatch stream arrive together, so the cache saves the classification and string building.
   */
  private lokiStream(r: LogRecord): string {
    const key = `${r.meta.owner}\u0000${r.meta.logGroup}\u0000${r.meta.logStream}`;
    let labels = this.streamLabels.get(key);
    if (labels === undefined) {
      if (this.streamLabels.size >= LABEL_CACHE_ENTRIES) this.streamLabels.clear();
      labels = this.buildLokiStream(r);
      this.streamLabels.set(key, labels);
    }
    return labels;
  }

  private buildLokiStream(r: LogRecord): string {
    let s = '{';
    let first = true;
    for (const src of this.cfg.labels) {
      let v: string | undefined;
      if (src === 'logGroup') v = r.meta.logGroup;
      else if (src === 'logStream') v = r.meta.logStream;
      else if (src === 'owner') v = r.meta.owner || undefined;
      else v = componentOf(r);
      if (v === undefined || v === '') continue;
      s += `${first ? '' : ','}${JSON.stringify(LOKI_LABEL_NAME[src])}:${JSON.stringify(v)}`;
      first = false;
    }
    if (this.staticLabelText) s += first ? this.staticLabelText.slice(1) : this.staticLabelText;
    return `${s}}`;
  }

  async send(batch: readonly Encoded<HttpItem>[], ctx: SendContext): Promise<SendResult> {
    const { body, contentType } = this.body(batch);
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

  private body(batch: readonly Encoded<HttpItem>[]): { body: string; contentType: string } {
    if (this.cfg.flavor === 'loki') {
      // Group by stream, keeping each stream's entries in batch order.
      const streams = new Map<string, string[]>();
      for (const it of batch) {
        const key = it.data.stream ?? '{}';
        let vals = streams.get(key);
        if (!vals) {
          vals = [];
          streams.set(key, vals);
        }
        vals.push(`["${it.data.ts}000000",${JSON.stringify(it.data.line)}]`);
      }
      const parts: string[] = [];
      for (const [labels, vals] of streams) parts.push(`{"stream":${labels},"values":[${vals.join(',')}]}`);
      return { body: `{"streams":[${parts.join(',')}]}`, contentType: 'application/json' };
    }
    let body = '';
    for (const it of batch) body += `${it.data.line}\n`;
    return {
      body,
      contentType: this.cfg.flavor === 'splunk-hec' ? 'application/json' : 'application/x-ndjson',
    };
  }

  private async credential(refresh: boolean): Promise<string | undefined> {
    const ref = this.cfg.token;
    if (!ref) return undefined;
    if (this.token !== undefined && !refresh) return this.token;
    const resolve = refresh ? (this.refreshSecret ?? this.resolveSecret) : this.resolveSecret;
    let value: string;
    if (resolve) value = await resolve(ref);
    else {
      const { sharedSecretResolver } = await import('../aws/secrets.js');
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
  ): Promise<{ status: number; text: string; retryAfterMs?: number }> {
    const token = await this.credential(refresh);
    const headers: Record<string, string> = { ...this.cfg.headers, 'content-type': contentType };
    if (this.useGzip) headers['content-encoding'] = 'gzip';
    let url = this.cfg.url;
    switch (this.cfg.flavor) {
      case 'logzio': {
        const u = new URL(url);
        u.searchParams.set('token', token ?? '');
        u.searchParams.set('type', this.cfg.logType);
        url = u.toString();
        break;
      }
      case 'splunk-hec':
        url = joinPath(url, '/services/collector/event', '/services/collector');
        headers.authorization = `Splunk ${token}`;
        break;
      case 'loki':
        url = joinPath(url, '/loki/api/v1/push');
        if (this.cfg.tenant) headers['x-scope-orgid'] = this.cfg.tenant;
        if (token) headers.authorization = `Bearer ${token}`;
        break;
      case 'ndjson':
        if (token) headers[this.cfg.tokenHeader.toLowerCase()] = `${this.cfg.tokenPrefix}${token}`;
        break;
    }
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

  private interpret(
    batch: readonly Encoded<HttpItem>[],
    res: { status: number; text: string; retryAfterMs?: number },
  ): SendResult {
    const { status } = res;
    if (status === 413) return { problems: [], tooLarge: true };
    if (this.cfg.flavor === 'logzio' && (status === 200 || status === 400)) {
      const report = logzioReport(res.text);
      if (report) return { problems: attributeLogzio(batch, report) };
      if (status === 200) return { problems: [] };
    }
    if (this.cfg.flavor === 'splunk-hec') {
      const hec = this.interpretHec(batch, res);
      if (hec) return hec;
    }
    if (this.cfg.flavor === 'loki' && (status === 400 || status === 429)) {
      const loki = this.interpretLoki(batch, res);
      if (loki) return loki;
    }
    if (status >= 200 && status < 300) return { problems: [] };
    if (status === 429 || status === 503) {
      throw new LogferryError(
        'SINK_THROTTLED',
        `${this.name}: throttled (HTTP ${status}): ${excerpt(res.text)}`,
        {
          details: { retryAfterMs: res.retryAfterMs },
        },
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

  /**
   * Splunk HEC answers `{"text","code","invalid-event-number"}`. HEC parses a request's events in
   * order and indexes those before the first invalid one, so: earlier items delivered, the invalid
   * one rejected, later ones retried. Codes: https://docs.splunk.com/Documentation/Splunk/latest/Data/TroubleshootHTTPEventCollector
   */
  private interpretHec(
    batch: readonly Encoded<HttpItem>[],
    res: { status: number; text: string; retryAfterMs?: number },
  ): SendResult | undefined {
    let doc: { text?: string; code?: number; 'invalid-event-number'?: number } | undefined;
    try {
      doc = JSON.parse(res.text);
    } catch {
      doc = undefined;
    }
    const code = typeof doc?.code === 'number' ? doc.code : undefined;
    if (res.status === 200 && (code === undefined || code === 0)) return { problems: [] };
    if (code === 9 || (code !== undefined && code >= 18 && code <= 20) || res.status === 503) {
      throw new LogferryError(
        'SINK_THROTTLED',
        `${this.name}: HEC busy (code ${code ?? '?'}: ${doc?.text ?? res.status})`,
        {
          details: { retryAfterMs: res.retryAfterMs },
        },
      );
    }
    const n = doc?.['invalid-event-number'];
    if (res.status === 400 && typeof n === 'number' && n >= 0 && n < batch.length) {
      const problems: ItemProblem[] = [
        {
          index: n,
          action: 'reject',
          code: `HEC_${code ?? 'INVALID'}`,
          reason: `Splunk HEC: ${doc?.text ?? 'invalid event'} (code ${code})`,
        },
      ];
      for (let i = n + 1; i < batch.length; i++) {
        problems.push({
          index: i,
          action: 'retry',
          code: 'HEC_NOT_PROCESSED',
          reason: 'after an invalid event in the same request',
        });
      }
      return { problems };
    }
    if (code === 8) {
      throw new LogferryError('SINK_UNAVAILABLE', `${this.name}: HEC internal error (code 8)`);
    }
    return undefined;
  }

  /**
   * Loki accepts a push's valid entries and answers 400 (out of order, too far behind) or 429
   * (per-stream rate limit) listing the refused ones — at most `max_returned_errors` of them — and
   * "total ignored: N out of M for stream: {…}" (the ingester's stream.Push). Listed entries of that
   * stream are rejected (400) or retried (429); if the list was cut short, or other streams were in
   * the request, the rest is retried: Loki drops exact duplicates, so a re-send does not duplicate.
   */
  private interpretLoki(
    batch: readonly Encoded<HttpItem>[],
    res: { status: number; text: string; retryAfterMs?: number },
  ): SendResult | undefined {
    const err = parseLokiPushError(res.text);
    if (!err) {
      if (res.status === 429) return undefined; // plain rate limit: throttled below
      if (/out of order|too far behind/.test(res.text)) {
        // An older Loki without the per-entry list: the whole request was judged at once.
        return {
          problems: batch.map((_, i) => ({
            index: i,
            action: 'reject' as const,
            code: lokiCode(res.text),
            reason: `Loki: ${excerpt(res.text)}`,
          })),
        };
      }
      return undefined;
    }
    const inStream = (it: Encoded<HttpItem>) => {
      const labels = JSON.parse(it.data.stream ?? '{}') as Record<string, string>;
      for (const k in labels) if (err.labels[k] !== labels[k]) return false;
      return true;
    };
    const complete = err.entries.length >= err.ignored;
    const onlyStream = batch.every(inStream);
    const problems: ItemProblem[] = [];
    const taken = new Set<number>();
    for (const e of err.entries) {
      const idx = batch.findIndex((it, i) => !taken.has(i) && it.data.ts === e.ts && inStream(it));
      if (idx < 0) continue;
      taken.add(idx);
      problems.push(
        res.status === 429
          ? {
              index: idx,
              action: 'retry',
              code: 'SINK_THROTTLED',
              reason: `Loki: ${e.reason}`,
              retryAfterMs: res.retryAfterMs,
            }
          : { index: idx, action: 'reject', code: lokiCode(e.reason), reason: `Loki: ${e.reason}` },
      );
    }
    if (!complete || !onlyStream || taken.size < err.entries.length) {
      for (let i = 0; i < batch.length; i++) {
        if (taken.has(i)) continue;
        // Entries of the reported stream were all accounted for when the list is complete.
        if (complete && inStream(batch[i])) continue;
        problems.push({
          index: i,
          action: 'retry',
          code: 'LOKI_UNCONFIRMED',
          reason: 'not confirmed by a partial Loki answer',
          retryAfterMs: res.retryAfterMs,
        });
      }
    }
    return { problems };
  }
}

/** The payload budget left once `records` lines of `perRecord` framing bytes are set aside. */
function framedBudget(maxBytes: number, records: number, perRecord: number): number {
  return Math.max(Math.floor(maxBytes / 2), maxBytes - records * perRecord);
}

/**
 * Appends the API path unless the configured URL already names the endpoint (`/services/collector`
 * is HEC's alias of `/services/collector/event`).
 */
function joinPath(base: string, path: string, alias?: string): string {
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

interface LogzioReport {
  malformedLines: number;
  successfulLines: number;
  oversizedLines: number;
  emptyLogLines: number;
}

function logzioReport(text: string): LogzioReport | undefined {
  if (!text.trim()) return undefined;
  try {
    const d = JSON.parse(text) as Partial<LogzioReport>;
    if (typeof d !== 'object' || d === null) return undefined;
    if (d.malformedLines === undefined && d.oversizedLines === undefined && d.emptyLogLines === undefined)
      return undefined;
    return {
      malformedLines: d.malformedLines ?? 0,
      successfulLines: d.successfulLines ?? 0,
      oversizedLines: d.oversizedLines ?? 0,
      emptyLogLines: d.emptyLogLines ?? 0,
    };
  } catch {
    return undefined;
  }
}

/**
 * Logz.io reports only counts. Attribute them: oversized lines are the longest ones (the listener
 * compares each line to one threshold), empty lines are empty, malformed lines fail JSON.parse. If
 * the counts cannot all be attributed, every line not attributed is rejected too: the listener kept
 * the good ones, so a re-send would duplicate them, and the dead-letter copy loses nothing.
 */
export function attributeLogzio(batch: readonly Encoded<HttpItem>[], rep: LogzioReport): ItemProblem[] {
  const problems: ItemProblem[] = [];
  const taken = new Set<number>();
  if (rep.oversizedLines > 0) {
    const bySize = batch.map((it, i) => ({ i, n: it.bytes })).sort((a, b) => b.n - a.n);
    for (const { i, n } of bySize.slice(0, rep.oversizedLines)) {
      taken.add(i);
      problems.push({
        index: i,
        action: 'reject',
        code: 'LOGZIO_OVERSIZED_LINE',
        reason: `Logz.io listener refused a ${n}-byte line as oversized`,
      });
    }
  }
  let empty = 0;
  let malformed = 0;
  for (let i = 0; i < batch.length; i++) {
    if (taken.has(i)) continue;
    const line = batch[i].data.line;
    if (line.trim() === '' && empty < rep.emptyLogLines) {
      taken.add(i);
      empty++;
      problems.push({
        index: i,
        action: 'reject',
        code: 'LOGZIO_EMPTY_LINE',
        reason: 'Logz.io listener refused an empty line',
      });
      continue;
    }
    if (malformed < rep.malformedLines) {
      let ok = true;
      try {
        JSON.parse(line);
      } catch {
        ok = false;
      }
      if (!ok) {
        taken.add(i);
        malformed++;
        problems.push({
          index: i,
          action: 'reject',
          code: 'LOGZIO_MALFORMED_LINE',
          reason: 'Logz.io listener refused a line as malformed JSON',
        });
      }
    }
  }
  const unexplained = rep.malformedLines - malformed + (rep.emptyLogLines - empty);
  if (unexplained > 0) {
    for (let i = 0; i < batch.length; i++) {
      if (taken.has(i)) continue;
      problems.push({
        index: i,
        action: 'reject',
        code: 'LOGZIO_UNATTRIBUTED',
        reason: `Logz.io listener refused ${unexplained} line(s) of this request without saying which (${rep.successfulLines} accepted); kept here rather than risk loss or duplicates`,
      });
    }
  }
  return problems;
}

export const httpSinkSpec: ComponentSpec<HttpSinkConfig, HttpSink> = {
  type: 'http',
  iam: [],
  summary: 'HTTP log services: Logz.io bulk listener, Splunk HEC, Grafana Loki push, or generic NDJSON POST.',
  schema: httpSinkConfig,
  create: (config, ctx) => new HttpSink(config, ctx),
};
