/**
 * `nest` and `lift` (Fluent Bit's `nest` filter, operations nest and lift):
 *
 * - `nest` moves the top-level parsed fields whose names match `keys` (wildcards: `*` matches any
 *   run of characters, e.g. `kubernetes_*`) under one object field `under`, optionally removing a
 *   name prefix (`removePrefix: kubernetes_` turns `kubernetes_pod` into `under.pod`). An existing
 *   object at `under` is extended; a non-object there is left alone and nothing moves.
 * - `lift` moves the members of the object field `under` (a dotted path) to the top level,
 *   optionally prefixing their names (`addPrefix`), and removes `under` once it is empty; `keys`
 *   limits which members move. Lifted members replace top-level fields of the same name.
 *
 * Neither drops records nor touches system fields.
 */
import * as z from 'zod';
import type { Transform } from '../core/pipeline.js';
import { fieldPath, writableFieldSchema } from './common.js';

const wildcard = z.string().min(1, { error: 'a key pattern may not be empty' });

export function wildcardMatcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const globs = patterns
    .filter((p) => p.includes('*'))
    .map(
      (p) =>
        new RegExp(
          `^${p
            .split('*')
            .map((s) => s.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
            .join('.*')}$`,
          's',
        ),
    );
  if (globs.length === 0) return (n) => exact.has(n);
  return (n) => exact.has(n) || globs.some((g) => g.test(n));
}

export const nestSchema = z.strictObject({
  type: z.literal('nest'),
  keys: z.array(wildcard).min(1, { error: 'nest needs at least one key pattern' }),
  under: writableFieldSchema.refine((s) => !s.includes('.'), {
    error: 'nest: under is a top-level field name',
  }),
  removePrefix: z.string().min(1).optional(),
});

export const liftSchema = z.strictObject({
  type: z.literal('lift'),
  under: writableFieldSchema,
  addPrefix: z.string().min(1).optional(),
  keys: z.array(wildcard).min(1).optional(),
});

export type NestOptions = z.output<typeof nestSchema>;
export type LiftOptions = z.output<typeof liftSchema>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function createNestTransform(cfg: NestOptions): Transform {
  const match = wildcardMatcher(cfg.keys);
  const { under, removePrefix } = cfg;
  return {
    type: 'nest',
    apply(record) {
      const f = record.fields;
      const existing = f[under];
      if (existing !== undefined && !isObject(existing)) return record;
      let target: Record<string, unknown> | undefined = existing;
      for (const k in f) {
        if (k === under || !Object.hasOwn(f, k) || !match(k)) continue;
        if (!target) {
          target = {};
          f[under] = target;
        }
        const name =
          removePrefix !== undefined && k.startsWith(removePrefix) && k.length > removePrefix.length
            ? k.slice(removePrefix.length)
            : k;
        if (name === '__proto__') continue;
        target[name] = f[k];
        delete f[k];
      }
      return record;
    },
  };
}

export function createLiftTransform(cfg: LiftOptions): Transform {
  const path = fieldPath(cfg.under);
  const match = cfg.keys ? wildcardMatcher(cfg.keys) : undefined;
  const prefix = cfg.addPrefix ?? '';
  return {
    type: 'lift',
    apply(record) {
      const f = record.fields;
      const obj = path.get(f);
      if (!isObject(obj)) return record;
      let left = 0;
      for (const k in obj) {
        if (!Object.hasOwn(obj, k)) continue;
        if (match && !match(k)) {
          left++;
          continue;
        }
        const name = prefix + k;
        if (name !== '__proto__') f[name] = obj[k];
        delete obj[k];
      }
      if (left === 0 && path.get(f) === obj) path.remove(f);
      return record;
    },
  };
}
