/**
 * `_bulk` item rules and server detection for the `opensearch` sink: which per-item answers are
 * delivered, retried (429, rejected execution, circuit breakers, 5xx), a mapping problem (retried
 * once in the safe form) or rejected; and which servers (OpenSearch 1–3, Elasticsearch 7–9) are
 * supported. Pure.
 */
import { LogferryError } from '../../core/errors.js';
import { MAX_REASON_CHARS } from './config.js';

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

export function itemReason(item: BulkItemResult): string {
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
