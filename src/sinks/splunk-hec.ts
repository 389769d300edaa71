/**
 * The `splunk-hec` sink: Splunk HTTP Event Collector (`/services/collector/event`, token in
 * `Authorization: Splunk <token>`). Each record is one HEC event (`time` in epoch seconds with
 * millisecond precision, `host`/`source`/`sourcetype`/`index` from config or the CloudWatch stream;
 * the event is the message, or the parsed fields with the message). HEC indexes a request's events
 * in order up to the first invalid one: earlier items are delivered, the invalid one rejected, later
 * ones retried; busy codes are throttling. At-least-once: HEC does not dedupe a re-sent event.
 * Limits: a conservative 1 MiB request (raise `maxBytes` to your `max_content_length`). Also
 * reachable as `type: http, flavor: splunk-hec`.
 */
import type { ComponentSpec } from '../core/component.js';
import { LogferryError } from '../core/errors.js';
import type { LogRecord } from '../core/record.js';
import type { Encoded, ItemProblem, SendResult } from '../core/sink.js';
import { type HttpAnswer, type HttpItem, type HttpProtocol, joinPath } from './http/client.js';
import { asHttpConfig, type HttpSinkConfig, serviceSinkConfig } from './http/config.js';
import { SPLUNK_DEFAULT_MAX_REQUEST_BYTES } from './http/limits.js';
import { ProtocolSink } from './http/sink.js';

export function splunkHecProtocol(cfg: HttpSinkConfig): HttpProtocol {
  const event = (r: LogRecord): Record<string, unknown> => {
    let hasFields = false;
    for (const _ in r.fields) {
      hasFields = true;
      break;
    }
    const ev: Record<string, unknown> = {
      // HEC `time` is epoch seconds; keep millisecond precision as a fraction.
      time: r.timestamp / 1000,
      host: cfg.host ?? r.meta.logStream,
      source: cfg.source ?? r.meta.logGroup,
      sourcetype: cfg.sourcetype,
    };
    if (cfg.index) ev.index = cfg.index;
    ev.event = hasFields ? { ...r.fields, message: r.message, '@id': r.meta.id } : r.message;
    return ev;
  };
  return {
    defaults: {
      maxRecords: 2_000,
      maxBytes: SPLUNK_DEFAULT_MAX_REQUEST_BYTES,
      maxRecordBytes: SPLUNK_DEFAULT_MAX_REQUEST_BYTES,
    },
    framingBytes: 1,
    gzipByDefault: false,
    encode: (r) => ({ line: JSON.stringify(event(r)), ts: r.timestamp }),
    body(batch) {
      let body = '';
      for (const it of batch) body += `${it.data.line}\n`;
      return { body, contentType: 'application/json' };
    },
    target(url, token, headers) {
      headers.authorization = `Splunk ${token}`;
      return joinPath(url, '/services/collector/event', '/services/collector');
    },
    interpret: interpretHec,
  };
}

/**
 * Splunk HEC answers `{"text","code","invalid-event-number"}`. HEC parses a request's events in
 * order and indexes those before the first invalid one, so: earlier items delivered, the invalid
 * one rejected, later ones retried. Codes: https://docs.splunk.com/Documentation/Splunk/latest/Data/TroubleshootHTTPEventCollector
 */
function interpretHec(
  batch: readonly Encoded<HttpItem>[],
  res: HttpAnswer,
  name: string,
): SendResult | undefined {
  let doc: { text?: string; code?: number; 'invalid-event-number'?: number } | undefined;
  try {
    doc = JSON.parse(res.text);
  } catch {
    doc = undefined;
  }
  const code = typeof doc?.code === 'number' ? doc.code : undefined;
  if (res.status === 200 && (code === undefined || code === 0)) return { problems: [] };
  if (code === 9 || (code !== undefined && code >= 18 && code <= 20) || res.status === 503) {
    throw new LogferryError(
      'SINK_THROTTLED',
      `${name}: HEC busy (code ${code ?? '?'}: ${doc?.text ?? res.status})`,
      {
        details: { retryAfterMs: res.retryAfterMs },
      },
    );
  }
  const n = doc?.['invalid-event-number'];
  if (res.status === 400 && typeof n === 'number' && n >= 0 && n < batch.length) {
    const problems: ItemProblem[] = [
      {
        index: n,
        action: 'reject',
        code: `HEC_${code ?? 'INVALID'}`,
        reason: `Splunk HEC: ${doc?.text ?? 'invalid event'} (code ${code})`,
      },
    ];
    for (let i = n + 1; i < batch.length; i++) {
      problems.push({
        index: i,
        action: 'retry',
        code: 'HEC_NOT_PROCESSED',
        reason: 'after an invalid event in the same request',
      });
    }
    return { problems };
  }
  if (code === 8) {
    throw new LogferryError('SINK_UNAVAILABLE', `${name}: HEC internal error (code 8)`);
  }
  return undefined;
}

export const splunkHecSinkConfig = serviceSinkConfig('splunk-hec', ['index', 'sourcetype', 'source', 'host']);

export const splunkHecSinkSpec: ComponentSpec<{ type: 'splunk-hec'; [k: string]: unknown }, ProtocolSink> = {
  type: 'splunk-hec',
  iam: [],
  summary: 'Splunk HTTP Event Collector: one HEC event per record, partial answers attributed per event.',
  schema: splunkHecSinkConfig,
  create: (config, ctx) => {
    const cfg = asHttpConfig('splunk-hec', config);
    return new ProtocolSink('splunk-hec', cfg, ctx, splunkHecProtocol(cfg), 'splunk-hec');
  },
};
