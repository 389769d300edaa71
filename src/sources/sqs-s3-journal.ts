/**
 * The `sqs-s3` daemon source's progress journal: every change of an object's resume position
 * (made at acknowledgement time) and every envelope handed to the pipeline, appended as they
 * happen, so a restart after `kill -9` knows what the progress file had no time to say.
 *
 * Files `progress.<gen>.journal` in the source's state directory (`<dataDir>/state/<source>/`),
 * lines `s <json [object, progress]>` (the object's progress was set), `f <json [object, from,
 * through]>` (lines from..through, inclusive, were handed out: an intent, written before they can
 * reach a sink). One plain `write()` per acknowledgement and per envelope, never per record; what
 * reached the kernel survives `kill -9` (no fsync: a power loss loses the last lines, which are
 * duplicates as before). A torn last line is ignored.
 *
 * At load the progress file is read, then the journal replayed over it: for each object the newer
 * of the two (by `at`) wins, so lines acknowledged after the last progress write are resumed past
 * (or, acknowledged out of order, skipped by the message source when read again: no duplicate).
 * Lines handed out and not acknowledged by the stop are possible duplicates when sent again: the
 * source counts them (`possibleDuplicates`) each time it hands them out again. Compaction: once a generation holds more than 1,000
 * lines plus four per object known, a new one starts with a snapshot of every object this process
 * set, the intents outstanding and the possible ranges not yet read again; older ones are removed.
 */
import { JournalGenerations, merge, subtract } from './journal-files.js';
import { DONE, type ObjectProgress, type ProgressStore } from './s3-object/message-source.js';
import type { FileProgress } from './s3-object/progress-file.js';
import type { ObjectEnvelope } from './s3-object/read-object.js';

const COMPACT_LINES = 1_000;

/** An envelope's lines of one object, inclusive. */
export interface Intent {
  object: string;
  fromLine: number;
  through: number;
}

export class JournaledProgress implements ProgressStore {
  /** Every object this process set (replayed ones included): the content of a snapshot. */
  private readonly mine = new Map<string, ObjectProgress>();
  /** Lines in flight at the last stop and not acknowledged, by object, half-open [from, to). */
  private readonly possible = new Map<string, [number, number][]>();
  private readonly files: JournalGenerations;
  private lines = 0;

  constructor(
    private readonly inner: FileProgress,
    dir: string,
    private readonly rememberDoneMs: number,
    /** Envelopes handed out and not yet acknowledged (copied into a new generation). */
    private readonly outstanding: () => Iterable<Intent>,
    onError?: (e: Error) => void,
  ) {
    this.files = new JournalGenerations(dir, 'progress', onError);
  }

  async load(): Promise<void> {
    await this.inner.load();
    const last = new Map<string, ObjectProgress>();
    const intents = new Map<string, [number, number][]>();
    for (const line of this.files.readLines()) {
      let v: unknown;
      try {
        v = JSON.parse(line.slice(2));
      } catch {
        continue;
      }
      if (!Array.isArray(v) || typeof v[0] !== 'string') continue;
      if (line.startsWith('s ') && isProgress(v[1])) last.set(v[0], v[1]);
      else if (line.startsWith('f ') && Number.isInteger(v[1]) && Number.isInteger(v[2]) && v[2] >= v[1]) {
        const l = intents.get(v[0]) ?? [];
        l.push([v[1], v[2] + 1]);
        intents.set(v[0], l);
      }
    }
    for (const [o, p] of last) {
      const cur = this.inner.get(o);
      if (cur === undefined || p.at >= cur.at) this.inner.set(o, p);
      this.mine.set(o, this.inner.get(o) as ObjectProgress);
    }
    for (const [o, rs] of intents) {
      const p = this.inner.get(o);
      if (p?.through === DONE) continue;
      const acked = merge((p?.acked ?? []).map((r): [number, number] => [r[0], r[1] + 1]));
      const left = subtract(merge(rs), acked, (p?.through ?? 0) + 1);
      if (left.length > 0) this.possible.set(o, left);
    }
    // Start this run's generation with everything known, and drop the older ones.
    this.rotate(this.files.gen - 1);
  }

  get(o: string): ObjectProgress | undefined {
    return this.inner.get(o);
  }

  set(o: string, p: ObjectProgress): void {
    this.inner.set(o, p);
    this.mine.set(o, p);
    this.append(`s ${JSON.stringify([o, p])}\n`);
  }

  delete(o: string): void {
    this.inner.delete(o);
    // A deletion is a restart from the first line: journaled as such.
    const p = { through: 0, at: Date.now() };
    this.mine.set(o, p);
    this.append(`s ${JSON.stringify([o, p])}\n`);
  }

  /** An envelope is handed to the pipeline. */
  intent(i: Intent): void {
    this.append(`f ${JSON.stringify([i.object, i.fromLine, i.through])}\n`);
  }

  /** How many records of `env` not known delivered (`redelivered`) were in flight at the last stop. */
  possibleOf(env: ObjectEnvelope): number {
    const rs = this.possible.get(env.object);
    if (!rs || !rs.some((r) => r[0] <= env.through && env.fromLine < r[1])) return 0;
    let n = 0;
    for (const rec of env.records) {
      if (rec.meta.redelivered) continue;
      const id = rec.meta.id;
      const line = Number(id.slice(id.lastIndexOf('#') + 1));
      if (rs.some((r) => r[0] <= line && line < r[1])) n++;
    }
    return n;
  }

  close(): void {
    this.files.close();
  }

  /** Writes a snapshot to the current generation, then removes generations up to `through`. */
  private rotate(through: number): void {
    const now = Date.now();
    let text = '';
    for (const [o, p] of this.mine) {
      if (p.through === DONE && now - p.at > this.rememberDoneMs) {
        this.mine.delete(o);
        continue;
      }
      text += `s ${JSON.stringify([o, p])}\n`;
    }
    for (const i of this.outstanding()) text += `f ${JSON.stringify([i.object, i.fromLine, i.through])}\n`;
    for (const [o, rs] of this.possible)
      for (const r of rs) text += `f ${JSON.stringify([o, r[0], r[1] - 1])}\n`;
    this.lines = 0;
    // Keep the older generations when the new one may be incomplete.
    if (text !== '' && !this.files.write(text)) return;
    if (!this.files.failed) this.files.drop(through);
  }

  private append(text: string): void {
    if (this.lines > COMPACT_LINES + 4 * this.mine.size) this.rotate(this.files.next());
    if (this.files.write(text)) this.lines++;
  }
}

function isProgress(v: unknown): v is ObjectProgress {
  const p = v as ObjectProgress;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.through === 'number' &&
    typeof p.at === 'number' &&
    (p.acked === undefined || Array.isArray(p.acked))
  );
}
