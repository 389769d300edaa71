/**
 * The file source's acknowledgement journal: what happened since the position database was last
 * written, so a restart after `kill -9` knows exactly which lines were delivered (and skips them)
 * and which were in flight (and counts them as possible duplicates when they are sent again).
 *
 * Files `acked.<gen>.journal` in the source's state directory, lines of text:
 * - `f <key> <from> <to>`: an envelope of lines starting in [from, to) of file `<key>` (`<dev>:<ino>`)
 *   was handed to the pipeline (an intent, written before the records can reach a sink);
 * - `a <key> <from> <to> <base> <path>`: that envelope was acknowledged, and the file's position
 *   (everything before it acknowledged) is now `base`;
 * - `r <key> <offset>`: the file was truncated or replaced; its position is `offset`, earlier lines
 *   about it no longer apply.
 * One plain `write()` per envelope handed out and one per acknowledgement, never per record: what
 * reached the kernel survives `kill -9` (no fsync: a power loss can lose the last lines, which are
 * then duplicates as before). A torn last line is ignored.
 *
 * Compaction: when the position database takes a snapshot to write, appends move to the next
 * generation (the intents still outstanding, and the ranges in flight at the last stop not read
 * again yet, are copied there); once the snapshot is renamed in
 * place, older generations are removed. At load every generation left is replayed in order over
 * the database, so a crash at any point leaves the union of what is known.
 */
import { JournalGenerations, merge } from '../journal-files.js';

/** What the journal says of one file. */
export interface JournaledFile {
  /** Position after the last acknowledgement (undefined: only intents were journaled). */
  base: number | undefined;
  /** Path the file was last acknowledged at. */
  path: string | undefined;
  /** A truncation or replacement was journaled: `base` replaces the database's offset. */
  reset: boolean;
  /** Acknowledged ranges [from, to) (merged). */
  acked: [number, number][];
  /** Ranges handed out (merged); those not acknowledged were in flight at the stop. */
  inflight: [number, number][];
}

export class AckJournal {
  private readonly files: JournalGenerations;

  constructor(dir: string, onError?: (e: Error) => void) {
    this.files = new JournalGenerations(dir, 'acked', onError);
  }

  /** Replays every generation left (oldest first); this run appends to a new one. */
  load(): Map<string, JournaledFile> {
    const out = new Map<string, JournaledFile>();
    replay(this.files.readLines(), out);
    for (const f of out.values()) {
      f.acked = merge(f.acked);
      f.inflight = merge(f.inflight);
    }
    return out;
  }

  inflight(key: string, from: number, to: number): void {
    this.files.write(`f ${key} ${from} ${to}\n`);
  }

  acked(key: string, from: number, to: number, base: number, path: string): void {
    this.files.write(`a ${key} ${from} ${to} ${base} ${path}\n`);
  }

  reset(key: string, offset: number): void {
    this.files.write(`r ${key} ${offset}\n`);
  }

  /**
   * The position database is taking a snapshot: later lines go to a new generation, which starts
   * with the intents still `outstanding`. Returns what to call once the snapshot is durable.
   */
  rotate(outstanding: Iterable<{ key: string; from: number; to: number }>): () => void {
    const through = this.files.next();
    let text = '';
    for (const f of outstanding) text += `f ${f.key} ${f.from} ${f.to}\n`;
    if (text !== '') this.files.write(text);
    return () => this.files.drop(through);
  }

  close(): void {
    this.files.close();
  }
}

function replay(lines: readonly string[], out: Map<string, JournaledFile>): void {
  const num = (s: string | undefined) => (s !== undefined && /^[0-9]{1,15}$/.test(s) ? Number(s) : undefined);
  for (const line of lines) {
    const p = line.split(' ');
    const key = p[1];
    if (key === undefined || key === '') continue;
    const get = (): JournaledFile => {
      let f = out.get(key);
      if (!f) {
        f = { base: undefined, path: undefined, reset: false, acked: [], inflight: [] };
        out.set(key, f);
      }
      return f;
    };
    if (p[0] === 'r') {
      const off = num(p[2]);
      if (off === undefined) continue;
      const f = get();
      f.base = off;
      f.reset = true;
      f.acked = [];
      f.inflight = [];
      continue;
    }
    const from = num(p[2]);
    const to = num(p[3]);
    if (from === undefined || to === undefined || to <= from) continue;
    if (p[0] === 'f') get().inflight.push([from, to]);
    else if (p[0] === 'a') {
      const base = num(p[4]);
      if (base === undefined) continue;
      const f = get();
      f.acked.push([from, to]);
      f.base = f.base === undefined ? base : Math.max(f.base, base);
      f.path = p.slice(5).join(' ');
    }
  }
}
