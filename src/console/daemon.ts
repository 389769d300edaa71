/**
 * The console's window on a running `logferry run --metrics-address …`: its pipeline graph with
 * outcome counts (`/api/pipeline`), and the live tail (`/api/tap`: records leaving chosen
 * components) filtered here by a Logs Insights condition — the same expressions as pipeline
 * conditions and `filter` — before they reach the browser. The daemon address is given to the
 * console (`--daemon`); the browser never talks to the daemon directly.
 */
import { request } from 'node:http';
import type { ServerResponse } from 'node:http';
import { LogferryError } from '../core/errors.js';
import type { LogRecord } from '../core/record.js';
import { compileCondition } from '../query/condition.js';

/** Records forwarded to one browser per second at most; the rest are counted as skipped. */
export const TAIL_MAX_PER_SECOND = 500;

export function daemonBase(address: string): URL {
  const withScheme = /^https?:\/\//i.test(address) ? address : `http://${address}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new LogferryError(
      'CONFIG_INVALID',
      `--daemon ${address}: expected HOST:PORT of a logferry run --metrics-address`,
    );
  }
  if (u.protocol !== 'http:')
    throw new LogferryError('CONFIG_INVALID', `--daemon ${address}: the metrics address speaks plain http`);
  return u;
}

export async function fetchPipeline(base: URL, signal?: AbortSignal): Promise<unknown> {
  const res = await fetch(new URL('/api/pipeline', base), { signal }).catch((e: Error) => {
    throw new LogferryError(
      'SOURCE_FAILED',
      `cannot reach the daemon at ${base.host} (${e.message}): is \`logferry run --metrics-address ${base.host}\` running?`,
    );
  });
  if (!res.ok)
    throw new LogferryError(
      'SOURCE_FAILED',
      `the daemon at ${base.host} answered ${res.status} for /api/pipeline`,
    );
  return res.json();
}

interface TapLine {
  type: string;
  component?: string;
  timestamp?: number;
  message?: string;
  fields?: Record<string, unknown>;
  logGroup?: string;
  logStream?: string;
  id?: string;
  count?: number;
}

function asRecord(t: TapLine): LogRecord {
  return {
    timestamp: t.timestamp ?? 0,
    message: t.message ?? '',
    fields: t.fields ?? {},
    meta: { logGroup: t.logGroup ?? '', logStream: t.logStream ?? '', id: t.id ?? '' } as LogRecord['meta'],
  };
}

/**
 * Streams the daemon's tap to `res` as NDJSON, keeping records for which `filter` is true. Ends when
 * the browser closes the request or the daemon ends the stream.
 */
export function pipeTail(
  base: URL,
  opts: { components: string[]; filter?: string },
  res: ServerResponse,
): void {
  let test: ((r: LogRecord) => boolean) | undefined;
  if (opts.filter?.trim()) {
    const c = compileCondition(opts.filter);
    if (!c.ok)
      throw new LogferryError('QUERY_SYNTAX', `filter: ${c.message}`, { details: { problems: c.problems } });
    test = c.test;
  }
  const url = new URL('/api/tap', base);
  if (opts.components.length > 0) url.searchParams.set('components', opts.components.join(','));
  const upstream = request(url, (up) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    let buf = '';
    let windowStart = Date.now();
    let sent = 0;
    let skipped = 0;
    const flushSkipped = () => {
      if (skipped > 0) {
        res.write(`${JSON.stringify({ type: 'skipped', count: skipped })}\n`);
        skipped = 0;
      }
    };
    up.setEncoding('utf8');
    up.on('data', (chunk: string) => {
      buf += chunk;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        if (!line) continue;
        let t: TapLine;
        try {
          t = JSON.parse(line) as TapLine;
        } catch {
          continue;
        }
        if (t.type === 'skipped') {
          skipped += t.count ?? 0;
          continue;
        }
        if (t.type !== 'record') {
          res.write(`${line}\n`);
          continue;
        }
        if (test && !test(asRecord(t))) continue;
        const now = Date.now();
        if (now - windowStart >= 1000) {
          windowStart = now;
          sent = 0;
          flushSkipped();
        }
        if (sent >= TAIL_MAX_PER_SECOND || res.writableNeedDrain) {
          skipped++;
          continue;
        }
        sent++;
        res.write(`${line}\n`);
      }
    });
    up.on('end', () => {
      flushSkipped();
      res.end(`${JSON.stringify({ type: 'end', reason: 'the daemon ended the stream' })}\n`);
    });
  });
  upstream.on('error', (e) => {
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: `cannot reach the daemon at ${base.host} (${e.message}): is \`logferry run --metrics-address ${base.host}\` running?`,
        }),
      );
    } else res.end();
  });
  res.on('close', () => upstream.destroy());
  upstream.end();
}
