/**
 * A bounded, order-independent sample of a token's values with exact counts: a bottom-k sketch.
 * Each value is kept while its 32-bit hash is among the `k` smallest hashes seen so far. The kept
 * set at the end is the `k` values with the smallest hashes overall — whatever the arrival order —
 * and a kept value was never evicted, so its count is exact. Sketches merge the same way (union,
 * keep the k smallest), which is what lets signatures fold into patterns. When there are at most
 * `k` distinct values the sample is the full, exact value table.
 */

import { HASH2, hashRange } from './tokenize.js';

/** FNV-1a, 32 bits, of `s.slice(from, to)`. */
export function hash32Range(s: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** FNV-1a, 32 bits. */
export function hash32(s: string): number {
  return hash32Range(s, 0, s.length);
}

/** One kept value: its count (exact) and the smallest timestamp it was seen at (Infinity when unknown). */
export interface Slot {
  count: number;
  first: number;
}

/**
 * Kept values live in fixed arrays of k+1 entries: the strings, and one Float64Array holding each
 * value's two hashes (tokenize.ts `hashRange`; the first is `hash32`), count and first-seen time.
 * A value is recognised by its 64 hash bits — adding an occurrence of a kept value compares numbers
 * only, and nothing is sliced or allocated unless the value is new to the sample and kept.
 */
export class ValueSample {
  private n = 0;
  private readonly vals: string[];
  /** [0, k]: hash 1 (unsigned), [k+1, 2k+1]: hash 2, then counts, then first-seen times. */
  private readonly data: Float64Array;
  private readonly stride: number;
  /** Whether a value was ever dropped (more than k distinct values). */
  overflow = false;
  private maxHash = -1;

  constructor(readonly k: number) {
    this.stride = k + 1;
    this.vals = new Array<string>(k + 1).fill('');
    this.data = new Float64Array(4 * (k + 1));
  }

  /** Number of kept values. */
  get size(): number {
    return this.n;
  }

  /** Kept values with their counts and first-seen times (a fresh map; not for hot loops). */
  get values(): Map<string, Slot> {
    const m = new Map<string, Slot>();
    const { data, stride } = this;
    for (let j = 0; j < this.n; j++)
      m.set(this.vals[j], { count: data[2 * stride + j], first: data[3 * stride + j] });
    return m;
  }

  /**
   * Adds one occurrence of `msg.slice(start, end)`, whose two hashes are `h1s[at]` and `h2s[at]`
   * (read from typed arrays so that no hash is boxed on the way), copying the value only when it is
   * new and kept.
   */
  offer(
    msg: string,
    start: number,
    end: number,
    h1s: Int32Array,
    h2s: Int32Array,
    at: number,
    first: number,
  ): void {
    const h = h1s[at] >>> 0;
    const n = this.n;
    if (n >= this.k && h > this.maxHash) {
      this.overflow = true;
      return;
    }
    const h2 = h2s[at];
    const { data, stride } = this;
    for (let j = 0; j < n; j++) {
      if (data[j] === h && data[stride + j] === h2) {
        data[2 * stride + j]++;
        if (first < data[3 * stride + j]) data[3 * stride + j] = first;
        return;
      }
    }
    this.insert(msg.slice(start, end), h, h2, 1, first);
  }

  add(value: string, count: number, first: number): void {
    const h = hashRange(value, 0, value.length) >>> 0;
    this.addHashed(value, h, HASH2.v, count, first);
  }

  private addHashed(value: string, h: number, h2: number, count: number, first: number): void {
    const { data, stride } = this;
    for (let j = 0; j < this.n; j++) {
      if (data[j] === h && data[stride + j] === h2) {
        data[2 * stride + j] += count;
        if (first < data[3 * stride + j]) data[3 * stride + j] = first;
        return;
      }
    }
    this.insert(value, h, h2, count, first);
  }

  /** Adds a value known not to be kept. */
  private insert(value: string, h: number, h2: number, count: number, first: number): void {
    if (this.n >= this.k) {
      this.overflow = true;
      if (h >= this.maxHash) return;
      this.set(this.n++, value, h, h2, count, first);
      this.evict();
      return;
    }
    this.set(this.n++, value, h, h2, count, first);
    if (h > this.maxHash) this.maxHash = h;
  }

  private set(j: number, value: string, h: number, h2: number, count: number, first: number): void {
    const { data, stride } = this;
    this.vals[j] = value;
    data[j] = h;
    data[stride + j] = h2;
    data[2 * stride + j] = count;
    data[3 * stride + j] = first;
  }

  /** Drops the value with the largest hash (ties: the larger value) and recomputes the bound. */
  private evict(): void {
    const { data, stride, vals } = this;
    let worst = -1;
    let wh = -1;
    for (let j = 0; j < this.n; j++) {
      const h = data[j];
      if (h > wh || (h === wh && worst >= 0 && vals[j] > vals[worst])) {
        wh = h;
        worst = j;
      }
    }
    if (worst >= 0) {
      const last = --this.n;
      vals[worst] = vals[last];
      for (let f = 0; f < 4; f++) data[f * stride + worst] = data[f * stride + last];
      vals[last] = '';
    }
    let m = -1;
    for (let j = 0; j < this.n; j++) if (data[j] > m) m = data[j];
    this.maxHash = m;
  }

  merge(o: ValueSample): void {
    if (o.overflow) this.overflow = true;
    const { data, stride } = o;
    for (let j = 0; j < o.n; j++)
      this.addHashed(o.vals[j], data[j], data[stride + j], data[2 * stride + j], data[3 * stride + j]);
  }

  /** Distinct values: exact when no overflow, else the bottom-k estimate (k-1)/(max hash fraction). */
  distinct(): number {
    if (!this.overflow) return this.n;
    const frac = (this.maxHash + 1) / 4294967296;
    return Math.max(this.n, Math.round((this.k - 1) / frac));
  }

  /** Kept values, most frequent first (ties by value). */
  top(n: number): { value: string; count: number }[] {
    const out: { value: string; count: number }[] = [];
    for (let j = 0; j < this.n; j++) out.push({ value: this.vals[j], count: this.data[2 * this.stride + j] });
    return out
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, n);
  }

  firstSeen(value: string): number | undefined {
    for (let j = 0; j < this.n; j++) if (this.vals[j] === value) return this.data[3 * this.stride + j];
    return undefined;
  }
}
