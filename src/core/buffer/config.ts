/**
 * A sink's `buffer` setting: how many records it may hold in memory before the sources are paused
 * (`memory`, the default), or a write-ahead buffer on disk (`disk`) that survives restarts.
 *
 * ```yaml
 * sinks:
 *   search:
 *     type: opensearch
 *     url: https://search:9200
 *     buffer: { type: disk, maxBytes: 1GiB, whenFull: block }
 * ```
 */
import * as z from 'zod';

/** Default in-memory bound per sink: records held in batches and deliveries. */
export const DEFAULT_MEMORY_MAX_RECORDS = 100_000;
/** Default in-memory bound per sink: bytes (message length + framing estimate). */
export const DEFAULT_MEMORY_MAX_BYTES = 64 * 1024 * 1024;
/** Default size cap of a disk buffer. */
export const DEFAULT_DISK_MAX_BYTES = 256 * 1024 * 1024;
/** Smallest disk buffer accepted (a few segments). */
export const MIN_DISK_MAX_BYTES = 1024 * 1024;

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** A size: a number of bytes, or `512MiB`, `1GiB`, `100MB`, `64KiB`. */
export const byteSize = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)\s*$/i.exec(v);
  if (!m) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a size such as "512MiB", "1GiB" or a number of bytes, got "${v}"`,
    });
    return z.NEVER;
  }
  return Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
});

export const memoryBufferConfig = z.strictObject({
  type: z.literal('memory'),
  /** Records this sink may hold (open batches + deliveries) before the sources are paused. */
  maxRecords: z.number().int().positive().default(DEFAULT_MEMORY_MAX_RECORDS),
  /** Bytes this sink may hold before the sources are paused. */
  maxBytes: byteSize.default(DEFAULT_MEMORY_MAX_BYTES),
});

export const diskBufferConfig = z.strictObject({
  type: z.literal('disk'),
  /** Cap of the segment files on disk. */
  maxBytes: byteSize.default(DEFAULT_DISK_MAX_BYTES).refine((n) => n >= MIN_DISK_MAX_BYTES, {
    message: `a disk buffer needs at least ${MIN_DISK_MAX_BYTES} bytes (1MiB)`,
  }),
  /** `block`: pause the sources until the sink drains; `drop_newest`: drop what does not fit (counted). */
  whenFull: z.enum(['block', 'drop_newest']).default('block'),
  /** Directory of the segments (relative to the config file); default `<dataDir>/state/<sink>/buffer`. */
  path: z.string().min(1).optional(),
});

export const bufferConfig = z.discriminatedUnion('type', [memoryBufferConfig, diskBufferConfig], {
  error: 'expected buffer type "memory" or "disk"',
});

export type MemoryBufferConfig = z.infer<typeof memoryBufferConfig>;
export type DiskBufferConfig = z.infer<typeof diskBufferConfig>;
export type BufferConfig = z.infer<typeof bufferConfig>;
