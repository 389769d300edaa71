/**
 * The shapes of a query run shared by the readers (index.ts runs archives, opensearch.ts indexes).
 * They live apart from index.ts so opensearch.ts, which index.ts loads lazily, imports nothing from
 * it: no import cycle inside src/query.
 */
import type { CompiledQuery, QueryResult, Row } from '../types.js';
import type { ScanProgress } from './scan.js';
import type { TimeRange } from './time-range.js';

export type SourceKind = 'local' | 's3' | 'opensearch';

export interface RunQueryOptions {
  /** Query text (already expanded if it came from a recipe). */
  query: string;
  from?: string;
  start?: string;
  end?: string;
  /** Epoch ms anchoring relative times and `now()`. */
  now?: number;
  /** Worker threads for archive scans (default: all cores; 0 = inline). */
  threads?: number;
  /** Key-time slack for archive pruning (ms); negative turns key-time pruning off. */
  pruneSlackMs?: number;
  /** Archive scans below this many bytes run inline (no workers); tests set 0 to force workers. */
  inlineMaxBytes?: number;
  /** Longest archive line read (bytes); longer lines are skipped and counted. */
  maxLineBytes?: number;
  signal?: AbortSignal;
  /** Lookup tables for `lookup`/`cidrlookup`: `name=file.csv` or `name=s3://bucket/key.csv`. */
  lookups?: readonly string[];
  /** Called often during the scan (the CLI throttles drawing). */
  onProgress?: (p: ScanProgress) => void;
  /**
   * Called with each row the scan finds (after the query's per-row commands, before its stateful
   * ones), with the live scan state, so a caller can show results as they are found (the console).
   * Archive scans only.
   */
  onRow?: (row: Row, live: LiveScan) => void;
  /** Result rows of archive scans keep `@ptr` (beside the displayed fields) to open the whole event. */
  pointers?: boolean;
}

/** What a scan knows while it runs: enough to render the answer over the rows found so far. */
export interface LiveScan {
  compiled: CompiledQuery;
  range: TimeRange;
  source: SourceKind;
  progress: ScanProgress;
  histogram: Map<number, number>;
}

export interface QueryRun {
  result: QueryResult;
  compiled: CompiledQuery;
  source: SourceKind;
  range: TimeRange;
  progress: ScanProgress;
  /** Matched events per minute, for the histogram (archive scans; OpenSearch fills it from hits). */
  histogram: Map<number, number>;
  /** What was pushed down where (OpenSearch), for `--explain`-style footers. */
  notes: string[];
  /**
   * What the answer does not cover (unreadable or damaged objects, over-long lines, failed shards),
   * one sentence each; empty when every listed byte was read. The CLI reports these on stderr and
   * exits 3 unless partial results were asked for.
   */
  incomplete: string[];
}
