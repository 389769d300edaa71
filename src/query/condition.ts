/**
 * Pipeline conditions (filter, modify, throttle keys, routes) are Logs Insights expressions,
 * compiled by the query engine's own parser and expression compiler, so a condition means exactly
 * what the same text means after `filter` in a query: `verb in ["get", "list", "watch"]`,
 * `@logStream like /^kube-/`, `responseObject.code >= 400`, `isblank(user.username)`.
 *
 * Fields are read from the record as the query engine sees the shipped document (core/document.ts):
 * `@message`, `@timestamp` (epoch ms), `@logStream`, `@log` (`owner:logGroup`), `@id`, plus
 * `@logGroup` (the bare log group name, a logferry extra); every other name is a parsed field, dotted
 * names walking nested objects (`responseObject.code`, `objectRef.resource`) with keys that contain
 * dots found too (`annotations.authorization.k8s.io/decision`). A parsed field never shadows a
 * system field. Missing fields are null: comparisons and `like` with null are false, `not (…)` of
 * them true, `in` false, arithmetic null; a condition keeps a record only when it is `true` or a
 * non-zero number. `now()` is the time the condition runs (not fixed at compile time).
 *
 * Each compiled condition is a chain of closures: evaluating a record walks no AST and allocates
 * nothing on the common paths (field reads, literal comparisons, `in` with literals, literal `like`).
 */
import { isLogferryError } from '../core/errors.js';
import type { LogRecord } from '../core/record.js';
import type { CallExpr, Expr } from './ast.js';
import { collectFields, compileExpr, type ExprContext } from './compile-expr.js';
import { formatProblem, parseQuery, type QueryProblem } from './parser.js';
import { type Getter, recordFieldGetter, truthy } from './values.js';

export type ConditionProblem = QueryProblem;

export type Condition = (record: LogRecord) => boolean;

export interface CompiledCondition {
  ok: true;
  test: Condition;
  /** Field names the condition reads (as written). */
  fields: ReadonlySet<string>;
  /** The parsed expression. */
  expr: Expr;
}

export interface ConditionError {
  ok: false;
  /** Every problem found, with 1-based line and column in the condition's own text. */
  problems: ConditionProblem[];
  /** The problems formatted with the source line and a caret under each column. */
  message: string;
}

export interface ConditionOptions {
  /** Clock for `now()` (epoch ms); defaults to Date.now. */
  now?: () => number;
}

const PREFIX = 'filter ';

function contextFor(opts: ConditionOptions): ExprContext {
  const clock = opts.now ?? Date.now;
  return {
    now: clock(),
    field: recordFieldGetter,
    call: (e: CallExpr) =>
      e.name === 'now' && e.args.length === 0 ? () => Math.floor(clock() / 1000) : undefined,
  };
}

function failure(text: string, problems: ConditionProblem[]): ConditionError {
  const head =
    problems.length === 1 ? 'expression has a problem' : `expression has ${problems.length} problems`;
  return {
    ok: false,
    problems,
    message: `${head}:\n${problems.map((p) => formatProblem(text, p)).join('\n')}`,
  };
}

/** Maps a problem in `filter <text>` back to the position in `text`. */
function shift(p: QueryProblem): ConditionProblem {
  return p.line === 1 ? { ...p, column: Math.max(1, p.column - PREFIX.length) } : p;
}

function compileText(
  text: string,
  opts: ConditionOptions,
): { ok: true; get: Getter; fields: Set<string>; expr: Expr } | ConditionError {
  if (text.trim() === '') return failure(text, [{ line: 1, column: 1, message: 'the expression is empty' }]);
  let ast: ReturnType<typeof parseQuery>;
  try {
    ast = parseQuery(PREFIX + text);
  } catch (e) {
    if (isLogferryError(e, 'QUERY_SYNTAX') && Array.isArray(e.details?.problems)) {
      return failure(text, (e.details.problems as QueryProblem[]).map(shift));
    }
    return failure(text, [{ line: 1, column: 1, message: (e as Error).message }]);
  }
  const [first, ...rest] = ast.commands;
  if (rest.length > 0) {
    const full = PREFIX + text;
    const pipe = full.lastIndexOf('|', rest[0].span.start.offset);
    const before = full.slice(0, pipe < 0 ? rest[0].span.start.offset : pipe);
    const line = before.split('\n').length;
    return failure(text, [
      shift({
        line,
        column: before.length - before.lastIndexOf('\n'),
        message: 'a condition is one expression; "|" would start another query command',
      }),
    ]);
  }
  if (first?.kind !== 'filter') {
    return failure(text, [{ line: 1, column: 1, message: 'a condition must be an expression' }]);
  }
  let get: Getter;
  try {
    get = compileExpr(first.expr, contextFor(opts));
  } catch (e) {
    const at = first.expr.span?.start;
    return failure(text, [
      shift({ line: at?.line ?? 1, column: at?.column ?? PREFIX.length + 1, message: (e as Error).message }),
    ]);
  }
  const fields = new Set<string>();
  collectFields(first.expr, fields);
  return { ok: true, get, fields, expr: first.expr };
}

/**
 * Compiles a condition. Never throws for bad text: every problem comes back with its position, for
 * the config loader to list with the others.
 */
export function compileCondition(
  text: string,
  opts: ConditionOptions = {},
): CompiledCondition | ConditionError {
  const c = compileText(text, opts);
  if (!c.ok) return c;
  const { get } = c;
  const test: Condition = (record) => truthy(get(record as unknown as Record<string, unknown>));
  return { ok: true, test, fields: c.fields, expr: c.expr };
}

export interface CompiledExpression {
  ok: true;
  /** The expression's value for a record (null/undefined when missing). */
  value: (record: LogRecord) => unknown;
  fields: ReadonlySet<string>;
  expr: Expr;
}

/** Compiles an expression whose value is used (throttle/sample/dedupe keys, computed fields). */
export function compileValueExpression(
  text: string,
  opts: ConditionOptions = {},
): CompiledExpression | ConditionError {
  const c = compileText(text, opts);
  if (!c.ok) return c;
  const { get } = c;
  return {
    ok: true,
    value: (r) => get(r as unknown as Record<string, unknown>),
    fields: c.fields,
    expr: c.expr,
  };
}

/** Compiles a condition or throws an Error carrying the formatted problems (for code, not config). */
export function mustCompileCondition(text: string, opts: ConditionOptions = {}): Condition {
  const c = compileCondition(text, opts);
  if (!c.ok) throw new Error(c.message);
  return c.test;
}

/** Compiles a value expression or throws an Error carrying the formatted problems. */
export function mustCompileExpression(
  text: string,
  opts: ConditionOptions = {},
): (record: LogRecord) => unknown {
  const c = compileValueExpression(text, opts);
  if (!c.ok) throw new Error(c.message);
  return c.value;
}
