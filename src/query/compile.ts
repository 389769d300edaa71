/**
 * Planner and executor. `compileQuery` turns the AST into:
 *   - `rowStage`: the leading per-row commands (filter, fields, parse, display, unmask) fused into one
 *     function — safe for worker threads; filters that follow a `sort` are hoisted before it when they
 *     cannot change its keys, so they run per row too;
 *   - a chain of push operators for the rest (sort, limit, dedup, stats, unnest, later per-row
 *     commands), fed by `execute` (everything) or `finish` (rows already through `rowStage`);
 *   - facts for readers: push-down filters, referenced fields, `aggregates`, `binMs`.
 * Logs Insights defaults: without `sort` and `stats`, results are newest first (`@timestamp desc`);
 * without `limit`, at most 10,000 rows; without `fields`/`display`, `@timestamp` and `@message` show.
 */
import { LogferryError } from '../core/errors.js';
import { isParseFailure } from '../core/pipeline.js';
import { parseLambda } from '../parsers/lambda-platform.js';
import { type Command, type Expr, exprKey, type QueryAst, type StatsCommand } from './ast.js';
import type { LookupTableData, SubqueryPlan } from './types.js';
import { collectFields, compileExpr, type ExprContext, isTimeExpr } from './compile-expr.js';
import { lookupFunction } from './functions/registry.js';
import { parseQuery, queryError, subqueriesOf } from './parser.js';
import { planLookup } from './lookup/operator.js';
import { RELEVANTFIELDS_COLUMNS, relevantfieldsOperator } from './relevant-fields.js';
import { appendcolsOperator, joinOperator, SUBQUERY_ROW_CAP, subqueryValues } from './subquery.js';
import { isPatternFamily } from './pattern/ast.js';
import { familyColumns, planPatternFamily } from './pattern/operator.js';
import {
  compileRowCommand,
  OUTLIER_MARK,
  parseRegexPlan,
  ROW_COMMANDS,
  type RowStep,
  writtenFields,
} from './row-commands.js';
import { floorTime } from './functions/datetime.js';
import {
  accumOperator,
  addtotalsOperator,
  autoregressOperator,
  dedupOperator,
  filldownOperator,
  fillmissingOperator,
  limitOperator,
  outlierOperator,
  parseMultiOperator,
  type Sink,
  sessionizeOperator,
  sortKeys,
  sortOperator,
  statsOperator,
  unnestOperator,
} from './stateful-commands.js';
import {
  type CompiledQuery,
  type CompileOptions,
  DEFAULT_RESULT_LIMIT,
  type ExecuteOptions,
  type QueryResult,
  type Row,
} from './types.js';
import { fieldGetter, TIME_FIELDS, toEpochMs, truthy } from './values.js';

/** Fields Logs Insights discovers in Lambda logs; derived from `@message` on read when a row lacks them. */
export const LAMBDA_FIELDS = new Set([
  '@type',
  '@requestId',
  '@duration',
  '@billedDuration',
  '@memorySize',
  '@maxMemoryUsed',
  '@initDuration',
  '@xrayTraceId',
  '@xraySegmentId',
]);

const DEFAULT_DISPLAY = ['@timestamp', '@message'];

/** How often (rows) `execute` checks the abort signal and yields. */
const ABORT_CHECK_EVERY = 1024;

function isStateful(c: Command): boolean {
  return (
    !ROW_COMMANDS.has(c.kind) ||
    (c.kind === 'parse' && c.multi === true) ||
    // `x in (subquery)` needs the subquery's result, which only the main thread holds.
    (c.kind === 'filter' && subqueriesOf(c.expr).length > 0)
  );
}

/** The text of a subquery (inside its parentheses): it compiles and scans as a query of its own. */
export function subqueryText(q: QueryAst): string {
  return q.text.slice(q.span.start.offset, q.span.end.offset);
}

/** Tables the query's lookup/cidrlookup commands name (subqueries included), with their position. */
export function lookupTablesOf(ast: QueryAst): { name: string; line: number; column: number }[] {
  const out: { name: string; line: number; column: number }[] = [];
  const walk = (q: QueryAst) => {
    for (const c of q.commands) {
      if (c.kind === 'lookup')
        out.push({ name: c.table, line: c.tableSpan.start.line, column: c.tableSpan.start.column });
      else if (c.kind === 'join' || c.kind === 'appendcols') walk(c.sub);
      else if (c.kind === 'filter') for (const sq of subqueriesOf(c.expr)) walk(sq);
    }
  };
  walk(ast);
  return out;
}

/** `countFrequent a, b` is `stats count(*) as _approxcount by a, b | sort _approxcount desc`. */
function countFrequentStats(c: Command & { kind: 'countFrequent' }): StatsCommand {
  const span = c.span;
  return {
    kind: 'stats',
    aggregates: [
      {
        expr: { kind: 'call', name: 'count', rawName: 'count', args: [], star: true, span },
        alias: '_approxcount',
        name: '_approxcount',
        span,
      },
    ],
    by: c.fields.map((f) => ({ expr: f, name: f.name, span: f.span })),
    span,
  };
}

/** Names a command adds to the displayed columns (after fields/stats chose them). */
function addedColumns(c: Command): string[] {
  switch (c.kind) {
    case 'unnest':
      return [c.into];
    case 'accum':
    case 'sessionize':
      return [c.as];
    case 'autoregress':
      return writtenFields(c);
    case 'addtotals':
      return c.row ? [c.fieldname] : [];
    case 'outlier':
      return c.mark ? [OUTLIER_MARK] : [];
    default:
      return [];
  }
}

function fieldsOf(e: Expr): Set<string> {
  const s = new Set<string>();
  collectFields(e, s);
  return s;
}

/**
 * Moves per-row commands that directly follow a `sort` in front of it when they don't write a field
 * the sort keys read: sorting commutes with them, and they then run in the parallel row stage.
 */
function hoistPastSorts(commands: Command[]): Command[] {
  const out = commands.slice();
  let moved = true;
  while (moved) {
    moved = false;
    for (let i = 0; i + 1 < out.length; i++) {
      const s = out[i];
      const n = out[i + 1];
      if (s.kind !== 'sort' || isStateful(n)) continue;
      const keys = new Set<string>();
      for (const k of s.keys) collectFields(k.expr, keys);
      if (writtenFields(n).some((w) => keys.has(w))) continue;
      out[i] = n;
      out[i + 1] = s;
      moved = true;
    }
  }
  return out;
}

/** Output columns as Logs Insights shows them (see module comment). */
function displayColumns(commands: Command[], lookups?: ReadonlyMap<string, LookupTableData>): string[] {
  let fields: string[] | undefined;
  let display: string[] | undefined;
  for (const c of commands) {
    if (c.kind === 'relevantfields') {
      fields = [...RELEVANTFIELDS_COLUMNS];
      display = undefined;
    } else if (c.kind === 'appendcols') {
      // The subquery's columns join the chosen ones (or the default ones).
      fields = [...(fields ?? DEFAULT_DISPLAY), ...displayColumns(c.sub.commands, lookups)];
    } else if (c.kind === 'lookup') {
      const table = lookups?.get(c.table);
      const keys = new Set(c.cidr ? [] : c.keys.map((k) => k.column));
      const names = c.outputs.length
        ? c.outputs.map((o) => o.as)
        : (table?.columns.filter((x) => !keys.has(x)) ?? []);
      if (fields) fields = [...fields, ...names];
    } else if (c.kind === 'stats') {
      fields = [...c.by, ...c.aggregates].map((p) => p.name);
      display = undefined;
    } else if (c.kind === 'fields') {
      fields = [...(fields ?? []), ...c.items.map((p) => p.name)];
    } else if (c.kind === 'display') {
      display = c.items.map((p) => p.name);
    } else if (isPatternFamily(c)) {
      fields = familyColumns(c, fields);
      display = undefined;
    } else if (c.kind === 'countFrequent') {
      fields = [...c.fields.map((f) => f.name), '_approxcount'];
      display = undefined;
    } else if (fields && addedColumns(c).length) {
      // Computed columns join the chosen ones (without fields/stats the default columns stay).
      fields = [...fields, ...addedColumns(c)];
    }
  }
  return [...new Set(display ?? fields ?? DEFAULT_DISPLAY)];
}

function timeColumns(commands: Command[], columns: string[]): string[] {
  const time = new Set<string>(TIME_FIELDS);
  for (const c of commands) {
    if (c.kind === 'fields' || c.kind === 'display') {
      for (const p of c.items) {
        if (isTimeExpr(p.expr, time)) time.add(p.name);
        else if (p.alias) time.delete(p.name);
      }
    } else if (c.kind === 'countFrequent') {
      time.clear();
    } else if (c.kind === 'stats') {
      const next = new Set<string>();
      for (const p of [...c.by, ...c.aggregates]) if (isTimeExpr(p.expr, time)) next.add(p.name);
      time.clear();
      for (const n of next) time.add(n);
    }
  }
  return columns.filter((c) => time.has(c));
}

function firstBinMs(commands: Command[]): number | undefined {
  const stats = commands.find((c): c is StatsCommand => c.kind === 'stats');
  if (!stats) return undefined;
  for (const b of stats.by) {
    if (b.expr.kind === 'call' && b.expr.name === 'bin' && b.expr.args[0]?.kind === 'duration') {
      return b.expr.args[0].ms;
    }
  }
  return undefined;
}

/** Raw fields the query reads before producing them itself. */
function referencedFields(commands: Command[], columns: string[]): Set<string> | '*' {
  const written = new Set<string>();
  const refs = new Set<string>();
  const read = (names: Iterable<string>) => {
    for (const n of names) if (!written.has(n)) refs.add(n);
  };
  let aggregated = false;
  for (const c of commands) {
    if (aggregated) break;
    switch (c.kind) {
      case 'filter':
        read(fieldsOf(c.expr));
        break;
      case 'fields':
      case 'display':
        for (const p of c.items) read(fieldsOf(p.expr));
        break;
      case 'sort':
        for (const k of c.keys) read(fieldsOf(k.expr));
        break;
      case 'parse':
        read(fieldsOf(c.source));
        break;
      case 'dedup':
        read(c.fields.map((f) => f.name));
        break;
      case 'unmask':
        read([c.field.name]);
        break;
      case 'unnest':
        read([c.field.name]);
        break;
      case 'stats':
        for (const p of [...c.aggregates, ...c.by]) read(fieldsOf(p.expr));
        if (c.by.some((b) => b.expr.kind === 'call' && b.expr.name === 'bin')) read(['@timestamp']);
        aggregated = true;
        break;
      case 'pattern':
      case 'diff':
        read(c.kind === 'pattern' ? fieldsOf(c.expr) : ['@message']);
        read(['@timestamp']);
        aggregated = true;
        break;
      case 'countFrequent':
        read(c.fields.map((f) => f.name));
        aggregated = true;
        break;
      case 'expand':
        read([c.field.name]);
        break;
      case 'accum':
      case 'autoregress':
        read([c.field]);
        break;
      case 'sessionize':
        read([...c.fields, '@timestamp']);
        break;
      case 'outlier':
        if (c.fields.some((f) => f.includes('*'))) return '*';
        read(c.fields);
        break;
      case 'join':
        // Later commands read `L.x` / `R.x`: any field of the row may be needed.
        return '*';
      case 'lookup':
        read(c.keys.map((k) => k.field));
        break;
      case 'relevantfields':
        if (c.fields.length === 0) return '*';
        read([...c.fields, ...fieldsOf(c.where)]);
        aggregated = true;
        break;
      case 'filldown':
      case 'addtotals':
        // Without names (or with patterns) they read every field a row has.
        if (c.fields.length === 0 || c.fields.some((f) => f.includes('*'))) return '*';
        read(c.fields);
        break;
      default:
        break;
    }
    for (const w of writtenFields(c)) written.add(w);
  }
  if (!aggregated) {
    read(columns);
    refs.add('@timestamp');
  }
  if ([...refs].some((r) => LAMBDA_FIELDS.has(r))) refs.add('@message');
  return refs;
}

/** Row-stage preamble: Lambda @-fields derived from `@message` when the query reads them and the row lacks them. */
function lambdaDeriver(lambdaFields: string[]): RowStep {
  return (row) => {
    let missing = false;
    for (const f of lambdaFields) if (row[f] === undefined) missing = true;
    const msg = row['@message'];
    if (!missing || typeof msg !== 'string') return row;
    const parsed = parseLambda(msg);
    if (isParseFailure(parsed)) return row;
    const out: Row = { ...row };
    for (const [k, v] of Object.entries(parsed)) if (k.startsWith('@') && out[k] === undefined) out[k] = v;
    return out;
  };
}

/**
 * Row-stage epilogue: `@timestamp` as epoch ms. Getters normalise on read, so this runs last and only
 * rows that survive the filters pay for the copy.
 */
const normaliseTimestamp: RowStep = (row) => {
  const ts = row['@timestamp'];
  return ts === undefined || typeof ts === 'number' ? row : { ...row, '@timestamp': toEpochMs(ts) };
};

function fuse(steps: RowStep[]): (row: Row) => Row | null {
  switch (steps.length) {
    case 1:
      return steps[0];
    case 2: {
      const [a, b] = steps;
      return (r) => {
        const x = a(r);
        return x === null ? null : b(x);
      };
    }
    default:
      return (r) => {
        let x: Row | null = r;
        for (let i = 0; i < steps.length && x !== null; i++) x = steps[i](x);
        return x;
      };
  }
}

/**
 * Makes calls that name a column of the latest stats — an aggregate (`count(*)`, however spelled)
 * or a `by` expression (`bin(5m)`) — read that column instead of computing anew.
 */
function postStatsContext(ctx: ExprContext, text: string, stats: StatsCommand): ExprContext {
  const columns = new Map<string, string>();
  const names = new Set<string>();
  for (const p of [...stats.by, ...stats.aggregates]) {
    names.add(p.name);
    if (p.expr.kind === 'call') columns.set(exprKey(p.expr), p.name);
  }
  return {
    ...ctx,
    call: (e) => {
      const col = columns.get(exprKey(e));
      if (col !== undefined) return fieldGetter(col);
      // A column named by its text (the OpenSearch planner's rewritten stats keep the names only).
      const src = text.slice(e.span.start.offset, e.span.end.offset).trim();
      if (lookupFunction(e.name)?.kind === 'aggregate' && names.has(src)) return fieldGetter(src);
      return undefined;
    },
  };
}

class Collector implements Sink {
  readonly rows: Row[] = [];
  private readonly getters;
  private readonly keep: string[];
  constructor(
    private readonly columns: string[],
    private readonly whole = false,
    keep: readonly string[] = [],
  ) {
    this.getters = columns.map((c) => fieldGetter(c));
    this.keep = keep.filter((k) => !columns.includes(k));
  }
  push(row: Row): boolean {
    if (this.whole) {
      // Subqueries: the displayed columns plus every field the row has.
      const out: Row = { ...row };
      for (let i = 0; i < this.columns.length; i++) {
        const v = this.getters[i](row);
        out[this.columns[i]] = v === undefined ? null : v;
      }
      this.rows.push(out);
      return true;
    }
    const out: Row = {};
    for (let i = 0; i < this.columns.length; i++) {
      const v = this.getters[i](row);
      out[this.columns[i]] = v === undefined ? null : v;
    }
    for (const k of this.keep) if (row[k] !== undefined) out[k] = row[k];
    this.rows.push(out);
    return true;
  }
  end(): void {}
}

function isAsyncIterable(x: unknown): x is AsyncIterable<Row> {
  return typeof (x as AsyncIterable<Row>)[Symbol.asyncIterator] === 'function';
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new LogferryError('QUERY_RUNTIME', 'query aborted');
}

/**
 * Runs the subqueries (nested ones first, innermost out) with `run` and keeps their results; `run`
 * reads the same source and time range as the outer query.
 */
export async function resolveSubqueries(
  plans: SubqueryPlan[],
  run: (plan: SubqueryPlan) => Promise<QueryResult>,
): Promise<void> {
  for (const p of plans) {
    if (p.result) continue;
    await resolveSubqueries(p.compiled.subqueries, run);
    p.result = await run(p);
  }
}

/** Compiles a query (text or parsed AST) into per-row and streaming closures. */
export function compileQuery(input: string | QueryAst, opts: CompileOptions = {}): CompiledQuery {
  const ast = typeof input === 'string' ? parseQuery(input) : input;
  const ctx: ExprContext = { now: opts.now ?? Date.now(), start: opts.start, end: opts.end };
  try {
    return build(ast, ctx, opts);
  } catch (e) {
    if (e instanceof LogferryError && e.code === 'QUERY_SYNTAX' && !e.details) {
      // The parser validates what it can; anything found only while compiling (an AST built by hand)
      // still gets the problem-list format, pointing at the start of the query.
      throw queryError(ast.text, [{ line: 1, column: 1, message: e.message }]);
    }
    throw e;
  }
}

function build(ast: QueryAst, ctx: ExprContext, opts: CompileOptions): CompiledQuery {
  const commands = hoistPastSorts(ast.commands);
  const resultLimit = opts.defaultLimit ?? DEFAULT_RESULT_LIMIT;
  // Subqueries: compiled from their own text (as a worker or a second scan will), run before the query.
  const plans = new Map<QueryAst, SubqueryPlan>();
  const subOpts = (cap: number): CompileOptions => ({
    now: ctx.now,
    start: ctx.start,
    end: ctx.end,
    lookups: opts.lookups,
    defaultLimit: cap,
    wholeRows: true,
  });
  const addPlan = (q: QueryAst, cap: number) => {
    const text = subqueryText(q);
    plans.set(q, { text, compiled: compileQuery(text, subOpts(cap)) });
  };
  for (const c of commands) {
    if (c.kind === 'join') addPlan(c.sub, SUBQUERY_ROW_CAP);
    else if (c.kind === 'appendcols') addPlan(c.sub, c.max);
    else if (c.kind === 'filter') for (const q of subqueriesOf(c.expr)) addPlan(q, SUBQUERY_ROW_CAP);
  }
  const resultOf = (q: QueryAst) => {
    const r = plans.get(q)?.result;
    if (!r)
      throw new LogferryError(
        'QUERY_RUNTIME',
        'a subquery has not run (the reader must resolve subqueries first)',
      );
    return r;
  };
  // lookup tables: checked now when the caller passed tables (a worker compiling the text has none).
  const tableOf = (c: Command & { kind: 'lookup' }) => {
    const t = opts.lookups?.get(c.table);
    if (!t) {
      throw queryError(ast.text, [
        {
          line: c.tableSpan.start.line,
          column: c.tableSpan.start.column,
          message: `lookup table '${c.table}' is not loaded; name it with --lookup ${c.table}=file.csv (or s3://bucket/key.csv)`,
        },
      ]);
    }
    return t;
  };
  if (opts.lookups) {
    const problems: { line: number; column: number; message: string }[] = [];
    for (const c of commands) {
      if (c.kind !== 'lookup') continue;
      const t = opts.lookups.get(c.table);
      const plan = t
        ? planLookup(c, t)
        : `lookup table '${c.table}' is not loaded; name it with --lookup ${c.table}=file.csv (or s3://bucket/key.csv)`;
      if (typeof plan === 'string')
        problems.push({ line: c.tableSpan.start.line, column: c.tableSpan.start.column, message: plan });
    }
    if (problems.length) throw queryError(ast.text, problems);
  }
  const firstStateful = commands.findIndex(isStateful);
  const prefix = firstStateful < 0 ? commands : commands.slice(0, firstStateful);
  const rest = firstStateful < 0 ? [] : commands.slice(firstStateful);

  const columns = displayColumns(commands, opts.lookups);
  const timeFields = timeColumns(commands, columns);
  const aggregates = commands.some(
    (c) =>
      c.kind === 'stats' || c.kind === 'countFrequent' || c.kind === 'relevantfields' || isPatternFamily(c),
  );
  const hasSort = commands.some((c) => c.kind === 'sort');
  const hasLimit = commands.some((c) => c.kind === 'limit');
  const refs = referencedFields(commands, columns);

  // Push-down: filters in the row prefix that read only fields no earlier command wrote.
  const pushdownFilters: Expr[] = [];
  const written = new Set<string>();
  for (const c of prefix) {
    if (c.kind === 'filter' && ![...fieldsOf(c.expr)].some((f) => written.has(f)))
      pushdownFilters.push(c.expr);
    for (const w of writtenFields(c)) written.add(w);
  }

  // Row stage.
  const lambdaRefs = refs === '*' ? [...LAMBDA_FIELDS] : [...refs].filter((r) => LAMBDA_FIELDS.has(r));
  const steps: RowStep[] = lambdaRefs.length > 0 ? [lambdaDeriver(lambdaRefs)] : [];
  for (const c of prefix) {
    const s = compileRowCommand(c, ctx);
    if (s) steps.push(s);
  }
  steps.push(normaliseTimestamp);
  const rowStage = fuse(steps);

  // Stateful rest, built back to front as a chain of sinks.
  type Factory = (next: Sink) => Sink;
  const factories: Factory[] = [];
  let localCtx = ctx;
  let pendingRow: RowStep[] = [];
  const flushRow = () => {
    if (pendingRow.length === 0) return;
    const f = fuse(pendingRow);
    pendingRow = [];
    factories.push((next) => ({
      push(row) {
        const r = f(row);
        return r === null ? true : next.push(r);
      },
      end() {
        next.end();
      },
    }));
  };
  // Logs Insights shows the newest events first unless the query orders them: a limit or dedup met
  // before any sort/stats works on the newest events, and a query without sort and stats ends in
  // newest-first order.
  let implicitSortPlaced = false;
  let lastStats: StatsCommand | undefined;
  const placeImplicitSort = (limitHint?: number) => {
    if (implicitSortPlaced) return;
    implicitSortPlaced = true;
    flushRow();
    const keys = [{ get: fieldGetter('@timestamp'), desc: true }];
    factories.push((next) => sortOperator(keys, limitHint, next));
  };
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (!isStateful(c)) {
      const s = compileRowCommand(c, localCtx);
      if (s) pendingRow.push(s);
      continue;
    }
    flushRow();
    switch (c.kind) {
      case 'sort': {
        implicitSortPlaced = true;
        const keys = sortKeys(c, localCtx);
        const nxt = rest[i + 1];
        // sort directly before limit n keeps n rows; a last sort without any limit keeps the result cap.
        const lastStateful = !rest.slice(i + 1).some(isStateful);
        const limitHint =
          nxt?.kind === 'limit' ? nxt.count : !hasLimit && lastStateful ? resultLimit : undefined;
        factories.push((next) => sortOperator(keys, limitHint, next));
        break;
      }
      case 'limit':
        // `limit any N`: any N events, in no particular order — no sort, and the scan stops early.
        if (c.any) implicitSortPlaced = true;
        else placeImplicitSort(c.count);
        factories.push((next) => limitOperator(c.count, next));
        break;
      case 'dedup':
        placeImplicitSort();
        factories.push((next) => dedupOperator(c, next));
        break;
      case 'unnest':
        factories.push((next) => unnestOperator(c.field.name, c.into, next));
        break;
      case 'expand':
        factories.push((next) => unnestOperator(c.field.name, c.field.name, next));
        break;
      case 'parse': {
        // Only `multi` parses are stateful (one row per match).
        if (c.pattern.kind !== 'regex') throw new LogferryError('INTERNAL', 'multi parse without a regex');
        const source = compileExpr(c.source, localCtx);
        const { re, readers } = parseRegexPlan({ ...c, pattern: c.pattern });
        factories.push((next) => parseMultiOperator(source, re, c.names, readers, next));
        break;
      }
      case 'accum':
        placeImplicitSort();
        factories.push((next) => accumOperator(c, next));
        break;
      case 'autoregress':
        placeImplicitSort();
        factories.push((next) => autoregressOperator(c, next));
        break;
      case 'filldown': {
        placeImplicitSort();
        factories.push((next) => filldownOperator(c, columns, next));
        break;
      }
      case 'addtotals':
        placeImplicitSort();
        factories.push((next) => addtotalsOperator(c, next));
        break;
      case 'outlier':
        placeImplicitSort();
        factories.push((next) => outlierOperator(c, next));
        break;
      case 'sessionize':
        placeImplicitSort();
        factories.push((next) => sessionizeOperator(c, next));
        break;
      case 'countFrequent': {
        implicitSortPlaced = true;
        const st = countFrequentStats(c);
        const sctx = localCtx;
        factories.push((next) => statsOperator(st, sctx, next));
        const keys = [{ get: fieldGetter('_approxcount'), desc: true }];
        factories.push((next) => sortOperator(keys, undefined, next));
        localCtx = postStatsContext(ctx, ast.text, st);
        lastStats = st;
        break;
      }
      case 'fillmissing': {
        const st = lastStats;
        const binItem = st?.by.find((b) => b.expr.kind === 'call' && b.expr.name === 'bin');
        const dur = binItem?.expr.kind === 'call' ? binItem.expr.args[0] : undefined;
        if (!st || !binItem || dur?.kind !== 'duration') {
          throw new LogferryError('QUERY_SYNTAX', 'fillmissing must follow a stats … by bin()');
        }
        const period = { amount: dur.amount, unit: dur.unit };
        const off = st.offset?.ms ?? 0;
        const step = (t: number) => floorTime(t - off - 1, period) + off;
        const others = st.by.filter((b) => b !== binItem).map((b) => b.name);
        const fills = c.fills.map((f) => ({ field: f.field, value: compileExpr(f.value, ctx)({}) ?? null }));
        factories.push((next) => fillmissingOperator(c, binItem.name, step, others, fills, next));
        break;
      }
      case 'filter': {
        // A filter with `x in (subquery)`: compiled per run, once the subquery's values are known.
        const fctx: ExprContext = { ...localCtx, subquery: (q, left) => subqueryValues(resultOf(q), left) };
        factories.push((next) => {
          const g = compileExpr(c.expr, fctx);
          return {
            push: (row) => (truthy(g(row)) ? next.push(row) : true),
            end: () => next.end(),
          };
        });
        break;
      }
      case 'join':
        factories.push((next) => joinOperator(c, resultOf(c.sub), next));
        break;
      case 'appendcols':
        factories.push((next) => appendcolsOperator(c, resultOf(c.sub), next));
        break;
      case 'lookup':
        factories.push((next) => {
          const plan = planLookup(c, tableOf(c));
          if (typeof plan === 'string') throw new LogferryError('QUERY_SYNTAX', plan);
          return plan.operator(next);
        });
        break;
      case 'relevantfields': {
        implicitSortPlaced = true;
        const rctx = localCtx;
        factories.push((next) => relevantfieldsOperator(c, rctx, next));
        break;
      }
      case 'stats': {
        implicitSortPlaced = true;
        const sctx = localCtx;
        factories.push((next) => statsOperator(c, sctx, next));
        localCtx = postStatsContext(ctx, ast.text, c);
        lastStats = c;
        break;
      }
      case 'pattern':
      case 'diff':
      case 'anomaly': {
        implicitSortPlaced = true;
        const plan = planPatternFamily(rest, i, localCtx, ast.text);
        i += plan.consumed;
        factories.push(plan.factory);
        break;
      }
      default:
        throw new LogferryError('INTERNAL', `no operator for ${c.kind}`);
    }
  }
  flushRow();
  if (!hasSort && !aggregates) placeImplicitSort(hasLimit ? undefined : resultLimit);
  if (!hasLimit) factories.push((next) => limitOperator(resultLimit, next));

  const makeChain = (collector: Collector): Sink => {
    let sink: Sink = collector;
    for (let i = factories.length - 1; i >= 0; i--) sink = factories[i](sink);
    return sink;
  };

  async function run(
    rows: AsyncIterable<Row> | Iterable<Row>,
    stage: ((row: Row) => Row | null) | null,
    options: ExecuteOptions | undefined,
  ): Promise<QueryResult> {
    const signal = options?.signal;
    const collector = new Collector(columns, opts.wholeRows === true, options?.keep);
    const chain = makeChain(collector);
    let scanned = 0;
    let matched = 0;
    const handle = (row: Row): boolean => {
      scanned++;
      const r = stage ? stage(row) : row;
      if (r === null) return true;
      matched++;
      return chain.push(r);
    };
    if (signal?.aborted) throw abortError(signal);
    if (isAsyncIterable(rows)) {
      for await (const row of rows) {
        if (!handle(row)) break;
        if (signal && scanned % ABORT_CHECK_EVERY === 0 && signal.aborted) throw abortError(signal);
      }
    } else {
      for (const row of rows) {
        if (!handle(row)) break;
        if (signal && scanned % ABORT_CHECK_EVERY === 0) {
          if (signal.aborted) throw abortError(signal);
          // Let an abort from a timer or another task be seen during long synchronous scans.
          await new Promise<void>((r) => setImmediate(r));
        }
      }
    }
    if (signal?.aborted) throw abortError(signal);
    chain.end();
    return {
      fields: columns,
      rows: collector.rows,
      stats: { recordsScanned: scanned, recordsMatched: matched },
      timeFields,
    };
  }

  const subqueries = [...plans.values()];
  return {
    ast,
    rowStage,
    execute: async (rows, o) => {
      if (subqueries.some((p) => !p.result)) {
        // In memory: the subqueries read the same rows (an async source is read into memory first).
        let all: Row[];
        if (Array.isArray(rows)) all = rows;
        else {
          all = [];
          if (isAsyncIterable(rows)) for await (const r of rows) all.push(r);
          else for (const r of rows) all.push(r);
        }
        await resolveSubqueries(subqueries, (p) => p.compiled.execute(all, o));
        return run(all, rowStage, o);
      }
      return run(rows, rowStage, o);
    },
    subqueries,
    finish: (rows, o) => run(rows, null, o),
    pushdownFilters,
    referencedFields: refs,
    aggregates,
    ...(firstBinMs(commands) !== undefined ? { binMs: firstBinMs(commands) } : {}),
  };
}
