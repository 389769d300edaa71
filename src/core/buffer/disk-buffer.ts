/**
 * A write-ahead buffer on disk: numbered segment files (`00000000000000000001.seg`, …) of
 * length-prefixed, CRC-32-checksummed entries (frame.ts), and a cursor file (`cursor.json`) saying
 * up to where entries were delivered.
 *
 * Durability: `append` writes a batch with one write and `fdatasync`s the segment before it
 * returns, so an entry is on disk before its record is reported stored (and its source
 * acknowledged); a new segment's directory entry is fsynced too. The cursor is written after a
 * delivery (temp file + fsync + rename); a crash before it moves makes the last delivered chunk
 * replay (at-least-once), and such entries are counted as possible duplicates (`markInflight`
 * records the chunk being delivered). Segments wholly behind the cursor are deleted.
 *
 * Size cap: `maxBytes` bounds the segment files on disk. An append that would pass it either waits
 * for the reader to free whole segments (`block`) or stores only what fits (`drop_newest`, the rest
 * is reported dropped). A single batch larger than the cap is accepted into an empty buffer.
 * Segments are `maxBytes / 8` (between 64 KiB and 64 MiB), so space frees in eighths.
 *
 * Recovery (`open`): segments before the cursor are deleted, the rest scanned; a torn entry at the
 * end of the last segment (a crash mid-write, never acknowledged) is cut off and counted
 * `TORN_WRITE`; entries after the cursor are replayed. Corrupt entries met while reading are
 * skipped up to the next valid entry and counted by reason (`BAD_FRAME`, `CRC_MISMATCH`,
 * `TORN_WRITE`). The possible duplicates found at each start are appended to the buffer's
 * re-delivery journal (core/redelivery-journal.ts), so the run summary counts them across crashes.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../component.js';
import { LogferryError } from '../errors.js';
import { bufferJournalPath, RedeliveryJournal } from '../redelivery-journal.js';
import { FRAME_HEADER_BYTES, FRAME_MAGIC, scanFrames, type Skip } from './frame.js';

export interface BufferPosition {
  seg: number;
  off: number;
}

interface CursorFile extends BufferPosition {
  version: 1;
  /** End of the chunk being delivered when the cursor was written (entries up to it may be duplicates). */
  inflight?: BufferPosition;
}

export interface DiskBufferStats {
  /** Bytes of segment files on disk. */
  diskBytes: number;
  segments: number;
  /** Entries appended by this process, and their bytes. */
  written: number;
  writtenBytes: number;
  /** Entries read back and committed (delivered, dead-lettered or dropped by the sink). */
  committed: number;
  /** Entries found on disk at start, not yet delivered: replayed. */
  replayed: number;
  /** Of those, entries that were being delivered when the process stopped: they may arrive twice. */
  possibleDuplicates: number;
  /** Entries not stored because the buffer was full (`drop_newest`). */
  droppedFull: number;
  /** Time appends waited for space (`block`). */
  blockedMs: number;
  /** Corrupt entries skipped, by reason, and the bytes skipped. */
  corrupt: Record<string, number>;
  corruptBytes: number;
}

export interface DiskBufferOptions {
  maxBytes: number;
  /** Segment size (default maxBytes / 8, within 64 KiB..64 MiB). */
  maxSegmentBytes?: number;
  log?: Logger;
  /** Name for logs. */
  name?: string;
}

const SEG_RE = /^(\d{20})\.seg$/;
const segName = (n: number) => `${String(n).padStart(20, '0')}.seg`;
/** Bytes read from a segment at a time. */
const READ_BYTES = 4 * 1024 * 1024;

interface Segment {
  seq: number;
  size: number;
}

export interface ReadEntry {
  time: number;
  payload: Buffer;
}

export class DiskBuffer {
  readonly stats: DiskBufferStats = {
    diskBytes: 0,
    segments: 0,
    written: 0,
    writtenBytes: 0,
    committed: 0,
    replayed: 0,
    possibleDuplicates: 0,
    droppedFull: 0,
    blockedMs: 0,
    corrupt: {},
    corruptBytes: 0,
  };
  private segments: Segment[] = [];
  private active: FileHandle | undefined;
  private cursor: BufferPosition = { seg: 1, off: 0 };
  private readPos: BufferPosition = { seg: 1, off: 0 };
  private lock: Promise<unknown> = Promise.resolve();
  private dataWaiters: (() => void)[] = [];
  private spaceWaiters: (() => void)[] = [];
  private closed = false;
  readonly maxSegmentBytes: number;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    maxSegmentBytes: number | undefined,
    private readonly log?: Logger,
    private readonly name = 'buffer',
  ) {
    this.maxSegmentBytes =
      maxSegmentBytes ?? Math.max(64 * 1024, Math.min(64 * 1024 * 1024, Math.floor(maxBytes / 8)));
  }

  /** Opens (or creates) the buffer in `dir` and recovers what a previous process left. */
  static async open(dir: string, opts: DiskBufferOptions): Promise<DiskBuffer> {
    const b = new DiskBuffer(dir, opts.maxBytes, opts.maxSegmentBytes, opts.log, opts.name);
    await b.recover();
    return b;
  }

  /** Entries written but not yet committed (replayed ones included). */
  get pending(): number {
    return this.stats.replayed + this.stats.written - this.stats.committed;
  }

  private async recover(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    let cur: CursorFile | undefined;
    try {
      const v = JSON.parse(await readFile(join(this.dir, 'cursor.json'), 'utf8')) as CursorFile;
      if (typeof v?.seg === 'number' && typeof v.off === 'number') cur = v;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log?.warn('disk buffer cursor unreadable; replaying every segment', {
          buffer: this.name,
          error: (e as Error).message,
        });
    }
    const seqs = (await readdir(this.dir))
      .map((f) => SEG_RE.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const seq of seqs) {
      if (cur && seq < cur.seg) {
        await unlink(join(this.dir, segName(seq))).catch(() => {});
        continue;
      }
      this.segments.push({ seq, size: (await stat(join(this.dir, segName(seq)))).size });
    }
    if (cur && this.segments.length > 0 && this.segments[0].seq === cur.seg)
      this.cursor = { seg: cur.seg, off: cur.off };
    else this.cursor = { seg: this.segments[0]?.seq ?? (cur ? cur.seg : 1), off: 0 };
    // Count what is there to replay; cut a torn tail off the last segment.
    for (let i = 0; i < this.segments.length; i++) {
      const s = this.segments[i];
      const from = s.seq === this.cursor.seg ? this.cursor.off : 0;
      const buf = await readFile(join(this.dir, segName(s.seq)));
      const scan = scanFrames(buf.subarray(from), true);
      let entries = scan.frames.length;
      const last = i === this.segments.length - 1;
      const tail = scan.skips[scan.skips.length - 1];
      if (last && tail && tail.reason === 'TORN_WRITE' && tail.at + tail.bytes >= buf.length - from) {
        const cut = from + tail.at;
        await truncate(join(this.dir, segName(s.seq)), cut);
        this.count([tail]);
        this.log?.warn('disk buffer: cut off an entry torn by a crash (never acknowledged)', {
          buffer: this.name,
          segment: segName(s.seq),
          bytes: tail.bytes,
        });
        s.size = cut;
      }
      if (cur?.inflight) {
        const inf = cur.inflight;
        if (s.seq < inf.seg) this.stats.possibleDuplicates += entries;
        else if (s.seq === inf.seg)
          this.stats.possibleDuplicates += scan.frames.filter((f) => from + f.at < inf.off).length;
      }
      // Corrupt entries in the middle are counted when read, not here.
      entries = scan.frames.length;
      this.stats.replayed += entries;
    }
    this.stats.diskBytes = this.segments.reduce((n, s) => n + s.size, 0);
    if (this.cursor.off > (this.segments[0]?.size ?? 0)) this.cursor.off = this.segments[0]?.size ?? 0;
    this.readPos = { ...this.cursor };
    if (this.segments.length === 0) await this.newSegment(this.cursor.seg);
    else this.active = await open(join(this.dir, segName(this.segments[this.segments.length - 1].seq)), 'a');
    this.stats.segments = this.segments.length;
    // Kept across crashes (the summary since the last clean stop): each start that replays entries
    // possibly delivered before adds them, so copies re-sent by runs killed again are counted too.
    new RedeliveryJournal(bufferJournalPath(this.dir), (e) =>
      this.log?.warn('disk buffer: cannot keep the possible-duplicate count across restarts', {
        buffer: this.name,
        error: e.message,
      }),
    ).possible(this.stats.possibleDuplicates);
    if (this.stats.replayed > 0)
      this.log?.warn('disk buffer: replaying entries not delivered before the last stop', {
        buffer: this.name,
        entries: this.stats.replayed,
        possibleDuplicates: this.stats.possibleDuplicates,
      });
  }

  private count(skips: readonly Skip[]): void {
    for (const s of skips) {
      this.stats.corrupt[s.reason] = (this.stats.corrupt[s.reason] ?? 0) + 1;
      this.stats.corruptBytes += s.bytes;
    }
  }

  private async newSegment(seq: number): Promise<void> {
    await this.active?.close();
    this.active = await open(join(this.dir, segName(seq)), 'a');
    this.segments.push({ seq, size: 0 });
    this.stats.segments = this.segments.length;
    // Make the new file's directory entry durable: entries acknowledged in it must survive a crash.
    const fd = openSync(this.dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.lock.then(fn, fn);
    this.lock = p.catch(() => {});
    return p;
  }

  /**
   * Appends encoded entries (frame.ts) durably. Returns how many were stored (all of them, except
   * with `drop_newest` when full). `block` waits for space until `signal` aborts (then throws).
   */
  async append(
    frames: readonly Buffer[],
    whenFull: 'block' | 'drop_newest',
    signal?: AbortSignal,
  ): Promise<number> {
    let total = 0;
    for (const f of frames) total += f.length;
    if (whenFull === 'block') {
      const started = Date.now();
      while (this.stats.diskBytes > 0 && this.stats.diskBytes + total > this.maxBytes) {
        if (signal?.aborted || this.closed)
          throw new LogferryError('DEADLINE', 'the disk buffer is full and stopping: not stored');
        await new Promise<void>((r) => {
          const done = () => {
            signal?.removeEventListener('abort', done);
            r();
          };
          this.spaceWaiters.push(done);
          signal?.addEventListener('abort', done, { once: true });
        });
      }
      this.stats.blockedMs += Date.now() - started;
    }
    return this.serial(async () => {
      let n = frames.length;
      let bytes = total;
      if (whenFull === 'drop_newest' && this.stats.diskBytes + total > this.maxBytes) {
        bytes = 0;
        n = 0;
        while (n < frames.length && this.stats.diskBytes + bytes + frames[n].length <= this.maxBytes)
          bytes += frames[n++].length;
        this.stats.droppedFull += frames.length - n;
      }
      if (n === 0) return 0;
      const last = this.segments[this.segments.length - 1];
      if (last.size >= this.maxSegmentBytes) await this.newSegment(last.seq + 1);
      const seg = this.segments[this.segments.length - 1];
      const fh = this.active as FileHandle;
      const list = n === frames.length ? (frames as Buffer[]) : frames.slice(0, n);
      await fh.writev(list);
      await fh.datasync();
      seg.size += bytes;
      this.stats.diskBytes += bytes;
      this.stats.written += n;
      this.stats.writtenBytes += bytes;
      this.wakeData();
      return n;
    });
  }

  /** Whether entries past the read position may be there. */
  hasUnread(): boolean {
    const last = this.segments[this.segments.length - 1];
    return this.readPos.seg < last.seq || this.readPos.off < last.size;
  }

  /**
   * Reads up to `maxEntries` entries / `maxBytes` bytes after the read position and advances it.
   * Corrupt entries are skipped and counted. `end` is the position after what was read.
   */
  async read(maxEntries: number, maxBytes: number): Promise<{ entries: ReadEntry[]; end: BufferPosition }> {
    const entries: ReadEntry[] = [];
    let bytes = 0;
    while (entries.length < maxEntries && bytes < maxBytes) {
      const idx = this.segments.findIndex((s) => s.seq === this.readPos.seg);
      if (idx < 0) {
        // The read position's segment is gone (never written): go to the first one after it.
        const next = this.segments.find((s) => s.seq > this.readPos.seg);
        if (!next) break;
        this.readPos = { seg: next.seq, off: 0 };
        continue;
      }
      const seg = this.segments[idx];
      const final = idx < this.segments.length - 1;
      const avail = seg.size - this.readPos.off;
      if (avail <= 0) {
        if (!final) break;
        this.readPos = { seg: this.segments[idx + 1].seq, off: 0 };
        continue;
      }
      const buf = await this.readAt(
        seg.seq,
        this.readPos.off,
        Math.min(avail, Math.max(READ_BYTES, maxBytes - bytes)),
      );
      let scan = scanFrames(
        buf,
        final && buf.length === avail,
        maxEntries - entries.length,
        maxBytes - bytes,
      );
      if (scan.frames.length === 0 && scan.skips.length === 0 && scan.end === 0 && buf.length < avail) {
        // One entry larger than the read: read exactly it.
        const len = buf.length >= 8 && buf.readUInt32LE(0) === FRAME_MAGIC ? buf.readUInt32LE(4) : 0;
        const whole = await this.readAt(seg.seq, this.readPos.off, Math.min(avail, FRAME_HEADER_BYTES + len));
        scan = scanFrames(whole, final && whole.length === avail, 1);
      }
      this.count(scan.skips);
      for (const f of scan.frames) {
        // A view into the read buffer (no copy): callers decode it before the next read.
        entries.push({ time: f.time, payload: f.payload });
        bytes += f.size;
      }
      if (scan.end === 0) break;
      this.readPos = { seg: seg.seq, off: this.readPos.off + scan.end };
    }
    return { entries, end: { ...this.readPos } };
  }

  private async readAt(seq: number, off: number, len: number): Promise<Buffer> {
    const fh = await open(join(this.dir, segName(seq)), 'r');
    try {
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, off);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  /** Records that entries up to `end` are being delivered (so a crash counts them as possible duplicates). */
  async markInflight(end: BufferPosition): Promise<void> {
    await this.writeCursor({ version: 1, ...this.cursor, inflight: end });
  }

  /** Entries before `end` are done: moves the cursor and deletes segments wholly behind it. */
  async commit(end: BufferPosition, entries: number): Promise<void> {
    await this.serial(async () => {
      this.cursor = { ...end };
      this.stats.committed += entries;
      // A cursor at the end of a finished segment points at the start of the next one.
      for (let i = 0; i < this.segments.length - 1; i++)
        if (this.segments[i].seq === this.cursor.seg && this.cursor.off >= this.segments[i].size)
          this.cursor = { seg: this.segments[i + 1].seq, off: 0 };
      const last = this.segments[this.segments.length - 1];
      // Everything consumed: start a fresh segment so the old one can go.
      if (end.seg === last.seq && end.off >= last.size && last.size > 0) {
        await this.newSegment(last.seq + 1);
        this.cursor = { seg: last.seq + 1, off: 0 };
        if (this.readPos.seg === last.seq) this.readPos = { ...this.cursor };
      }
      await this.writeCursor({ version: 1, ...this.cursor });
      while (this.segments.length > 1 && this.segments[0].seq < this.cursor.seg) {
        const s = this.segments.shift() as Segment;
        await unlink(join(this.dir, segName(s.seq))).catch(() => {});
        this.stats.diskBytes -= s.size;
      }
      this.stats.segments = this.segments.length;
    });
    const w = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const f of w) f();
  }

  private async writeCursor(c: CursorFile): Promise<void> {
    const path = join(this.dir, 'cursor.json');
    const tmp = `${path}.tmp`;
    await writeFile(tmp, `${JSON.stringify(c)}\n`, { flush: true });
    await rename(tmp, path);
  }

  /** Resolves when entries are appended, after `ms`, or when `wake()` is called. */
  waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.dataWaiters.push(done);
    });
  }

  /** Wakes whoever waits for data (closing). */
  wakeData(): void {
    const w = this.dataWaiters;
    this.dataWaiters = [];
    for (const f of w) f();
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const f of w) f();
    this.wakeData();
    await this.serial(async () => {
      await this.active?.close();
      this.active = undefined;
    });
  }
}
