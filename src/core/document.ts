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

export function toDocument(r: LogRecord, ts: TimestampStyle = 'epoch'): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    '@timestamp': ts === 'epoch' ? r.timestamp : new Date(r.timestamp).toISOString(),
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
