/**
 * Naive baseline for bench/query-engine.ts: the straightforward way to run a parsed Logs Insights
 * query — walk the AST for every row, build a RegExp at every evaluation, resolve dotted names by
 * splitting them each time, copy every row, sort everything then slice, group by JSON keys. Same
 * parser and same results as the engine for the benchmark's queries; only the execution differs.
 */
import type { Command, Expr, QueryAst } from '../../src/query/ast.js';

type Row = Record<string, unknown>;

function get(row: Row, name: string): unknown {
  if (row[name] !== undefined) return row[name];
  let cur: unknown = row;
  for (const p of name.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Row)[p];
  }
  return cur;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
}

function eq(a: unknown, b: unknown): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return false;
  const x = num(a);
  const y = num(b);
  if (!Number.isNaN(x) && !Number.isNaN(y)) return x === y;
  return String(a) === String(b);
}

function evaluate(e: Expr, row: Row): unknown {
  switch (e.kind) {
    case 'field': {
      const v = get(row, e.name);
      return e.name === '@timestamp' && typeof v === 'string' ? Date.parse(v) : v;
    }
    case 'string':
    case 'number':
    case 'boolean':
      return e.value;
    case 'null':
      return null;
    case 'regex':
      return e.source;
    case 'list':
      return e.items.map((i) => evaluate(i, row));
    case 'unary':
      return e.op === 'not' ? evaluate(e.operand, row) !== true : -num(evaluate(e.operand, row));
    case 'call': {
      if (e.name === 'bin' && e.args[0]?.kind === 'duration') {
        const ts = evaluate({ kind: 'field', name: '@timestamp', span: e.span }, row) as number;
        return Math.floor(ts / e.args[0].ms) * e.args[0].ms;
      }
      if (e.name === 'ispresent') {
        const v = evaluate(e.args[0], row);
        return v !== undefined && v !== null;
      }
      throw new Error(`naive interpreter: no function ${e.name}`);
    }
    case 'binary': {
      const l = evaluate(e.left, row);
      switch (e.op) {
        case 'and':
          return l === true && evaluate(e.right, row) === true;
        case 'or':
          return l === true || evaluate(e.right, row) === true;
        case 'like':
        case 'not like': {
          if (l === undefined || l === null) return false;
          const hit =
            e.right.kind === 'regex'
              ? new RegExp(e.right.source, e.right.flags).test(String(l))
              : String(l).includes(String(evaluate(e.right, row)));
          return e.op === 'like' ? hit : !hit;
        }
        case 'in':
        case 'not in': {
          if (l === undefined || l === null) return false;
          const hit = (evaluate(e.right, row) as unknown[]).some((x) => eq(l, x));
          return e.op === 'in' ? hit : !hit;
        }
        case '=':
          return eq(l, evaluate(e.right, row));
        case '!=':
          return l !== undefined && l !== null && !eq(l, evaluate(e.right, row));
        default: {
          const r = evaluate(e.right, row);
          const a = num(l);
          const b = num(r);
          if (e.op === '<') return a < b;
          if (e.op === '<=') return a <= b;
          if (e.op === '>') return a > b;
          if (e.op === '>=') return a >= b;
          throw new Error(`naive interpreter: no operator ${e.op}`);
        }
      }
    }
    default:
      throw new Error(`naive interpreter: no ${e.kind}`);
  }
}

function cmp(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return 1;
  if (b === undefined || b === null) return -1;
  return (a as number) < (b as number) ? -1 : 1;
}

/** Runs the query over all rows; returns the displayed rows. */
export function naiveRun(ast: QueryAst, input: Iterable<Row>): Row[] {
  let rows: Row[] = [];
  for (const r of input) rows.push({ ...r });
  let columns: string[] | undefined;
  let sorted = false;
  let aggregated = false;
  for (const c of ast.commands as Command[]) {
    switch (c.kind) {
      case 'filter':
        rows = rows.filter((r) => evaluate(c.expr, r) === true);
        break;
      case 'fields':
        columns = [...(columns ?? []), ...c.items.map((i) => i.name)];
        rows = rows.map((r) => {
          const o = { ...r };
          for (const i of c.items) o[i.name] = evaluate(i.expr, r);
          return o;
        });
        break;
      case 'sort':
        sorted = true;
        rows.sort((a, b) => {
          for (const k of c.keys) {
            const d = cmp(evaluate(k.expr, a), evaluate(k.expr, b));
            if (d !== 0) return k.direction === 'desc' ? -d : d;
          }
          return 0;
        });
        break;
      case 'limit':
        rows = rows.slice(0, c.count);
        break;
      case 'stats': {
        aggregated = true;
        const groups = new Map<string, { keys: unknown[]; n: number }>();
        for (const r of rows) {
          const keys = c.by.map((b) => evaluate(b.expr, r));
          const k = JSON.stringify(keys);
          const g = groups.get(k) ?? { keys, n: 0 };
          g.n++;
          groups.set(k, g);
        }
        columns = [...c.by.map((b) => b.name), ...c.aggregates.map((a) => a.name)];
        rows = [...groups.values()].map((g) => {
          const o: Row = {};
          c.by.forEach((b, i) => {
            o[b.name] = g.keys[i];
          });
          o[c.aggregates[0].name] = g.n; // the benchmark's stats are count(*)
          return o;
        });
        break;
      }
      default:
        throw new Error(`naive interpreter: no command ${c.kind}`);
    }
  }
  if (!sorted && !aggregated) rows.sort((a, b) => cmp(get(b, '@timestamp'), get(a, '@timestamp')));
  const cols = columns ?? ['@timestamp', '@message'];
  return rows.slice(0, 10_000).map((r) => Object.fromEntries(cols.map((c) => [c, get(r, c) ?? null])));
}
