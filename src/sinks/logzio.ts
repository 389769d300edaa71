/**
 * The `logzio` sink: the Logz.io bulk listener (NDJSON POST, token and `type` in the query string —
 * so the URL is never logged). Each line is the archive document with a `message` field (what
 * Logz.io's pipelines and Kibana read), gzip on by default. The listener answers counts only
 * (malformed, oversized, empty lines); they are attributed to items (longest lines for oversized,
 * empty lines, lines JSON cannot parse) and, when they cannot all be attributed, the unattributed
 * lines are rejected rather than re-sent (the listener kept the good ones: a re-send would
 * duplicate them). Limits: 10 MB per request, 500,000 bytes per line. Also reachable as
 * `type: http, flavor: logzio`.
 */
import type { ComponentSpec } from '../core/component.js';
import { toDocument } from '../core/document.js';
import type { Encoded, ItemProblem } from '../core/sink.js';
import type { HttpItem, HttpProtocol } from './http/client.js';
import { asHttpConfig, type HttpSinkConfig, serviceSinkConfig } from './http/config.js';
import { LOGZIO_MAX_LINE_BYTES, LOGZIO_MAX_REQUEST_BYTES } from './http/limits.js';
import { ProtocolSink } from './http/sink.js';

export function logzioProtocol(cfg: HttpSinkConfig): HttpProtocol {
  return {
    defaults: {
      maxRecords: 5_000,
      maxBytes: LOGZIO_MAX_REQUEST_BYTES,
      maxRecordBytes: LOGZIO_MAX_LINE_BYTES,
    },
    framingBytes: 1,
    gzipByDefault: true,
    encode(r) {
      const doc = toDocument(r, 'iso');
      // Logz.io's pipelines and Kibana read `message`.
      if (!('message' in doc)) doc.message = r.message;
      return { line: JSON.stringify(doc), ts: r.timestamp };
    },
    body(batch) {
      let body = '';
      for (const it of batch) body += `${it.data.line}\n`;
      return { body, contentType: 'application/x-ndjson' };
    },
    target(url, token) {
      const u = new URL(url);
      u.searchParams.set('token', token ?? '');
      u.searchParams.set('type', cfg.logType);
      return u.toString();
    },
    interpret(batch, res) {
      if (res.status !== 200 && res.status !== 400) return undefined;
      const report = logzioReport(res.text);
      if (report) return { problems: attributeLogzio(batch, report) };
      return res.status === 200 ? { problems: [] } : undefined;
    },
  };
}

interface LogzioReport {
  malformedLines: number;
  successfulLines: number;
  oversizedLines: number;
  emptyLogLines: number;
}

function logzioReport(text: string): LogzioReport | undefined {
  if (!text.trim()) return undefined;
  try {
    const d = JSON.parse(text) as Partial<LogzioReport>;
    if (typeof d !== 'object' || d === null) return undefined;
    if (d.malformedLines === undefined && d.oversizedLines === undefined && d.emptyLogLines === undefined)
      return undefined;
    return {
      malformedLines: d.malformedLines ?? 0,
      successfulLines: d.successfulLines ?? 0,
      oversizedLines: d.oversizedLines ?? 0,
      emptyLogLines: d.emptyLogLines ?? 0,
    };
  } catch {
    return undefined;
  }
}

/**
 * Logz.io reports only counts. Attribute them: oversized lines are the longest ones (the listener
 * compares each line to one threshold), empty lines are empty, malformed lines fail JSON.parse. If
 * the counts cannot all be attributed, every line not attributed is rejected too: the listener kept
 * the good ones, so a re-send would duplicate them, and the dead-letter copy loses nothing.
 */
export function attributeLogzio(batch: readonly Encoded<HttpItem>[], rep: LogzioReport): ItemProblem[] {
  const problems: ItemProblem[] = [];
  const taken = new Set<number>();
  if (rep.oversizedLines > 0) {
    const bySize = batch.map((it, i) => ({ i, n: it.bytes })).sort((a, b) => b.n - a.n);
    for (const { i, n } of bySize.slice(0, rep.oversizedLines)) {
      taken.add(i);
      problems.push({
        index: i,
        action: 'reject',
        code: 'LOGZIO_OVERSIZED_LINE',
        reason: `Logz.io listener refused a ${n}-byte line as oversized`,
      });
    }
  }
  let empty = 0;
  let malformed = 0;
  for (let i = 0; i < batch.length; i++) {
    if (taken.has(i)) continue;
    const line = batch[i].data.line;
    if (line.trim() === '' && empty < rep.emptyLogLines) {
      taken.add(i);
      empty++;
      problems.push({
        index: i,
        action: 'reject',
        code: 'LOGZIO_EMPTY_LINE',
        reason: 'Logz.io listener refused an empty line',
      });
      continue;
    }
    if (malformed < rep.malformedLines) {
      let ok = true;
      try {
        JSON.parse(line);
      } catch {
        ok = false;
      }
      if (!ok) {
        taken.add(i);
        malformed++;
        problems.push({
          index: i,
          action: 'reject',
          code: 'LOGZIO_MALFORMED_LINE',
          reason: 'Logz.io listener refused a line as malformed JSON',
        });
      }
    }
  }
  const unexplained = rep.malformedLines - malformed + (rep.emptyLogLines - empty);
  if (unexplained > 0) {
    for (let i = 0; i < batch.length; i++) {
      if (taken.has(i)) continue;
      problems.push({
        index: i,
        action: 'reject',
        code: 'LOGZIO_UNATTRIBUTED',
        reason: `Logz.io listener refused ${unexplained} line(s) of this request without saying which (${rep.successfulLines} accepted); kept here rather than risk loss or duplicates`,
      });
    }
  }
  return problems;
}

export const logzioSinkConfig = serviceSinkConfig('logzio', ['logType']);

export const logzioSinkSpec: ComponentSpec<{ type: 'logzio'; [k: string]: unknown }, ProtocolSink> = {
  type: 'logzio',
  iam: [],
  summary: "Logz.io bulk listener: gzip NDJSON, the listener's counts attributed to lines.",
  schema: logzioSinkConfig,
  create: (config, ctx) => {
    const cfg = asHttpConfig('logzio', config);
    return new ProtocolSink('logzio', cfg, ctx, logzioProtocol(cfg), 'logzio');
  },
};
