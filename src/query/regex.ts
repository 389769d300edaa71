/**
 * Turns a Logs Insights regex literal into a matcher once, at compile time, that runs in **linear
 * time** in the length of the text: `/(a+)+$/` over forty `a`s and a `b` must not hang a query (or a
 * pipeline condition, which compiles through the same code).
 *
 * How (measured in bench/query-regex.ts):
 * - V8 has a linear-time engine beside its backtracking one. At load this module turns on
 *   `--enable-experimental-regexp-engine-on-excessive-backtracks` (process-wide, so worker threads
 *   and Lambda get it too): a RegExp that backtracks more than V8's threshold (50,000 backtracks) is
 *   re-run by the linear engine, with the same JavaScript semantics. Ordinary patterns keep the full
 *   speed of the backtracking engine; only a pattern that explodes pays for the switch.
 * - That engine (Node 20's V8) refuses some constructs: the `i` and `u` flags, lookaround,
 *   backreferences, large repetition counts. Case-insensitivity (a `i` flag, a leading `(?i)`, or
 *   Java-style `(?i)`/`(?i:…)` anywhere, as Logs Insights writes them) is therefore rewritten into
 *   character classes (`(?i)err` → `[eE][rR][rR]`) with the exact case-folding JavaScript's `i` uses,
 *   and every compiled pattern is probed with the `l` flag to prove the linear engine accepts it.
 * - A pattern the V8 linear engine refuses runs on RE2JS (a pure-JavaScript port of RE2: linear,
 *   about 20× slower than V8, so only where needed), unless it uses lookaround or backreferences,
 *   which no linear engine supports: those run on V8 only when they have no nested or alternated
 *   repetition (`(a+)+`, `(a|aa)*`), the shapes that backtrack exponentially; otherwise the query is
 *   refused with a sentence saying why.
 *
 * Named groups `(?<name>…)` are kept; a parse field may start with `@` (`(?<@transId>…)`, as `parse
 * … as @user` allows): such a group gets a private name and `groups` maps it back.
 */
import { setFlagsFromString } from 'node:v8';
import { RE2JS } from 're2js';
import { LogferryError } from '../core/errors.js';

const ALLOWED_FLAGS = new Set(['i', 'm', 's', 'u']);

/** One match: `[0]` the matched text, `index` where, `groups` the named captures. */
export interface RegexMatch {
  readonly [i: number]: string | undefined;
  index: number;
  groups?: Record<string, string | undefined>;
}

/** What the query engine needs of a regex (a RegExp is one). */
export interface QueryRegex {
  test(s: string): boolean;
  exec(s: string): RegexMatch | null;
}

export interface JsRegex {
  re: QueryRegex;
  /** Named capture groups in order of appearance (the field names, `@` included). */
  names: string[];
  /** The group name of each of `names` in `re`'s matches (differs only for `@` names). */
  groups: string[];
  /** Which engine runs it: V8 (linear on excessive backtracking), RE2JS, or V8 checked for safe shape. */
  engine: 'v8' | 're2' | 'v8-checked';
  /**
   * A function replacing every match by `replacement`, where `$1`, `$<name>`, `\${name}` (Java's form), `$&` and
   * `$$` mean what they mean in JavaScript's String.replace.
   */
  replacer(replacement: string): (s: string) => string;
}

/** Java's `\${name}` group reference → JavaScript's `$<name>` (named `@` groups get their private name). */
function jsReplacement(r: string): string {
  return r
    .replace(/\$\{(@?)([A-Za-z_][\w]*)\}/g, (_, at: string, n: string) => `$<${at ? AT_GROUP : ''}${n}>`)
    .replace(/\$<@([A-Za-z_][\w]*)>/g, `$<${AT_GROUP}$1>`);
}

/** Private group-name prefix for `@` names (valid in both JavaScript and RE2 group names). */
const AT_GROUP = '__at_';

/** V8's flag for "run on the linear engine" (a RegExp literal with it would not parse elsewhere). */
const LINEAR = String.fromCharCode(108);

/** Whether V8's linear engine is available here (Node ≥ 16 with the flags settable at run time). */
export const V8_LINEAR: boolean = (() => {
  try {
    setFlagsFromString('--enable-experimental-regexp-engine');
    setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
    // The `l` flag (linear engine) exists only with the flag above; built at run time on purpose.
    new RegExp('a', LINEAR);
    return true;
  } catch {
    return false;
  }
})();

let fallbackChecked: boolean | undefined;
/** CPU budget of the probe: far above its cost with the fallback, far below it without. */
const FALLBACK_PROBE_CPU_MS = 250;

/**
 * Whether V8 really hands an exploding regex to its linear engine here. The flags are set at run
 * time, which V8 does not promise to honour, and a future V8 may rename them; so, once, a pattern
 * that needs 2^25 backtracking steps without the fallback (about a second of CPU) and about 50,000
 * with it (well under a millisecond) is measured in CPU time, not wall time: on a loaded machine a
 * wall-clock budget could wrongly conclude the fallback is off (and send ordinary patterns to the
 * slower RE2JS, with answers that depend on the load). Without a working fallback, patterns with
 * nested or alternated repetition go to RE2JS instead (see toJsRegex), so the exponential shapes
 * stay linear either way.
 */
export function v8FallbackWorks(): boolean {
  if (fallbackChecked === undefined) {
    if (!V8_LINEAR) fallbackChecked = false;
    else {
      const probe = /^(a+)+$/;
      const text = `${'a'.repeat(25)}!`;
      const before = process.cpuUsage();
      probe.test(text);
      const used = process.cpuUsage(before);
      fallbackChecked = (used.user + used.system) / 1000 < FALLBACK_PROBE_CPU_MS;
    }
  }
  return fallbackChecked;
}

function fail(message: string): never {
  throw new LogferryError('QUERY_SYNTAX', message);
}

// ------------------------------------------------------------ case folding (JavaScript's, non-u)

/** Canonicalize(ch) of ECMAScript for a non-unicode case-insensitive RegExp. */
function canon(c: number): number {
  const ch = String.fromCharCode(c);
  const u = ch.toUpperCase();
  if (u.length !== 1) return c;
  const cu = u.charCodeAt(0);
  if (c >= 128 && cu < 128) return c;
  return cu;
}

let foldTable: Map<number, number[]> | undefined;

/** Every code unit that matches `c` under `i` (c included). */
function caseVariants(c: number): number[] {
  if (c < 128) {
    if (c >= 65 && c <= 90) return [c, c + 32];
    if (c >= 97 && c <= 122) return [c - 32, c];
    return [c];
  }
  if (!foldTable) {
    foldTable = new Map();
    for (let x = 0; x <= 0xffff; x++) {
      const k = canon(x);
      const list = foldTable.get(k);
      if (list) list.push(x);
      else foldTable.set(k, [x]);
    }
  }
  return foldTable.get(canon(c)) ?? [c];
}

function hex4(c: number): string {
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return String.fromCharCode(c);
  return `\\u${c.toString(16).padStart(4, '0')}`;
}

/** Sorted code units → class body with ranges (`\u0041-\u005a`). */
function classBody(codes: Iterable<number>): string {
  const sorted = [...new Set(codes)].sort((a, b) => a - b);
  let out = '';
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out +=
      j === i
        ? hex4(sorted[i])
        : j === i + 1
          ? hex4(sorted[i]) + hex4(sorted[j])
          : `${hex4(sorted[i])}-${hex4(sorted[j])}`;
    i = j + 1;
  }
  return out;
}

/** A single literal character under `i`: itself, or a class of its case variants. */
function foldChar(raw: string, c: number): string {
  const v = caseVariants(c);
  return v.length === 1 ? raw : `[${classBody(v)}]`;
}

// ------------------------------------------------------------ the rewriter

interface Rewritten {
  src: string;
  hasLookaround: boolean;
  hasBackref: boolean;
  /** A repetition over a group that itself repeats or alternates (`(a+)+`, `(a|aa)*`). */
  nestedRepeat: boolean;
  names: string[];
}

interface GroupState {
  ci: boolean;
  dot: boolean;
  hasRepeat: boolean;
  hasAlt: boolean;
}

const HEX = /^[0-9a-fA-F]+$/;

/**
 * Rewrites a JavaScript (non-u) pattern: case-insensitive parts become classes, inline flag groups
 * `(?i)`, `(?-i)`, `(?s)`, `(?i:…)` are applied (Java scoping: to the end of the enclosing group),
 * `@` group names get their private prefix. Also notes the constructs that decide the engine.
 */
function rewrite(src: string, ci0: boolean, dot0: boolean, globalDot: boolean): Rewritten {
  const names: string[] = [];
  let out = '';
  let hasLookaround = false;
  let hasBackref = false;
  let nestedRepeat = false;
  const stack: GroupState[] = [];
  let cur: GroupState = { ci: ci0, dot: dot0, hasRepeat: false, hasAlt: false };
  /** The last atom was a group that repeats or alternates inside. */
  let lastGroupRisky = false;
  let i = 0;
  const n = src.length;
  const atom = (text: string) => {
    out += text;
    lastGroupRisky = false;
  };
  while (i < n) {
    const c = src[i];
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) fail('a regular expression cannot end with a backslash');
      if (e >= '1' && e <= '9') {
        let j = i + 1;
        while (j < n && src[j] >= '0' && src[j] <= '9') j++;
        hasBackref = true;
        atom(src.slice(i, j));
        i = j;
      } else if (e === 'k' && src[i + 2] === '<') {
        const end = src.indexOf('>', i);
        if (end < 0) fail('unterminated \\k<name> backreference');
        const name = src.slice(i + 3, end);
        hasBackref = true;
        atom(`\\k<${name.startsWith('@') ? AT_GROUP + name.slice(1) : name}>`);
        i = end + 1;
      } else if (
        (e === 'x' && HEX.test(src.slice(i + 2, i + 4)) && i + 4 <= n) ||
        (e === 'u' && HEX.test(src.slice(i + 2, i + 6)) && i + 6 <= n)
      ) {
        const len = e === 'x' ? 4 : 6;
        const raw = src.slice(i, i + len);
        const code = Number.parseInt(src.slice(i + 2, i + len), 16);
        atom(cur.ci ? foldChar(raw, code) : raw);
        i += len;
      } else if (e === 'c' && /[a-zA-Z]/.test(src[i + 2] ?? '')) {
        atom(src.slice(i, i + 3));
        i += 3;
      } else if (/[a-zA-Z]/.test(e) && !'dDwWsSbBfnrtv'.includes(e)) {
        // An unknown letter escape is the letter itself (non-u JavaScript).
        atom(cur.ci ? foldChar(e, e.charCodeAt(0)) : src.slice(i, i + 2));
        i += 2;
      } else {
        atom(src.slice(i, i + 2));
        i += 2;
      }
      continue;
    }
    if (c === '[') {
      const end = scanClass(src, i);
      atom(cur.ci ? foldClass(src.slice(i + 1, end)) : src.slice(i, end + 1));
      i = end + 1;
      continue;
    }
    if (c === '(') {
      if (src[i + 1] === '?') {
        const rest = src.slice(i + 2);
        const flagGroup = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
        if (rest.startsWith(':')) {
          out += '(?:';
          i += 3;
        } else if (rest.startsWith('=') || rest.startsWith('!')) {
          hasLookaround = true;
          out += src.slice(i, i + 3);
          i += 3;
        } else if (rest.startsWith('<=') || rest.startsWith('<!')) {
          hasLookaround = true;
          out += src.slice(i, i + 4);
          i += 4;
        } else if (rest.startsWith('<')) {
          const m = /^<(@?[A-Za-z_$][\w$]*)>/.exec(rest);
          if (!m) fail(`invalid group name at '(?${rest.slice(0, 12)}'`);
          names.push(m[1]);
          out += `(?<${m[1].startsWith('@') ? AT_GROUP + m[1].slice(1) : m[1]}>`;
          i += 2 + m[0].length;
        } else if (flagGroup && (flagGroup[1] || flagGroup[2] !== undefined)) {
          const on = flagGroup[1];
          const off = flagGroup[2] ?? '';
          let ci = cur.ci;
          let dot = cur.dot;
          for (const f of on + off) {
            if (f === 'm') fail('the inline flag (?m) is only supported at the start of a regex');
            if (f !== 'i' && f !== 's') fail(`unsupported inline regex flag '${f}' (use i, m or s)`);
          }
          if (on.includes('i')) ci = true;
          if (on.includes('s')) dot = true;
          if (off.includes('i')) ci = false;
          if (off.includes('s')) dot = false;
          i += 2 + flagGroup[0].length;
          if (flagGroup[3] === ')') {
            cur.ci = ci;
            cur.dot = dot;
            continue;
          }
          stack.push(cur);
          cur = { ci, dot, hasRepeat: false, hasAlt: false };
          out += '(?:';
          continue;
        } else {
          fail(`unsupported group '(?${rest.slice(0, 8)}'`);
        }
      } else {
        out += '(';
        i++;
      }
      stack.push(cur);
      cur = { ci: cur.ci, dot: cur.dot, hasRepeat: false, hasAlt: false };
      continue;
    }
    if (c === ')') {
      const inner = cur;
      const parent = stack.pop();
      if (!parent) fail("unmatched ')' in regular expression");
      cur = parent;
      out += ')';
      i++;
      lastGroupRisky = inner.hasRepeat || inner.hasAlt;
      if (inner.hasRepeat) cur.hasRepeat = true;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(src.slice(i)))) {
      let len = 1;
      let unbounded = c !== '?';
      if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i))!;
        len = m[0].length;
        unbounded = m[2] !== undefined && (m[3] === '' || Number(m[3]) > 1);
      }
      if (src[i + len] === '?') len++;
      if (unbounded) {
        if (lastGroupRisky) nestedRepeat = true;
        cur.hasRepeat = true;
      }
      out += src.slice(i, i + len);
      i += len;
      lastGroupRisky = false;
      continue;
    }
    if (c === '|') {
      cur.hasAlt = true;
      atom('|');
      i++;
      continue;
    }
    if (c === '.') {
      atom(cur.dot === globalDot ? '.' : cur.dot ? '[\\s\\S]' : '[^\\n\\r\\u2028\\u2029]');
      i++;
      continue;
    }
    const code = src.charCodeAt(i);
    atom(cur.ci ? foldChar(c === '/' ? '\\/' : c, code) : c);
    i++;
  }
  if (stack.length > 0) fail("unterminated group (missing ')') in regular expression");
  return { src: out, hasLookaround, hasBackref, nestedRepeat, names };
}

/** Index of the `]` closing the class opened at `start`. */
function scanClass(src: string, start: number): number {
  let i = start + 1;
  while (i < src.length) {
    if (src[i] === '\\') i += 2;
    else if (src[i] === ']') return i;
    else i++;
  }
  fail("unterminated character class (missing ']') in regular expression");
}

/** Class escapes kept as written (their sets are closed under JavaScript's non-u case folding). */
const CLASS_ESCAPES = 'dDwWsS';

/** `[…]` contents under `i`: literal characters and ranges get their case variants. */
function foldClass(body: string): string {
  let i = 0;
  let neg = '';
  if (body[0] === '^') {
    neg = '^';
    i = 1;
  }
  if (i >= body.length) return `[${neg}]`;
  let kept = '';
  const codes: number[] = [];
  /** Reads one class atom: a code unit, or -1 for a class escape (appended to `kept`). */
  const read = (): number => {
    const c = body[i];
    if (c !== '\\') {
      i++;
      return c.charCodeAt(0);
    }
    const e = body[i + 1];
    if (CLASS_ESCAPES.includes(e)) {
      kept += `\\${e}`;
      i += 2;
      return -1;
    }
    if (e === 'x' && HEX.test(body.slice(i + 2, i + 4)) && i + 4 <= body.length) {
      i += 4;
      return Number.parseInt(body.slice(i - 2, i), 16);
    }
    if (e === 'u' && HEX.test(body.slice(i + 2, i + 6)) && i + 6 <= body.length) {
      i += 6;
      return Number.parseInt(body.slice(i - 4, i), 16);
    }
    if (e === 'c' && /[a-zA-Z]/.test(body[i + 2] ?? '')) {
      i += 3;
      return body.charCodeAt(i - 1) % 32;
    }
    i += 2;
    const simple: Record<string, number> = { b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '0': 0 };
    return simple[e] ?? e.charCodeAt(0);
  };
  while (i < body.length) {
    const lo = read();
    if (lo >= 0 && body[i] === '-' && i + 1 < body.length) {
      const save = i;
      i++;
      const hi = read();
      if (hi >= 0) {
        if (hi < lo) fail('range out of order in character class');
        for (let c = lo; c <= hi; c++) for (const v of caseVariants(c)) codes.push(v);
        continue;
      }
      // `[a-\d]`: the `-` is literal.
      i = save;
    }
    if (lo >= 0) for (const v of caseVariants(lo)) codes.push(v);
  }
  return `[${neg}${kept}${classBody(codes)}]`;
}

// ------------------------------------------------------------ compile

/** RE2JS behind the QueryRegex interface (named captures read back by name). */
class Re2Regex implements QueryRegex {
  constructor(
    private readonly p: RE2JS,
    private readonly groupNames: string[],
  ) {}
  test(s: string): boolean {
    return this.p.test(s);
  }
  exec(s: string): RegexMatch | null {
    const m = this.p.matcher(s);
    if (!m.find()) return null;
    const groups: Record<string, string | undefined> = {};
    for (const g of this.groupNames) groups[g] = m.group(g) ?? undefined;
    const out: { [i: number]: string | undefined; index: number; groups: typeof groups } = {
      0: m.group(0) ?? '',
      index: m.start(),
      groups,
    };
    return out;
  }
}

/** Leading inline flags, after an optional `^`: `(?i)x`, `^(?i)x`, `(?i)(?s)x`. */
function liftLeadingFlags(source: string, fl: Set<string>): string {
  let src = source;
  const caret = src.startsWith('^') ? '^' : '';
  let body = src.slice(caret.length);
  for (let m = /^\(\?([a-zA-Z]+)\)/.exec(body); m; m = /^\(\?([a-zA-Z]+)\)/.exec(body)) {
    for (const f of m[1]) {
      if (!ALLOWED_FLAGS.has(f)) fail(`unsupported inline regex flag '${f}' (use i, m, s or u)`);
      fl.add(f);
    }
    body = body.slice(m[0].length);
  }
  src = caret + body;
  return src;
}

/** Throws LogferryError('QUERY_SYNTAX') with a plain message (the parser adds the position). */
export function toJsRegex(source: string, flags: string): JsRegex {
  const fl = new Set<string>();
  for (const f of flags) {
    if (!ALLOWED_FLAGS.has(f)) fail(`unsupported regex flag '${f}' (use i, m, s or u)`);
    fl.add(f);
  }
  const src = liftLeadingFlags(source, fl);
  const invalid = (e: unknown): never =>
    fail(
      `invalid regular expression /${source}/: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`,
    );

  if (!fl.has('u')) {
    let rw: Rewritten;
    try {
      rw = rewrite(src, fl.has('i'), fl.has('s'), fl.has('s'));
    } catch (e) {
      return invalid(e);
    }
    const groups = rw.names.map((n) => (n.startsWith('@') ? AT_GROUP + n.slice(1) : n));
    const jsFlags = [...fl].filter((f) => f !== 'i').join('');
    let re: RegExp;
    try {
      re = new RegExp(rw.src, jsFlags);
    } catch (e) {
      return invalid(e);
    }
    if (V8_LINEAR) {
      let linear = true;
      try {
        new RegExp(rw.src, jsFlags + LINEAR);
      } catch {
        linear = false;
      }
      if (linear && (!rw.nestedRepeat || v8FallbackWorks()))
        return nativeResult(re, rw.src, jsFlags, rw.names, groups, 'v8');
    }
    if (rw.hasLookaround || rw.hasBackref) {
      if (rw.nestedRepeat) {
        fail(
          `the regular expression /${source}/ repeats a group that itself repeats or has alternatives, and uses ${rw.hasBackref ? 'a backreference' : 'lookaround'}: it could take exponential time, so logferry refuses it (drop the ${rw.hasBackref ? 'backreference' : 'lookaround'} or the nested repetition)`,
        );
      }
      return nativeResult(re, rw.src, jsFlags, rw.names, groups, 'v8-checked');
    }
  }
  // RE2 syntax covers the rest (u-mode classes, large repetition counts); RE2 also understands
  // Java-style inline flags natively.
  const re2Src = src.replace(/(\(\?<|\\k<)@(?=[A-Za-z_$])/g, `$1${AT_GROUP}`);
  let p: RE2JS;
  try {
    p = RE2JS.compile(
      re2Src,
      (fl.has('i') ? RE2JS.CASE_INSENSITIVE : 0) |
        (fl.has('s') ? RE2JS.DOTALL : 0) |
        (fl.has('m') ? RE2JS.MULTILINE : 0),
    );
  } catch (e) {
    // Tell a plain syntax error from a construct only a backtracking engine has.
    try {
      new RegExp(src, [...fl].join(''));
    } catch (e2) {
      return invalid(e2);
    }
    return fail(
      `the regular expression /${source}/ cannot run in guaranteed linear time (${(e as Error).message}); logferry runs query regexes with a linear-time engine`,
    );
  }
  const names: string[] = [];
  const groupRe = /\(\?P?<(@?[A-Za-z_$][\w$]*)>/g;
  for (let m = groupRe.exec(src); m; m = groupRe.exec(src)) {
    let bs = 0;
    for (let k = m.index - 1; k >= 0 && src[k] === '\\'; k--) bs++;
    if (bs % 2 === 0) names.push(m[1]);
  }
  const groups = names.map((n) => (n.startsWith('@') ? AT_GROUP + n.slice(1) : n));
  return {
    re: new Re2Regex(p, groups),
    names,
    groups,
    engine: 're2',
    replacer: (r) => {
      const js = jsReplacement(r);
      return (s) => p.matcher(s).replaceAll(js);
    },
  };
}

function nativeResult(
  re: RegExp,
  src: string,
  flags: string,
  names: string[],
  groups: string[],
  engine: 'v8' | 'v8-checked',
): JsRegex {
  const global = new RegExp(src, `${flags}g`);
  return {
    re,
    names,
    groups,
    engine,
    replacer: (r) => {
      const js = jsReplacement(r);
      return (s) => s.replace(global, js);
    },
  };
}

/** Escapes text for use inside a RegExp. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
