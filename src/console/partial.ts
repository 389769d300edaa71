/**
 * Results as they are found. While an archive scan runs, the console shows the query's answer over
 * the rows found so far: the first PARTIAL_MAX_ROWS rows the per-row commands pass are kept; at most
 * every PARTIAL_EVERY_MS (and never sooner than ten times what the previous one cost) the query's
 * stateful commands (sort, limit, dedup, …) run over a copy of them (so the final run's rows never
 * change), and the first PARTIAL_SENT_ROWS rows of that answer are sent as a `partial` event. The
 * final `result` event replaces it. Aggregating queries get no partial rows (a count over part of
 * the data would read as a wrong answer); their progress and histogram still stream.
 */
import type { LiveScan } from '../query/backends/index.js';
import type { Row } from '../query/types.js';
import { type ConsoleResult, runToResult } from './result.js';

/** Logs Insights shows at most 10,000 rows; a partial answer is computed over at most as many. */
export const PARTIAL_MAX_ROWS = 10_000;
/**
 * Rows of a partial answer sent to the browser: the first screens' worth. Sending all 10,000 rows
 * (often 10+ MB of JSON) several times a second slowed a scan to 2.4x its time.
 */
export const PARTIAL_SENT_ROWS = 500;
export const PARTIAL_EVERY_MS = 400;
/** A partial answer waits at least this many times what the previous one cost (main-thread time). */
const COST_FACTOR = 10;

export class PartialRows {
  private readonly found: Row[] = [];
  private live?: LiveScan;
  private sent = 0;
  private lastAt = 0;
  private busy = false;
  private lastCost = 0;
  private closed = false;

  constructor(
    private readonly emit: (r: ConsoleResult & { partial: true }) => void,
    private readonly t0: number,
    private readonly everyMs = PARTIAL_EVERY_MS,
  ) {}

  readonly onRow = (row: Row, live: LiveScan): void => {
    this.live = live;
    if (live.compiled.aggregates || this.found.length >= PARTIAL_MAX_ROWS) return;
    this.found.push(row); // copied when a snapshot is taken, so the final run's rows stay as given
  };

  /** Sends the answer over the rows found so far, when there are new ones and it is time. */
  tick(now: number): void {
    const live = this.live;
    if (!live || this.closed || this.busy || this.found.length === this.sent) return;
    if (now - this.lastAt < Math.max(this.everyMs, this.lastCost * COST_FACTOR)) return;
    this.busy = true;
    this.sent = this.found.length;
    this.lastAt = now;
    const t = performance.now();
    const snapshot = this.found.map((r) => ({ ...r }));
    live.compiled
      .finish(snapshot, { keep: ['@ptr'] })
      .then((result) => {
        if (this.closed) return;
        if (result.rows.length > PARTIAL_SENT_ROWS) result.rows = result.rows.slice(0, PARTIAL_SENT_ROWS);
        result.stats = {
          recordsScanned: live.progress.recordsScanned,
          recordsMatched: live.progress.recordsMatched,
        };
        const run = {
          result,
          compiled: live.compiled,
          source: live.source,
          range: live.range,
          progress: live.progress,
          histogram: live.histogram,
          notes: [],
          incomplete: [],
        };
        this.emit({ ...runToResult(run, Date.now() - this.t0), partial: true });
        this.lastCost = performance.now() - t;
      })
      .catch(() => {
        // A partial answer is a courtesy; the final run reports any error of the query itself.
      })
      .finally(() => {
        this.busy = false;
      });
  }

  /** No partial event after the final answer. */
  close(): void {
    this.closed = true;
  }
}
