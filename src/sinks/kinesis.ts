/**
 * The `kinesis` sink: puts records into an Amazon Kinesis data stream with `PutRecords` — what
 * Fluent Bit's `kinesis_streams` output does on the nodes of seed 003, so a logferry agent or
 * aggregator can feed the stream a Logstash (or logferry's own kinesis handler and source) reads.
 * Each record is one Kinesis record: its JSON document (`format: json`, the archive's document
 * shape) or its message (`raw`). The partition key is a field of the record (`partitionKey`) or, by
 * default, a key that changes with every record so they spread evenly over the shards.
 *
 * Delivery: at least once; an entry counts as delivered only when Kinesis answered it with a
 * `SequenceNumber` and no `ErrorCode`. The sink never retries by itself: `deliver` re-sends only the
 * failed entries — throttling (`ProvisionedThroughputExceededException`), `InternalFailure` and
 * KMS throttling retry with backoff, permanent refusals (KMS key disabled, access denied) reject to
 * the dead-letter destination with their code.
 *
 * Limits (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html): 500
 * records and 5 MiB per call, 1 MiB per record — data and partition key together, which is how the
 * sizes here count. A partition key is 1–256 characters; a longer field value is hashed down to 64
 * hex characters (the same value always gives the same key). IAM: `kinesis:PutRecords`.
 */
import { createHash } from 'node:crypto';
import {
  KinesisClient,
  type KinesisClientConfig,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { clientConfig } from '../aws/clients.js';
import type { ComponentSpec } from '../core/component.js';
import { toDocument } from '../core/document.js';
import { describeError } from '../core/errors.js';
import type { LogRecord } from '../core/record.js';
import { recordReader } from '../query/values.js';
import type { Encoded, SendContext, SendResult, Sink, SinkLimits } from '../core/sink.js';
import { type BatchPutStats, batchPut } from './aws-batch.js';
import { type KinesisSinkConfig, kinesisSinkConfig, kinesisSinkMeta } from './kinesis-config.js';

export { KINESIS_SINK_IAM_ACTIONS, type KinesisSinkConfig, kinesisSinkConfig } from './kinesis-config.js';

export const PUT_RECORDS_MAX_RECORDS = 500;
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
export const KINESIS_MAX_RECORD_BYTES = 1024 * 1024;
const MAX_PARTITION_KEY = 256;

/** One entry: the bytes to put and its partition key. */
export interface KinesisEntry {
  data: Uint8Array;
  key: string;
}

export type KinesisSinkStats = BatchPutStats;

export class KinesisSink implements Sink<KinesisEntry> {
  readonly type = 'kinesis';
  readonly name: string;
  readonly limits: SinkLimits;
  readonly stats: KinesisSinkStats = { calls: 0, retriedEntries: 0, throttled: 0 };
  private readonly target: { StreamName?: string; StreamARN?: string };
  private readonly raw: boolean;
  private readonly readKey?: (r: LogRecord) => unknown;
  /** Spreading keys: a per-process prefix and a counter (Kinesis hashes keys with MD5). */
  private readonly spreadPrefix = `${process.pid.toString(36)}-${Date.now().toString(36)}-`;
  private spread = 0;

  constructor(
    cfg: KinesisSinkConfig,
    private readonly client: Pick<KinesisClient, 'send'>,
  ) {
    const c = kinesisSinkConfig.parse(cfg);
    this.name = c.name ?? 'kinesis';
    this.target = c.stream.startsWith('arn:') ? { StreamARN: c.stream } : { StreamName: c.stream };
    this.raw = c.format === 'raw';
    this.readKey = c.partitionKey === undefined ? undefined : recordReader(c.partitionKey);
    this.limits = {
      maxRecords: PUT_RECORDS_MAX_RECORDS,
      maxBytes: PUT_RECORDS_MAX_BYTES,
      maxRecordBytes: KINESIS_MAX_RECORD_BYTES,
      maxAgeMs: c.maxAgeMs,
    };
  }

  private keyOf(r: LogRecord): string {
    const v = this.readKey?.(r);
    if (v !== undefined && v !== null && v !== '') {
      const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
      return s.length <= MAX_PARTITION_KEY ? s : createHash('sha256').update(s).digest('hex');
    }
    return this.spreadPrefix + (this.spread++).toString(36);
  }

  encode(record: LogRecord): Encoded<KinesisEntry> | { reject: string; code: string } {
    let data: Buffer;
    if (this.raw) data = Buffer.from(record.message);
    else {
      try {
        data = Buffer.from(JSON.stringify(toDocument(record, 'iso')));
      } catch (e) {
        return {
          reject: `record cannot be serialised as JSON: ${describeError(e)}`,
          code: 'RECORD_UNENCODABLE',
        };
      }
    }
    const key = this.keyOf(record);
    return { record, data: { data, key }, bytes: data.byteLength + Buffer.byteLength(key) };
  }

  send(batch: readonly Encoded<KinesisEntry>[], ctx: SendContext): Promise<SendResult> {
    return batchPut(
      this.stats,
      `PutRecords to ${this.target.StreamName ?? this.target.StreamARN}`,
      batch.length,
      ctx.attempt,
      () =>
        this.client.send(
          new PutRecordsCommand({
            ...this.target,
            Records: batch.map((e) => ({ Data: e.data.data, PartitionKey: e.data.key })),
          }),
          ctx.signal ? { abortSignal: ctx.signal } : {},
        ),
      (out: PutRecordsCommandOutput) =>
        (out.Records ?? []).map((r) => ({
          ok: !r.ErrorCode && !!r.SequenceNumber,
          code: r.ErrorCode,
          message: r.ErrorMessage,
        })),
    );
  }
}

export const kinesisSinkSpec: ComponentSpec<KinesisSinkConfig & { type: 'kinesis' }, Sink<KinesisEntry>> = {
  ...kinesisSinkMeta,
  create: (cfg) => {
    const c = kinesisSinkConfig.parse(cfg);
    return new KinesisSink(
      c,
      new KinesisClient(
        clientConfig('kinesis', { region: c.region, endpoint: c.endpoint }) as KinesisClientConfig,
      ),
    );
  },
};
