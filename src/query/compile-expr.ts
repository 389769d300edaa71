/**
 * Compiles expression ASTs into closures `(row) => value` once per query, so evaluating a row is a
 * chain of direct calls: no AST walking, no per-row regex compilation, and no allocation on the
 * paths filters take (literal `like`, `in` with a Set, comparisons against constants).
 *
 * Semantics (see docs/query-language.md): missing fields are null; arithmetic with null or
 * non-numeric text is null; comparisons with null are false (so `x != "a"` drops rows without x,
 * and `not (x = "a")` keeps them); `like "s"` is a case-sensitive substring test.
 */
import { LogferryError } from '../core/errors.js';
import type { CallExpr, Expr, QueryAst } from './ast.js';
import { type CompiledArg, type FnContext, lookupFunction } from './functions/registry.js';
import { toJsRegex } from './regex.js';
import {
  compareValues,
  fieldGetter,
  type Getter,
  isMissing,
  looseEquals,
  TIME_FIELDS,
  toNumber,
  toStr,
  truthy,
} from './values.js';

export interface ExprContext extends FnContext {
  /** Overrides field reads (stats uses it to map aggregate calls to their slots). */
  field?: (name: string) => Getter;
  /** Resolves a call before the registry (stats maps aggregate calls to slots). */
  call?: (e: CallExpr) => Getter | undefined;
  /**
   * The values a subquery returned for `x in (subquery)`: its column named like the left field, or
   * its only column. Set by the planner once the subquery ran.
   */
  subquery?: (q: QueryAst, leftField: string | undefined) => unknown[];
}

const constant =
  (v: unknown): Getter =>
  () =>
    v;

function literalValue(e: Expr): { ok: true; value: unknown } | { ok: false } {
  switch (e.kind) {
    case 'string':
    case 'number':
    case 'boolean':
      return { ok: true, value: e.value };
    case 'null':
      return { ok: true, value: null };
    default:
      return { ok: false };
  }
}

function arithmetic(op: string, a: Getter, b: Getter): Getter {
  const num = (g: Getter) => (r: Record<string, unknown>) => toNumber(g(r));
  const x = num(a);
  const y = num(b);
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  switch (op) {
    case '+':
      return (r) => finite(x(r) + y(r));
    case '-':
      return (r) => finite(x(r) - y(r));
    case '*':
      return (r) => finite(x(r) * y(r));
    case '/':
      return (r) => finite(x(r) / y(r));
    case '%':
      return (r) => finite(x(r) % y(r));
    case '^':
      return (r) => finite(x(r) ** y(r));
    default:
      throw new LogferryError('INTERNAL', `unknown arithmetic operator ${op}`);
  }
}

/** Builds a matcher for `like` / `=~` against a compiled right side. */
function matcher(right: Expr, ctx: ExprContext): (s: string, r: Record<string, unknown>) => boolean {
  if (right.kind === 'regex') {
    // `/^kube-apiserver-audit/` and `/literal/` (no metacharacters, no flags) need no regex engine.
    const lit = /^(\^?)((?:[^\\^$.|?*+()[\]{}]|\\[/\-.])*)$/.exec(right.source);
    if (lit && right.flags === '') {
      const text = lit[2].replace(/\\(.)/g, '$1');
      return lit[1] ? (s) => s.startsWith(text) : (s) => s.includes(text);
    }
    const { re } = toJsRegex(right.source, right.flags);
    // test() on a non-global regex keeps no state between rows.
    return (s) => re.test(s);
  }
  if (right.kind === 'string') {
    const lit = right.value;
    return (s) => s.includes(lit);
  }
  const g = compileExpr(right, ctx);
  return (s, r) => {
    const v = g(r);
    return !isMissing(v) && s.includes(toStr(v));
  };
}

function regexMatcher(right: Expr, ctx: ExprContext): (s: string, r: Record<string, unknown>) => boolean {
  if (right.kind === 'string') {
    const { re } = toJsRegex(right.value, '');
    return (s) => re.test(s);
  }
  return matcher(right, ctx);
}

function membership(left: Getter, list: Expr, ctx: ExprContext, leftExpr?: Expr): Getter {
  if (list.kind !== 'list') throw new LogferryError('QUERY_SYNTAX', 'in expects a [list]');
  const literals = list.items.map(literalValue);
  if (list.subquery || literals.every((l) => l.ok)) {
    let values: unknown[];
    if (list.subquery) {
      if (!ctx.subquery) throw new LogferryError('QUERY_RUNTIME', 'the subquery of in (…) has not run');
      values = ctx.subquery(list.subquery, leftExpr?.kind === 'field' ? leftExpr.name : undefined);
    } else values = literals.map((l) => (l as { value: unknown }).value);
    const strings = new Set(values.filter((v): v is string => typeof v === 'string'));
    const numbers = new Set(values.map(toNumber).filter((n) => !Number.isNaN(n)));
    const bools = new Set(values.filter((v): v is boolean => typeof v === 'boolean'));
    return (r) => {
      const v = left(r);
      if (isMissing(v)) return null;
      if (typeof v === 'string' && strings.has(v)) return true;
      if (typeof v === 'boolean') return bools.has(v) || strings.has(String(v));
      const n = toNumber(v);
      if (!Number.isNaN(n) && numbers.has(n)) return true;
      return typeof v !== 'string' && strings.has(toStr(v));
    };
  }
  const items = list.items.map((i) => compileExpr(i, ctx));
  return (r) => {
    const v = left(r);
    if (isMissing(v)) return null;
    for (const it of items) if (looseEquals(v, it(r))) return true;
    return false;
  };
}

export function compileExpr(e: Expr, ctx: ExprContext): Getter {
  switch (e.kind) {
    case 'field':
      return ctx.field ? ctx.field(e.name) : fieldGetter(e.name);
    case 'string':
    case 'number':
    case 'boolean':
      return constant(e.value);
    case 'null':
      return constant(null);
    case 'duration':
      return constant(e.ms);
    case 'regex': {
      // A bare regex as a value (e.g. an argument) is its source text.
      return constant(e.source);
    }
    case 'list': {
      const items = e.items.map((i) => compileExpr(i, ctx));
      return (r) => items.map((g) => g(r));
    }
    case 'unary': {
      const g = compileExpr(e.operand, ctx);
      if (e.op === 'not') return (r) => !truthy(g(r));
      if (e.op === '-')
        return (r) => {
          const n = toNumber(g(r));
          return Number.isNaN(n) ? null : -n;
        };
      return (r) => {
        const n = toNumber(g(r));
        return Number.isNaN(n) ? null : n;
      };
    }
    case 'binary':
      return compileBinary(e, ctx);
    case 'call':
      return compileCall(e, ctx);
  }
}

function compileBinary(e: Extract<Expr, { kind: 'binary' }>, ctx: ExprContext): Getter {
  const a = compileExpr(e.left, ctx);
  switch (e.op) {
    case 'and': {
      const b = compileExpr(e.right, ctx);
      return (r) => truthy(a(r)) && truthy(b(r));
    }
    case 'or': {
      const b = compileExpr(e.right, ctx);
      return (r) => truthy(a(r)) || truthy(b(r));
    }
    case 'like':
    case '=~': {
      const m = e.op === '=~' ? regexMatcher(e.right, ctx) : matcher(e.right, ctx);
      return (r) => {
        const v = a(r);
        if (isMissing(v)) return false;
        return m(typeof v === 'string' ? v : toStr(v), r);
      };
    }
    case 'not like': {
      const m = matcher(e.right, ctx);
      return (r) => {
        const v = a(r);
        if (isMissing(v)) return false;
        return !m(typeof v === 'string' ? v : toStr(v), r);
      };
    }
    case 'in': {
      const g = membership(a, e.right, ctx, e.left);
      return (r) => g(r) === true;
    }
    case 'not in': {
      const g = membership(a, e.right, ctx, e.left);
      return (r) => g(r) === false;
    }
    default:
      break;
  }
  const lit = literalValue(e.right);
  if (e.op === '=' || e.op === '!=') {
    const want = e.op === '=';
    if (lit.ok && typeof lit.value === 'string') {
      // Fast path for the common `field = "text"`: exact string match first, numeric fallback after.
      const s = lit.value;
      const n = toNumber(s);
      return (r) => {
        const v = a(r);
        if (isMissing(v)) return false;
        if (typeof v === 'string') return (v === s || (!Number.isNaN(n) && toNumber(v) === n)) === want;
        return looseEquals(v, s) === want;
      };
    }
    const b = compileExpr(e.right, ctx);
    return (r) => {
      const x = a(r);
      const y = b(r);
      if (isMissing(x) || isMissing(y)) return false;
      return looseEquals(x, y) === want;
    };
  }
  const b = compileExpr(e.right, ctx);
  switch (e.op) {
    case '<':
      return (r) => compareValues(a(r), b(r)) < 0;
    case '<=':
      return (r) => compareValues(a(r), b(r)) <= 0;
    case '>':
      return (r) => compareValues(a(r), b(r)) > 0;
    case '>=':
      return (r) => compareValues(a(r), b(r)) >= 0;
    default:
      return arithmetic(e.op, a, b);
  }
}

function compileCall(e: CallExpr, ctx: ExprContext): Getter {
  const hooked = ctx.call?.(e);
  if (hooked) return hooked;
  const spec = lookupFunction(e.name);
  if (!spec) throw new LogferryError('QUERY_SYNTAX', `unknown function '${e.rawName}'`);
  if (spec.kind === 'aggregate') {
    throw new LogferryError('QUERY_SYNTAX', `the aggregate ${e.rawName}() can only be used in stats`);
  }
  const args: CompiledArg[] = e.args.map((a) => ({ expr: a, get: compileExpr(a, ctx) }));
  return spec.build(args, ctx);
}

/** Whether an expression yields an epoch-ms timestamp (for renderers). */
export function isTimeExpr(e: Expr, timeFields: ReadonlySet<string> = TIME_FIELDS): boolean {
  if (e.kind === 'field') return timeFields.has(e.name);
  if (e.kind === 'call') {
    const spec = lookupFunction(e.name);
    if (!spec) return false;
    if (spec.kind === 'scalar') return spec.returnsTime === true;
    return spec.returnsTime?.(e.args[0] ? isTimeExpr(e.args[0], timeFields) : false) ?? false;
  }
  return false;
}

/** Field names an expression reads (`@timestamp` for `bin`/`earliest`/`latest`). */
export function collectFields(e: Expr, out: Set<string>): void {
  switch (e.kind) {
    case 'field':
      out.add(e.name);
      return;
    case 'binary':
      collectFields(e.left, out);
      collectFields(e.right, out);
      return;
    case 'unary':
      collectFields(e.operand, out);
      return;
    case 'list':
      for (const i of e.items) collectFields(i, out);
      return;
    case 'call':
      if (e.name === 'bin' || e.name === 'earliest' || e.name === 'latest' || e.name === 'rate')
        out.add('@timestamp');
      for (const a of e.args) collectFields(a, out);
      return;
    default:
      return;
  }
}
