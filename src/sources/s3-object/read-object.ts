/**
 * The shared S3-object reader of the `sqs-s3` daemon source and the `sqs` Lambda handler: given a
 * bucket, key and version id or ETag, it opens the object with GetObject (the announced version:
 * `VersionId`, else `IfMatch` on the ETag) and yields envelopes of at most `chunkLines` lines /
 * `chunkBytes` bytes straight from the response stream (lines.ts), never holding the object.
 *
 * Each envelope covers a range of line numbers (`fromLine`..`through`); an acknowledged envelope
 * lets its caller move the object's resume position to `through`. What cannot be read is said per
 * part, never silently skipped:
 *  - a line longer than `maxLineBytes` → a malformed envelope `S3_LINE_TOO_LONG` (dead-letter store,
 *    with its first KiB), the lines around it are delivered;
 *  - gzip damage → the lines before it are delivered, then a malformed envelope
 *    `S3_OBJECT_GZIP_TRUNCATED` / `S3_OBJECT_GZIP_CORRUPT` says what was lost;
 *  - the object is gone (`NoSuchKey`) or was replaced (`PreconditionFailed` on the ETag) → one
 *    malformed envelope (`S3_OBJECT_NOT_FOUND` / `S3_OBJECT_REPLACED`) naming it;
 *  - anything else (AccessDenied, throttling, network) throws `ObjectReadError`: retriable, the
 *    caller leaves the message for redelivery and nothing is acknowledged past what was read.
 */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { cjsNamespace } from '../../aws/clients.js';
import { describeError } from '../../core/errors.js';
import type { SourceEnvelope } from '../../core/source.js';
import { emptyLineStats, type LineOptions, type LineStats, objectLines } from './lines.js';
import { type ObjectRef, objectId } from './notifications.js';
import { lineRecord, objectContext } from './records.js';

/** An envelope of one object: lines `fromLine`..`through` (blank lines included). */
export interface ObjectEnvelope extends SourceEnvelope {
  object: string;
  fromLine: number;
  through: number;
}

/** A failure that may pass (access, throttling, network): the message must be redelivered. */
export class ObjectReadError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ReadObjectOptions extends LineOptions {
  /** `meta.source` of the records. */
  source: string;
  signal?: AbortSignal;
  /** Checked between envelopes: true stops reading (the rest is left for redelivery). */
  shouldStop?: () => boolean;
  stats?: LineStats;
}

/** Stopped by `shouldStop`/`signal` before the end: `through` is the last line yielded. */
export interface ReadOutcome {
  complete: boolean;
  through: number;
  stats: LineStats;
}

type S3Api = Pick<S3Client, 'send'>;

type S3Sdk = typeof import('@aws-sdk/client-s3');
let sdk: Promise<S3Sdk> | undefined;
/**
 * @aws-sdk/client-s3, imported on first use: the `sqs` Lambda handler's start path must not carry
 * the S3 client (about half a megabyte of Smithy and SDK code), only its first object read does.
 */
function s3Sdk(): Promise<S3Sdk> {
  sdk ??= import('@aws-sdk/client-s3').then((m) => cjsNamespace(m, 'GetObjectCommand'));
  return sdk;
}

/** An S3 API for {@link readObject} whose client (and SDK) is created on its first request. */
export function lazyS3Client(config: S3ClientConfig): S3Api {
  let client: Promise<S3Client> | undefined;
  const send = async (command: unknown, options?: unknown) => {
    client ??= s3Sdk().then((m) => new m.S3Client(config));
    return (await client).send(command as never, options as never);
  };
  return { send: send as unknown as S3Client['send'] };
}

function errName(e: unknown): string {
  return (e as { name?: string; Code?: string })?.name ?? (e as { Code?: string })?.Code ?? '';
}
function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/**
 * Reads one object as envelopes. Returns (as the generator's value) whether it read to the end.
 */
export async function* readObject(
  s3: S3Api,
  ref: ObjectRef,
  opts: ReadObjectOptions,
): AsyncGenerator<ObjectEnvelope, ReadOutcome> {
  const stats = opts.stats ?? emptyLineStats();
  const id = objectId(ref);
  const where = `s3://${ref.bucket}/${ref.key}${ref.versionId ? ` (version ${ref.versionId})` : ref.etag ? ` (ETag ${ref.etag})` : ''}`;
  const start = opts.skipThrough ?? 0;
  let body: (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  let lastModified: number | undefined;
  const { GetObjectCommand } = await s3Sdk();
  try {
    const res = await s3.send(
      new GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        VersionId: ref.versionId,
        IfMatch: ref.versionId === undefined && ref.etag ? `"${ref.etag}"` : undefined,
      }),
      { abortSignal: opts.signal },
    );
    body = res.Body as typeof body;
    lastModified = res.LastModified?.getTime();
  } catch (e) {
    if (opts.signal?.aborted) return { complete: false, through: start, stats };
    const name = errName(e);
    const status = httpStatus(e);
    const gone = name === 'NoSuchKey' || name === 'NoSuchVersion' || name === 'NotFound' || status === 404;
    const replaced = name === 'PreconditionFailed' || status === 412;
    if (gone || replaced) {
      const code = gone ? 'S3_OBJECT_NOT_FOUND' : 'S3_OBJECT_REPLACED';
      const reason = gone
        ? `${where} no longer exists (${name || status}); its lines cannot be read`
        : `${where} was overwritten after it was announced (the ETag no longer matches); the new version is read when its own notification arrives`;
      yield {
        ackId: `${id}#all`,
        object: id,
        fromLine: start + 1,
        through: start,
        records: [],
        bytes: 0,
        malformed: { code, reason },
      };
      return { complete: true, through: start, stats };
    }
    throw new ObjectReadError(`cannot read ${where}: ${describeError(e)}`, name || 'S3_READ_FAILED', {
      cause: e,
    });
  }
  if (!body) return { complete: true, through: start, stats };
  const timeMs = lastModified ?? (ref.eventTime ? Date.parse(ref.eventTime) : Number.NaN);
  const ctx = objectContext(ref.bucket, ref.key, id, Number.isFinite(timeMs) ? timeMs : 0, opts.source);
  let through = start;
  const lines = objectLines(body, opts, stats);
  try {
    for (;;) {
      if (opts.signal?.aborted || opts.shouldStop?.()) return { complete: false, through, stats };
      let n: IteratorResult<Awaited<ReturnType<typeof lines.next>>['value']>;
      try {
        n = await lines.next();
      } catch (e) {
        if (opts.signal?.aborted) return { complete: false, through, stats };
        throw new ObjectReadError(
          `reading ${where} failed after line ${through}: ${describeError(e)}`,
          'S3_READ_FAILED',
          {
            cause: e,
          },
        );
      }
      if (n.done) return { complete: true, through, stats };
      const ev = n.value;
      if (ev.type === 'lines') {
        const ackId = `${id}#${through + 1}-${ev.through}`;
        const records = [];
        for (let i = 0; i < ev.lines.length; i++) {
          const r = lineRecord(ctx, ev.lines[i], ev.numbers[i], ackId);
          if (r) records.push(r);
        }
        const env: ObjectEnvelope = {
          ackId,
          object: id,
          fromLine: through + 1,
          through: ev.through,
          records,
          bytes: ev.bytes,
        };
        through = ev.through;
        yield env;
      } else if (ev.type === 'tooLong') {
        // Lines before it that no chunk covered (blank ones) belong to this envelope.
        const ackId = `${id}#${ev.line}`;
        const env: ObjectEnvelope = {
          ackId,
          object: id,
          fromLine: through + 1,
          through: ev.line,
          records: [],
          bytes: ev.bytes,
          malformed: {
            code: 'S3_LINE_TOO_LONG',
            reason: `line ${ev.line} of ${where} is ${ev.bytes} bytes, over the ${opts.maxLineBytes ?? 'default'} byte line cap (maxLineBytes); its first bytes are kept`,
            payload: ev.head,
          },
        };
        through = ev.line;
        yield env;
      } else {
        const ackId = `${id}#${ev.afterLine + 1}-`;
        yield {
          ackId,
          object: id,
          fromLine: Math.max(through, ev.afterLine) + 1,
          through: Number.MAX_SAFE_INTEGER,
          records: [],
          bytes: 0,
          malformed: { code: ev.code, reason: `${where}: ${ev.message}` },
        };
        return { complete: true, through: Number.MAX_SAFE_INTEGER, stats };
      }
    }
  } finally {
    await lines.return?.(undefined as never).catch(() => {});
    body.destroy?.();
  }
}
