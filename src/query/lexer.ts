/**
 * Lazy scanner for the Logs Insights language. The parser pulls one token at a time and tells the
 * scanner when a `/` may start a regex literal (Logs Insights writes regexes as `/…/flags`, which is
 * ambiguous with division), so no token stream is materialised and rescans are free. Keywords are
 * case-insensitive and reach the parser as `ident` tokens; the parser decides by position. Lexical
 * problems are collected (never thrown) so the parser can report every problem at once.
 */
import type { DurationUnit, Pos } from './ast.js';

export type TokenKind =
  | 'ident' // field names and keywords: `@timestamp`, `verb`, `objectRef.name`, `` `a b` ``, `users[1].x`
  | 'string'
  | 'number'
  | 'duration'
  | 'regex'
  | 'op' // = == != < <= > >= + - * / ^ % =~ , ( ) [ ] :
  | 'pipe'
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** Source text of the token. */
  text: string;
  /** For ident: the field name (backticks removed, `[n]` turned into `.n`); for string: the unescaped value; for regex: the source. */
  value: string;
  /** True when the identifier was backtick-quoted (never a keyword). */
  quoted?: boolean;
  num?: number;
  flags?: string;
  unit?: DurationUnit;
  start: Pos;
  end: Pos;
}

export interface LexProblem {
  pos: Pos;
  message: string;
}

/**
 * Time units as documented for `bin` (multi-letter forms may take a plural s).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Stats.html
 */
const UNIT_ALIASES: Record<string, DurationUnit> = {
  ms: 'ms',
  msec: 'ms',
  msecs: 'ms',
  millisecond: 'ms',
  milliseconds: 'ms',
  s: 's',
  sec: 's',
  secs: 's',
  second: 's',
  seconds: 's',
  m: 'm',
  min: 'm',
  mins: 'm',
  minute: 'm',
  minutes: 'm',
  h: 'h',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  d: 'd',
  day: 'd',
  days: 'd',
  w: 'w',
  week: 'w',
  weeks: 'w',
  mo: 'mo',
  mon: 'mo',
  mons: 'mo',
  month: 'mo',
  months: 'mo',
  q: 'q',
  qtr: 'q',
  qtrs: 'q',
  quarter: 'q',
  quarters: 'q',
  y: 'y',
  yr: 'y',
  yrs: 'y',
  year: 'y',
  years: 'y',
};

export const UNIT_MS: Record<DurationUnit, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  mo: 30 * 86_400_000,
  q: 91 * 86_400_000,
  y: 365 * 86_400_000,
};

export function durationUnit(text: string): DurationUnit | undefined {
  return UNIT_ALIASES[text.toLowerCase()];
}

function isIdentStart(c: string): boolean {
  return (
    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '@' || c === '$' || c > '\u007f'
  );
}

function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= '0' && c <= '9');
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export class Lexer {
  readonly text: string;
  readonly problems: LexProblem[] = [];
  private pos = 0;
  private line = 1;
  private col = 1;

  constructor(text: string) {
    this.text = text;
  }

  here(): Pos {
    return { line: this.line, column: this.col, offset: this.pos };
  }

  /** Moves the scanner back to a position previously returned (used to rescan `/` as a regex). */
  reset(p: Pos): void {
    this.pos = p.offset;
    this.line = p.line;
    this.col = p.column;
  }

  private advance(n = 1): void {
    for (let i = 0; i < n; i++) {
      const c = this.text.charCodeAt(this.pos++);
      if (c === 10) {
        this.line++;
        this.col = 1;
      } else {
        this.col++;
      }
    }
  }

  private skipTrivia(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\u00a0') {
        this.advance();
      } else if (c === '#') {
        // A comment runs to the end of the line.
        while (this.pos < t.length && t[this.pos] !== '\n') this.advance();
      } else {
        break;
      }
    }
  }

  private tok(kind: TokenKind, start: Pos, value: string, extra?: Partial<Token>): Token {
    return { kind, text: this.text.slice(start.offset, this.pos), value, start, end: this.here(), ...extra };
  }

  /** Scans the next token. When `regexOk`, a `/` starts a regex literal. */
  next(regexOk: boolean): Token {
    this.skipTrivia();
    const t = this.text;
    const start = this.here();
    if (this.pos >= t.length) return this.tok('eof', start, '');
    const c = t[this.pos];
    if (c === '|') {
      this.advance();
      return this.tok('pipe', start, '|');
    }
    if (c === '"' || c === "'") return this.scanString(start, c);
    if (c === '/' && regexOk) return this.scanRegex(start);
    if (isDigit(c) || (c === '.' && isDigit(t[this.pos + 1] ?? ''))) return this.scanNumber(start);
    if (isIdentStart(c) || c === '`') return this.scanIdent(start);
    const two = t.slice(this.pos, this.pos + 2);
    if (two === '==' || two === '!=' || two === '<=' || two === '>=' || two === '=~' || two === '<>') {
      this.advance(2);
      return this.tok('op', start, two === '==' ? '=' : two === '<>' ? '!=' : two);
    }
    if ('=<>+-*/^%,()[]:'.includes(c)) {
      this.advance();
      return this.tok('op', start, c);
    }
    this.advance();
    this.problems.push({ pos: start, message: `unexpected character '${c}'` });
    return this.next(regexOk);
  }

  private scanString(start: Pos, quote: string): Token {
    const t = this.text;
    this.advance();
    let out = '';
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (c === quote) {
        this.advance();
        return this.tok('string', start, out);
      }
      if (c === '\\' && this.pos + 1 < t.length) {
        const n = t[this.pos + 1];
        this.advance(2);
        switch (n) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case '\\':
          case '"':
          case "'":
            out += n;
            break;
          default:
            // Unknown escapes keep the backslash (a Windows path or a regex-ish literal stays intact).
            out += `\\${n}`;
        }
        continue;
      }
      out += c;
      this.advance();
    }
    this.problems.push({ pos: start, message: `unterminated string (missing closing ${quote})` });
    return this.tok('string', start, out);
  }

  private scanRegex(start: Pos): Token {
    const t = this.text;
    this.advance(); // opening /
    let src = '';
    let inClass = false;
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (c === '\n') break;
      if (c === '\\' && this.pos + 1 < t.length) {
        // `\/` is an escaped slash: JavaScript accepts `\/` in a RegExp source too.
        src += c + t[this.pos + 1];
        this.advance(2);
        continue;
      }
      if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      else if (c === '/' && !inClass) {
        this.advance();
        let flags = '';
        while (this.pos < t.length && /[a-zA-Z]/.test(t[this.pos])) {
          flags += t[this.pos];
          this.advance();
        }
        return this.tok('regex', start, src, { flags });
      }
      src += c;
      this.advance();
    }
    this.problems.push({ pos: start, message: 'unterminated regular expression (missing closing /)' });
    return this.tok('regex', start, src, { flags: '' });
  }

  private scanNumber(start: Pos): Token {
    const t = this.text;
    const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(t.slice(this.pos, this.pos + 64))!;
    this.advance(m[0].length);
    const num = Number(m[0]);
    // A number immediately followed by a unit is a time period: 5m, 1h, 100ms, 2days.
    const u = /^[a-zA-Z]+/.exec(t.slice(this.pos, this.pos + 16));
    if (u && !m[0].includes('e') && !m[0].includes('E')) {
      const unit = durationUnit(u[0]);
      this.advance(u[0].length);
      if (!unit) {
        this.problems.push({
          pos: start,
          message: `unknown time unit '${u[0]}' (use ms, s, m, h, d, w, mo, q or y)`,
        });
        return this.tok('number', start, m[0], { num });
      }
      // bin(0m) would put every event in its own bucket (floorTime returns ts for a zero width).
      if (num === 0)
        this.problems.push({
          pos: start,
          message: `a time period must be greater than zero, found '${m[0]}${u[0]}'`,
        });
      return this.tok('duration', start, m[0] + u[0], { num, unit });
    }
    return this.tok('number', start, m[0], { num });
  }

  /**
   * A field name: segments joined by `.`, each a plain name or a backtick-quoted one, optionally
   * followed by `[n]` indexes. `users[1].action` becomes `users.1.action`. As in Logs Insights, names
   * with other characters (`-`, `:`, spaces, dots inside one key) need backticks; ``@`aws.tag.x` `` is
   * the field `@aws.tag.x`.
   */
  private scanIdent(start: Pos): Token {
    const t = this.text;
    let name = '';
    let quoted = false;
    for (;;) {
      if (t[this.pos] === '`') {
        quoted = true;
        this.advance();
        const s = this.pos;
        while (this.pos < t.length && t[this.pos] !== '`' && t[this.pos] !== '\n') this.advance();
        name += t.slice(s, this.pos);
        if (t[this.pos] === '`') this.advance();
        else
          this.problems.push({
            pos: start,
            message: 'unterminated backtick-quoted name (missing closing `)',
          });
      } else {
        const s = this.pos;
        while (this.pos < t.length && isIdentPart(t[this.pos])) this.advance();
        name += t.slice(s, this.pos);
        // ``@`aws.tag.team` `` (AWS's form for tag fields): `@` joined to a quoted name.
        if (this.pos - s === 1 && t[s] === '@' && t[this.pos] === '`') continue;
      }
      while (t[this.pos] === '[') {
        const m = /^\[\s*(\d+)\s*\]/.exec(t.slice(this.pos, this.pos + 24));
        if (!m) break;
        this.advance(m[0].length);
        name += `.${m[1]}`;
      }
      if (t[this.pos] === '.' && (t[this.pos + 1] === '`' || isIdentPart(t[this.pos + 1] ?? ''))) {
        this.advance();
        name += '.';
        continue;
      }
      break;
    }
    return this.tok('ident', start, name, quoted ? { quoted } : undefined);
  }
}
