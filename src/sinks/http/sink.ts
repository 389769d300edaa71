/**
 * A sink over one HTTP log service: its protocol encodes records purely, the shared client sends
 * one request per batch and reports per item what to retry and what to reject, so the core's single
 * retry layer re-sends only the failed items. Delivery is at-least-once (see each service's file
 * for where duplicates can and cannot happen).
 */
import type { BuildContext } from '../../core/component.js';
import type { LogRecord } from '../../core/record.js';
import type { Encoded, SendContext, SendResult, Sink, SinkLimits } from '../../core/sink.js';
import {
  framedBudget,
  HttpClient,
  type HttpClientStats,
  type HttpItem,
  type HttpProtocol,
} from './client.js';
import type { HttpSinkConfig } from './config.js';

export type HttpSinkStats = HttpClientStats;

export class ProtocolSink implements Sink<HttpItem> {
  readonly name: string;
  readonly limits: SinkLimits;
  readonly stats: HttpSinkStats;
  private readonly client: HttpClient;

  constructor(
    readonly type: string,
    cfg: HttpSinkConfig,
    ctx: BuildContext,
    private readonly protocol: HttpProtocol,
    defaultName: string,
  ) {
    this.name = cfg.name ?? defaultName;
    const d = protocol.defaults;
    this.limits = {
      maxRecords: cfg.maxRecords ?? d.maxRecords,
      // Every line costs more than `encode` counts: its newline, or Loki's `["<ns>",…]` framing.
      maxBytes: framedBudget(
        cfg.maxBytes ?? d.maxBytes,
        cfg.maxRecords ?? d.maxRecords,
        protocol.framingBytes,
      ),
      maxRecordBytes: cfg.maxRecordBytes ?? d.maxRecordBytes,
      maxAgeMs: cfg.maxAgeMs,
    };
    this.client = new HttpClient(cfg, protocol, this.name, ctx);
    this.stats = this.client.stats;
  }

  encode(r: LogRecord): Encoded<HttpItem> {
    const data = this.protocol.encode(r);
    return { record: r, data, bytes: Buffer.byteLength(data.line) };
  }

  send(batch: readonly Encoded<HttpItem>[], ctx: SendContext): Promise<SendResult> {
    return this.client.send(batch, ctx);
  }
}
