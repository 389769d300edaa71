/**
 * The `kinesis` daemon source's acknowledgement journal: what happened since the checkpoint was
 * last written, so a restart after `kill -9` knows exactly which Kinesis records were delivered
 * (and skips them) and which were in flight (and counts their events as possible duplicates when
 * they are sent again).
 *
 * Files `acked.<gen>.journal` in the source's state directory (`<dataDir>/state/<source>/`), lines:
 * - `f <shard> <seq> [<seq> …]`: the records were handed to the pipeline, or are about to be (an
 *   intent, written before they can reach a sink);
 * - `a <shard> <seq> <base>`: the record was acknowledged (any outcome but `failed`), and the
 *   shard's checkpoint (every record up to it acknowledged) is now `base` (`-`: none yet).
 * Intents are written for up to `DECLARE_AHEAD` queued records of a shard at once, and the
 * acknowledgements of one event-loop turn in one `write()` (kinesis.ts): never a syscall per record
 * or event. Delaying an acknowledgement line is safe: until it is written the record's intent says
 * "possibly delivered", so a kill in between counts it possible instead of skipping it. What
 * reached the kernel survives `kill -9`; there is no fsync, so a power loss can lose the last lines
 * (those records are then re-sent uncounted, as before). A torn last line is ignored.
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
      if (p[0] === 'f') {
        for (let i = 2; i < p.length; i++) if (SEQ.test(p[i])) s.inflight.add(p[i]);
      } else if (p[0] === 'a') {
        s.acked.add(seq);
        const base = p[3];
        if (base !== undefined && SEQ.test(base) && (s.base === undefined || seqCompare(base, s.base) > 0))
          s.base = base;
      }
    }
    return out;
  }

  /** Records of a shard are handed to the pipeline (or about to be): written at once. */
  inflight(shard: string, seqs: readonly string[]): void {
    this.flushAcked();
    this.files.write(`f ${shard} ${seqs.join(' ')}\n`);
  }

  /** A record was acknowledged; the shard's checkpoint is now `base`. Written at the end of the turn. */
  acked(shard: string, seq: string, base: string | undefined): void {
    if (this.ackLines === '') setImmediate(this.flushAcked);
    this.ackLines += `a ${shard} ${seq} ${base ?? '-'}\n`;
  }

  private ackLines = '';
  private readonly flushAcked = (): void => {
    if (this.ackLines === '') return;
    const text = this.ackLines;
    this.ackLines = '';
    this.files.write(text);
  };

  /**
   * The checkpoint is taking a snapshot: later lines go to a new generation, which starts with the
   * records still `outstanding` (handed out, not acknowledged; or possible duplicates not read
   * again yet). Returns what to call once the snapshot is durable.
   */
  rotate(outstanding: Iterable<{ shard: string; seq: string }>): () => void {
    this.flushAcked();
    const through = this.files.next();
    let text = '';
    for (const o of outstanding) text += `f ${o.shard} ${o.seq}\n`;
    if (text !== '' && !this.files.write(text)) return () => {};
    return () => {
      if (!this.files.failed) this.files.drop(through);
    };
  }

  close(): void {
    this.flushAcked();
    this.files.close();
  }
}
