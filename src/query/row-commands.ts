/**
 * Per-row, stateless commands (filter, fields, parse, display, unmask) compiled into
 * `(row) => row | null` steps. A step that only reads returns the same row object (no allocation);
 * a step that writes fields returns a shallow copy, so the caller's row is never mutated and the
 * result is a plain object that can cross a worker-thread boundary.
 */
import type { Command, ParseCommand } from './ast.js';
import { compileExpr, type ExprContext } from './compile-expr.js';
import { escapeRegex, toJsRegex } from './regex.js';
import type { Row } from './types.js';
import { type Getter, isMissing, toStr, truthy } from './values.js';

export type RowStep = (row: Row) => Row | null;

export const ROW_COMMANDS = new Set(['filter', 'fields', 'display', 'parse', 'unmask']);

/** Fields a per-row command writes (used for push-down safety and sort hoisting). */
export function writtenFields(c: Command): string[] {
  switch (c.kind) {
    case 'fields':
    case 'display':
      return c.items.filter((i) => i.alias !== undefined || i.expr.kind !== 'field').map((i) => i.name);
    case 'parse':
      return c.names;
    case 'stats':
      return [...c.by, ...c.aggregates].map((i) => i.name);
    case 'unnest':
      return [c.into];
    default:
      return [];
  }
}

/**
 * Glob → RegExp as Logs Insights parses globs: the pattern may match anywhere in the text; each
 * `*` captures lazily, except a trailing `*`, which takes the rest of the text.
 */
export function globToRegex(glob: string): RegExp {
  const parts = glob.split('*');
  let src = '';
  for (let i = 0; i < parts.length; i++) {
    src += escapeRegex(parts[i]);
    if (i < parts.length - 1) src += i === parts.length - 2 && parts[i + 1] === '' ? '(.*)' : '(.*?)';
  }
  return new RegExp(src, 's');
}

function compileParse(c: ParseCommand, ctx: ExprContext): RowStep {
  const source = compileExpr(c.source, ctx);
  const names = c.names;
  if (c.pattern.kind === 'regex') {
    const { re, names: reNames, groups } = toJsRegex(c.pattern.source, c.pattern.flags);
    const groupOf = new Map(reNames.map((n, i) => [n, groups[i]]));
    const jsNames = names.map((n) => groupOf.get(n) ?? n);
    return (row) => {
      const v = source(row);
      if (isMissing(v)) return row;
      const m = re.exec(toStr(v));
      if (!m?.groups) return row;
      const out: Row = { ...row };
      for (let i = 0; i < names.length; i++) {
        const g = m.groups[jsNames[i]];
        if (g !== undefined) out[names[i]] = g;
      }
      return out;
    };
  }
  const re = globToRegex(c.pattern.text);
  return (row) => {
    const v = source(row);
    if (isMissing(v)) return row;
    const m = re.exec(toStr(v));
    if (!m) return row;
    const out: Row = { ...row };
    for (let i = 0; i < names.length; i++) {
      const g = m[i + 1];
      if (g !== undefined) out[names[i]] = g;
    }
    return out;
  };
}

/** Compiles one per-row command; `null` when it is a no-op at row level (unmask, plain fields/display). */
export function compileRowCommand(c: Command, ctx: ExprContext): RowStep | null {
  switch (c.kind) {
    case 'filter': {
      const g = compileExpr(c.expr, ctx);
      return (row) => (truthy(g(row)) ? row : null);
    }
    case 'fields':
    case 'display': {
      // display computes like fields (`display a = "x" as isX`); it also sets the output columns.
      const computed = c.items.filter((i) => i.alias !== undefined || i.expr.kind !== 'field');
      if (computed.length === 0) return null;
      const names = computed.map((i) => i.name);
      const getters: Getter[] = computed.map((i) => compileExpr(i.expr, ctx));
      return (row) => {
        // Evaluate against the input row first: `fields a as b, b as a` swaps, as in a projection.
        const out: Row = { ...row };
        for (let i = 0; i < names.length; i++) {
          const v = getters[i](row);
          if (v === undefined) delete out[names[i]];
          else out[names[i]] = v;
        }
        return out;
      };
    }
    case 'parse':
      return compileParse(c, ctx);
    case 'unmask':
      // logferry stores the message as delivered.
      return null;
    default:
      return null;
  }
}
