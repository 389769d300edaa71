/**
 * Recursive-descent parser for the Logs Insights language. Produces the AST in ast.ts with source
 * spans, and reports **every** problem it finds (lexical, syntactic, unknown commands/functions,
 * wrong arity, aggregates in the wrong place) in one `LogferryError('QUERY_SYNTAX')` whose message
 * shows each problem with its line, column and a caret under the source line. After an error inside
 * a command the parser skips to the next `|` and carries on, so later problems are found too.
 *
 * Expression precedence, lowest first: `or`; `and`; prefix `not`; comparison and matching (`=`, `==`,
 * `!=`, `<`, `<=`, `>`, `>=`, `like`, `not like`, `=~`, `in`, `not in`); `+ -`; `* / %`; unary `- +`;
 * `^` (right-associative); primaries.
 */
import { LogferryError } from '../core/errors.js';
import type {
  BinaryOp,
  CallExpr,
  Command,
  Expr,
  FieldRef,
  ParseCommand,
  Pos,
  Projection,
  QueryAst,
  SortKey,
  Span,
} from './ast.js';
import { exprKey } from './ast.js';
import { parsePatternFamily } from './pattern/ast.js';
import { FUNCTION_NAMES, lookupFunction } from './functions/registry.js';
import { Lexer, type Token, UNIT_MS } from './lexer.js';
import { toJsRegex } from './regex.js';

export interface QueryProblem {
  line: number;
  column: number;
  message: string;
}

class ParseError extends Error {
  constructor(
    readonly pos: Pos,
    message: string,
  ) {
    super(message);
  }
}

/** Commands of the newest docs that make no sense over an archive: refused with a reason. */
const REFUSED_COMMANDS: Record<string, string> = {
  filterindex:
    'filterIndex works on CloudWatch field indexes; logferry archives have none — use filter instead',
  source: 'SOURCE selects CloudWatch log groups; choose what to read with --from (and --start/--end) instead',
  lookup: 'lookup tables are not supported by logferry',
};

/** Deepest expression nesting accepted (parentheses, calls, prefix operators). */
const MAX_NESTING = 256;

/** Command names the parser accepts (the console's autocomplete lists them). */
export const COMMANDS = [
  'fields',
  'display',
  'filter',
  'stats',
  'sort',
  'limit',
  'parse',
  'dedup',
  'unmask',
  'unnest',
  'pattern',
  'diff',
  'logcompare',
  'anomaly',
];

/** Words that end an expression when they appear where an operator is expected. */
const COMPARISON: Record<string, BinaryOp> = {
  '=': '=',
  '!=': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  '=~': '=~',
};

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

function suggest(word: string, candidates: readonly string[]): string {
  let best = '';
  let bestD = 3;
  for (const c of candidates) {
    const dist = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

class Parser {
  private readonly lx: Lexer;
  private cur: Token;
  private prevEnd: Pos;
  readonly problems: { pos: Pos; message: string }[] = [];

  constructor(readonly text: string) {
    this.lx = new Lexer(text);
    this.cur = this.lx.next(false);
    this.prevEnd = this.cur.start;
  }

  // ---------------------------------------------------------- token helpers

  private advance(): Token {
    const t = this.cur;
    this.prevEnd = t.end;
    this.cur = this.lx.next(false);
    return t;
  }

  private isWord(w: string): boolean {
    return this.cur.kind === 'ident' && !this.cur.quoted && this.cur.value.toLowerCase() === w;
  }

  private atEof(): boolean {
    return this.cur.kind === 'eof';
  }

  private atPipe(): boolean {
    return this.cur.kind === 'pipe';
  }

  private atCommandEnd(): boolean {
    return this.cur.kind === 'pipe' || this.cur.kind === 'eof';
  }

  private isOp(op: string): boolean {
    return this.cur.kind === 'op' && this.cur.value === op;
  }

  private expectOp(op: string, what: string): Token {
    if (!this.isOp(op)) this.fail(`expected '${op}' ${what}, found ${this.describe(this.cur)}`);
    return this.advance();
  }

  private describe(t: Token): string {
    switch (t.kind) {
      case 'eof':
        return 'end of query';
      case 'pipe':
        return "'|'";
      case 'string':
        return `string ${t.text}`;
      default:
        return `'${t.text}'`;
    }
  }

  /** Defaults to the current token; when that is `|` or the end, points just after the previous token. */
  private fail(message: string, pos?: Pos): never {
    throw new ParseError(pos ?? (this.atCommandEnd() ? this.prevEnd : this.cur.start), message);
  }

  private span(start: Pos): Span {
    return { start, end: this.prevEnd };
  }

  /** Re-reads the current `/` token as a regex literal (only called where an operand is expected). */
  private rescanAsRegex(): void {
    this.lx.reset(this.cur.start);
    this.cur = this.lx.next(true);
  }

  // ---------------------------------------------------------- query

  parseQuery(): QueryAst {
    const commands: Command[] = [];
    const start = this.cur.start;
    if (this.cur.kind === 'eof') {
      this.problems.push({ pos: start, message: 'the query is empty' });
    }
    while (this.cur.kind !== 'eof') {
      if (this.cur.kind === 'pipe') {
        this.problems.push({ pos: this.cur.start, message: "expected a command before '|'" });
        this.advance();
        continue;
      }
      try {
        this.depth = 0; // an error may have left a nested level open
        commands.push(this.parseCommand());
        if (!this.atCommandEnd()) {
          this.fail(
            `unexpected ${this.describe(this.cur)} (a command ends at '|' or at the end of the query)`,
          );
        }
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        this.problems.push({ pos: e.pos, message: e.message });
        while (!this.atCommandEnd()) this.advance();
      }
      if (this.atPipe()) {
        this.advance();
        if (this.atEof()) this.problems.push({ pos: this.prevEnd, message: "expected a command after '|'" });
      }
    }
    for (const p of this.lx.problems) this.problems.push(p);
    return { kind: 'query', text: this.text, commands, span: { start, end: this.cur.end } };
  }

  private parseCommand(): Command {
    const t = this.cur;
    const start = t.start;
    if (t.kind !== 'ident' || t.quoted) this.fail(`expected a command, found ${this.describe(t)}`);
    const word = t.value.toLowerCase();
    if (Object.hasOwn(REFUSED_COMMANDS, word)) this.fail(REFUSED_COMMANDS[word]);
    this.advance();
    switch (word) {
      case 'fields':
      case 'display': {
        // display may compute too (`display loggingType = "ERROR" as isError`, from the syntax docs).
        const items = this.parseProjections(word, false);
        return { kind: word, items, span: this.span(start) };
      }
      case 'filter':
        return { kind: 'filter', expr: this.parseExpr(), span: this.span(start) };
      case 'stats': {
        const aggregates = this.parseProjections('stats', true);
        let by: Projection[] = [];
        if (this.isWord('by')) {
          this.advance();
          by = this.parseProjections('stats … by', false);
        }
        return { kind: 'stats', aggregates, by, span: this.span(start) };
      }
      case 'sort': {
        const keys: SortKey[] = [];
        // `sort by x desc`, as in the Logs Insights sample queries.
        if (this.isWord('by')) this.advance();
        do {
          if (keys.length) this.advance();
          const ks = this.cur.start;
          const expr = this.parseExpr();
          let direction: 'asc' | 'desc' = 'asc';
          if (this.isWord('asc') || this.isWord('desc'))
            direction = this.advance().value.toLowerCase() as 'asc' | 'desc';
          keys.push({ expr, direction, span: this.span(ks) });
        } while (this.isOp(','));
        return { kind: 'sort', keys, span: this.span(start) };
      }
      case 'limit': {
        const n = this.cur;
        if (n.kind !== 'number' || !Number.isInteger(n.num) || (n.num ?? 0) < 1) {
          this.fail(`limit expects a positive whole number, found ${this.describe(n)}`);
        }
        this.advance();
        return { kind: 'limit', count: n.num!, span: this.span(start) };
      }
      case 'parse':
        return this.parseParse(start);
      case 'dedup': {
        const fields: FieldRef[] = [];
        do {
          if (fields.length) this.advance();
          fields.push(this.parseFieldRef('dedup'));
        } while (this.isOp(','));
        return { kind: 'dedup', fields, span: this.span(start) };
      }
      case 'unmask': {
        const paren = this.isOp('(');
        if (paren) this.advance();
        const field = this.parseFieldRef('unmask');
        if (paren) this.expectOp(')', 'to close unmask(');
        return { kind: 'unmask', field, span: this.span(start) };
      }
      case 'unnest': {
        const field = this.parseFieldRef('unnest');
        if (!this.isWord('into'))
          this.fail(`expected 'into' after the unnest field, found ${this.describe(this.cur)}`);
        this.advance();
        const into = this.parseFieldRef('unnest … into');
        return { kind: 'unnest', field, into: into.name, span: this.span(start) };
      }
      case 'pattern':
      case 'diff':
      case 'logcompare':
      case 'anomaly':
        return parsePatternFamily(word, start, {
          word: () =>
            this.cur.kind === 'ident' && !this.cur.quoted ? this.cur.value.toLowerCase() : undefined,
          advance: () => void this.advance(),
          atCommandEnd: () => this.atCommandEnd(),
          parseExpr: () => this.parseExpr(),
          fail: (m) => this.fail(m),
          span: (s) => this.span(s),
        });
      default:
        this.fail(`unknown command '${t.value}'${suggest(word, COMMANDS)}`, start);
    }
  }

  private parseFieldRef(ctx: string): FieldRef {
    const t = this.cur;
    if (t.kind !== 'ident') this.fail(`${ctx} expects a field name, found ${this.describe(t)}`);
    this.advance();
    return { kind: 'field', name: t.value, span: { start: t.start, end: t.end } };
  }

  private parseProjections(ctx: string, aggregate: boolean): Projection[] {
    const items: Projection[] = [];
    do {
      if (items.length) this.advance();
      const s = this.cur.start;
      if (this.cur.kind === 'eof' || this.cur.kind === 'pipe') {
        this.fail(`${ctx} expects ${aggregate ? 'an aggregate such as count(*)' : 'a field or expression'}`);
      }
      const expr = this.parseExpr();
      const exprEnd = this.prevEnd;
      let alias: string | undefined;
      if (this.isWord('as')) {
        this.advance();
        alias = this.parseFieldRef(`${ctx} … as`).name;
      }
      const name =
        alias ?? (expr.kind === 'field' ? expr.name : this.text.slice(s.offset, exprEnd.offset).trim());
      items.push({ expr, alias, name, span: this.span(s) });
    } while (this.isOp(','));
    return items;
  }

  private parseParse(start: Pos): ParseCommand {
    let source: Expr = {
      kind: 'field',
      name: '@message',
      span: { start: this.cur.start, end: this.cur.start },
    };
    if (this.cur.kind === 'ident') source = this.parseFieldRef('parse');
    if (this.isOp('/')) this.rescanAsRegex();
    const pt = this.cur;
    if (pt.kind === 'regex') {
      this.advance();
      const pattern = {
        kind: 'regex' as const,
        source: pt.value,
        flags: pt.flags ?? '',
        span: { start: pt.start, end: pt.end },
      };
      let names: string[] = [];
      try {
        names = toJsRegex(pattern.source, pattern.flags).names;
      } catch (e) {
        this.fail((e as Error).message, pt.start);
      }
      if (names.length === 0) this.fail('a parse regex needs named groups such as (?<user>\\S+)', pt.start);
      if (this.isWord('as')) this.fail('a parse regex names its fields with (?<name>…) groups, not with as');
      return { kind: 'parse', source, pattern, names, span: this.span(start) };
    }
    if (pt.kind !== 'string')
      this.fail(`parse expects a glob string or a /regex/, found ${this.describe(pt)}`);
    this.advance();
    const stars = (pt.value.match(/\*/g) ?? []).length;
    if (stars === 0) this.fail("a parse glob needs at least one '*' to capture", pt.start);
    if (!this.isWord('as')) this.fail(`expected 'as' and ${stars} field name(s) after the parse glob`);
    this.advance();
    const names: string[] = [];
    do {
      if (names.length) this.advance();
      names.push(this.parseFieldRef('parse … as').name);
    } while (this.isOp(','));
    if (names.length !== stars) {
      this.problems.push({
        pos: pt.start,
        message: `the parse glob has ${stars} '*' but ${names.length} name(s) follow as`,
      });
    }
    return {
      kind: 'parse',
      source,
      pattern: { kind: 'glob', text: pt.value, span: { start: pt.start, end: pt.end } },
      names,
      span: this.span(start),
    };
  }

  // ---------------------------------------------------------- expressions

  private depth = 0;

  parseExpr(): Expr {
    // Nesting is bounded so a hostile query cannot overflow the stack (RangeError instead of a problem).
    if (++this.depth > MAX_NESTING) this.fail(`expression nested more than ${MAX_NESTING} levels deep`);
    try {
      return this.parseOr();
    } finally {
      this.depth--;
    }
  }

  private bin(op: BinaryOp, left: Expr, right: Expr): Expr {
    return { kind: 'binary', op, left, right, span: { start: left.span.start, end: right.span.end } };
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.isWord('or')) {
      this.advance();
      left = this.bin('or', left, this.parseAnd());
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.isWord('and')) {
      this.advance();
      left = this.bin('and', left, this.parseNot());
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.isWord('not')) {
      const s = this.advance().start;
      if (++this.depth > MAX_NESTING) this.fail(`expression nested more than ${MAX_NESTING} levels deep`);
      const operand = this.parseNot();
      this.depth--;
      return { kind: 'unary', op: 'not', operand, span: { start: s, end: operand.span.end } };
    }
    return this.parseComparison();
  }

  private parseComparison(): Expr {
    const left = this.parseAdditive();
    let op: BinaryOp | undefined;
    if (this.cur.kind === 'op' && Object.hasOwn(COMPARISON, this.cur.value)) {
      op = COMPARISON[this.cur.value];
      this.advance();
    } else if (this.isWord('like') || this.isWord('in')) {
      op = this.advance().value.toLowerCase() as BinaryOp;
    } else if (this.isWord('not')) {
      const notTok = this.advance();
      if (this.isWord('like')) op = 'not like';
      else if (this.isWord('in')) op = 'not in';
      else this.fail(`expected 'like' or 'in' after 'not', found ${this.describe(this.cur)}`, notTok.start);
      this.advance();
    }
    if (!op) return left;
    let right: Expr;
    if (op === 'in' || op === 'not in') {
      right = this.parseList();
    } else {
      right = this.parseAdditive();
      if (op === '=~' && right.kind === 'string') {
        try {
          toJsRegex(right.value, '');
        } catch (e) {
          this.problems.push({ pos: right.span.start, message: (e as Error).message });
        }
      }
      if (
        (op === 'like' || op === 'not like' || op === '=~') &&
        right.kind !== 'regex' &&
        right.kind !== 'string'
      ) {
        // A computed right side is allowed (substring of its value) but a field is almost always a typo.
        if (right.kind === 'field') {
          this.problems.push({
            pos: right.span.start,
            message: `${op} expects a "string" or a /regex/ on its right, found the field name '${right.name}'`,
          });
        }
      }
    }
    const e = this.bin(op, left, right);
    if (this.cur.kind === 'op' && Object.hasOwn(COMPARISON, this.cur.value)) {
      this.fail('comparisons cannot be chained; combine them with and/or');
    }
    return e;
  }

  private parseList(): Expr {
    const s = this.cur.start;
    if (++this.depth > MAX_NESTING) this.fail(`expression nested more than ${MAX_NESTING} levels deep`);
    this.expectOp('[', "to open the list after 'in'");
    const items: Expr[] = [];
    if (!this.isOp(']')) {
      do {
        if (items.length) this.advance();
        items.push(this.parseAdditive());
      } while (this.isOp(','));
    }
    this.expectOp(']', 'to close the list');
    this.depth--;
    return { kind: 'list', items, span: this.span(s) };
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.advance().value as BinaryOp;
      left = this.bin(op, left, this.parseMultiplicative());
    }
    return left;
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.advance().value as BinaryOp;
      left = this.bin(op, left, this.parseUnary());
    }
    return left;
  }

  private parseUnary(): Expr {
    if (this.isOp('-') || this.isOp('+')) {
      const t = this.advance();
      if (++this.depth > MAX_NESTING) this.fail(`expression nested more than ${MAX_NESTING} levels deep`);
      const operand = this.parseUnary();
      this.depth--;
      if (operand.kind === 'number' && t.value === '-') {
        return { kind: 'number', value: -operand.value, span: { start: t.start, end: operand.span.end } };
      }
      return {
        kind: 'unary',
        op: t.value as '-' | '+',
        operand,
        span: { start: t.start, end: operand.span.end },
      };
    }
    return this.parsePower();
  }

  private parsePower(): Expr {
    const base = this.parsePrimary();
    if (this.isOp('^')) {
      this.advance();
      if (++this.depth > MAX_NESTING) this.fail(`expression nested more than ${MAX_NESTING} levels deep`);
      const right = this.parseUnary();
      this.depth--;
      return this.bin('^', base, right);
    }
    return base;
  }

  private parsePrimary(): Expr {
    if (this.isOp('/')) this.rescanAsRegex();
    const t = this.cur;
    const sp = { start: t.start, end: t.end };
    switch (t.kind) {
      case 'string':
        this.advance();
        return { kind: 'string', value: t.value, span: sp };
      case 'number':
        this.advance();
        return { kind: 'number', value: t.num!, span: sp };
      case 'duration':
        this.advance();
        return {
          kind: 'duration',
          text: t.text,
          amount: t.num!,
          unit: t.unit!,
          ms: t.num! * UNIT_MS[t.unit!],
          span: sp,
        };
      case 'regex': {
        this.advance();
        try {
          toJsRegex(t.value, t.flags ?? '');
        } catch (e) {
          this.problems.push({ pos: t.start, message: (e as Error).message });
        }
        return { kind: 'regex', source: t.value, flags: t.flags ?? '', span: sp };
      }
      case 'op':
        if (t.value === '(') {
          this.advance();
          const e = this.parseExpr();
          this.expectOp(')', "to close '('");
          return e;
        }
        if (t.value === '[') return this.parseList();
        break;
      case 'ident': {
        this.advance();
        const lower = t.value.toLowerCase();
        if (!t.quoted && this.isOp('(') && !t.value.includes('.')) return this.parseCall(t);
        if (!t.quoted && (lower === 'true' || lower === 'false')) {
          return { kind: 'boolean', value: lower === 'true', span: sp };
        }
        if (!t.quoted && lower === 'null') return { kind: 'null', span: sp };
        if (!t.quoted && ['and', 'or', 'not', 'like', 'in', 'as', 'by', 'asc', 'desc'].includes(lower)) {
          this.fail(`expected a value, found the keyword '${t.value}'`, t.start);
        }
        return { kind: 'field', name: t.value, span: sp };
      }
      default:
        break;
    }
    this.fail(
      `expected a value (field, "string", number, /regex/ or function call), found ${this.describe(t)}`,
    );
  }

  private parseCall(nameTok: Token): CallExpr {
    this.advance(); // (
    const args: Expr[] = [];
    let star = false;
    if (this.isOp('*')) {
      const st = this.advance();
      if (!this.isOp(')')) this.fail("'*' is only allowed alone, as in count(*)", st.start);
      star = true;
    } else if (!this.isOp(')')) {
      do {
        if (args.length) this.advance();
        args.push(this.parseExpr());
      } while (this.isOp(','));
    }
    this.expectOp(')', `to close ${nameTok.value}(`);
    return {
      kind: 'call',
      name: nameTok.value.toLowerCase(),
      rawName: nameTok.value,
      args,
      ...(star ? { star: true } : {}),
      span: { start: nameTok.start, end: this.prevEnd },
    };
  }
}

// ---------------------------------------------------------------- validation

type Problems = { pos: Pos; message: string }[];

interface ValidateCtx {
  text: string;
  /** Output columns of the latest stats: later commands may name them by their text, e.g. `count(*)`. */
  statsNames: Set<string>;
  /** Calls that made a column of the latest stats (`exprKey`), however a later command spells them. */
  statsKeys: Set<string>;
  /** Aliases of the aggregates before this one in the stats being validated (`max(x) as a, a - 1 as b`). */
  aggAliases: Set<string>;
}

function validateExpr(e: Expr, where: 'row' | 'agg' | 'inAgg', problems: Problems, vc: ValidateCtx): void {
  switch (e.kind) {
    case 'call': {
      if (
        where === 'row' &&
        (vc.statsKeys.has(exprKey(e)) ||
          vc.statsNames.has(vc.text.slice(e.span.start.offset, e.span.end.offset).trim()))
      )
        return;
      const spec = lookupFunction(e.name);
      if (!spec) {
        problems.push({
          pos: e.span.start,
          message: `unknown function '${e.rawName}'${suggest(e.name, FUNCTION_NAMES)}`,
        });
      } else {
        const n = e.args.length;
        if (e.star && e.name !== 'count') {
          problems.push({ pos: e.span.start, message: `only count accepts '*', not ${e.rawName}` });
        } else if (n < spec.min || n > spec.max) {
          const want =
            spec.min === spec.max
              ? `${spec.min}`
              : spec.max === Number.POSITIVE_INFINITY
                ? `at least ${spec.min}`
                : `${spec.min} to ${spec.max}`;
          problems.push({
            pos: e.span.start,
            message: `${e.rawName}() takes ${want} argument(s), got ${n}`,
          });
        } else {
          const msg = spec.check?.(e.args);
          if (msg) problems.push({ pos: e.span.start, message: msg });
        }
        if (spec.kind === 'aggregate') {
          if (where === 'row') {
            problems.push({
              pos: e.span.start,
              message: `the aggregate ${e.rawName}() can only be used in stats`,
            });
          } else if (where === 'inAgg') {
            problems.push({
              pos: e.span.start,
              message: `aggregates cannot be nested (${e.rawName} inside another)`,
            });
          }
        }
      }
      const inner = spec?.kind === 'aggregate' ? 'inAgg' : where;
      for (const a of e.args) validateExpr(a, inner, problems, vc);
      return;
    }
    case 'binary':
      validateExpr(e.left, where, problems, vc);
      validateExpr(e.right, where, problems, vc);
      return;
    case 'unary':
      validateExpr(e.operand, where, problems, vc);
      return;
    case 'list':
      for (const i of e.items) validateExpr(i, where, problems, vc);
      return;
    case 'duration':
      return;
    case 'field':
      if (where === 'agg' && !vc.aggAliases.has(e.name)) {
        problems.push({
          pos: e.span.start,
          message: `'${e.name}' must be inside an aggregate function in stats (or listed after by)`,
        });
      }
      return;
    default:
      return;
  }
}

/** Whether an expression reads one of `aliases` (a field reference outside any call). */
function readsAlias(e: Expr, aliases: Set<string>): boolean {
  switch (e.kind) {
    case 'field':
      return aliases.has(e.name);
    case 'binary':
      return readsAlias(e.left, aliases) || readsAlias(e.right, aliases);
    case 'unary':
      return readsAlias(e.operand, aliases);
    case 'call':
      return e.args.some((a) => readsAlias(a, aliases));
    default:
      return false;
  }
}

function containsAggregate(e: Expr): boolean {
  switch (e.kind) {
    case 'call':
      return lookupFunction(e.name)?.kind === 'aggregate' || e.args.some(containsAggregate);
    case 'binary':
      return containsAggregate(e.left) || containsAggregate(e.right);
    case 'unary':
      return containsAggregate(e.operand);
    default:
      return false;
  }
}

function validate(ast: QueryAst, problems: Problems): void {
  const vc: ValidateCtx = {
    text: ast.text,
    statsNames: new Set(),
    statsKeys: new Set(),
    aggAliases: new Set(),
  };
  for (const c of ast.commands) {
    switch (c.kind) {
      case 'fields':
      case 'display':
        for (const p of c.items) validateExpr(p.expr, 'row', problems, vc);
        break;
      case 'filter':
        validateExpr(c.expr, 'row', problems, vc);
        break;
      case 'sort':
        for (const k of c.keys) validateExpr(k.expr, 'row', problems, vc);
        break;
      case 'stats':
        vc.aggAliases = new Set();
        for (const p of c.aggregates) {
          validateExpr(p.expr, 'agg', problems, vc);
          if (
            !containsAggregate(p.expr) &&
            !readsAlias(p.expr, vc.aggAliases) &&
            !problems.some((x) => x.pos.offset === p.span.start.offset)
          ) {
            problems.push({
              pos: p.span.start,
              message: `stats expects an aggregate function such as count(*), found '${p.name}'`,
            });
          }
          vc.aggAliases.add(p.name);
        }
        vc.aggAliases = new Set();
        for (const p of c.by) validateExpr(p.expr, 'row', problems, vc);
        vc.statsNames = new Set([...c.by, ...c.aggregates].map((p) => p.name));
        vc.statsKeys = new Set(
          [...c.by, ...c.aggregates].filter((p) => p.expr.kind === 'call').map((p) => exprKey(p.expr)),
        );
        break;
      default:
        break;
    }
  }
}

// ---------------------------------------------------------------- errors

/** One problem as text: `line 2, column 10: message`, the source line, and a caret under the column. */
export function formatProblem(text: string, p: QueryProblem): string {
  const lines = text.split('\n');
  const src = (lines[p.line - 1] ?? '').replace(/\t/g, ' ').replace(/\r$/, '');
  return `line ${p.line}, column ${p.column}: ${p.message}\n  ${src}\n  ${' '.repeat(Math.max(0, p.column - 1))}^`;
}

export function queryError(text: string, problems: QueryProblem[]): LogferryError {
  const head = problems.length === 1 ? 'Query has a problem' : `Query has ${problems.length} problems`;
  return new LogferryError(
    'QUERY_SYNTAX',
    `${head}:\n${problems.map((p) => formatProblem(text, p)).join('\n')}`,
    {
      details: { problems },
    },
  );
}

/** Parses a Logs Insights query. Throws LogferryError('QUERY_SYNTAX') listing every problem found. */
export function parseQuery(text: string): QueryAst {
  const p = new Parser(text);
  const ast = p.parseQuery();
  const problems = p.problems;
  validate(ast, problems);
  if (problems.length > 0) {
    const seen = new Set<string>();
    const list = problems
      .sort((a, b) => a.pos.offset - b.pos.offset)
      .filter((x) => {
        const k = `${x.pos.offset}:${x.message}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      })
      .map((x) => ({ line: x.pos.line, column: x.pos.column, message: x.message }));
    throw queryError(text, list);
  }
  return ast;
}
