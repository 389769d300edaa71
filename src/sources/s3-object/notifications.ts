/**
 * S3 object notifications as they arrive in an SQS message body, in the three shapes S3 delivers
 * them: a raw S3 event notification (`{"Records":[{"eventSource":"aws:s3","s3":{…}}]}`, also what an
 * SNS subscription with raw message delivery — seed 000's setup — puts on the queue), the same
 * wrapped in an SNS envelope (`{"Type":"Notification","Message":"<the S3 event as a JSON string>"}`),
 * and EventBridge's `Object Created` event (`{"source":"aws.s3","detail-type":"Object Created",
 * "detail":{…}}`). `s3:TestEvent` (sent once when a notification configuration is saved) is
 * recognised as a control message. Never throws: anything else is `unrecognized` with a reason.
 *
 * Object keys in S3 notifications are URL-encoded with `+` for a space
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html);
 * they are decoded here (`+` → space, then `%xx`). Only object-created events name objects to read;
 * other events (ObjectRemoved, restore, …) are reported in `ignored` so a caller can count them.
 */

/** One object to read, as a notification announced it. */
export interface ObjectRef {
  bucket: string;
  /** Decoded key. */
  key: string;
  /** Version id (versioned buckets). */
  versionId?: string;
  /** ETag without quotes. */
  etag?: string;
  size?: number;
  /** Event time (ISO 8601) from the notification: the time lines without one get. */
  eventTime?: string;
  eventName?: string;
}

export type Notification =
  | { kind: 'objects'; shape: 's3' | 'sns' | 'eventbridge'; objects: ObjectRef[]; ignored: string[] }
  | { kind: 'test'; shape: 's3' | 'sns' }
  | { kind: 'unrecognized'; reason: string };

/** `+` → space, then `%xx`; a malformed escape keeps the text as it is. */
export function decodeS3Key(key: string): string {
  const plus = key.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/** The version part of an object's identity: its version id, else its ETag, else `-`. */
export function objectVersion(ref: ObjectRef): string {
  return ref.versionId ?? ref.etag ?? '-';
}

/** `s3://bucket/key` plus the version: the identity deterministic record ids are built from. */
export function objectId(ref: ObjectRef): string {
  return `s3://${ref.bucket}/${ref.key}?v=${objectVersion(ref)}`;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const unquote = (e: string | undefined) => (e === undefined ? undefined : e.replace(/^"|"$/g, ''));
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Parses an SQS message body. */
export function parseNotification(body: string | undefined): Notification {
  if (body === undefined || body.length === 0) return { kind: 'unrecognized', reason: 'empty message body' };
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    return { kind: 'unrecognized', reason: `message body is not JSON (${(e as Error).message})` };
  }
  return fromDocument(doc, 's3');
}

function fromDocument(doc: unknown, shape: 's3' | 'sns'): Notification {
  if (!isObj(doc)) return { kind: 'unrecognized', reason: 'message body is not a JSON object' };
  // SNS envelope (subscription without raw message delivery).
  if (doc.Type === 'Notification' && typeof doc.Message === 'string' && shape === 's3') {
    let inner: unknown;
    try {
      inner = JSON.parse(doc.Message);
    } catch (e) {
      return { kind: 'unrecognized', reason: `SNS message is not JSON (${(e as Error).message})` };
    }
    return fromDocument(inner, 'sns');
  }
  if (doc.Event === 's3:TestEvent') return { kind: 'test', shape };
  if (Array.isArray(doc.Records)) {
    const objects: ObjectRef[] = [];
    const ignored: string[] = [];
    for (const r of doc.Records) {
      if (!isObj(r) || !isObj(r.s3)) {
        ignored.push('a record without an s3 section');
        continue;
      }
      const eventName = str(r.eventName) ?? '';
      const s3 = r.s3;
      const bucket = isObj(s3.bucket) ? str(s3.bucket.name) : undefined;
      const o = isObj(s3.object) ? s3.object : undefined;
      const rawKey = o ? str(o.key) : undefined;
      if (!eventName.startsWith('ObjectCreated:')) {
        ignored.push(eventName || 'an event without a name');
        continue;
      }
      if (!bucket || !o || rawKey === undefined) {
        return { kind: 'unrecognized', reason: `${eventName} record without bucket name or object key` };
      }
      objects.push({
        bucket,
        key: decodeS3Key(rawKey),
        versionId: str(o.versionId),
        etag: unquote(str(o.eTag) ?? str(o.etag)),
        size: num(o.size),
        eventTime: str(r.eventTime),
        eventName,
      });
    }
    if (objects.length === 0 && ignored.length === 0)
      return { kind: 'unrecognized', reason: 'S3 event notification with no records' };
    return { kind: 'objects', shape, objects, ignored };
  }
  if (doc.source === 'aws.s3' && typeof doc['detail-type'] === 'string' && isObj(doc.detail)) {
    const type = doc['detail-type'];
    const d = doc.detail;
    if (type !== 'Object Created')
      return { kind: 'objects', shape: 'eventbridge', objects: [], ignored: [type] };
    const bucket = isObj(d.bucket) ? str(d.bucket.name) : undefined;
    const o = isObj(d.object) ? d.object : undefined;
    const rawKey = o ? str(o.key) : undefined;
    if (!bucket || !o || rawKey === undefined)
      return {
        kind: 'unrecognized',
        reason: 'EventBridge Object Created event without bucket name or object key',
      };
    return {
      kind: 'objects',
      shape: 'eventbridge',
      objects: [
        {
          bucket,
          key: decodeS3Key(rawKey),
          versionId: str(o['version-id']),
          etag: unquote(str(o.etag)),
          size: num(o.size),
          eventTime: str(doc.time),
          eventName: type,
        },
      ],
      ignored: [],
    };
  }
  return {
    kind: 'unrecognized',
    reason:
      'not an S3 event notification (expected Records[].s3, an SNS Notification wrapping one, or an EventBridge aws.s3 Object Created event)',
  };
}
