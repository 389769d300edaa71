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
  DurationLit,
  Expr,
  FieldRef,
  ParseCommand,
  Pos,
  Projection,
  QueryAst,
  SortKey,
  Span,
  StatsCommand,
} from './ast.js';
import { exprKey } from './ast.js';
import { parsePatternFamily } from './pattern/ast.js';
import { FUNCTION_NAMES, lookupFunction } from './functions/registry.js';
import { Lexer, type Token, UNIT_MS } from './lexer.js';
import { escapeRegex, toJsRegex } from './regex.js';

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

/**
 * Commands of the newest docs that logferry does not run (yet), refused with the reason rather than
 * as an unknown word.
 */
const REFUSED_COMMANDS: Record<string, string> = {};

/** Subqueries nest at most this deep (a subquery inside a subquery inside the query is 2). */
export const MAX_SUBQUERY_DEPTH = 3;

/** `limit` accepts at most this many rows (CWL_QuerySyntax-Limit: "a limit value of up to 100,000"). */
export const MAX_LIMIT = 100_000;

/** appendcols' `max` default (CWL_QuerySyntax-Appendcols). */
export const APPENDCOLS_DEFAULT_MAX = 10_000;

/** Deepest expression nesting accepted (parentheses, calls, prefix operators). */
const MAX_NESTING = 256;

/** Command names the parser accepts (the console's autocomplete lists them). */
export const COMMANDS = [
  'fields',
  'display',
  'filter',
  'where',
  'filterIndex',
  'SOURCE',
  'stats',
  'sort',
  'limit',
  'parse',
  'dedup',
  'unmask',
  'unnest',
  'expand',
  'fillmissing',
  'filldown',
  'addtotals',
  'accum',
  'autoregress',
  'outlier',
  'sessionize',
  'countFrequent',
  'count_frequent',
  'pattern',
  'diff',
  'logcompare',
  'anomaly',
  'join',
  'appendcols',
  'lookup',
  'cidrlookup',
  'relevantfields',
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
    return this.cur.kind === 'pipe' || this.cur.kind === 'eof' || (this.subDepth > 0 && this.isOp(')'));
  }

  /** How many subquery parentheses are open: inside one, `)` also ends a command. */
  private subDepth = 0;

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
    const start = this.cur.start;
    const commands = this.parseCommands(false);
    for (const p of this.lx.problems) this.problems.push(p);
    return { kind: 'query', text: this.text, commands, span: { start, end: this.cur.end } };
  }

  /** Commands separated by `|`, up to the end of the query or (in a subquery) the closing `)`. */
  private parseCommands(inSub: boolean): Command[] {
    const commands: Command[] = [];
    const start = this.cur.start;
    const atEnd = () => this.atEof() || (inSub && this.isOp(')'));
    if (atEnd()) {
      this.problems.push({ pos: start, message: inSub ? 'the subquery is empty' : 'the query is empty' });
    }
    while (!atEnd()) {
      if (this.cur.kind === 'pipe') {
        this.problems.push({ pos: this.cur.start, message: "expected a command before '|'" });
        this.advance();
        continue;
      }
      try {
        if (!inSub) this.depth = 0; // an error may have left a nested level open
        commands.push(this.parseCommand());
        if (!this.atCommandEnd()) {
          this.fail(
            `unexpected ${this.describe(this.cur)} (a command ends at '|'${inSub ? ", at ')'" : ''} or at the end of the query)`,
          );
        }
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        this.problems.push({ pos: e.pos, message: e.message });
        while (!this.atCommandEnd()) this.advance();
      }
      if (this.atPipe()) {
        this.advance();
        if (atEnd()) this.problems.push({ pos: this.prevEnd, message: "expected a command after '|'" });
      }
    }
    return commands;
  }

  /** `( query )` — the `(` is the current token. The AST's spans index the whole query text. */
  private parseSubquery(what: string): QueryAst {
    this.expectOp('(', `to open the ${what}`);
    if (this.subDepth >= MAX_SUBQUERY_DEPTH) this.fail(`subqueries nest at most ${MAX_SUBQUERY_DEPTH} deep`);
    const start = this.cur.start;
    this.subDepth++;
    let commands: Command[];
    try {
      commands = this.parseCommands(true);
    } finally {
      this.subDepth--;
    }
    const end = this.prevEnd;
    this.expectOp(')', `to close the ${what}`);
    return { kind: 'query', text: this.text, commands, span: { start, end } };
  }

  /**
   * One parser per command word (lowercase). A new command is one entry here plus its AST node and
   * operator; each parser is called after the command word was consumed.
   */
  private readonly commandParsers: Record<string, (start: Pos, word: Token) => Command> = {
    fields: (start) => this.parseFieldsLike('fields', start),
    display: (start) => this.parseFieldsLike('display', start),
    filter: (start) => ({ kind: 'filter', expr: this.parseExpr(), span: this.span(start) }),
    where: (start) => ({ kind: 'filter', expr: this.parseExpr(), keyword: 'where', span: this.span(start) }),
    filterindex: (start) => ({
      kind: 'filter',
      expr: this.parseExpr(),
      keyword: 'filterIndex',
      span: this.span(start),
    }),
    source: (start) => this.parseSource(start),
    stats: (start) => this.parseStats(start),
    sort: (start) => this.parseSort(start),
    limit: (start) => this.parseLimit(start),
    parse: (start) => this.parseParse(start),
    dedup: (start) => ({ kind: 'dedup', fields: this.parseFieldList('dedup'), span: this.span(start) }),
    unmask: (start) => {
      const paren = this.isOp('(');
      if (paren) this.advance();
      const field = this.parseFieldRef('unmask');
      if (paren) this.expectOp(')', 'to close unmask(');
      return { kind: 'unmask', field, span: this.span(start) };
    },
    unnest: (start) => {
      const field = this.parseFieldRef('unnest');
      if (!this.isWord('into'))
        this.fail(`expected 'into' after the unnest field, found ${this.describe(this.cur)}`);
      this.advance();
      const into = this.parseFieldRef('unnest … into');
      return { kind: 'unnest', field, into: into.name, span: this.span(start) };
    },
    pattern: (start) => this.parsePatternCommand('pattern', start),
    diff: (start) => this.parsePatternCommand('diff', start),
    logcompare: (start) => this.parsePatternCommand('logcompare', start),
    anomaly: (start) => this.parsePatternCommand('anomaly', start),
    expand: (start) => ({ kind: 'expand', field: this.parseFieldRef('expand'), span: this.span(start) }),
    fillmissing: (start) => this.parseFillmissing(start),
    filldown: (start) => ({ kind: 'filldown', fields: this.parsePatternList(), span: this.span(start) }),
    addtotals: (start) => this.parseAddtotals(start),
    accum: (start) => {
      const field = this.parseFieldRef('accum').name;
      let as = field;
      if (this.isWord('as')) {
        this.advance();
        as = this.parseFieldRef('accum … as').name;
      }
      return { kind: 'accum', field, as, span: this.span(start) };
    },
    autoregress: (start) => this.parseAutoregress(start),
    outlier: (start) => this.parseOutlier(start),
    sessionize: (start) => this.parseSessionize(start),
    countfrequent: (start) => ({
      kind: 'countFrequent',
      fields: this.parseFieldList('countFrequent'),
      span: this.span(start),
    }),
    join: (start) => this.parseJoin(start),
    appendcols: (start) => this.parseAppendcols(start),
    lookup: (start) => this.parseLookup(start, false),
    cidrlookup: (start) => this.parseLookup(start, true),
    relevantfields: (start) => this.parseRelevantfields(start),
    count_frequent: (start) => ({
      kind: 'countFrequent',
      fields: this.parseFieldList('count_frequent'),
      span: this.span(start),
    }),
  };

  private parseCommand(): Command {
    const t = this.cur;
    const start = t.start;
    if (t.kind !== 'ident' || t.quoted) this.fail(`expected a command, found ${this.describe(t)}`);
    const word = t.value.toLowerCase();
    if (Object.hasOwn(REFUSED_COMMANDS, word)) this.fail(REFUSED_COMMANDS[word]);
    const parse = Object.hasOwn(this.commandParsers, word) ? this.commandParsers[word] : undefined;
    if (!parse) this.fail(`unknown command '${t.value}'${suggest(word, COMMANDS)}`, start);
    this.advance();
    return parse(start, t);
  }

  /** pattern, diff, logcompare, anomaly: parsed in src/query/pattern/. */
  private parsePatternCommand(word: string, start: Pos): Command {
    return parsePatternFamily(word, start, {
      word: () => (this.cur.kind === 'ident' && !this.cur.quoted ? this.cur.value.toLowerCase() : undefined),
      advance: () => void this.advance(),
      atCommandEnd: () => this.atCommandEnd(),
      parseExpr: () => this.parseExpr(),
      fail: (m) => this.fail(m),
      span: (s) => this.span(s),
    });
  }

  private parseFieldsLike(kind: 'fields' | 'display', start: Pos): Command {
    // display may compute too (`display loggingType = "ERROR" as isError`, from the syntax docs).
    const items = this.parseProjections(kind, false);
    return { kind, items, span: this.span(start) };
  }

  private parseStats(start: Pos): Command {
    const aggregates = this.parseProjections('stats', true);
    let by: Projection[] = [];
    let offset: DurationLit | undefined;
    if (this.isWord('by')) {
      this.advance();
      by = this.parseProjections('stats … by', false, () => {
        // `by bin(5m) offset 1h` (the offset may follow the bin or end the by list).
        if (!this.isWord('offset')) return;
        const ot = this.advance();
        const d = this.parsePrimary();
        if (d.kind !== 'duration') this.fail('offset expects a time period such as 30m or 1h', d.span.start);
        if (offset) this.fail('stats takes one offset', ot.start);
        offset = d;
      });
      if (offset && !by.some((b) => b.expr.kind === 'call' && b.expr.name === 'bin')) {
        this.problems.push({
          pos: offset.span.start,
          message: 'offset applies to bin(); this stats has no bin() after by',
        });
      }
    }
    return { kind: 'stats', aggregates, by, ...(offset ? { offset } : {}), span: this.span(start) };
  }

  private parseSort(start: Pos): Command {
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

  private parseLimit(start: Pos): Command {
    let any = false;
    if (this.isWord('any')) {
      this.advance();
      any = true;
    }
    const n = this.cur;
    if (n.kind !== 'number' || !Number.isInteger(n.num) || (n.num ?? 0) < 1) {
      this.fail(`limit expects a positive whole number, found ${this.describe(n)}`);
    }
    if (n.num! > MAX_LIMIT) {
      this.fail(`limit accepts at most ${MAX_LIMIT.toLocaleString('en-US')} rows, found ${n.text}`);
    }
    this.advance();
    return { kind: 'limit', count: n.num!, ...(any ? { any } : {}), span: this.span(start) };
  }

  /** `a, b, c` (dedup, countFrequent). */
  private parseFieldList(ctx: string): FieldRef[] {
    const fields: FieldRef[] = [];
    do {
      if (fields.length) this.advance();
      fields.push(this.parseFieldRef(ctx));
    } while (this.isOp(','));
    return fields;
  }

  /** Field names or wildcard patterns separated by spaces or commas, up to the end of the command: `host cpu*`. */
  private parsePatternList(): string[] {
    const out: string[] = [];
    let last: Pos | undefined;
    while (!this.atCommandEnd()) {
      const t = this.cur;
      if (t.kind === 'op' && t.value === ',') {
        this.advance();
        last = undefined;
        continue;
      }
      if (t.kind !== 'ident' && !(t.kind === 'op' && t.value === '*')) {
        this.fail(`expected a field name or pattern such as cpu*, found ${this.describe(t)}`);
      }
      const text = t.kind === 'ident' ? t.value : '*';
      if (last && last.offset === t.start.offset && out.length) out[out.length - 1] += text;
      else out.push(text);
      last = t.end;
      this.advance();
    }
    return out;
  }

  /** `key=value` options (addtotals, outlier): returns the value token, or undefined when no option starts here. */
  private parseOption(keys: readonly string[]): { key: string; value: Token; pos: Pos } | undefined {
    const t = this.cur;
    if (t.kind !== 'ident' || t.quoted || !keys.includes(t.value.toLowerCase())) return undefined;
    // An option is `key=`; a field that happens to share the name is not followed by '='.
    const save = t.start;
    this.advance();
    if (!this.isOp('=')) {
      this.lx.reset(save);
      this.cur = this.lx.next(false);
      return undefined;
    }
    this.advance();
    const value = this.cur;
    if (value.kind === 'eof' || value.kind === 'pipe') this.fail(`${t.value}= expects a value`);
    this.advance();
    return { key: t.value.toLowerCase(), value, pos: t.start };
  }

  private boolOption(o: { key: string; value: Token; pos: Pos }): boolean {
    const v = o.value.value.toLowerCase();
    if (o.value.kind === 'ident' && (v === 'true' || v === 'false')) return v === 'true';
    this.fail(`${o.key}= expects true or false, found ${this.describe(o.value)}`, o.value.start);
  }

  private parseAddtotals(start: Pos): Command {
    let fieldname = 'Total';
    let row = true;
    let col = false;
    for (
      let o = this.parseOption(['fieldname', 'row', 'col']);
      o;
      o = this.parseOption(['fieldname', 'row', 'col'])
    ) {
      if (o.key === 'fieldname') {
        if (o.value.kind !== 'ident' && o.value.kind !== 'string')
          this.fail(`fieldname= expects a name, found ${this.describe(o.value)}`, o.value.start);
        fieldname = o.value.value;
      } else if (o.key === 'row') row = this.boolOption(o);
      else col = this.boolOption(o);
    }
    const fields = this.parsePatternList();
    return { kind: 'addtotals', fieldname, row, col, fields, span: this.span(start) };
  }

  private parseAutoregress(start: Pos): Command {
    const field = this.parseFieldRef('autoregress').name;
    let as: string | undefined;
    let from = 1;
    let to = 1;
    if (this.isWord('as')) {
      this.advance();
      as = this.parseFieldRef('autoregress … as').name;
    }
    const o = this.parseOption(['p']);
    if (o) {
      const lag = (t: Token): number => {
        if (t.kind !== 'number' || !Number.isInteger(t.num) || t.num! < 1)
          this.fail(`p= expects a positive whole number, found ${this.describe(t)}`, t.start);
        return t.num!;
      };
      from = lag(o.value);
      to = from;
      if (this.isOp('-')) {
        this.advance();
        to = lag(this.cur);
        this.advance();
        if (to < from)
          this.fail(`p=${from}-${to}: the range must go from the smaller lag to the larger`, o.pos);
      }
    }
    if (as !== undefined && to !== from) {
      this.fail(
        'autoregress names its fields <field>_p<n> for a range of lags; as takes a single lag',
        start,
      );
    }
    return {
      kind: 'autoregress',
      field,
      ...(as !== undefined ? { as } : {}),
      from,
      to,
      span: this.span(start),
    };
  }

  private parseOutlier(start: Pos): Command {
    let action: 'remove' | 'transform' = 'transform';
    let param = 2.5;
    let uselower = false;
    let mark = false;
    const keys = ['action', 'param', 'uselower', 'mark'];
    for (let o = this.parseOption(keys); o; o = this.parseOption(keys)) {
      if (o.key === 'action') {
        const v = o.value.value.toLowerCase();
        if (o.value.kind !== 'ident' || (v !== 'remove' && v !== 'transform'))
          this.fail(`action= expects remove or transform, found ${this.describe(o.value)}`, o.value.start);
        action = v as 'remove' | 'transform';
      } else if (o.key === 'param') {
        if (o.value.kind !== 'number' || !(o.value.num! > 0))
          this.fail(`param= expects a positive number, found ${this.describe(o.value)}`, o.value.start);
        param = o.value.num!;
      } else if (o.key === 'uselower') uselower = this.boolOption(o);
      else mark = this.boolOption(o);
    }
    const fields = this.parsePatternList();
    if (fields.length === 0) this.fail('outlier expects one or more numeric fields');
    return { kind: 'outlier', action, param, uselower, mark, fields, span: this.span(start) };
  }

  private parseSessionize(start: Pos): Command {
    const fields = this.parseFieldList('sessionize').map((f) => f.name);
    let maxspanMs = 30 * 60_000;
    let as = 'session_id';
    if (this.isWord('maxspan')) {
      this.advance();
      const d = this.parsePrimary();
      if (d.kind !== 'duration' || d.unit === 'mo' || d.unit === 'q' || d.unit === 'y')
        this.fail('maxspan expects a fixed time period such as 30m or 1h', d.span.start);
      maxspanMs = d.ms;
    }
    if (this.isWord('as')) {
      this.advance();
      as = this.parseFieldRef('sessionize … as').name;
    }
    return { kind: 'sessionize', fields, maxspanMs, as, span: this.span(start) };
  }

  private parseFillmissing(start: Pos): Command {
    const fills: { value: Expr; field: string }[] = [];
    if (this.isWord('with')) {
      this.advance();
      do {
        if (fills.length) this.advance();
        const value = this.parseAdditive();
        if (!['string', 'number', 'boolean', 'null'].includes(value.kind))
          this.fail('fillmissing … with expects a constant such as 0 or "n/a"', value.span.start);
        if (!this.isWord('for'))
          this.fail(`expected 'for' and a field after the fill value, found ${this.describe(this.cur)}`);
        this.advance();
        fills.push({ value, field: this.parseFieldRef('fillmissing … for').name });
      } while (this.isOp(','));
    }
    return { kind: 'fillmissing', fills, span: this.span(start) };
  }

  /**
   * `SOURCE logGroups(namePrefix: ['a', 'b'], class: 'STANDARD')`, `SOURCE 'group', …` or `SOURCE group`:
   * selects by `@log` within what `--from` reads, so it becomes a filter on `@log`.
   */
  private parseSource(start: Pos): Command {
    const names: string[] = [];
    const prefixes: string[] = [];
    const strings = (ctx: string): string[] => {
      const out: string[] = [];
      if (this.isOp('[')) {
        this.advance();
        if (!this.isOp(']')) {
          do {
            if (out.length) this.advance();
            if (this.cur.kind !== 'string')
              this.fail(`${ctx} expects quoted names, found ${this.describe(this.cur)}`);
            out.push(this.advance().value);
          } while (this.isOp(','));
        }
        this.expectOp(']', `to close the ${ctx} list`);
      } else {
        if (this.cur.kind !== 'string')
          this.fail(`${ctx} expects a quoted name or a list, found ${this.describe(this.cur)}`);
        out.push(this.advance().value);
      }
      return out;
    };
    if (this.isWord('loggroups')) {
      this.advance();
      this.expectOp('(', 'after logGroups');
      if (!this.isOp(')')) {
        let first = true;
        do {
          if (!first) this.advance();
          first = false;
          const key = this.cur;
          if (key.kind !== 'ident')
            this.fail(`expected namePrefix, class or accountIdentifier, found ${this.describe(key)}`);
          this.advance();
          this.expectOp(':', `after ${key.value}`);
          const k = key.value.toLowerCase();
          if (k === 'nameprefix') prefixes.push(...strings('namePrefix'));
          else if (k === 'class') {
            const c = strings('class');
            for (const v of c)
              if (v !== 'STANDARD' && v !== 'INFREQUENT_ACCESS')
                this.fail(`class must be 'STANDARD' or 'INFREQUENT_ACCESS', found '${v}'`, key.start);
          } else if (k === 'accountidentifier') {
            strings('accountIdentifier');
            this.fail(
              'accountIdentifier selects other accounts; logferry reads what --from names',
              key.start,
            );
          } else
            this.fail(
              `logGroups() takes namePrefix, class or accountIdentifier, not '${key.value}'`,
              key.start,
            );
        } while (this.isOp(','));
      }
      this.expectOp(')', 'to close logGroups(');
      if (prefixes.length === 0) this.fail('logGroups() needs namePrefix: [...] to select log groups', start);
    } else {
      do {
        if (names.length) this.advance();
        const t = this.cur;
        if (t.kind !== 'string' && t.kind !== 'ident')
          this.fail(`SOURCE expects log group names or logGroups(...), found ${this.describe(t)}`);
        names.push(this.advance().value);
      } while (this.isOp(','));
    }
    const sp = this.span(start);
    const at: FieldRef = { kind: 'field', name: '@log', span: sp };
    const parts: Expr[] = [];
    // Archived `@log` is `owner:group` (as in CloudWatch) or just the group; log group names hold no ':'.
    const OWNER = '^(?:[^:]*:)?';
    const like = (source: string): Expr => ({
      kind: 'binary',
      op: 'like',
      left: at,
      right: { kind: 'regex', source, flags: '', span: sp },
      span: sp,
    });
    if (names.length) parts.push(like(`${OWNER}(?:${names.map(escapeRegex).join('|')})$`));
    for (const p of prefixes) parts.push(like(`${OWNER}${escapeRegex(p)}`));
    const expr = parts.reduce((a, b) => ({ kind: 'binary', op: 'or', left: a, right: b, span: sp }));
    return { kind: 'filter', expr, keyword: 'SOURCE', span: sp };
  }

  /** `join [type=inner|left] left=L right=R where L.f = R.f (subquery)` (CWL_QuerySyntax-Join). */
  private parseJoin(start: Pos): Command {
    let type: 'inner' | 'left' = 'inner';
    let left: string | undefined;
    let right: string | undefined;
    for (;;) {
      const o = this.parseOption(['type', 'left', 'right']);
      if (!o) break;
      const v = o.value.value;
      if (o.key === 'type') {
        if (v.toLowerCase() !== 'inner' && v.toLowerCase() !== 'left')
          this.fail(`join type= must be inner or left, found '${v}'`, o.value.start);
        type = v.toLowerCase() as 'inner' | 'left';
      } else {
        if (o.value.kind !== 'ident') this.fail(`join ${o.key}= expects an alias name`, o.value.start);
        if (o.key === 'left') left = v;
        else right = v;
      }
    }
    if (left === undefined || right === undefined)
      this.fail('join needs left=<alias> and right=<alias> before where', start);
    if (left === right) this.fail('join: the left and right aliases must differ', start);
    if (!this.isWord('where'))
      this.fail(
        `expected 'where <left>.<field> = <right>.<field>' in join, found ${this.describe(this.cur)}`,
      );
    this.advance();
    const side = (what: string): { alias: string; field: string; pos: Pos } => {
      const t = this.cur;
      if (t.kind !== 'ident')
        this.fail(`join where expects ${what} as alias.field, found ${this.describe(t)}`);
      this.advance();
      const dot = t.value.indexOf('.');
      if (dot <= 0 || dot === t.value.length - 1)
        this.fail(`join where expects alias.field (e.g. ${left}.requestId), found '${t.value}'`, t.start);
      return { alias: t.value.slice(0, dot), field: t.value.slice(dot + 1), pos: t.start };
    };
    const a = side('the left key');
    if (!this.isOp('=') && !this.isOp('=='))
      this.fail(`expected '=' between the join keys, found ${this.describe(this.cur)}`);
    this.advance();
    const b = side('the right key');
    let l = a;
    let r = b;
    if (a.alias === right && b.alias === left) {
      l = b;
      r = a;
    }
    if (l.alias !== left) this.fail(`'${l.alias}' is not the left alias '${left}'`, l.pos);
    if (r.alias !== right) this.fail(`'${r.alias}' is not the right alias '${right}'`, r.pos);
    const sub = this.parseSubquery('join subquery');
    return {
      kind: 'join',
      type,
      left,
      right,
      leftField: l.field,
      rightField: r.field,
      sub,
      span: this.span(start),
    };
  }

  /** `appendcols [override=true|false] [max=n] (subquery)` (CWL_QuerySyntax-Appendcols: max 1–100000, default 10000). */
  private parseAppendcols(start: Pos): Command {
    let override = false;
    let max = APPENDCOLS_DEFAULT_MAX;
    for (;;) {
      const o = this.parseOption(['override', 'max']);
      if (!o) break;
      if (o.key === 'override') override = this.boolOption(o);
      else {
        const n = o.value.num;
        if (o.value.kind !== 'number' || !Number.isInteger(n) || n! < 1 || n! > MAX_LIMIT)
          this.fail(`appendcols max= expects a whole number from 1 to ${MAX_LIMIT}`, o.value.start);
        max = n!;
      }
    }
    const sub = this.parseSubquery('appendcols subquery');
    return { kind: 'appendcols', override, max, sub, span: this.span(start) };
  }

  /**
   * `lookup table field [as logField], … [OUTPUT|OUTPUTNEW col [as name], …]` (CWL_QuerySyntax-Lookup) and
   * `cidrlookup table ipField [as cidrColumn] OUTPUT|OUTPUTNEW col [as name], …` (CWL_QuerySyntax-Cidrlookup).
   */
  private parseLookup(start: Pos, cidr: boolean): Command {
    const word = cidr ? 'cidrlookup' : 'lookup';
    const tt = this.cur;
    if (tt.kind !== 'ident' && tt.kind !== 'string')
      this.fail(`${word} expects a lookup table name, found ${this.describe(tt)}`);
    this.advance();
    const isMode = () => this.isWord('output') || this.isWord('outputnew');
    const keys: { column: string; field: string }[] = [];
    do {
      if (keys.length) this.advance();
      const f = this.parseFieldRef(
        cidr ? 'cidrlookup (the IP field)' : 'lookup (the table column to match)',
      ).name;
      let other: string | undefined;
      if (this.isWord('as')) {
        this.advance();
        other = this.parseFieldRef(
          cidr ? 'cidrlookup … as (the CIDR column)' : 'lookup … as (the log field)',
        ).name;
      }
      // lookup: `column as logField`; cidrlookup: `ipField as cidrColumn`.
      keys.push(cidr ? { column: other ?? '', field: f } : { column: f, field: other ?? f });
    } while (!cidr && this.isOp(','));
    let mode: 'OUTPUT' | 'OUTPUTNEW' = 'OUTPUT';
    const outputs: { column: string; as: string }[] = [];
    if (isMode()) {
      mode = this.advance().value.toUpperCase() as 'OUTPUT' | 'OUTPUTNEW';
      do {
        if (outputs.length) this.advance();
        const c = this.parseFieldRef(`${word} ${mode}`).name;
        let as = c;
        if (this.isWord('as')) {
          this.advance();
          as = this.parseFieldRef(`${word} ${mode} … as`).name;
        }
        outputs.push({ column: c, as });
      } while (this.isOp(','));
    } else if (cidr) {
      this.fail(`expected OUTPUT or OUTPUTNEW and the columns to add, found ${this.describe(this.cur)}`);
    } else if (!this.atCommandEnd()) {
      this.fail(`expected ',' , OUTPUT or OUTPUTNEW, found ${this.describe(this.cur)}`);
    }
    return {
      kind: 'lookup',
      cidr,
      table: tt.value,
      tableSpan: { start: tt.start, end: tt.end },
      keys,
      mode,
      outputs,
      span: this.span(start),
    };
  }

  /** `relevantfields [f1, f2, …] where condition` (CWL_QuerySyntax-RelevantFields). */
  private parseRelevantfields(start: Pos): Command {
    const fields: string[] = [];
    while (!this.isWord('where')) {
      if (this.atCommandEnd()) this.fail("relevantfields needs 'where <condition>'");
      if (fields.length) {
        if (!this.isOp(',')) this.fail(`expected ',' or where, found ${this.describe(this.cur)}`);
        this.advance();
      }
      fields.push(this.parseFieldRef('relevantfields').name);
    }
    this.advance();
    return { kind: 'relevantfields', fields, where: this.parseExpr(), span: this.span(start) };
  }

  private parseFieldRef(ctx: string): FieldRef {
    const t = this.cur;
    if (t.kind !== 'ident') this.fail(`${ctx} expects a field name, found ${this.describe(t)}`);
    this.advance();
    return { kind: 'field', name: t.value, span: { start: t.start, end: t.end } };
  }

  private parseProjections(ctx: string, aggregate: boolean, afterItem?: () => void): Projection[] {
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
      afterItem?.();
    } while (this.isOp(','));
    return items;
  }

  private parseAsNames(ctx: string): string[] {
    const names: string[] = [];
    do {
      if (names.length) this.advance();
      names.push(this.parseFieldRef(ctx).name);
    } while (this.isOp(','));
    return names;
  }

  private parseParse(start: Pos): ParseCommand {
    let source: Expr = {
      kind: 'field',
      name: '@message',
      span: { start: this.cur.start, end: this.cur.start },
    };
    const isMode = (t: Token) =>
      t.kind === 'ident' && !t.quoted && ['logfmt', 'csv'].includes(t.value.toLowerCase());
    let modeTok: Token | undefined;
    if (this.cur.kind === 'ident') {
      const first = this.cur;
      const ref = this.parseFieldRef('parse');
      // `parse logfmt as lf` / `parse csv as a, b`: the field (@message) was left out.
      if (isMode(first) && this.isWord('as')) modeTok = first;
      else source = ref;
    }
    if (!modeTok && isMode(this.cur)) modeTok = this.advance();
    if (modeTok) {
      const mode = modeTok.value.toLowerCase() as 'logfmt' | 'csv';
      if (!this.isWord('as'))
        this.fail(
          `expected 'as' and ${mode === 'logfmt' ? 'a name for the map' : 'field names'} after ${mode}`,
        );
      this.advance();
      const names = this.parseAsNames(`parse … ${mode} as`);
      if (mode === 'logfmt' && names.length !== 1)
        this.fail('parse … logfmt as takes one name (the map; read its keys as name.key)', modeTok.start);
      return {
        kind: 'parse',
        source,
        pattern: { kind: mode, span: { start: modeTok.start, end: modeTok.end } },
        names,
        span: this.span(start),
      };
    }
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
      let groupNames: string[] = [];
      let groupCount = 0;
      try {
        const js = toJsRegex(pattern.source, pattern.flags);
        groupNames = js.names;
        groupCount = captureGroupCount(pattern.source);
      } catch (e) {
        this.fail((e as Error).message, pt.start);
      }
      let names = groupNames;
      if (this.isWord('as')) {
        // `/(\d+\.\d+\.\d+\.\d+)/ as ip_addr`: names for the capturing groups, in order.
        const asTok = this.advance();
        names = this.parseAsNames('parse … as');
        if (names.length > groupCount) {
          this.problems.push({
            pos: asTok.start,
            message: `the parse regex has ${groupCount} capturing group(s) but ${names.length} name(s) follow as`,
          });
        }
      } else if (names.length === 0) {
        this.fail('a parse regex needs named groups such as (?<user>\\S+), or names after as', pt.start);
      }
      let multi = false;
      if (this.isWord('multi')) {
        this.advance();
        multi = true;
      }
      return { kind: 'parse', source, pattern, names, ...(multi ? { multi } : {}), span: this.span(start) };
    }
    if (pt.kind !== 'string')
      this.fail(`parse expects a glob string, a /regex/, logfmt or csv, found ${this.describe(pt)}`);
    this.advance();
    const stars = (pt.value.match(/\*/g) ?? []).length;
    if (stars === 0) this.fail("a parse glob needs at least one '*' to capture", pt.start);
    if (!this.isWord('as')) this.fail(`expected 'as' and ${stars} field name(s) after the parse glob`);
    this.advance();
    const names = this.parseAsNames('parse … as');
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
    if (this.isOp('(')) {
      const subquery = this.parseSubquery('subquery');
      this.depth--;
      return { kind: 'list', items: [], subquery, span: this.span(s) };
    }
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
          if (typeof msg === 'string') problems.push({ pos: e.span.start, message: msg });
          else if (msg) problems.push({ pos: msg.at.span.start, message: msg.message });
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

/** Field names an expression reads outside calls that name a stats column (for the second-stats rule). */
function fieldRefs(e: Expr, out: FieldRef[]): void {
  switch (e.kind) {
    case 'field':
      out.push(e);
      return;
    case 'binary':
      fieldRefs(e.left, out);
      fieldRefs(e.right, out);
      return;
    case 'unary':
      fieldRefs(e.operand, out);
      return;
    case 'list':
      for (const i of e.items) fieldRefs(i, out);
      return;
    case 'call':
      for (const a of e.args) fieldRefs(a, out);
      return;
    default:
      return;
  }
}

function findBin(e: Expr): CallExpr | undefined {
  if (e.kind === 'call') return e.name === 'bin' ? e : e.args.map(findBin).find((x) => x);
  if (e.kind === 'binary') return findBin(e.left) ?? findBin(e.right);
  if (e.kind === 'unary') return findBin(e.operand);
  return undefined;
}

/** Fields a command defines for the commands after it (aliases, parse names, unnest targets). */
function definedBy(c: Command): string[] {
  switch (c.kind) {
    case 'fields':
    case 'display':
      return c.items.map((i) => i.name);
    case 'parse':
      return c.names;
    case 'unnest':
      return [c.into];
    case 'accum':
      return [c.as];
    case 'sessionize':
      return [c.as];
    case 'autoregress':
      return c.as !== undefined
        ? [c.as]
        : Array.from({ length: c.to - c.from + 1 }, (_, i) => `${c.field}_p${c.from + i}`);
    case 'addtotals':
      return c.row ? [c.fieldname] : [];
    default:
      return [];
  }
}

const COMMAND_WORD: Partial<Record<Command['kind'], string>> = { countFrequent: 'countFrequent' };

function commandWord(c: Command): string {
  if (c.kind === 'filter' && c.keyword) return c.keyword;
  return COMMAND_WORD[c.kind] ?? c.kind;
}

/**
 * Placement rules of the Logs Insights reference (each refused as CloudWatch refuses it; sources in
 * docs/query-language.md, "Commands reference"):
 * - dedup: "The only query command that you can use in a query after the dedup command is limit."
 * - stats: at most two; a sort or limit must come after the second stats; the second stats may use
 *   only what the first defined (no @message, and no bin(), which reads @timestamp, unless the first
 *   stats passed @timestamp on).
 * - SOURCE is the first command; fillmissing follows a stats … by bin().
 */
function validatePlacement(ast: QueryAst, problems: Problems): void {
  const cmds = ast.commands;
  const statsIdx = cmds.map((c, i) => (c.kind === 'stats' ? i : -1)).filter((i) => i >= 0);
  for (const i of statsIdx.slice(2)) {
    problems.push({
      pos: cmds[i].span.start,
      message: 'a query can have at most two stats commands (a quota CloudWatch does not raise)',
    });
  }
  if (statsIdx.length >= 2) {
    const second = statsIdx[1];
    for (let i = 0; i < second; i++) {
      const c = cmds[i];
      if (c.kind === 'sort' || c.kind === 'limit') {
        problems.push({
          pos: c.span.start,
          message: `with two stats commands, ${c.kind} must come after the second stats`,
        });
      }
    }
    // What the second stats may read: the first stats' columns and what commands between define.
    const first = cmds[statsIdx[0]] as StatsCommand;
    const visible = new Set([...first.by, ...first.aggregates].map((p) => p.name));
    for (let i = statsIdx[0] + 1; i < second; i++) for (const n of definedBy(cmds[i])) visible.add(n);
    const st = cmds[second] as StatsCommand;
    const own = new Set<string>();
    for (const p of [...st.aggregates, ...st.by]) {
      const refs: FieldRef[] = [];
      fieldRefs(p.expr, refs);
      for (const r of refs) {
        if (!visible.has(r.name) && !own.has(r.name)) {
          problems.push({
            pos: r.span.start,
            message: `'${r.name}' is not available in the second stats: it may use only fields the first stats defined (${[...visible].join(', ')})`,
          });
        }
      }
      const bin = findBin(p.expr);
      if (bin && !visible.has('@timestamp')) {
        problems.push({
          pos: bin.span.start,
          message:
            'bin() reads @timestamp, which the first stats did not keep; pass it on (e.g. max(@timestamp) as @t) and use dateceil(@t, …)',
        });
      }
      own.add(p.name);
    }
  }
  const dedup = cmds.findIndex((c) => c.kind === 'dedup');
  if (dedup >= 0) {
    for (const c of cmds.slice(dedup + 1)) {
      if (c.kind !== 'limit') {
        problems.push({
          pos: c.span.start,
          message: `${commandWord(c)} cannot follow dedup: the only command allowed after dedup is limit`,
        });
      }
    }
  }
  let lastStats: StatsCommand | undefined;
  cmds.forEach((c, i) => {
    if (c.kind === 'filter' && c.keyword === 'SOURCE' && i > 0) {
      problems.push({ pos: c.span.start, message: 'SOURCE must be the first command of the query' });
    }
    if (c.kind === 'stats') lastStats = c;
    if (c.kind === 'fillmissing') {
      const hasBin = lastStats?.by.some((b) => b.expr.kind === 'call' && b.expr.name === 'bin');
      if (!hasBin)
        problems.push({
          pos: c.span.start,
          message: 'fillmissing fills empty time bins, so it must follow a stats … by bin()',
        });
    }
  });
}

/** Subqueries an expression holds (`x in (…)`), outermost first. */
export function subqueriesOf(e: Expr): QueryAst[] {
  switch (e.kind) {
    case 'list':
      return e.subquery ? [e.subquery] : e.items.flatMap(subqueriesOf);
    case 'binary':
      return [...subqueriesOf(e.left), ...subqueriesOf(e.right)];
    case 'unary':
      return subqueriesOf(e.operand);
    case 'call':
      return e.args.flatMap(subqueriesOf);
    default:
      return [];
  }
}

function validate(ast: QueryAst, problems: Problems): void {
  validatePlacement(ast, problems);
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
        for (const q of subqueriesOf(c.expr)) validate(q, problems);
        break;
      case 'join':
      case 'appendcols':
        validate(c.sub, problems);
        break;
      case 'relevantfields':
        validateExpr(c.where, 'row', problems, vc);
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

/** Capturing groups in a regex source: `(` not escaped, not in a class, not `(?:`/lookaround (named `(?<x>` counts). */
export function captureGroupCount(source: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') inClass = true;
    else if (ch === '(') {
      if (source[i + 1] !== '?') n++;
      else if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') n++;
      else if (source[i + 2] === 'P' && source[i + 3] === '<') n++;
    }
  }
  return n;
}
