/**
 * Value semantics shared by the evaluator, the functions and the commands: field resolution
 * (exact key first, then walking nested objects/arrays), timestamp normalisation, numeric
 * coercion of number-like strings, and the total order used by `sort`, `min`/`max` and comparisons.
 * `undefined` and `null` both mean "missing" and propagate as null (see docs/query-language.md).
 */
import type { LogRecord } from '../core/record.js';
import type { Row } from './types.js';

export type Getter = (row: Row) => unknown;

/** Fields holding epoch-ms timestamps in rows (ISO strings are normalised on read). */
export const TIME_FIELDS = new Set(['@timestamp', '@ingestionTime']);

/**
 * Walks `obj` along `parts[i…]`. At each level a key that itself contains dots
 * (`app.kubernetes.io/name`) is tried first, longest first; `joins[i][j]` holds
 * `parts[i..j].join('.')` precomputed so walking allocates nothing.
 */
function walk(obj: unknown, parts: string[], joins: string[][], i: number): unknown {
  let cur = obj;
  while (i < parts.length) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const o = cur as Record<string, unknown>;
    if (!Array.isArray(o)) {
      for (let j = parts.length - 1; j > i; j--) {
        const key = joins[i][j];
        if (Object.hasOwn(o, key)) {
          const r = walk(o[key], parts, joins, j + 1);
          if (r !== undefined) return r;
        }
      }
    }
    cur = o[parts[i]];
    i++;
  }
  return cur;
}

/** Parses an ISO-8601 (or `YYYY-MM-DD HH:MM:SS.mmm`, taken as UTC) timestamp string; NaN when not a date. */
export function parseTime(s: string): number {
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s))
    return Date.parse(`${s.replace(' ', 'T')}Z`);
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  return Date.parse(s);
}

/** Normalises a timestamp value (epoch ms number, numeric string, ISO string, Date) to epoch ms, else null. */
export function toEpochMs(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') {
    const n = parseTime(v);
    return Number.isFinite(n) ? n : null;
  }
  if (v instanceof Date) return v.getTime();
  return null;
}

/** Compiles a field read. Dotted names resolve by exact key first, then by walking objects/arrays. */
export function fieldGetter(name: string): Getter {
  const parts = name.split('.');
  const joins = parts.map((_, i) => parts.map((__, j) => (j >= i ? parts.slice(i, j + 1).join('.') : '')));
  // Rows are JSON documents: inherited members (`toString`, `__proto__`) are never fields.
  const get: Getter =
    parts.length === 1 || parts.some((p) => p === '')
      ? (row) => {
          const v = row[name];
          return typeof v === 'function' || v === Object.prototype ? undefined : v;
        }
      : (row) => {
          const v = row[name];
          const r = v !== undefined ? v : walk(row, parts, joins, 0);
          return typeof r === 'function' || r === Object.prototype ? undefined : r;
        };
  if (TIME_FIELDS.has(name)) {
    return (row) => {
      const v = get(row);
      return typeof v === 'number' || v === undefined || v === null ? v : toEpochMs(v);
    };
  }
  return get;
}

/** Reads a record's system fields and parsed fields as a shipped document would show them. */
export function recordFieldGetter(name: string): Getter {
  switch (name) {
    case '@message':
      return (r) => (r as unknown as LogRecord).message;
    case '@timestamp':
      return (r) => (r as unknown as LogRecord).timestamp;
    case '@logStream':
      return (r) => (r as unknown as LogRecord).meta.logStream;
    case '@logGroup':
      return (r) => (r as unknown as LogRecord).meta.logGroup;
    case '@log':
      return (r) => {
        const m = (r as unknown as LogRecord).meta;
        return m.owner ? `${m.owner}:${m.logGroup}` : m.logGroup;
      };
    case '@id':
      return (r) => (r as unknown as LogRecord).meta.id;
    default: {
      const g = fieldGetter(name);
      return (r) => g((r as unknown as LogRecord).fields);
    }
  }
}

/** `recordFieldGetter` for a record itself: what conditions, transforms and sinks read by field name. */
export function recordReader(name: string): (r: LogRecord) => unknown {
  const g = recordFieldGetter(name);
  return (r) => g(r as unknown as Row);
}

export function isMissing(v: unknown): v is null | undefined {
  return v === undefined || v === null;
}

const NUMERIC_RE = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/** A number, or a string that looks like one (Logs Insights compares such strings numerically), else NaN. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return NUMERIC_RE.test(v) ? Number(v) : Number.NaN;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return Number.NaN;
}

/** Nesting kept by `jsonText` when a value is too deep for `JSON.stringify`'s stack. */
export const JSON_TEXT_MAX_DEPTH = 256;
const TOO_DEEP = `[nested deeper than ${JSON_TEXT_MAX_DEPTH} levels]`;

function capDepth(v: unknown, depth: number): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (depth >= JSON_TEXT_MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(v)) return v.map((x) => capDepth(x, depth + 1));
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v)) o[k] = capDepth((v as Record<string, unknown>)[k], depth + 1);
  return o;
}

/**
 * `JSON.stringify(v, null, space)` for values read from logs, which may nest deeper than the
 * stack allows (`jsonParse` of a hostile message, an archive line written by another tool): such a
 * value is written with everything below JSON_TEXT_MAX_DEPTH levels replaced by a marker string,
 * instead of a RangeError ending the query.
 */
export function jsonText(v: unknown, space?: number): string {
  try {
    return JSON.stringify(v, null, space);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return JSON.stringify(capDepth(v, 0), null, space);
  }
}

/** Text form of a value for string functions and string comparison. */
export function toStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return jsonText(v);
  return String(v);
}

/**
 * Equality as Logs Insights does it: numbers (and number-like strings) compare numerically, else
 * as text; booleans also equal their text (`true`). Missing never equals anything.
 */
export function looseEquals(a: unknown, b: unknown): boolean {
  if (isMissing(a) || isMissing(b)) return false;
  if (typeof a === typeof b && typeof a !== 'object') return a === b;
  const na = toNumber(a);
  const nb = toNumber(b);
  if (!Number.isNaN(na) && !Number.isNaN(nb) && typeof a !== 'boolean' && typeof b !== 'boolean')
    return na === nb;
  return toStr(a) === toStr(b);
}

/**
 * Ordering for `<`, `>` etc.: numeric when both sides are numeric, else by text (code units).
 * Returns NaN when either side is missing (every comparison is then false).
 */
export function compareValues(a: unknown, b: unknown): number {
  if (isMissing(a) || isMissing(b)) return Number.NaN;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const na = toNumber(a);
  const nb = toNumber(b);
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  const sa = toStr(a);
  const sb = toStr(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * Natural comparison of two texts as Logs Insights documents for `sort`: runs of digits compare by
 * length, then by value; everything else by Unicode code unit. Allocation-free.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Sort.html
 */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    const da = ca >= 48 && ca <= 57;
    const db = cb >= 48 && cb <= 57;
    if (da && db) {
      let ie = i;
      while (ie < a.length && a.charCodeAt(ie) >= 48 && a.charCodeAt(ie) <= 57) ie++;
      let je = j;
      while (je < b.length && b.charCodeAt(je) >= 48 && b.charCodeAt(je) <= 57) je++;
      const la = ie - i;
      const lb = je - j;
      if (la !== lb) return la - lb;
      for (let k = 0; k < la; k++) {
        const d = a.charCodeAt(i + k) - b.charCodeAt(j + k);
        if (d !== 0) return d;
      }
      i = ie;
      j = je;
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  return a.length - i - (b.length - j);
}

const PLAIN_NUMBER_RE = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * Total order for `sort`, `min`/`max`, `sortsFirst`: as documented, every non-number value sorts
 * before every number value; numbers compare numerically (ties by text), texts naturally. Missing
 * values are handled by the caller (they go last in both directions).
 */
export function sortCompare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  const an = typeof a === 'number' || (typeof a === 'string' && PLAIN_NUMBER_RE.test(a));
  const bn = typeof b === 'number' || (typeof b === 'string' && PLAIN_NUMBER_RE.test(b));
  if (an && bn) {
    const d = Number(a) - Number(b);
    if (d !== 0) return d < 0 ? -1 : 1;
    const sa = String(a);
    const sb = String(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }
  if (an) return 1;
  if (bn) return -1;
  return naturalCompare(toStr(a), toStr(b));
}

/** Filter truthiness: `true` and non-zero numbers keep a row; everything else (incl. missing) drops it. */
export function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'number' && v !== 0 && !Number.isNaN(v));
}
