/**
 * A sink behind a disk buffer (`buffer: {type: disk}`). To the runner it is an ordinary sink whose
 * `send` stores records durably in the buffer (disk-buffer.ts): once `send` returns, the records
 * are on disk and their sources are acknowledged. A drain loop reads the buffer back in order and
 * delivers to the real sink through the one delivery engine (`deliver`: retries, backoff), hands
 * rejected records to the dead-letter sink, and moves the buffer's cursor only when every record of
 * a chunk has settled. Records that fail past retries stay in the buffer and are tried again after
 * a pause; nothing leaves the buffer undelivered except into the dead-letter store.
 *
 * On `close` the loop drains what is buffered until the buffer is empty, a delivery fails (the rest
 * stays on disk for the next start) or `abort` fires (the shutdown deadline). Entries left on disk
 * are replayed on the next start; those that were being delivered at a crash are counted as
 * possible duplicates (sinks with record ids — OpenSearch `_id`, S3 keys — store them once).
 */
import type { Logger } from '../component.js';
import { type DeadLetterSink, handOffRejected } from '../dead-letter.js';
import { type DeliverOptions, deliver } from '../deliver.js';
import { describeError } from '../errors.js';
import type { LogRecord } from '../record.js';
import { backoffDelayMs, sleep } from '../retry.js';
import type { Encoded, ItemProblem, SendContext, SendResult, Sink, SinkLimits } from '../sink.js';
import type { DiskBufferConfig } from './config.js';
import { type BufferPosition, DiskBuffer, type DiskBufferStats } from './disk-buffer.js';
import { encodeTextFrame, MAX_FRAME_PAYLOAD } from './frame.js';

/** Records the runner hands the buffer per `send` (one write + fsync each). */
const WRITE_MAX_RECORDS = 10_000;
const WRITE_MAX_BYTES = 8 * 1024 * 1024;
/** Longest the runner batches records for the buffer (acknowledgement latency). */
const WRITE_MAX_AGE_MS = 500;
/** Most records read back and delivered in one chunk. */
const CHUNK_MAX_RECORDS = 10_000;
const CHUNK_MAX_BYTES = 16 * 1024 * 1024;
/** Pause policy after a chunk failed past the engine's retries. */
const REDRIVE = { maxAttempts: Number.POSITIVE_INFINITY, baseDelayMs: 1_000, maxDelayMs: 30_000 };

export interface BufferedSinkStats extends DiskBufferStats {
  type: 'disk';
  path: string;
  maxBytes: number;
  whenFull: 'block' | 'drop_newest';
  /** Entries written and not yet delivered (left on disk at the end: replayed on the next start). */
  pending: number;
  /** Records the drain loop delivered / dead-lettered / saw dropped by the sink. */
  delivered: number;
  rejected: number;
  dropped: number;
  /** Records whose chunk failed past retries (tried again; still in the buffer). */
  failedAttempts: number;
  /** Entries whose payload could not be decoded (valid checksum, bad content). */
  undecodable: number;
}

interface Stored {
  t: number;
  m: string;
  f: Record<string, unknown>;
  meta: LogRecord['meta'];
}

export interface BufferedSinkOptions {
  dir: string;
  config: DiskBufferConfig;
  deadLetter?: DeadLetterSink;
  deliver?: Omit<DeliverOptions, 'signal' | 'onSend' | 'deadline'>;
  /** Concurrent sends to the real sink per chunk (default 2). */
  concurrency?: number;
  /** Stops draining (shutdown deadline, second signal): what is left stays on disk. */
  abort?: AbortSignal;
  log?: Logger;
}

export class BufferedSink implements Sink<Buffer> {
  readonly type: string;
  readonly name: string;
  readonly limits: SinkLimits;
  readonly dedupesById: boolean | undefined;
  private readonly counts = {
    delivered: 0,
    rejected: 0,
    dropped: 0,
    failedAttempts: 0,
    undecodable: 0,
  };
  private loop: Promise<void> | undefined;
  private closing = false;
  private committed: BufferPosition = { seg: -1, off: -1 };
  private readonly closeCtl = new AbortController();
  /** Ends a pause between redrives: closing or the shutdown deadline. */
  private readonly stopWaiting: AbortSignal;

  private constructor(
    // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
    readonly inner: Sink<any>,
    readonly buffer: DiskBuffer,
    private readonly opts: BufferedSinkOptions,
  ) {
    this.type = inner.type;
    this.name = inner.name;
    this.dedupesById = inner.dedupesById;
    this.stopWaiting = opts.abort
      ? AbortSignal.any([opts.abort, this.closeCtl.signal])
      : this.closeCtl.signal;
    this.limits = {
      maxRecords: WRITE_MAX_RECORDS,
      maxBytes: WRITE_MAX_BYTES,
      maxRecordBytes: MAX_FRAME_PAYLOAD,
      maxAgeMs: Math.min(inner.limits.maxAgeMs, WRITE_MAX_AGE_MS),
    };
  }

  /** Opens the buffer (replaying what a previous process left) and starts draining. */
  static async open(
    // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
    inner: Sink<any>,
    opts: BufferedSinkOptions,
  ): Promise<BufferedSink> {
    const buffer = await DiskBuffer.open(opts.dir, {
      maxBytes: opts.config.maxBytes,
      log: opts.log,
      name: inner.name,
    });
    const s = new BufferedSink(inner, buffer, opts);
    s.loop = s.drain().catch((e) => {
      opts.log?.error('disk buffer drain stopped', { sink: inner.name, error: describeError(e) });
    });
    return s;
  }

  get stats(): Record<string, unknown> {
    const inner = (this.inner as { stats?: unknown }).stats;
    const buffer: BufferedSinkStats = {
      ...this.buffer.stats,
      corrupt: { ...this.buffer.stats.corrupt },
      type: 'disk',
      path: this.opts.dir,
      maxBytes: this.opts.config.maxBytes,
      whenFull: this.opts.config.whenFull,
      pending: this.buffer.pending,
      ...this.counts,
    };
    return { ...(inner && typeof inner === 'object' ? inner : {}), buffer };
  }

  describe(): string {
    const d = (this.inner as { describe?: () => string }).describe?.() ?? this.inner.name;
    return `${d} (disk buffer ${this.opts.dir})`;
  }

  encode(record: LogRecord): Encoded<Buffer> | { reject: string; code: string } {
    let text: string;
    try {
      const s: Stored = { t: record.timestamp, m: record.message, f: record.fields, meta: record.meta };
      text = JSON.stringify(s);
    } catch (e) {
      return { reject: `cannot be written to the disk buffer: ${describeError(e)}`, code: 'UNENCODABLE' };
    }
    const data = encodeTextFrame(text, Date.now());
    return { record, data, bytes: data.length };
  }

  async send(batch: readonly Encoded<Buffer>[], ctx: SendContext): Promise<SendResult> {
    const frames = new Array<Buffer>(batch.length);
    for (let i = 0; i < batch.length; i++) frames[i] = batch[i].data;
    const stored = await this.buffer.append(frames, this.opts.config.whenFull, ctx.signal);
    if (stored === batch.length) return { problems: [] };
    const problems: ItemProblem[] = [];
    for (let i = stored; i < batch.length; i++)
      problems.push({
        index: i,
        action: 'drop',
        code: 'BUFFER_FULL',
        reason: `the disk buffer of ${this.name} is full (${this.opts.config.maxBytes} bytes, whenFull: drop_newest)`,
      });
    return { problems };
  }

  private decode(payload: Buffer): LogRecord | undefined {
    try {
      const s = JSON.parse(payload.toString('utf8')) as Stored;
      if (typeof s?.m !== 'string' || typeof s.meta !== 'object' || s.meta === null)
        throw new Error('bad shape');
      return { timestamp: s.t, message: s.m, fields: s.f ?? {}, meta: s.meta };
    } catch {
      this.counts.undecodable++;
      return undefined;
    }
  }

  private async drain(): Promise<void> {
    const inner = this.inner;
    const maxRecords = Math.min(CHUNK_MAX_RECORDS, inner.limits.maxRecords * (this.opts.concurrency ?? 2));
    const maxBytes = Math.min(CHUNK_MAX_BYTES, inner.limits.maxBytes * (this.opts.concurrency ?? 2));
    const full = Math.min(maxRecords, inner.limits.maxRecords);
    const abort = this.opts.abort;
    let chunk: LogRecord[] = [];
    let read = 0; // entries read into this chunk (good ones; corrupt are skipped)
    let first = 0;
    let end: BufferPosition | undefined;
    let pauses = 0;
    for (;;) {
      if (abort?.aborted) return;
      if (chunk.length < maxRecords) {
        const r = await this.buffer.read(maxRecords - chunk.length, maxBytes);
        for (const e of r.entries) {
          const rec = this.decode(e.payload);
          if (chunk.length === 0 && read === 0) first = e.time;
          read++;
          if (rec) chunk.push(rec);
        }
        end = r.end;
      }
      if (chunk.length === 0) {
        // Only corrupt or undecodable entries were read: move past them.
        if (end && (end.seg !== this.committed.seg || end.off !== this.committed.off))
          await this.commit(end, read);
        read = 0;
        end = undefined;
        if (this.closing && !this.buffer.hasUnread()) return;
        await this.buffer.waitForData(this.closing ? 50 : 1_000);
        continue;
      }
      const due = first + inner.limits.maxAgeMs - Date.now();
      if (chunk.length < full && due > 0 && !this.closing && !this.buffer.hasUnread()) {
        await this.buffer.waitForData(Math.min(due, 1_000));
        continue;
      }
      await this.buffer.markInflight(end as BufferPosition);
      let outcomes = await deliver(inner, chunk, {
        ...this.opts.deliver,
        concurrency: this.opts.concurrency ?? 2,
        signal: abort,
      });
      outcomes = await handOffRejected(this.opts.deadLetter, chunk, outcomes, undefined, { signal: abort });
      const failed: LogRecord[] = [];
      let why: string | undefined;
      for (let i = 0; i < chunk.length; i++) {
        const o = outcomes[i];
        if (o.kind === 'failed') {
          failed.push(chunk[i]);
          why ??= `${o.code}: ${o.reason}`;
        } else if (o.kind === 'delivered') this.counts.delivered++;
        else if (o.kind === 'rejected') this.counts.rejected++;
        else this.counts.dropped++;
      }
      if (failed.length === 0) {
        await this.commit(end as BufferPosition, read);
        chunk = [];
        read = 0;
        end = undefined;
        pauses = 0;
        continue;
      }
      // Not delivered: stays in the buffer (the cursor does not move); only these are sent again.
      this.counts.failedAttempts += failed.length;
      chunk = failed;
      if (this.closing || abort?.aborted) {
        this.opts.log?.warn(
          'disk buffer: delivery failed while stopping; records stay buffered for the next start',
          {
            sink: this.name,
            records: this.buffer.pending,
            error: why,
          },
        );
        return;
      }
      const wait = backoffDelayMs(REDRIVE, ++pauses);
      this.opts.log?.warn(
        'disk buffer: delivery failed past retries; records stay buffered and are tried again',
        {
          sink: this.name,
          records: failed.length,
          retryInMs: wait,
          error: why,
        },
      );
      await sleep(wait, this.stopWaiting);
    }
  }

  private async commit(end: BufferPosition, entries: number): Promise<void> {
    await this.buffer.commit(end, entries);
    this.committed = { ...end };
  }

  /** Drains what is buffered (bounded by `abort`), then closes the real sink and the buffer. */
  async close(): Promise<void> {
    this.closing = true;
    this.closeCtl.abort();
    this.buffer.wakeData();
    await this.loop;
    await this.buffer.close();
    await this.inner.close?.();
  }
}
