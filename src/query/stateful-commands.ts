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

export type RowComparator = (a: Row, b: Row) => number;

export interface SortKeySpec {
  get: Getter;
  desc: boolean;
}

/** Missing values go last in both directions; ties keep arrival order (the caller adds a sequence). */
export function keyComparator(keys: SortKeySpec[]): (a: unknown[], b: unknown[]) => number {
  return (a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const x = a[i];
      const y = b[i];
      const mx = isMissing(x);
      const my = isMissing(y);
      if (mx || my) {
        if (mx && my) continue;
        return mx ? 1 : -1;
      }
      const c = sortCompare(x, y);
      if (c !== 0) return keys[i].desc ? -c : c;
    }
    return 0;
  };
}

interface Keyed {
  keys: unknown[];
  seq: number;
  row: Row;
}

/** Binary max-heap on "worse than" so the root is the row to evict first. */
class BoundedHeap {
  private readonly items: Keyed[] = [];
  constructor(
    private readonly cap: number,
    private readonly cmp: (a: Keyed, b: Keyed) => number,
  ) {}

  offer(k: Keyed): void {
    const h = this.items;
    if (h.length < this.cap) {
      h.push(k);
      this.up(h.length - 1);
    } else if (this.cmp(k, h[0]) < 0) {
      h[0] = k;
      this.down(0);
    }
  }

  /** Wouldn't be kept: lets the caller skip building keys' row copies. */
  full(): boolean {
    return this.items.length >= this.cap;
  }

  worst(): Keyed | undefined {
    return this.items[0];
  }

  sorted(): Keyed[] {
    return this.items.slice().sort(this.cmp);
  }

  private up(i: number): void {
    const h = this.items;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.cmp(h[i], h[p]) <= 0) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.cmp(h[l], h[m]) > 0) m = l;
      if (r < h.length && this.cmp(h[r], h[m]) > 0) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

export function sortOperator(keys: SortKeySpec[], limit: number | undefined, next: Sink): Sink {
  const kc = keyComparator(keys);
  const cmp = (a: Keyed, b: Keyed) => kc(a.keys, b.keys) || a.seq - b.seq;
  let seq = 0;
  const heap = limit !== undefined ? new BoundedHeap(limit, cmp) : undefined;
  const all: Keyed[] = [];
  const n = keys.length;
  return {
    push(row) {
      const k = new Array(n);
      for (let i = 0; i < n; i++) k[i] = keys[i].get(row);
      const item = { keys: k, seq: seq++, row };
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

  const groups = new Map<string, Group>();
  const newGroup = (keys: unknown[]): Group => ({ keys, accs: slots.map((s) => s.create()) });
  let single: Group | undefined;

  return {
    push(row) {
      let g: Group | undefined;
      if (by.length === 0) {
        single ??= newGroup([]);
        g = single;
      } else {
        const keys = new Array(by.length);
        let key = '';
        for (let i = 0; i < by.length; i++) {
          const v = by[i].get(row);
          keys[i] = v;
          key +=
            typeof v === 'string'
              ? `s${v}\u0000`
              : v === undefined || v === null
                ? 'n\u0000'
                : typeof v === 'object'
                  ? `o${JSON.stringify(v)}\u0000`
                  : `p${String(v)}\u0000`;
        }
        g = groups.get(key);
        if (!g) {
          g = newGroup(keys);
          groups.set(key, g);
        }
      }
      const accs = g.accs;
      for (let i = 0; i < accs.length; i++) accs[i].add(row);
      return true;
    },
    end() {
      let list: Group[] = by.length === 0 ? [single ?? newGroup([])] : [...groups.values()];
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
        for (const o of outputs) out[o.name] = o.get(slotRow) ?? null;
        if (!next.push(out)) break;
      }
      next.end();
    },
  };
}
