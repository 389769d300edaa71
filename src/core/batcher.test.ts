import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

describe('Batcher', () => {
  it('closes a batch at the record or byte limit, per partition', () => {
    const b = new Batcher<number>({ maxRecords: 3, maxBytes: 100, maxAgeMs: 1_000 });
    expect(b.add(1, 10, 'a', 0)).toBeUndefined();
    expect(b.add(2, 10, 'b', 0)).toBeUndefined();
    expect(b.add(3, 10, 'a', 0)).toBeUndefined();
    expect(b.add(4, 10, 'a', 0)).toBeUndefined();
    expect(b.add(5, 10, 'a', 0)).toEqual([1, 3, 4]);
    expect(b.add(6, 95, 'a', 0)).toEqual([5]);
    expect(b.size).toBe(2);
  });

  it('hands out batches that waited maxAgeMs, and drains the rest', () => {
    const b = new Batcher<string>({ maxRecords: 10, maxBytes: 1_000, maxAgeMs: 100 });
    b.add('x', 1, 'a', 0);
    b.add('y', 1, 'b', 50);
    expect(b.due(99)).toEqual([]);
    expect(b.due(100)).toEqual([{ partition: 'a', items: ['x'] }]);
    expect(b.drain()).toEqual([{ partition: 'b', items: ['y'] }]);
    expect(b.size).toBe(0);
  });
});
