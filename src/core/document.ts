/**
 * The one document shape every sink writes and the query engine reads, so a Logs Insights query
 * reads an S3 archive and an OpenSearch index alike:
 *   @timestamp  event time (epoch ms in the archive, ISO 8601 UTC in search indexes)
 *   @message    the message text
 *   @logStream, @log (`owner:logGroup`), @id (CloudWatch event id)
 *   …parsed fields (a parsed field never overrides a system field)
 */
import type { LogRecord } from './record.js';

export type TimestampStyle = 'epoch' | 'iso';

export const SYSTEM_FIELDS = new Set(['@timestamp', '@message', '@logStream', '@log', '@id']);

/** Past this (year 10000) `toISOString` writes a 6-digit signed year: no fast path. */
const FAST_ISO_END = 253402300800000;
/** `123Z` for every millisecond, so a time within the cached second costs one concatenation. */
const MILLIS_Z = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`);
let isoSecond = Number.NaN;
let isoPrefix = '';

/**
 * Exactly `new Date(ts).toISOString()` (and its RangeError on an invalid time), cheaper for runs of
 * records in the same second: the `YYYY-MM-DDTHH:MM:SS.` prefix of the last second is kept and only
 * the milliseconds are appended (no Date object, no formatting per record).
 */
export function isoTimestamp(ts: number): string {
  if (ts >= 0 && ts < FAST_ISO_END && Number.isInteger(ts)) {
    const ms = ts % 1000;
    const second = ts - ms;
    if (second !== isoSecond) {
      isoPrefix = new Date(second).toISOString().slice(0, 20);
      isoSecond = second;
    }
    return isoPrefix + MILLIS_Z[ms];
  }
  return new Date(ts).toISOString();
}

export function toDocument(r: LogRecord, ts: TimestampStyle = 'epoch'): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    '@timestamp': ts === 'epoch' ? r.timestamp : isoTimestamp(r.timestamp),
    '@message': r.message,
    '@logStream': r.meta.logStream,
    '@log': r.meta.owner ? `${r.meta.owner}:${r.meta.logGroup}` : r.meta.logGroup,
    '@id': r.meta.id,
  };
  for (const k in r.fields) {
    if (!SYSTEM_FIELDS.has(k)) doc[k] = r.fields[k];
  }
  return doc;
}
