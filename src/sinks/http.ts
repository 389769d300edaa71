/**
 * The `http` sink: a generic NDJSON POST (one archive document per line; the token, a secret
 * reference, in `tokenHeader` with `tokenPrefix`). Its `flavor` option (the original form) also
 * selects the Logz.io, Splunk HEC and Loki protocols, which are sink types of their own
 * (`logzio.ts`, `splunk-hec.ts`, `loki.ts`); every one of them runs over the one HTTP client
 * (http/client.ts): token resolution and refresh, gzip, timeouts, and the shared answer rules, so
 * the core's single retry layer re-sends only the failed items. Delivery is at-least-once.
 * Limits: a conservative 5 MiB request and 1 MiB line for generic endpoints (raise `maxBytes`).
 */
import type { BuildContext, ComponentSpec } from '../core/component.js';
import { toDocument } from '../core/document.js';
import type { HttpProtocol } from './http/client.js';
import { type Flavor, type HttpSinkConfig, httpSinkConfig } from './http/config.js';
import { NDJSON_DEFAULT_MAX_REQUEST_BYTES } from './http/limits.js';
import { ProtocolSink } from './http/sink.js';
import { logzioProtocol } from './logzio.js';
import { lokiProtocol } from './loki.js';
import { splunkHecProtocol } from './splunk-hec.js';

export { type HttpItem, retryAfterMs } from './http/client.js';
export { FLAVORS, type Flavor, type HttpSinkConfig, httpSinkConfig } from './http/config.js';
export * from './http/limits.js';
export type { HttpSinkStats } from './http/sink.js';
export { attributeLogzio } from './logzio.js';
export { type LokiPushError, parseLokiPushError } from './loki.js';

export function ndjsonProtocol(cfg: HttpSinkConfig): HttpProtocol {
  return {
    defaults: { maxRecords: 5_000, maxBytes: NDJSON_DEFAULT_MAX_REQUEST_BYTES, maxRecordBytes: 1024 * 1024 },
    framingBytes: 1,
    gzipByDefault: false,
    encode: (r) => ({ line: JSON.stringify(toDocument(r, 'iso')), ts: r.timestamp }),
    body(batch) {
      let body = '';
      for (const it of batch) body += `${it.data.line}\n`;
      return { body, contentType: 'application/x-ndjson' };
    },
    target(url, token, headers) {
      if (token) headers[cfg.tokenHeader.toLowerCase()] = `${cfg.tokenPrefix}${token}`;
      return url;
    },
  };
}

const PROTOCOLS: Record<Flavor, (cfg: HttpSinkConfig) => HttpProtocol> = {
  ndjson: ndjsonProtocol,
  logzio: logzioProtocol,
  'splunk-hec': splunkHecProtocol,
  loki: lokiProtocol,
};

/** `type: http` with any flavor (named `http-<flavor>` unless `name` is set). */
export class HttpSink extends ProtocolSink {
  constructor(cfg: HttpSinkConfig, ctx: BuildContext = {}) {
    super('http', cfg, ctx, PROTOCOLS[cfg.flavor](cfg), `http-${cfg.flavor}`);
  }
}

export const httpSinkSpec: ComponentSpec<HttpSinkConfig, HttpSink> = {
  type: 'http',
  iam: [],
  summary: 'HTTP log services: generic NDJSON POST, or (by flavor) Logz.io, Splunk HEC or Grafana Loki.',
  schema: httpSinkConfig,
  create: (config, ctx) => new HttpSink(config, ctx),
};
