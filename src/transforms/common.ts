/**
 * Pieces the transforms share: config schemas for conditions, value expressions, durations, field
 * paths and regular expressions (each refusing bad input with a sentence), and field access on a
 * record's parsed fields by dotted path.
 */
import * as z from 'zod';
import { SYSTEM_FIELDS } from '../core/document.js';
import { compileCondition, compileValueExpression } from '../query/condition.js';

/** A Logs Insights boolean expression, checked at load (every problem with line/column). */
export const conditionSchema = z.string().superRefine((s, ctx) => {
  const c = compileCondition(s);
  if (!c.ok) ctx.addIssue({ code: 'custom', message: c.message });
});

/** A Logs Insights expression whose value is used (a throttle or sample key). */
export const expressionSchema = z.string().superRefine((s, ctx) => {
  const c = compileValueExpression(s);
  if (!c.ok) ctx.addIssue({ code: 'custom', message: c.message });
});

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `10s`, `1.5m`, `2h`, `1d` or a number of milliseconds; NaN when not a duration. */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(v);
  return m ? Number(m[1]) * UNIT_MS[m[2]] : Number.NaN;
}

/** A positive duration: `10s`, `500ms`, `1m`, `1h`, `1d`, or milliseconds as a number. */
export const durationSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (!Number.isFinite(ms) || ms <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `"${v}" is not a positive duration; write e.g. 500ms, 10s, 1m, 1h or a number of milliseconds`,
    });
    return z.NEVER;
  }
  return ms;
});

/** A JavaScript regular expression; `g` and `y` flags are refused (they make matching stateful). */
export const regexSchema = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(e as Error).message}` });
  }
});

export const flagsSchema = z
  .string()
  .regex(/^[imsu]*$/, { error: 'flags may only contain i, m, s, u' })
  .default('');

/** A parsed field a transform may write: not empty, not a system field (`@message`, `@timestamp`, …). */
export const writableFieldSchema = z
  .string()
  .min(1, { error: 'a field name may not be empty' })
  .refine((s) => !SYSTEM_FIELDS.has(s) && s !== '@logGroup', {
    error: 'system fields (@timestamp, @message, @logStream, @log, @id) are written only by sources',
  })
  .refine(
    (s) =>
      !s.split('.').some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype'),
    {
      error: 'a field path may not have empty parts or __proto__/constructor/prototype',
    },
  );

/** A JSON value for static fields. */
export const jsonValueSchema: z.ZodType<unknown> = z.lazy(() =>
  z.union(
    [
      z.string(),
      z.number(),
      z.boolean(),
      z.null(),
      z.array(jsonValueSchema),
      z.record(z.string(), jsonValueSchema),
    ],
    { error: 'expected a JSON value: text, number, true/false, null, a list or a map' },
  ),
);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A compiled dotted path into `record.fields`. Reads take the exact key first (`a.b` as one key),
 * then walk objects (`a` → `b`), as the query engine does. Writes go to the exact key when it exists,
 * else to the nested location, creating objects on the way (a non-object in the way is replaced
 * only by `set`, never by `add`).
 */
export interface FieldPath {
  readonly name: string;
  get(fields: Record<string, unknown>): unknown;
  has(fields: Record<string, unknown>): boolean;
  /** Writes the value; returns false when a non-object sits on the way and `force` is false. */
  set(fields: Record<string, unknown>, value: unknown, force?: boolean): boolean;
  /** Removes the field; returns the removed value (undefined when absent). */
  remove(fields: Record<string, unknown>): unknown;
}

export function fieldPath(name: string): FieldPath {
  const parts = name.split('.');
  const nested = parts.length > 1;
  const parent = (fields: Record<string, unknown>, create: boolean, force: boolean) => {
    let cur: Record<string, unknown> = fields;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = Object.hasOwn(cur, parts[i]) ? cur[parts[i]] : undefined;
      if (isPlainObject(next)) cur = next;
      else if (!create) return undefined;
      else if (next === undefined || force) {
        const o: Record<string, unknown> = {};
        cur[parts[i]] = o;
        cur = o;
      } else return undefined;
    }
    return cur;
  };
  const last = parts[parts.length - 1];
  return {
    name,
    get(fields) {
      if (Object.hasOwn(fields, name)) return fields[name];
      if (!nested) return undefined;
      const p = parent(fields, false, false);
      return p && Object.hasOwn(p, last) ? p[last] : undefined;
    },
    has(fields) {
      if (Object.hasOwn(fields, name)) return true;
      if (!nested) return false;
      const p = parent(fields, false, false);
      return p !== undefined && Object.hasOwn(p, last);
    },
    set(fields, value, force = true) {
      if (!nested || Object.hasOwn(fields, name)) {
        fields[name] = value;
        return true;
      }
      const p = parent(fields, true, force);
      if (!p) return false;
      p[last] = value;
      return true;
    },
    remove(fields) {
      if (Object.hasOwn(fields, name)) {
        const v = fields[name];
        delete fields[name];
        return v;
      }
      if (!nested) return undefined;
      const p = parent(fields, false, false);
      if (!p || !Object.hasOwn(p, last)) return undefined;
      const v = p[last];
      delete p[last];
      return v;
    },
  };
}

/** Reads a field as conditions do: system fields from the record, others from its parsed fields. */
export { recordReader } from '../query/values.js';

/** Deep copy of a static JSON value, so records never share mutable objects. */
export function cloneJson<T>(v: T): T {
  return typeof v === 'object' && v !== null ? (structuredClone(v) as T) : v;
}

/** FNV-1a, 32 bit: a fast, stable hash for deterministic decisions (not for security). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Where a window-based transform takes time from. */
export const timeSourceSchema = z.enum(['clock', 'record']);

export interface TransformDeps {
  /** Clock for window-based transforms (epoch ms); defaults to Date.now. */
  now?: () => number;
}
