/**
 * Object lines → LogRecords, with the archive decoding the query engine uses (query/backends/
 * decode.ts, partition-path.ts), so what logferry's own S3 sink wrote comes back as it went in:
 *
 *  - `ndjson` lines (`{"@timestamp":…,"@message":…,"@logStream":…,"@log":"owner:group",…}`): the
 *    document's time, message, log group/stream and owner; its parsed fields become the record's
 *    fields (system fields never);
 *  - `raw` lines (the message and a newline, as our sink's `raw` format and seed 000's Firehose
 *    layout write them): log group and stream from the key's layout
 *    (`_aws_eks_<cluster>_cluster/<component>/<stream>/…`, `<group>/lambda|ecs|default/<stream>/…`),
 *    time from the line (JSON time keys, a leading ISO time, a klog header), else from the key;
 *  - anything else (plain text or JSON lines from any producer) is a raw line: log group
 *    `s3://<bucket>`, log stream the key, fields left to the parsers (parse `auto` runs on every
 *    record).
 * A line with no time of its own gets the object's time (LastModified, else the notification's).
 *
 * Every record's id is `<s3://bucket/key?v=version-or-etag>#<line number>`: the same line of the
 * same object version always has the same id, so a redelivered line is the same OpenSearch `_id`
 * (`create` answers 409 = delivered) — never a duplicate there.
 */
import type { LogRecord } from '../../core/record.js';
import { decodeLine } from '../../query/backends/decode.js';
import { type ObjectInfo, parseObjectKey } from '../../query/backends/partition-path.js';
import { SYSTEM_FIELDS } from '../../core/document.js';

export interface ObjectContext {
  info: ObjectInfo;
  /** The object's identity (objectId()): the prefix of every record id. */
  id: string;
  /** Log group for lines whose key says none. */
  fallbackGroup: string;
  /** Log stream for lines whose key says none. */
  fallbackStream: string;
  /** Time for lines without one (epoch ms). */
  timeMs: number;
  source: string;
}

export function objectContext(
  bucket: string,
  key: string,
  id: string,
  timeMs: number,
  source: string,
): ObjectContext {
  const info = parseObjectKey(key);
  // A line without its own time gets the object's (not the key's window start) when the key has none.
  if (info.keyTimeMs === undefined) info.keyTimeMs = timeMs;
  return { info, id, fallbackGroup: `s3://${bucket}`, fallbackStream: key, timeMs, source };
}

const OWNER = /^(\d{12}):(.+)$/s;

/** One line → a record (undefined for a blank line). */
export function lineRecord(
  ctx: ObjectContext,
  line: string,
  lineNo: number,
  ackId: string,
): LogRecord | undefined {
  const row = decodeLine(line, ctx.info);
  if (row === undefined) return undefined;
  const msg = row['@message'];
  const isDoc = msg !== line;
  let ts = row['@timestamp'];
  if (typeof ts !== 'number' || !Number.isFinite(ts)) ts = ctx.timeMs;
  let owner = '';
  let logGroup = ctx.info.logGroup ?? ctx.fallbackGroup;
  let logStream = ctx.info.logStream ?? ctx.fallbackStream;
  let fields: Record<string, unknown> = {};
  if (isDoc) {
    const log = row['@log'];
    if (typeof log === 'string' && log.length > 0) {
      const m = OWNER.exec(log);
      if (m) {
        owner = m[1];
        logGroup = m[2];
      } else logGroup = log;
    }
    if (typeof row['@logStream'] === 'string' && row['@logStream'].length > 0) logStream = row['@logStream'];
    for (const k in row) if (!SYSTEM_FIELDS.has(k)) fields[k] = row[k];
  } else if (ctx.info.fields) fields = { ...ctx.info.fields };
  return {
    timestamp: ts as number,
    message: typeof msg === 'string' ? msg : JSON.stringify(msg ?? null),
    fields,
    meta: { owner, logGroup, logStream, id: `${ctx.id}#${lineNo}`, source: ctx.source, ackId },
  };
}
