/**
 * Stateful commands as push operators: each receives rows with `push(row)` (returning false when it
 * needs no more input, e.g. a satisfied `limit`) and emits downstream on `end()`. `sort` followed by
 * `limit n` keeps a bounded heap of n rows; `stats` groups in a Map with one accumulator per
 * aggregate per group; `dedup` keeps a Set of keys.
 */
import type {
  AccumCommand,
  AddtotalsCommand,
  AutoregressCommand,
  CallExpr,
  DedupCommand,
  FilldownCommand,
  FillmissingCommand,
  OutlierCommand,
  SessionizeCommand,
  SortCommand,
  StatsCommand,
} from './ast.js';
import { compileExpr, type ExprContext } from './compile-expr.js';
import { type Accumulator, type CompiledArg, lookupFunction } from './functions/registry.js';
import { escapeRegex, type QueryRegex, type RegexMatch } from './regex.js';
import { OUTLIER_MARK } from './row-commands.js';
import type { Row } from './types.js';
import { fieldGetter, type Getter, isMissing, jsonText, sortCompare, toNumber, toStr } from './values.js';

export interface Sink {
  /** Returns false when no more input is needed. */
  push(row: Row): boolean;
  end(): void;
}

// ------------------------------------------------------------------ sort

export interface SortKeySpec {
  get: Getter;
  desc: boolean;
}

interface Keyed {
  /** First key (most sorts have one key: kept out of an array). */
  k0: unknown;
  /** All keys when there are several. */
  keys: unknown[] | undefined;
  seq: number;
  row: Row;
}

/** Compares one key pair: numbers fast, missing last in both directions, else the documented sort order. */
function compareKey(x: unknown, y: unknown, desc: boolean): number {
  if (typeof x === 'number' && typeof y === 'number') return x === y ? 0 : x < y !== desc ? -1 : 1;
  const mx = isMissing(x);
  const my = isMissing(y);
  if (mx || my) return mx && my ? 0 : mx ? 1 : -1;
  const c = sortCompare(x, y);
  return desc ? -c : c;
}

function keyedComparator(keys: SortKeySpec[]): (a: Keyed, b: Keyed) => number {
  if (keys.length === 1) {
    const desc = keys[0].desc;
    return (a, b) => compareKey(a.k0, b.k0, desc) || a.seq - b.seq;
  }
  const n = keys.length;
  return (a, b) => {
    const ak = a.keys!;
    const bk = b.keys!;
    for (let i = 0; i < n; i++) {
      const c = compareKey(ak[i], bk[i], keys[i].desc);
      if (c !== 0) return c;
    }
    return a.seq - b.seq;
  };
}

/** Binary max-heap on "sorts later" so the root is the row to evict first. Sifts move a hole (no swaps). */
class BoundedHeap {
  private readonly items: Keyed[] = [];
  constructor(
    private readonly cap: number,
    private readonly cmp: (a: Keyed, b: Keyed) => number,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** The row that would be evicted next (only when full). */
  root(): Keyed {
    return this.items[0];
  }

  offer(k: Keyed): void {
    const h = this.items;
    if (h.length < this.cap) {
      h.push(k);
      this.up(h.length - 1);
    } else if (this.cmp(k, h[0]) < 0) {
      this.down(k);
    }
  }

  sorted(): Keyed[] {
    return this.items.slice().sort(this.cmp);
  }

  private up(i: number): void {
    const h = this.items;
    const x = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.cmp(x, h[p]) <= 0) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = x;
  }

  /** Replaces the root with x and sifts it down. */
  private down(x: Keyed): void {
    const h = this.items;
    const n = h.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && this.cmp(h[r], h[l]) > 0 ? r : l;
      if (this.cmp(h[m], x) <= 0) break;
      h[i] = h[m];
      i = m;
    }
    h[i] = x;
  }
}

export function sortOperator(keys: SortKeySpec[], limit: number | undefined, next: Sink): Sink {
  const cmp = keyedComparator(keys);
  let seq = 0;
  const heap = limit !== undefined ? new BoundedHeap(limit, cmp) : undefined;
  const all: Keyed[] = [];
  const n = keys.length;
  const first = keys[0].get;
  const desc0 = keys[0].desc;
  return {
    push(row) {
      const k0 = first(row);
      // A full heap rejects most rows on the first key alone: no allocation for them.
      if (heap && heap.size === limit && compareKey(k0, heap.root().k0, desc0) > 0) {
        seq++;
        return true;
      }
      let ks: unknown[] | undefined;
      if (n > 1) {
        ks = new Array(n);
        ks[0] = k0;
        for (let i = 1; i < n; i++) ks[i] = keys[i].get(row);
      }
      const item: Keyed = { k0, keys: ks, seq: seq++, row };
      if (heap) heap.offer(item);
      else all.push(item);
      return true;
    },
    end() {
      const out = heap ? heap.sorted() : all.sort(cmp);
      for (const it of out) if (!next.push(it.row)) break;
      next.end();
    },
  };
}

export function sortKeys(c: SortCommand, ctx: ExprContext): SortKeySpec[] {
  return c.keys.map((k) => ({ get: compileExpr(k.expr, ctx), desc: k.direction === 'desc' }));
}

// ------------------------------------------------------------------ limit

export function limitOperator(n: number, next: Sink): Sink {
  let count = 0;
  let open = true;
  return {
    push(row) {
      if (!open) return false;
      count++;
      if (!next.push(row)) open = false;
      if (count >= n) open = false;
      return open;
    },
    end() {
      next.end();
    },
  };
}

// ------------------------------------------------------------------ dedup

/** Keeps the first row for each combination; rows missing any of the fields are kept (never duplicates). */
export function dedupOperator(c: DedupCommand, next: Sink): Sink {
  const getters = c.fields.map((f) => fieldGetter(f.name));
  const seen = new Set<string>();
  let open = true;
  return {
    push(row) {
      if (!open) return false;
      let key = '';
      for (const g of getters) {
        const v = g(row);
        if (isMissing(v)) {
          open = next.push(row);
          return open;
        }
        key += `${typeof v === 'string' ? v : jsonText(v)}\u0000`;
      }
      if (seen.has(key)) return true;
      seen.add(key);
      open = next.push(row);
      return open;
    },
    end() {
      next.end();
    },
  };
}

// ------------------------------------------------------------------ unnest / expand

/**
 * The elements `unnest`/`expand` produce for a value: a list's elements (a JSON-array string is
 * parsed); any other value — a map, a string, a number — is a list of one item (CWL_QuerySyntax-Unnest:
 * "Any other types, such as MAP, String and numbers, are treated as a list with one item"). A missing
 * value yields no rows (the record has nothing to flatten); an empty list yields none either.
 */
function elementsOf(v: unknown): readonly unknown[] {
  if (Array.isArray(v)) return v;
  if (v === undefined || v === null) return [];
  if (typeof v === 'string' && v.length > 1 && v[0] === '[') {
    try {
      const parsed: unknown = JSON.parse(v);
      if (Array.isArray(parsed)) return parsed;
    } catch {
      // not a JSON list: a string, so one item
    }
  }
  return [v];
}

/** `unnest f into g` (one row per element, in g) and `expand f` (the element replaces f). */
export function unnestOperator(field: string, into: string, next: Sink): Sink {
  const get = fieldGetter(field);
  let open = true;
  return {
    push(row) {
      if (!open) return false;
      for (const el of elementsOf(get(row))) {
        if (!next.push({ ...row, [into]: el })) {
          open = false;
          break;
        }
      }
      return open;
    },
    end() {
      next.end();
    },
  };
}

/**
 * Successive matches of `re` over a text, as a global RegExp's `exec` loop gives them. A V8 RegExp
 * gets the `g` flag; another engine (RE2JS, for patterns V8's linear engine refuses) is run on the
 * rest of the text after each match, with indexes shifted back.
 */
function globalMatcher(re: QueryRegex): { lastIndex: number; exec(text: string): RegexMatch | null } {
  if (re instanceof RegExp) return new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  return {
    lastIndex: 0,
    exec(text: string) {
      if (this.lastIndex > text.length) return null;
      const m = re.exec(text.slice(this.lastIndex));
      if (!m) {
        this.lastIndex = 0;
        return null;
      }
      m.index += this.lastIndex;
      this.lastIndex = m.index + (m[0]?.length ?? 0);
      return m;
    },
  };
}

/** `parse … /re/ multi`: one row per match of the regex (a row without a match passes unchanged). */
export function parseMultiOperator(
  source: Getter,
  re: QueryRegex,
  names: string[],
  readers: ((m: RegexMatch) => string | undefined)[],
  next: Sink,
): Sink {
  const g = globalMatcher(re);
  let open = true;
  return {
    push(row) {
      if (!open) return false;
      const v = source(row);
      if (isMissing(v)) {
        open = next.push(row);
        return open;
      }
      const text = typeof v === 'string' ? v : toStr(v);
      g.lastIndex = 0;
      let matched = false;
      for (let m = g.exec(text); m; m = g.exec(text)) {
        if (m[0] === '') g.lastIndex++;
        matched = true;
        const out: Row = { ...row };
        for (let i = 0; i < names.length; i++) {
          const x = readers[i](m);
          if (x !== undefined) out[names[i]] = x;
        }
        if (!next.push(out)) {
          open = false;
          return false;
        }
      }
      if (!matched) open = next.push(row);
      return open;
    },
    end() {
      next.end();
    },
  };
}

// ------------------------------------------------------------------ ordered, row-at-a-time

/** `accum f as out`: running sum over the rows in the order they arrive; a non-number adds nothing. */
export function accumOperator(c: AccumCommand, next: Sink): Sink {
  const get = fieldGetter(c.field);
  let sum = 0;
  return {
    push(row) {
      const n = toNumber(get(row));
      if (!Number.isNaN(n)) sum += n;
      return next.push({ ...row, [c.as]: sum });
    },
    end() {
      next.end();
    },
  };
}

/** `autoregress f [as a] [p=N[-M]]`: copies of f from N…M rows before (absent for the first rows). */
export function autoregressOperator(c: AutoregressCommand, next: Sink): Sink {
  const get = fieldGetter(c.field);
  const depth = c.to;
  const ring: unknown[] = new Array(depth);
  let seen = 0;
  const names = Array.from({ length: c.to - c.from + 1 }, (_, i) =>
    c.as !== undefined ? c.as : `${c.field}_p${c.from + i}`,
  );
  return {
    push(row) {
      const out: Row = { ...row };
      for (let lag = c.from; lag <= c.to; lag++) {
        if (seen >= lag) {
          const v = ring[(seen - lag) % depth];
          if (!isMissing(v)) out[names[lag - c.from]] = v;
        }
      }
      ring[seen % depth] = get(row);
      seen++;
      return next.push(out);
    },
    end() {
      next.end();
    },
  };
}

/** Glob patterns of filldown/addtotals (`cpu*`) as a name test. */
export function nameMatcher(patterns: string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const globs = patterns
    .filter((p) => p.includes('*'))
    .map((p) => new RegExp(`^${p.split('*').map(escapeRegex).join('.*')}$`, 's'));
  return (n) => exact.has(n) || globs.some((g) => g.test(n));
}

/**
 * `filldown [fields]`: a missing (absent or null) value takes the last non-null value seen for that
 * field. Without fields, every field seen so far is filled.
 */
export function filldownOperator(c: FilldownCommand, columns: string[], next: Sink): Sink {
  const last = new Map<string, unknown>();
  const all = c.fields.length === 0;
  const wanted = nameMatcher(c.fields);
  // Named fields (and display columns matching a pattern) are filled even when a row lacks the key.
  const fixed = all
    ? []
    : [...new Set([...c.fields.filter((f) => !f.includes('*')), ...columns.filter(wanted)])];
  return {
    push(row) {
      let out: Row | undefined;
      for (const k in row) {
        if (!all && !wanted(k)) continue;
        const v = row[k];
        if (v === null || v === undefined) {
          if (last.has(k)) {
            out ??= { ...row };
            out[k] = last.get(k);
          }
        } else last.set(k, v);
      }
      for (const k of fixed) {
        if (k in row) continue;
        const v = fieldGetter(k)(row);
        if (!isMissing(v)) {
          last.set(k, v);
        } else if (last.has(k)) {
          out ??= { ...row };
          out[k] = last.get(k);
        }
      }
      if (all) {
        for (const [k, v] of last) {
          if (!(k in row)) {
            out ??= { ...row };
            out[k] = v;
          }
        }
      }
      return next.push(out ?? row);
    },
    end() {
      next.end();
    },
  };
}

// ------------------------------------------------------------------ blocking

/**
 * `addtotals`: row=true adds `fieldname` = the sum of the row's numeric values of the named fields
 * (or of every numeric field not starting with `@` — `@timestamp` is a number but no quantity);
 * col=true appends one row with each summed field's column total (and the total of the totals).
 */
export function addtotalsOperator(c: AddtotalsCommand, next: Sink): Sink {
  const wanted = c.fields.length ? nameMatcher(c.fields) : (k: string) => !k.startsWith('@');
  const colSums = new Map<string, number>();
  let open = true;
  const addCol = (k: string, n: number) => colSums.set(k, (colSums.get(k) ?? 0) + n);
  return {
    push(row) {
      if (!open) return false;
      let total = 0;
      let any = false;
      for (const k in row) {
        if (k === c.fieldname || !wanted(k)) continue;
        const v = row[k];
        if (typeof v === 'boolean' || v === null || v === undefined) continue;
        const n = toNumber(v);
        if (Number.isNaN(n)) continue;
        total += n;
        any = true;
        if (c.col) addCol(k, n);
      }
      const out = c.row ? { ...row, [c.fieldname]: any ? total : 0 } : row;
      if (c.row && c.col) addCol(c.fieldname, any ? total : 0);
      open = next.push(out);
      return open || c.col;
    },
    end() {
      if (c.col && open) {
        const summary: Row = {};
        for (const [k, v] of colSums) summary[k] = v;
        next.push(summary);
      }
      next.end();
    },
  };
}

/** Quantile with linear interpolation between closest ranks (R type 7, numpy's default). */
function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * `outlier`: per field, Q1/Q3 over the rows' numeric values; above Q3 + param×IQR (and, with
 * uselower, below Q1 − param×IQR) is an outlier. transform clamps the value to the bound; remove
 * drops the row; mark adds `outlier` (true/false). Holds all rows (it needs the quartiles first).
 */
export function outlierOperator(c: OutlierCommand, next: Sink): Sink {
  const rows: Row[] = [];
  const getters = c.fields.map((f) => fieldGetter(f));
  return {
    push(row) {
      rows.push(row);
      return true;
    },
    end() {
      const bounds = getters.map((g) => {
        const xs: number[] = [];
        for (const r of rows) {
          const v = g(r);
          if (isMissing(v) || typeof v === 'boolean') continue;
          const n = toNumber(v);
          if (!Number.isNaN(n)) xs.push(n);
        }
        if (xs.length === 0) return undefined;
        xs.sort((a, b) => a - b);
        const q1 = quantile(xs, 0.25);
        const q3 = quantile(xs, 0.75);
        const iqr = q3 - q1;
        return { hi: q3 + c.param * iqr, lo: c.uselower ? q1 - c.param * iqr : Number.NEGATIVE_INFINITY };
      });
      for (const row of rows) {
        let isOut = false;
        let out: Row | undefined;
        for (let i = 0; i < getters.length; i++) {
          const b = bounds[i];
          if (!b) continue;
          const v = getters[i](row);
          if (isMissing(v) || typeof v === 'boolean') continue;
          const n = toNumber(v);
          if (Number.isNaN(n) || (n <= b.hi && n >= b.lo)) continue;
          isOut = true;
          if (c.action === 'transform') {
            out ??= { ...row };
            out[c.fields[i]] = n > b.hi ? b.hi : b.lo;
          }
        }
        if (isOut && c.action === 'remove') continue;
        if (c.mark) out = { ...(out ?? row), [OUTLIER_MARK]: isOut };
        if (!next.push(out ?? row)) break;
      }
      next.end();
    },
  };
}

/**
 * `sessionize f… [maxspan d] [as out]`: rows with the same identity values whose @timestamps are at
 * most `maxspan` apart (each to the previous one) share a session. Session ids are 1, 2, 3… in the
 * order sessions start (earliest first; ties by identity order of appearance). Rows missing an
 * identity field or a timestamp get no session. Output keeps the input order.
 */
export function sessionizeOperator(c: SessionizeCommand, next: Sink): Sink {
  const rows: Row[] = [];
  const getters = c.fields.map((f) => fieldGetter(f));
  const ts = fieldGetter('@timestamp');
  return {
    push(row) {
      rows.push(row);
      return true;
    },
    end() {
      const byKey = new Map<string, number[]>();
      rows.forEach((r, i) => {
        let key = '';
        for (const g of getters) {
          const v = g(r);
          if (isMissing(v)) return;
          key += `${typeof v === 'string' ? v : jsonText(v)}\u0000`;
        }
        if (typeof ts(r) !== 'number') return;
        let list = byKey.get(key);
        if (!list) {
          list = [];
          byKey.set(key, list);
        }
        list.push(i);
      });
      const sessionOf = new Int32Array(rows.length);
      const starts: { t: number; order: number; members: number[] }[] = [];
      let order = 0;
      for (const list of byKey.values()) {
        list.sort((a, b) => (ts(rows[a]) as number) - (ts(rows[b]) as number) || a - b);
        let cur: number[] = [];
        let prev = Number.NEGATIVE_INFINITY;
        for (const i of list) {
          const t = ts(rows[i]) as number;
          if (cur.length && t - prev > c.maxspanMs) {
            starts.push({ t: ts(rows[cur[0]]) as number, order: order++, members: cur });
            cur = [];
          }
          cur.push(i);
          prev = t;
        }
        if (cur.length) starts.push({ t: ts(rows[cur[0]]) as number, order: order++, members: cur });
      }
      starts.sort((a, b) => a.t - b.t || a.order - b.order);
      starts.forEach((s, n) => {
        for (const i of s.members) sessionOf[i] = n + 1;
      });
      for (let i = 0; i < rows.length; i++) {
        const out = sessionOf[i] ? { ...rows[i], [c.as]: sessionOf[i] } : rows[i];
        if (!next.push(out)) break;
      }
      next.end();
    },
  };
}

/**
 * `fillmissing [with v for f, …]` after `stats … by bin(w)`: for each combination of the other by
 * keys, adds a row for every empty bin between the first and the last bin seen (bins the query
 * window holds but no event reached stay unknown here: the engine does not know the window).
 * Filled rows carry the `with` constants; other aggregates are null. Output: bins newest first,
 * as stats emits them.
 */
export function fillmissingOperator(
  c: FillmissingCommand,
  binColumn: string,
  step: (t: number, dir: 1 | -1) => number,
  otherKeys: string[],
  fillValues: { field: string; value: unknown }[],
  next: Sink,
): Sink {
  const rows: Row[] = [];
  return {
    push(row) {
      rows.push(row);
      return true;
    },
    end() {
      const groups = new Map<string, Row[]>();
      const order: string[] = [];
      for (const r of rows) {
        const key = jsonText(otherKeys.map((k) => r[k] ?? null));
        let g = groups.get(key);
        if (!g) {
          g = [];
          groups.set(key, g);
          order.push(key);
        }
        g.push(r);
      }
      const out: Row[] = [];
      for (const key of order) {
        const g = groups.get(key)!;
        const have = new Map<number, Row>();
        for (const r of g) if (typeof r[binColumn] === 'number') have.set(r[binColumn] as number, r);
        const times = [...have.keys()];
        if (times.length === 0) {
          out.push(...g);
          continue;
        }
        const lo = Math.min(...times);
        const hi = Math.max(...times);
        const keyVals = JSON.parse(key) as unknown[];
        for (let t = hi; t >= lo; t = step(t, -1)) {
          const r = have.get(t);
          if (r) {
            out.push(r);
            continue;
          }
          const filled: Row = { [binColumn]: t };
          otherKeys.forEach((k, i) => {
            filled[k] = keyVals[i];
          });
          for (const f of fillValues) filled[f.field] = f.value;
          out.push(filled);
          if (out.length > 1_000_000) break;
        }
        for (const r of g) if (typeof r[binColumn] !== 'number') out.push(r);
      }
      // Newest bin first across groups, as stats emits bins.
      out.sort(
        (a, b) =>
          (typeof b[binColumn] === 'number' ? (b[binColumn] as number) : -Infinity) -
          (typeof a[binColumn] === 'number' ? (a[binColumn] as number) : -Infinity),
      );
      for (const r of out) if (!next.push(r)) break;
      next.end();
    },
  };
}

// ------------------------------------------------------------------ stats

interface AggSlot {
  slot: string;
  create: () => Accumulator;
}

interface Group {
  keys: unknown[];
  accs: Accumulator[];
}

const SLOT_PREFIX = '\u0000agg';
const MISSING_KEY = Symbol('missing');

/** Group-map key of a value: strings, numbers, booleans as they are (1 and "1" stay apart), objects as JSON. */
function mapKey(v: unknown): unknown {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v === undefined || v === null) return MISSING_KEY;
  return `\u0000o${jsonText(v)}`;
}

/**
 * Compiles `stats`: each aggregate call becomes a slot; an aggregate item is then an expression over
 * slots (so `sum(bytes) / count(*)` works). Groups keep first-seen order; with a `bin()` key they
 * come out newest bin first (see docs/query-language.md).
 */
export function statsOperator(c: StatsCommand, ctx: ExprContext, next: Sink): Sink {
  const slots: AggSlot[] = [];
  const slotFor = new Map<CallExpr, string>();
  const register = (e: CallExpr): Getter | undefined => {
    const spec = lookupFunction(e.name);
    if (spec?.kind !== 'aggregate') return undefined;
    let slot = slotFor.get(e);
    if (!slot) {
      slot = `${SLOT_PREFIX}${slots.length}`;
      slotFor.set(e, slot);
      const args: CompiledArg[] = e.args.map((a) => ({ expr: a, get: compileExpr(a, ctx) }));
      slots.push({ slot, create: spec.create(args, ctx, e.star === true) });
    }
    const s = slot;
    return (r) => r[s];
  };
  const aggCtx: ExprContext = { ...ctx, call: register };
  const outputs = c.aggregates.map((a) => ({ name: a.name, get: compileExpr(a.expr, aggCtx) }));
  const by = c.by.map((b) => {
    const get = compileExpr(b.expr, ctx);
    if (!c.offset || b.expr.kind !== 'call' || b.expr.name !== 'bin') return { name: b.name, get };
    // `by bin(w) offset d`: bins start d after the epoch-aligned boundaries (bin of t − d, plus d).
    const off = c.offset.ms;
    const ts = fieldGetter('@timestamp');
    return {
      name: b.name,
      get: (r: Row) => {
        const t = ts(r);
        if (typeof t !== 'number') return null;
        const v = get({ '@timestamp': t - off });
        return typeof v === 'number' ? v + off : v;
      },
    };
  });
  const binIndex = c.by.findIndex((b) => b.expr.kind === 'call' && b.expr.name === 'bin');

  const groups = new Map<unknown, Group>();
  const newGroup = (keys: unknown[]): Group => ({ keys, accs: slots.map((s) => s.create()) });
  let single: Group | undefined;
  const oneKey = by.length === 1 ? by[0].get : undefined;
  /** Groups in first-seen order (the Maps may be nested). */
  const ordered: Group[] = [];

  return {
    push(row) {
      let g: Group | undefined;
      if (by.length === 0) {
        single ??= newGroup([]);
        g = single;
      } else if (oneKey) {
        // One key (the common case): strings and numbers are Map keys as they are, no key string built.
        const v = oneKey(row);
        const key = mapKey(v);
        g = groups.get(key);
        if (!g) {
          g = newGroup([v]);
          groups.set(key, g);
          ordered.push(g);
        }
      } else {
        // Several keys: nested Maps, one level per key, so no key string is built per row.
        let level = groups as Map<unknown, unknown>;
        const last = by.length - 1;
        for (let i = 0; i < last; i++) {
          const k = mapKey(by[i].get(row));
          let nextLevel = level.get(k) as Map<unknown, unknown> | undefined;
          if (!nextLevel) {
            nextLevel = new Map();
            level.set(k, nextLevel);
          }
          level = nextLevel;
        }
        const lk = mapKey(by[last].get(row));
        g = level.get(lk) as Group | undefined;
        if (!g) {
          g = newGroup(by.map((b) => b.get(row)));
          level.set(lk, g);
          ordered.push(g);
        }
      }
      const accs = g.accs;
      for (let i = 0; i < accs.length; i++) accs[i].add(row);
      return true;
    },
    end() {
      let list: Group[] = by.length === 0 ? [single ?? newGroup([])] : ordered;
      if (binIndex >= 0) {
        list = list.slice().sort((a, b) => {
          const x = a.keys[binIndex];
          const y = b.keys[binIndex];
          return (typeof y === 'number' ? y : -Infinity) - (typeof x === 'number' ? x : -Infinity);
        });
      }
      for (const g of list) {
        const slotRow: Row = {};
        for (let i = 0; i < slots.length; i++) slotRow[slots[i].slot] = g.accs[i].result();
        const out: Row = {};
        for (let i = 0; i < by.length; i++) out[by[i].name] = g.keys[i] ?? null;
        for (const o of outputs) {
          const v = o.get(slotRow) ?? null;
          out[o.name] = v;
          // A later item may use this one's alias: `max(a) as hi, min(a) as lo, hi - lo as spread`.
          slotRow[o.name] = v;
        }
        if (!next.push(out)) break;
      }
      next.end();
    },
  };
}
