/**
 * The `blackhole` sink counts what it is given and discards it: the far end of benchmarks and a
 * way to dry-run a pipeline. Every record is delivered (there is nothing to fail); `encode` can
 * optionally serialise each record (`encode: json`) so a bench includes encoding cost. No limits
 * beyond the batch sizes below; it keeps no records, only counters.
 */
import * as z from 'zod';
import type { ComponentSpec } from '../core/component.js';
import { toDocument } from '../core/document.js';
import type { LogRecord } from '../core/record.js';
import { ALL_DELIVERED, type Encoded, type SendResult, type Sink, type SinkLimits } from '../core/sink.js';

export const blackholeSinkConfig = z.strictObject({
  type: z.literal('blackhole'),
  name: z.string().min(1).optional(),
  /** `none`: count message bytes only (cheapest); `json`: serialise each record like a real sink. */
  encode: z.enum(['none', 'json']).default('none'),
  maxRecords: z.number().int().positive().default(10_000),
  maxBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  maxAgeMs: z.number().int().positive().default(1_000),
});

export type BlackholeSinkConfig = z.infer<typeof blackholeSinkConfig>;

export interface BlackholeStats {
  records: number;
  bytes: number;
  batches: number;
}

export class BlackholeSink implements Sink<string | null> {
  readonly type = 'blackhole';
  readonly name: string;
  readonly limits: SinkLimits;
  readonly stats: BlackholeStats = { records: 0, bytes: 0, batches: 0 };
  private readonly json: boolean;

  constructor(cfg: BlackholeSinkConfig) {
    this.name = cfg.name ?? 'blackhole';
    this.json = cfg.encode === 'json';
    this.limits = {
      maxRecords: cfg.maxRecords,
      maxBytes: cfg.maxBytes,
      maxRecordBytes: cfg.maxBytes,
      maxAgeMs: cfg.maxAgeMs,
    };
  }

  encode(record: LogRecord): Encoded<string | null> {
    if (this.json) {
      const data = JSON.stringify(toDocument(record));
      return { record, data, bytes: Buffer.byteLength(data) };
    }
    // UTF-16 length: close enough for counting and free of a scan.
    return { record, data: null, bytes: record.message.length };
  }

  async send(batch: readonly Encoded<string | null>[]): Promise<SendResult> {
    this.stats.batches++;
    this.stats.records += batch.length;
    for (const it of batch) this.stats.bytes += it.bytes;
    return ALL_DELIVERED;
  }
}

export const blackholeSinkSpec: ComponentSpec<BlackholeSinkConfig, BlackholeSink> = {
  type: 'blackhole',
  iam: [],
  summary: 'Counts and discards records (benchmarks, dry runs).',
  schema: blackholeSinkConfig,
  create: (config) => new BlackholeSink(config),
};
