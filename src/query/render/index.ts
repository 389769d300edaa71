/**
 * Turns a query run into output: `table` (chart + table + footer, fitted to the terminal), `json`
 * (an array of objects with exactly the displayed fields, times as the console shows them) or `csv`
 * (RFC 4180, same values). Charts and the footer belong to the table view only, so json/csv stay
 * machine-readable; for those the footer goes to stderr when it is a terminal.
 */
import type { QueryRun, ScanProgress } from '../backends/index.js';
import { binColumn, displayRows, formatValue, humanBytes, humanCount, timeColumns } from './format.js';
import { renderBarChart, renderHistogram } from './chart.js';
import { renderTable } from './table.js';
import { jsonText } from '../values.js';

export type OutputFormat = 'table' | 'json' | 'csv';

export interface RenderOptions {
  output: OutputFormat;
  width: number;
  color: boolean;
  /** Wall time of the whole run, ms. */
  elapsedMs: number;
}

/**
 * Columns holding times: the engine's own answer (`QueryResult.timeFields`, which follows values
 * through `fields`, a second `stats`, `sortsFirst`/`sortsLast`/`pct` of a time …) when the result
 * carries it, else the query-text heuristic.
 */
function timesOf(run: QueryRun): Set<string> {
  return run.result.timeFields ? new Set(run.result.timeFields) : timeColumns(run.compiled.ast);
}

export function renderJson(run: QueryRun): string {
  const { fields, rows } = run.result;
  return `${jsonText(displayRows(fields, rows, timesOf(run)), 2)}\n`;
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(run: QueryRun): string {
  const { fields, rows } = run.result;
  const times = timesOf(run);
  const lines = [fields.map(csvCell).join(',')];
  for (const r of rows) lines.push(fields.map((f) => csvCell(formatValue(r[f], times.has(f)))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export function renderFooter(run: QueryRun, elapsedMs: number): string {
  const p = run.progress;
  const s = run.result.stats;
  const secs = elapsedMs / 1000;
  const parts = [
    `${humanCount(run.result.rows.length)} row${run.result.rows.length === 1 ? '' : 's'}`,
    `${humanCount(s.recordsMatched)} of ${humanCount(s.recordsScanned)} records matched`,
  ];
  if (run.source === 'opensearch') {
    parts.push(`${humanBytes(p.bytesIn)} fetched`);
  } else {
    const compressed = p.bytesText > p.bytesIn * 1.05 ? ` (${humanBytes(p.bytesText)} uncompressed)` : '';
    const pruned = p.objectsPruned ? `, ${humanCount(p.objectsPruned)} pruned` : '';
    parts.push(
      `${humanBytes(p.bytesIn)}${compressed} in ${humanCount(p.objectsDone)} object${p.objectsDone === 1 ? '' : 's'}${pruned}`,
    );
  }
  parts.push(`${secs.toFixed(2)} s`);
  if (secs > 0 && s.recordsScanned > 0)
    parts.push(`${humanCount(Math.round(s.recordsScanned / secs))} records/s`);
  let out = `${parts.join(' · ')}\n`;
  for (const n of run.notes) out += `note: ${n}\n`;
  // What was skipped is said on stderr by the CLI (renderIncomplete), whatever the format.
  if (run.incomplete.length)
    out += 'warning: the result is incomplete: some data was not read (see stderr)\n';
  return out;
}

/**
 * The stderr report of what a run did not read, one `warning:` line per kind with the first few
 * objects; empty when the answer is complete.
 */
export function renderIncomplete(run: QueryRun, allowPartial: boolean): string {
  if (run.incomplete.length === 0) return '';
  let out = '';
  for (const r of run.incomplete) out += `logferry: warning: ${r}\n`;
  out += allowPartial
    ? 'logferry: the result above is partial (--allow-partial)\n'
    : 'logferry: the result above is incomplete; exit status 3 (--allow-partial accepts partial results)\n';
  return out;
}

/** Machine-readable figures of a run (`--stats-json`): counts, bytes, what was skipped and why. */
export function statsJson(run: QueryRun, elapsedMs: number): string {
  const p = run.progress;
  return `${JSON.stringify({
    source: run.source,
    rows: run.result.rows.length,
    recordsScanned: run.result.stats.recordsScanned,
    recordsMatched: run.result.stats.recordsMatched,
    objectsListed: p.objectsListed,
    objectsPruned: p.objectsPruned,
    objectsRead: p.objectsDone,
    objectsFailed: p.objectsFailed,
    objectsDamaged: p.objectsDamaged,
    bytesIn: p.bytesIn,
    bytesText: p.bytesText,
    bytesLost: p.bytesLost,
    linesTooLong: p.linesTooLong,
    bytesTooLong: p.bytesTooLong,
    maxLineBytes: p.maxLineBytes,
    complete: run.incomplete.length === 0,
    incomplete: run.incomplete,
    failures: p.failures,
    damaged: p.damaged,
    notes: run.notes,
    elapsedMs,
  })}\n`;
}

export function renderTableView(run: QueryRun, opts: RenderOptions): string {
  const { fields, rows } = run.result;
  const ast = run.compiled.ast;
  let out = '';
  const bin = binColumn(ast);
  if (run.compiled.aggregates) {
    if (bin) {
      const chart = renderBarChart(fields, rows, bin, { width: opts.width });
      if (chart) out += `${chart}\n`;
    }
  } else {
    const h = renderHistogram(run.histogram, {
      width: opts.width,
      startMs: run.range.startMs,
      endMs: run.range.endMs,
    });
    if (h) out += `${h}\n`;
  }
  if (rows.length === 0) out += 'No matching records.\n';
  else out += renderTable(fields, rows, { width: opts.width, times: timesOf(run), color: opts.color });
  out += `\n${renderFooter(run, opts.elapsedMs)}`;
  return out;
}

export function render(run: QueryRun, opts: RenderOptions): string {
  if (opts.output === 'json') return renderJson(run);
  if (opts.output === 'csv') return renderCsv(run);
  return renderTableView(run, opts);
}

/** One status line for stderr on a TTY (the caller redraws it with `\r` and clears it at the end). */
export function progressLine(p: ScanProgress, width: number): string {
  const secs = (Date.now() - p.startedAt) / 1000;
  const total = p.objectsListed - p.objectsPruned;
  const objs = total > 0 ? `${humanCount(p.objectsDone)}/${humanCount(total)} objects · ` : '';
  const s = `scanning… ${objs}${humanBytes(p.bytesIn)} · ${humanCount(p.recordsScanned)} records · ${humanCount(p.recordsMatched)} matched · ${secs.toFixed(1)} s`;
  return s.length > width - 1 ? s.slice(0, width - 1) : s;
}
