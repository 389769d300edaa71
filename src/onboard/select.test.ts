import { describe, expect, it } from 'vitest';
import { isLogferryError } from '../core/errors.js';
import { matches, parseSelector } from './select.js';

describe('parseSelector', () => {
  it('takes names, prefixes and * separated by commas or bars', () => {
    const s = parseSelector('a,b|prod-*', 'functions');
    expect(s.exact).toEqual(['a', 'b']);
    expect(matches(s, 'a')).toBe(true);
    expect(matches(s, 'prod-orders')).toBe(true);
    expect(matches(s, 'ab')).toBe(false);
    expect(matches(s, 'staging-prod-x')).toBe(false);
    expect(matches(parseSelector('*', 'functions'), 'anything')).toBe(true);
  });

  it('treats regex characters literally', () => {
    const s = parseSelector('a.b*', 'services');
    expect(matches(s, 'a.bc')).toBe(true);
    expect(matches(s, 'axbc')).toBe(false);
  });

  it('refuses empty and malformed selectors', () => {
    for (const bad of ['', ' , ', 'a b', 'x;rm'])
      expect(
        isLogferryError(
          (() => {
            try {
              parseSelector(bad, 'functions');
            } catch (e) {
              return e;
            }
          })(),
          'CONFIG_INVALID',
        ),
      ).toBe(true);
  });
});
