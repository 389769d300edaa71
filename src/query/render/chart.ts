/**
 * What people look at first: a histogram of matching events over time for plain queries (as the
 * Logs Insights console draws above the log lines), and a bar chart for `stats … by bin(…)` results.
 * Plain text with Unicode block characters; fits the given width.
 */
import { formatTimestamp, humanCount, toEpochMaybe } from './format.js';
import { truncate } from './table.js';
import type { Row } from '../types.js';

const BLOCKS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const NICE_BINS_MS = [
  60_000,
  120_000,
  300_000,
  600_000,
  900_000,
  1_800_000,
  3_600_000,
  7_200_000,
  10_800_000,
  21_600_000,
  43_200_000,
  86_400_000,
  2 * 86_400_000,
  7 * 86_400_000,
  14 * 86_400_000,
  30 * 86_400_000,
];

export function binLabel(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export interface HistogramOptions {
  width: number;
  /** Query window; when open, the data's extent is used. */
  startMs?: number;
  endMs?: number;
  height?: number;
}

/** A small column chart of per-minute counts, re-binned to fit the width. Empty string when no data. */
export function renderHistogram(perMinute: Map<number, number>, opts: HistogramOptions): string {
  if (perMinute.size === 0) return '';
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const k of perMinute.keys()) {
    if (k < min) min = k;
    if (k > max) max = k;
  }
  const from = opts.startMs ?? min;
  const to = Math.max(opts.endMs ?? max + 60_000, from + 60_000);
  const cols = Math.max(10, Math.min(opts.width - 2, 100));
  const bin =
    NICE_BINS_MS.find((b) => (to - from) / b <= cols) ??
    Math.ceil((to - from) / cols / 86_400_000) * 86_400_000;
  const first = from - (from % bin);
  const n = Math.max(1, Math.ceil((to - first) / bin));
  const counts = new Array<number>(n).fill(0);
  let total = 0;
  for (const [k, v] of perMinute) {
    const i = Math.floor((k - first) / bin);
    if (i >= 0 && i < n) {
      counts[i] += v;
      total += v;
    }
  }
  const peak = Math.max(...counts, 1);
  const height = opts.height ?? 4;
  const lines: string[] = [];
  lines.push(
    `matching events over time · ${binLabel(bin)} bins · peak ${humanCount(peak)} · ${humanCount(total)} total`,
  );
  for (let row = height - 1; row >= 0; row--) {
    let s = '';
    for (const c of counts) {
      const eighths = Math.round((c / peak) * height * 8) - row * 8;
      s += c > 0 && row === 0 && eighths <= 0 ? BLOCKS[1] : BLOCKS[Math.max(0, Math.min(8, eighths))];
    }
    lines.push(`│${s}`);
  }
  const left = formatTimestamp(first).slice(0, 16);
  const right = formatTimestamp(first + n * bin).slice(0, 16);
  const axisWidth = n + 1;
  lines.push(
    axisWidth >= left.length + right.length + 2
      ? `${left}${' '.repeat(axisWidth - left.length - right.length)}${right}`
      : left,
  );
  return `${lines.join('\n')}\n`;
}

/** The first numeric column other than the bin column: what the bars show. */
export function valueColumn(fields: string[], rows: Row[], exclude: string): string | undefined {
  return fields.find((f) => f !== exclude && rows.some((r) => typeof r[f] === 'number'));
}

/** Horizontal bars, one per result row, ordered by bin time (at most `maxRows`). */
export function renderBarChart(
  fields: string[],
  rows: Row[],
  binCol: string,
  opts: { width: number; maxRows?: number },
): string {
  const valCol = valueColumn(fields, rows, binCol);
  if (!valCol || rows.length === 0) return '';
  const others = fields.filter((f) => f !== binCol && f !== valCol);
  const items = rows
    .map((r) => ({
      t: toEpochMaybe(r[binCol]) ?? Number.NaN,
      label: others.map((f) => String(r[f] ?? '')).join(' '),
      v: typeof r[valCol] === 'number' ? (r[valCol] as number) : Number(r[valCol]) || 0,
    }))
    .sort((a, b) => a.t - b.t || a.label.localeCompare(b.label));
  const maxRows = opts.maxRows ?? 40;
  const shown = items.slice(0, maxRows);
  const peak = Math.max(...shown.map((i) => Math.abs(i.v)), 1);
  const labelW = Math.min(24, Math.max(0, ...shown.map((i) => i.label.length)));
  const valW = Math.max(...shown.map((i) => humanCount(i.v).length));
  const timeW = 19;
  const barW = Math.max(5, opts.width - timeW - (labelW ? labelW + 1 : 0) - valW - 4);
  const out = [`${valCol} by ${binCol}`];
  for (const i of shown) {
    const len = (Math.abs(i.v) / peak) * barW;
    const full = Math.floor(len);
    const frac = Math.round((len - full) * 8);
    const bar =
      '█'.repeat(full) + (frac > 0 ? ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'][Math.min(frac, 7)] : '');
    const time = Number.isFinite(i.t) ? formatTimestamp(i.t).slice(0, 19) : String(i.t);
    const label = labelW ? `${truncate(i.label, labelW).padEnd(labelW)} ` : '';
    out.push(`${time} ${label}${humanCount(i.v).padStart(valW)} ${bar}`);
  }
  if (items.length > shown.length) out.push(`… ${items.length - shown.length} more bins (see the table)`);
  return `${out.join('\n')}\n`;
}
