/**
 * Local stand-ins for HTTP log services, on 127.0.0.1, each speaking its protocol as documented:
 *   - Logz.io bulk listener: `?token=&type=`, NDJSON (gzip allowed), 10 MB body limit (413), lines
 *     over the line limit counted as oversized, non-JSON lines as malformed; any bad line → 400 with
 *     `{malformedLines, successfulLines, oversizedLines, emptyLogLines}` (good lines are kept).
 *   - Splunk HEC `/services/collector/event`: `Authorization: Splunk <token>` (401 code 2 / 403 code
 *     4), concatenated JSON events parsed in order; the first invalid one answers 400 with
 *     `invalid-event-number` and the events before it are indexed; `busy` → 503 code 9.
 *   - Loki `/loki/api/v1/push`: streams of `[ns-string, line]`, `X-Scope-OrgID` tenants, per-stream
 *     "too far behind" window; refused entries are listed in a 400 answer in the ingester's format
 *     and the others kept; exact duplicates are dropped; `rateLimited` → 429 with Retry-After.
 *   - Generic NDJSON receiver.
 * Failures can be injected per request (`failNext`) to test retries. Test-only code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface Captured {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface LocalService {
  url: string;
  requests: Captured[];
  /** Answers the next N requests with this status/body instead of processing them. */
  failNext(n: number, status: number, body?: string, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function serve(
  handler: (req: IncomingMessage, body: Buffer, raw: Captured, res: ServerResponse) => void | Promise<void>,
  maxBodyBytes = Number.POSITIVE_INFINITY,
): Promise<LocalService> {
  const requests: Captured[] = [];
  const injected: { status: number; body: string; headers: Record<string, string> }[] = [];
  const server: Server = createServer(async (req, res) => {
    try {
      const len = Number(req.headers['content-length'] ?? 0);
      if (len > maxBodyBytes) {
        req.resume();
        res.writeHead(413).end('Request Entity Too Large');
        return;
      }
      const body = await readBody(req);
      const cap: Captured = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: body.toString('utf8'),
      };
      requests.push(cap);
      const inj = injected.shift();
      if (inj) {
        res.writeHead(inj.status, inj.headers).end(inj.body);
        return;
      }
      await handler(req, body, cap, res);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(n, status, body = '', headers = {}) {
      for (let i = 0; i < n; i++) injected.push({ status, body, headers });
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface LogzioListener extends LocalService {
  /** Accepted documents, in arrival order. */
  docs: Record<string, unknown>[];
  /** The current valid token (rotate it to test re-resolution). */
  token: string;
}

export async function startLogzioListener(opts: {
  token: string;
  maxLineBytes?: number;
  maxBodyBytes?: number;
}): Promise<LogzioListener> {
  const maxLine = opts.maxLineBytes ?? 500_000;
  const docs: Record<string, unknown>[] = [];
  const svc = await serve((req, body, _cap, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.searchParams.get('token') !== listener.token) {
      res.writeHead(401).end('The token is missing or not valid');
      return;
    }
    const lines = body.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    let malformedLines = 0;
    let oversizedLines = 0;
    let emptyLogLines = 0;
    let successfulLines = 0;
    for (const line of lines) {
      if (line.trim() === '') emptyLogLines++;
      else if (Buffer.byteLength(line) > maxLine) oversizedLines++;
      else {
        try {
          const d = JSON.parse(line);
          if (typeof d !== 'object' || d === null) throw new Error('not an object');
          d.type = u.searchParams.get('type') ?? 'http-bulk';
          docs.push(d);
          successfulLines++;
        } catch {
          malformedLines++;
        }
      }
    }
    if (malformedLines + oversizedLines + emptyLogLines > 0) {
      json(res, 400, { malformedLines, successfulLines, oversizedLines, emptyLogLines });
    } else {
      res.writeHead(200).end();
    }
  }, opts.maxBodyBytes ?? 10_485_760);
  const listener: LogzioListener = Object.assign(svc, { docs, token: opts.token });
  return listener;
}

export interface HecServer extends LocalService {
  events: Record<string, unknown>[];
  token: string;
  allowedIndexes?: string[];
  busy: boolean;
}

/** Splits concatenated JSON objects (HEC does not need newlines between events). */
function splitConcatenated(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inStr = false;
  let esc = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (esc) esc = false;
      else if (c === '\\') esc = true;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) out.push(text.slice(start, i + 1));
    } else if (depth === 0 && !/\s/.test(c)) {
      out.push(text.slice(i)); // garbage between events: surfaces as invalid data format
      break;
    }
  }
  return out;
}

export async function startHecServer(opts: {
  token: string;
  allowedIndexes?: string[];
  maxBodyBytes?: number;
}): Promise<HecServer> {
  const events: Record<string, unknown>[] = [];
  const svc = await serve((req, body, _cap, res) => {
    // `/services/collector` is HEC's alias of `/services/collector/event`.
    if (!/^\/services\/collector(\/event)?\/?(\?|$)/.test(req.url ?? '')) {
      json(res, 404, { text: 'The requested URL was not found on this server.', code: 404 });
      return;
    }
    const auth = req.headers.authorization;
    if (!auth) return json(res, 401, { text: 'Token is required', code: 2 });
    if (!auth.startsWith('Splunk ')) return json(res, 401, { text: 'Invalid authorization', code: 3 });
    if (auth.slice(7) !== hec.token) return json(res, 403, { text: 'Invalid token', code: 4 });
    if (hec.busy) return json(res, 503, { text: 'Server is busy', code: 9 }, { 'retry-after': '1' });
    const parts = splitConcatenated(body.toString('utf8'));
    if (parts.length === 0) return json(res, 400, { text: 'No data', code: 5 });
    for (let i = 0; i < parts.length; i++) {
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(parts[i]);
      } catch {
        return json(res, 400, { text: 'Invalid data format', code: 6, 'invalid-event-number': i });
      }
      if (!('event' in ev))
        return json(res, 400, { text: 'Event field is required', code: 12, 'invalid-event-number': i });
      if (ev.event === '' || ev.event === null) {
        return json(res, 400, { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': i });
      }
      if (hec.allowedIndexes && typeof ev.index === 'string' && !hec.allowedIndexes.includes(ev.index)) {
        return json(res, 400, { text: 'Incorrect index', code: 7, 'invalid-event-number': i });
      }
      events.push(ev); // events before an invalid one are indexed
    }
    json(res, 200, { text: 'Success', code: 0 });
  }, opts.maxBodyBytes);
  const hec: HecServer = Object.assign(svc, {
    events,
    token: opts.token,
    allowedIndexes: opts.allowedIndexes,
    busy: false,
  });
  return hec;
}

export interface LokiServer extends LocalService {
  /** tenant → stream labels (canonical) → entries. */
  store: Map<string, Map<string, { ns: bigint; line: string }[]>>;
  rateLimited: boolean;
}

/** Go's time.Time.String() for a UTC instant. */
function goTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2024-05-06T15:58:50.123Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}

function canonicalLabels(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return `{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(', ')}}`;
}

/**
 * `windowMs`: how far behind a stream's newest entry an entry may be (Loki: max_chunk_age/2).
 * `requireTenant`: answer 401 "no org id" without X-Scope-OrgID (multi-tenant mode).
 */
export async function startLokiServer(
  opts: { windowMs?: number; requireTenant?: boolean; maxReturnedErrors?: number } = {},
): Promise<LokiServer> {
  const windowNs = BigInt(opts.windowMs ?? 3_600_000) * 1_000_000n;
  const maxReturned = opts.maxReturnedErrors ?? 10;
  const store = new Map<string, Map<string, { ns: bigint; line: string }[]>>();
  const svc = await serve((req, body, _cap, res) => {
    if (req.url !== '/loki/api/v1/push') return void res.writeHead(404).end('404 page not found');
    const tenant =
      (req.headers['x-scope-orgid'] as string | undefined) ?? (opts.requireTenant ? undefined : 'fake');
    if (!tenant) return void res.writeHead(401).end('no org id');
    if (loki.rateLimited) {
      res.writeHead(429, { 'retry-after': '1' });
      return void res.end(
        `ingestion rate limit exceeded for user ${tenant} (limit: 1 bytes/sec) while attempting to ingest lines`,
      );
    }
    let doc: { streams: { stream: Record<string, string>; values: [string, string][] }[] };
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch (e) {
      return void res.writeHead(400).end(`loghttp.PushRequest.Streams: ${(e as Error).message}`);
    }
    let t = store.get(tenant);
    if (!t) {
      t = new Map();
      store.set(tenant, t);
    }
    let lastErr: string | undefined;
    for (const s of doc.streams) {
      for (const v of s.values) {
        if (typeof v[0] !== 'string') return void res.writeHead(400).end('timestamp must be a string');
      }
      const key = canonicalLabels(s.stream);
      let entries = t.get(key);
      if (!entries) {
        entries = [];
        t.set(key, entries);
      }
      const failed: { ns: bigint; reason: string }[] = [];
      for (const [tsText, line] of s.values) {
        const ns = BigInt(tsText);
        let newest = 0n;
        for (const e of entries) if (e.ns > newest) newest = e.ns;
        if (entries.some((e) => e.ns === ns && e.line === line)) continue; // exact duplicate: dropped silently
        if (newest > 0n && ns < newest - windowNs) {
          const oldest = new Date(Number((newest - windowNs) / 1_000_000n))
            .toISOString()
            .replace(/\.\d+Z$/, 'Z');
          failed.push({
            ns,
            reason: `entry too far behind, entry timestamp is: ${new Date(Number(ns / 1_000_000n)).toISOString().replace(/\.\d+Z$/, 'Z')}, oldest acceptable timestamp is: ${oldest}`,
          });
          continue;
        }
        entries.push({ ns, line });
      }
      if (failed.length > 0) {
        let buf = '';
        for (const f of failed.slice(0, maxReturned))
          buf += `entry with timestamp ${goTime(f.ns)} ignored, reason: '${f.reason}',\n`;
        buf += `user '${tenant}', total ignored: ${failed.length} out of ${s.values.length} for stream: ${key}`;
        lastErr = buf; // the ingester answers with the last stream's error
      }
    }
    if (lastErr) return void res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(lastErr);
    res.writeHead(204).end();
  });
  const loki: LokiServer = Object.assign(svc, { store, rateLimited: false });
  return loki;
}

export interface NdjsonServer extends LocalService {
  docs: Record<string, unknown>[];
}

export async function startNdjsonServer(opts: { bearer?: string } = {}): Promise<NdjsonServer> {
  const docs: Record<string, unknown>[] = [];
  const svc = await serve((req, body, _cap, res) => {
    if (opts.bearer && req.headers.authorization !== `Bearer ${opts.bearer}`)
      return void res.writeHead(401).end('unauthorized');
    const lines = body
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    try {
      const parsed = lines.map((l) => JSON.parse(l));
      docs.push(...parsed);
    } catch {
      return void res.writeHead(400).end('bad json');
    }
    res.writeHead(202).end();
  });
  return Object.assign(svc, { docs });
}
