/**
 * The tailer: a pure reader of growing files that knows nothing of records or acknowledgements. It
 * expands glob patterns, follows each file by identity (`<dev>:<ino>`), and yields complete lines
 * with their byte offsets. Rotation by rename+create keeps reading the old inode to EOF (plus
 * `rotateWaitMs` for late writes) before closing it; a file whose size drops below the read offset
 * (copytruncate, `> file`) restarts at 0 and is counted. Because an inode number alone cannot tell
 * a file truncated and refilled while logferry was down (or a new file that reuses the inode) from
 * the one it read, each file also has a fingerprint of its head (`FileHead`: the first
 * `min(size, 1 KiB)` bytes, hashed once per open, never per line), saved with its position: a
 * saved position whose fingerprint no longer matches the file's head restarts at 0 and is counted. Lines longer than `maxLineBytes` are cut
 * to that size and flagged; the rest of the line is skipped without being buffered (linear time:
 * pieces are collected in an array and joined once).
 *
 * Wake-ups come from `fs.watch` on the patterns' base directories, with a poll every
 * `pollIntervalMs` as a fallback (network file systems, editors that replace files, missed
 * events). With `once`, it reads every file found at the start to its current EOF and ends.
 */
import { type FSWatcher, readSync, watch } from 'node:fs';
import { isAscii } from 'node:buffer';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { expandGlob, globMatcher, watchBase } from './glob.js';

/**
 * Most bytes decoded into one string. V8 allocates a string over 128 KiB in its large-object space,
 * which belongs to the old generation and is freed only by a full mark-compact: decoding a whole
 * 256 KiB read at once put every byte read there, and the heap grew to several times its live size
 * between collections (265 MB peak RSS reading 500 MiB). Pieces this size are ordinary young
 * objects that die in the next scavenge, and a record kept in a batch keeps alive only the piece its
 * message was cut from.
 */
const DECODE_PIECE_BYTES = 64 * 1024;

/** Bytes of a file's head that make its fingerprint (a shorter file: all of it). */
export const HEAD_BYTES = 1024;

/** Fingerprint of a file's first `len` bytes (`len` = min(size, HEAD_BYTES) when it was taken). */
export interface FileHead {
  len: number;
  /** sha1 of those bytes, hex, first 16 digits. */
  hash: string;
}

/** A saved position: where to resume, and the fingerprint of the file it was taken from. */
export interface SavedPosition {
  offset: number;
  /** Absent in databases written before fingerprints: the position is trusted as before. */
  head?: FileHead;
}

function hashHead(buf: Buffer, len: number): string {
  return createHash('sha1').update(buf.subarray(0, len)).digest('hex').slice(0, 16);
}

export interface FileIdentity {
  /** `<dev>:<ino>`: stable across renames, the position database key. */
  key: string;
  /** Current path (the last path the file was seen at). */
  path: string;
  /** Fingerprint of the file's head; undefined while the file is empty. */
  head?: FileHead;
}

export interface TailedLine {
  /** Line text without the newline (a trailing `\r` is kept; decoders decide). */
  text: string;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Byte offset just after the line's newline. */
  end: number;
  /** The line exceeded `maxLineBytes` and was cut. */
  truncated: boolean;
}

export type TailEvent =
  | {
      kind: 'lines';
      file: FileIdentity;
      lines: TailedLine[];
      /** Offset just after the last complete line read so far (bytes of a partial line excluded). */
      consumed: number;
    }
  /** The file restarted at `offset` (truncation or rewind): decoders must drop partial state. */
  | { kind: 'reset'; file: FileIdentity; offset: number; reason: 'truncated' | 'rewind' }
  /** The file was closed (rotated away or deleted and read to EOF, or `once` finished it). */
  | { kind: 'closed'; file: FileIdentity; consumed: number; gone: boolean }
  /** Nothing to read right now (lets callers flush timers); never yielded in `once` mode. */
  | { kind: 'idle' };

export interface TailerOptions {
  include: string[];
  exclude?: string[];
  cwd?: string;
  /** Files found at the first scan without a saved position start at 0 (else at their end). */
  readFromHead?: boolean;
  /** A file found at the first scan without a saved position starts at its end, `offset` (not readFromHead). */
  onStartAtEnd?: (file: FileIdentity, offset: number) => void;
  maxLineBytes?: number;
  readBufferBytes?: number;
  pollIntervalMs?: number;
  /** How often to re-expand the globs (new files) besides watch events. */
  refreshIntervalMs?: number;
  rotateWaitMs?: number;
  /** Read to EOF of the files present now, then end. */
  once?: boolean;
  /** Saved position for a file identity (from the position database). */
  savedPosition?: (key: string) => SavedPosition | undefined;
  /** Called for errors that do not stop tailing (unreadable file, watch failure). */
  onWarning?: (msg: string, data?: Record<string, unknown>) => void;
}

export interface TailerStats {
  /** Glob expansions done (the first one decides which files count as "found at startup"). */
  scans: number;
  filesOpened: number;
  filesClosed: number;
  truncations: number;
  rotations: number;
  linesTruncated: number;
  bytesRead: number;
  lines: number;
}

export function emptyTailerStats(): TailerStats {
  return {
    scans: 0,
    filesOpened: 0,
    filesClosed: 0,
    truncations: 0,
    rotations: 0,
    linesTruncated: 0,
    bytesRead: 0,
    lines: 0,
  };
}

interface Tracked {
  id: FileIdentity;
  fh: FileHandle;
  /** Next byte to read. */
  offset: number;
  /** Start offset of the (partial) line being assembled. */
  lineStart: number;
  pending: Buffer[];
  pendingLen: number;
  /** The pending line hit the cap: remaining bytes until the newline are skipped. */
  overflow: boolean;
  /** Path no longer leads to this inode (rotated or deleted); time it was noticed. */
  goneAt: number | undefined;
  atEof: boolean;
  rewindTo: number | undefined;
}

export class FileTailer {
  readonly stats: TailerStats = emptyTailerStats();
  private readonly files = new Map<string, Tracked>();
  private readonly cwd: string;
  private readonly excludes: ((p: string) => boolean)[];
  private readonly maxLine: number;
  private readonly buf: Buffer;
  /** For fingerprints (never `buf`: a head is also taken right after a read into it). */
  private readonly headBuf = Buffer.allocUnsafe(HEAD_BYTES);
  private readonly events: TailEvent[] = [];
  private watchers: FSWatcher[] = [];
  private wake: (() => void) | undefined;
  private woken = false;
  private rescanRequested = true;
  private lastScan = 0;
  private firstScan = true;
  private closed = false;

  constructor(private readonly opts: TailerOptions) {
    this.cwd = opts.cwd ?? process.cwd();
    this.excludes = (opts.exclude ?? []).map((p) => globMatcher(p, this.cwd));
    this.maxLine = opts.maxLineBytes ?? 1024 * 1024;
    this.buf = Buffer.allocUnsafe(opts.readBufferBytes ?? 256 * 1024);
  }

  /** Files currently open (for status and tests). */
  tracked(): FileIdentity[] {
    return [...this.files.values()].map((f) => ({ ...f.id }));
  }

  /**
   * Re-reads a file from `offset` (after a failed delivery); partial state is dropped. Applied
   * before the file's next read (never under a read in flight), announced by a `reset` event.
   */
  rewind(key: string, offset: number): boolean {
    const f = this.files.get(key);
    if (!f) return false;
    f.rewindTo = f.rewindTo === undefined ? offset : Math.min(f.rewindTo, offset);
    f.atEof = false;
    this.poke();
    return true;
  }

  async *read(signal: AbortSignal): AsyncGenerator<TailEvent> {
    const once = this.opts.once ?? false;
    const poll = this.opts.pollIntervalMs ?? 1000;
    const refresh = this.opts.refreshIntervalMs ?? poll;
    const rotateWait = once ? 0 : (this.opts.rotateWaitMs ?? 5000);
    if (!once) this.startWatching();
    const onAbort = () => this.poke();
    signal.addEventListener('abort', onAbort);
    try {
      await this.scan();
      while (!signal.aborted) {
        if (!once && (this.rescanRequested || Date.now() - this.lastScan >= refresh)) await this.scan();
        let progressed = false;
        for (const f of [...this.files.values()]) {
          if (signal.aborted) break;
          const ev = await this.readSome(f);
          while (this.events.length > 0) yield this.events.shift() as TailEvent;
          if (ev) {
            progressed = true;
            if (ev !== 'progress') yield ev;
          }
          if (f.atEof && (once || (f.goneAt !== undefined && Date.now() - f.goneAt >= rotateWait))) {
            const last = this.finishPending(f);
            if (last) yield last;
            await this.closeFile(f);
          }
        }
        while (this.events.length > 0) yield this.events.shift() as TailEvent;
        if (once && this.files.size === 0) return;
        if (!progressed && !once) {
          yield { kind: 'idle' };
          await this.sleep(poll);
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    for (const f of this.files.values()) await f.fh.close().catch(() => {});
    this.files.clear();
    this.poke();
  }

  /**
   * A rotated or deleted file will not grow: its unterminated last line is complete. A file that
   * is still there (`once`) keeps its partial line for the next run.
   */
  private finishPending(f: Tracked): TailEvent | undefined {
    if (f.goneAt === undefined || (f.pendingLen === 0 && !f.overflow)) return undefined;
    const line = this.takePending(f, f.offset);
    this.stats.lines++;
    return { kind: 'lines', file: { ...f.id }, lines: [line], consumed: f.offset };
  }

  private async closeFile(f: Tracked): Promise<void> {
    this.files.delete(f.id.key);
    this.stats.filesClosed++;
    await f.fh.close().catch(() => {});
    this.events.push({
      kind: 'closed',
      file: { ...f.id },
      consumed: f.lineStart,
      gone: f.goneAt !== undefined,
    });
  }

  private poke(): void {
    this.woken = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((res) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        res();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.woken = false;
        res();
      };
    });
  }

  private startWatching(): void {
    const seen = new Set<string>();
    for (const p of this.opts.include) {
      const { dir, recursive } = watchBase(p, this.cwd);
      if (seen.has(dir)) continue;
      seen.add(dir);
      try {
        const w = watch(dir, { recursive, persistent: false }, (type) => {
          if (type === 'rename') this.rescanRequested = true;
          this.poke();
        });
        w.on('error', () => {});
        this.watchers.push(w);
      } catch (e) {
        this.opts.onWarning?.('cannot watch directory; relying on polling', {
          dir,
          error: (e as Error).message,
        });
      }
    }
  }

  /** Expands the globs, opens new files, marks files whose path moved away as gone. */
  async scan(): Promise<void> {
    this.rescanRequested = false;
    this.lastScan = Date.now();
    const startup = this.firstScan;
    this.firstScan = false;
    const paths = new Set<string>();
    for (const p of this.opts.include) for (const m of await expandGlob(p, this.cwd)) paths.add(m);
    const live = new Map<string, string>(); // key → path
    for (const path of paths) {
      if (this.excludes.some((x) => x(path))) continue;
      let st: import('node:fs').Stats;
      try {
        st = await stat(path);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      const key = `${st.dev}:${st.ino}`;
      live.set(key, path);
      const f = this.files.get(key);
      if (f) {
        f.id.path = path;
        if (f.goneAt !== undefined) f.goneAt = undefined;
        continue;
      }
      if (this.opts.once && !startup) continue;
      await this.openFile(key, path, st.size, startup);
    }
    this.stats.scans++;
    for (const f of this.files.values()) {
      if (!live.has(f.id.key) && f.goneAt === undefined) {
        f.goneAt = Date.now();
        this.stats.rotations++;
      }
    }
  }

  private async openFile(key: string, path: string, size: number, startup: boolean): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
      const st = await fh.stat();
      if (`${st.dev}:${st.ino}` !== key) {
        // Replaced between stat and open: pick it up at the next scan.
        await fh.close();
        this.rescanRequested = true;
        return;
      }
      size = st.size;
    } catch (e) {
      this.opts.onWarning?.('cannot open file', { path, error: (e as Error).message });
      return;
    }
    const saved = this.opts.savedPosition?.(key);
    let head: FileHead | undefined;
    let offset: number;
    let atEnd = false;
    try {
      const want = saved?.head && saved.head.len <= size ? saved.head.len : 0;
      const r = this.readHead(fh, size, want);
      head = r.head;
      if (saved === undefined) {
        atEnd = startup && !this.opts.readFromHead;
        offset = atEnd ? size : 0;
      } else if (saved.offset > size || (saved.head && r.saved !== saved.head.hash)) {
        // Truncated or replaced while not tailed (same inode, other content): read it all.
        offset = 0;
        this.stats.truncations++;
        this.opts.onWarning?.(
          'file was truncated or replaced since its position was saved; reading it from the start',
          {
            path,
            savedOffset: saved.offset,
            size,
          },
        );
      } else offset = saved.offset;
    } catch (e) {
      await fh.close().catch(() => {});
      this.opts.onWarning?.('cannot read file', { path, error: (e as Error).message });
      return;
    }
    this.files.set(key, {
      id: head ? { key, path, head } : { key, path },
      fh,
      offset,
      lineStart: offset,
      pending: [],
      pendingLen: 0,
      overflow: false,
      goneAt: undefined,
      atEof: false,
      rewindTo: undefined,
    });
    if (atEnd) this.opts.onStartAtEnd?.(head ? { key, path, head } : { key, path }, offset);
    this.stats.filesOpened++;
  }

  /**
   * The fingerprint of a file of `size` bytes (none when empty), and the hash of its first
   * `savedLen` bytes (to compare with a saved fingerprint; undefined when `savedLen` is 0).
   */
  private readHead(fh: FileHandle, size: number, savedLen: number): { head?: FileHead; saved?: string } {
    const len = Math.min(size, HEAD_BYTES);
    if (len === 0) return {};
    const buf = this.headBuf;
    let got = 0;
    while (got < len) {
      const n = readSync(fh.fd, buf, got, len - got, got);
      if (n === 0) break;
      got += n;
    }
    if (got === 0) return {};
    const head = { len: got, hash: hashHead(buf, got) };
    if (savedLen === 0) return { head };
    // Shrunk between stat and read: the saved head is past the end, so it cannot match.
    return { head, saved: savedLen > got ? '' : savedLen === got ? head.hash : hashHead(buf, savedLen) };
  }

  /** One read from `f`: complete lines, or undefined at EOF. Detects truncation at EOF. */
  private async readSome(f: Tracked): Promise<TailEvent | 'progress' | undefined> {
    if (f.rewindTo !== undefined) {
      const offset = f.rewindTo;
      f.rewindTo = undefined;
      this.restart(f, offset);
      return { kind: 'reset', file: { ...f.id }, offset, reason: 'rewind' };
    }
    let n: number;
    try {
      // Synchronous: a local file's read is a copy from the page cache (tens of µs for 256 KiB);
      // the thread-pool round trip of an async read costs more than the read under CPU load.
      n = readSync(f.fh.fd, this.buf, 0, this.buf.length, f.offset);
    } catch (e) {
      this.opts.onWarning?.('read failed; closing file', { path: f.id.path, error: (e as Error).message });
      f.atEof = true;
      f.goneAt = 0;
      return undefined;
    }
    if (n === 0) {
      const st = await f.fh.stat().catch(() => undefined);
      if (st && st.size < f.offset) {
        // copytruncate / truncation: the content before our offset is gone; start over.
        this.stats.truncations++;
        this.restart(f, 0);
        f.id.head = undefined; // taken again from the new content
        return { kind: 'reset', file: { ...f.id }, offset: 0, reason: 'truncated' };
      }
      f.atEof = true;
      return undefined;
    }
    f.atEof = false;
    this.stats.bytesRead += n;
    if (f.id.head === undefined) {
      // Empty when opened or truncated since: the fingerprint is taken once data arrives (a
      // separate read, once per file: this read may start past the head).
      try {
        const h = this.readHead(f.fh, HEAD_BYTES, 0).head;
        if (h) f.id.head = h;
      } catch {
        // Taken at the next read.
      }
    }
    const base = f.offset;
    const buf = this.buf;
    const lines: TailedLine[] = [];
    // The complete lines of this read are cut in pieces of at most DECODE_PIECE_BYTES, each ending
    // at a newline. Fast path: an ASCII piece (most logs) is decoded with one call and each line is
    // cut out of that string (V8 slices share it: no per-line copy or native call; character and
    // byte offsets coincide). Otherwise each line is decoded as UTF-8 on its own.
    const lastNl = buf.lastIndexOf(10, n - 1);
    let pos = 0;
    while (pos <= lastNl) {
      let pe = lastNl;
      if (lastNl - pos >= DECODE_PIECE_BYTES) {
        pe = buf.lastIndexOf(10, pos + DECODE_PIECE_BYTES - 1);
        if (pe < pos) pe = buf.indexOf(10, pos);
      }
      const ps = pos;
      const chunk =
        pe - ps < DECODE_PIECE_BYTES && isAscii(buf.subarray(ps, pe + 1))
          ? buf.toString('ascii', ps, pe + 1)
          : undefined;
      while (pos <= pe) {
        const nl = chunk !== undefined ? ps + chunk.indexOf('\n', pos - ps) : buf.indexOf(10, pos);
        if (f.pendingLen === 0 && !f.overflow) {
          const len = nl - pos;
          const cut = len > this.maxLine;
          if (cut) this.stats.linesTruncated++;
          const to = cut ? pos + this.maxLine : nl;
          lines.push({
            text: chunk !== undefined ? chunk.slice(pos - ps, to - ps) : buf.toString('utf8', pos, to),
            offset: base + pos,
            end: base + nl + 1,
            truncated: cut,
          });
        } else {
          this.appendPending(f, buf, pos, nl);
          lines.push(this.takePending(f, base + nl + 1));
        }
        f.lineStart = base + nl + 1;
        pos = nl + 1;
      }
    }
    if (pos < n) this.appendPending(f, buf, pos, n);
    f.offset = base + n;
    if (lines.length === 0) return 'progress';
    this.stats.lines += lines.length;
    return { kind: 'lines', file: { ...f.id }, lines, consumed: f.lineStart };
  }

  private restart(f: Tracked, offset: number): void {
    f.offset = offset;
    f.lineStart = offset;
    f.pending = [];
    f.pendingLen = 0;
    f.overflow = false;
    f.atEof = false;
  }

  private appendPending(f: Tracked, buf: Buffer, from: number, to: number): void {
    if (f.overflow || to <= from) return;
    const room = this.maxLine - f.pendingLen;
    const take = Math.min(room, to - from);
    if (take > 0) {
      f.pending.push(Buffer.from(buf.subarray(from, from + take)));
      f.pendingLen += take;
    }
    if (take < to - from) f.overflow = true;
  }

  private takePending(f: Tracked, end: number): TailedLine {
    const whole = f.pending.length === 1 ? f.pending[0] : Buffer.concat(f.pending, f.pendingLen);
    const truncated = f.overflow;
    if (truncated) this.stats.linesTruncated++;
    const line: TailedLine = { text: whole.toString('utf8'), offset: f.lineStart, end, truncated };
    f.pending = [];
    f.pendingLen = 0;
    f.overflow = false;
    f.lineStart = end;
    return line;
  }
}
