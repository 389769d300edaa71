/**
 * Cell values as the Logs Insights console shows them: times `YYYY-MM-DD HH:MM:SS.mmm` (UTC),
 * numbers as they are, true/false as 1/0, objects/arrays as compact JSON, missing values empty. Which columns are
 * times is decided from the query (`@timestamp`, `@ingestionTime`, `bin(…)` groups and
 * `datefloor`/`dateceil`/`fromMillis` projections), not guessed from values.
 */
import type { Expr, QueryAst } from '../ast.js';
import type { Row } from '../types.js';
import { jsonText } from '../values.js';

export function formatTimestamp(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  // Beyond what a Date holds (±8.64e15 ms, e.g. a `1e20` read from a foreign archive): the number as it is.
  if (Math.abs(ms) > 8.64e15) return String(ms);
  const iso = new Date(ms).toISOString();
  // Years outside 0000–9999 are written `+099999-01-01T…`/`-000001-…`: split at the `T`.
  const t = iso.length === 24 ? 10 : iso.indexOf('T');
  return `${iso.slice(0, t)} ${iso.slice(t + 1, t + 13)}`;
}

const TIME_FUNCTIONS = new Set([
  'bin',
  'datefloor',
  'dateceil',
  'frommillis',
  'parsedate',
  'querystarttime',
  'queryendtime',
]);

function isTimeExpr(e: Expr): boolean {
  if (e.kind === 'field') return e.name === '@timestamp' || e.name === '@ingestionTime';
  if (e.kind === 'call') return TIME_FUNCTIONS.has(e.name);
  return false;
}

/** Output columns holding times, from the query's projections. */
export function timeColumns(ast: QueryAst): Set<string> {
  const out = new Set<string>(['@timestamp', '@ingestionTime']);
  for (const c of ast.commands) {
    const items =
      c.kind === 'fields' || c.kind === 'display'
        ? c.items
        : c.kind === 'stats'
          ? [...c.aggregates, ...c.by]
          : [];
    for (const p of items) {
      if (isTimeExpr(p.expr)) out.add(p.name);
      else if (p.alias) out.delete(p.alias);
      // earliest(@timestamp)/latest(@timestamp) are times too.
      if (
        p.expr.kind === 'call' &&
        (p.expr.name === 'earliest' ||
          p.expr.name === 'latest' ||
          p.expr.name === 'min' ||
          p.expr.name === 'max')
      ) {
        const a = p.expr.args[0];
        if (a && a.kind === 'field' && a.name === '@timestamp') out.add(p.name);
      }
    }
  }
  return out;
}

/** The `bin(…)` group column of the last `stats`, if any. */
export function binColumn(ast: QueryAst): string | undefined {
  let col: string | undefined;
  for (const c of ast.commands) {
    if (c.kind !== 'stats') continue;
    col = undefined;
    for (const p of c.by) if (p.expr.kind === 'call' && p.expr.name === 'bin') col = p.name;
  }
  return col;
}

export function toEpochMaybe(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}[T ]/.test(v)) {
    const ms = Date.parse(v.includes('T') ? v : v.replace(' ', 'T') + (v.endsWith('Z') ? '' : 'Z'));
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

/** A display string for one cell. */
export function formatValue(v: unknown, isTime: boolean): string {
  if (v === undefined || v === null) return '';
  if (isTime) {
    const ms = toEpochMaybe(v);
    if (ms !== undefined) return formatTimestamp(ms);
  }
  if (typeof v === 'string') return v;
  // Logs Insights shows a true/false result (a comparison, isempty(), ispresent(), …) as 1/0.
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return formatTimestamp(v.getTime());
  return jsonText(v);
}

/** Rows with exactly the displayed columns, formatted as the console shows them (for json/csv; nested values stay JSON). */
export function displayRows(fields: string[], rows: Row[], times: Set<string>): Record<string, unknown>[] {
  return rows.map((r) => {
    const o: Record<string, unknown> = {};
    for (const f of fields) {
      const v = r[f];
      if (v === undefined || v === null) o[f] = null;
      else if (times.has(f)) o[f] = formatValue(v, true);
      else if (typeof v === 'boolean') o[f] = v ? 1 : 0;
      else o[f] = v;
    }
    return o;
  });
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function humanCount(n: number): string {
  return n.toLocaleString('en-US');
}
