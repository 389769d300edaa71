/**
 * `--metrics-address HOST:PORT`: serves Prometheus `/metrics` (src/core/metrics.ts) and `/health`
 * (200 `ok` while running) from the run's latest progress snapshot. Listens only where told; the
 * documented example is 127.0.0.1. A bad address is a config error (exit 2).
 */
import { createServer, type Server } from 'node:http';
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
  readonly address: string;
  close(): Promise<void>;
}

export async function startMetricsServer(address: string): Promise<MetricsServer> {
  const { host, port } = parseAddress(address);
  let latest: RunProgress | undefined;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(latest ? prometheusText(latest) : '');
    } else if (path === '/health') {
      const done = latest?.phase === 'done';
      res.writeHead(done ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(done ? 'stopping\n' : 'ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: /metrics and /health\n');
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
