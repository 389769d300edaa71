/**
 * A per-source count of re-delivered records that outlives `kill -9`, so the run summary after
 * several crashes reports every duplicate since the last clean stop, not only the last run's.
 *
 * File: `<dataDir>/state/<source>/redelivered.journal`, lines `start` (one per start of the source),
 * `<n>` (n records marked `redelivered` — certainly delivered before — were acknowledged again),
 * `p <n>` (n records that were in flight at a crash, so possibly delivered before, were
 * acknowledged again) and `s <n>` (n records known delivered were skipped when read again: no
 * duplicate). A disk buffer keeps one too, in its own directory (`state/<sink>/buffer/`), with
 * `p <n>` lines: entries replayed at a start that were being delivered when the last run stopped.
 * Appended with a plain synchronous `write()` — one call per acknowledged envelope that carried
 * such records (rare: only after a restart), never per record. What reached the kernel survives
 * `kill -9`; there is no fsync, so a power loss can lose the last appends. A torn last line is
 * ignored when read. The files are removed at a clean stop after the summary that reported them
 * was printed.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from './component.js';
import { type DataDirConfig, STATE_SUBDIR, stateDir } from './data-dir.js';

export const REDELIVERY_JOURNAL = 'redelivered.journal';

/**
 * Totals kept since the last clean stop: starts of the source, re-delivered records acknowledged
 * (certain duplicates where a sink cannot dedupe), possible duplicates and skipped re-reads.
 */
export interface RedeliveryTotals {
  starts: number;
  records: number;
  possible?: number;
  skipped?: number;
}

/**
 * A daemon source's re-delivery journal, in its state directory (`<dataDir>/state/<name>/`); none
 * outside the daemon (no `dataDir` given: tests, tools). A journal that cannot be written warns once.
 */
export function sourceRedeliveryJournal(
  ctx: DataDirConfig,
  name: string,
  log: Logger | undefined,
): RedeliveryJournal | undefined {
  if (ctx.dataDir === undefined) return undefined;
  return new RedeliveryJournal(join(stateDir(ctx, name), REDELIVERY_JOURNAL), (e) =>
    log?.warn(`${name}: cannot keep the re-delivery count across restarts`, { error: e.message }),
  );
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

  /** `n` records possibly delivered before (in flight at a crash) were acknowledged again. */
  possible(n: number): void {
    if (n > 0) this.append(`p ${n}\n`, true);
  }

  /** `n` records known delivered were read again and skipped (not sent: no duplicate). */
  skipped(n: number): void {
    if (n > 0) this.append(`s ${n}\n`, false);
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
  let possible = 0;
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line === 'start') starts++;
    else if (/^[0-9]{1,15}$/.test(line)) records += Number(line);
    else if (/^p [0-9]{1,15}$/.test(line)) possible += Number(line.slice(2));
    else if (/^s [0-9]{1,15}$/.test(line)) skipped += Number(line.slice(2));
  }
  const out: RedeliveryTotals = { starts, records };
  if (possible > 0) out.possible = possible;
  if (skipped > 0) out.skipped = skipped;
  return out;
}

/** Where a disk buffer in `dir` keeps its journal of replayed possible duplicates. */
export function bufferJournalPath(dir: string): string {
  return join(dir, REDELIVERY_JOURNAL);
}

const BUFFER_SUBDIR = 'buffer';

/**
 * Every source's journal under `<dataDir>/state`, by source (state directory) name, and every disk
 * buffer's (`<sink>/buffer`): in its state directory, or in its own `path` (`bufferDirs`: sink name
 * → directory, for buffers configured outside the data directory).
 */
export function readJournals(
  dataDir: string,
  bufferDirs: Readonly<Record<string, string>> = {},
): Record<string, RedeliveryTotals> {
  const out: Record<string, RedeliveryTotals> = {};
  const read = (key: string, path: string) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return;
    }
    out[key] = parseJournal(text);
  };
  let names: string[] = [];
  try {
    names = readdirSync(join(dataDir, STATE_SUBDIR));
  } catch {
    // No state yet: only buffers with their own path can have a journal.
  }
  // A source's journal under its name; a disk buffer's (`<sink>/buffer/`) under `<sink>/buffer`.
  for (const name of names.sort())
    for (const key of [name, `${name}/${BUFFER_SUBDIR}`])
      read(key, join(dataDir, STATE_SUBDIR, key, REDELIVERY_JOURNAL));
  for (const [sink, dir] of Object.entries(bufferDirs).sort())
    read(`${sink}/${BUFFER_SUBDIR}`, bufferJournalPath(dir));
  return out;
}

/** Removes the journals of `names` (after a clean stop reported them); `bufferDirs` as for readJournals. */
export function resetJournals(
  dataDir: string,
  names: string[],
  bufferDirs: Readonly<Record<string, string>> = {},
): void {
  const own = new Map(Object.entries(bufferDirs).map(([sink, dir]) => [`${sink}/${BUFFER_SUBDIR}`, dir]));
  for (const name of names) {
    const dir = own.get(name);
    rmSync(
      dir !== undefined ? bufferJournalPath(dir) : join(dataDir, STATE_SUBDIR, name, REDELIVERY_JOURNAL),
      {
        force: true,
      },
    );
  }
}
