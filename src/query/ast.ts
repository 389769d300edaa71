/**
 * AST of the CloudWatch Logs Insights query language as logferry parses it. Every node carries a
 * source span (1-based line and column, 0-based offset) so errors, renderers and push-down
 * translators can point back into the query text. Nodes are plain JSON-able objects: readers (S3,
 * OpenSearch) may walk them to push filters down, so shapes here are a stable contract.
 */

/** A position in the query text. `line`/`column` are 1-based; `offset` is the 0-based UTF-16 index. */
export interface Pos {
  line: number;
  column: number;
  offset: number;
}

/** Half-open span [start, end) in the query text. */
export interface Span {
  start: Pos;
  end: Pos;
}

// ---------------------------------------------------------------- expressions

/** A field reference: `@timestamp`, `verb`, `objectRef.name`, `user.extra.sessionName.0`, `` `a b` ``. */
export interface FieldRef {
  kind: 'field';
  /** The name as Logs Insights sees it (backticks removed; dots kept: resolution is by exact key first, then by walking). */
  name: string;
  span: Span;
}

export interface StringLit {
  kind: 'string';
  value: string;
  span: Span;
}

export interface NumberLit {
  kind: 'number';
  value: number;
  span: Span;
}

export interface BooleanLit {
  kind: 'boolean';
  value: boolean;
  span: Span;
}

export interface NullLit {
  kind: 'null';
  span: Span;
}

/** `/pattern/flags` — flags as written (`i`, `m`, `s`, …); JavaScript RegExp syntax plus `(?<name>…)`. */
export interface RegexLit {
  kind: 'regex';
  source: string;
  flags: string;
  span: Span;
}

/** A time period such as `5m`, `1h`, `30s`, `100ms`, `1d`, `1w`, `1mo`, `1q`, `1y` (argument of `bin`, `datefloor`, …). */
export interface DurationLit {
  kind: 'duration';
  /** Text as written, e.g. `5m`. */
  text: string;
  /** Amount and unit separated out; `ms` is the fixed width (months, quarters, years use calendar arithmetic). */
  amount: number;
  unit: DurationUnit;
  /** Width in milliseconds (for mo/q/y: an approximation of 30/91/365 days, used only for display). */
  ms: number;
  span: Span;
}

export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w' | 'mo' | 'q' | 'y';

/** `[a, b, c]` — right-hand side of `in` / `not in`. */
export interface ListLit {
  kind: 'list';
  items: Expr[];
  /** `x in (SOURCE 'g' | filter … | fields x)`: the values come from a subquery (items is empty). */
  subquery?: QueryAst;
  span: Span;
}

export type UnaryOp = 'not' | '-' | '+';

export interface UnaryExpr {
  kind: 'unary';
  op: UnaryOp;
  operand: Expr;
  span: Span;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^';
export type ComparisonOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type LogicalOp = 'and' | 'or';
/**
 * `like` / `not like`: right side a string (case-sensitive substring) or a regex literal.
 * `=~` is the same as `like` with a regex. `in` / `not in`: right side a ListLit.
 * `==` is normalised to `=`.
 */
export type MatchOp = 'like' | 'not like' | '=~' | 'in' | 'not in';
export type BinaryOp = ArithmeticOp | ComparisonOp | LogicalOp | MatchOp;

export interface BinaryExpr {
  kind: 'binary';
  op: BinaryOp;
  left: Expr;
  right: Expr;
  span: Span;
}

/** A function call; `name` is lowercased for lookup, `rawName` as written. `count(*)` has `star: true` and no args. */
export interface CallExpr {
  kind: 'call';
  name: string;
  rawName: string;
  args: Expr[];
  star?: boolean;
  span: Span;
}

export type Expr =
  | FieldRef
  | StringLit
  | NumberLit
  | BooleanLit
  | NullLit
  | RegexLit
  | DurationLit
  | ListLit
  | UnaryExpr
  | BinaryExpr
  | CallExpr;

// ---------------------------------------------------------------- commands

/** One projected item: `expr [as alias]`. `name` is the output column: alias, else field name, else source text. */
export interface Projection {
  expr: Expr;
  alias?: string;
  /** Output column name (alias, or the field name, or the expression's source text such as `count(*)`). */
  name: string;
  span: Span;
}

/** `fields a, b as c, concat(x, y) as z` — adds/overwrites fields and sets the displayed columns. */
export interface FieldsCommand {
  kind: 'fields';
  items: Projection[];
  span: Span;
}

/** `display a, b` — only sets the displayed columns (the last `display` wins). */
export interface DisplayCommand {
  kind: 'display';
  items: Projection[];
  span: Span;
}

/**
 * `filter expr`; also what `where` (its alias), `filterIndex` (a filter on an indexed field; here a
 * plain filter, pruned by partition where the archive is partitioned by the field) and `SOURCE`
 * (a filter on `@log`) become. `keyword` is the word the query used.
 */
export interface FilterCommand {
  kind: 'filter';
  expr: Expr;
  keyword?: 'where' | 'filterIndex' | 'SOURCE';
  span: Span;
}

/** `stats agg(x) [as a], … [by k [as b], bin(5m), …]`. Aggregate items may combine aggregates arithmetically. */
export interface StatsCommand {
  kind: 'stats';
  aggregates: Projection[];
  by: Projection[];
  /** `by bin(5m) offset 1h`: bins start at the offset instead of at the epoch-aligned boundary. */
  offset?: DurationLit;
  span: Span;
}

export interface SortKey {
  expr: Expr;
  direction: 'asc' | 'desc';
  span: Span;
}

export interface SortCommand {
  kind: 'sort';
  keys: SortKey[];
  span: Span;
}

export interface LimitCommand {
  kind: 'limit';
  count: number;
  /** `limit any N`: any N matching events, in no particular order; the scan may stop early. */
  any?: boolean;
  span: Span;
}

/**
 * `parse [field] 'glob * with * stars' as a, b` or `parse [field] /regex (?<name>…)/`.
 * `source` defaults to `@message`. For globs `names` are the `as` names in order; for a regex
 * they are the named groups in order.
 */
export interface ParseCommand {
  kind: 'parse';
  source: Expr;
  /**
   * glob: `"a=* b=*" as x, y`; regex: `/…(?<name>…)…/` (or unnamed groups named by `as`);
   * logfmt: `logfmt as lf` (a map in `names[0]`); csv: `csv as a, b, c`.
   */
  pattern:
    | { kind: 'glob'; text: string; span: Span }
    | RegexLit
    | { kind: 'logfmt'; span: Span }
    | { kind: 'csv'; span: Span };
  names: string[];
  /** Regex `multi`: one row per match instead of the first match only. */
  multi?: boolean;
  span: Span;
}

/** `dedup a, b` — keeps the first row for each distinct combination (in the order rows arrive at it). */
export interface DedupCommand {
  kind: 'dedup';
  fields: FieldRef[];
  span: Span;
}

/** `unmask(@message)` / `unmask @message` — here the message as stored (logferry keeps no masked/unmasked pair). */
export interface UnmaskCommand {
  kind: 'unmask';
  field: FieldRef;
  span: Span;
}

/** `unnest field into alias` — one row per element of a JSON list (newest docs). */
export interface UnnestCommand {
  kind: 'unnest';
  field: FieldRef;
  into: string;
  span: Span;
}

/** `fillmissing [with v for f, …]` — rows for empty bins after `stats … by bin()`. */
export interface FillmissingCommand {
  kind: 'fillmissing';
  fills: { value: Expr; field: string }[];
  span: Span;
}

/** `filldown [f1 f2 cpu*]` — carries the last non-null value forward (no fields: all fields). */
export interface FilldownCommand {
  kind: 'filldown';
  fields: string[];
  span: Span;
}

/** `addtotals [fieldname=N] [row=b] [col=b] [f1, f2]` — row totals and a summary row. */
export interface AddtotalsCommand {
  kind: 'addtotals';
  fieldname: string;
  row: boolean;
  col: boolean;
  fields: string[];
  span: Span;
}

/** `accum f [as out]` — running sum. */
export interface AccumCommand {
  kind: 'accum';
  field: string;
  as: string;
  span: Span;
}

/** `autoregress f [as a] [p=N[-M]]` — copies of f from the N…M previous rows. */
export interface AutoregressCommand {
  kind: 'autoregress';
  field: string;
  as?: string;
  from: number;
  to: number;
  span: Span;
}

/** `outlier [action=remove|transform] [param=n] [uselower=b] [mark=b] f …` — IQR outliers. */
export interface OutlierCommand {
  kind: 'outlier';
  action: 'remove' | 'transform';
  param: number;
  uselower: boolean;
  mark: boolean;
  fields: string[];
  span: Span;
}

/** `sessionize f[, f…] [maxspan d] [as out]` — session ids by identity and inactivity gap. */
export interface SessionizeCommand {
  kind: 'sessionize';
  fields: string[];
  maxspanMs: number;
  as: string;
  span: Span;
}

/** `countFrequent f[, f…]` (or `count_frequent`) — count per combination, most frequent first. */
export interface CountFrequentCommand {
  kind: 'countFrequent';
  fields: FieldRef[];
  span: Span;
}

/** `expand f` — one row per element of f, the element replacing f. */
export interface ExpandCommand {
  kind: 'expand';
  field: FieldRef;
  span: Span;
}

/**
 * `join [type=inner|left] left=L right=R where L.f = R.f (subquery)`: each row joined with the rows of
 * the subquery whose field equals; `L.x` / `R.x` read the left / right row.
 */
export interface JoinCommand {
  kind: 'join';
  type: 'inner' | 'left';
  left: string;
  right: string;
  leftField: string;
  rightField: string;
  sub: QueryAst;
  span: Span;
}

/** `appendcols [override=b] [max=n] (subquery)`: the subquery's columns, row by row by position. */
export interface AppendcolsCommand {
  kind: 'appendcols';
  override: boolean;
  max: number;
  sub: QueryAst;
  span: Span;
}

/**
 * `lookup table f [as logField], … [OUTPUT|OUTPUTNEW out [as name], …]` and
 * `cidrlookup table ipField [as cidrColumn] OUTPUT|OUTPUTNEW out [as name], …`.
 */
export interface LookupCommand {
  kind: 'lookup';
  cidr: boolean;
  table: string;
  tableSpan: Span;
  /** lookup: table column = log field pairs; cidrlookup: one pair (cidr column, IP field), column '' = default. */
  keys: { column: string; field: string }[];
  mode: 'OUTPUT' | 'OUTPUTNEW';
  /** Empty: every column of the table that is not a key column. */
  outputs: { column: string; as: string }[];
  span: Span;
}

/** `relevantfields [f1, f2, …] where condition`. */
export interface RelevantfieldsCommand {
  kind: 'relevantfields';
  fields: string[];
  where: Expr;
  span: Span;
}

export type Command =
  | JoinCommand
  | AppendcolsCommand
  | LookupCommand
  | RelevantfieldsCommand
  | FillmissingCommand
  | FilldownCommand
  | AddtotalsCommand
  | AccumCommand
  | AutoregressCommand
  | OutlierCommand
  | SessionizeCommand
  | CountFrequentCommand
  | ExpandCommand
  | FieldsCommand
  | DisplayCommand
  | FilterCommand
  | StatsCommand
  | SortCommand
  | LimitCommand
  | ParseCommand
  | DedupCommand
  | UnmaskCommand
  | UnnestCommand
  | PatternFamilyCommand;

export type CommandKind = Command['kind'];

export interface QueryAst {
  kind: 'query';
  /** The original text (spans index into it). */
  text: string;
  commands: Command[];
  span: Span;
}

/**
 * A canonical text for an expression, independent of spacing and of the case of function names
 * (`COUNT( * )` and `count(*)` give the same key): later commands name a stats column by the
 * expression that made it (`stats count(*) by bin(5m) | sort bin(5m)`), however it was spelled.
 */
export function exprKey(e: Expr): string {
  switch (e.kind) {
    case 'field':
      return `\`${e.name}\``;
    case 'string':
      return JSON.stringify(e.value);
    case 'number':
      return String(e.value);
    case 'boolean':
      return String(e.value);
    case 'null':
      return 'null';
    case 'regex':
      return `/${e.source}/${e.flags}`;
    case 'duration':
      return `${e.amount}${e.unit}`;
    case 'list':
      return e.subquery
        ? `(${e.subquery.text.slice(e.subquery.span.start.offset, e.subquery.span.end.offset)})`
        : `[${e.items.map(exprKey).join(',')}]`;
    case 'unary':
      return `(${e.op} ${exprKey(e.operand)})`;
    case 'binary':
      return `(${exprKey(e.left)} ${e.op} ${exprKey(e.right)})`;
    case 'call':
      return `${e.name}(${e.star ? '*' : e.args.map(exprKey).join(',')})`;
  }
}

// ---------------------------------------------------------------- pattern, diff/logcompare, anomaly (src/query/pattern/)

/** `pattern <field or string expression>` — clusters the values into templates. */
export interface PatternCommand {
  kind: 'pattern';
  expr: Expr;
  span: Span;
}

export type DiffPeriod = 'previousPeriod' | 'previousDay' | 'previousWeek' | 'previousMonth';

/**
 * `diff [previousPeriod | previousDay | previousWeek | previousMonth]` or
 * `logcompare timeshift <duration>`: patterns of the query window against a baseline window read
 * from the same source.
 */
export interface DiffCommand {
  kind: 'diff';
  period: DiffPeriod;
  /** `logcompare timeshift 2h`: the baseline is the window shifted back by this much. */
  shift?: DurationLit;
  span: Span;
}

/** `anomaly` (after `pattern`): flags the five documented kinds of anomaly per pattern. */
export interface AnomalyCommand {
  kind: 'anomaly';
  span: Span;
}

export type PatternFamilyCommand = PatternCommand | DiffCommand | AnomalyCommand;
