/**
 * The configuration model. Top-level sections are fixed here; the items inside `sources`,
 * `transforms`, `sinks` and `deadLetter` are validated by each component's own schema, looked up by
 * `type` in the registries, so every problem is reported with its path in one pass.
 */
import * as z from 'zod';
import type { BufferConfig } from '../core/buffer/config.js';
import { shutdownSettings } from '../core/shutdown.js';

/** Firehose response budget: the documented limit is 6 MB; keep headroom for JSON framing. */
export const FIREHOSE_MAX_RESPONSE_BYTES = 6_000_000;
export const FIREHOSE_DEFAULT_RESPONSE_BUDGET = 5_500_000;

export const componentItem = z.looseObject({ type: z.string({ error: 'every component needs a "type"' }) });

export const firehoseSettings = z.strictObject({
  /** `raw`: each message + newline (the seed's behaviour); `ndjson`: one JSON document per event. */
  format: z.enum(['raw', 'ndjson']).default('raw'),
  /** Bytes of response data the handler may return; records past it are re-ingested. */
  maxResponseBytes: z
    .number()
    .int()
    .positive()
    .max(FIREHOSE_MAX_RESPONSE_BYTES)
    .default(FIREHOSE_DEFAULT_RESPONSE_BUDGET),
  /** Re-ingest records that do not fit the response (PutRecordBatch into the source stream). */
  reingest: z.boolean().default(true),
  /** Delivery stream to re-ingest into; default: the stream named in the invocation's ARN. */
  deliveryStreamName: z.string().min(1).optional(),
  /** Most times one payload may be split and re-ingested (guards against loops). */
  maxReingestGenerations: z.number().int().min(1).max(20).default(5),
  /**
   * Worker threads answering big invocations (docs/firehose.md): `off` (default: measured no faster
   * on 2 cores yet), `auto` (one per available CPU when there are at least 2 and the answer is the
   * only output), or a count.
   */
  workers: z.union([z.enum(['auto', 'off']), z.number().int().min(1).max(64)]).default('off'),
});

export type FirehoseSettings = z.infer<typeof firehoseSettings>;

/** A section: today's list form (`[{type: demo}]`) or named components (`{eks: {type: kinesis}}`). */
const section = z.union([z.array(componentItem), z.record(z.string().min(1), componentItem)], {
  error: 'expected a list of components or a map of named components',
});

export const topLevel = z.strictObject({
  /** Daemon sources (`logferry run`). */
  sources: section.optional(),
  /** `auto`: parse by source (EKS audit, klog, authenticator, Lambda platform, JSON); `none`: keep messages only. */
  parse: z.enum(['auto', 'none']).default('auto'),
  transforms: section.default([]),
  /** Masking is on by default; `false` turns it off, an object configures it (fields of the `mask` transform). */
  mask: z
    .union([z.literal(false), z.literal(true).transform(() => undefined), z.looseObject({})], {
      error:
        'expected false (masking off), true (the defaults) or an object of mask options (docs/masking.md)',
    })
    .optional(),
  sinks: section.optional(),
  deadLetter: componentItem.optional(),
  firehose: firehoseSettings.optional(),
  /** `HOST:PORT` for Prometheus `/metrics` and `/health` (`logferry run`); off by default. */
  metricsAddress: z.string().min(1).optional(),
  /** Daemon state (positions, checkpoints, disk buffers) and its lock (docs/operations.md). */
  dataDir: z.string().min(1).optional(),
  shutdown: shutdownSettings.optional(),
});

export type TopLevel = z.infer<typeof topLevel>;

export interface ComponentConfig {
  type: string;
  [k: string]: unknown;
}

/** How a named component is wired (`inputs`, `match`), kept apart from its own options. */
export interface Edges {
  inputs?: string[];
  match?: string;
}

/** A named transform of the graph: its options, and its wiring. */
export interface GraphTransformConfig extends Edges {
  name: string;
  config: ComponentConfig;
}

/** The validated configuration: components carry their own parsed config objects. */
export interface Config
  extends Omit<TopLevel, 'sources' | 'transforms' | 'sinks' | 'deadLetter' | 'firehose'> {
  /** Every source carries its `name` (list form: its own `name` or its type). */
  sources: ComponentConfig[];
  /** List-form transforms: one chain every record goes through before routing. */
  transforms: ComponentConfig[];
  /** Named transforms (map form), wired by `inputs`/`match`. */
  graphTransforms?: GraphTransformConfig[];
  /** Every sink carries its `name`. */
  sinks: ComponentConfig[];
  /** Wiring of sinks by name (map form); a sink without an entry takes every source. */
  sinkEdges?: Record<string, Edges>;
  /** Source tags by source name (for `match`). */
  sourceTags?: Record<string, string>;
  /** A sink's `buffer` (memory bounds or a disk buffer), by sink name. */
  sinkBuffers?: Record<string, BufferConfig>;
  deadLetter?: ComponentConfig;
  firehose: FirehoseSettings;
}
