/**
 * The `s3` sink: writes gzip objects in the layout Firehose dynamic partitioning produces, to real
 * S3 (`s3://bucket/prefix`, AWS SDK v3) or to a local directory (`file:///path`, or a plain path)
 * laid out identically, so the query engine reads both alike. Each object holds the records of one
 * `send` that share a partition: `<prefix>/<keyTemplate rendered from partitionKeys()>/<objectName>-
 * <YYYY-MM-dd-HH-mm-ss of the first event>-<hash>.gz`, one line per record (`ndjson`: the shared
 * document shape with epoch-ms `@timestamp`; `raw`: the message and a newline).
 *
 * Delivery semantics: keys are a pure function of the batch (first and last record ids and count),
 * so a retried batch overwrites its own object instead of adding a duplicate; local writes are
 * atomic (temp file + rename), so readers never see a partial object. Errors are classified: S3
 * throttling (SlowDown/503), 500s and network errors are retried by the core; AccessDenied,
 * NoSuchBucket and other 4xx reject the whole batch (to the dead-letter sink) with a message that
 * says what to fix. Limits: objects are cut at `maxBytes` of uncompressed data (default 64 MiB,
 * well under the 5 GB single-PUT limit) and `maxRecords`; the daemon flushes partial batches after
 * `maxAgeMs`. A record larger than `maxBytes` on its own is rejected (RECORD_TOO_LARGE).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { clientConfig } from '../aws/clients.js';
import { type PartitionKeys, partitionKeys } from '../aws/partition.js';
import type { BuildContext, ComponentSpec } from '../core/component.js';
import { toDocument } from '../core/document.js';
import { classifyAwsError } from '../aws/errors.js';
import { describeError, LogferryError } from '../core/errors.js';
import type { LogRecord } from '../core/record.js';
import type { Encoded, ItemProblem, SendContext, SendResult, Sink, SinkLimits } from '../core/sink.js';

/** Lines are handed to zlib in pieces of about this size (no joined copy of the whole object). */
const GZIP_PIECE_CHARS = 1 << 20;

/**
 * Compresses the lines of a batch without first joining them into one string and buffer (which
 * would hold the object uncompressed twice); zlib works off the event loop, piece by piece.
 */
async function gzipLines(items: readonly Encoded<string>[], level: number): Promise<Buffer> {
  const z = createGzip({ level });
  const chunks: Buffer[] = [];
  z.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    z.once('end', resolve);
    z.once('error', reject);
  });
  let piece = '';
  for (const it of items) {
    piece += it.data;
    if (piece.length >= GZIP_PIECE_CHARS) {
      // `done` rejects if zlib fails, so a failed stream cannot leave us waiting for 'drain'.
      if (!z.write(piece)) await Promise.race([new Promise<void>((r) => z.once('drain', r)), done]);
      piece = '';
    }
  }
  z.end(piece);
  await done;
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** Largest object one PutObject may upload (https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html). */
export const S3_MAX_PUT_BYTES = 5 * 1024 ** 3;
/** S3 asks clients to back off on SlowDown; start retries no sooner than this. */
const SLOWDOWN_RETRY_AFTER_MS = 1_000;

/** Firehose-like default: one folder per EKS component stream, `default` otherwise (the seed's layout). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a key template with placeholders the sink renders
export const DEFAULT_KEY_TEMPLATE = '${object_prefix}';

export const s3Config = z.strictObject({
  type: z.literal('s3'),
  name: z.string().min(1).optional(),
  /** `s3://bucket/prefix`, `file:///abs/dir`, `file://./rel/dir` or a plain directory path. */
  url: z
    .string()
    .min(1, 'url is required: s3://bucket/prefix or a local directory')
    .superRefine((url, ctx) => {
      try {
        parseTarget(url);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: describeError(e) });
      }
    }),
  format: z.enum(['ndjson', 'raw']).default('ndjson'),
  /**
   * Partition path under the prefix; `${key}` placeholders from: object_prefix, cluster, component,
   * log_group, log_stream, year, month, day, hour. Example:
   * `cluster=${cluster}/component=${component}/dt=${year}-${month}-${day}/hour=${hour}`.
   */
  keyTemplate: z
    .string()
    .min(1)
    .default(DEFAULT_KEY_TEMPLATE)
    .refine((t) => unknownPlaceholders(t).length === 0, {
      message: `keyTemplate may only use \${object_prefix}, \${cluster}, \${component}, \${log_group}, \${log_stream}, \${year}, \${month}, \${day}, \${hour}`,
    }),
  /** First part of each object name (Firehose uses the delivery stream name). */
  objectName: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'objectName may contain letters, digits, ".", "_" and "-"')
    .default('logferry'),
  maxRecords: z.number().int().positive().default(500_000),
  maxBytes: z
    .number()
    .int()
    .positive()
    .max(S3_MAX_PUT_BYTES)
    .default(64 * 1024 * 1024),
  maxAgeMs: z.number().int().min(0).default(60_000),
  /** gzip level 1 (fast) … 9 (small). */
  compressionLevel: z.number().int().min(1).max(9).default(6),
  region: z.string().min(1).optional(),
  /** S3 API endpoint override (emulators); default from LOGFERRY_S3_ENDPOINT / LOGFERRY_AWS_ENDPOINT. */
  endpoint: z.string().url().optional(),
});
export type S3Config = z.infer<typeof s3Config>;

const PLACEHOLDER = /\$\{([a-z_]+)\}/g;
const KNOWN_KEYS = new Set([
  'object_prefix',
  'cluster',
  'component',
  'log_group',
  'log_stream',
  'year',
  'month',
  'day',
  'hour',
]);

function unknownPlaceholders(template: string): string[] {
  const out: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) if (!KNOWN_KEYS.has(m[1])) out.push(m[1]);
  if (/\$\{(?![a-z_]+\})/.test(template)) out.push('(malformed placeholder)');
  return out;
}

export type S3Target = { kind: 's3'; bucket: string; prefix: string } | { kind: 'dir'; dir: string };

/** Parses the sink url. Relative local paths resolve against `cwd`. */
export function parseTarget(url: string, cwd = process.cwd()): S3Target {
  if (url.startsWith('s3://')) {
    const rest = url.slice(5);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new LogferryError('CONFIG_INVALID', `"${bucket}" is not a valid S3 bucket name (in ${url})`);
    }
    return { kind: 's3', bucket, prefix };
  }
  if (url.startsWith('file://')) {
    const p = url.slice(7);
    // file:///abs is a standard URL; file://./rel and file://rel are accepted as relative paths.
    const dir = p.startsWith('/') ? fileURLToPath(url) : resolve(cwd, p);
    return { kind: 'dir', dir };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new LogferryError(
      'CONFIG_INVALID',
      `unsupported url scheme in "${url}" (use s3://bucket/prefix or a local directory)`,
    );
  }
  return { kind: 'dir', dir: isAbsolute(url) ? url : resolve(cwd, url) };
}

export interface S3SinkStats {
  objects: number;
  /** Compressed bytes written. */
  bytes: number;
  /** Uncompressed bytes written. */
  rawBytes: number;
  records: number;
}

/** What failed and whether retrying can help, for an S3 or local filesystem error. */
export function classifyS3Error(e: unknown, where: string): Omit<ItemProblem, 'index'> {
  const err = e as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    message?: string;
  };
  const name = err?.name ?? '';
  const code = err?.code ?? '';
  const status = err?.$metadata?.httpStatusCode;
  const msg = describeError(e);
  // Local filesystem.
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return {
      action: 'reject',
      code: 'SINK_REJECTED',
      reason: `cannot write to ${where} (${code}): make the directory writable by this user or choose another --out/url`,
    };
  }
  if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENAMETOOLONG') {
    return {
      action: 'reject',
      code: 'SINK_REJECTED',
      reason: `cannot create ${where} (${code}): a path component is not a directory; fix the sink url`,
    };
  }
  if (
    code === 'ENOSPC' ||
    code === 'EDQUOT' ||
    code === 'EIO' ||
    code === 'EMFILE' ||
    code === 'ENFILE' ||
    code === 'EBUSY'
  ) {
    return { action: 'retry', code: 'SINK_UNAVAILABLE', reason: `writing ${where} failed (${code}): ${msg}` };
  }
  // S3: the one AWS error classification (src/aws/errors.ts), with what to fix for S3 in the reason.
  const c = classifyAwsError(e);
  const what = name || (status === undefined ? '' : String(status)) || c.name;
  // A 301 has no error name S3 would send elsewhere: the bucket is in another region.
  if (name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed' || status === 301) {
    return {
      action: 'reject',
      code: 'SINK_REJECTED',
      reason: `bucket of ${where} is in another region (${what}): set the sink's region to the bucket's region`,
    };
  }
  switch (c.kind) {
    case 'throttled':
      return {
        action: 'retry',
        code: 'SINK_THROTTLED',
        reason: `S3 is throttling writes to ${where} (${what}); backing off`,
        retryAfterMs: c.retryAfterMs || SLOWDOWN_RETRY_AFTER_MS,
      };
    case 'expired-credentials':
      return {
        action: 'retry',
        code: 'SINK_AUTH',
        reason: `credentials for ${where} are missing or expired (${what}); will retry after they refresh`,
      };
    case 'access-denied':
      return {
        action: 'reject',
        code: 'SINK_REJECTED',
        reason: `access denied writing ${where} (${what}): grant s3:PutObject on that bucket and prefix to the role logferry runs as (and kms:GenerateDataKey if the bucket uses SSE-KMS)`,
      };
    case 'not-found':
      return {
        action: 'reject',
        code: 'SINK_REJECTED',
        reason:
          name === 'NoSuchBucket'
            ? `bucket of ${where} does not exist (NoSuchBucket): create it or fix the sink url`
            : `S3 refused ${where} (${what}): ${msg}`,
      };
    case 'invalid':
      return { action: 'reject', code: 'SINK_REJECTED', reason: `S3 refused ${where} (${what}): ${msg}` };
    case 'transient':
      if (status !== undefined && status >= 500)
        return {
          action: 'retry',
          code: 'SINK_UNAVAILABLE',
          reason: `S3 error writing ${where} (${what}): ${msg}`,
        };
  }
  // Network errors, timeouts, anything without an HTTP status: transient.
  return {
    action: 'retry',
    code: 'SINK_UNAVAILABLE',
    reason: `cannot reach S3 for ${where} (${name || code || 'network error'}): ${msg}`,
  };
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `YYYY-MM-dd-HH-mm-ss` (UTC), as in Firehose object names. */
export function nameTime(ms: number): string {
  const d = new Date(Number.isFinite(ms) ? ms : 0);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}-${pad2(d.getUTCHours())}-${pad2(d.getUTCMinutes())}-${pad2(d.getUTCSeconds())}`;
}

/** Deterministic per batch: the same records in the same order always map to the same key. */
export function batchHash(first: LogRecord, last: LogRecord, count: number): string {
  const h = createHash('sha256');
  h.update(`${first.meta.logGroup}\u0000${first.meta.logStream}\u0000${first.meta.id}\u0001`);
  h.update(`${last.meta.logGroup}\u0000${last.meta.logStream}\u0000${last.meta.id}\u0001${count}`);
  return h.digest('hex').slice(0, 16);
}

const HOUR_MS = 3_600_000;
const PREFIX_CACHE_MAX = 10_000;

export class S3Sink implements Sink<string> {
  readonly type = 's3';
  readonly name: string;
  readonly limits: SinkLimits;
  readonly target: S3Target;
  readonly stats: S3SinkStats = { objects: 0, bytes: 0, rawBytes: 0, records: 0 };
  private readonly cfg: S3Config;
  private readonly render: (k: PartitionKeys) => string;
  /** (group, stream, hour) → rendered partition: the finest key is the hour, so this is exact. */
  private readonly prefixes = new Map<string, string>();
  private readonly memo = { hour: Number.NaN, group: '', stream: '', prefix: '' };
  /** The S3 client, created on first put: the SDK loads only when the target is S3. */
  private client?: Promise<{ client: S3Client; sdk: typeof import('@aws-sdk/client-s3') }>;
  private readonly clientSettings?: ReturnType<typeof clientConfig>;

  constructor(cfg: Partial<S3Config> & { url: string }, ctx: BuildContext = {}) {
    this.cfg = s3Config.parse({ ...cfg, type: 's3' });
    this.name = this.cfg.name ?? 's3';
    this.target = parseTarget(this.cfg.url, ctx.cwd);
    this.limits = {
      maxRecords: this.cfg.maxRecords,
      maxBytes: this.cfg.maxBytes,
      // An archive has no per-record limit; parsed fields can double a 1 MB event's document, so
      // only a record larger than a whole object is refused.
      maxRecordBytes: this.cfg.maxBytes,
      maxAgeMs: this.cfg.maxAgeMs,
    };
    const parts = this.cfg.keyTemplate.split(PLACEHOLDER);
    // split() with one capture group alternates literal, key, literal, key, …
    this.render = (k) => {
      let s = '';
      for (let i = 0; i < parts.length; i++) s += i % 2 === 0 ? parts[i] : k[parts[i] as keyof PartitionKeys];
      return s.replace(/^\/+|\/+$/g, '');
    };
    if (this.target.kind === 's3')
      this.clientSettings = clientConfig('s3', {
        region: this.cfg.region,
        endpoint: this.cfg.endpoint,
        env: ctx.env,
      });
  }

  private s3(): Promise<{ client: S3Client; sdk: typeof import('@aws-sdk/client-s3') }> {
    this.client ??= import('@aws-sdk/client-s3').then((m) => {
      // A bundled CommonJS package imported dynamically may come back as `{ default: exports }`.
      const sdk = 'S3Client' in m ? m : (m as unknown as { default: typeof m }).default;
      return { sdk, client: new sdk.S3Client(this.clientSettings ?? {}) };
    });
    return this.client;
  }

  /** Where this sink writes, for messages: `s3://bucket/prefix` or the directory. */
  describe(): string {
    return this.target.kind === 's3' ? `s3://${this.target.bucket}/${this.target.prefix}` : this.target.dir;
  }

  partitionOf(r: LogRecord): string {
    const hour = Math.floor(r.timestamp / HOUR_MS);
    // Consecutive records almost always share group, stream and hour: skip building the cache key.
    const m = this.memo;
    if (m.hour === hour && m.group === r.meta.logGroup && m.stream === r.meta.logStream) return m.prefix;
    const key = `${r.meta.logGroup}\u0000${r.meta.logStream}\u0000${hour}`;
    let p = this.prefixes.get(key);
    if (p === undefined) {
      if (this.prefixes.size >= PREFIX_CACHE_MAX) this.prefixes.clear();
      p = this.render(partitionKeys(r.meta.logGroup, r.meta.logStream, r.timestamp));
      this.prefixes.set(key, p);
    }
    m.hour = hour;
    m.group = r.meta.logGroup;
    m.stream = r.meta.logStream;
    m.prefix = p;
    return p;
  }

  encode(record: LogRecord): Encoded<string> | { reject: string; code: string } {
    let line: string;
    if (this.cfg.format === 'raw') {
      const m = record.message;
      line = m.endsWith('\n') ? m : `${m}\n`;
    } else {
      try {
        line = `${JSON.stringify(toDocument(record, 'epoch'))}\n`;
      } catch (e) {
        return {
          reject: `record cannot be serialised as JSON: ${describeError(e)}`,
          code: 'RECORD_UNENCODABLE',
        };
      }
    }
    return { record, data: line, bytes: Buffer.byteLength(line), partition: this.partitionOf(record) };
  }

  /** The object key for a batch (exported through the instance for tests and tools). */
  keyFor(partition: string, batch: readonly Encoded<string>[]): string {
    const first = batch[0].record;
    const last = batch[batch.length - 1].record;
    const file = `${this.cfg.objectName}-${nameTime(first.timestamp)}-${batchHash(first, last, batch.length)}.gz`;
    const base = this.target.kind === 's3' ? this.target.prefix : '';
    return [base, partition, file].filter((s) => s !== '').join('/');
  }

  async send(batch: readonly Encoded<string>[], ctx: SendContext): Promise<SendResult> {
    // `deliver` hands one partition per batch; group anyway so any caller gets one object per partition.
    const groups = new Map<string, number[]>();
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i].partition ?? '';
      let g = groups.get(p);
      if (!g) {
        g = [];
        groups.set(p, g);
      }
      g.push(i);
    }
    const problems: ItemProblem[] = [];
    for (const [partition, idx] of groups) {
      const items = idx.length === batch.length ? batch : idx.map((i) => batch[i]);
      const key = this.keyFor(partition, items);
      try {
        const body = await gzipLines(items, this.cfg.compressionLevel);
        await this.put(key, body, ctx.signal);
        this.stats.objects++;
        this.stats.bytes += body.length;
        for (const it of items) this.stats.rawBytes += it.bytes;
        this.stats.records += items.length;
      } catch (e) {
        const where =
          this.target.kind === 's3' ? `s3://${this.target.bucket}/${key}` : join(this.target.dir, key);
        const c = classifyS3Error(e, where);
        for (const i of idx) problems.push({ index: i, ...c });
      }
    }
    return { problems };
  }

  private async put(key: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    if (this.target.kind === 's3') {
      const { client, sdk } = await this.s3();
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.target.bucket,
          Key: key,
          Body: body,
          ContentType: this.cfg.format === 'ndjson' ? 'application/x-ndjson' : 'text/plain; charset=utf-8',
        }),
        { abortSignal: signal },
      );
      return;
    }
    const path = join(this.target.dir, key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, body);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      throw e;
    }
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) (await c.catch(() => undefined))?.client.destroy();
  }
}

export const s3Spec: ComponentSpec<S3Config, Sink<string>> = {
  type: 's3',
  iam: ['s3:PutObject', 'kms:GenerateDataKey'],
  summary:
    'Writes gzip objects (NDJSON or raw lines) in the Firehose partition layout to S3 or a local directory.',
  schema: s3Config,
  create: (cfg, ctx) => new S3Sink(cfg, ctx),
};
