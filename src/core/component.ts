/**
 * How components are registered. Each kind (sources, parsers, transforms, sinks, dead-letter
 * sinks) has an index file holding one line per component: its `type`, a zod schema for its config
 * (strict: unknown keys are refused) and a factory. The config loader builds its schema from these,
 * so adding a component never touches the loader.
 */
import type * as z from 'zod';

/** Services a factory may need; all optional so pure components need nothing. */
export interface BuildContext {
  /** Resolves `ssm:/name`, `secretsmanager:id[#jsonKey]`, `env:NAME` references. */
  resolveSecret?: (ref: string) => Promise<string>;
  /** Re-reads a reference, bypassing the cache (call once after a 401/403 before giving up). */
  refreshSecret?: (ref: string) => Promise<string>;
  /** Structured logger (never pass record contents above debug, never secrets). */
  log?: Logger;
  /** Base directory for relative paths in config. */
  cwd?: string;
  /** The daemon's data directory (state of every component: `stateDir(ctx, name)` in data-dir.ts). */
  dataDir?: string;
  /** Extra environment (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export interface ComponentSpec<C extends { type: string }, T> {
  type: C['type'];
  /** One sentence for `--help` and docs. */
  summary: string;
  /**
   * IAM actions the component needs at run time (for the deploy's least-privilege policy); empty
   * when it calls no AWS API. Conditional ones (KMS for SSE-KMS buckets, SigV4-only) are listed
   * too and documented on the component.
   */
  iam?: readonly string[];
  // biome-ignore lint/suspicious/noExplicitAny: zod schemas of different shapes share the registry
  schema: z.ZodType<C, any>;
  create(config: C, ctx: BuildContext): T | Promise<T>;
}

// biome-ignore lint/suspicious/noExplicitAny: heterogeneous registry
export type Registry<T> = ReadonlyArray<ComponentSpec<any, T>>;

/** What a registry needs of a component before it is created: its type, docs, IAM and schema. */
export type ComponentMeta<C extends { type: string }> = Omit<ComponentSpec<C, unknown>, 'create'>;

/**
 * A registry entry whose implementation loads on first `create`: the config loader validates with
 * `schema` alone, and a Lambda bundle built with code splitting keeps the implementation (and its
 * SDK client) in a chunk that a config not using the component never evaluates.
 */
export function lazySpec<C extends { type: string }, T>(
  meta: ComponentMeta<C>,
  load: () => Promise<{ create(config: C, ctx: BuildContext): NoInfer<T> | Promise<NoInfer<T>> }>,
): ComponentSpec<C, T> {
  return { ...meta, create: async (config, ctx) => (await load()).create(config, ctx) };
}
