import { describe, expect, it } from 'vitest';
import { transforms } from './index.js';
import { testRecord } from './test-records.js';

/** A minimal valid config per transform type. */
const MINIMAL: Record<string, Record<string, unknown>> = {
  mask: {},
  parse: { parser: { type: 'json' } },
  filter: { condition: 'verb = "get"' },
  modify: { operations: [{ add: 'a', value: 1 }] },
  nest: { keys: ['k_*'], under: 'k' },
  lift: { under: 'k' },
  decode: { field: 'log', as: 'json' },
  throttle: { threshold: 1, window: '1s' },
  sample: { rate: 2 },
  'add-fields': { fields: { a: 1 } },
  dedupe: { window: '1s' },
};

describe('transform registry', () => {
  it('lists every transform once, each with a summary', () => {
    const types = transforms.map((t) => t.type);
    expect(new Set(types).size).toBe(types.length);
    expect(types.sort()).toEqual(Object.keys(MINIMAL).sort());
    for (const t of transforms) expect(t.summary.length).toBeGreaterThan(10);
  });

  it.each(transforms.map((t) => [t.type, t] as const))(
    '%s: strict schema, builds, applies',
    async (type, spec) => {
      expect(spec.schema.safeParse({ type, ...MINIMAL[type], bogus: 1 }).success).toBe(false);
      const cfg = spec.schema.parse({ type, ...MINIMAL[type] });
      const t = await spec.create(cfg, {});
      expect(t.type).toBe(type);
      const out = t.apply(testRecord({ verb: 'get', log: '{"x":1}', k: { a: 1 } }));
      expect(out === null || typeof out === 'object').toBe(true);
    },
  );
});
