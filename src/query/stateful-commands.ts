/**
 * Stateful commands as push operators: each receives rows with `push(row)` (returning false when it
 * needs no more input, e.g. a satisfied `limit`) and emits downstream on `end()`. `sort` followed by
 * `limit n` keeps a bounded heap of n rows; `stats` groups in a Map with one accumulator per
 * aggregate per group; `dedup` keeps a Set of keys.
 */
import type { CallExpr, DedupCommand, SortCommand, StatsCommand, UnnestCommand } from './ast.js';
import { compileExpr, type ExprContext } from './compile-expr.js';
import { type Accumulator, type CompiledArg, lookupFunction } from './functions/registry.js';
import type { Row } from './types.js';
import { fieldGetter, type Getter, isMissing, sortCompare } from './values.js';

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
        key += `${typeof v === 'string' ? v : JSON.stringify(v)}\u0000`;
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

// ------------------------------------------------------------------ unnest

/** One row per element of a list (a JSON-array string is parsed); rows without a list are dropped. */
export function unnestOperator(c: UnnestCommand, next: Sink): Sink {
  const get = fieldGetter(c.field.name);
  const into = c.into;
  let open = true;
  return {
    push(row) {
      if (!open) return false;
      let v = get(row);
      if (typeof v === 'string' && v.startsWith('[')) {
        try {
          v = JSON.parse(v);
        } catch {
          return true;
        }
      }
      if (!Array.isArray(v)) return true;
      for (const el of v) {
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
  return `\u0000o${JSON.stringify(v)}`;
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
  const by = c.by.map((b) => ({ name: b.name, get: compileExpr(b.expr, ctx) }));
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
