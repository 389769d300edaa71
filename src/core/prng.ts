/**
 * mulberry32: a small, fast, seedable pseudo-random number generator. The same seed always gives
 * the same sequence, so demo payloads, bench data and fault-injection decisions are reproducible.
 * Not cryptographic: never use it for secrets, ids that must be unguessable, or sampling that must
 * resist manipulation. Period 2^32; each call returns a float in [0, 1).
 */

/** A generator of floats in [0, 1), deterministic for `seed` (taken as an unsigned 32-bit integer). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
