/**
 * `--metrics-address HOST:PORT`: serves Prometheus `/metrics` (src/core/metrics.ts) and `/health`
 * (200 `ok` while running) from the run's latest progress snapshot, and for `logferry console`:
 * `/api/pipeline` (the graph of named components with their outcome counts) and `/api/tap`
 * (NDJSON of the records leaving chosen components, after parsing and masking — the live tail).
 * Listens only where told; the documented example is 127.0.0.1. A bad address is a config error
 * (exit 2).
 *
 * A tap never slows delivery: each subscriber's records go through the socket's own buffer, and
 * while that buffer is full the records meant for it are skipped and counted (the count is sent as
 * a `{"type":"skipped"}` line once the socket drains). With no subscriber the hook is one check.
 */
import { createServer, type ServerResponse, type Server } from 'node:http';
import type { LogRecord } from '../core/record.js';
import { LogferryError } from '../core/errors.js';
import { prometheusText } from '../core/metrics.js';
import type { RunProgress } from '../core/runner.js';

export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65_535)
    throw new LogferryError(
      'CONFIG_INVALID',
      `metrics address "${address}" is not HOST:PORT (e.g. 127.0.0.1:9598)`,
    );
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

export interface MetricsServer {
  update(p: RunProgress): void;
  /** The runner's tap hook: records leaving a component, for `/api/tap` subscribers. */
  tap(component: string, record: LogRecord): void;
  readonly address: string;
  close(): Promise<void>;
}

/** The named components of the running graph, as `/api/pipeline` describes them. */
export interface PipelineShape {
  sources: { name: string; type?: string; tag?: string }[];
  transforms: { name: string; type?: string; inputs?: readonly string[]; match?: string }[];
  sinks: { name: string; type?: string; inputs?: readonly string[]; match?: string }[];
}

/** Records buffered per tap subscriber beyond the socket's own buffer: none (skipped, counted). */
interface Subscriber {
  res: ServerResponse;
  components: Set<string> | undefined;
  skipped: number;
  blocked: boolean;
}

export function tapLine(component: string, r: LogRecord): string {
  return `${JSON.stringify({
    type: 'record',
    component,
    timestamp: r.timestamp,
    message: r.message,
    fields: r.fields,
    logGroup: r.meta.logGroup,
    logStream: r.meta.logStream,
    id: r.meta.id,
  })}\n`;
}

function pipelineJson(shape: PipelineShape | undefined, p: RunProgress | undefined): unknown {
  const counts = (name: string) => p?.nodes.get(name)?.total ?? null;
  const sinkStats = new Map((p?.sinks ?? []).map((s) => [s.name, s]));
  return {
    phase: p?.phase ?? 'starting',
    elapsedMs: p?.elapsedMs ?? 0,
    bytesIn: p?.bytesIn ?? 0,
    totals: p?.tally.total ?? null,
    envelopes: p?.envelopes ?? null,
    lag: p?.lag ?? null,
    sources: (shape?.sources ?? []).map((s) => ({ ...s, kind: 'source', counts: counts(s.name) })),
    transforms: (shape?.transforms ?? []).map((t) => ({ ...t, kind: 'transform', counts: counts(t.name) })),
    sinks: (shape?.sinks ?? []).map((s) => {
      const st = sinkStats.get(s.name);
      return {
        ...s,
        kind: 'sink',
        counts: counts(s.name),
        bytes: st?.bytes ?? 0,
        sends: st?.sends ?? 0,
        retries: st?.retries ?? 0,
      };
    }),
  };
}

export async function startMetricsServer(address: string, shape?: PipelineShape): Promise<MetricsServer> {
  const { host, port } = parseAddress(address);
  let latest: RunProgress | undefined;
  const subscribers = new Set<Subscriber>();
  // A tap without a component list follows the sources.
  const sourceNames = new Set(shape?.sources.map((x) => x.name));
  const server: Server = createServer((req, res) => {
    const [path, qs] = (req.url ?? '/').split('?') as [string, string | undefined];
    if (path === '/api/pipeline') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(pipelineJson(shape, latest)));
      return;
    }
    if (path === '/api/tap') {
      const wanted = new URLSearchParams(qs ?? '').get('components');
      const sub: Subscriber = {
        res,
        components: wanted ? new Set(wanted.split(',').filter(Boolean)) : undefined,
        skipped: 0,
        blocked: false,
      };
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
      res.write(
        `${JSON.stringify({ type: 'hello', components: wanted ? [...(sub.components ?? [])] : 'sources' })}\n`,
      );
      res.on('drain', () => {
        sub.blocked = false;
        if (sub.skipped > 0) {
          res.write(`${JSON.stringify({ type: 'skipped', count: sub.skipped })}\n`);
          sub.skipped = 0;
        }
      });
      res.on('close', () => subscribers.delete(sub));
      subscribers.add(sub);
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(latest ? prometheusText(latest) : '');
    } else if (path === '/health') {
      const done = latest?.phase === 'done';
      res.writeHead(done ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(done ? 'stopping\n' : 'ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: /metrics, /health, /api/pipeline and /api/tap\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new LogferryError('CONFIG_INVALID', `cannot listen on ${address} for metrics: ${e.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
  const a = server.address();
  const bound =
    typeof a === 'object' && a
      ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`
      : address;
  return {
    address: bound,
    update(p) {
      latest = p;
    },
    tap(component, record) {
      if (subscribers.size === 0) return;
      let line: string | undefined;
      for (const sub of subscribers) {
        if (sub.components ? !sub.components.has(component) : !sourceNames.has(component)) continue;
        if (sub.blocked) {
          sub.skipped++;
          continue;
        }
        line ??= tapLine(component, record);
        if (!sub.res.write(line)) sub.blocked = true;
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const sub of subscribers) sub.res.end();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
