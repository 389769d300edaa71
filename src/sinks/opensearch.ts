/**
 * Writes records as documents to OpenSearch 1–3, Amazon OpenSearch Service / Serverless, or
 * Elasticsearch 7–9 through `_bulk`, one `create` per record whose `_id` is a stable hash of
 * (logGroup, logStream, CloudWatch event id): a redriven record lands on the same `_id` and gets a
 * 409, which counts as delivered, so delivery is effectively exactly-once per index. Per-item
 * results are classified: 429 / rejected-execution / circuit-breaker / 5xx items are retried (only
 * those, by the core); a mapping or parsing error (`mapper_parsing_exception`,
 * `document_parsing_exception`, `illegal_argument_exception`, …) is, by default, retried once at
 * once with the parsed fields moved into one string field `@fields_json` (plus `@mapping_error` with
 * the reason) — because a log line whose `user` is an object while the index mapped `user` as a
 * string is still a log line someone will search for, and the original text and time stay
 * searchable; only if that safe form is refused too (a strict mapping) is the record rejected to the
 * dead-letter sink with the server's reason (`onMappingError: reject` rejects at once instead). A
 * whole-request 413 makes the core split the batch; 401/403 re-reads secret or AWS credentials
 * once and retries (SINK_AUTH). Limits: `maxBytes` (default 10 MiB) never exceeds the server's
 * `http.max_content_length` (`httpMaxContentLength`, default 100 MiB); the client's own retries
 * are off (the core retries). Index names come from a template over event time (UTC) and fields.
 */
import * as crypto from 'node:crypto';
import { Client, errors as osErrors } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws';
import { z } from 'zod';
import { classifyStream, componentLabel } from '../aws/classify.js';
import { isSecretRef } from '../aws/secrets.js';
import type { BuildContext, ComponentSpec, Logger } from '../core/component.js';
import { toDocument } from '../core/document.js';
import { describeError, isLogferryError, LogferryError } from '../core/errors.js';
import { type LogRecord, recordKey } from '../core/record.js';
import {
  ALL_DELIVERED,
  type Encoded,
  type ItemProblem,
  type SendContext,
  type SendResult,
  type Sink,
} from '../core/sink.js';

/**
 * OpenSearch's default `http.max_content_length` (100 MB); Amazon OpenSearch Service caps it by
 * instance type (10 MiB on small instances, 100 MiB on large).
 * https://docs.opensearch.org/latest/install-and-configure/configuring-opensearch/network-settings/
 * https://docs.aws.amazon.com/opensearch-service/latest/developerguide/limits.html#network-limits
 */
export const OPENSEARCH_DEFAULT_HTTP_MAX_CONTENT_LENGTH = 100 * 1024 * 1024;
/** Bulk requests beyond ~10 MiB gain no throughput and fit every Amazon OpenSearch Service instance size. */
export const OPENSEARCH_DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
/** Index names are at most 255 bytes. https://docs.opensearch.org/latest/api-reference/index-apis/create-index/ */
export const OPENSEARCH_MAX_INDEX_NAME_BYTES = 255;
export const DEFAULT_INDEX_TEMPLATE = 'logs-YYYY.MM.dd';
/** Field holding the parsed fields as one JSON string when the index refused their shape. */
export const FIELDS_JSON_FIELD = '@fields_json';
export const MAPPING_ERROR_FIELD = '@mapping_error';

const MAX_REASON_CHARS = 1000;
/**
 * Ask only for what `send` reads: per-item status and error (positions are kept). The full answer
 * is ~8× larger per item (index, id, version, shards, seq_no) and costs both sides CPU.
 */
const BULK_QUERY = { filter_path: 'errors,items.*.status,items.*.error' };

const secretOrLiteral = z.string().min(1);

export const opensearchSinkConfig = z
  .strictObject({
    type: z.literal('opensearch'),
    name: z.string().min(1).optional(),
    /** `https://host[:port][/prefix]`; basic credentials may ride in it (`https://user:pass@host`). */
    url: z.url({ protocol: /^https?$/ }),
    auth: z
      .discriminatedUnion('type', [
        z.strictObject({ type: z.literal('none') }),
        /** Values may be literals or secret references (`ssm:/…`, `secretsmanager:id#key`, `env:NAME`). */
        z.strictObject({ type: z.literal('basic'), username: secretOrLiteral, password: secretOrLiteral }),
        /** Amazon OpenSearch Service (`es`) or Serverless (`aoss`), signed with the default credential chain. */
        z.strictObject({
          type: z.literal('sigv4'),
          service: z.enum(['es', 'aoss']).default('es'),
          region: z.string().min(1).optional(),
        }),
      ])
      .optional(),
    /** Index name template: `{component}`, `{cluster}`, `{logGroup}`, `{logStream}`, `{owner}`,
     * `{function}`, `{source}`, `{fields.a.b}`; UTC event time `YYYY`, `MM`, `dd`, `HH`. */
    index: z
      .string()
      .min(1)
      .default(DEFAULT_INDEX_TEMPLATE)
      .superRefine((t, ctx) => {
        try {
          compileIndexTemplate(t);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: describeError(e) });
        }
      }),
    /** `stable`: `_id` from the CloudWatch event id (idempotent); `none`: server-generated ids
     * (needed for OpenSearch Serverless time-series collections; a redrive may duplicate). */
    documentId: z.enum(['stable', 'none']).default('stable'),
    /** What to do with a document whose field shapes the index refused (see the file comment). */
    onMappingError: z.enum(['fallback', 'reject']).default('fallback'),
    /** Ingest pipeline to run documents through. */
    pipeline: z.string().min(1).optional(),
    /** The server's `http.max_content_length` in bytes; requests never exceed it. */
    httpMaxContentLength: z.number().int().positive().default(OPENSEARCH_DEFAULT_HTTP_MAX_CONTENT_LENGTH),
    maxBytes: z.number().int().positive().optional(),
    maxRecords: z.number().int().positive().max(100_000).default(5_000),
    maxAgeMs: z.number().int().positive().default(1_000),
    timeoutMs: z.number().int().positive().default(30_000),
    /** gzip request bodies (saves transfer, costs CPU). */
    compression: z.boolean().default(false),
  })
  .refine((c) => c.maxBytes === undefined || c.maxBytes <= c.httpMaxContentLength, {
    message: 'maxBytes must not exceed httpMaxContentLength',
    path: ['maxBytes'],
  });

export type OpenSearchSinkConfig = z.infer<typeof opensearchSinkConfig>;

// ---------------------------------------------------------------------------------------------
// Pure helpers (exported for tests and for the query side, which must find the same indexes).

/**
 * SHA-256 as base64url. `crypto.hash` (Node ≥ 20.12) is the one-shot form: the same digest without
 * a Hash object per call, ~2.5× faster on keys this short; older Node falls back to `createHash`.
 */
const sha256Base64url: (s: string) => string =
  typeof crypto.hash === 'function'
    ? (s) => crypto.hash('sha256', s, 'base64url')
    : (s) => crypto.createHash('sha256').update(s).digest('base64url');

/**
 * Stable document id: base64url of the first 24 bytes of SHA-256 over (logGroup, logStream, event
 * id). Kept cryptographic on purpose: ids must not change across versions (a redelivered event
 * must land on the document an older version wrote) and must not collide across billions of events.
 */
export function documentId(meta: LogRecord['meta']): string {
  return sha256Base64url(recordKey(meta)).slice(0, 32);
}

/** Makes any value usable inside an index name: lower case, `[a-z0-9._-]` only, no leading/trailing separators. */
export function sanitizeIndexPart(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_.]+|[-_.]+$/g, '');
}

/** Final checks on a whole index name: no leading `-_+`, not `.`/`..`, at most 255 bytes. */
export function finishIndexName(name: string): string {
  let n = name.replace(/^[-_+.]+/, '');
  if (n === '') n = 'logs';
  if (Buffer.byteLength(n) > OPENSEARCH_MAX_INDEX_NAME_BYTES) n = n.slice(0, OPENSEARCH_MAX_INDEX_NAME_BYTES);
  return n;
}

type Segment = { lit: string } | { date: 'YYYY' | 'MM' | 'dd' | 'HH' } | { var: string };

// Upper-case date tokens always; lower-case `dd`/`yyyy` only when no lower-case letter touches them
// (so `logs-YYYY.MM.dd` works and a literal like `address` stays literal).
const TEMPLATE_TOKEN = /\{([^{}]+)\}|YYYY|MM|DD|HH|(?<![a-z])(?:yyyy|dd)(?![a-z])/g;
const KNOWN_VARS = new Set(['component', 'cluster', 'logGroup', 'logStream', 'owner', 'function', 'source']);

export function compileIndexTemplate(template: string): Segment[] {
  const segs: Segment[] = [];
  let last = 0;
  for (const m of template.matchAll(TEMPLATE_TOKEN)) {
    if (m.index > last) segs.push({ lit: template.slice(last, m.index) });
    if (m[1] !== undefined) {
      const v = m[1].trim();
      if (!KNOWN_VARS.has(v) && !v.startsWith('fields.')) {
        throw new LogferryError(
          'CONFIG_INVALID',
          `index template: unknown {${v}} (known: ${[...KNOWN_VARS].join(', ')}, fields.<path>)`,
        );
      }
      segs.push({ var: v });
    } else {
      const t = m[0];
      segs.push({ date: t === 'yyyy' ? 'YYYY' : t === 'DD' ? 'dd' : (t as 'YYYY' | 'MM' | 'HH') });
    }
    last = m.index + m[0].length;
  }
  if (last < template.length) segs.push({ lit: template.slice(last) });
  for (const s of segs) {
    if ('lit' in s && !/^[a-z0-9._-]*$/.test(s.lit)) {
      throw new LogferryError(
        'CONFIG_INVALID',
        `index template: literal text "${s.lit}" may hold only lower-case letters, digits, '.', '_' and '-'`,
      );
    }
  }
  return segs;
}

interface StreamFacts {
  component: string;
  cluster: string;
  fn: string;
  logGroup: string;
  logStream: string;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

function fieldAt(fields: Record<string, unknown>, path: string): unknown {
  let cur: unknown = fields;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Renders index names for records; caches per-stream facts (bounded) so hot loops do no regex work. */
export class IndexNamer {
  private readonly segs: Segment[];
  private readonly usesStream: boolean;
  private readonly usesDate: boolean;
  private readonly streams = new Map<string, StreamFacts>();
  /** The last stream's facts (records come in runs of one stream): no key string per record. */
  private lastGroup?: string;
  private lastStream?: string;
  private lastFacts?: StreamFacts;
  /** Date parts of the last UTC hour seen (every date token is constant within an hour). */
  private hour = Number.NaN;
  private dateParts: Record<'YYYY' | 'MM' | 'dd' | 'HH', string> = { YYYY: '', MM: '', dd: '', HH: '' };
  readonly isStatic: boolean;

  constructor(template: string) {
    this.segs = compileIndexTemplate(template);
    this.usesStream = this.segs.some((s) => 'var' in s && !s.var.startsWith('fields.'));
    this.usesDate = this.segs.some((s) => 'date' in s);
    this.isStatic = this.segs.every((s) => 'lit' in s);
  }

  private facts(r: LogRecord): StreamFacts {
    if (r.meta.logGroup === this.lastGroup && r.meta.logStream === this.lastStream)
      return this.lastFacts as StreamFacts;
    const key = `${r.meta.logGroup}\u0000${r.meta.logStream}`;
    let f = this.streams.get(key);
    if (!f) {
      const c = classifyStream(r.meta.logGroup, r.meta.logStream);
      f = {
        component: sanitizeIndexPart(componentLabel(c)) || 'unknown',
        cluster: c.kind === 'eks' ? sanitizeIndexPart(c.cluster) || 'unknown' : 'none',
        fn: c.kind === 'lambda' ? sanitizeIndexPart(c.functionName) || 'unknown' : 'none',
        logGroup: sanitizeIndexPart(r.meta.logGroup) || 'unknown',
        logStream: sanitizeIndexPart(r.meta.logStream) || 'unknown',
      };
      if (this.streams.size >= 4096) this.streams.clear();
      this.streams.set(key, f);
    }
    this.lastGroup = r.meta.logGroup;
    this.lastStream = r.meta.logStream;
    this.lastFacts = f;
    return f;
  }

  private dates(ts: number): Record<'YYYY' | 'MM' | 'dd' | 'HH', string> {
    const h = Math.floor(ts / 3_600_000);
    // UTC hours start at multiples of 3 600 000 ms; outside Date's range (±8.64e15) nothing is cached.
    if (h === this.hour && Math.abs(ts) < 8.64e15) return this.dateParts;
    const d = new Date(ts);
    const parts = {
      YYYY: String(d.getUTCFullYear()),
      MM: pad2(d.getUTCMonth() + 1),
      dd: pad2(d.getUTCDate()),
      HH: pad2(d.getUTCHours()),
    };
    if (Math.abs(ts) < 8.64e15) {
      this.hour = h;
      this.dateParts = parts;
    }
    return parts;
  }

  name(r: LogRecord): string {
    const f = this.usesStream ? this.facts(r) : undefined;
    const d = this.usesDate ? this.dates(r.timestamp) : undefined;
    let out = '';
    for (const s of this.segs) {
      if ('lit' in s) out += s.lit;
      else if ('date' in s) {
        out += (d as Record<'YYYY' | 'MM' | 'dd' | 'HH', string>)[s.date];
      } else {
        switch (s.var) {
          case 'component':
            out += f?.component;
            break;
          case 'cluster':
            out += f?.cluster;
            break;
          case 'function':
            out += f?.fn;
            break;
          case 'logGroup':
            out += f?.logGroup;
            break;
          case 'logStream':
            out += f?.logStream;
            break;
          case 'owner':
            out += sanitizeIndexPart(r.meta.owner) || 'unknown';
            break;
          case 'source':
            out += sanitizeIndexPart(r.meta.source) || 'unknown';
            break;
          default: {
            const v = fieldAt(r.fields, s.var.slice('fields.'.length));
            const str =
              typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
            out += sanitizeIndexPart(str) || 'unknown';
          }
        }
      }
    }
    // Fast path of finishIndexName: nothing to strip and surely within the byte limit.
    const c = out.charCodeAt(0);
    if (
      out.length * 3 <= OPENSEARCH_MAX_INDEX_NAME_BYTES &&
      c !== 45 &&
      c !== 95 &&
      c !== 43 &&
      c !== 46 &&
      out.length > 0
    )
      return out;
    return finishIndexName(out);
  }
}

/** What one bulk item's result means for delivery. */
export type ItemVerdict = 'delivered' | 'retry' | 'mapping' | 'reject';

const MAPPING_ERRORS = new Set([
  'mapper_parsing_exception',
  'document_parsing_exception',
  'illegal_argument_exception',
  'mapper_exception',
  'parse_exception',
  'x_content_parse_exception',
  'json_parse_exception',
  'strict_dynamic_mapping_exception',
  'number_format_exception',
]);

export interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

/** Classifies one `_bulk` item result. 409 on `create` means the document is already there: delivered. */
export function classifyItem(item: BulkItemResult): ItemVerdict {
  const s = item.status;
  if ((s >= 200 && s < 300) || s === 409) return 'delivered';
  const type = item.error?.type ?? '';
  if (s === 429 || s >= 500 || s === 408) return 'retry';
  if (/rejected_execution_exception$/.test(type) || type === 'circuit_breaking_exception') return 'retry';
  // Read-only blocks (disk flood stage) lift by themselves once space is freed.
  if (type === 'cluster_block_exception') return 'retry';
  if (MAPPING_ERRORS.has(type) || MAPPING_ERRORS.has(item.error?.caused_by?.type ?? '')) return 'mapping';
  return 'reject';
}

function itemReason(item: BulkItemResult): string {
  const e = item.error;
  if (!e) return `HTTP ${item.status}`;
  let r = `${e.type ?? 'error'}: ${e.reason ?? ''}`;
  if (e.caused_by?.reason) r += ` (caused by ${e.caused_by.type ?? 'error'}: ${e.caused_by.reason})`;
  return r.length > MAX_REASON_CHARS ? `${r.slice(0, MAX_REASON_CHARS)}…` : r;
}

/** What `GET /` said about the server. */
export interface ServerInfo {
  /** `unknown`: `GET /` was not allowed or not understood; the sink goes on with the common API. */
  flavor: 'opensearch' | 'elasticsearch' | 'aoss' | 'unknown';
  version: string;
  major: number;
}

export function detectServer(body: unknown): ServerInfo {
  const v = (body as { version?: { number?: unknown; distribution?: unknown } } | undefined)?.version;
  const number = typeof v?.number === 'string' ? v.number : '';
  const major = Number.parseInt(number, 10);
  if (!number || !Number.isFinite(major)) {
    throw new LogferryError(
      'SINK_UNAVAILABLE',
      'GET / did not report a version: not an OpenSearch/Elasticsearch node?',
    );
  }
  return {
    flavor: v?.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch',
    version: number,
    major,
  };
}

/** OpenSearch 1–3 and Elasticsearch 7–9 take `_bulk` without `_type` and with plain JSON media types. */
export function isSupported(s: ServerInfo): boolean {
  if (s.flavor === 'aoss' || s.flavor === 'unknown') return true;
  if (s.flavor === 'opensearch') return s.major >= 1 && s.major <= 3;
  return s.major >= 7 && s.major <= 9;
}

// ---------------------------------------------------------------------------------------------

interface Credentials {
  username: string;
  password: string;
}

/** `search-x.eu-west-1.es.amazonaws.com`, `abc.us-east-1.aoss.amazonaws.com` → the region. */
const AWS_ENDPOINT_REGION = /\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.(?:es|aoss)\.amazonaws\.com(?:\.cn)?$/;

export function awsEndpointRegion(hostname: string): string | undefined {
  return AWS_ENDPOINT_REGION.exec(hostname.toLowerCase())?.[1];
}

function redactUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

function statusOf(e: unknown): number | undefined {
  if (e instanceof osErrors.ResponseError) return e.statusCode ?? e.meta?.statusCode ?? undefined;
  return undefined;
}

function retryAfterMs(e: unknown): number | undefined {
  const h = (e as { meta?: { headers?: Record<string, string> } })?.meta?.headers?.['retry-after'];
  if (!h) return undefined;
  const secs = Number(h);
  return Number.isFinite(secs) && secs >= 0 ? secs * 1000 : undefined;
}

export class OpenSearchSink implements Sink<string> {
  readonly type = 'opensearch';
  readonly name: string;
  readonly limits;
  private readonly namer: IndexNamer;
  private readonly endpoint: URL;
  private client: Client;
  private server?: ServerInfo;
  private creds?: Credentials;
  private credentialProvider?: () => Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
  }>;
  /** True once secrets were re-read after an auth failure and no success followed yet. */
  private refreshedAfterAuthFailure = false;

  constructor(
    private readonly cfg: OpenSearchSinkConfig,
    private readonly ctx: BuildContext,
    creds?: Credentials,
  ) {
    this.name = cfg.name ?? cfg.type;
    const maxBytes = cfg.maxBytes ?? Math.min(OPENSEARCH_DEFAULT_MAX_BYTES, cfg.httpMaxContentLength);
    this.limits = { maxRecords: cfg.maxRecords, maxBytes, maxRecordBytes: maxBytes, maxAgeMs: cfg.maxAgeMs };
    this.namer = new IndexNamer(cfg.index);
    const u = new URL(cfg.url);
    u.username = '';
    u.password = '';
    this.endpoint = u;
    this.creds = creds;
    this.client = this.makeClient();
    if (cfg.auth?.type === 'sigv4' && cfg.auth.service === 'aoss') {
      // Serverless has no `GET /` with a version; it speaks the OpenSearch 2 API.
      this.server = { flavor: 'aoss', version: 'serverless', major: 2 };
    }
  }

  private get log(): Logger | undefined {
    return this.ctx.log;
  }

  private makeClient(): Client {
    const base = {
      node: this.endpoint.toString().replace(/\/+$/, ''),
      maxRetries: 0,
      requestTimeout: this.cfg.timeoutMs,
      compression: this.cfg.compression ? ('gzip' as const) : undefined,
      suggestCompression: this.cfg.compression,
    };
    const auth = this.cfg.auth;
    if (auth?.type === 'sigv4') {
      const region =
        auth.region ??
        awsEndpointRegion(this.endpoint.hostname) ??
        this.ctx.env?.AWS_REGION ??
        process.env.AWS_REGION ??
        process.env.AWS_DEFAULT_REGION;
      if (!region)
        throw new LogferryError(
          'CONFIG_INVALID',
          `${this.name}: sigv4 needs a region (auth.region or AWS_REGION)`,
        );
      return new Client({
        ...base,
        ...AwsSigv4Signer({
          region,
          service: auth.service,
          // One memoised default chain per sink; the signer re-asks only when credentials near expiry.
          getCredentials: async () => {
            if (!this.credentialProvider) {
              const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
              this.credentialProvider = defaultProvider();
            }
            return this.credentialProvider();
          },
        }),
      });
    }
    return new Client(this.creds ? { ...base, auth: { ...this.creds } } : base);
  }

  encode(record: LogRecord): Encoded<string> | { reject: string; code: string } {
    let json: string;
    try {
      json = this.documentJson(record);
    } catch (e) {
      return { reject: `document cannot be serialised as JSON: ${describeError(e)}`, code: 'SINK_REJECTED' };
    }
    const data = `${this.actionLine(record)}\n${json}\n`;
    return { record, data, bytes: Buffer.byteLength(data) };
  }

  /**
   * Exactly `JSON.stringify(toDocument(record, 'iso'))`, in one stringify of the fields and no
   * intermediate document object when the fields allow it: a plain object none of whose keys is a
   * system field (`@…`), starts with a digit (JSON would order array-index keys first) or is
   * `toJSON`. The system fields' JSON for a stream is reused across its records. Anything else
   * takes toDocument.
   */
  private documentJson(r: LogRecord): string {
    const f = r.fields;
    const m = r.meta;
    const proto = Object.getPrototypeOf(f);
    let direct =
      (proto === Object.prototype || proto === null) &&
      typeof r.message === 'string' &&
      typeof m.id === 'string' &&
      typeof m.logStream === 'string' &&
      typeof m.logGroup === 'string';
    if (direct) {
      for (const k in f) {
        const c = k.charCodeAt(0);
        if (c === 64 || (c >= 48 && c <= 57) || k === 'toJSON') {
          direct = false;
          break;
        }
      }
    }
    if (!direct) return JSON.stringify(toDocument(r, 'iso'));
    if (m.logStream !== this.docStream || m.logGroup !== this.docGroup || m.owner !== this.docOwner) {
      this.docStream = m.logStream;
      this.docGroup = m.logGroup;
      this.docOwner = m.owner;
      const log = m.owner ? `${m.owner}:${m.logGroup}` : m.logGroup;
      this.docStreamJson = `,"@logStream":${JSON.stringify(m.logStream)},"@log":${JSON.stringify(log)}`;
    }
    // An ISO date string holds nothing JSON escapes: quoting it is JSON.stringify's output.
    const head = `{"@timestamp":"${new Date(r.timestamp).toISOString()}","@message":${JSON.stringify(r.message)}${this.docStreamJson},"@id":${JSON.stringify(m.id)}`;
    const fj = JSON.stringify(f);
    return fj === '{}' ? `${head}}` : `${head},${fj.slice(1)}`;
  }
  private docStream?: string;
  private docGroup?: string;
  private docOwner?: string;
  private docStreamJson = '';

  private actionLine(record: LogRecord): string {
    const name = this.namer.name(record);
    // Runs of records share an index: its JSON-quoted action prefix is reused.
    if (name !== this.lastIndexName) {
      this.lastIndexName = name;
      this.lastActionPrefix = `{"create":{"_index":${JSON.stringify(name)}`;
    }
    return this.cfg.documentId === 'stable'
      ? `${this.lastActionPrefix},"_id":"${documentId(record.meta)}"}}`
      : `${this.lastActionPrefix}}}`;
  }
  private lastIndexName?: string;
  private lastActionPrefix = '';

  /** The document in its safe form: system fields, the parsed fields as one JSON string, the reason. */
  encodeFallback(record: LogRecord, reason: string): string {
    const doc = toDocument({ ...record, fields: {} }, 'iso');
    let fieldsJson: string;
    try {
      fieldsJson = JSON.stringify(record.fields);
    } catch (e) {
      fieldsJson = JSON.stringify({ error: describeError(e) });
    }
    doc[FIELDS_JSON_FIELD] = fieldsJson;
    doc[MAPPING_ERROR_FIELD] = reason;
    return `${this.actionLine(record)}\n${JSON.stringify(doc)}\n`;
  }

  private async ensureServer(): Promise<ServerInfo> {
    if (this.server) return this.server;
    let info: ServerInfo;
    try {
      info = detectServer((await this.client.info()).body);
    } catch (e) {
      // A writer-only role may not read `GET /` (403), some builds do not serve it (404/405), a proxy
      // may answer something else: the version check is a courtesy, so go on with the API every
      // supported version shares. 401 (bad credentials) and unreachable servers still fail.
      const status = statusOf(e);
      const unreadable =
        status === 403 || status === 404 || status === 405 || (status === undefined && isLogferryError(e));
      if (!unreadable) await this.onRequestError(e);
      this.log?.warn('opensearch: could not read the server version; assuming a supported server', {
        sink: this.name,
        status,
      });
      this.server = { flavor: 'unknown', version: 'unknown', major: Number.NaN };
      return this.server;
    }
    if (!isSupported(info)) {
      this.log?.error('opensearch: unsupported server version', {
        sink: this.name,
        flavor: info.flavor,
        version: info.version,
      });
    } else {
      this.log?.info('opensearch: connected', {
        sink: this.name,
        url: redactUrl(this.endpoint),
        flavor: info.flavor,
        version: info.version,
      });
    }
    this.server = info;
    return info;
  }

  /** Turns a failed request into the error the core understands. Always throws. */
  private async onRequestError(e: unknown): Promise<never> {
    const status = statusOf(e);
    if (status === 401 || status === 403) {
      const refreshed = await this.refreshCredentials();
      throw new LogferryError(
        'SINK_AUTH',
        `${this.name}: HTTP ${status} from ${redactUrl(this.endpoint)}${refreshed ? ' (credentials re-read; retrying)' : ''}`,
      );
    }
    if (status === 429) {
      throw new LogferryError('SINK_THROTTLED', `${this.name}: HTTP 429`, {
        details: { retryAfterMs: retryAfterMs(e) },
      });
    }
    if (status !== undefined && (status >= 500 || status === 408)) {
      throw new LogferryError('SINK_UNAVAILABLE', `${this.name}: HTTP ${status}`, {
        details: { retryAfterMs: retryAfterMs(e) },
      });
    }
    if (status !== undefined) {
      const body = (e as osErrors.ResponseError).body as
        | { error?: { type?: string; reason?: string } }
        | undefined;
      const why = body?.error ? `${body.error.type}: ${body.error.reason}` : `HTTP ${status}`;
      throw new LogferryError(
        'SINK_REJECTED',
        `${this.name}: request refused: ${why}`.slice(0, MAX_REASON_CHARS),
      );
    }
    if (e instanceof LogferryError) throw e;
    throw new LogferryError('SINK_UNAVAILABLE', `${this.name}: ${describeError(e)}`, { cause: e });
  }

  /** Re-reads secret-referenced credentials once per run of auth failures; true when it did. */
  private async refreshCredentials(): Promise<boolean> {
    const auth = this.cfg.auth;
    if (this.refreshedAfterAuthFailure) return false;
    if (auth?.type === 'sigv4') {
      // Rotated or revoked role credentials: start a fresh credential chain and signer.
      this.refreshedAfterAuthFailure = true;
      this.credentialProvider = undefined;
      this.replaceClient();
      this.log?.info('opensearch: AWS credentials re-read after an authentication failure', {
        sink: this.name,
      });
      return true;
    }
    if (auth?.type !== 'basic') return false;
    const refs = [auth.username, auth.password].filter(isSecretRef);
    if (refs.length === 0) return false;
    const reread = this.ctx.refreshSecret ?? this.ctx.resolveSecret;
    if (!reread) return false;
    this.refreshedAfterAuthFailure = true;
    const [username, password] = await Promise.all(
      [auth.username, auth.password].map((v) => (isSecretRef(v) ? reread(v) : Promise.resolve(v))),
    );
    this.creds = { username, password };
    this.replaceClient();
    this.log?.info('opensearch: credentials re-read after an authentication failure', { sink: this.name });
    return true;
  }

  private replaceClient(): void {
    const old = this.client;
    this.client = this.makeClient();
    void old.close().catch(() => {});
  }

  private async bulk(body: string, signal?: AbortSignal): Promise<BulkItemResult[] | 'tooLarge' | 'ok'> {
    // A pre-serialised NDJSON string goes through as is (the typed `bulk()` only admits arrays).
    const req = this.client.transport.request({
      method: 'POST',
      path: '/_bulk',
      querystring: this.cfg.pipeline ? { ...BULK_QUERY, pipeline: this.cfg.pipeline } : BULK_QUERY,
      bulkBody: body,
    });
    // Block body on purpose: `abort()` returns the request's thenable, and an EventTarget listener
    // that returns a thenable has its rejection rethrown as an uncaught exception by Node.
    const abort = () => {
      req.abort();
    };
    signal?.addEventListener('abort', abort, { once: true });
    try {
      const res = await req;
      this.refreshedAfterAuthFailure = false;
      const b = res.body as unknown as { errors?: boolean; items?: Record<string, BulkItemResult>[] };
      if (b.errors === false) return 'ok';
      return (b.items ?? []).map((it) => {
        for (const k in it) return it[k];
        return { status: 500, error: { type: 'empty_item' } };
      });
    } catch (e) {
      if (statusOf(e) === 413) return 'tooLarge';
      return this.onRequestError(e);
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  async send(batch: readonly Encoded<string>[], ctx: SendContext): Promise<SendResult> {
    const server = await this.ensureServer();
    if (!isSupported(server)) {
      throw new LogferryError(
        'SINK_UNAVAILABLE',
        `${this.name}: ${server.flavor} ${server.version} is not supported (OpenSearch 1–3, Elasticsearch 7–9)`,
      );
    }
    let body = '';
    for (const e of batch) body += e.data;
    const res = await this.bulk(body, ctx.signal);
    if (res === 'ok') return ALL_DELIVERED;
    if (res === 'tooLarge') return { problems: [], tooLarge: true };

    const problems: ItemProblem[] = [];
    const mapping: { index: number; reason: string }[] = [];
    for (let i = 0; i < batch.length; i++) {
      const item = res[i];
      if (!item) {
        problems.push({
          index: i,
          action: 'retry',
          code: 'SINK_UNAVAILABLE',
          reason: 'no result for this item',
        });
        continue;
      }
      const v = classifyItem(item);
      if (v === 'delivered') continue;
      const code = item.error?.type ?? `HTTP_${item.status}`;
      if (v === 'retry') problems.push({ index: i, action: 'retry', code, reason: itemReason(item) });
      else if (v === 'mapping' && this.cfg.onMappingError === 'fallback')
        mapping.push({ index: i, reason: itemReason(item) });
      else problems.push({ index: i, action: 'reject', code, reason: itemReason(item) });
    }
    if (mapping.length > 0) problems.push(...(await this.sendFallback(batch, mapping, ctx)));
    return { problems };
  }

  /** Second and last chance for documents the mapping refused: the parsed fields as one string. */
  private async sendFallback(
    batch: readonly Encoded<string>[],
    items: { index: number; reason: string }[],
    ctx: SendContext,
  ): Promise<ItemProblem[]> {
    let body = '';
    for (const it of items) body += this.encodeFallback(batch[it.index].record, it.reason);
    let res: Awaited<ReturnType<OpenSearchSink['bulk']>>;
    try {
      res = await this.bulk(body, ctx.signal);
    } catch (e) {
      const code = e instanceof LogferryError ? e.code : 'SINK_UNAVAILABLE';
      return items.map((it) => ({
        index: it.index,
        action: 'retry' as const,
        code,
        reason: describeError(e),
      }));
    }
    if (res === 'ok') return [];
    if (res === 'tooLarge') {
      // The safe form is never larger than the original plus the reason; a refusal here is transient.
      return items.map((it) => ({
        index: it.index,
        action: 'retry',
        code: 'RECORD_TOO_LARGE',
        reason: 'HTTP 413',
      }));
    }
    const out: ItemProblem[] = [];
    items.forEach((it, j) => {
      const r = res[j];
      const v = r ? classifyItem(r) : 'retry';
      if (v === 'delivered') return;
      if (v === 'retry') {
        out.push({
          index: it.index,
          action: 'retry',
          code: r?.error?.type ?? 'SINK_UNAVAILABLE',
          reason: r ? itemReason(r) : '',
        });
      } else {
        out.push({
          index: it.index,
          action: 'reject',
          code: it.reason.split(':', 1)[0] || 'SINK_REJECTED',
          reason: `${it.reason}; its safe form (fields as ${FIELDS_JSON_FIELD}) was refused too: ${r ? itemReason(r) : ''}`,
        });
      }
    });
    return out;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

async function resolveCredentials(
  cfg: OpenSearchSinkConfig,
  ctx: BuildContext,
): Promise<Credentials | undefined> {
  const u = new URL(cfg.url);
  if (cfg.auth?.type === 'basic') {
    if (u.username || u.password) {
      throw new LogferryError(
        'CONFIG_INVALID',
        'opensearch: give credentials either in the url or in auth, not both',
      );
    }
    const resolve = async (v: string) => {
      if (!isSecretRef(v)) return v;
      if (!ctx.resolveSecret) {
        throw new LogferryError(
          'CONFIG_INVALID',
          'opensearch: auth uses a secret reference but no secret resolver is available',
        );
      }
      return ctx.resolveSecret(v);
    };
    const [username, password] = await Promise.all([resolve(cfg.auth.username), resolve(cfg.auth.password)]);
    return { username, password };
  }
  if (u.username || u.password) {
    if (cfg.auth && cfg.auth.type !== 'none') {
      throw new LogferryError(
        'CONFIG_INVALID',
        'opensearch: credentials in the url cannot be combined with sigv4',
      );
    }
    return { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  }
  return undefined;
}

export async function createOpenSearchSink(
  cfg: OpenSearchSinkConfig,
  ctx: BuildContext = {},
): Promise<OpenSearchSink> {
  const creds = await resolveCredentials(cfg, ctx);
  return new OpenSearchSink(cfg, ctx, creds);
}

export const opensearchSinkSpec: ComponentSpec<OpenSearchSinkConfig, Sink<string>> = {
  type: 'opensearch',
  iam: ['es:ESHttpPost', 'es:ESHttpPut', 'aoss:APIAccessAll'],
  summary:
    'Bulk-indexes documents into OpenSearch 1–3 / Amazon OpenSearch Service / Elasticsearch 7–9, idempotently.',
  schema: opensearchSinkConfig,
  create: createOpenSearchSink,
};
