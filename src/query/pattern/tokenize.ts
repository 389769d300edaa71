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
  'Mon Tue Wed Thu Fri Sat Sun Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'
    .split(' ')
    .map((w) => (w.charCodeAt(0) << 16) | (w.charCodeAt(1) << 8) | w.charCodeAt(2)),
);

/** Whether the 3 characters at `s` are a day or month name (no slice). */
function isDateWord(msg: string, s: number): boolean {
  const a = msg.charCodeAt(s);
  const b = msg.charCodeAt(s + 1);
  const c = msg.charCodeAt(s + 2);
  return a < 128 && b < 128 && c < 128 && DATE_WORDS.has((a << 16) | (b << 8) | c);
}

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
 *
 * The scan also hashes every word and separator as it goes (two independent 32-bit hashes each,
 * `wh1`/`wh2` and `sh1`/`sh2`; `sh*[n]` is the trailing separator), so the clusterer keys a message
 * by combining ~2n numbers instead of walking its text again. `wh1` is FNV-1a (`hash32`), the hash
 * the value samples use, so a sampled value is not hashed twice.
 */
export interface Spans {
  n: number;
  wStart: Int32Array;
  wEnd: Int32Array;
  type: Uint8Array;
  wh1: Int32Array;
  wh2: Int32Array;
  sh1: Int32Array;
  sh2: Int32Array;
}

export function newSpans(): Spans {
  return {
    n: 0,
    wStart: new Int32Array(MAX_WORDS + 2),
    wEnd: new Int32Array(MAX_WORDS + 2),
    type: new Uint8Array(MAX_WORDS + 2),
    wh1: new Int32Array(MAX_WORDS + 2),
    wh2: new Int32Array(MAX_WORDS + 2),
    sh1: new Int32Array(MAX_WORDS + 3),
    sh2: new Int32Array(MAX_WORDS + 3),
  };
}

/** Seeds and steps of the two text hashes (FNV-1a and a second multiplicative one). */
export const H1_SEED = 0x811c9dc5 | 0;
export const H2_SEED = 0x9747b28c | 0;
const H1_MUL = 0x01000193;
const H2_MUL = 0x5bd1e995;

/** The two text hashes of `s.slice(from, to)`, as the scan computes them (h1 is returned, h2 in `HASH2.v`). */
export const HASH2 = { v: 0 };
export function hashRange(s: string, from: number, to: number): number {
  let h1 = H1_SEED;
  let h2 = H2_SEED;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, H1_MUL);
    h2 = Math.imul(h2 ^ c, H2_MUL);
  }
  HASH2.v = h2;
  return h1;
}

// Character classes of the word scan (ASCII); a character without the C_SPECIAL bit is plain
// word text, handled by the loop's fast path, which only ORs the classes of the run together.
const C_HEX = 1; // 0-9 a-f A-F ':' (MAC/IPv6 groups)
const C_DIGIT = 2;
const C_SPECIAL = 4; // separators, '(', '.', '/', '?': the slow path decides
const C_NOT_HEX = 8; // any character without C_HEX (non-ASCII ones too)
const CLS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CLS[c] = C_HEX | C_DIGIT;
for (const c of 'abcdefABCDEF:') CLS[c.charCodeAt(0)] |= C_HEX;
for (let c = 0; c < 128; c++) if ((CLS[c] & C_HEX) === 0) CLS[c] |= C_NOT_HEX;
// Control characters and space end a word inside quotes (and nowhere else unless separators).
for (let c = 0; c < 128; c++) if (SEP[c] !== 0 || c <= 32) CLS[c] |= C_SPECIAL;
for (const c of '(./?') CLS[c.charCodeAt(0)] |= C_SPECIAL;

/**
 * Characters any of NUMBER_RE, IP_RE or TIME_RE can match (words never hold whitespace). A word with
 * any other character is a `Token` without running a regex: exact, not a heuristic.
 */
const MAY_TYPE = new Uint8Array(128);
for (const c of '0123456789+-.,eE%msunkKMGTiB/:T_Z') MAY_TYPE[c.charCodeAt(0)] = 1;

/** `d…d` with exactly `len` digits at `s`. */
function digitsAt(msg: string, s: number, len: number): boolean {
  for (let i = s; i < s + len; i++) if (!isDigit(msg.charCodeAt(i))) return false;
  return true;
}

/** `.ddd…` (at least one digit) running exactly to `e`, or nothing (s === e). */
function fractionTo(msg: string, s: number, e: number): boolean {
  if (s === e) return true;
  if (msg.charCodeAt(s) !== 46 || s + 1 === e) return false;
  return digitsAt(msg, s + 1, e - s - 1);
}

/** `hh:mm:ss` at `s` (two digits each). */
function clockAt(msg: string, s: number): boolean {
  return (
    digitsAt(msg, s, 2) &&
    msg.charCodeAt(s + 2) === 58 &&
    digitsAt(msg, s + 3, 2) &&
    msg.charCodeAt(s + 5) === 58 &&
    digitsAt(msg, s + 6, 2)
  );
}

/**
 * The two commonest time shapes decided without a regex: `hh:mm:ss[.f]` and
 * `yyyy-mm-ddThh:mm:ss[.f][Z]`. Both are strings TIME_RE accepts and NUMBER_RE/IP_RE reject, so the
 * answer is the regexes' answer (tokenize.test.ts checks the two agree).
 */
function isCommonTime(msg: string, s: number, e: number): boolean {
  const len = e - s;
  if (len >= 8 && clockAt(msg, s)) return fractionTo(msg, s + 8, e);
  if (
    len >= 19 &&
    digitsAt(msg, s, 4) &&
    msg.charCodeAt(s + 4) === 45 &&
    digitsAt(msg, s + 5, 2) &&
    msg.charCodeAt(s + 7) === 45 &&
    digitsAt(msg, s + 8, 2) &&
    msg.charCodeAt(s + 10) === 84 &&
    clockAt(msg, s + 11)
  )
    return fractionTo(msg, s + 19, msg.charCodeAt(e - 1) === 90 ? e - 1 : e);
  return false;
}

/** The type code of a word that contains a digit, by the regexes (the reference classification). */
export function classifyByRegex(w: string): number {
  if (NUMBER_RE.test(w)) return T_NUMBER;
  if (IP_RE.test(w)) return T_IP;
  if (TIME_RE.test(w)) return T_TIME;
  return T_TOKEN;
}

/**
 * The type code of a word that contains a digit: the same answer as `classifyByRegex`, but plain
 * numbers, common times and words with a character no regex accepts are decided in one char scan,
 * without slicing the word out.
 */
export function classifyRange(msg: string, s: number, e: number): number {
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
  for (let j = i; j < e; j++) {
    const c = msg.charCodeAt(j);
    if (c >= 128 || MAY_TYPE[c] === 0) return T_TOKEN;
  }
  if (isCommonTime(msg, s, e)) return T_TIME;
  return classifyByRegex(msg.slice(s, e));
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

/**
 * The message's UTF-16 code units, copied by one native call (`Buffer.write`, little-endian as on
 * every platform Node runs on): the scan's per-character loops read a typed array instead of
 * calling `charCodeAt`, whose string-representation dispatch cost about a quarter of the scan.
 * Only indices below the message's length are read from it (lookahead past the end stays on the
 * string, where it reads NaN, not a stale unit).
 */
let UNITS_BUF = Buffer.allocUnsafeSlow(16384);
let UNITS = new Uint16Array(UNITS_BUF.buffer, UNITS_BUF.byteOffset, UNITS_BUF.length >> 1);

function units(msg: string): Uint16Array {
  if (msg.length > UNITS.length) {
    UNITS_BUF = Buffer.allocUnsafeSlow(2 * msg.length + 1024);
    UNITS = new Uint16Array(UNITS_BUF.buffer, UNITS_BUF.byteOffset, UNITS_BUF.length >> 1);
  }
  UNITS_BUF.write(msg, 0, 'utf16le');
  return UNITS;
}

/** Splits `msg` into word spans (see module comment for the rules), hashing words and separators. */
export function scan(msg: string, sp: Spans): Spans {
  const { wStart, wEnd, type, wh1, wh2, sh1, sh2 } = sp;
  let w = 0;
  const n = msg.length;
  const u = units(msg);
  let i = 0;
  let sepStart = 0;
  let quoted = false;
  const klog = klogLevelLength(msg);
  if (klog) {
    sh1[0] = H1_SEED;
    sh2[0] = H2_SEED;
    wStart[0] = 0;
    wEnd[0] = klog;
    type[0] = T_CONST;
    wh1[0] = hashRange(msg, 0, klog);
    wh2[0] = HASH2.v;
    w = 1;
    i = klog;
    sepStart = klog;
  }
  while (i < n) {
    // Separator run. Runs of dots (`......`) separate too, and an empty pair (`()`, `""`) holds an
    // empty word, so `host ()` and `host (name)` have the same shape.
    let empty = false;
    let s1 = H1_SEED;
    let s2 = H2_SEED;
    while (i < n) {
      const c = u[i];
      if (c === 46) {
        if (msg.charCodeAt(i + 1) === 46 || (i > sepStart && msg.charCodeAt(i - 1) === 46)) {
          s1 = Math.imul(s1 ^ c, H1_MUL);
          s2 = Math.imul(s2 ^ c, H2_MUL);
          i++;
          continue;
        }
        break;
      }
      if (c >= 128 || SEP[c] === 0) break;
      if (c === 34) quoted = !quoted;
      s1 = Math.imul(s1 ^ c, H1_MUL);
      s2 = Math.imul(s2 ^ c, H2_MUL);
      i++;
      if (CLOSER[c] !== 0 && msg.charCodeAt(i) === CLOSER[c]) {
        empty = true;
        break;
      }
    }
    if (empty && w < MAX_WORDS) {
      sh1[w] = s1;
      sh2[w] = s2;
      wStart[w] = i;
      wEnd[w] = i;
      type[w] = T_CONST;
      wh1[w] = H1_SEED;
      wh2[w] = H2_SEED;
      w++;
      sepStart = i;
      continue;
    }
    if (i >= n) {
      sh1[w] = s1;
      sh2[w] = s2;
      sp.n = w;
      return sp;
    }
    if (w >= MAX_WORDS) {
      sh1[w] = s1;
      sh2[w] = s2;
      wStart[w] = i;
      wEnd[w] = n;
      type[w] = T_TAIL;
      wh1[w] = H1_SEED;
      wh2[w] = H2_SEED;
      sh1[w + 1] = H1_SEED;
      sh2[w + 1] = H2_SEED;
      sp.n = w + 1;
      return sp;
    }
    sh1[w] = s1;
    sh2[w] = s2;
    const start = i;
    // OR of the classes of the word's characters so far: C_DIGIT (has a digit), C_NOT_HEX.
    let acc = 0;
    let dot = false;
    let url = false;
    let h1 = H1_SEED;
    let h2 = H2_SEED;
    while (i < n) {
      // Plain word text (the common case): no decision to take, only classes and hashes.
      let c = u[i];
      let k = c < 128 ? CLS[c] : C_NOT_HEX;
      while ((k & C_SPECIAL) === 0) {
        acc |= k;
        h1 = Math.imul(h1 ^ c, H1_MUL);
        h2 = Math.imul(h2 ^ c, H2_MUL);
        if (++i >= n) break;
        c = u[i];
        k = c < 128 ? CLS[c] : C_NOT_HEX;
      }
      if (i >= n) break;
      acc |= k & C_NOT_HEX;
      const s = SEP[c];
      if (quoted) {
        // Inside a double-quoted string only whitespace and the closing quote end a word: a
        // value such as "system:node:ip-10-0-1-2" or "a=b,c" is one word whatever it holds.
        if (c <= 32 || c === 34) break;
      } else if (c === 40 && i > start && attachedParens(msg, i) > 0) {
        // `LOCAL(0)`, `pam_unix(sshd:auth)`: a parenthesised suffix glued to a word, closed
        // before any space, belongs to the word.
        const close = attachedParens(msg, i);
        for (let j = i; j < close; j++) {
          const d = msg.charCodeAt(j);
          if (isDigit(d)) acc |= C_DIGIT;
          h1 = Math.imul(h1 ^ d, H1_MUL);
          h2 = Math.imul(h2 ^ d, H2_MUL);
        }
        i = close;
        h1 = Math.imul(h1 ^ 41, H1_MUL);
        h2 = Math.imul(h2 ^ 41, H2_MUL);
        i++;
        continue;
      } else if (s !== 0) {
        // '=' inside a URL or path (`/x?a=1`) stays in the word; ':' between digits too, unless
        // the word already has a dot (`10.0.0.1:80` splits into address and port, `10:04:05`
        // does not). Hex groups joined by ':' (a MAC or IPv6 address, `fe80::1`) stay one word.
        if (
          s === 3
            ? !url
            : s === 1 ||
              (!(
                (acc & C_NOT_HEX) === 0 &&
                isHexOrColon(msg.charCodeAt(i - 1)) &&
                isHexOrColon(msg.charCodeAt(i + 1))
              ) &&
                (dot || !isDigit(msg.charCodeAt(i - 1)) || !isDigit(msg.charCodeAt(i + 1))))
        )
          break;
      } else if (c === 46) {
        if (msg.charCodeAt(i + 1) === 46) break;
        dot = true;
      } else if (c === 47 || c === 63) url = true;
      h1 = Math.imul(h1 ^ c, H1_MUL);
      h2 = Math.imul(h2 ^ c, H2_MUL);
      i++;
    }
    const digit = (acc & C_DIGIT) !== 0;
    const len = i - start;
    wStart[w] = start;
    wEnd[w] = i;
    wh1[w] = h1;
    wh2[w] = h2;
    type[w] = digit
      ? classifyRange(msg, start, i)
      : len === 3 && isDateWord(msg, start)
        ? T_TIME
        : len >= 8 && isHexRange(msg, start, i)
          ? T_TOKEN
          : T_CONST;
    w++;
    sepStart = i;
  }
  sh1[w] = H1_SEED;
  sh2[w] = H2_SEED;
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
