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

/** A word of 8 or more hex digits is an id even without a decimal digit (`ffffffff`). */
const HEX_RE = /^(?:0x)?[0-9a-fA-F]+$/;

/** Type of a word that contains a digit. */
export function classify(word: string): string {
  if (NUMBER_RE.test(word)) return VAR_NUMBER;
  if (IP_RE.test(word)) return VAR_IP;
  if (TIME_RE.test(word)) return VAR_TIME;
  return VAR_TOKEN;
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

/** Splits `msg` into `out` (arrays reused: cleared first). */
export function tokenize(msg: string, out: Tokenized): Tokenized {
  const { seps, words, values } = out;
  seps.length = 0;
  words.length = 0;
  values.length = 0;
  const n = msg.length;
  let i = 0;
  let sepStart = 0;
  let quoted = false;
  const klog = klogLevelLength(msg);
  if (klog) {
    seps.push('');
    words.push(msg.slice(0, klog));
    values.push(msg.slice(0, klog));
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
    if (empty && words.length < MAX_WORDS) {
      seps.push(msg.slice(sepStart, i));
      words.push('');
      values.push('');
      sepStart = i;
      continue;
    }
    if (i >= n) break;
    if (words.length >= MAX_WORDS) {
      seps.push(msg.slice(sepStart, i));
      words.push(VAR_TAIL);
      values.push(msg.slice(i, i + MAX_VALUE_CHARS));
      seps.push('');
      return out;
    }
    seps.push(msg.slice(sepStart, i));
    const start = i;
    let digit = false;
    let dot = false;
    let url = false;
    while (i < n) {
      const c = msg.charCodeAt(i);
      if (c < 128) {
        const s = SEP[c];
        if (quoted) {
          // Inside a double-quoted string only whitespace and the closing quote end a word: a value
          // such as "system:node:ip-10-0-1-2" or "a=b,c" is one word whatever it holds.
          if (c <= 32 || c === 34) break;
          if (c >= 48 && c <= 57) digit = true;
        } else if (s !== 0) {
          // '=' inside a URL or path (`/x?a=1`) stays in the word; ':' between digits too, unless
          // the word already has a dot (`10.0.0.1:80` splits into address and port, `10:04:05` does not).
          if (
            s === 3
              ? !url
              : s === 1 || dot || !isDigit(msg.charCodeAt(i - 1)) || !isDigit(msg.charCodeAt(i + 1))
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
    const w = msg.slice(start, i);
    const len = i - start;
    words.push(
      digit
        ? classify(w)
        : len === 3 && DATE_WORDS.has(w)
          ? VAR_TIME
          : len >= 8 && HEX_RE.test(w)
            ? VAR_TOKEN
            : w,
    );
    values.push(w);
    sepStart = i;
  }
  seps.push(msg.slice(sepStart));
  return out;
}

export function newTokenized(): Tokenized {
  return { seps: [], words: [], values: [] };
}
