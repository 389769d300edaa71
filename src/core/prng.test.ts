import { describe, expect, it } from 'vitest';
import { mulberry32 } from './prng.js';

describe('mulberry32', () => {
  it('draws the same sequence for the same seed and another for another seed', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const c = mulberry32(2);
    const xs = Array.from({ length: 20 }, () => a());
    expect(Array.from({ length: 20 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 20 }, () => c())).not.toEqual(xs);
    expect(new Set(xs).size).toBe(20);
  });

  it('keeps the reference mulberry32 output (demo data and benches depend on it)', () => {
    // First draws of the reference implementation for seed 1; a change here changes every demo run.
    const r = mulberry32(1);
    expect([r(), r(), r()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  });

  it('returns floats in [0, 1) and treats the seed as unsigned 32-bit', () => {
    const r = mulberry32(0xdeadbeef);
    for (let i = 0; i < 10_000; i++) {
      const x = r();
      expect(x >= 0 && x < 1).toBe(true);
    }
    const neg = mulberry32(-1);
    const big = mulberry32(0xffffffff);
    expect(neg()).toBe(big());
  });
});
