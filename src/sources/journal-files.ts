/**
 * What the daemon sources' crash journals share (file: src/sources/file/ack-journal.ts; sqs-s3:
 * src/sources/sqs-s3-journal.ts): numbered journal files appended with plain `write()` and
 * dropped at compaction, and the half-open range arithmetic their replays use.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Numbered journal files `<prefix>.<gen>.journal` in a directory, appended with plain `write()`
 * (one open file at a time). A write failure is reported once; later writes are dropped.
 */
export class JournalGenerations {
  private fd: number | undefined;
  gen = 0;
  failed = false;

  constructor(
    readonly dir: string,
    private readonly prefix: string,
    private readonly onError?: (e: Error) => void,
  ) {}

  /** The generations on disk, oldest first. */
  list(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const re = new RegExp(`^${this.prefix}\\.([0-9]{1,15})\\.journal$`);
    return names
      .map((n) => re.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  file(gen: number): string {
    return join(this.dir, `${this.prefix}.${gen}.journal`);
  }

  /**
   * The complete lines of every generation on disk, oldest first (a torn last line, without its
   * `\n`, is dropped); later writes go to a new generation.
   */
  readLines(): string[] {
    const gens = this.list();
    const out: string[] = [];
    for (const g of gens) {
      let text: string;
      try {
        text = readFileSync(this.file(g), 'utf8');
      } catch {
        continue; // removed meanwhile: nothing to replay
      }
      const lines = text.split('\n');
      lines.pop();
      for (const l of lines) out.push(l);
    }
    this.gen = (gens[gens.length - 1] ?? 0) + 1;
    return out;
  }

  /** Appends to the current generation; false once writing failed. */
  write(text: string): boolean {
    if (this.failed) return false;
    try {
      if (this.fd === undefined) {
        mkdirSync(this.dir, { recursive: true });
        this.fd = openSync(this.file(this.gen), 'a');
      }
      writeSync(this.fd, text);
      return true;
    } catch (e) {
      // A journal only narrows duplicates: report once and keep delivering without it.
      this.failed = true;
      this.close();
      this.onError?.(e as Error);
      return false;
    }
  }

  /** Later writes go to a new generation; returns the last one written so far. */
  next(): number {
    this.close();
    return this.gen++;
  }

  /** Removes the generations up to `through`. */
  drop(through: number): void {
    for (const g of this.list())
      if (g <= through)
        try {
          unlinkSync(this.file(g));
        } catch {
          // Already gone, or removed at the next compaction.
        }
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // Nothing to do: the lines written are in the kernel already.
    }
    this.fd = undefined;
  }
}

/** Sorted, merged copy of ranges [from, to). */
export function merge(rs: readonly [number, number][]): [number, number][] {
  const sorted = rs.map((r): [number, number] => [r[0], r[1]]).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

/** Parts of `rs` not covered by `minus` (both merged), at or past `from`. */
export function subtract(
  rs: readonly [number, number][],
  minus: readonly [number, number][],
  from: number,
): [number, number][] {
  const out: [number, number][] = [];
  let j = 0;
  for (const r of rs) {
    let a = Math.max(r[0], from);
    const b = r[1];
    while (j < minus.length && minus[j][1] <= a) j++;
    let k = j;
    while (a < b) {
      if (k >= minus.length || minus[k][0] >= b) {
        out.push([a, b]);
        break;
      }
      if (minus[k][0] > a) out.push([a, minus[k][0]]);
      a = Math.max(a, minus[k][1]);
      k++;
    }
  }
  return out;
}
