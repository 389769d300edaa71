/**
 * `logfmt` parser: generic `key=value key2="quoted value" flag` lines (logrus, Go kit, Heroku-style
 * logs) → one field per key, values kept as strings (logfmt is untyped), bare keys as `true`, later
 * duplicates win. The tokenizer is exported and shared with the `eks-authenticator` and `klog`
 * parsers. Pure, single pass, never throws; a line with no `key=value` pair is a failure. Limits:
 * keys cannot be quoted; an unterminated quoted value runs to the end of the line.
 */
import type { ParseFailure, Parser } from '../core/pipeline.js';

export interface LogfmtScan {
  /** `key=value` pairs found. */
  pairs: number;
  /** Tokens that were not `key=value` (bare words, quoted words, stray `=`). */
  bare: number;
}

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const EQ = 61;
const BACKSLASH = 92;

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === 10 || c === 13;
}

/**
 * Reads a double-quoted string starting at `open` (the quote). Returns the decoded value and the
 * index just past the closing quote (or the end of the text when unterminated). Go/JSON escapes.
 */
export function readQuoted(text: string, open: number): { value: string; end: number } {
  const start = open + 1;
  let close = text.indexOf('"', start);
  let backslash = text.indexOf('\\', start);
  // Fast path: no escape before the closing quote.
  if (close !== -1 && (backslash === -1 || backslash > close))
    return { value: text.slice(start, close), end: close + 1 };
  let out = '';
  let i = start;
  const n = text.length;
  while (i < n) {
    backslash = text.indexOf('\\', i);
    close = text.indexOf('"', i);
    if (close === -1) close = n;
    if (backslash === -1 || backslash > close) {
      out += text.slice(i, close);
      return { value: out, end: close < n ? close + 1 : n };
    }
    out += text.slice(i, backslash);
    const e = text.charCodeAt(backslash + 1);
    switch (e) {
      case 110: // n
        out += '\n';
        break;
      case 116: // t
        out += '\t';
        break;
      case 114: // r
        out += '\r';
        break;
      case QUOTE:
      case BACKSLASH:
      case 47: // /
        out += String.fromCharCode(e);
        break;
      case 117: {
        // uXXXX
        const hex = text.slice(backslash + 2, backslash + 6);
        if (/^[0-9a-fA-F]{4}$/.test(hex)) {
          out += String.fromCharCode(Number.parseInt(hex, 16));
          i = backslash + 6;
          continue;
        }
        out += '\\u';
        break;
      }
      default:
        // Unknown escape (or a trailing backslash): keep it verbatim.
        out += backslash + 1 < n ? `\\${text[backslash + 1]}` : '\\';
    }
    i = backslash + 2;
  }
  return { value: out, end: n };
}

/**
 * Tokenizes logfmt from `start`, writing pairs into `into`. With `overwrite` false, keys already in
 * `into` are kept (callers use this to protect fields they set themselves). Bare keys become `true`.
 * With `stopOnBare`, returns at the first bare word without writing it: detection of clearly-logfmt
 * lines stays cheap on prose (and never adds prose words as property names, which would grow V8's
 * hidden-class tree with one-off keys).
 */
export function scanLogfmt(
  text: string,
  into: Record<string, unknown>,
  start = 0,
  overwrite = true,
  stopOnBare = false,
): LogfmtScan {
  let pairs = 0;
  let bare = 0;
  let i = start;
  const n = text.length;
  while (i < n) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    if (i >= n) break;
    const c0 = text.charCodeAt(i);
    if (c0 === QUOTE) {
      // A quoted word where a key should be: not logfmt, skip it.
      bare++;
      if (stopOnBare) break;
      i = readQuoted(text, i).end;
      continue;
    }
    const keyStart = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === EQ || c === QUOTE || isSpace(c)) break;
      i++;
    }
    const key = text.slice(keyStart, i);
    if (i < n && text.charCodeAt(i) === EQ) {
      i++;
      let value: string;
      if (i < n && text.charCodeAt(i) === QUOTE) {
        const q = readQuoted(text, i);
        value = q.value;
        i = q.end;
      } else {
        const vStart = i;
        while (i < n && !isSpace(text.charCodeAt(i))) i++;
        value = text.slice(vStart, i);
      }
      if (key.length === 0) {
        bare++;
        if (stopOnBare) break;
        continue;
      }
      pairs++;
      if (overwrite || !(key in into)) into[key] = value;
    } else if (key.length > 0) {
      bare++;
      if (stopOnBare) break;
      if (overwrite || !(key in into)) into[key] = true;
    } else {
      // A quote straight after a key (`key"x"`): skip the quoted part.
      bare++;
      if (stopOnBare) break;
      if (i < n && text.charCodeAt(i) === QUOTE) i = readQuoted(text, i).end;
      else i++;
    }
  }
  return { pairs, bare };
}

/** True when the whole line is logfmt: at least `minPairs` pairs and no bare words. */
export function isClearlyLogfmt(scan: LogfmtScan, minPairs = 2): boolean {
  return scan.pairs >= minPairs && scan.bare === 0;
}

export interface LogfmtOptions {
  type: 'logfmt';
}

export function createLogfmtParser(_opts?: Partial<LogfmtOptions>): Parser {
  return {
    type: 'logfmt',
    parse(text): Record<string, unknown> | ParseFailure {
      const fields: Record<string, unknown> = {};
      const scan = scanLogfmt(text, fields);
      if (scan.pairs === 0) return { error: 'no key=value pairs' };
      return fields;
    },
  };
}
