/**
 * A finished query run as the console API returns it. `rows` are exactly what
 * `logferry query --output json` prints (displayed fields, times as the Logs Insights console
 * shows them), so the browser and the CLI can never disagree; `epochs` adds the raw epoch-ms of
 * time columns for charts and zooming.
 */
import type { QueryRun, TimeRange } from '../query/backends/index.js';
import { binColumn, displayRows, timeColumns, toEpochMaybe } from '../query/render/format.js';

export interface ConsoleResult {
  fields: string[];
  rows: Record<string, unknown>[];
  timeFields: string[];
  /** Per time column: epoch ms of each row (null where the cell is empty). */
  epochs: Record<string, (number | null)[]>;
  /** Matched events per minute: [epoch ms of the minute, count], ascending. */
  histogram: [number, number][];
  aggregates: boolean;
  binColumn?: string;
  binMs?: number;
  /** Per row: its `@ptr` (archive object key : line), to open the whole event; absent for aggregates. */
  ptrs?: (string | null)[];
  stats: { recordsScanned: number; recordsMatched: number };
  progress: QueryRun['progress'];
  notes: string[];
  range: TimeRange;
  source: string;
  elapsedMs: number;
}

export function runToResult(run: QueryRun, elapsedMs: number): ConsoleResult {
  const { fields, rows } = run.result;
  const times = run.result.timeFields ? new Set(run.result.timeFields) : timeColumns(run.compiled.ast);
  const timeFields = fields.filter((f) => times.has(f));
  const epochs: Record<string, (number | null)[]> = {};
  for (const f of timeFields) epochs[f] = rows.map((r) => toEpochMaybe(r[f]) ?? null);
  const histogram = [...run.histogram.entries()].sort((a, b) => a[0] - b[0]);
  const ptrs = run.compiled.aggregates
    ? undefined
    : rows.map((r) => (typeof r['@ptr'] === 'string' ? r['@ptr'] : null));
  return {
    ...(ptrs?.some((p) => p !== null) ? { ptrs } : {}),
    fields,
    rows: displayRows(fields, rows, times),
    timeFields,
    epochs,
    histogram,
    aggregates: run.compiled.aggregates,
    binColumn: binColumn(run.compiled.ast),
    binMs: run.compiled.binMs,
    stats: run.result.stats,
    progress: run.progress,
    notes: run.notes,
    range: run.range,
    source: run.source,
    elapsedMs,
  };
}
