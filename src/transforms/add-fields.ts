/**
 * `add-fields` transform: adds static fields and the record's AWS context.
 *
 * - `fields`: name → JSON value (dotted names nest: `service.team: payments`).
 * - `aws`: `true` for every context field under its default name, or a map choosing the context
 *   items and the field each goes to: `account` (the log group owner), `region` (the `region` option,
 *   else `AWS_REGION` / `AWS_DEFAULT_REGION`), `logGroup`, `logStream`, `cluster` and `component` (EKS
 *   control-plane streams: `/aws/eks/<cluster>/cluster`, `kube-apiserver-audit`, …; see
 *   aws/classify.ts), `function` (Lambda log groups), `container` and `task` (ECS awslogs streams).
 *   Items that do not apply to a record (a cluster for a Lambda group) are left out.
 *
 * Existing fields are kept unless `overwrite: true`. Never drops a record.
 */
import * as z from 'zod';
import type { BuildContext } from '../core/component.js';
import type { Transform } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { classifyStream, type StreamClass } from '../aws/classify.js';
import { cloneJson, fieldPath, jsonValueSchema, writableFieldSchema } from './common.js';

const CONTEXT_ITEMS = [
  'account',
  'region',
  'logGroup',
  'logStream',
  'cluster',
  'component',
  'function',
  'container',
  'task',
] as const;
type ContextItem = (typeof CONTEXT_ITEMS)[number];

export const DEFAULT_CONTEXT_FIELDS: Record<ContextItem, string> = {
  account: 'aws.account',
  region: 'aws.region',
  logGroup: 'aws.logGroup',
  logStream: 'aws.logStream',
  cluster: 'aws.eks.cluster',
  component: 'aws.eks.component',
  function: 'aws.lambda.function',
  container: 'aws.ecs.container',
  task: 'aws.ecs.task',
};

export const addFieldsSchema = z
  .strictObject({
    type: z.literal('add-fields'),
    fields: z.record(z.string(), jsonValueSchema).optional(),
    aws: z
      .union([
        z.literal(true),
        z.strictObject(
          Object.fromEntries(CONTEXT_ITEMS.map((k) => [k, writableFieldSchema.optional()])) as {
            [K in ContextItem]: z.ZodOptional<typeof writableFieldSchema>;
          },
        ),
      ])
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'not an AWS region name (e.g. eu-west-1)' })
      .optional(),
    overwrite: z.boolean().default(false),
  })
  .refine((o) => o.fields !== undefined || o.aws !== undefined, {
    error: 'add-fields needs fields, aws or both',
  })
  .superRefine((o, ctx) => {
    for (const k of Object.keys(o.fields ?? {})) {
      const r = writableFieldSchema.safeParse(k);
      if (!r.success)
        for (const i of r.error.issues)
          ctx.addIssue({ code: 'custom', path: ['fields', k], message: i.message });
    }
  });

export type AddFieldsOptions = z.output<typeof addFieldsSchema>;

type Ctx = (r: LogRecord, c: StreamClass) => string | undefined;

const READERS: Record<ContextItem, (region: string | undefined) => Ctx> = {
  account: () => (r) => r.meta.owner || undefined,
  region: (region) => () => region,
  logGroup: () => (r) => r.meta.logGroup,
  logStream: () => (r) => r.meta.logStream,
  cluster: () => (_r, c) => (c.kind === 'eks' ? c.cluster : undefined),
  component: () => (_r, c) => (c.kind === 'eks' ? c.component : undefined),
  function: () => (_r, c) => (c.kind === 'lambda' ? c.functionName : undefined),
  container: () => (_r, c) => (c.kind === 'ecs' ? c.container : undefined),
  task: () => (_r, c) => (c.kind === 'ecs' ? c.taskId : undefined),
};

export function createAddFieldsTransform(cfg: AddFieldsOptions, ctx: BuildContext = {}): Transform {
  const env = ctx.env ?? process.env;
  const region = cfg.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
  const statics = Object.entries(cfg.fields ?? {}).map(([k, v]) => ({ path: fieldPath(k), value: v }));
  const chosen: [ContextItem, string][] =
    cfg.aws === undefined
      ? []
      : cfg.aws === true
        ? CONTEXT_ITEMS.map((k) => [k, DEFAULT_CONTEXT_FIELDS[k]])
        : (Object.entries(cfg.aws).filter(([, v]) => v !== undefined) as [ContextItem, string][]);
  const context = chosen.map(([item, name]) => ({ path: fieldPath(name), read: READERS[item](region) }));
  const needsClass = chosen.some(([k]) =>
    ['cluster', 'component', 'function', 'container', 'task'].includes(k),
  );
  const { overwrite } = cfg;
  // Records arrive in runs of one stream: classify once per (group, stream) change.
  let lastGroup = '';
  let lastStream = '';
  let cls: StreamClass = { kind: 'generic' };
  return {
    type: 'add-fields',
    apply(record) {
      const f = record.fields;
      for (const s of statics) if (overwrite || !s.path.has(f)) s.path.set(f, cloneJson(s.value), overwrite);
      if (context.length > 0) {
        if (needsClass && (record.meta.logGroup !== lastGroup || record.meta.logStream !== lastStream)) {
          lastGroup = record.meta.logGroup;
          lastStream = record.meta.logStream;
          cls = classifyStream(lastGroup, lastStream);
        }
        for (const c of context) {
          if (!overwrite && c.path.has(f)) continue;
          const v = c.read(record, cls);
          if (v !== undefined) c.path.set(f, v, overwrite);
        }
      }
      return record;
    },
  };
}
