/**
 * A bounded, order-independent sample of a token's values with exact counts: a bottom-k sketch.
 * Each value is kept while its 32-bit hash is among the `k` smallest hashes seen so far. The kept
 * set at the end is the `k` values with the smallest hashes overall — whatever the arrival order —
 * and a kept value was never evicted, so its count is exact. Sketches merge the same way (union,
 * keep the k smallest), which is what lets signatures fold into patterns. When there are at most
 * `k` distinct values the sample is the full, exact value table.
 */

/** FNV-1a, 32 bits. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

interface Slot {
  hash: number;
  count: number;
  /** Smallest timestamp the value was seen at (Infinity when unknown). */
  first: number;
}

export class ValueSample {
  readonly values = new Map<string, Slot>();
  /** Whether a value was ever dropped (more than k distinct values). */
  overflow = false;
  private maxHash = -1;

  constructor(readonly k: number) {}

  /** Adds one occurrence of `msg.slice(start, end)` without copying it when it cannot be kept. */
  offer(msg: string, start: number, end: number, first: number): void {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) {
      h ^= msg.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h >>>= 0;
    if (this.values.size >= this.k && h > this.maxHash) {
      this.overflow = true;
      return;
    }
    this.addHashed(msg.slice(start, end), h, 1, first);
  }

  add(value: string, count: number, first: number): void {
    this.addHashed(value, hash32(value), count, first);
  }

  private addHashed(value: string, h: number, count: number, first: number): void {
    const cur = this.values.get(value);
    if (cur) {
      cur.count += count;
      if (first < cur.first) cur.first = first;
      return;
    }
    if (this.values.size >= this.k) {
      this.overflow = true;
      if (h >= this.maxHash) return;
      this.values.set(value, { hash: h, count, first });
      this.evict();
      return;
    }
    this.values.set(value, { hash: h, count, first });
    if (h > this.maxHash) this.maxHash = h;
  }

  private evict(): void {
    let worst: string | undefined;
    let wh = -1;
    for (const [v, s] of this.values) {
      if (s.hash > wh || (s.hash === wh && worst !== undefined && v > worst)) {
        wh = s.hash;
        worst = v;
      }
    }
    if (worst !== undefined) this.values.delete(worst);
    let m = -1;
    for (const s of this.values.values()) if (s.hash > m) m = s.hash;
    this.maxHash = m;
  }

  merge(o: ValueSample): void {
    if (o.overflow) this.overflow = true;
    for (const [v, s] of o.values) this.add(v, s.count, s.first);
  }

  /** Distinct values: exact when no overflow, else the bottom-k estimate (k-1)/(max hash fraction). */
  distinct(): number {
    if (!this.overflow) return this.values.size;
    const frac = (this.maxHash + 1) / 4294967296;
    return Math.max(this.values.size, Math.round((this.k - 1) / frac));
  }

  /** Kept values, most frequent first (ties by value). */
  top(n: number): { value: string; count: number }[] {
    return [...this.values]
      .map(([value, s]) => ({ value, count: s.count }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, n);
  }

  firstSeen(value: string): number | undefined {
    return this.values.get(value)?.first;
  }
}
