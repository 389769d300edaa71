/**
 * The position database of the file source: one JSON file per source in its state directory
 * (`<dataDir>/state/<source>/positions.json`), mapping a file identity (`<dev>:<ino>`) to the offset
 * up to which every line was acknowledged. Written with
 * temp file + fsync + rename, so a crash leaves either the old or the new file, never a torn one.
 * Only acknowledged offsets are stored: after a crash the tailer re-reads from there (at-least-once).
 * Beside the offset, `acked` lists byte ranges past it whose lines were already delivered (their
 * envelopes were acknowledged out of order): records re-read wholly inside those ranges after a
 * restart are skipped (see file-source.ts). What was acknowledged after the last write is in the
 * acknowledgement journal (ack-journal.ts), applied over the database at load (`applyJournal`).
 * `head` is the fingerprint of the file's first bytes (see `FileHead` in tail.ts): a file whose
 * head no longer matches was truncated or replaced, and is read again from 0. Databases written
 * before it have no `head`: their positions are trusted as before (the next write adds it).
 *
 * Compatibility: earlier versions kept the database at `<config dir>/logferry-data/state/
 * file-<source>.positions.json`. When the new file does not exist yet, that one is read
 * (`fallbackPath`), written to the new place on the next flush, and then removed.
 */
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { merge, subtract } from '../journal-files.js';
import type { JournaledFile } from './ack-journal.js';
import type { FileHead } from './tail.js';

export interface Position {
  /** Last path the file was seen at (informational; identity is dev+ino). */
  path: string;
  /** Byte offset: everything before it was acknowledged. */
  offset: number;
  /** Ranges [from, to) past `offset` already delivered (records re-read wholly inside are skipped). */
  acked?: [number, number][];
  /** Fingerprint of the file's head when the offset was saved (absent in older databases). */
  head?: FileHead;
}

interface PositionFile {
  version: 1;
  files: Record<string, Position>;
}

export class PositionDb {
  private files = new Map<string, Position>();
  private dirty = false;
  private current: Promise<void> | undefined;
  /** The one write queued behind `current`. */
  private queued: Promise<void> | undefined;
  writes = 0;

  /** The legacy database read at load, removed once the new one is written. */
  migratedFrom: string | undefined;

  /** A database was there to load (an earlier run of this source wrote one). */
  existed = false;

  /**
   * Called when a write takes its snapshot (synchronously, so no change falls between); what it
   * returns is called once that snapshot is durable in place (the acknowledgement journal's
   * compaction).
   */
  onSnapshot: (() => () => void) | undefined;

  constructor(
    readonly path: string,
    readonly fallbackPath?: string,
  ) {}

  /** Loads the file if present; a missing file is an empty database, a corrupt one is an error. */
  async load(): Promise<void> {
    const text = (await readIfPresent(this.path)) ?? (await this.loadFallback());
    if (text === undefined) return;
    this.existed = true;
    this.parse(text, this.migratedFrom ?? this.path);
  }

  private async loadFallback(): Promise<string | undefined> {
    if (this.fallbackPath === undefined || this.fallbackPath === this.path) return undefined;
    const text = await readIfPresent(this.fallbackPath);
    if (text !== undefined) {
      this.migratedFrom = this.fallbackPath;
      this.dirty = true;
    }
    return text;
  }

  private parse(text: string, from: string): void {
    let parsed: PositionFile;
    try {
      parsed = JSON.parse(text) as PositionFile;
    } catch (e) {
      throw new Error(
        `position database ${from} is not valid JSON (${(e as Error).message}); move it away to start over`,
      );
    }
    if (parsed?.version !== 1 || typeof parsed.files !== 'object' || parsed.files === null)
      throw new Error(`position database ${from} has an unknown layout; move it away to start over`);
    for (const [k, v] of Object.entries(parsed.files))
      if (v && typeof v.offset === 'number' && v.offset >= 0) {
        const acked = Array.isArray(v.acked)
          ? v.acked.filter(
              (r): r is [number, number] =>
                Array.isArray(r) && typeof r[0] === 'number' && typeof r[1] === 'number' && r[1] > r[0],
            )
          : [];
        const pos: Position = { path: String(v.path), offset: v.offset };
        if (acked.length > 0) pos.acked = acked;
        const h = v.head;
        if (h && Number.isInteger(h.len) && h.len > 0 && typeof h.hash === 'string' && h.hash !== '')
          pos.head = { len: h.len, hash: h.hash };
        this.files.set(k, pos);
      }
  }

  get(key: string): Position | undefined {
    return this.files.get(key);
  }

  entries(): IterableIterator<[string, Position]> {
    return this.files.entries();
  }

  /** Sets a file's offset and fingerprint (`head`: undefined while the file is empty). */
  set(key: string, path: string, offset: number, head?: FileHead): void {
    const cur = this.files.get(key);
    if (cur && cur.offset === offset && cur.path === path && sameHead(cur.head, head)) return;
    const pos: Position = { path, offset };
    if (cur?.acked) pos.acked = cur.acked;
    if (head) pos.head = head;
    this.files.set(key, pos);
    this.dirty = true;
  }

  /**
   * Replaces the delivered ranges past a file's offset; true when they changed. A file without a
   * position yet gets `base` (where its first unacknowledged envelope starts) as its offset.
   */
  setAcked(
    key: string,
    path: string,
    base: number,
    acked: [number, number][] | undefined,
    head?: FileHead,
  ): boolean {
    let cur = this.files.get(key);
    if (!cur) {
      if (acked === undefined || acked.length === 0) return false;
      cur = head ? { path, offset: base, head } : { path, offset: base };
      this.files.set(key, cur);
    }
    const was = cur.acked;
    const none = acked === undefined || acked.length === 0;
    if (none && was === undefined) return false;
    if (
      !none &&
      was !== undefined &&
      was.length === acked.length &&
      was.every((r, i) => r[0] === acked[i][0] && r[1] === acked[i][1])
    )
      return false;
    if (none) delete cur.acked;
    else cur.acked = acked;
    this.dirty = true;
    return true;
  }

  /**
   * Applies what the acknowledgement journal says of a file since this database was written (see
   * ack-journal.ts): the position moves past every range acknowledged from it on, the other
   * acknowledged ranges join `acked`. Returns the ranges that were in flight and not acknowledged
   * past the resulting position (possibly delivered before the stop).
   */
  applyJournal(key: string, j: JournaledFile): [number, number][] {
    const cur = this.files.get(key);
    const base = j.base ?? cur?.offset;
    // Never acknowledged and no position: read again from where it is opened (its head, with
    // readFromHead); what was in flight is still possibly delivered.
    if (base === undefined || (cur === undefined && j.path === undefined)) return j.reset ? [] : j.inflight;
    let offset = cur === undefined || j.reset ? base : Math.max(cur.offset, base);
    const acked = merge([...(j.reset ? [] : (cur?.acked ?? [])), ...j.acked]).filter((r) => r[1] > offset);
    while (acked.length > 0 && acked[0][0] <= offset)
      offset = Math.max(offset, (acked.shift() as [number, number])[1]);
    const pos: Position = { path: j.path ?? (cur as Position).path, offset };
    if (acked.length > 0) pos.acked = acked;
    if (cur?.head && !j.reset) pos.head = cur.head;
    this.files.set(key, pos);
    this.dirty = true;
    return subtract(j.inflight, acked, offset);
  }

  delete(key: string): void {
    if (this.files.delete(key)) this.dirty = true;
  }

  /**
   * Writes if changed. A call during a write waits for that write and at most one more (which
   * takes every change made meanwhile), never for a chain of writes: callers (acknowledgements,
   * which hold their envelopes until they resolve) are not kept waiting while changes keep coming.
   */
  /** A write is under way. */
  get writing(): boolean {
    return this.current !== undefined;
  }

  flush(): Promise<void> {
    if (this.queued) return this.queued;
    if (this.current) {
      this.queued = this.current
        .catch(() => {})
        .then(() => {
          this.queued = undefined;
          return this.flush();
        });
      return this.queued;
    }
    if (!this.dirty) return Promise.resolve();
    this.dirty = false;
    this.current = this.write()
      .catch((e) => {
        this.dirty = true; // retried by the next flush
        throw e;
      })
      .finally(() => {
        this.current = undefined;
      });
    return this.current;
  }

  private async write(): Promise<void> {
    const body: PositionFile = { version: 1, files: Object.fromEntries(this.files) };
    // Serialized now: later changes to the positions (kept by reference) belong to the next write.
    const text = `${JSON.stringify(body)}\n`;
    const durable = this.onSnapshot?.();
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    this.writes++;
    durable?.();
    if (this.migratedFrom !== undefined) {
      await unlink(this.migratedFrom).catch(() => {});
      this.migratedFrom = undefined;
    }
  }
}

function sameHead(a: FileHead | undefined, b: FileHead | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.len === b.len && a.hash === b.hash);
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
