/**
 * Decides from an object's key alone whether it can hold a matching record, and what a cheap
 * substring pre-check on raw lines may demand before a line is parsed.
 *
 * Pruning evaluates the query's push-down filters in three-valued logic (true / false / unknown)
 * over what the key says (exact log stream, a stream prefix such as an EKS component, the log
 * group) and skips an object only when a filter is definitely false. Anything not understood is
 * unknown, so pruning never drops a record the query would keep (given the key-time slack).
 *
 * The line pre-check extracts literals a matching line must contain (string equality, `like`
 * substrings, the literal run of a regex, any-of for `in`/`or`). It is exact for JSON text written by
 * any encoder: literals are restricted to printable ASCII without `"`, `\`, `<`, `>`, `&`, and a line
 * that lacks the literal is still parsed when it contains a `\u` or `\/` escape (the only escapes that
 * could spell those characters).
 */
import { EKS_COMPONENTS } from '../../aws/classify.js';
import type { BinaryExpr, Expr, RegexLit } from '../ast.js';
import type { ObjectInfo } from './partition-path.js';
import { overlaps, type TimeRange } from './time-range.js';

type Tri = boolean | undefined;

function isField(e: Expr, name: string): boolean {
  return e.kind === 'field' && e.name === name;
}

/** The literal text a regex requires at its start (after `^`), and whether it is anchored. */
export function regexLiteralPrefix(
  re: RegexLit,
): { lit: string; anchored: boolean; whole: boolean } | undefined {
  if (re.flags.includes('i')) return undefined;
  let src = re.source;
  let anchored = false;
  if (src.startsWith('^')) {
    anchored = true;
    src = src.slice(1);
  }
  if (hasTopLevelAlternation(src)) return undefined;
  let lit = '';
  let i = 0;
  for (; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      const n = src[i + 1];
      if (n === undefined || /[A-Za-z0-9]/.test(n)) break; // \d, \w, \b, \1 …: not literal
      lit += n;
      i++;
      continue;
    }
    if ('.*+?()[]{}|^$'.includes(c)) break;
    lit += c;
  }
  // A quantifier after the run makes its last character optional/repeated.
  const next = src[i];
  if (next === '*' || next === '?' || next === '{') lit = lit.slice(0, -1);
  return { lit, anchored, whole: i === src.length && next === undefined };
}

function hasTopLevelAlternation(src: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

function and(a: Tri, b: Tri): Tri {
  if (a === false || b === false) return false;
  if (a === true && b === true) return true;
  return undefined;
}
function or(a: Tri, b: Tri): Tri {
  if (a === true || b === true) return true;
  if (a === false && b === false) return false;
  return undefined;
}
function not(a: Tri): Tri {
  return a === undefined ? undefined : !a;
}

/** Three-valued truth of a filter for every record of an object with this key. */
export function keyTruth(e: Expr, info: ObjectInfo): Tri {
  if (e.kind === 'unary' && e.op === 'not') return not(keyTruth(e.operand, info));
  if (e.kind !== 'binary') return undefined;
  if (e.op === 'and') return and(keyTruth(e.left, info), keyTruth(e.right, info));
  if (e.op === 'or') return or(keyTruth(e.left, info), keyTruth(e.right, info));
  if (isField(e.left, '@logStream')) return streamTruth(e, info);
  if (isField(e.left, '@log') && info.logGroup) return groupTruth(e, info.logGroup);
  if (isField(e.left, '@ptr')) return pointerTruth(e, info);
  if (e.left.kind === 'field' && info.fields && Object.hasOwn(info.fields, e.left.name))
    return valueTruth(e, info.fields[e.left.name]);
  return undefined;
}

/** The object key of a pointer `<key>:<line>` (archive scans write them so). */
export function pointerKey(ptr: string): string | undefined {
  const i = ptr.lastIndexOf(':');
  return i > 0 && /^\d+$/.test(ptr.slice(i + 1)) ? ptr.slice(0, i) : undefined;
}

/** `@ptr = "<key>:<line>"` (or `in [...]`) can only hold in the object with that key. */
function pointerTruth(e: BinaryExpr, info: ObjectInfo): Tri {
  const { op, right } = e;
  const values =
    op === '=' && right.kind === 'string'
      ? [right.value]
      : op === 'in' && right.kind === 'list' && right.items.every((x) => x.kind === 'string')
        ? right.items.map((x) => (x.kind === 'string' ? x.value : ''))
        : undefined;
  if (!values) return undefined;
  // A listing prefix (S3) holds every key that starts with it.
  const hit = (k: string | undefined) =>
    k !== undefined && (info.prefixOf !== undefined ? k.startsWith(info.prefixOf) : k === info.key);
  return values.some((v) => hit(pointerKey(v))) ? undefined : false;
}

/**
 * A comparison against a known string value (a partition field of the key). The key is trusted to
 * name what its objects hold: a line's own field of the same name wins on read, so an archive whose
 * lines contradict their key may lose those lines to pruning (docs/query.md).
 */
function valueTruth(e: BinaryExpr, s: string): Tri {
  const { op, right } = e;
  const negate = op === 'not like' || op === '!=' || op === 'not in';
  let t: Tri;
  if ((op === 'like' || op === 'not like') && right.kind === 'string') t = s.includes(right.value);
  else if ((op === 'like' || op === 'not like' || op === '=~') && right.kind === 'regex') {
    try {
      t = new RegExp(right.source, right.flags).test(s);
    } catch {
      return undefined;
    }
  } else if ((op === '=' || op === '!=') && right.kind === 'string') t = s === right.value;
  else if (
    (op === 'in' || op === 'not in') &&
    right.kind === 'list' &&
    right.items.every((x) => x.kind === 'string')
  )
    t = right.items.some((x) => x.kind === 'string' && x.value === s);
  else return undefined;
  return negate ? not(t) : t;
}

function streamTruth(e: BinaryExpr, info: ObjectInfo): Tri {
  const { op, right } = e;
  const negate = op === 'not like' || op === '!=' || op === 'not in';
  let t: Tri;
  if (info.logStream !== undefined) {
    const s = info.logStream;
    if ((op === 'like' || op === 'not like') && right.kind === 'string') t = s.includes(right.value);
    else if ((op === 'like' || op === 'not like' || op === '=~') && right.kind === 'regex') {
      try {
        t = new RegExp(right.source, right.flags).test(s);
      } catch {
        t = undefined;
      }
    } else if ((op === '=' || op === '!=') && right.kind === 'string') t = s === right.value;
    else if (
      (op === 'in' || op === 'not in') &&
      right.kind === 'list' &&
      right.items.every((x) => x.kind === 'string')
    )
      t = right.items.some((x) => x.kind === 'string' && x.value === s);
    else return undefined;
  } else if (info.streamPrefix !== undefined) {
    // Only the start of the stream name is known: decide anchored prefixes and equality.
    const p = info.streamPrefix;
    let lit: string | undefined;
    if ((op === 'like' || op === 'not like' || op === '=~') && right.kind === 'regex') {
      const r = regexLiteralPrefix(right);
      if (r?.anchored) lit = r.lit;
    } else if ((op === '=' || op === '!=') && right.kind === 'string') {
      if (!right.value.startsWith(p)) t = false;
      else return undefined;
    }
    if (lit !== undefined) {
      if (p.startsWith(lit)) t = true;
      else if (!lit.startsWith(p)) t = false;
      // The stream was classified as `p`, so it does not start with a longer component name that
      // classification tests first (kube-apiserver-audit before kube-apiserver).
      else if (EKS_COMPONENTS.some((d) => d !== p && d.startsWith(p) && lit.startsWith(d))) t = false;
      else return undefined;
    } else if (t === undefined) return undefined;
  } else return undefined;
  return negate ? not(t) : t;
}

function groupTruth(e: BinaryExpr, group: string): Tri {
  // Archived `@log` is `owner:logGroup` (or just the group); the key holds only the group.
  const { op, right } = e;
  if ((op === 'like' || op === 'not like') && right.kind === 'string') {
    const lit = right.value;
    let t: Tri;
    if (group.includes(lit)) t = true;
    else if (lit.includes(':') || /^\d*$/.test(lit)) return undefined;
    else t = false;
    return op === 'like' ? t : not(t);
  }
  // `SOURCE 'g'` / `SOURCE logGroups(namePrefix: …)` filter `@log like /^(?:[^:]*:)?…/`: the owner
  // part is optional, and log group names hold no ':', so when the rest of the pattern holds no ':'
  // either (a `(?:` group aside), it matches `owner:group` exactly when it matches the group alone — which the key gives.
  if ((op === 'like' || op === 'not like' || op === '=~') && right.kind === 'regex') {
    const rest = right.source.slice(OWNER_PREFIX.length).replace(/\(\?:/g, '(');
    if (!right.source.startsWith(OWNER_PREFIX) || rest.includes(':')) return undefined;
    let t: boolean;
    try {
      t = new RegExp(right.source, right.flags).test(group);
    } catch {
      return undefined;
    }
    return op === 'not like' ? !t : t;
  }
  return undefined;
}

/** The optional owner part of an archived `@log` (`owner:group`) that SOURCE's filters start with. */
const OWNER_PREFIX = '^(?:[^:]*:)?';

/** True when an object may hold records the query keeps. */
export function mayMatch(info: ObjectInfo, filters: Expr[], range: TimeRange, slackMs: number): boolean {
  if (info.keyFromMs !== undefined && info.keyToMs !== undefined && slackMs >= 0) {
    if (!overlaps(info.keyFromMs - slackMs, info.keyToMs - 1 + slackMs, range)) return false;
  }
  for (const f of filters) if (keyTruth(f, info) === false) return false;
  return true;
}

// ---------------------------------------------------------------- line pre-check

/** A conjunction of clauses; each clause is satisfied when the line contains any of its literals. */
export type LineRequirement = string[][];

const SAFE_LITERAL = /^[\x20-\x7e]+$/;
const UNSAFE_CHARS = /["\\<>&]/;
const NUMBER_LIKE = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
/** System fields whose values may come from the object's key rather than its lines. */
const KEY_FIELDS = new Set(['@logStream', '@log', '@timestamp', '@ingestionTime']);

function usable(lit: string): boolean {
  return lit.length >= 3 && SAFE_LITERAL.test(lit) && !UNSAFE_CHARS.test(lit) && !NUMBER_LIKE.test(lit);
}

/** Literal(s) a line must contain for this expression to be true, or undefined when none is known. */
function clauses(e: Expr, keyFields: ReadonlySet<string>): LineRequirement | undefined {
  if (e.kind !== 'binary') return undefined;
  if (e.op === 'and') {
    const a = clauses(e.left, keyFields);
    const b = clauses(e.right, keyFields);
    if (!a) return b;
    if (!b) return a;
    return [...a, ...b];
  }
  if (e.op === 'or') {
    const a = clauses(e.left, keyFields);
    const b = clauses(e.right, keyFields);
    // (A1 ∧ A2) ∨ (B1 ∧ B2) ⇒ keep it simple: only single-clause sides combine exactly.
    if (a?.length === 1 && b?.length === 1) return [[...a[0], ...b[0]]];
    return undefined;
  }
  const left = e.left;
  // Fields derived on read (`@duration`, …) and key-provided fields may not appear in the line.
  if (
    left.kind !== 'field' ||
    (left.name.startsWith('@') && left.name !== '@message') ||
    KEY_FIELDS.has(left.name) ||
    keyFields.has(left.name.split('.')[0])
  )
    return undefined;
  const r = e.right;
  if (e.op === 'like' && r.kind === 'string') return usable(r.value) ? [[r.value]] : undefined;
  if ((e.op === 'like' || e.op === '=~') && r.kind === 'regex') {
    const p = regexLiteralPrefix(r);
    return p && usable(p.lit) ? [[p.lit]] : undefined;
  }
  if (e.op === '=' && r.kind === 'string') return usable(r.value) ? [[r.value]] : undefined;
  if (e.op === 'in' && r.kind === 'list') {
    const lits: string[] = [];
    for (const it of r.items) {
      if (it.kind !== 'string' || !usable(it.value)) return undefined;
      lits.push(it.value);
    }
    return lits.length ? [lits] : undefined;
  }
  return undefined;
}

/**
 * `keyFields`: names the archive's keys provide as partition fields (Hive `k=v`); their values may
 * come from the key rather than the line, so they never demand a literal of the line.
 */
export function lineRequirement(
  filters: Expr[],
  keyFields: ReadonlySet<string> = new Set(),
): LineRequirement {
  const out: LineRequirement = [];
  for (const f of filters) {
    const c = clauses(f, keyFields);
    if (c) out.push(...c);
  }
  // Most selective (longest) literals first: fewer lines survive the first check.
  return out.sort((a, b) => Math.min(...b.map((s) => s.length)) - Math.min(...a.map((s) => s.length)));
}

/** True when the line may match: it has every clause's literal, or escapes that could hide one. */
export function linePasses(line: string, req: LineRequirement): boolean {
  for (let i = 0; i < req.length; i++) {
    const alts = req[i];
    let found = false;
    for (let j = 0; j < alts.length; j++) {
      if (line.includes(alts[j])) {
        found = true;
        break;
      }
    }
    if (!found) return line.includes('\\u') || line.includes('\\/');
  }
  return true;
}
