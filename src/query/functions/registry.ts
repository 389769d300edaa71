/**
 * Every Logs Insights function logferry knows: string, numeric, datetime, general, IP, JSON and
 * the `stats` aggregates. Each entry declares its arity (checked by the parser so all problems are
 * reported at once), optional argument checks, and a builder that turns compiled arguments into a
 * closure once per query — no per-row lookups, no per-row regex compilation. Names are matched
 * case-insensitively. Null/missing arguments propagate as null unless the function is about
 * presence (`ispresent`, `isempty`, `isblank`, `coalesce`).
 */
import { createHash } from 'node:crypto';
import type { Expr } from '../ast.js';
import { toJsRegex } from '../regex.js';
import type { Row } from '../types.js';
import {
  fieldGetter,
  type Getter,
  isMissing,
  looseEquals,
  sortCompare,
  toEpochMs,
  toNumber,
  toStr,
  truthy,
  jsonText,
} from '../values.js';
import {
  compileDateParser,
  compileDatePattern,
  compileTimeZone,
  type DatePattern,
  formatDate,
  type TimeZone,
} from './date-format.js';
import { ceilTime, floorTime, type Period, periodCapProblem } from './datetime.js';
import {
  ipv4ToNumber,
  isIpInSubnet,
  isIpv4InSubnet,
  isIpv6InSubnet,
  isPrivateIp,
  isPublicIp,
  isReservedIp,
  isValidIp,
  isValidIpV4,
  isValidIpV6,
} from './ip.js';
import { collectNumbers, countOverTime, histogram, rate, sumOverTime } from './timeseries.js';

export interface CompiledArg {
  expr: Expr;
  get: Getter;
}

export interface FnContext {
  /** Query start time, epoch ms. */
  now: number;
  /** The time range the query reads (`--start`/`--end`), epoch ms, when the reader knows it. */
  start?: number;
  end?: number;
}

/** A static argument problem: a sentence (placed at the call), or a sentence and the argument it is about. */
export type CheckResult = string | { message: string; at: Expr } | undefined;

export interface ScalarSpec {
  kind: 'scalar';
  min: number;
  max: number;
  /** True when the result is an epoch-ms timestamp (renderers show it as a date). */
  returnsTime?: boolean;
  /** Static argument check; returns a problem message (the parser adds the position). */
  check?(args: Expr[]): CheckResult;
  build(args: CompiledArg[], ctx: FnContext): Getter;
}

export interface Accumulator {
  add(row: Row): void;
  result(): unknown;
}

export interface AggregateSpec {
  kind: 'aggregate';
  min: number;
  max: number;
  /** Whether the result is a timestamp, given whether the first argument is one. */
  returnsTime?: (argIsTime: boolean) => boolean;
  check?(args: Expr[]): CheckResult;
  /** Returns a factory of per-group accumulators. */
  create(args: CompiledArg[], ctx: FnContext, star: boolean): () => Accumulator;
}

export type FunctionSpec = ScalarSpec | AggregateSpec;

// ------------------------------------------------------------------ helpers

/** Builds a scalar from a pure function of argument values, specialised by arity to avoid spreads. */
function pure(
  min: number,
  max: number,
  fn: (...a: unknown[]) => unknown,
  extra: Partial<ScalarSpec> = {},
): ScalarSpec {
  return {
    kind: 'scalar',
    min,
    max,
    ...extra,
    build(args) {
      const g = args.map((a) => a.get);
      switch (g.length) {
        case 0:
          return () => fn();
        case 1: {
          const [a] = g;
          return (r) => fn(a(r));
        }
        case 2: {
          const [a, b] = g;
          return (r) => fn(a(r), b(r));
        }
        case 3: {
          const [a, b, c] = g;
          return (r) => fn(a(r), b(r), c(r));
        }
        default:
          return (r) => fn(...g.map((x) => x(r)));
      }
    },
  };
}

/** Unary string function; missing input → null. */
function str1(fn: (s: string) => unknown): ScalarSpec {
  return pure(1, 1, (v) => (isMissing(v) ? null : fn(toStr(v))));
}

/** Unary numeric function; missing or non-numeric → null. */
function num1(fn: (n: number) => number): ScalarSpec {
  return pure(1, 1, (v) => {
    const n = toNumber(v);
    if (Number.isNaN(n)) return null;
    const r = fn(n);
    return Number.isFinite(r) ? r : null;
  });
}

function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function trimChars(s: string, chars: string | undefined, left: boolean, right: boolean): string {
  if (chars === undefined) return left && right ? s.trim() : left ? s.trimStart() : s.trimEnd();
  let a = 0;
  let b = s.length;
  if (left) while (a < b && chars.includes(s[a])) a++;
  if (right) while (b > a && chars.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

function trimSpec(left: boolean, right: boolean): ScalarSpec {
  return pure(1, 2, (v, c) =>
    isMissing(v) ? null : trimChars(toStr(v), isMissing(c) ? undefined : toStr(c), left, right),
  );
}

function periodArg(e: Expr | undefined): Period | undefined {
  return e?.kind === 'duration' ? { amount: e.amount, unit: e.unit } : undefined;
}

const NEEDS_PERIOD = 'expects a time period such as 5m, 1h or 1d';

/** A datetime-function period: present, and within AWS's per-unit cap (see `periodCapProblem`). */
function checkPeriod(name: string, e: Expr | undefined, missing: string): CheckResult {
  if (e?.kind !== 'duration') return missing;
  const over = periodCapProblem(name, e.text, e);
  return over ? { message: over, at: e } : undefined;
}

function greatestLeast(sign: 1 | -1): ScalarSpec {
  return pure(1, Number.POSITIVE_INFINITY, (...vals) => {
    let best: number | null = null;
    for (const v of vals) {
      const n = toNumber(v);
      if (Number.isNaN(n)) continue;
      if (best === null || (sign === 1 ? n > best : n < best)) best = n;
    }
    return best;
  });
}

/** datefloor/dateceil: a timestamp argument rounded down/up to a fixed period (the second argument). */
function dateRound(name: string, round: (ts: number, p: Period) => number): ScalarSpec {
  return {
    kind: 'scalar',
    min: 2,
    max: 2,
    returnsTime: true,
    check: (a) => checkPeriod(name, a[1], `${name}() ${NEEDS_PERIOD} as its second argument`),
    build(args) {
      const p = periodArg(args[1].expr)!;
      const get = args[0].get;
      return (r) => {
        const ts = toEpochMs(get(r));
        return ts === null ? null : round(ts, p);
      };
    },
  };
}

function ipFn(fn: (...a: unknown[]) => boolean, arity: number): ScalarSpec {
  return pure(arity, arity, (...a) => (isMissing(a[0]) ? null : fn(...a)));
}

// ------------------------------------------------------------------ literal arguments

/** The text of a literal argument: a "string" or a /regex/. */
function literalText(e: Expr | undefined): string | undefined {
  return e?.kind === 'string' ? e.value : e?.kind === 'regex' ? e.source : undefined;
}

/** Checks that argument `i` is a literal the function compiles once, and that it compiles. */
function literalCheck(
  name: string,
  i: number,
  what: string,
  compile: (e: Expr) => unknown,
): (a: Expr[]) => string | undefined {
  return (a) => {
    const e = a[i];
    if (e === undefined) return undefined;
    if (literalText(e) === undefined) return `${name}() expects ${what} as its ${ORDINAL[i]} argument`;
    try {
      compile(e);
      return undefined;
    } catch (err) {
      return `${name}(): ${(err as Error).message}`;
    }
  };
}

const ORDINAL = ['first', 'second', 'third', 'fourth'];

function regexOf(e: Expr) {
  return e.kind === 'regex' ? toJsRegex(e.source, e.flags) : toJsRegex(literalText(e) ?? '', '');
}

function datePatternOf(e: Expr): DatePattern {
  return compileDatePattern(literalText(e) ?? '');
}

function zoneOf(e: Expr): TimeZone {
  return compileTimeZone(literalText(e) ?? '');
}

/** Checks of a literal format (argument `fmt`) and an optional literal time zone (argument `fmt + 1`). */
function formatAndZoneCheck(name: string, fmt: number, what: string): (a: Expr[]) => CheckResult {
  const format = literalCheck(name, fmt, what, datePatternOf);
  const zone = literalCheck(name, fmt + 1, 'a time zone "string" such as "UTC" or "Europe/Paris"', zoneOf);
  return (a) => format(a) ?? zone(a);
}

/** formatDate/strftime: a time, a literal pattern and an optional literal time zone → text (UTC by default). */
function formatSpec(name: string): ScalarSpec {
  return {
    kind: 'scalar',
    min: 2,
    max: 3,
    check: formatAndZoneCheck(name, 1, 'a format "string" such as "%Y-%m-%d" or "yyyy-MM-dd"'),
    build(args) {
      const pattern = datePatternOf(args[1].expr);
      const zone = args[2] ? zoneOf(args[2].expr) : undefined;
      const get = args[0].get;
      return (r) => {
        const ts = toEpochMs(get(r));
        return ts === null ? null : formatDate(ts, pattern, zone);
      };
    },
  };
}

/** Half away from zero at `digits` decimals (negative digits round to tens, hundreds, …). */
function roundHalfAway(n: number, digits: number): number {
  const a = Math.abs(n);
  // Shifting through the exponent avoids 1.005 * 100 = 100.49999….
  const r = Number(`${Math.round(Number(`${a}e${digits}`))}e${-digits}`);
  return Number.isFinite(r) ? Math.sign(n) * r || 0 : n;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const BASE64URL_RE = /^[A-Za-z0-9_-]*$/;
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

function decodeBase64(s: string): string | null {
  const t = s.trim();
  if (BASE64_RE.test(t)) return Buffer.from(t, 'base64').toString('utf8');
  if (BASE64URL_RE.test(t) && t.length % 4 !== 1) return Buffer.from(t, 'base64url').toString('utf8');
  return null;
}

function hash(algorithm: 'md5' | 'sha256'): ScalarSpec {
  return str1((s) => createHash(algorithm).update(s, 'utf8').digest('hex'));
}

/** A list value: an array, or a string holding a JSON array; else undefined. */
function asList(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string' && v.trimStart().startsWith('[')) {
    try {
      const x = JSON.parse(v);
      return Array.isArray(x) ? x : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function windowEdge(pick: (ctx: FnContext) => number | undefined): ScalarSpec {
  return {
    kind: 'scalar',
    min: 0,
    max: 0,
    returnsTime: true,
    build(_args, ctx) {
      const t = pick(ctx) ?? null;
      return () => t;
    },
  };
}

// ------------------------------------------------------------------ conversions

/** toNumber/toDouble: a number from a number or number-like text; true/false → 1/0; else null. */
function convertNumber(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = toNumber(v);
  return Number.isNaN(n) ? null : n;
}

/** toInt/toLong: the number truncated toward zero, or null outside [-2^(bits-1), 2^(bits-1)). */
function truncateIn(v: unknown, bits: 32 | 64): number | null {
  const n = convertNumber(v);
  if (n === null) return null;
  const t = Math.trunc(n);
  const half = 2 ** (bits - 1);
  return t >= -half && t < half ? t || 0 : null;
}

function hexToText(s: string): string | null {
  return HEX_RE.test(s) ? Buffer.from(s, 'hex').toString('utf8') : null;
}

const HEX_NUMBER_RE = /^\s*([+-]?)(?:0x)?([0-9a-f]+)\s*$/i;

function hexToDec(s: string): number | null {
  const m = HEX_NUMBER_RE.exec(s);
  if (!m) return null;
  const n = Number(BigInt(`0x${m[2]}`));
  return m[1] === '-' ? -n : n;
}

function decToHex(v: unknown): string | null {
  const n = convertNumber(v);
  if (n === null || !Number.isFinite(n)) return null;
  const t = Math.trunc(n);
  const hex = BigInt(Math.abs(t)).toString(16);
  return t < 0 ? `-0x${hex}` : `0x${hex}`;
}

/** Mean Earth radius (IUGG), km: AWS does not say which radius haversine uses. */
const EARTH_RADIUS_KM = 6371.0088;
const RAD = Math.PI / 180;

function haversineKm(lat1: unknown, lon1: unknown, lat2: unknown, lon2: unknown): number | null {
  const a1 = toNumber(lat1);
  const o1 = toNumber(lon1);
  const a2 = toNumber(lat2);
  const o2 = toNumber(lon2);
  if ([a1, o1, a2, o2].some((x) => Number.isNaN(x))) return null;
  if (Math.abs(a1) > 90 || Math.abs(a2) > 90 || Math.abs(o1) > 180 || Math.abs(o2) > 180) return null;
  const h =
    Math.sin(((a2 - a1) * RAD) / 2) ** 2 +
    Math.cos(a1 * RAD) * Math.cos(a2 * RAD) * Math.sin(((o2 - o1) * RAD) / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

// ------------------------------------------------------------------ aggregates

function numericAgg(init: () => { add(n: number): void; result(): unknown }): AggregateSpec['create'] {
  return (args) => {
    const get = args[0].get;
    return () => {
      const s = init();
      return {
        add(row) {
          const n = toNumber(get(row));
          if (!Number.isNaN(n)) s.add(n);
        },
        result: () => s.result(),
      };
    };
  };
}

/** sum/avg: the sum and count of the numeric values, turned into the result once per group. */
function sumAgg(result: (sum: number, n: number) => unknown): AggregateSpec {
  return {
    kind: 'aggregate',
    min: 1,
    max: 1,
    create: numericAgg(() => {
      let s = 0;
      let n = 0;
      return {
        add(x) {
          s += x;
          n++;
        },
        result: () => (n === 0 ? null : result(s, n)),
      };
    }),
  };
}

/**
 * A one-argument aggregate whose result is one of the argument's values (so a timestamp argument
 * gives a timestamp). `accumulators(get)` returns the per-group accumulator factory; each keeps its
 * own `add` so the per-row path has no extra call.
 */
function valueAgg(accumulators: (get: Getter) => () => Accumulator): AggregateSpec {
  return {
    kind: 'aggregate',
    min: 1,
    max: 1,
    returnsTime: (t) => t,
    create: (args) => accumulators(args[0].get),
  };
}

/** min/max: numeric when any value is numeric, else the natural-sort extreme of the texts. */
function extremeAgg(sign: 1 | -1): AggregateSpec {
  return valueAgg((get) => () => {
    let bestNum: number | null = null;
    let bestOther: unknown = null;
    return {
      add(row) {
        const v = get(row);
        if (isMissing(v)) return;
        const n = toNumber(v);
        if (!Number.isNaN(n)) {
          if (bestNum === null || (sign === 1 ? n > bestNum : n < bestNum)) bestNum = n;
        } else if (bestOther === null || sign * sortCompare(v, bestOther) > 0) {
          bestOther = v;
        }
      },
      result: () => (bestNum !== null ? bestNum : bestOther),
    };
  });
}

const timestampGet = fieldGetter('@timestamp');

/** earliest/latest: the value from the row with the smallest/largest @timestamp. */
function byTimeAgg(sign: 1 | -1): AggregateSpec {
  return valueAgg((get) => () => {
    let bestTs: number | null = null;
    let best: unknown = null;
    return {
      add(row) {
        const v = get(row);
        if (isMissing(v)) return;
        const ts = toEpochMs(timestampGet(row));
        if (ts === null) return;
        if (bestTs === null || (sign === 1 ? ts > bestTs : ts < bestTs)) {
          bestTs = ts;
          best = v;
        }
      },
      result: () => best,
    };
  });
}

/** sortsFirst/sortsLast: the value that sorts first/last with the `sort` order. */
function bySortAgg(sign: 1 | -1): AggregateSpec {
  return valueAgg((get) => () => {
    let best: unknown = null;
    let have = false;
    return {
      add(row) {
        const v = get(row);
        if (isMissing(v)) return;
        if (!have || sign * sortCompare(v, best) > 0) {
          best = v;
          have = true;
        }
      },
      result: () => best,
    };
  });
}

function distinctKey(v: unknown): string {
  return typeof v === 'string' ? `s${v}` : typeof v === 'object' ? `o${jsonText(v)}` : `p${String(v)}`;
}

// ------------------------------------------------------------------ registry

const FUNCTIONS: Record<string, FunctionSpec> = {
  // String functions
  /** Length in Unicode code points, as documented (a surrogate pair counts once). */
  strlen: str1(codePointLength),
  toupper: str1((s) => s.toUpperCase()),
  tolower: str1((s) => s.toLowerCase()),
  trim: trimSpec(true, true),
  ltrim: trimSpec(true, false),
  rtrim: trimSpec(false, true),
  substr: pure(2, 3, (v, start, len) => {
    if (isMissing(v)) return null;
    const s = toStr(v);
    const a = Math.max(0, Math.trunc(toNumber(start)) || 0);
    if (isMissing(len)) return s.substring(a);
    const n = Math.trunc(toNumber(len));
    return Number.isNaN(n) ? null : s.substring(a, a + Math.max(0, n));
  }),
  replace: pure(3, 3, (v, search, repl) => {
    if (isMissing(v)) return null;
    const s = toStr(v);
    const needle = toStr(search);
    return needle === '' ? s : s.split(needle).join(toStr(repl));
  }),
  /** strcontains(s, search[, ignoreCase]): 1 or 0; a true third argument compares case-insensitively. */
  strcontains: pure(2, 3, (v, search, ci) => {
    if (isMissing(v)) return null;
    if (truthy(ci) || ci === 'true')
      return toStr(v).toLowerCase().includes(toStr(search).toLowerCase()) ? 1 : 0;
    return toStr(v).includes(toStr(search)) ? 1 : 0;
  }),
  concat: pure(1, Number.POSITIVE_INFINITY, (...vals) => vals.map((v) => toStr(v)).join('')),
  isempty: pure(1, 1, (v) => isMissing(v) || v === ''),
  isblank: pure(1, 1, (v) => isMissing(v) || (typeof v === 'string' && v.trim() === '')),

  // Numeric functions
  abs: num1(Math.abs),
  ceil: num1(Math.ceil),
  floor: num1(Math.floor),
  log: num1(Math.log),
  sqrt: num1(Math.sqrt),
  greatest: greatestLeast(1),
  least: greatestLeast(-1),
  /** Great-circle distance in km between two (latitude, longitude) points in degrees. */
  haversine: pure(4, 4, haversineKm),

  // Datetime functions
  bin: {
    kind: 'scalar',
    min: 1,
    max: 1,
    returnsTime: true,
    check: (a) => checkPeriod('bin', a[0], `bin() ${NEEDS_PERIOD}`),
    build(args) {
      const p = periodArg(args[0].expr)!;
      return (r) => {
        const ts = timestampGet(r);
        return typeof ts === 'number' ? floorTime(ts, p) : null;
      };
    },
  },
  datefloor: dateRound('datefloor', floorTime),
  dateceil: dateRound('dateceil', ceilTime),
  frommillis: pure(
    1,
    1,
    (v) => {
      const n = toNumber(v);
      return Number.isNaN(n) ? null : n;
    },
    { returnsTime: true },
  ),
  tomillis: pure(1, 1, (v) => toEpochMs(v)),
  /** Query start time in epoch seconds, as documented. */
  now: {
    kind: 'scalar',
    min: 0,
    max: 0,
    build(_args, ctx) {
      const s = Math.floor(ctx.now / 1000);
      return () => s;
    },
  },

  // General functions
  ispresent: pure(1, 1, (v) => !isMissing(v)),
  coalesce: pure(1, Number.POSITIVE_INFINITY, (...vals) => {
    for (const v of vals) if (!isMissing(v)) return v;
    return null;
  }),
  if: {
    kind: 'scalar',
    min: 2,
    max: 3,
    build(args) {
      const [c, a, b] = args.map((x) => x.get);
      return b ? (r) => (truthy(c(r)) ? a(r) : b(r)) : (r) => (truthy(c(r)) ? a(r) : null);
    },
  },
  /** logferry stores the message as delivered (after its own masking), so unmask returns it unchanged. */
  unmask: pure(1, 1, (v) => (isMissing(v) ? null : v)),

  // IP address functions
  isvalidip: ipFn(isValidIp, 1),
  isvalidipv4: ipFn(isValidIpV4, 1),
  isvalidipv6: ipFn(isValidIpV6, 1),
  isipinsubnet: ipFn(isIpInSubnet, 2),
  isipv4insubnet: ipFn(isIpv4InSubnet, 2),
  isipv6insubnet: ipFn(isIpv6InSubnet, 2),

  // JSON functions
  jsonparse: pure(1, 1, (v) => {
    if (isMissing(v)) return null;
    if (typeof v === 'object') return v;
    try {
      return JSON.parse(toStr(v));
    } catch {
      return null;
    }
  }),
  jsonstringify: pure(1, 1, (v) => (isMissing(v) ? null : jsonText(v))),

  // String functions (newer reference)
  startswith: pure(2, 2, (v, p) =>
    isMissing(v) ? null : isMissing(p) ? false : toStr(v).startsWith(toStr(p)),
  ),
  endswith: pure(2, 2, (v, p) => (isMissing(v) ? null : isMissing(p) ? false : toStr(v).endsWith(toStr(p)))),
  split: pure(2, 2, (v, d) => (isMissing(v) ? null : toStr(v).split(isMissing(d) ? ',' : toStr(d)))),
  regexreplace: {
    kind: 'scalar',
    min: 3,
    max: 3,
    check: literalCheck('regexReplace', 1, 'a /regex/ or "string"', regexOf),
    build(args) {
      const re = regexOf(args[1].expr);
      const get = args[0].get;
      const replText = literalText(args[2].expr);
      if (args[2].expr.kind === 'string' && replText !== undefined) {
        const replace = re.replacer(replText);
        return (r) => {
          const v = get(r);
          return isMissing(v) ? null : replace(toStr(v));
        };
      }
      const repl = args[2].get;
      return (r) => {
        const v = get(r);
        return isMissing(v) ? null : re.replacer(toStr(repl(r)))(toStr(v));
      };
    },
  },

  // Conversion functions
  tonumber: pure(1, 1, convertNumber),
  /** toDouble: as toNumber (every logferry number is a double). */
  todouble: pure(1, 1, convertNumber),
  /** toInt: truncated toward zero; outside the 32-bit range → null. */
  toint: pure(1, 1, (v) => truncateIn(v, 32)),
  /** toLong: truncated toward zero; outside the 64-bit range → null (exact up to 2^53). */
  tolong: pure(1, 1, (v) => truncateIn(v, 64)),
  tostring: pure(1, 1, (v) => (isMissing(v) ? null : toStr(v))),
  isnumeric: pure(
    1,
    1,
    (v) => typeof v === 'number' || (typeof v === 'string' && !Number.isNaN(toNumber(v))),
  ),
  round: pure(1, 2, (v, d) => {
    const n = toNumber(v);
    if (Number.isNaN(n)) return null;
    const digits = isMissing(d) ? 0 : Math.trunc(toNumber(d));
    return Number.isNaN(digits) ? null : roundHalfAway(n, Math.max(-15, Math.min(15, digits)));
  }),

  // Conditional
  /** case(cond1, value1, cond2, value2, …[, default]): the value of the first true condition. */
  case: {
    kind: 'scalar',
    min: 2,
    max: Number.POSITIVE_INFINITY,
    // "Supports up to 10 branches" (AWS's General functions table).
    check: (a) =>
      Math.floor(a.length / 2) > 10
        ? `case() supports up to 10 branches (condition, value pairs), got ${Math.floor(a.length / 2)}`
        : undefined,
    build(args) {
      const g = args.map((a) => a.get);
      const pairs = Math.floor(g.length / 2);
      const dflt = g.length % 2 === 1 ? g[g.length - 1] : undefined;
      return (r) => {
        for (let i = 0; i < pairs; i++) if (truthy(g[2 * i](r))) return g[2 * i + 1](r);
        return dflt ? dflt(r) : null;
      };
    },
  },

  // Message and query window
  /** Size in bytes (UTF-8) of @message, or of the argument. */
  messagesize: {
    kind: 'scalar',
    min: 0,
    max: 1,
    build(args) {
      const get = args[0]?.get ?? fieldGetter('@message');
      return (r) => {
        const v = get(r);
        return isMissing(v) ? null : Buffer.byteLength(toStr(v), 'utf8');
      };
    },
  },
  querystarttime: windowEdge((c) => c.start),
  queryendtime: windowEdge((c) => c.end ?? c.now),
  /** The query window's length in ms (end − start); null when the start is not known. */
  querytimerange: {
    kind: 'scalar',
    min: 0,
    max: 0,
    build(_args, ctx) {
      const d = ctx.start === undefined ? null : (ctx.end ?? ctx.now) - ctx.start;
      return () => d;
    },
  },

  // Encoding and hashing
  urlencode: str1((s) => encodeURIComponent(s)),
  urldecode: str1((s) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return null;
    }
  }),
  base64encode: str1((s) => Buffer.from(s, 'utf8').toString('base64')),
  base64decode: str1(decodeBase64),
  hexencode: str1((s) => Buffer.from(s, 'utf8').toString('hex')),
  hexdecode: str1(hexToText),
  /** hexToAscii("48656c6c6f") → "Hello": as hexDecode, also after a 0x prefix. */
  hextoascii: str1((s) => hexToText(s.replace(/^0x/i, ''))),
  /** hexToDec("0xff") → 255 (optional sign and 0x prefix); not hex → null. */
  hextodec: str1(hexToDec),
  /** decToHex(255) → "0xff", decToHex(-255) → "-0xff"; non-integers are truncated. */
  dectohex: pure(1, 1, decToHex),
  md5: hash('md5'),
  sha256: hash('sha256'),

  // Date formatting
  parsedate: {
    kind: 'scalar',
    min: 1,
    max: 3,
    returnsTime: true,
    check: formatAndZoneCheck('parseDate', 1, 'a format "string" such as "yyyy-MM-dd HH:mm:ss"'),
    build(args) {
      const get = args[0].get;
      if (args.length === 1) return (r) => toEpochMs(get(r));
      const zone = args[2] ? zoneOf(args[2].expr) : undefined;
      const parse = compileDateParser(datePatternOf(args[1].expr), zone);
      return (r) => {
        const v = get(r);
        return isMissing(v) ? null : parse(toStr(v));
      };
    },
  },
  formatdate: formatSpec('formatDate'),
  strftime: formatSpec('strftime'),

  // IP address functions (newer reference)
  ipv4tonumber: pure(1, 1, (v) => (isMissing(v) ? null : ipv4ToNumber(v))),
  isprivateip: pure(1, 1, (v) => (isMissing(v) ? null : isPrivateIp(v))),
  ispublicip: pure(1, 1, (v) => (isMissing(v) ? null : isPublicIp(v))),
  isreservedip: pure(1, 1, (v) => (isMissing(v) ? null : isReservedIp(v))),

  // JSON functions (newer reference)
  jsonarraysize: pure(1, 1, (v) => asList(v)?.length ?? null),
  // "Returns false (0) for invalid JSON, non-array, or empty array" — so a missing field is false too.
  jsonarraycontains: pure(2, 2, (v, x) => {
    const list = asList(v);
    if (!list) return false;
    for (const el of list) if (looseEquals(el, x)) return true;
    return false;
  }),

  // Time-series aggregates
  count_over_time: {
    kind: 'aggregate',
    min: 1,
    max: 1,
    create: (args) => countOverTime(args[0].get),
  },
  sum_over_time: {
    kind: 'aggregate',
    min: 1,
    max: 1,
    create: (args) => sumOverTime(args[0].get),
  },
  rate: {
    kind: 'aggregate',
    min: 2,
    max: 2,
    check: (a) => (periodArg(a[1]) ? undefined : `rate() ${NEEDS_PERIOD} as its second argument`),
    create(args) {
      const e = args[1].expr as Extract<Expr, { kind: 'duration' }>;
      return rate(args[0].get, timestampGet, e.ms);
    },
  },
  histogram: {
    kind: 'aggregate',
    min: 2,
    max: 2,
    check: (a) => {
      const b = a[1];
      return b?.kind === 'number' && Number.isInteger(b.value) && b.value >= 1 && b.value <= 1000
        ? undefined
        : 'histogram() expects a whole number of buckets between 1 and 1000 as its second argument';
    },
    create: (args) => histogram(args[0].get, (args[1].expr as { value: number }).value),
  },

  // Aggregates
  count: {
    kind: 'aggregate',
    min: 0,
    max: 1,
    create(args, _ctx, star) {
      if (star || args.length === 0) {
        return () => {
          let n = 0;
          return {
            add() {
              n++;
            },
            result: () => n,
          };
        };
      }
      // count(x) counts the rows where x is present, as count_over_time(x) does per bin.
      return countOverTime(args[0].get);
    },
  },
  count_distinct: {
    kind: 'aggregate',
    min: 1,
    max: 1,
    create(args) {
      const get = args[0].get;
      return () => {
        const seen = new Set<string>();
        return {
          add(row) {
            const v = get(row);
            if (!isMissing(v)) seen.add(distinctKey(v));
          },
          result: () => seen.size,
        };
      };
    },
  },
  sum: sumAgg((s) => s),
  avg: sumAgg((s, n) => s / n),
  stddev: {
    kind: 'aggregate',
    min: 1,
    max: 1,
    // Welford's online algorithm; sample standard deviation (n − 1), 0 for a single value.
    create: numericAgg(() => {
      let n = 0;
      let mean = 0;
      let m2 = 0;
      return {
        add(x) {
          n++;
          const d = x - mean;
          mean += d / n;
          m2 += d * (x - mean);
        },
        result: () => (n === 0 ? null : n === 1 ? 0 : Math.sqrt(m2 / (n - 1))),
      };
    }),
  },
  min: extremeAgg(-1),
  max: extremeAgg(1),
  pct: {
    kind: 'aggregate',
    min: 2,
    max: 2,
    returnsTime: (t) => t,
    check: (a) => {
      const p = a[1];
      return p?.kind === 'number' && p.value >= 0 && p.value <= 100
        ? undefined
        : 'pct() expects a percentile between 0 and 100 as its second argument';
    },
    create(args) {
      const p = (args[1].expr as { value: number }).value;
      return collectNumbers(args[0].get, (vals) => {
        vals.sort((x, y) => x - y);
        // Nearest-rank percentile: the smallest value with at least p% of values ≤ it.
        return vals[Math.max(1, Math.ceil((p / 100) * vals.length)) - 1];
      });
    },
  },
  earliest: byTimeAgg(-1),
  latest: byTimeAgg(1),
  sortsfirst: bySortAgg(-1),
  sortslast: bySortAgg(1),
};

export function lookupFunction(name: string): FunctionSpec | undefined {
  const spec = FUNCTIONS[name.toLowerCase()];
  return spec && Object.hasOwn(FUNCTIONS, name.toLowerCase()) ? spec : undefined;
}

export function isAggregateName(name: string): boolean {
  return lookupFunction(name)?.kind === 'aggregate';
}

/** All known function names (lowercase), for error hints and docs. */
export const FUNCTION_NAMES: readonly string[] = Object.keys(FUNCTIONS);
