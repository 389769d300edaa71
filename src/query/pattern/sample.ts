/**
 * A bounded, order-independent sample of a token's values with exact counts: a bottom-k sketch.
 * Each value is kept while its 32-bit hash is among the `k` smallest hashes seen so far. The kept
 * set at the end is the `k` values with the smallest hashes overall — whatever the arrival order —
 * and a kept value was never evicted, so its count is exact. Sketches merge the same way (union,
 * keep the k smallest), which is what lets signatures fold into patterns. When there are at most
 * `k` distinct values the sample is the full, exact value table.
 */

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
 * Kept values live in parallel arrays of at most k+1 entries, searched by hash: adding an
 * occurrence of a kept value compares numbers and, on a hash match, the characters in place —
 * nothing is sliced or allocated unless the value is new to the sample.
 */
export class ValueSample {
  private vals: string[] = [];
  private hashes: number[] = [];
  private counts: number[] = [];
  private firsts: number[] = [];
  /** Whether a value was ever dropped (more than k distinct values). */
  overflow = false;
  private maxHash = -1;

  constructor(readonly k: number) {}

  /** Number of kept values. */
  get size(): number {
    return this.vals.length;
  }

  /** Kept values with their counts and first-seen times (a fresh map; not for hot loops). */
  get values(): Map<string, Slot> {
    const m = new Map<string, Slot>();
    for (let j = 0; j < this.vals.length; j++)
      m.set(this.vals[j], { count: this.counts[j], first: this.firsts[j] });
    return m;
  }

  /**
   * Adds one occurrence of `msg.slice(start, end)`, whose `hash32` is `hashes[at]` (as int32: read
   * from a typed array so that no hash is boxed on the way), without copying the value unless it is
   * kept and new.
   */
  offer(msg: string, start: number, end: number, hashArr: Int32Array, at: number, first: number): void {
    const h = hashArr[at] >>> 0;
    const n = this.vals.length;
    if (n >= this.k && h > this.maxHash) {
      this.overflow = true;
      return;
    }
    const hashes = this.hashes;
    const len = end - start;
    for (let j = 0; j < n; j++) {
      if (hashes[j] !== h) continue;
      const v = this.vals[j];
      if (v.length !== len) continue;
      let same = true;
      for (let x = 0; x < len; x++)
        if (v.charCodeAt(x) !== msg.charCodeAt(start + x)) {
          same = false;
          break;
        }
      if (same) {
        this.counts[j]++;
        if (first < this.firsts[j]) this.firsts[j] = first;
        return;
      }
    }
    this.insert(msg.slice(start, end), h, 1, first);
  }

  add(value: string, count: number, first: number): void {
    this.addHashed(value, hash32(value), count, first);
  }

  private addHashed(value: string, h: number, count: number, first: number): void {
    let j = 0;
    const n = this.vals.length;
    while (j < n && (this.hashes[j] !== h || this.vals[j] !== value)) j++;
    if (j < n) {
      this.counts[j] += count;
      if (first < this.firsts[j]) this.firsts[j] = first;
      return;
    }
    this.insert(value, h, count, first);
  }

  /** Adds a value known not to be kept. */
  private insert(value: string, h: number, count: number, first: number): void {
    if (this.vals.length >= this.k) {
      this.overflow = true;
      if (h >= this.maxHash) return;
      this.push(value, h, count, first);
      this.evict();
      return;
    }
    this.push(value, h, count, first);
    if (h > this.maxHash) this.maxHash = h;
  }

  private push(value: string, h: number, count: number, first: number): void {
    this.vals.push(value);
    this.hashes.push(h);
    this.counts.push(count);
    this.firsts.push(first);
  }

  /** Drops the value with the largest hash (ties: the larger value) and recomputes the bound. */
  private evict(): void {
    let worst = -1;
    let wh = -1;
    for (let j = 0; j < this.vals.length; j++) {
      const h = this.hashes[j];
      if (h > wh || (h === wh && worst >= 0 && this.vals[j] > this.vals[worst])) {
        wh = h;
        worst = j;
      }
    }
    if (worst >= 0) {
      const last = this.vals.length - 1;
      this.vals[worst] = this.vals[last];
      this.hashes[worst] = this.hashes[last];
      this.counts[worst] = this.counts[last];
      this.firsts[worst] = this.firsts[last];
      this.vals.pop();
      this.hashes.pop();
      this.counts.pop();
      this.firsts.pop();
    }
    let m = -1;
    for (const h of this.hashes) if (h > m) m = h;
    this.maxHash = m;
  }

  merge(o: ValueSample): void {
    if (o.overflow) this.overflow = true;
    for (let j = 0; j < o.vals.length; j++) this.addHashed(o.vals[j], o.hashes[j], o.counts[j], o.firsts[j]);
  }

  /** Distinct values: exact when no overflow, else the bottom-k estimate (k-1)/(max hash fraction). */
  distinct(): number {
    if (!this.overflow) return this.vals.length;
    const frac = (this.maxHash + 1) / 4294967296;
    return Math.max(this.vals.length, Math.round((this.k - 1) / frac));
  }

  /** Kept values, most frequent first (ties by value). */
  top(n: number): { value: string; count: number }[] {
    return this.vals
      .map((value, j) => ({ value, count: this.counts[j] }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, n);
  }

  firstSeen(value: string): number | undefined {
    const j = this.vals.indexOf(value);
    return j >= 0 ? this.firsts[j] : undefined;
  }
}
