/**
 * The `stdout` sink writes records to standard output: one JSON document per line (`ndjson`, the
 * shared document shape with ISO timestamps) or a human-readable line (`pretty`: time, log group,
 * log stream, message, then parsed fields as key=value). A batch is delivered once the stream has
 * accepted it (back-pressure is honoured by waiting for `drain`); a write error (closed pipe) fails
 * the batch as SINK_UNAVAILABLE so the source redelivers. No size limits beyond the batch sizes.
 */
import type { Writable } from 'node:stream';
import * as z from 'zod';
import type { ComponentSpec } from '../core/component.js';
import { toDocument } from '../core/document.js';
import { LogferryError } from '../core/errors.js';
import type { LogRecord } from '../core/record.js';
import { ALL_DELIVERED, type Encoded, type SendResult, type Sink, type SinkLimits } from '../core/sink.js';

export const stdoutSinkConfig = z.strictObject({
  type: z.literal('stdout'),
  name: z.string().min(1).optional(),
  format: z.enum(['ndjson', 'pretty']).default('ndjson'),
  maxRecords: z.number().int().positive().default(1_000),
  maxBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  maxAgeMs: z.number().int().positive().default(200),
});

export type StdoutSinkConfig = z.infer<typeof stdoutSinkConfig>;

function pretty(r: LogRecord): string {
  let line = `${new Date(r.timestamp).toISOString()} ${r.meta.logGroup} ${r.meta.logStream} ${r.message.replace(/\n+$/, '')}`;
  for (const k in r.fields) {
    const v = r.fields[k];
    line += ` ${k}=${typeof v === 'string' ? (/[\s"=]/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`;
  }
  return line;
}

export class StdoutSink implements Sink<string> {
  readonly type = 'stdout';
  readonly name: string;
  readonly limits: SinkLimits;
  private readonly pretty: boolean;

  constructor(
    cfg: StdoutSinkConfig,
    private readonly out: Writable = process.stdout,
  ) {
    this.name = cfg.name ?? 'stdout';
    this.pretty = cfg.format === 'pretty';
    this.limits = {
      maxRecords: cfg.maxRecords,
      maxBytes: cfg.maxBytes,
      maxRecordBytes: cfg.maxBytes,
      maxAgeMs: cfg.maxAgeMs,
    };
  }

  encode(record: LogRecord): Encoded<string> {
    const data = `${this.pretty ? pretty(record) : JSON.stringify(toDocument(record, 'iso'))}\n`;
    return { record, data, bytes: Buffer.byteLength(data) };
  }

  async send(batch: readonly Encoded<string>[]): Promise<SendResult> {
    let text = '';
    for (const it of batch) text += it.data;
    await new Promise<void>((resolve, reject) => {
      const fail = (e: unknown) =>
        reject(
          new LogferryError('SINK_UNAVAILABLE', `${this.name}: cannot write: ${(e as Error)?.message ?? e}`, {
            cause: e,
          }),
        );
      try {
        const ok = this.out.write(text, (e) => {
          if (e) fail(e);
          else if (ok) resolve();
        });
        if (!ok) this.out.once('drain', resolve);
      } catch (e) {
        fail(e);
      }
    });
    return ALL_DELIVERED;
  }
}

export const stdoutSinkSpec: ComponentSpec<StdoutSinkConfig, StdoutSink> = {
  type: 'stdout',
  iam: [],
  summary: 'Writes records to standard output as NDJSON or readable lines.',
  schema: stdoutSinkConfig,
  create: (config) => new StdoutSink(config),
};
