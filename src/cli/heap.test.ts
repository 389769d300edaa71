import { describe, expect, it } from 'vitest';
import { DEFAULT_HEAP_GROWING_PERCENT, heapGrowingPercent } from './heap.js';

describe('heapGrowingPercent (the V8 heap growth `logferry run` sets)', () => {
  it('defaults to 100 % and takes LOGFERRY_HEAP_GROWING_PERCENT, 0 meaning V8’s own policy', () => {
    expect(heapGrowingPercent({}, [])).toBe(DEFAULT_HEAP_GROWING_PERCENT);
    expect(DEFAULT_HEAP_GROWING_PERCENT).toBe(100);
    expect(heapGrowingPercent({ LOGFERRY_HEAP_GROWING_PERCENT: '50' }, [])).toBe(50);
    expect(heapGrowingPercent({ LOGFERRY_HEAP_GROWING_PERCENT: '0' }, [])).toBeUndefined();
  });

  it('leaves a flag given to node alone (command line or NODE_OPTIONS)', () => {
    expect(heapGrowingPercent({}, ['--heap-growing-percent=30'])).toBeUndefined();
    expect(heapGrowingPercent({ NODE_OPTIONS: '--heap-growing-percent=30' }, [])).toBeUndefined();
  });

  it('refuses a value that is not a whole number from 0 to 1000 with a sentence (exit 2)', () => {
    for (const bad of ['-1', '1.5', 'lots', '5000'])
      expect(() => heapGrowingPercent({ LOGFERRY_HEAP_GROWING_PERCENT: bad }, [])).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: expect.stringContaining('LOGFERRY_HEAP_GROWING_PERCENT must be a whole number'),
        }),
      );
  });
});
