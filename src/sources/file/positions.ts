/**
 * The position database of the file source: one JSON file per source under `dataDir`, mapping a
 * file identity (`<dev>:<ino>`) to the offset up to which every line was acknowledged. Written with
 * temp file + fsync + rename, so a crash leaves either the old or the new file, never a torn one.
 * Only acknowledged offsets are stored: after a crash the tailer re-reads from there (at-least-once).
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface Position {
  /** Last path the file was seen at (informational; identity is dev+ino). */
  path: string;
  /** Byte offset: everything before it was acknowledged. */
  offset: number;
}

interface PositionFile {
  version: 1;
  files: Record<string, Position>;
}

export class PositionDb {
  private files = new Map<string, Position>();
  private dirty = false;
  private writing: Promise<void> | undefined;
  private again = false;
  writes = 0;

  constructor(readonly path: string) {}

  /** Loads the file if present; a missing file is an empty database, a corrupt one is an error. */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    let parsed: PositionFile;
    try {
      parsed = JSON.parse(text) as PositionFile;
    } catch (e) {
      throw new Error(
        `position database ${this.path} is not valid JSON (${(e as Error).message}); move it away to start over`,
      );
    }
    if (parsed?.version !== 1 || typeof parsed.files !== 'object' || parsed.files === null)
      throw new Error(`position database ${this.path} has an unknown layout; move it away to start over`);
    for (const [k, v] of Object.entries(parsed.files))
      if (v && typeof v.offset === 'number' && v.offset >= 0)
        this.files.set(k, { path: String(v.path), offset: v.offset });
  }

  get(key: string): Position | undefined {
    return this.files.get(key);
  }

  entries(): IterableIterator<[string, Position]> {
    return this.files.entries();
  }

  set(key: string, path: string, offset: number): void {
    const cur = this.files.get(key);
    if (cur && cur.offset === offset && cur.path === path) return;
    this.files.set(key, { path, offset });
    this.dirty = true;
  }

  delete(key: string): void {
    if (this.files.delete(key)) this.dirty = true;
  }

  /** Writes if changed. Concurrent calls coalesce into at most one more write. */
  async flush(): Promise<void> {
    if (this.writing) {
      this.again = true;
      return this.writing;
    }
    if (!this.dirty) return;
    this.writing = (async () => {
      try {
        do {
          this.again = false;
          this.dirty = false;
          await this.write();
        } while (this.again && this.dirty);
      } finally {
        this.writing = undefined;
      }
    })();
    return this.writing;
  }

  private async write(): Promise<void> {
    const body: PositionFile = { version: 1, files: Object.fromEntries(this.files) };
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(`${JSON.stringify(body)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    this.writes++;
  }
}
