/**
 * Canonical tokenization for `pattern`: a message is split into words and the separators between
 * them, so that `seps[0] + words[0] + seps[1] + … + words[n-1] + seps[n]` is the message again.
 * Separators are whitespace and the punctuation `, ; = ( ) [ ] { } " ' | < >`, plus `:` unless it sits
 * between two digits (so `10:04:05` stays one word). Every word that contains a digit is a variable
 * and gets a type — `Time`, `IPAddress`, `Number` or `Token` — decided by its own text only; words
 * without digits stay constant here (the clustering step may still turn a column into a `<Token>`).
 *
 * The result depends on the message alone, never on earlier messages: that is what makes the
 * clustering independent of input order, file split and thread count.
 */

export type TokenType = 'Time' | 'IPAddress' | 'Number' | 'Token';

/** Words past this many are folded into one trailing `<Token>` (bounds the work per message). */
export const MAX_WORDS = 128;
/** A variable value kept as a sample is cut to this many characters. */
export const MAX_VALUE_CHARS = 200;

/** Marker prefix of a typed (variable) word in a signature; never appears in text (it is a control char). */
export const VAR = '\u0000';
/** The typed placeholder strings as they appear in `Tokenized.words`. */
export const VAR_TIME = `${VAR}Time`;
export const VAR_IP = `${VAR}IPAddress`;
export const VAR_NUMBER = `${VAR}Number`;
export const VAR_TOKEN = `${VAR}Token`;
/** A trailing token that swallowed the rest of the message (matches any text, empty included). */
export const VAR_TAIL = `${VAR}*`;

export function isVar(word: string): boolean {
  return word.charCodeAt(0) === 0;
}

export function varType(word: string): TokenType {
  return word === VAR_TAIL ? 'Token' : (word.slice(1) as TokenType);
}

/** One message split: `words[i]` is either constant text or a `VAR…` placeholder whose text is `values[i]`. */
export interface Tokenized {
  seps: string[];
  words: string[];
  /** The original text of each word (constant or variable). */
  values: string[];
}

// Separator table: 1 = always a separator, 2 = ':' (unless between digits), 3 = '=' (unless in a URL).
const SEP = new Uint8Array(128);
for (const c of ' \t\n\r\f\v,;()[]{}"\'|<>') SEP[c.charCodeAt(0)] = 1;
SEP[':'.charCodeAt(0)] = 2;
SEP['='.charCodeAt(0)] = 3;
const CLOSER = new Uint8Array(128);
for (const [o, c] of ['()', '[]', '{}', '""', "''", '<>']) CLOSER[o.charCodeAt(0)] = c.charCodeAt(0);

function isHexOrColon(c: number): boolean {
  return (c >= 48 && c <= 58) || ((c | 32) >= 97 && (c | 32) <= 102);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

const NUMBER_RE =
  /^[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?:%|ms|us|ns|s|[kKMGT]i?B|[kKMGT])?$/;
const IP_RE = /^(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,2})?$/;
const TIME_RE =
  /^(?:\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:[T_ ]?\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?|\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|\d{1,2}:\d{2}|\d{8}T\d{6}Z?)$/;

/** Day and month names (as in syslog and `Date.toString()` stamps) are parts of a `Time`. */
const DATE_WORDS = new Set(
  'Mon Tue Wed Thu Fri Sat Sun Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' '),
);

/** Index of the `)` closing the `(` at `open` when it comes before any whitespace, quote or other `(` and is followed by a separator or the end; else 0. */
function attachedParens(msg: string, open: number): number {
  const n = Math.min(msg.length, open + 64);
  for (let j = open + 1; j < n; j++) {
    const c = msg.charCodeAt(j);
    if (c === 41) {
      const after = msg.charCodeAt(j + 1);
      return j + 1 >= msg.length || (after < 128 && SEP[after] !== 0) ? j : 0;
    }
    if (c <= 32 || c === 40 || c === 34) return 0;
  }
  return 0;
}

/** klog header `E1205 …`: the level letter stays constant, the date is a variable. */
function klogLevelLength(msg: string): number {
  const c = msg.charCodeAt(0);
  if ((c === 73 || c === 87 || c === 69 || c === 70) && msg.length > 5) {
    for (let i = 1; i < 5; i++) if (!isDigit(msg.charCodeAt(i))) return 0;
    return 1;
  }
  return 0;
}

/** Type codes of `Spans.type`. */
export const T_CONST = 0;
export const T_TIME = 1;
export const T_IP = 2;
export const T_NUMBER = 3;
export const T_TOKEN = 4;
export const T_TAIL = 5;
const TYPE_WORD = ['', VAR_TIME, VAR_IP, VAR_NUMBER, VAR_TOKEN, VAR_TAIL];

/**
 * A message split without copying: word i is `msg.slice(wStart[i], wEnd[i])`, separator i (before
 * word i) runs from the end of word i-1 (or 0) to `wStart[i]`, and the trailing separator from the
 * end of the last word to the end of the message. `type[i]` is a `T_…` code.
 */
export interface Spans {
  n: number;
  wStart: Int32Array;
  wEnd: Int32Array;
  type: Uint8Array;
}

export function newSpans(): Spans {
  return {
    n: 0,
    wStart: new Int32Array(MAX_WORDS + 2),
    wEnd: new Int32Array(MAX_WORDS + 2),
    type: new Uint8Array(MAX_WORDS + 2),
  };
}

/** The type code of a word that contains a digit; slices only for the few shapes a regex must decide. */
function classifyRange(msg: string, s: number, e: number): number {
  const c0 = msg.charCodeAt(s);
  if (!(isDigit(c0) || c0 === 45 || c0 === 43 || c0 === 46)) return T_TOKEN;
  let i = c0 === 45 || c0 === 43 ? s + 1 : s;
  let digits = 0;
  let dots = 0;
  for (; i < e; i++) {
    const c = msg.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (c === 46) dots++;
    else break;
  }
  if (i === e && digits > 0) {
    if (dots === 0 || (dots === 1 && msg.charCodeAt(e - 1) !== 46)) return T_NUMBER;
  }
  const w = msg.slice(s, e);
  if (NUMBER_RE.test(w)) return T_NUMBER;
  if (IP_RE.test(w)) return T_IP;
  if (TIME_RE.test(w)) return T_TIME;
  return T_TOKEN;
}

function isHexRange(msg: string, s: number, e: number): boolean {
  let i = s;
  if (e - s > 2 && msg.charCodeAt(s) === 48 && (msg.charCodeAt(s + 1) | 32) === 120) i += 2;
  for (; i < e; i++) {
    const c = msg.charCodeAt(i);
    if (!(isDigit(c) || ((c | 32) >= 97 && (c | 32) <= 102))) return false;
  }
  return true;
}

/** Splits `msg` into word spans (see module comment for the rules). */
export function scan(msg: string, sp: Spans): Spans {
  const { wStart, wEnd, type } = sp;
  let w = 0;
  const n = msg.length;
  let i = 0;
  let sepStart = 0;
  let quoted = false;
  const klog = klogLevelLength(msg);
  if (klog) {
    wStart[0] = 0;
    wEnd[0] = klog;
    type[0] = T_CONST;
    w = 1;
    i = klog;
    sepStart = klog;
  }
  while (i < n) {
    // Separator run. Runs of dots (`......`) separate too, and an empty pair (`()`, `""`) holds an
    // empty word, so `host ()` and `host (name)` have the same shape.
    let empty = false;
    while (i < n) {
      const c = msg.charCodeAt(i);
      if (c === 46) {
        if (msg.charCodeAt(i + 1) === 46 || (i > sepStart && msg.charCodeAt(i - 1) === 46)) {
          i++;
          continue;
        }
        break;
      }
      if (c >= 128 || SEP[c] === 0) break;
      if (c === 34) quoted = !quoted;
      i++;
      if (CLOSER[c] !== 0 && msg.charCodeAt(i) === CLOSER[c]) {
        empty = true;
        break;
      }
    }
    if (empty && w < MAX_WORDS) {
      wStart[w] = i;
      wEnd[w] = i;
      type[w] = T_CONST;
      w++;
      sepStart = i;
      continue;
    }
    if (i >= n) break;
    if (w >= MAX_WORDS) {
      wStart[w] = i;
      wEnd[w] = n;
      type[w] = T_TAIL;
      sp.n = w + 1;
      return sp;
    }
    const start = i;
    let digit = false;
    let dot = false;
    let url = false;
    let hexOnly = true;
    while (i < n) {
      const c = msg.charCodeAt(i);
      if (hexOnly && !isHexOrColon(c)) hexOnly = false;
      if (c < 128) {
        const s = SEP[c];
        if (quoted) {
          // Inside a double-quoted string only whitespace and the closing quote end a word: a value
          // such as "system:node:ip-10-0-1-2" or "a=b,c" is one word whatever it holds.
          if (c <= 32 || c === 34) break;
          if (c >= 48 && c <= 57) digit = true;
        } else if (c === 40 && i > start && attachedParens(msg, i) > 0) {
          // `LOCAL(0)`, `pam_unix(sshd:auth)`: a parenthesised suffix glued to a word, closed before
          // any space, belongs to the word.
          const close = attachedParens(msg, i);
          for (let j = i + 1; j < close; j++) if (isDigit(msg.charCodeAt(j))) digit = true;
          i = close;
        } else if (s !== 0) {
          // '=' inside a URL or path (`/x?a=1`) stays in the word; ':' between digits too, unless
          // the word already has a dot (`10.0.0.1:80` splits into address and port, `10:04:05` does not).
          // Hex groups joined by ':' (a MAC or IPv6 address, `fe80::1`) stay one word too.
          if (
            s === 3
              ? !url
              : s === 1 ||
                (!(hexOnly && isHexOrColon(msg.charCodeAt(i - 1)) && isHexOrColon(msg.charCodeAt(i + 1))) &&
                  (dot || !isDigit(msg.charCodeAt(i - 1)) || !isDigit(msg.charCodeAt(i + 1))))
          )
            break;
        } else if (c >= 48 && c <= 57) digit = true;
        else if (c === 46) {
          if (msg.charCodeAt(i + 1) === 46) break;
          dot = true;
        } else if (c === 47 || c === 63) url = true;
      }
      i++;
    }
    const len = i - start;
    wStart[w] = start;
    wEnd[w] = i;
    type[w] = digit
      ? classifyRange(msg, start, i)
      : len === 3 && DATE_WORDS.has(msg.slice(start, i))
        ? T_TIME
        : len >= 8 && isHexRange(msg, start, i)
          ? T_TOKEN
          : T_CONST;
    w++;
    sepStart = i;
  }
  sp.n = w;
  return sp;
}

/** Separator i of `sp` as [start, end) offsets. */
export function sepStartOf(sp: Spans, i: number): number {
  return i === 0 ? 0 : sp.wEnd[i - 1];
}

/** Materialises spans as strings (new signatures, tests). */
export function materialize(msg: string, sp: Spans, out: Tokenized): Tokenized {
  const { seps, words, values } = out;
  seps.length = 0;
  words.length = 0;
  values.length = 0;
  for (let i = 0; i < sp.n; i++) {
    seps.push(msg.slice(sepStartOf(sp, i), sp.wStart[i]));
    const v = msg.slice(sp.wStart[i], sp.wEnd[i]);
    words.push(sp.type[i] === T_CONST ? v : TYPE_WORD[sp.type[i]]);
    values.push(v);
  }
  seps.push(sp.n > 0 ? msg.slice(sp.wEnd[sp.n - 1]) : msg);
  return out;
}

const SCRATCH = newSpans();

/** Splits `msg` into `out` (arrays reused: cleared first). */
export function tokenize(msg: string, out: Tokenized): Tokenized {
  return materialize(msg, scan(msg, SCRATCH), out);
}

export function newTokenized(): Tokenized {
  return { seps: [], words: [], values: [] };
}
