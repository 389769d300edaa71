/**
 * Operators over a subquery's result: `join` (hash join on one key, inner or left), `appendcols`
 * (columns appended row by row, by position) and the value list of `x in (subquery)`. The subquery
 * runs first, over the same source and time range as the query (the runner decides how: a second scan
 * of the archive, or the same in-memory rows), and its rows are held in memory; a subquery returns at
 * most `SUBQUERY_ROW_CAP` rows unless it says `limit n` itself (n ≤ 100,000).
 */
import { LogferryError } from '../core/errors.js';
import type { AppendcolsCommand, JoinCommand } from './ast.js';
import type { Sink } from './stateful-commands.js';
import type { QueryResult, Row } from './types.js';
import { fieldGetter, isMissing, toNumber, toStr } from './values.js';

/** Rows a subquery returns when it sets no `limit` (the documented maximum of `limit`). */
export const SUBQUERY_ROW_CAP = 100_000;

/** A subquery's result with whole rows (`rows`) and the columns it would display (`fields`). */
export type SubqueryResult = QueryResult;

/** Join/`in` key: numbers and number-like text compare numerically (as `=` does), the rest as text. */
export function joinKey(v: unknown): string | undefined {
  if (isMissing(v)) return undefined;
  if (typeof v === 'number') return Number.isNaN(v) ? undefined : `n${v}`;
  if (typeof v === 'boolean') return `s${v}`;
  const s = toStr(v);
  const t = s.trim();
  if (t !== '') {
    const n = toNumber(t);
    if (!Number.isNaN(n)) return `n${n}`;
  }
  return `s${s}`;
}

/** The values of `x in (subquery)`: the subquery's column named like `x`, else its only column. */
export function subqueryValues(result: SubqueryResult, leftField: string | undefined): unknown[] {
  let column: string | undefined;
  if (
    leftField !== undefined &&
    (result.fields.includes(leftField) || result.rows.some((r) => leftField in r))
  )
    column = leftField;
  else if (result.fields.length === 1) column = result.fields[0];
  if (column === undefined) {
    throw new LogferryError(
      'QUERY_RUNTIME',
      `the subquery of ${leftField ?? 'in'} in (…) returns the columns ${result.fields.join(', ')}; end it with \`fields ${leftField ?? '<name>'}\` so it returns the values to match`,
    );
  }
  const get = fieldGetter(column);
  const out: unknown[] = [];
  for (const r of result.rows) {
    const v = get(r);
    if (!isMissing(v)) out.push(v);
  }
  return out;
}

/**
 * `join`: every row is matched with the subquery rows whose right field equals its left field. The
 * output row keeps the left row's fields and adds the aliases as maps (`L.x` reads the left row,
 * `R.x` the right one). inner: rows without a match are dropped; left: they pass with no `R`.
 * Several matches give one row each (in the subquery's order).
 */
export function joinOperator(c: JoinCommand, right: SubqueryResult, next: Sink): Sink {
  const rightGet = fieldGetter(c.rightField);
  const index = new Map<string, Row[]>();
  for (const r of right.rows) {
    const k = joinKey(rightGet(r));
    if (k === undefined) continue;
    const list = index.get(k);
    if (list) list.push(r);
    else index.set(k, [r]);
  }
  const leftGet = fieldGetter(c.leftField);
  return {
    push(row) {
      const k = joinKey(leftGet(row));
      const matches = k === undefined ? undefined : index.get(k);
      if (!matches) {
        if (c.type === 'left') return next.push({ ...row, [c.left]: row });
        return true;
      }
      for (const m of matches) if (!next.push({ ...row, [c.left]: row, [c.right]: m })) return false;
      return true;
    },
    end() {
      next.end();
    },
  };
}

/**
 * `appendcols`: the i-th row gets the columns of the subquery's i-th row (at most `max` subquery
 * rows). Without `override` a field the row already has keeps its value; rows past the subquery's
 * end pass unchanged.
 */
export function appendcolsOperator(c: AppendcolsCommand, sub: SubqueryResult, next: Sink): Sink {
  const rows = sub.rows.length > c.max ? sub.rows.slice(0, c.max) : sub.rows;
  const getters = sub.fields.map((f) => [f, fieldGetter(f)] as const);
  let i = 0;
  return {
    push(row) {
      if (i >= rows.length) return next.push(row);
      const s = rows[i++];
      const out: Row = { ...row };
      for (const [f, g] of getters) {
        const v = g(s);
        if (v === undefined) continue;
        if (c.override || isMissing(out[f])) out[f] = v;
      }
      return next.push(out);
    },
    end() {
      next.end();
    },
  };
}
