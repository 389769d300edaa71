/**
 * Per-row, stateless commands (filter, fields, parse, display, unmask) compiled into
 * `(row) => row | null` steps. A step that only reads returns the same row object (no allocation);
 * a step that writes fields returns a shallow copy, so the caller's row is never mutated and the
 * result is a plain object that can cross a worker-thread boundary.
 */
import type { Command, ParseCommand } from './ast.js';
import { compileExpr, type ExprContext } from './compile-expr.js';
import { escapeRegex, type QueryRegex, type RegexMatch, toJsRegex } from './regex.js';
import type { Row } from './types.js';
import { type Getter, isMissing, toStr, truthy } from './values.js';

export type RowStep = (row: Row) => Row | null;

/** The boolean field `outlier … mark=true` adds (the docs name no field; logferry's choice). */
export const OUTLIER_MARK = 'outlier';

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
    case 'accum':
    case 'sessionize':
      return [c.as];
    case 'expand':
      return [c.field.name];
    case 'addtotals':
      return c.row ? [c.fieldname] : [];
    case 'countFrequent':
      return [...c.fields.map((f) => f.name), '_approxcount'];
    case 'autoregress':
      return c.as !== undefined
        ? [c.as]
        : Array.from({ length: c.to - c.from + 1 }, (_, i) => `${c.field}_p${c.from + i}`);
    case 'outlier':
      return c.mark ? [...c.fields, OUTLIER_MARK] : c.fields;
    case 'filldown':
      return c.fields;
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

/**
 * logfmt: space-separated `key=value` pairs; a value may be double-quoted with backslash escapes; a
 * key without `=` is `true` (as go-logfmt reads it). Values stay strings (compare/aggregate convert).
 */
export function parseLogfmt(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= n) break;
    const ks = i;
    while (i < n && text[i] !== '=' && text[i] !== ' ' && text[i] !== '\t') i++;
    const key = text.slice(ks, i);
    if (i >= n || text[i] !== '=') {
      if (key) out[key] = true;
      continue;
    }
    i++; // =
    let value = '';
    if (text[i] === '"') {
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < n) {
          const e = text[i + 1];
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
        } else value += text[i++];
      }
      i++; // closing quote
    } else {
      const vs = i;
      while (i < n && text[i] !== ' ' && text[i] !== '\t') i++;
      value = text.slice(vs, i);
    }
    if (key) out[key] = value;
  }
  return out;
}

/** One CSV record (RFC 4180 quoting: `"a, b"`, `""` for a quote); values are not trimmed. */
export function parseCsvLine(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let i = 0;
  const n = text.length;
  let quoted = false;
  while (i < n) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cur += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else cur += ch;
      i++;
      continue;
    }
    if (ch === ',') {
      out.push(cur);
      cur = '';
    } else if (ch === '"' && cur === '') quoted = true;
    else if (ch === '\r' || ch === '\n') break;
    else cur += ch;
    i++;
  }
  out.push(cur);
  return out;
}

/** The regex of a parse command and the JS group name (or index) each output name reads. */
export function parseRegexPlan(c: ParseCommand & { pattern: { kind: 'regex' } }): {
  re: QueryRegex;
  readers: ((m: RegexMatch) => string | undefined)[];
} {
  const { re, names: reNames, groups } = toJsRegex(c.pattern.source, c.pattern.flags);
  const groupOf = new Map(reNames.map((n, i) => [n, groups[i]]));
  const positional = !c.names.every((n) => groupOf.has(n)) || reNames.length === 0;
  const readers = c.names.map((n, i) => {
    if (!positional) {
      const g = groupOf.get(n)!;
      return (m: RegexMatch) => m.groups?.[g];
    }
    return (m: RegexMatch) => m[i + 1];
  });
  return { re, readers };
}

function compileParse(c: ParseCommand, ctx: ExprContext): RowStep {
  const source = compileExpr(c.source, ctx);
  const names = c.names;
  const pattern = c.pattern;
  if (pattern.kind === 'regex') {
    const { re, readers } = parseRegexPlan({ ...c, pattern });
    return (row) => {
      const v = source(row);
      if (isMissing(v)) return row;
      const m = re.exec(toStr(v));
      if (!m) return row;
      const out: Row = { ...row };
      for (let i = 0; i < names.length; i++) {
        const g = readers[i](m);
        if (g !== undefined) out[names[i]] = g;
      }
      return out;
    };
  }
  if (pattern.kind === 'logfmt') {
    const name = names[0];
    return (row) => {
      const v = source(row);
      if (isMissing(v)) return row;
      const map = parseLogfmt(toStr(v));
      for (const _ in map) return { ...row, [name]: map };
      return row;
    };
  }
  if (pattern.kind === 'csv') {
    return (row) => {
      const v = source(row);
      if (isMissing(v)) return row;
      const values = parseCsvLine(toStr(v));
      const out: Row = { ...row };
      for (let i = 0; i < names.length && i < values.length; i++) out[names[i]] = values[i];
      return out;
    };
  }
  const re = globToRegex(pattern.text);
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
