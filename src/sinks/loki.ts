/**
 * The `loki` sink: Grafana Loki's push API (`/loki/api/v1/push`, JSON). Records are grouped into
 * streams by a label set built from the record's CloudWatch facts (`labels`: log group, log stream,
 * EKS component, owner) plus `staticLabels`, serialised once per CloudWatch stream; the line is the
 * archive document as JSON, or the message alone (`line: message`). Loki accepts a push's valid
 * entries and lists the refused ones: those are rejected (out of order, too far behind) or retried
 * (429 per-stream rate limits); Loki drops exact duplicates, so a re-send does not duplicate.
 * Limits: Loki's default 256 KB line and a 4 MB request (see http/limits.ts). Also reachable as
 * `type: http, flavor: loki`.
 */
import type { ComponentSpec } from '../core/component.js';
import { toDocument } from '../core/document.js';
import type { LogRecord } from '../core/record.js';
import type { Encoded, ItemProblem, SendResult } from '../core/sink.js';
import {
  componentOf,
  excerpt,
  type HttpAnswer,
  type HttpItem,
  type HttpProtocol,
  joinPath,
} from './http/client.js';
import {
  asHttpConfig,
  type HttpSinkConfig,
  type LOKI_LABEL_SOURCES,
  serviceSinkConfig,
} from './http/config.js';
import { LOKI_DEFAULT_MAX_LINE_BYTES, LOKI_DEFAULT_MAX_REQUEST_BYTES } from './http/limits.js';
import { ProtocolSink } from './http/sink.js';

/** Distinct CloudWatch streams whose Loki label sets are kept (bounded: cleared when full). */
const LABEL_CACHE_ENTRIES = 10_000;

const LOKI_LABEL_NAME: Record<(typeof LOKI_LABEL_SOURCES)[number], string> = {
  logGroup: 'log_group',
  logStream: 'log_stream',
  component: 'component',
  owner: 'owner',
};

/** A Loki push-error line: `entry with timestamp <go time> ignored, reason: '<reason>',` */
const LOKI_ENTRY_ERR =
  /entry with timestamp (\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? ([+-]\d{2})(\d{2})(?: \S+)? ignored, reason: '(.*?)',?\n/g;
const LOKI_TOTAL = /total ignored: (\d+) out of (\d+) for stream: (\{.*\})\s*$/;
const LOKI_LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Go's `time.Time.String()` pieces into epoch ms. */
function goTimeToMs(
  date: string,
  time: string,
  frac: string | undefined,
  offH: string,
  offM: string,
): number {
  const ms = frac ? Number(`0${frac}`) * 1000 : 0;
  const base = Date.parse(`${date}T${time}Z`);
  const sign = offH.startsWith('-') ? -1 : 1;
  const offsetMin = sign * (Math.abs(Number(offH)) * 60 + Number(offM));
  return Math.round(base + ms - offsetMin * 60_000);
}

export interface LokiPushError {
  entries: { ts: number; reason: string }[];
  ignored: number;
  total: number;
  labels: Record<string, string>;
}

/** Parses Loki's 400/429 push error body (as written by the ingester's stream.Push). */
export function parseLokiPushError(body: string): LokiPushError | undefined {
  const total = LOKI_TOTAL.exec(body);
  if (!total) return undefined;
  const entries: { ts: number; reason: string }[] = [];
  for (const m of body.matchAll(LOKI_ENTRY_ERR)) {
    entries.push({ ts: goTimeToMs(m[1], m[2], m[3], m[4], m[5]), reason: m[6] });
  }
  const labels: Record<string, string> = {};
  for (const m of total[3].matchAll(LOKI_LABEL)) labels[m[1]] = JSON.parse(`"${m[2]}"`);
  return { entries, ignored: Number(total[1]), total: Number(total[2]), labels };
}

/** Reason code for a Loki per-entry rejection. */
function lokiCode(reason: string): string {
  if (reason.includes('too far behind')) return 'LOKI_TOO_FAR_BEHIND';
  if (reason.includes('out of order')) return 'LOKI_OUT_OF_ORDER';
  return 'LOKI_REJECTED';
}

export function lokiProtocol(cfg: HttpSinkConfig): HttpProtocol {
  const streamLabels = new Map<string, string>();
  const staticLabelText = Object.entries(cfg.staticLabels)
    .map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join('');
  const buildStream = (r: LogRecord): string => {
    let s = '{';
    let first = true;
    for (const src of cfg.labels) {
      let v: string | undefined;
      if (src === 'logGroup') v = r.meta.logGroup;
      else if (src === 'logStream') v = r.meta.logStream;
      else if (src === 'owner') v = r.meta.owner || undefined;
      else v = componentOf(r);
      if (v === undefined || v === '') continue;
      s += `${first ? '' : ','}${JSON.stringify(LOKI_LABEL_NAME[src])}:${JSON.stringify(v)}`;
      first = false;
    }
    if (staticLabelText) s += first ? staticLabelText.slice(1) : staticLabelText;
    return `${s}}`;
  };
  // The stream's label set, serialised once per (owner, log group, log stream): records of one
  // CloudWatch stream arrive together, so the cache saves the classification and string building.
  const streamOf = (r: LogRecord): string => {
    const key = `${r.meta.owner}\u0000${r.meta.logGroup}\u0000${r.meta.logStream}`;
    let labels = streamLabels.get(key);
    if (labels === undefined) {
      if (streamLabels.size >= LABEL_CACHE_ENTRIES) streamLabels.clear();
      labels = buildStream(r);
      streamLabels.set(key, labels);
    }
    return labels;
  };
  return {
    defaults: {
      maxRecords: 5_000,
      maxBytes: LOKI_DEFAULT_MAX_REQUEST_BYTES,
      maxRecordBytes: LOKI_DEFAULT_MAX_LINE_BYTES,
    },
    framingBytes: 40,
    gzipByDefault: false,
    encode: (r) => ({
      line: cfg.line === 'message' ? r.message : JSON.stringify(toDocument(r, 'iso')),
      ts: r.timestamp,
      stream: streamOf(r),
    }),
    body(batch) {
      // Group by stream, keeping each stream's entries in batch order.
      const streams = new Map<string, string[]>();
      for (const it of batch) {
        const key = it.data.stream ?? '{}';
        let vals = streams.get(key);
        if (!vals) {
          vals = [];
          streams.set(key, vals);
        }
        vals.push(`["${it.data.ts}000000",${JSON.stringify(it.data.line)}]`);
      }
      const parts: string[] = [];
      for (const [labels, vals] of streams) parts.push(`{"stream":${labels},"values":[${vals.join(',')}]}`);
      return { body: `{"streams":[${parts.join(',')}]}`, contentType: 'application/json' };
    },
    target(url, token, headers) {
      if (cfg.tenant) headers['x-scope-orgid'] = cfg.tenant;
      if (token) headers.authorization = `Bearer ${token}`;
      return joinPath(url, '/loki/api/v1/push');
    },
    interpret: (batch, res) =>
      res.status === 400 || res.status === 429 ? interpretLoki(batch, res) : undefined,
  };
}

/**
 * Loki accepts a push's valid entries and answers 400 (out of order, too far behind) or 429
 * (per-stream rate limit) listing the refused ones — at most `max_returned_errors` of them — and
 * "total ignored: N out of M for stream: {…}" (the ingester's stream.Push). Listed entries of that
 * stream are rejected (400) or retried (429); if the list was cut short, or other streams were in
 * the request, the rest is retried: Loki drops exact duplicates, so a re-send does not duplicate.
 */
function interpretLoki(batch: readonly Encoded<HttpItem>[], res: HttpAnswer): SendResult | undefined {
  const err = parseLokiPushError(res.text);
  if (!err) {
    if (res.status === 429) return undefined; // plain rate limit: throttled below
    if (/out of order|too far behind/.test(res.text)) {
      // An older Loki without the per-entry list: the whole request was judged at once.
      return {
        problems: batch.map((_, i) => ({
          index: i,
          action: 'reject' as const,
          code: lokiCode(res.text),
          reason: `Loki: ${excerpt(res.text)}`,
        })),
      };
    }
    return undefined;
  }
  const inStream = (it: Encoded<HttpItem>) => {
    const labels = JSON.parse(it.data.stream ?? '{}') as Record<string, string>;
    for (const k in labels) if (err.labels[k] !== labels[k]) return false;
    return true;
  };
  const complete = err.entries.length >= err.ignored;
  const onlyStream = batch.every(inStream);
  const problems: ItemProblem[] = [];
  const taken = new Set<number>();
  for (const e of err.entries) {
    const idx = batch.findIndex((it, i) => !taken.has(i) && it.data.ts === e.ts && inStream(it));
    if (idx < 0) continue;
    taken.add(idx);
    problems.push(
      res.status === 429
        ? {
            index: idx,
            action: 'retry',
            code: 'SINK_THROTTLED',
            reason: `Loki: ${e.reason}`,
            retryAfterMs: res.retryAfterMs,
          }
        : { index: idx, action: 'reject', code: lokiCode(e.reason), reason: `Loki: ${e.reason}` },
    );
  }
  if (!complete || !onlyStream || taken.size < err.entries.length) {
    for (let i = 0; i < batch.length; i++) {
      if (taken.has(i)) continue;
      // Entries of the reported stream were all accounted for when the list is complete.
      if (complete && inStream(batch[i])) continue;
      problems.push({
        index: i,
        action: 'retry',
        code: 'LOKI_UNCONFIRMED',
        reason: 'not confirmed by a partial Loki answer',
        retryAfterMs: res.retryAfterMs,
      });
    }
  }
  return { problems };
}

export const lokiSinkConfig = serviceSinkConfig('loki', ['tenant', 'labels', 'staticLabels', 'line']);

export const lokiSinkSpec: ComponentSpec<{ type: 'loki'; [k: string]: unknown }, ProtocolSink> = {
  type: 'loki',
  iam: [],
  summary:
    'Grafana Loki push API: streams labelled from CloudWatch facts, partial answers attributed per entry.',
  schema: lokiSinkConfig,
  create: (config, ctx) => {
    const cfg = asHttpConfig('loki', config);
    return new ProtocolSink('loki', cfg, ctx, lokiProtocol(cfg), 'loki');
  },
};
