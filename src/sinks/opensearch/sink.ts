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
 *
 * Files: config.ts (options, limits), index-name.ts (index templates, document ids), bulk.ts (`_bulk`
 * item rules, server detection), client.ts (connection, auth), sink.ts (encoding and settling).
 */
import type { BuildContext, ComponentSpec } from '../../core/component.js';
import { isoTimestamp, toDocument } from '../../core/document.js';
import { describeError, LogferryError } from '../../core/errors.js';
import type { LogRecord } from '../../core/record.js';
import {
  ALL_DELIVERED,
  type Encoded,
  type ItemProblem,
  type SendContext,
  type SendResult,
  type Sink,
} from '../../core/sink.js';
import { classifyItem, isSupported, itemReason } from './bulk.js';
import { type Credentials, OpenSearchConnection, resolveCredentials } from './client.js';
import {
  FIELDS_JSON_FIELD,
  MAPPING_ERROR_FIELD,
  OPENSEARCH_DEFAULT_MAX_BYTES,
  type OpenSearchSinkConfig,
  opensearchSinkMeta,
} from './config.js';
import { documentId, IndexNamer } from './index-name.js';

const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * UTF-8 bytes of `json`, the JSON.stringify of the string `s`, without measuring `json` (a
 * stringify result is a rope: measuring flattens it, a copy of the message made only to be
 * counted). JSON escapes only ASCII characters (quote, backslash, controls) into ASCII sequences and
 * keeps every other character as it is — except lone surrogates, which it writes as `\udxxx` where
 * Buffer.byteLength counts 3 bytes: so for a well-formed `s` the escapes add exactly as many bytes
 * as UTF-16 units, and `json` has the bytes of `s` plus `json.length - s.length`.
 */
export function jsonStringBytes(s: string, json: string): number {
  return wellFormed(s) ? Buffer.byteLength(s) + json.length - s.length : Buffer.byteLength(json);
}

export class OpenSearchSink implements Sink<string> {
  readonly type = 'opensearch';
  readonly name: string;
  readonly limits;
  /** `create` with a stable `_id`: a record sent again answers 409 and is stored once. */
  readonly dedupesById: boolean;
  private readonly namer: IndexNamer;
  private readonly conn: OpenSearchConnection;

  constructor(
    private readonly cfg: OpenSearchSinkConfig,
    ctx: BuildContext,
    creds?: Credentials,
  ) {
    this.name = cfg.name ?? cfg.type;
    const maxBytes = cfg.maxBytes ?? Math.min(OPENSEARCH_DEFAULT_MAX_BYTES, cfg.httpMaxContentLength);
    this.limits = { maxRecords: cfg.maxRecords, maxBytes, maxRecordBytes: maxBytes, maxAgeMs: cfg.maxAgeMs };
    this.namer = new IndexNamer(cfg.index);
    this.dedupesById = cfg.documentId === 'stable';
    this.conn = new OpenSearchConnection(cfg, ctx, this.name, creds);
  }

  encode(record: LogRecord): Encoded<string> | { reject: string; code: string } {
    let json: string;
    try {
      json = this.documentJson(record);
    } catch (e) {
      return { reject: `document cannot be serialised as JSON: ${describeError(e)}`, code: 'SINK_REJECTED' };
    }
    const action = this.actionLine(record);
    // The byte count is summed from the parts (each a whole JSON text, so no UTF-16 pair is split
    // between two of them): the line is not flattened here only to be measured.
    return { record, data: `${action}\n${json}\n`, bytes: this.actionBytes + this.docBytes + 2 };
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
    if (!direct) {
      const json = JSON.stringify(toDocument(r, 'iso'));
      this.docBytes = Buffer.byteLength(json);
      return json;
    }
    if (m.logStream !== this.docStream || m.logGroup !== this.docGroup || m.owner !== this.docOwner) {
      this.docStream = m.logStream;
      this.docGroup = m.logGroup;
      this.docOwner = m.owner;
      const log = m.owner ? `${m.owner}:${m.logGroup}` : m.logGroup;
      this.docStreamJson = `,"@logStream":${JSON.stringify(m.logStream)},"@log":${JSON.stringify(log)}`;
      this.docStreamBytes = Buffer.byteLength(this.docStreamJson);
    }
    // An ISO date string holds nothing JSON escapes: quoting it is JSON.stringify's output. It is
    // ASCII, as are the literal keys: their bytes are their length.
    const time = isoTimestamp(r.timestamp);
    const msg = JSON.stringify(r.message);
    const id = JSON.stringify(m.id);
    const fj = JSON.stringify(f);
    const head = `{"@timestamp":"${time}","@message":${msg}${this.docStreamJson},"@id":${id}`;
    // `{"@timestamp":"` `","@message":` `,"@id":` = 35 bytes, then `}` or `,` + the fields less `{`.
    this.docBytes =
      35 + time.length + jsonStringBytes(r.message, msg) + this.docStreamBytes + Buffer.byteLength(id) + 1;
    if (fj === '{}') return `${head}}`;
    this.docBytes += Buffer.byteLength(fj) - 1;
    return `${head},${fj.slice(1)}`;
  }
  /** UTF-8 bytes of the last documentJson answer. */
  private docBytes = 0;
  private docStreamBytes = 0;
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
      this.lastActionPrefixBytes = Buffer.byteLength(this.lastActionPrefix);
    }
    if (this.cfg.documentId === 'stable') {
      // A document id is 32 base64url characters: `,"_id":"` + id + `"}}` = 43 bytes.
      this.actionBytes = this.lastActionPrefixBytes + 43;
      return `${this.lastActionPrefix},"_id":"${documentId(record.meta)}"}}`;
    }
    this.actionBytes = this.lastActionPrefixBytes + 2;
    return `${this.lastActionPrefix}}}`;
  }
  private lastIndexName?: string;
  private lastActionPrefix = '';
  private lastActionPrefixBytes = 0;
  /** UTF-8 bytes of the last actionLine answer. */
  private actionBytes = 0;

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

  async send(batch: readonly Encoded<string>[], ctx: SendContext): Promise<SendResult> {
    const server = await this.conn.ensureServer();
    if (!isSupported(server)) {
      throw new LogferryError(
        'SINK_UNAVAILABLE',
        `${this.name}: ${server.flavor} ${server.version} is not supported (OpenSearch 1–3, Elasticsearch 7–9)`,
      );
    }
    let body = '';
    for (const e of batch) body += e.data;
    const res = await this.conn.bulk(body, ctx.signal);
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
    let res: Awaited<ReturnType<OpenSearchConnection['bulk']>>;
    try {
      res = await this.conn.bulk(body, ctx.signal);
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
    await this.conn.close();
  }
}

export async function createOpenSearchSink(
  cfg: OpenSearchSinkConfig,
  ctx: BuildContext = {},
): Promise<OpenSearchSink> {
  const creds = await resolveCredentials(cfg, ctx);
  return new OpenSearchSink(cfg, ctx, creds);
}

export const opensearchSinkSpec: ComponentSpec<OpenSearchSinkConfig, Sink<string>> = {
  ...opensearchSinkMeta,
  create: createOpenSearchSink,
};
