/**
 * `modify` transform: edits parsed fields with a list of operations applied in order, each with an
 * optional `condition` (a Logs Insights expression evaluated on the record as it is at that step):
 *
 * - `add: field, value` — sets the field only when it is absent (Fluent Bit's `Add`);
 * - `set: field, value` — sets it, replacing any value (`Set`);
 * - `rename: from, to` — moves a field; an existing `to` is kept unless `overwrite: true`
 *   (`Rename` / `Hard_rename`);
 * - `copy: from, to` — copies a field (deep), same `overwrite` rule (`Copy` / `Hard_copy`);
 * - `remove: field | [fields]` — deletes fields (`Remove`);
 * - `hash: field` — replaces the value by its hex SHA-256 (or HMAC-SHA-256 with `key`, so values
 *   cannot be confirmed by guessing), or writes it to `to` and keeps the original.
 *
 * Field names are dotted paths into parsed fields (`user.username`); writing to system fields
 * (`@message`, `@timestamp`, …) is refused at load. Never drops a record.
 */
import { createHash, createHmac } from 'node:crypto';
import * as z from 'zod';
import type { BuildContext } from '../core/component.js';
import type { Transform } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { type Condition, mustCompileCondition } from '../query/condition.js';
import { toStr } from '../query/values.js';
import {
  cloneJson,
  conditionSchema,
  fieldPath,
  jsonValueSchema,
  recordReader,
  writableFieldSchema,
} from './common.js';

const when = { condition: conditionSchema.optional() };

const OPERATIONS = {
  add: z.strictObject({ add: writableFieldSchema, value: jsonValueSchema, ...when }),
  set: z.strictObject({ set: writableFieldSchema, value: jsonValueSchema, ...when }),
  rename: z.strictObject({
    rename: writableFieldSchema,
    to: writableFieldSchema,
    overwrite: z.boolean().default(false),
    ...when,
  }),
  copy: z.strictObject({
    copy: z.string().min(1),
    to: writableFieldSchema,
    overwrite: z.boolean().default(false),
    ...when,
  }),
  remove: z.strictObject({
    remove: z.union([writableFieldSchema, z.array(writableFieldSchema).min(1)]),
    ...when,
  }),
  hash: z.strictObject({
    hash: writableFieldSchema,
    to: writableFieldSchema.optional(),
    /** A secret reference (`env:NAME`, `ssm:/name`, `secretsmanager:id`) for HMAC-SHA-256. */
    key: z.string().min(1).optional(),
    ...when,
  }),
};

type Operation = {
  [K in keyof typeof OPERATIONS]: z.output<(typeof OPERATIONS)[K]>;
}[keyof typeof OPERATIONS];
const OP_NAMES = Object.keys(OPERATIONS) as (keyof typeof OPERATIONS)[];

/** One operation: exactly one of the operation keys, then that operation's own strict schema. */
const operationSchema = z.unknown().transform((v, ctx): Operation => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    ctx.addIssue({
      code: 'custom',
      message: `an operation is an object with one of: ${OP_NAMES.join(', ')}`,
    });
    return z.NEVER;
  }
  const kinds = OP_NAMES.filter((k) => Object.hasOwn(v, k));
  if (kinds.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message:
        kinds.length === 0
          ? `an operation needs one of: ${OP_NAMES.join(', ')} (got ${Object.keys(v).join(', ') || 'nothing'})`
          : `an operation does one thing; found ${kinds.join(' and ')}`,
    });
    return z.NEVER;
  }
  const res = OPERATIONS[kinds[0]].safeParse(v);
  if (!res.success) {
    for (const i of res.error.issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
    return z.NEVER;
  }
  return res.data;
});

export const modifySchema = z.strictObject({
  type: z.literal('modify'),
  operations: z.array(operationSchema).min(1, { error: 'modify needs at least one operation' }),
});

export type ModifyOptions = z.output<typeof modifySchema>;

type Op = (r: LogRecord) => void;

function guard(op: Op, cond: Condition | undefined): Op {
  return cond ? (r) => (cond(r) ? op(r) : undefined) : op;
}

export async function createModifyTransform(cfg: ModifyOptions, ctx: BuildContext = {}): Promise<Transform> {
  const ops: Op[] = [];
  for (const o of cfg.operations) {
    const cond = o.condition === undefined ? undefined : mustCompileCondition(o.condition);
    let op: Op;
    if ('add' in o) {
      const p = fieldPath(o.add);
      const v = o.value;
      op = (r) => {
        if (!p.has(r.fields)) p.set(r.fields, cloneJson(v), false);
      };
    } else if ('set' in o) {
      const p = fieldPath(o.set);
      const v = o.value;
      op = (r) => {
        p.set(r.fields, cloneJson(v), true);
      };
    } else if ('rename' in o) {
      const from = fieldPath(o.rename);
      const to = fieldPath(o.to);
      const overwrite = o.overwrite;
      op = (r) => {
        if (!from.has(r.fields) || (!overwrite && to.has(r.fields))) return;
        const v = from.remove(r.fields);
        if (!to.set(r.fields, v, overwrite)) from.set(r.fields, v, true);
      };
    } else if ('copy' in o) {
      const read = recordReader(o.copy);
      const to = fieldPath(o.to);
      const overwrite = o.overwrite;
      op = (r) => {
        if (!overwrite && to.has(r.fields)) return;
        const v = read(r);
        if (v === undefined) return;
        to.set(r.fields, cloneJson(v), overwrite);
      };
    } else if ('remove' in o) {
      const paths = (Array.isArray(o.remove) ? o.remove : [o.remove]).map(fieldPath);
      op = (r) => {
        for (const p of paths) p.remove(r.fields);
      };
    } else {
      const from = fieldPath(o.hash);
      const to = o.to === undefined ? from : fieldPath(o.to);
      let key: string | undefined;
      if (o.key !== undefined) {
        if (!ctx.resolveSecret)
          throw new Error(`modify hash: cannot resolve the key reference ${o.key} here`);
        key = await ctx.resolveSecret(o.key);
      }
      op = (r) => {
        const v = from.get(r.fields);
        if (v === undefined || v === null) return;
        const h = key === undefined ? createHash('sha256') : createHmac('sha256', key);
        to.set(r.fields, h.update(toStr(v)).digest('hex'), true);
      };
    }
    ops.push(guard(op, cond));
  }
  return {
    type: 'modify',
    apply(record) {
      for (let i = 0; i < ops.length; i++) ops[i](record);
      return record;
    },
  };
}
