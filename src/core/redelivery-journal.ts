/**
 * A per-source count of re-delivered records that outlives `kill -9`, so the run summary after
 * several crashes reports every duplicate since the last clean stop, not only the last run's.
 *
 * File: `<dataDir>/state/<source>/redelivered.journal`, lines `start` (one per start of the source)
 * and `<n>` (n records marked `redelivered` were acknowledged). Appended with a plain synchronous
 * `write()` — one call per acknowledged envelope that carried re-delivered records (rare: only
 * after a restart), never per record. What reached the kernel survives `kill -9`; there is no
 * fsync, so a power loss can lose the last appends. A torn last line is ignored when read. The
 * file is removed at a clean stop after the summary that reported it was printed.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { STATE_SUBDIR } from './data-dir.js';

export const REDELIVERY_JOURNAL = 'redelivered.journal';

/** Totals kept since the last clean stop: starts of the source and re-delivered records acknowledged. */
export interface RedeliveryTotals {
  starts: number;
  records: number;
}

export class RedeliveryJournal {
  private failed = false;
  constructor(
    readonly path: string,
    private readonly onError?: (e: Error) => void,
  ) {}

  /** Called once when the source starts reading. */
  start(): void {
    this.append('start\n', true);
  }

  /** `n` re-delivered records were acknowledged. */
  add(n: number): void {
    if (n > 0) this.append(`${n}\n`, false);
  }

  private append(line: string, mkdir: boolean): void {
    if (this.failed) return;
    try {
      if (mkdir) mkdirSync(dirname(this.path), { recursive: true });
      appendFileSync(this.path, line);
    } catch (e) {
      // Counting must never stop delivery: report once and keep going without the journal.
      this.failed = true;
      this.onError?.(e as Error);
    }
  }
}

/** Parses a journal's text; lines that are neither `start` nor a count (a torn tail) are skipped. */
export function parseJournal(text: string): RedeliveryTotals {
  let starts = 0;
  let records = 0;
  for (const line of text.split('\n')) {
    if (line === 'start') starts++;
    else if (/^[0-9]{1,15}$/.test(line)) records += Number(line);
  }
  return { starts, records };
}

/** Every source's journal under `<dataDir>/state`, by source (state directory) name. */
export function readJournals(dataDir: string): Record<string, RedeliveryTotals> {
  const out: Record<string, RedeliveryTotals> = {};
  let names: string[];
  try {
    names = readdirSync(join(dataDir, STATE_SUBDIR));
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    let text: string;
    try {
      text = readFileSync(join(dataDir, STATE_SUBDIR, name, REDELIVERY_JOURNAL), 'utf8');
    } catch {
      continue;
    }
    out[name] = parseJournal(text);
  }
  return out;
}

/** Removes the journals of `names` (after a clean stop reported them). */
export function resetJournals(dataDir: string, names: string[]): void {
  for (const name of names) rmSync(join(dataDir, STATE_SUBDIR, name, REDELIVERY_JOURNAL), { force: true });
}
