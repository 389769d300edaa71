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
import { classifyAwsCode, classifyAwsError } from '../aws/errors.js';
import {
  FIREHOSE_MAX_RECORD_BYTES,
  PUT_RECORD_BATCH_MAX_BYTES,
  PUT_RECORD_BATCH_MAX_RECORDS,
} from '../aws/firehose-reingest.js';
import type { ComponentSpec } from '../core/component.js';
import { type FirehoseSinkConfig, firehoseSinkConfig, firehoseSinkMeta } from './firehose-config.js';
import { describeError, LogferryError } from '../core/errors.js';
import type { LogRecord } from '../core/record.js';
import type { Encoded, ItemProblem, SendContext, SendResult, Sink, SinkLimits } from '../core/sink.js';

export { FIREHOSE_SINK_IAM_ACTIONS, type FirehoseSinkConfig, firehoseSinkConfig } from './firehose-config.js';

/** Records with a prepared payload (re-ingested CloudWatch payloads): sent as is. */
const payloads = new WeakMap<LogRecord, Uint8Array>();

/** Attaches the bytes to send for `record` instead of its message (the record is returned). */
export function withPayload(record: LogRecord, bytes: Uint8Array): LogRecord {
  payloads.set(record, bytes);
  return record;
}

export interface FirehoseSinkStats {
  calls: number;
  /** Entries sent again after a failure. */
  retriedEntries: number;
  /** Throttled calls and entries. */
  throttled: number;
}

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

  async send(batch: readonly Encoded<Uint8Array>[], ctx: SendContext): Promise<SendResult> {
    this.stats.calls++;
    if (ctx.attempt > 1) this.stats.retriedEntries += batch.length;
    let out: PutRecordBatchCommandOutput;
    try {
      out = await this.client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: this.deliveryStreamName,
          Records: batch.map((e) => ({ Data: e.data })),
        }),
        ctx.signal ? { abortSignal: ctx.signal } : {},
      );
    } catch (e) {
      const c = classifyAwsError(e);
      if (c.kind === 'throttled') this.stats.throttled++;
      throw new LogferryError(
        c.retry ? (c.kind === 'throttled' ? 'SINK_THROTTLED' : 'SINK_UNAVAILABLE') : 'SINK_REJECTED',
        `PutRecordBatch to ${this.deliveryStreamName} failed (${c.name}): ${describeError(e)}`,
        { cause: e, details: { retryAfterMs: c.retryAfterMs, awsCode: c.name } },
      );
    }
    const responses = out.RequestResponses ?? [];
    const problems: ItemProblem[] = [];
    for (let j = 0; j < batch.length; j++) {
      const r = responses[j];
      // A missing entry means we cannot know it was put: send it again.
      if (r && !r.ErrorCode && r.RecordId) continue;
      const code = r?.ErrorCode ?? 'MISSING_RESPONSE';
      const c = classifyAwsCode(code);
      if (c.kind === 'throttled') this.stats.throttled++;
      problems.push({
        index: j,
        action: c.retry || code === 'MISSING_RESPONSE' ? 'retry' : 'reject',
        code,
        reason: r?.ErrorMessage ? `${code}: ${r.ErrorMessage}` : code,
      });
    }
    return { problems };
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
