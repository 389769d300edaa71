/**
 * Archive lines → query rows. Two object formats, as the S3 sink writes them:
 *
 *  - `ndjson`: one document per line (`toDocument(r, 'epoch')`): `@timestamp` epoch ms (ISO strings
 *    are accepted and normalised), `@message`, `@logStream`, `@log`, parsed fields nested. When a
 *    document carries no parsed fields and its `@message` is a JSON object, the message is parsed on
 *    read and its keys added (never over a system field), so `verb`, `objectRef.name` … work on
 *    archives written without a json parser.
 *  - `raw`: one message per line. `@logStream`/`@log` come from the object's partition path (see
 *    partition-path.ts) and `@timestamp` from the line when it carries one (a JSON `@timestamp`,
 *    `timestamp`, `time`, `requestReceivedTimestamp` or `stageTimestamp`; a leading ISO 8601 time; a
 *    klog header `I1122 13:39:45.123456`, year from the key), else from the object key's time.
 *
 * A line that looks like a document (`{` … with `@message`) is read as `ndjson`, anything else as
 * `raw`, per line, so mixed archives read correctly. Hive partition fields of the key
 * (`component=lambda/…`) are added to every row that lacks a field of that name.
 */
import { SYSTEM_FIELDS } from '../../core/document.js';
import type { Row } from '../types.js';
import type { ObjectInfo } from './partition-path.js';

const ISO_AT_START = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)/;
const KLOG = /^[IWEF](\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/;
const JSON_TIME_KEYS = ['@timestamp', 'timestamp', 'time', 'requestReceivedTimestamp', 'stageTimestamp'];

/** Epoch ms from a number (s or ms) or a date string; NaN when not a time. */
export function toEpochMs(v: unknown): number {
  if (typeof v === 'number') return v < 1e11 ? v * 1000 : v;
  if (typeof v === 'string') {
    if (/^\d{9,13}(\.\d+)?$/.test(v)) return toEpochMs(Number(v));
    let s = v;
    // Date.parse wants 'T' and at most ms precision.
    if (s.length > 10 && s[10] === ' ') s = `${s.slice(0, 10)}T${s.slice(11)}`;
    const ms = Date.parse(s.replace(/(\.\d{3})\d+/, '$1').replace(',', '.'));
    return ms;
  }
  return Number.NaN;
}

function hasParsedFields(doc: Record<string, unknown>): boolean {
  for (const k in doc) if (!SYSTEM_FIELDS.has(k)) return true;
  return false;
}

/** Adds a JSON message's keys to the row (system fields win). Returns the parsed object or undefined. */
function mergeJsonMessage(row: Row, message: string): Record<string, unknown> | undefined {
  let i = 0;
  while (i < message.length && (message.charCodeAt(i) === 32 || message.charCodeAt(i) === 9)) i++;
  if (message.charCodeAt(i) !== 123 /* { */) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const o = obj as Record<string, unknown>;
  for (const k in o) if (!SYSTEM_FIELDS.has(k) && !(k in row)) row[k] = o[k];
  return o;
}

export function rawTime(
  line: string,
  parsed: Record<string, unknown> | undefined,
  info: ObjectInfo,
): number | undefined {
  if (parsed) {
    for (const k of JSON_TIME_KEYS) {
      const v = parsed[k];
      if (v !== undefined) {
        const ms = toEpochMs(v);
        if (Number.isFinite(ms)) return ms;
      }
    }
  }
  const iso = ISO_AT_START.exec(line);
  if (iso) {
    const ms = toEpochMs(iso[1].includes('Z') || /[+-]\d{2}:?\d{2}$/.test(iso[1]) ? iso[1] : `${iso[1]}Z`);
    if (Number.isFinite(ms)) return ms;
  }
  const k = KLOG.exec(line);
  if (k && info.keyTimeMs !== undefined) {
    const year = new Date(info.keyTimeMs).getUTCFullYear();
    let ms = Date.UTC(
      year,
      Number(k[1]) - 1,
      Number(k[2]),
      Number(k[3]),
      Number(k[4]),
      Number(k[5]),
      Math.floor(Number(`0.${k[6] ?? '0'}`) * 1000),
    );
    // A December line in a January object belongs to the year before.
    if (ms - info.keyTimeMs > 180 * 86_400_000)
      ms = Date.UTC(year - 1, Number(k[1]) - 1, Number(k[2]), Number(k[3]), Number(k[4]), Number(k[5]));
    if (Number.isFinite(ms)) return ms;
  }
  return info.keyTimeMs;
}

/**
 * One line → a row, or undefined for a blank line. Never throws: an unparsable `{…}` line is a raw
 * message.
 */
export function decodeLine(line: string, info: ObjectInfo): Row | undefined {
  if (line.length === 0) return undefined;
  if (line.charCodeAt(0) === 123 /* { */ && line.includes('"@message"')) {
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      doc = undefined;
    }
    if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
      const row = doc as Row;
      const ts = row['@timestamp'];
      if (typeof ts !== 'number') {
        const ms = toEpochMs(ts);
        if (Number.isFinite(ms)) row['@timestamp'] = ms;
        else if (info.keyTimeMs !== undefined) row['@timestamp'] = info.keyTimeMs;
      }
      if (row['@logStream'] === undefined && info.logStream !== undefined) row['@logStream'] = info.logStream;
      if (row['@log'] === undefined && info.logGroup !== undefined) row['@log'] = info.logGroup;
      const msg = row['@message'];
      if (typeof msg === 'string' && !hasParsedFields(row)) mergeJsonMessage(row, msg);
      if (info.fields) addKeyFields(row, info.fields);
      return row;
    }
  }
  if (line.trim().length === 0) return undefined;
  const row: Row = { '@message': line };
  const parsed = mergeJsonMessage(row, line);
  const ts = rawTime(line, parsed, info);
  row['@timestamp'] = ts ?? Number.NaN;
  if (info.logStream !== undefined) row['@logStream'] = info.logStream;
  if (info.logGroup !== undefined) row['@log'] = info.logGroup;
  if (info.fields) addKeyFields(row, info.fields);
  return row;
}

/** Partition fields of the key (Hive `k=v`) for what the line itself does not say. */
function addKeyFields(row: Row, fields: Record<string, string>): void {
  for (const k in fields) if (row[k] === undefined) row[k] = fields[k];
}
