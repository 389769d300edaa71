/**
 * The `kinesis` daemon source's acknowledgement journal: what happened since the checkpoint was
 * last written, so a restart after `kill -9` knows exactly which Kinesis records were delivered
 * (and skips them) and which were in flight (and counts their events as possible duplicates when
 * they are sent again).
 *
 * Files `acked.<gen>.journal` in the source's state directory (`<dataDir>/state/<source>/`), lines:
 * - `f <shard> <seq>`: the record was handed to the pipeline (an intent, written before it can
 *   reach a sink);
 * - `a <shard> <seq> <base>`: it was acknowledged (any outcome but `failed`), and the shard's
 *   checkpoint (every record up to it acknowledged) is now `base` (`-`: none yet).
 * One plain `write()` per record handed out and one per acknowledgement — a Kinesis record is one
 * envelope (a CloudWatch payload holds many events), never one per event. What reached the kernel
 * survives `kill -9`; there is no fsync, so a power loss can lose the last lines (those records
 * are then re-sent uncounted, as before). A torn last line is ignored.
 *
 * Compaction: when the checkpoint is about to be written, appends move to the next generation,
 * which starts with the intents still outstanding (and the possible ones not yet read again); once
 * the checkpoint is renamed in place, older generations are removed. At load every generation left
 * is replayed in order, so a crash at any point leaves the union of what is known.
 */
import { JournalGenerations } from './journal-files.js';

/** What the journal says of one shard. */
export interface JournaledShard {
  /** Highest checkpoint journaled with an acknowledgement (undefined: none). */
  base: string | undefined;
  /** Sequence numbers acknowledged. */
  acked: Set<string>;
  /** Sequence numbers handed out (those not acknowledged were in flight at the stop). */
  inflight: Set<string>;
}

const SEQ = /^[0-9]{1,128}$/;

/** Compares two sequence numbers (decimal strings of up to 128 digits). */
export function seqCompare(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class KinesisAckJournal {
  private readonly files: JournalGenerations;

  constructor(dir: string, onError?: (e: Error) => void) {
    this.files = new JournalGenerations(dir, 'acked', onError);
  }

  /** Replays every generation left (oldest first); this run appends to a new one. */
  load(): Map<string, JournaledShard> {
    const out = new Map<string, JournaledShard>();
    for (const line of this.files.readLines()) {
      const p = line.split(' ');
      const shard = p[1];
      const seq = p[2];
      if (!shard || seq === undefined || !SEQ.test(seq)) continue;
      let s = out.get(shard);
      if (!s) {
        s = { base: undefined, acked: new Set(), inflight: new Set() };
        out.set(shard, s);
      }
      if (p[0] === 'f') s.inflight.add(seq);
      else if (p[0] === 'a') {
        s.acked.add(seq);
        const base = p[3];
        if (base !== undefined && SEQ.test(base) && (s.base === undefined || seqCompare(base, s.base) > 0))
          s.base = base;
      }
    }
    return out;
  }

  /** A record is handed to the pipeline. */
  inflight(shard: string, seq: string): void {
    this.files.write(`f ${shard} ${seq}\n`);
  }

  /** A record was acknowledged; the shard's checkpoint is now `base`. */
  acked(shard: string, seq: string, base: string | undefined): void {
    this.files.write(`a ${shard} ${seq} ${base ?? '-'}\n`);
  }

  /**
   * The checkpoint is taking a snapshot: later lines go to a new generation, which starts with the
   * records still `outstanding` (handed out, not acknowledged; or possible duplicates not read
   * again yet). Returns what to call once the snapshot is durable.
   */
  rotate(outstanding: Iterable<{ shard: string; seq: string }>): () => void {
    const through = this.files.next();
    let text = '';
    for (const o of outstanding) text += `f ${o.shard} ${o.seq}\n`;
    if (text !== '' && !this.files.write(text)) return () => {};
    return () => {
      if (!this.files.failed) this.files.drop(through);
    };
  }

  close(): void {
    this.files.close();
  }
}
