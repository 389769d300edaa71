/**
 * The `firehose` sink: puts records into an Amazon Data Firehose delivery stream with
 * `PutRecordBatch`. It is also how the Firehose transformation re-ingests what does not fit its
 * answer (src/sources/firehose.ts): those records carry a prepared payload (`withPayload`), others
 * are sent as their message + "\n". Delivery semantics: at least once; an entry counts as delivered
 * only when Firehose acknowledged it (a `RecordId` and no `ErrorCode` in its response entry). The
 * sink never retries by itself: `deliver` re-sends only the failed entries (throttling and service
 * errors retry, permanent refusals reject), within the run's deadline.
 *
 * Limits (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html): 500
 * records and 4 MiB per call, 1,000 KiB per record. IAM: `firehose:PutRecordBatch`.
 */
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandOutput,
} from '@aws-sdk/client-firehose';
import { clientConfig } from '../aws/clients.js';
import {
  FIREHOSE_MAX_RECORD_BYTES,
  PUT_RECORD_BATCH_MAX_BYTES,
  PUT_RECORD_BATCH_MAX_RECORDS,
} from '../aws/firehose-reingest.js';
import type { ComponentSpec } from '../core/component.js';
import { type FirehoseSinkConfig, firehoseSinkConfig, firehoseSinkMeta } from './firehose-config.js';
import type { LogRecord } from '../core/record.js';
import type { Encoded, SendContext, SendResult, Sink, SinkLimits } from '../core/sink.js';
import { type BatchPutStats, batchPut } from './aws-batch.js';

export { FIREHOSE_SINK_IAM_ACTIONS, type FirehoseSinkConfig, firehoseSinkConfig } from './firehose-config.js';

/** Records with a prepared payload (re-ingested CloudWatch payloads): sent as is. */
const payloads = new WeakMap<LogRecord, Uint8Array>();

/** Attaches the bytes to send for `record` instead of its message (the record is returned). */
export function withPayload(record: LogRecord, bytes: Uint8Array): LogRecord {
  payloads.set(record, bytes);
  return record;
}

export type FirehoseSinkStats = BatchPutStats;

export class FirehoseSink implements Sink<Uint8Array> {
  readonly type = 'firehose';
  readonly name: string;
  readonly limits: SinkLimits;
  readonly stats: FirehoseSinkStats = { calls: 0, retriedEntries: 0, throttled: 0 };

  constructor(
    readonly deliveryStreamName: string,
    private readonly client: FirehoseClient,
    opts: { name?: string; maxAgeMs?: number } = {},
  ) {
    this.name = opts.name ?? 'firehose';
    this.limits = {
      maxRecords: PUT_RECORD_BATCH_MAX_RECORDS,
      maxBytes: PUT_RECORD_BATCH_MAX_BYTES,
      maxRecordBytes: FIREHOSE_MAX_RECORD_BYTES,
      maxAgeMs: opts.maxAgeMs ?? 1_000,
    };
  }

  encode(record: LogRecord): Encoded<Uint8Array> {
    const data = payloads.get(record) ?? Buffer.from(`${record.message}\n`);
    return { record, data, bytes: data.byteLength };
  }

  send(batch: readonly Encoded<Uint8Array>[], ctx: SendContext): Promise<SendResult> {
    return batchPut(
      this.stats,
      `PutRecordBatch to ${this.deliveryStreamName}`,
      batch.length,
      ctx.attempt,
      () =>
        this.client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: this.deliveryStreamName,
            Records: batch.map((e) => ({ Data: e.data })),
          }),
          ctx.signal ? { abortSignal: ctx.signal } : {},
        ),
      (out: PutRecordBatchCommandOutput) =>
        (out.RequestResponses ?? []).map((r) => ({
          ok: !r.ErrorCode && !!r.RecordId,
          code: r.ErrorCode,
          message: r.ErrorMessage,
        })),
    );
  }
}

export const firehoseSinkSpec: ComponentSpec<FirehoseSinkConfig & { type: 'firehose' }, Sink<Uint8Array>> = {
  ...firehoseSinkMeta,
  create: (cfg) => {
    const c = firehoseSinkConfig.parse(cfg);
    return new FirehoseSink(
      c.deliveryStreamName,
      new FirehoseClient(clientConfig('firehose', { region: c.region, endpoint: c.endpoint })),
      { name: c.name, maxAgeMs: c.maxAgeMs },
    );
  },
};
