/**
 * Public types of the query engine shared by the compiler and by readers built on top of it
 * (archive/S3/OpenSearch scanners, the `logferry query` CLI, renderers).
 */
import type { Expr, QueryAst } from './ast.js';

/**
 * A document as the archive/index stores it: `@timestamp` (epoch ms number, or an ISO string — the
 * engine normalises it to epoch ms), `@message`, `@logStream`, `@log`, and nested JSON fields.
 */
export type Row = Record<string, unknown>;

export interface QueryStats {
  /** Rows handed to the query (before any filter). */
  recordsScanned: number;
  /** Rows that survived the per-row stage (filters, parse, …). */
  recordsMatched: number;
}

export interface QueryResult {
  /** Displayed columns, in order. */
  fields: string[];
  /** Flat rows: column → value (only displayed columns). */
  rows: Row[];
  stats: QueryStats;
  /** Displayed columns whose values are epoch-ms timestamps (`@timestamp`, `bin(…)`, `latest(@timestamp)`…), for renderers. */
  timeFields?: string[];
}

export interface CompileOptions {
  /** "Now" in epoch ms for `now()` and relative functions; defaults to Date.now() at compile time. */
  now?: number;
  /** The time range the query reads, epoch ms (for `queryStartTime()`/`queryEndTime()`). */
  start?: number;
  end?: number;
  /** Tables for `lookup`/`cidrlookup` (`--lookup name=file.csv`), by name. */
  lookups?: ReadonlyMap<string, LookupTableData>;
  /** Rows returned when the query sets no `limit` (default DEFAULT_RESULT_LIMIT; subqueries use more). */
  defaultLimit?: number;
  /** Return whole rows instead of the displayed columns only (subqueries: `join` reads any field). */
  wholeRows?: boolean;
}

/** A lookup table as `lookup` reads it (src/query/lookup/table.ts loads them). */
export interface LookupTableData {
  name: string;
  columns: string[];
  rows: string[][];
}

/**
 * A subquery (`x in (…)`, `join … (…)`, `appendcols (…)`): its own text and compiled query. The
 * runner fills `result` (over the same source and time range as the query) before the query runs;
 * `execute` over an array does it itself.
 */
export interface SubqueryPlan {
  text: string;
  compiled: CompiledQuery;
  result?: QueryResult;
}

export interface ExecuteOptions {
  signal?: AbortSignal;
  /**
   * Fields copied into each result row beside the displayed columns, when the row has them (not
   * added to `fields`): the console keeps `@ptr` so a row can be opened as the whole event.
   */
  keep?: readonly string[];
}

export interface CompiledQuery {
  ast: QueryAst;
  /**
   * Commands that are per-record and stateless (filter, fields, display, parse, unmask, …) up to the
   * first stateful one. Safe to run in worker threads on each row independently. Returns the
   * transformed row or null (filtered out). The input row is not mutated.
   */
  rowStage(row: Row): Row | null;
  /** Runs everything (row stage + stateful rest: stats, sort, limit, dedup, second stats…) over rows. */
  execute(rows: AsyncIterable<Row> | Iterable<Row>, opts?: ExecuteOptions): Promise<QueryResult>;
  /** Runs only the stateful rest over rows already passed through rowStage (for parallel scans). */
  finish(rows: AsyncIterable<Row> | Iterable<Row>, opts?: ExecuteOptions): Promise<QueryResult>;
  /**
   * Filter expressions that apply to raw records before any command changes them (for push-down into
   * scans/OpenSearch). A reader may drop any record for which one of them is false; it must still run
   * rowStage (the filters stay in it).
   */
  pushdownFilters: Expr[];
  /** Field names the query reads (for projection); '*' if unknown (e.g. no `fields`/`display`, or `@message` parsing). */
  referencedFields: Set<string> | '*';
  /** True when the query aggregates (stats) — readers may then skip histogram logic. */
  aggregates: boolean;
  /** For `stats … by bin(x)`: the bin width in ms (for the CLI's bar chart). */
  binMs?: number;
  /** Subqueries this query reads (not those nested in them), in query order. */
  subqueries: SubqueryPlan[];
}

/** Logs Insights returns at most this many rows unless `limit` says otherwise.
 *  https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Limit.html */
export const DEFAULT_RESULT_LIMIT = 10_000;
