/**
 * No import cycle inside src/query, counting type-only and dynamic imports as `madge --circular`
 * does: a cycle makes module initialisation order-dependent and bundles fragile.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function findCycles(dir: string): string[] {
  const files = sources(dir);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const deps: string[] = [];
    for (const m of readFileSync(f, 'utf8').matchAll(IMPORT))
      deps.push(resolve(dirname(f), (m[1] ?? m[2]).replace(/\.js$/, '.ts')));
    graph.set(f, deps);
  }
  const cycles: string[] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (n: string) => {
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (!graph.has(d)) continue;
      const at = stack.indexOf(d);
      if (at >= 0) cycles.push([...stack.slice(at), d].map((x) => relative(dir, x)).join(' -> '));
      else if (!done.has(d)) visit(d);
    }
    stack.pop();
    done.add(n);
  };
  for (const f of files) if (!done.has(f)) visit(f);
  return cycles;
}

describe('src/query imports', () => {
  it('have no cycle (type-only and dynamic imports included)', () => {
    expect(findCycles(root)).toEqual([]);
  });
});
