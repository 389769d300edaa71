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
 * Kept values live in two plain arrays that grow with the values kept (most samples of a rare
 * signature hold one or two values, so nothing is reserved up front): the strings, and one array
 * of four numbers per value — its two hashes (tokenize.ts `hashRange`; the first is `hash32`),
 * count and first-seen time. A value is recognised by its 64 hash bits: adding an occurrence of a
 * kept value compares numbers only, and nothing is sliced or allocated unless the value is new to
 * the sample and kept. (Plain arrays rather than typed ones: a typed array per sample costs an
 * off-heap backing store, and signatures that appear once each made that the clusterer's main cost.)
 */
export class ValueSample {
  private n = 0;
  private readonly vals: string[] = [];
  /** Value j: [4j] hash 1 (unsigned), [4j+1] hash 2, [4j+2] count, [4j+3] first-seen time. */
  private readonly data: number[] = [];
  /** Whether a value was ever dropped (more than k distinct values). */
  overflow = false;
  private maxHash = -1;

  constructor(readonly k: number) {}

  /** Number of kept values. */
  get size(): number {
    return this.n;
  }

  /** Kept values with their counts and first-seen times (a fresh map; not for hot loops). */
  get values(): Map<string, Slot> {
    const m = new Map<string, Slot>();
    const { data } = this;
    for (let j = 0; j < this.n; j++) m.set(this.vals[j], { count: data[4 * j + 2], first: data[4 * j + 3] });
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
    const data = this.data;
    for (let j = 0; j < 4 * n; j += 4) {
      if (data[j] === h && data[j + 1] === h2) {
        data[j + 2]++;
        if (first < data[j + 3]) data[j + 3] = first;
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
    const data = this.data;
    for (let j = 0; j < 4 * this.n; j += 4) {
      if (data[j] === h && data[j + 1] === h2) {
        data[j + 2] += count;
        if (first < data[j + 3]) data[j + 3] = first;
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
    const { data } = this;
    this.vals[j] = value;
    data[4 * j] = h;
    data[4 * j + 1] = h2;
    data[4 * j + 2] = count;
    data[4 * j + 3] = first;
  }

  /** Drops the value with the largest hash (ties: the larger value) and recomputes the bound. */
  private evict(): void {
    const { data, vals } = this;
    let worst = -1;
    let wh = -1;
    for (let j = 0; j < this.n; j++) {
      const h = data[4 * j];
      if (h > wh || (h === wh && worst >= 0 && vals[j] > vals[worst])) {
        wh = h;
        worst = j;
      }
    }
    if (worst >= 0) {
      const last = --this.n;
      vals[worst] = vals[last];
      for (let f = 0; f < 4; f++) data[4 * worst + f] = data[4 * last + f];
      vals.length = last;
      data.length = 4 * last;
    }
    let m = -1;
    for (let j = 0; j < this.n; j++) if (data[4 * j] > m) m = data[4 * j];
    this.maxHash = m;
  }

  merge(o: ValueSample): void {
    if (o.overflow) this.overflow = true;
    const { data } = o;
    for (let j = 0; j < o.n; j++)
      this.addHashed(o.vals[j], data[4 * j], data[4 * j + 1], data[4 * j + 2], data[4 * j + 3]);
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
    for (let j = 0; j < this.n; j++) out.push({ value: this.vals[j], count: this.data[4 * j + 2] });
    return out
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, n);
  }

  firstSeen(value: string): number | undefined {
    for (let j = 0; j < this.n; j++) if (this.vals[j] === value) return this.data[4 * j + 3];
    return undefined;
  }
}
