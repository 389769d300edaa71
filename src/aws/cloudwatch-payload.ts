/**
 * Decoding of CloudWatch Logs subscription payloads (the data Kinesis, Firehose and Lambda
 * subscriptions carry): base64 → gunzip → JSON. Every malformed input yields a stable error code
 * and a reason instead of throwing; `CONTROL_MESSAGE`s are recognised so callers can count them as
 * intentional drops. Unknown extra fields (e.g. `policyLevel` on account-level subscriptions) are
 * tolerated and kept.
 *
 * Limits: a CloudWatch log event is at most 1 MB
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html); the
 * decompressed payload is bounded by `maxDecodedBytes` to refuse gzip bombs. The inverse,
 * `encodeCloudWatchPayload` (+ `controlMessage`), builds payloads as CloudWatch sends them for the
 * demo source, tests and benches.
 */
import { isUtf8 } from 'node:buffer';
import { gunzip, inflate, constants as zc, gunzipSync, gzipSync, inflateSync } from 'node:zlib';

/** Largest decompressed payload accepted (a Kinesis record is ≤ 10 MiB compressed; CloudWatch compresses ~10×). */
export const MAX_DECODED_PAYLOAD_BYTES = 128 * 1024 * 1024;

export interface CloudWatchLogEvent {
  id: string;
  timestamp: number;
  message: string;
  /** Some producers add extracted fields; kept as is. */
  extractedFields?: Record<string, string>;
}

export interface DataMessage {
  messageType: 'DATA_MESSAGE';
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters: string[];
  logEvents: CloudWatchLogEvent[];
  policyLevel?: string;
}

export interface ControlMessage {
  messageType: 'CONTROL_MESSAGE';
  owner?: string;
  logGroup?: string;
  logStream?: string;
  subscriptionFilters?: string[];
  logEvents?: CloudWatchLogEvent[];
}

/**
 * Encodes a subscription message as CloudWatch Logs puts it on the wire: its JSON, gzipped (zlib's
 * default level). The inverse of `decodeGzipPayload`. A string is taken as the JSON text itself
 * (tests use it to build malformed payloads); anything else is serialised with `JSON.stringify`.
 */
export function encodeCloudWatchPayload(message: DataMessage | ControlMessage | object | string): Buffer {
  return gzipSync(typeof message === 'string' ? message : JSON.stringify(message));
}

/**
 * The `CONTROL_MESSAGE` CloudWatch Logs sends to check a subscription destination is reachable
 * (`destination`: e.g. `Firehose`, `Kinesis stream`).
 */
export function controlMessage(timestamp: number, destination = 'Firehose'): ControlMessage {
  return {
    messageType: 'CONTROL_MESSAGE',
    owner: 'CloudwatchLogs',
    logGroup: '',
    logStream: '',
    subscriptionFilters: [],
    logEvents: [
      { id: '', timestamp, message: `CWL CONTROL MESSAGE: Checking health of destination ${destination}.` },
    ],
  };
}

export type DecodeErrorCode =
  | 'ENVELOPE_EMPTY'
  | 'ENVELOPE_BAD_BASE64'
  | 'ENVELOPE_NOT_GZIP'
  | 'ENVELOPE_GZIP_TRUNCATED'
  | 'ENVELOPE_GZIP_CORRUPT'
  | 'ENVELOPE_TOO_LARGE'
  | 'ENVELOPE_INVALID_UTF8'
  | 'ENVELOPE_NOT_JSON'
  | 'ENVELOPE_UNKNOWN_TYPE'
  | 'ENVELOPE_BAD_SHAPE';

export type DecodeResult =
  | { ok: true; message: DataMessage | ControlMessage; decodedBytes: number }
  | { ok: false; code: DecodeErrorCode; reason: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fail(code: DecodeErrorCode, reason: string): DecodeResult {
  return { ok: false, code, reason };
}

/** Decodes base64 text (as Kinesis/Firehose events carry it). */
export function decodeBase64Payload(data: string | undefined | null, opts?: DecodeOptions): DecodeResult {
  const buf = base64Bytes(data);
  return Buffer.isBuffer(buf) ? decodeGzipPayload(buf, opts) : buf;
}

/** The bytes of base64 text, or why it is not base64 (empty, bad characters). */
export function base64Bytes(data: string | undefined | null): Buffer | DecodeResult {
  if (typeof data !== 'string' || data.length === 0) return fail('ENVELOPE_EMPTY', 'record data is empty');
  // Buffer.from(…, 'base64') silently skips invalid characters, so clean input (no whitespace, no
  // base64url `-`/`_`) decodes to exactly 3/4 of its length minus padding. Checking that is O(1) and
  // saves a regex pass that costs as much as the gunzip; anything else takes the strict path below.
  if (data.length % 4 === 0 && data.indexOf('-') === -1 && data.indexOf('_') === -1) {
    const buf = Buffer.from(data, 'base64');
    const pad =
      data.charCodeAt(data.length - 1) === 61 ? (data.charCodeAt(data.length - 2) === 61 ? 2 : 1) : 0;
    if (buf.length === (data.length / 4) * 3 - pad) return buf;
  }
  const compact = data.length % 4 === 0 && BASE64.test(data) ? data : data.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    return fail('ENVELOPE_BAD_BASE64', 'record data is not valid base64');
  }
  return Buffer.from(compact, 'base64');
}

export interface DecodeOptions {
  maxDecodedBytes?: number;
}

/**
 * Decodes the gzip bytes of a subscription payload. `inflated`: what `inflateAhead` already made of
 * `buf` on the thread pool (the same bytes or the same failure as inflating here).
 */
export function decodeGzipPayload(
  buf: Uint8Array,
  opts: DecodeOptions = {},
  inflated?: Inflated,
): DecodeResult {
  if (buf.length === 0) return fail('ENVELOPE_EMPTY', 'record data is empty');
  if (!isGzip(buf)) {
    return fail(
      'ENVELOPE_NOT_GZIP',
      'record data is not gzip (CloudWatch Logs subscriptions send gzip; missing magic bytes 1f 8b)',
    );
  }
  const raw = inflated ?? gunzipBounded(buf, opts);
  return Buffer.isBuffer(raw) ? decodeJsonPayload(raw) : raw;
}

function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/** zlib (RFC 1950) header: CMF 0x78 (deflate, 32 KiB window) and the FLG bytes of levels 1/2-5/6/7-9. */
function isZlib(buf: Uint8Array): boolean {
  if (buf.length < 2 || buf[0] !== 0x78) return false;
  const f = buf[1];
  return f === 0x01 || f === 0x5e || f === 0x9c || f === 0xda;
}

/**
 * Options for inflating `buf`: one output chunk the size the gzip trailer states (ISIZE, the
 * uncompressed length mod 2^32), so zlib writes straight into the result instead of 16 KiB chunks
 * joined by a copy (~25 % less CPU on 100 KB payloads). ISIZE is only a hint: a wrong or hostile
 * one costs more chunks, never a wrong result; `maxOutputLength` still bounds the output.
 */
export function gunzipOptions(
  buf: Uint8Array,
  opts: DecodeOptions,
): { maxOutputLength: number; chunkSize: number } {
  const max = opts.maxDecodedBytes ?? MAX_DECODED_PAYLOAD_BYTES;
  const isize = isizeOf(buf);
  // +1: zlib needs room left to report the end of the stream without a second chunk.
  const chunkSize = isize > 0 && isize < max && isize < MAX_GUNZIP_CHUNK ? isize + 1 : DEFAULT_GUNZIP_CHUNK;
  return { maxOutputLength: max, chunkSize: Math.max(64, chunkSize) };
}

/** Output chunk when the trailer gives no usable size hint. */
const DEFAULT_GUNZIP_CHUNK = 256 * 1024;
/** Largest single output chunk taken from a trailer's size hint. */
const MAX_GUNZIP_CHUNK = 16 * 1024 * 1024;

function gunzipBounded(buf: Uint8Array, opts: DecodeOptions): Buffer | DecodeResult {
  try {
    return gunzipSync(buf, gunzipOptions(buf, opts));
  } catch (e) {
    return gunzipFailure(e, opts);
  }
}

function gunzipFailure(e: unknown, opts: DecodeOptions): DecodeResult {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ERR_BUFFER_TOO_LARGE') {
    return fail(
      'ENVELOPE_TOO_LARGE',
      `decompressed payload exceeds ${opts.maxDecodedBytes ?? MAX_DECODED_PAYLOAD_BYTES} bytes`,
    );
  }
  if (err.code === 'Z_BUF_ERROR' || (err as { errno?: number }).errno === zc.Z_BUF_ERROR) {
    return fail('ENVELOPE_GZIP_TRUNCATED', 'gzip data is truncated (unexpected end of file)');
  }
  return fail('ENVELOPE_GZIP_CORRUPT', `gzip data is corrupt: ${err.message}`);
}

function inflateFailure(e: unknown, buf: Uint8Array, opts: DecodeOptions): Buffer | DecodeResult {
  if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
    return fail(
      'ENVELOPE_TOO_LARGE',
      `decompressed record exceeds ${opts.maxDecodedBytes ?? MAX_DECODED_PAYLOAD_BYTES} bytes`,
    );
  // Two bytes that look like a zlib header but are not (text starting "x^"): take it as text.
  return Buffer.from(buf.buffer, buf.byteOffset, buf.length);
}

/**
 * What inflating a record's bytes gave: the decompressed bytes (for a zlib header that is no zlib
 * stream, the record's own bytes: it is text), or why it failed. `undefined`: not compressed.
 */
export type Inflated = Buffer | DecodeResult | undefined;

/**
 * Inflates `buf` on the libuv thread pool — gzip (1f 8b) always, zlib (78 …) unless `format` is
 * `cloudwatch` — with the same bound, output and error codes as the synchronous decoders; anything
 * else resolves to `undefined` (not compressed: the decoder takes it as it is).
 */
export function inflateAsync(
  buf: Uint8Array,
  opts: DecodeOptions & { format?: RecordFormat } = {},
): Promise<Inflated> | undefined {
  if (isGzip(buf))
    return new Promise((resolve) => {
      gunzip(buf, gunzipOptions(buf, opts), (err, out) => resolve(err ? gunzipFailure(err, opts) : out));
    });
  if (opts.format !== 'cloudwatch' && isZlib(buf))
    return new Promise((resolve) => {
      inflate(buf, { maxOutputLength: opts.maxDecodedBytes ?? MAX_DECODED_PAYLOAD_BYTES }, (err, out) =>
        resolve(err ? inflateFailure(err, buf, opts) : out),
      );
    });
  return undefined;
}

/** Payloads inflating on the thread pool at once (libuv's default pool has 4 threads). */
export const INFLATE_AHEAD_RECORDS = 4;
/**
 * Decompressed bytes the read-ahead may hold at once, by the gzip trailers' size hints (a payload
 * is started anyway when nothing else is in flight; each one stays bounded by `maxDecodedBytes`).
 */
export const INFLATE_AHEAD_BYTES = 32 * 1024 * 1024;

/** The gzip trailer's ISIZE (uncompressed length mod 2^32; a hint), or 0 when too short to have one. */
function isizeOf(buf: Uint8Array): number {
  const n = buf.length;
  return n >= 18 ? (buf[n - 4] | (buf[n - 3] << 8) | (buf[n - 2] << 16) | (buf[n - 1] << 24)) >>> 0 : 0;
}

/** Decompressed size a payload announces (gzip ISIZE), or its compressed size when it cannot tell. */
export function sizeHint(buf: Uint8Array): number {
  return isGzip(buf) && buf.length >= 18 ? isizeOf(buf) : buf.length;
}

/**
 * Decodes `count` records in order while the next ones inflate on the libuv thread pool: record i
 * is yielded (`finish(i, bytes, inflated)`) as soon as its payload is inflated, with up to
 * `INFLATE_AHEAD_RECORDS` payloads (and `INFLATE_AHEAD_BYTES` by their size hints) inflating
 * ahead of it. On a 2-vCPU Lambda decompression so runs beside parsing, masking and formatting on
 * the main thread. `bytes(i)`: the record's raw bytes, or a result that needs no inflating (bad
 * base64); `finish` decides everything else, exactly as the synchronous decoder does.
 */
export async function* inflateAhead<T, B extends Uint8Array | object>(
  count: number,
  bytes: (i: number) => B,
  finish: (i: number, bytes: B, inflated: Inflated) => T,
  opts: DecodeOptions & { format?: RecordFormat } = {},
): AsyncGenerator<T> {
  const raw: (B | undefined)[] = new Array(count);
  const pending: (Promise<Inflated> | undefined)[] = new Array(count);
  const hints: number[] = new Array(count).fill(0);
  let next = 0;
  let aheadBytes = 0;
  for (let i = 0; i < count; i++) {
    // Start what the window allows: records [i, next) are in flight.
    while (
      next < count &&
      next - i < INFLATE_AHEAD_RECORDS &&
      (next === i || aheadBytes < INFLATE_AHEAD_BYTES)
    ) {
      const b = bytes(next);
      raw[next] = b;
      if (b instanceof Uint8Array) {
        pending[next] = inflateAsync(b, opts);
        if (pending[next]) {
          hints[next] = Math.min(sizeHint(b), opts.maxDecodedBytes ?? MAX_DECODED_PAYLOAD_BYTES);
          aheadBytes += hints[next];
        }
      }
      next++;
    }
    const p = pending[i];
    const inflated = p === undefined ? undefined : await p;
    const b = raw[i] as B;
    raw[i] = undefined;
    pending[i] = undefined;
    aheadBytes -= hints[i];
    yield finish(i, b, inflated);
  }
}

/**
 * What a stream record may carry: `cloudwatch` accepts only CloudWatch Logs subscription payloads
 * (anything else is malformed); `auto` also accepts any JSON object, NDJSON or text lines (Fluent
 * Bit's `kinesis_streams`/`firehose` outputs, the Kinesis Agent, any producer), optionally gzip or
 * zlib compressed.
 */
export type RecordFormat = 'auto' | 'cloudwatch';

/** A record that is not a CloudWatch payload: its text, and its JSON object when it is one. */
export interface LinesData {
  ok: true;
  message?: undefined;
  /** The decompressed text. */
  text: string;
  /** The record's single JSON object (already parsed), when the whole text is one. */
  object?: Record<string, unknown>;
  decodedBytes: number;
}

export type RecordDataResult = DecodeResult | LinesData;

/**
 * Decodes one stream record's bytes, detected per record: gzip (1f 8b) or zlib (78 01/5e/9c/da)
 * compression, then a CloudWatch subscription payload (a JSON object with `messageType`: validated
 * strictly, as `decodeGzipPayload` does), another JSON object, or lines (NDJSON and/or plain text).
 * A CloudWatch payload costs exactly what `decodeGzipPayload` costs: one gunzip, one JSON.parse.
 * Malformed: empty data, corrupt/truncated gzip, oversized output, bytes that are not UTF-8 text.
 */
export function decodeRecordData(
  buf: Uint8Array,
  opts: DecodeOptions & { format?: RecordFormat } = {},
  inflated?: Inflated,
): RecordDataResult {
  if (opts.format === 'cloudwatch') return decodeGzipPayload(buf, opts, inflated);
  if (buf.length === 0) return fail('ENVELOPE_EMPTY', 'record data is empty');
  let raw: Buffer;
  if (inflated !== undefined) {
    if (!Buffer.isBuffer(inflated)) return inflated;
    raw = inflated;
  } else if (isGzip(buf)) {
    const out = gunzipBounded(buf, opts);
    if (!Buffer.isBuffer(out)) return out;
    raw = out;
  } else if (isZlib(buf)) {
    try {
      raw = inflateSync(buf, { maxOutputLength: opts.maxDecodedBytes ?? MAX_DECODED_PAYLOAD_BYTES });
    } catch (e) {
      const out = inflateFailure(e, buf, opts);
      if (!Buffer.isBuffer(out)) return out;
      raw = out;
    }
  } else {
    raw = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  }
  if (raw.length === 0) return fail('ENVELOPE_EMPTY', 'decompressed record is empty');
  if (!isUtf8(raw))
    return fail('ENVELOPE_INVALID_UTF8', 'record data is neither a known compression nor UTF-8 text');
  const text = raw.toString('utf8');
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 32) i++;
  if (text.charCodeAt(i) === 123 /* { */) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined; // NDJSON, or text that starts with a brace
    }
    if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) {
      if ('messageType' in doc) {
        const res = validate(doc);
        if (res.ok) res.decodedBytes = raw.length;
        return res;
      }
      return { ok: true, text, object: doc as Record<string, unknown>, decodedBytes: raw.length };
    }
  }
  return { ok: true, text, decodedBytes: raw.length };
}

/** Where generic (non-CloudWatch) records come from: their provenance and id base. */
export interface LinesContext {
  owner: string;
  /** `meta.logGroup` (the stream's name). */
  logGroup: string;
  /** `meta.logStream` (the shard). */
  logStream: string;
  /** Deterministic per record (shard + sequence number); line `i` gets id `${idBase}:${i}`. */
  idBase: string;
  source: string;
  ackId: string;
  /** Event time when a line carries none (the record's arrival time). */
  fallbackTime: number;
}

/** Keys a JSON line's event time is read from, in order (Fluent Bit `time_key`, ECS, Logstash, …). */
const TIME_KEYS = ['@timestamp', 'timestamp', 'time', 'date', 'ts'] as const;
const NO_ZONE = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?$/;

/** Event time of a JSON object (epoch s/ms/µs/ns numbers, ISO strings; no zone means UTC). */
export function objectTime(o: Record<string, unknown>): number | undefined {
  for (const k of TIME_KEYS) {
    const v = o[k];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) {
      if (v < 1e11) return Math.round(v * 1000);
      if (v < 1e14) return Math.round(v);
      if (v < 1e17) return Math.round(v / 1000);
      return Math.round(v / 1e6);
    }
    if (typeof v === 'string' && v.length >= 10) {
      const t = Date.parse(NO_ZONE.test(v) ? `${v.replace(' ', 'T')}Z` : v);
      if (Number.isFinite(t)) return t;
    }
  }
  return undefined;
}

function lineRecord(
  c: LinesContext,
  id: string,
  timestamp: number,
  message: string,
  fields: Record<string, unknown>,
): import('../core/record.js').LogRecord {
  const { owner, logGroup, logStream, source, ackId } = c;
  return { timestamp, message, fields, meta: { owner, logGroup, logStream, id, source, ackId } };
}

function objectRecord(
  o: Record<string, unknown>,
  line: string,
  id: string,
  c: LinesContext,
): import('../core/record.js').LogRecord {
  // Fluent Bit records carry the text under `log` (tail, Docker/CRI), most others under `message`.
  const key = typeof o.log === 'string' ? 'log' : typeof o.message === 'string' ? 'message' : undefined;
  let message = line;
  let fields = o;
  if (key) {
    message = o[key] as string;
    fields = { ...o };
    delete fields[key];
  }
  return lineRecord(c, id, objectTime(o) ?? c.fallbackTime, message, fields);
}

/** The JSON object a line holds, or undefined (not starting with `{`, not JSON, not an object). */
export function parseObjectLine(line: string): Record<string, unknown> | undefined {
  if (line.charCodeAt(0) !== 123) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One line as a record: a JSON object (`obj`, parsed by the caller) gives fields (its `log`/`message` string is the
 * message, its time key the timestamp); any other line is text at `c.fallbackTime`.
 */
export function lineToRecord(
  line: string,
  id: string,
  c: LinesContext,
  obj: Record<string, unknown> | undefined,
) {
  return obj ? objectRecord(obj, line, id, c) : lineRecord(c, id, c.fallbackTime, line, {});
}

/**
 * Records of a non-CloudWatch stream record: its one JSON object, or one record per non-empty line
 * (a line that is a JSON object becomes fields; any other line is text). Line `i` (0-based, counting
 * empty lines) gets id `${idBase}:${i}`, so a redrive yields the same ids.
 */
export function linesToRecords(d: LinesData, c: LinesContext): import('../core/record.js').LogRecord[] {
  if (d.object) return [objectRecord(d.object, d.text.trim(), `${c.idBase}:0`, c)];
  const out: import('../core/record.js').LogRecord[] = [];
  const text = d.text;
  let start = 0;
  for (let i = 0; start <= text.length; i++) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
    if (stop > start) {
      const line = text.slice(start, stop);
      out.push(lineToRecord(line, `${c.idBase}:${i}`, c, parseObjectLine(line)));
    }
    start = end + 1;
  }
  return out;
}

/** Decodes the JSON bytes of a (decompressed) subscription payload. */
export function decodeJsonPayload(raw: Buffer): DecodeResult {
  if (raw.length === 0) return fail('ENVELOPE_EMPTY', 'decompressed payload is empty');
  if (!isUtf8(raw)) return fail('ENVELOPE_INVALID_UTF8', 'decompressed payload is not valid UTF-8');
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    return fail('ENVELOPE_NOT_JSON', `decompressed payload is not JSON: ${(e as Error).message}`);
  }
  const res = validate(doc);
  if (res.ok) res.decodedBytes = raw.length;
  return res;
}

function validate(doc: unknown): DecodeResult {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return fail('ENVELOPE_BAD_SHAPE', 'payload JSON is not an object');
  }
  const m = doc as Record<string, unknown>;
  if (m.messageType === 'CONTROL_MESSAGE')
    return { ok: true, message: m as unknown as ControlMessage, decodedBytes: 0 };
  if (m.messageType !== 'DATA_MESSAGE') {
    const t = m.messageType === undefined ? 'missing' : JSON.stringify(m.messageType).slice(0, 64);
    return fail(
      'ENVELOPE_UNKNOWN_TYPE',
      `unknown messageType ${t} (expected DATA_MESSAGE or CONTROL_MESSAGE)`,
    );
  }
  if (typeof m.logGroup !== 'string' || m.logGroup === '')
    return fail('ENVELOPE_BAD_SHAPE', 'DATA_MESSAGE has no logGroup');
  if (typeof m.logStream !== 'string') return fail('ENVELOPE_BAD_SHAPE', 'DATA_MESSAGE has no logStream');
  if (!Array.isArray(m.logEvents)) return fail('ENVELOPE_BAD_SHAPE', 'DATA_MESSAGE has no logEvents array');
  const events = m.logEvents as unknown[];
  for (let i = 0; i < events.length; i++) {
    const ev = events[i] as Record<string, unknown> | null;
    if (typeof ev !== 'object' || ev === null)
      return fail('ENVELOPE_BAD_SHAPE', `logEvents[${i}] is not an object`);
    if (typeof ev.id !== 'string') {
      // Some producers send numeric-looking ids as numbers; keep them usable as idempotency keys.
      if (typeof ev.id === 'number') ev.id = String(ev.id);
      else return fail('ENVELOPE_BAD_SHAPE', `logEvents[${i}] has no id`);
    }
    if (typeof ev.timestamp !== 'number' || !Number.isFinite(ev.timestamp)) {
      return fail('ENVELOPE_BAD_SHAPE', `logEvents[${i}] has no numeric timestamp`);
    }
    if (typeof ev.message !== 'string')
      return fail('ENVELOPE_BAD_SHAPE', `logEvents[${i}] has no string message`);
  }
  if (typeof m.owner !== 'string') m.owner = '';
  if (!Array.isArray(m.subscriptionFilters)) m.subscriptionFilters = [];
  return { ok: true, message: m as unknown as DataMessage, decodedBytes: 0 };
}

/** Turns a DATA_MESSAGE into records. One allocation per event; fields start empty. */
export function toRecords(
  msg: DataMessage,
  source: string,
  ackId: string,
): import('../core/record.js').LogRecord[] {
  const out = new Array(msg.logEvents.length);
  for (let i = 0; i < msg.logEvents.length; i++) {
    const ev = msg.logEvents[i];
    out[i] = {
      timestamp: ev.timestamp,
      message: ev.message,
      fields: {},
      meta: {
        owner: msg.owner,
        logGroup: msg.logGroup,
        logStream: msg.logStream,
        id: ev.id,
        subscriptionFilters: msg.subscriptionFilters,
        source,
        ackId,
      },
    };
  }
  return out;
}
