/**
 * Every registered component exports its spec: a type equal to its file name's component, one
 * summary sentence, a strict options schema (unknown keys refused) and the IAM actions it needs.
 * Runs over the registries, so a component added later is checked without touching this file.
 */
import { describe, expect, it } from 'vitest';
import { deadLetterSinks, sinks } from '../../src/sinks/index.js';
import { sources } from '../../src/sources/index.js';

const kinds = [
  ['source', sources],
  ['sink', sinks],
  ['dead-letter sink', deadLetterSinks],
] as const;

describe.each(kinds)('every %s spec', (_kind, registry) => {
  it.each(registry.map((s) => [s.type, s] as const))(
    '%s: summary, strict schema, IAM actions',
    (_t, spec) => {
      expect(spec.type).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(spec.summary.length).toBeGreaterThan(10);
      expect(spec.summary.trim().endsWith('.')).toBe(true);
      expect(Array.isArray(spec.iam)).toBe(true);
      for (const a of spec.iam ?? []) expect(a).toMatch(/^[a-z0-9-]+:[A-Za-z*]+$/);
      const res = spec.schema.safeParse({ type: spec.type, surelyNotAnOption: 1 });
      expect(res.success).toBe(false);
      expect(JSON.stringify(res.error?.issues)).toMatch(/surelyNotAnOption/);
    },
  );
});
