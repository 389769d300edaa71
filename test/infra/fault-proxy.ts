/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of an OpenSearch node, for delivery tests.
 * For `_bulk` requests it can: answer 429 (`es_rejected_execution_exception`) for a fraction of the
 * **items** — those items are not forwarded and the node's response is rewritten to hold them in
 * their original positions; answer the whole request 503; reset the connection before forwarding,
 * or after forwarding (the node stored the documents but the client never hears so — the redrive
 * case that must yield 409s, not duplicates); delay responses; answer 413 above a body size; answer
 * 401 a given number of times. Decisions come from a seeded PRNG (deterministic for one request
 * order) and are bounded: after `maxFaults` injected faults every request passes untouched, so a
 * retrying client always finishes. Other requests (`GET /`, searches) pass through unchanged.
 */
import { createServer, type IncomingHttpHeaders, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { mulberry32 } from '../../src/core/prng.js';

export interface FaultOptions {
  seed?: number;
  /** Fraction of bulk items answered 429 and not forwarded. */
  itemThrottleRate?: number;
  /** Fraction of bulk requests answered 503 as a whole. */
  requestFailRate?: number;
  /** Fraction of bulk requests whose connection is reset; half before forwarding, half after. */
  resetRate?: number;
  /** Fraction of bulk requests delayed by `slowMs`. */
  slowRate?: number;
  slowMs?: number;
  /** Bulk bodies larger than this get 413. */
  maxBodyBytes?: number;
  /** The first N requests (any path) get 401. */
  authFailures?: number;
  /** Injected faults (413 and 401 excepted) after which everything passes; default 1000. */
  maxFaults?: number;
}

export interface FaultStats {
  requests: number;
  bulkRequests: number;
  itemsThrottled: number;
  itemsForwarded: number;
  requestsFailed: number;
  resetsBefore: number;
  resetsAfter: number;
  slowed: number;
  tooLarge: number;
  authFailed: number;
}

export interface FaultProxy {
  url: string;
  stats: FaultStats;
  /** Headers of the most recent requests (last 50), for auth assertions. */
  headers: IncomingHttpHeaders[];
  setOptions(o: FaultOptions): void;
  stop(): Promise<void>;
}

function zeroStats(): FaultStats {
  return {
    requests: 0,
    bulkRequests: 0,
    itemsThrottled: 0,
    itemsForwarded: 0,
    requestsFailed: 0,
    resetsBefore: 0,
    resetsAfter: 0,
    slowed: 0,
    tooLarge: 0,
    authFailed: 0,
  };
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function forward(
  target: URL,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<Upstream> {
  const h = { ...headers, host: target.host, 'content-length': String(body.length) };
  delete h['content-encoding'];
  // Bulk answers are rewritten here: ask the node for plain JSON.
  delete h['accept-encoding'];
  delete h.connection;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, method, path, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Splits an NDJSON bulk body into items (action line + optional source line). */
function bulkItems(body: string): { action: string; source?: string }[] {
  const lines = body.split('\n');
  const items: { action: string; source?: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const action = lines[i];
    if (action.trim() === '') continue;
    const op = Object.keys(JSON.parse(action))[0];
    if (op === 'delete') items.push({ action });
    else items.push({ action, source: lines[++i] });
  }
  return items;
}

export async function startFaultProxy(targetUrl: string, options: FaultOptions = {}): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  let opts = options;
  let random = mulberry32(opts.seed ?? 1);
  let faults = 0;
  let authLeft = opts.authFailures ?? 0;
  const stats = zeroStats();
  const headers: IncomingHttpHeaders[] = [];
  const sockets = new Set<Socket>();

  const budget = () => faults < (opts.maxFaults ?? 1000);
  const roll = (rate: number | undefined) => !!rate && budget() && random() < rate;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        stats.requests++;
        headers.push(req.headers);
        if (headers.length > 50) headers.shift();
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const method = req.method ?? 'GET';
        const path = req.url ?? '/';
        if (authLeft > 0) {
          authLeft--;
          stats.authFailed++;
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({ error: { type: 'security_exception', reason: 'injected 401' }, status: 401 }),
          );
          return;
        }
        const isBulk = method === 'POST' && /(^|\/)_bulk(\?|$)/.test(path);
        if (!isBulk) {
          const up = await forward(target, method, path, req.headers, body);
          res.writeHead(up.status, up.headers);
          res.end(up.body);
          return;
        }
        stats.bulkRequests++;
        if (opts.maxBodyBytes !== undefined && body.length > opts.maxBodyBytes) {
          stats.tooLarge++;
          res.writeHead(413, { 'content-type': 'text/plain' });
          res.end('Request Entity Too Large');
          return;
        }
        if (roll(opts.slowRate)) {
          faults++;
          stats.slowed++;
          await new Promise((r) => setTimeout(r, opts.slowMs ?? 200));
        }
        if (roll(opts.requestFailRate)) {
          faults++;
          stats.requestsFailed++;
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { type: 'unavailable', reason: 'injected 503' }, status: 503 }));
          return;
        }
        let resetAfter = false;
        if (roll(opts.resetRate)) {
          faults++;
          if (random() < 0.5) {
            stats.resetsBefore++;
            req.socket.destroy();
            return;
          }
          resetAfter = true;
        }

        const items = bulkItems(body.toString('utf8'));
        const throttled = items.map(() => roll(opts.itemThrottleRate));
        const nThrottled = throttled.filter(Boolean).length;
        if (nThrottled > 0) faults++;
        let forwardedItems: { status: number; [k: string]: unknown }[] = [];
        let took = 0;
        const keep = items.filter((_, i) => !throttled[i]);
        let up: Upstream | undefined;
        if (keep.length > 0) {
          const fwdBody = Buffer.from(
            keep
              .map((it) => (it.source === undefined ? `${it.action}\n` : `${it.action}\n${it.source}\n`))
              .join(''),
          );
          up = await forward(target, method, path, req.headers, fwdBody);
          stats.itemsForwarded += keep.length;
          if (resetAfter) {
            stats.resetsAfter++;
            req.socket.destroy();
            return;
          }
          if (nThrottled === 0 || up.status !== 200) {
            res.writeHead(up.status, up.headers);
            res.end(up.body);
            return;
          }
          const parsed = JSON.parse(up.body.toString('utf8')) as {
            took: number;
            items: Record<string, unknown>[];
          };
          took = parsed.took;
          forwardedItems = parsed.items as typeof forwardedItems;
        }
        stats.itemsThrottled += nThrottled;
        let k = 0;
        const merged = items.map((it, i) => {
          if (!throttled[i]) return forwardedItems[k++];
          const [op, meta] = Object.entries(
            JSON.parse(it.action) as Record<string, Record<string, unknown>>,
          )[0];
          return {
            [op]: {
              _index: meta._index,
              _id: meta._id ?? null,
              status: 429,
              error: {
                type: 'es_rejected_execution_exception',
                reason: 'rejected execution (injected by the fault proxy)',
              },
            },
          };
        });
        const out = JSON.stringify({ took, errors: true, items: merged });
        res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(out);
      } catch (e) {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`fault proxy: ${(e as Error).message}`);
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    stats,
    headers,
    setOptions(o) {
      opts = o;
      random = mulberry32(o.seed ?? 1);
      faults = 0;
      authLeft = o.authFailures ?? 0;
      Object.assign(stats, zeroStats());
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
