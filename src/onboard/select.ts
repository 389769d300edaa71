/**
 * Name selectors for `--functions` and `--services`: a comma-separated list of exact names and
 * wildcard patterns (`*` matches any run of characters): `orders,billing`, `prod-*`, `*`.
 */
import { LogferryError } from '../core/errors.js';

export interface Selector {
  exact: string[];
  patterns: RegExp[];
  source: string;
}

export function parseSelector(text: string, what: string): Selector {
  const parts = text
    .split(/[,|]/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0)
    throw new LogferryError(
      'CONFIG_INVALID',
      `--${what} is empty: give names or patterns like 'a,b', 'prefix*' or '*'`,
    );
  const bad = parts.filter((p) => !/^[A-Za-z0-9_*:./-]+$/.test(p));
  if (bad.length)
    throw new LogferryError('CONFIG_INVALID', `--${what}: not a name or pattern: ${bad.join(', ')}`);
  const exact = parts.filter((p) => !p.includes('*'));
  const patterns = parts
    .filter((p) => p.includes('*'))
    .map(
      (p) =>
        new RegExp(
          `^${p
            .split('*')
            .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
        ),
    );
  return { exact, patterns, source: text };
}

export function matches(sel: Selector, name: string): boolean {
  return sel.exact.includes(name) || sel.patterns.some((r) => r.test(name));
}
