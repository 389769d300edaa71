/**
 * Pure decoding for the `http` source: the Amazon Data Firehose HTTP endpoint delivery request
 * (https://docs.aws.amazon.com/firehose/latest/dev/httpdeliveryrequestresponse.html) and plain
 * text-lines / NDJSON bodies, into envelopes. Never throws on bad input: a body that cannot be
 * read at all is a `BodyError` (the request is answered 4xx and nothing is taken); a Firehose record
 * that cannot be decoded becomes a malformed envelope (to the dead-letter sink, the request is
 * answered 200 because the record is kept there).
 *
 * Firehose records are decoded per record: a gzip CloudWatch Logs subscription payload (a log group
 * subscribed to the Firehose stream) goes through the same decoder as the Firehose and Kinesis homes
 * (src/aws/cloudwatch-payload.ts) — control messages are counted drops; any other data (Direct PUT,
 * Kinesis Agent, Fluent Bit's `kinesis_firehose` output), plain or gzip, is split into lines.
 * Record ids are `<requestId>:<record>:<line>`; Firehose keeps the request id across retries, so a
 * retried request yields the same ids and sinks that dedupe store it once.
 */
import { gunzipSync } from 'node:zlib';
import {
  type DecodeErrorCode,
  decodeBase64Payload,
  MAX_DECODED_PAYLOAD_BYTES,
  toRecords,
} from '../aws/cloudwatch-payload.js';
import type { LogRecord } from '../core/record.js';
import type { SourceEnvelope } from '../core/source.js';

export const SOURCE_TYPE = 'http';

export interface BodyError {
  status: number;
  message: string;
}

export interface LineMeta {
  logGroup: string;
  logStream: string;
  tag?: string;
}

export interface FirehoseRequest {
  requestId: string;
  timestamp: number;
  envelopes: SourceEnvelope[];
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits text into records, one per non-empty line (`\n` or `\r\n`). */
export function lineRecords(
  text: string,
  meta: LineMeta,
  idPrefix: string,
  ackId: string,
  timestamp: number,
  out: LogRecord[] = [],
): LogRecord[] {
  let start = 0;
  let n = 0;
  const len = text.length;
  while (start <= len) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = len;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
    if (stop > start) {
      const fields: Record<string, unknown> = {};
      if (meta.tag !== undefined) fields.tag = meta.tag;
      out.push({
        timestamp,
        message: text.slice(start, stop),
        fields,
        meta: {
          owner: '',
          logGroup: meta.logGroup,
          logStream: meta.logStream,
          id: `${idPrefix}:${n}`,
          source: SOURCE_TYPE,
          ackId,
        },
      });
    }
    n++;
    start = end + 1;
  }
  return out;
}

const TIME_KEYS = ['@timestamp', 'timestamp', 'time', 'date', 'ts'];
const MESSAGE_KEYS = ['message', 'log', 'msg'];

/** Event time from a JSON document's usual keys (epoch s/ms/ns numbers or date strings). */
export function documentTime(doc: Record<string, unknown>): number | undefined {
  for (const k of TIME_KEYS) {
    const v = doc[k];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) {
      if (v < 1e11) return Math.round(v * 1000); // seconds (with fraction)
      if (v < 1e14) return Math.round(v); // milliseconds
      if (v < 1e17) return Math.round(v / 1000); // microseconds
      return Math.round(v / 1e6); // nanoseconds
    }
    if (typeof v === 'string' && v.length >= 8) {
      const t = Date.parse(v);
      if (Number.isFinite(t)) return t;
    }
  }
  return undefined;
}

/**
 * NDJSON (or one JSON array of objects): each document is a record whose fields are the document;
 * `message` is its `message`/`log`/`msg` string, else the document's text; the time its
 * `@timestamp`/`timestamp`/`time`/`date`/`ts`, else `timestamp`. A line that is not a JSON object
 * refuses the whole body (400, naming the line), so a sender never has half a request accepted.
 */
export function ndjsonRecords(
  text: string,
  meta: LineMeta,
  idPrefix: string,
  ackId: string,
  timestamp: number,
): LogRecord[] | BodyError {
  const docs: [unknown, string, number][] = [];
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(trimmed);
    } catch (e) {
      return { status: 400, message: `body is not valid JSON: ${(e as Error).message}` };
    }
    if (!Array.isArray(arr)) return { status: 400, message: 'body is not a JSON array of objects' };
    for (let i = 0; i < arr.length; i++) docs.push([arr[i], '', i]);
  } else {
    let start = 0;
    let line = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const s = text.slice(start, end).trim();
      if (s !== '') {
        let doc: unknown;
        try {
          doc = JSON.parse(s);
        } catch (e) {
          return { status: 400, message: `line ${line + 1} is not valid JSON: ${(e as Error).message}` };
        }
        docs.push([doc, s, line]);
      }
      line++;
      start = end + 1;
    }
  }
  const out: LogRecord[] = new Array(docs.length);
  for (let i = 0; i < docs.length; i++) {
    const [doc, src, line] = docs[i];
    if (!isObj(doc))
      return {
        status: 400,
        message: `${src === '' ? `element ${line}` : `line ${line + 1}`} is not a JSON object`,
      };
    let message: string | undefined;
    for (const k of MESSAGE_KEYS)
      if (typeof doc[k] === 'string') {
        message = doc[k] as string;
        break;
      }
    const fields: Record<string, unknown> = doc;
    if (meta.tag !== undefined && fields.tag === undefined) fields.tag = meta.tag;
    out[i] = {
      timestamp: documentTime(doc) ?? timestamp,
      message: message ?? (src === '' ? JSON.stringify(doc) : src),
      fields,
      meta: {
        owner: '',
        logGroup: meta.logGroup,
        logStream: meta.logStream,
        id: `${idPrefix}:${line}`,
        source: SOURCE_TYPE,
        ackId,
      },
    };
  }
  return out;
}

/**
 * The text of a record the CloudWatch decoder refused because it is other data (not gzip; gzip of
 * something other than one JSON document; gzip of JSON without `messageType`), else undefined (a
 * broken CloudWatch payload: corrupt or truncated gzip, too large, a DATA_MESSAGE missing fields).
 */
function notCloudWatch(code: DecodeErrorCode, data: string, maxDecodedBytes: number): string | undefined {
  if (code === 'ENVELOPE_NOT_GZIP') return Buffer.from(data, 'base64').toString('utf8');
  if (code !== 'ENVELOPE_NOT_JSON' && code !== 'ENVELOPE_UNKNOWN_TYPE' && code !== 'ENVELOPE_BAD_SHAPE')
    return undefined;
  const text = gunzipSync(Buffer.from(data, 'base64'), { maxOutputLength: maxDecodedBytes }).toString('utf8');
  if (code === 'ENVELOPE_NOT_JSON') return text;
  const doc = JSON.parse(text) as unknown;
  return isObj(doc) && 'messageType' in doc ? undefined : text;
}

/**
 * Decodes a Firehose HTTP endpoint request body (already decompressed) into one envelope per
 * record. `meta` names the log group/stream of records that are not CloudWatch payloads.
 */
export function decodeFirehoseRequest(
  body: Buffer,
  headerRequestId: string | undefined,
  meta: LineMeta,
  maxDecodedBytes = MAX_DECODED_PAYLOAD_BYTES,
): FirehoseRequest | (BodyError & { requestId?: string }) {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (e) {
    return {
      status: 400,
      message: `request body is not JSON: ${(e as Error).message}`,
      requestId: headerRequestId,
    };
  }
  if (!isObj(doc))
    return { status: 400, message: 'request body is not a JSON object', requestId: headerRequestId };
  const requestId =
    typeof doc.requestId === 'string' && doc.requestId !== '' ? doc.requestId : headerRequestId;
  if (requestId === undefined || requestId === '')
    return {
      status: 400,
      message: 'request has no requestId (body field or X-Amz-Firehose-Request-Id header)',
    };
  if (headerRequestId !== undefined && headerRequestId !== '' && headerRequestId !== requestId)
    return {
      status: 400,
      message: 'requestId in the body differs from the X-Amz-Firehose-Request-Id header',
      requestId,
    };
  const timestamp =
    typeof doc.timestamp === 'number' && Number.isFinite(doc.timestamp) ? doc.timestamp : undefined;
  if (timestamp === undefined) return { status: 400, message: 'request has no numeric timestamp', requestId };
  if (!Array.isArray(doc.records)) return { status: 400, message: 'request has no records array', requestId };
  const recs = doc.records as unknown[];
  const envelopes: SourceEnvelope[] = new Array(recs.length);
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i];
    const data = isObj(r) ? r.data : undefined;
    if (typeof data !== 'string')
      return { status: 400, message: `records[${i}] has no string data`, requestId };
    const ackId = `${requestId}:${i}`;
    const env: SourceEnvelope = { ackId, records: [], bytes: Math.floor((data.length * 3) / 4) };
    envelopes[i] = env;
    if (data === '') continue; // an empty record: no events (counted NO_EVENTS by the runner)
    const decoded = decodeBase64Payload(data, { maxDecodedBytes });
    if (decoded.ok) {
      if (decoded.message.messageType === 'CONTROL_MESSAGE') {
        env.control = true;
        continue;
      }
      env.records = toRecords(decoded.message, SOURCE_TYPE, ackId);
      env.logGroup = decoded.message.logGroup;
      if (meta.tag !== undefined) for (const rec of env.records) rec.fields.tag = meta.tag;
      continue;
    }
    const text = notCloudWatch(decoded.code, data, maxDecodedBytes);
    if (text !== undefined) {
      env.records = lineRecords(text, meta, ackId, ackId, timestamp);
      continue;
    }
    env.malformed = { code: decoded.code, reason: decoded.reason, payload: data };
  }
  return { requestId, timestamp, envelopes };
}
