/**
 * The console's HTTP server: the browser app (static assets built from web/console) and a small
 * JSON API over the same engine as `logferry query`. Everything it serves is read from `--from`
 * (archive directory, s3://, opensearch://) and the saved-queries folder; it opens nothing remote.
 *
 * Security: it binds 127.0.0.1 unless told otherwise; when bound elsewhere every API call needs the
 * token printed with the URL (`Authorization: Bearer …`), and on loopback the Host header must name
 * the loopback address it is bound to (a page on another site cannot reach it by DNS rebinding).
 * Request bodies are capped; query errors come back as structured problems (line/column), never a
 * stack trace. The API is documented in docs/console.md.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogferryError } from '../core/errors.js';
import { runQuery } from '../query/backends/index.js';
import { formatTimestamp } from '../query/render/format.js';
import { expandRecipe, findRecipe } from '../query/recipes/index.js';
import { compileQuery, type QueryProblem } from '../query/index.js';
import { jsonText } from '../query/values.js';
import { daemonBase, fetchPipeline, pipeTail } from './daemon.js';
import { languageCatalog } from './language.js';
import { discoverFields } from './fields.js';
import { estimateScan } from './estimate.js';
import { recipeList, SavedQueries } from './saved.js';
import { PartialRows } from './partial.js';
import { runToResult } from './result.js';

export interface ConsoleOptions {
  /** What to query: archive directory, s3://bucket/prefix, opensearch://host:port/index. */
  from: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Folder of the user's saved queries (created on first save). */
  queriesDir: string;
  /** Directory of the built browser app; default dist/console beside the CLI bundle. */
  assetsDir?: string;
  /** API token; generated when `host` is not loopback. */
  token?: string;
  /** Worker threads for archive scans (as `logferry query --threads`). */
  threads?: number;
  /** HOST:PORT of a running `logferry run --metrics-address` for the live tail and pipeline view. */
  daemon?: string;
  /** Epoch ms anchoring relative ranges (tests); default Date.now() per request. */
  now?: () => number;
  version?: string;
}

export interface RunningConsole {
  url: string;
  /** The token the API needs (also in the URL's fragment), or undefined on loopback. */
  token?: string;
  server: Server;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;
const PROGRESS_EVERY_MS = 150;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Where the built app lives: dist/console next to dist/cli (bundle) or under the repo root (source). */
export function defaultAssetsDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const candidate of [join(here, '..', 'console'), join(here, '..', '..', 'dist', 'console')]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return join(here, '..', '..', 'dist', 'console');
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * Reads a JSON object body. Over the cap it keeps draining (without storing) so the client gets
 * the 413 answer instead of a reset connection.
 */
function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > MAX_BODY_BYTES)
        return reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`));
      if (size === 0) return resolveBody({});
      try {
        const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
        resolveBody(v as Record<string, unknown>);
      } catch {
        reject(new HttpError(400, 'request body must be a JSON object'));
      }
    });
  });
}

function str(body: Record<string, unknown>, key: string, required = false): string | undefined {
  const v = body[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new HttpError(400, `'${key}' is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new HttpError(400, `'${key}' must be a string`);
  return v;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = jsonText(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** A LogferryError as the API's error object; query syntax errors keep their problem list. */
export function errorBody(e: unknown): { error: string; code?: string; problems?: QueryProblem[] } {
  if (e instanceof LogferryError) {
    const problems = e.details?.problems as QueryProblem[] | undefined;
    return { error: e.message, code: e.code, ...(problems ? { problems } : {}) };
  }
  if (e instanceof HttpError) return { error: e.message, ...e.extra };
  return { error: e instanceof Error ? e.message : String(e), code: 'INTERNAL' };
}

function tokenOk(req: IncomingMessage, url: URL, token: string | undefined): boolean {
  if (!token) return true;
  const auth = req.headers.authorization;
  const given = auth?.startsWith('Bearer ') ? auth.slice(7) : (url.searchParams.get('token') ?? '');
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startConsole(opts: ConsoleOptions): Promise<RunningConsole> {
  const host = opts.host ?? '127.0.0.1';
  const loopback = isLoopback(host);
  const token = opts.token ?? (loopback ? undefined : randomBytes(18).toString('base64url'));
  const assets = resolve(opts.assetsDir ?? defaultAssetsDir());
  const saved = new SavedQueries(opts.queriesDir);
  const now = opts.now ?? (() => Date.now());
  const daemon = opts.daemon ? daemonBase(opts.daemon) : undefined;
  let port = 0;

  async function serveStatic(res: ServerResponse, path: string): Promise<void> {
    const rel = path === '/' ? 'index.html' : decodeURIComponent(path.slice(1));
    const file = normalize(join(assets, rel));
    if (file !== assets && !file.startsWith(assets + sep)) throw new HttpError(404, 'not found');
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      if (rel === 'index.html')
        throw new HttpError(
          500,
          `the console's browser app is not built (${join(assets, 'index.html')} is missing): run npm run build`,
        );
      throw new HttpError(404, 'not found');
    }
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'content-length': data.length,
      'cache-control': rel === 'index.html' ? 'no-store' : 'max-age=3600',
      'x-content-type-options': 'nosniff',
      'content-security-policy':
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'",
    });
    res.end(data);
  }

  /**
   * The whole event a result row came from, by its `@ptr` (`<object key>:<line>`): every field the
   * archive record has, not only the columns the query displayed. Key pruning reads one object.
   */
  async function record(req: IncomingMessage): Promise<{ ptr: string; record: Record<string, unknown> }> {
    const body = await readJson(req);
    const ptr = str(body, 'ptr', true) as string;
    if (!/^[^"\\\n]+:\d+$/.test(ptr))
      throw new HttpError(400, `'ptr' must be <object key>:<line number>, as a result row's @ptr`);
    let found: Record<string, unknown> | undefined;
    await runQuery({
      query: `filter @ptr = "${ptr}" | limit 1`,
      from: opts.from,
      now: now(),
      threads: 0,
      onRow: (row) => {
        found ??= row;
      },
    });
    if (!found) throw new HttpError(404, `no event at ${ptr}: the archive changed since the query ran?`);
    const { '@ptr': _p, ...fields } = found;
    // Times as the result table shows them (the CLI's format), everything else as stored.
    for (const k of ['@timestamp', '@ingestionTime'])
      if (typeof fields[k] === 'number') fields[k] = formatTimestamp(fields[k] as number);
    return { ptr, record: fields };
  }

  async function query(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const text = str(body, 'query', true) as string;
    const start = str(body, 'start');
    const end = str(body, 'end');
    const ac = new AbortController();
    // The browser cancels by closing the request (fetch's AbortController).
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    const write = (v: unknown) => {
      // jsonText: a row may hold a value nested deeper than JSON.stringify's stack (jsonParse of a log line).
      if (!res.destroyed) res.write(`${jsonText(v)}\n`);
    };
    const t0 = Date.now();
    let last = 0;
    // Rows as they are found: the answer over the rows read so far, sent while the scan goes on.
    const partial = new PartialRows((r) => write({ type: 'partial', ...r }), t0);
    try {
      const run = await runQuery({
        query: text,
        from: opts.from,
        start,
        end,
        now: now(),
        threads: opts.threads,
        signal: ac.signal,
        pointers: true,
        onRow: partial.onRow,
        onProgress: (p) => {
          const t = Date.now();
          if (t - last < PROGRESS_EVERY_MS) return;
          last = t;
          write({ type: 'progress', progress: p, elapsedMs: t - t0 });
          partial.tick(t);
        },
      });
      partial.close();
      write({ type: 'result', ...runToResult(run, Date.now() - t0) });
    } catch (e) {
      partial.close();
      if (ac.signal.aborted) return void res.end();
      write({ type: 'error', ...errorBody(e) });
    }
    res.end();
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const path = url.pathname;
    if (loopback) {
      const h = (req.headers.host ?? '').toLowerCase();
      const allowed = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host}:${port}`];
      if (!allowed.includes(h)) throw new HttpError(403, `unexpected Host header '${h}'`);
    }
    if (!path.startsWith('/api/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
      return serveStatic(res, path);
    }
    if (!tokenOk(req, url, token))
      throw new HttpError(401, 'missing or wrong token: open the URL logferry console printed');
    const method = req.method ?? 'GET';
    if (path === '/api/info' && method === 'GET')
      return sendJson(res, 200, {
        version: opts.version ?? 'dev',
        from: opts.from,
        queriesDir: saved.dir,
        daemon: daemon?.host ?? null,
        now: now(),
      });
    if (path.startsWith('/api/daemon/')) {
      if (!daemon)
        throw new HttpError(
          404,
          'no daemon: start the console with --daemon HOST:PORT of a logferry run --metrics-address',
        );
      if (path === '/api/daemon/pipeline' && method === 'GET')
        return sendJson(res, 200, await fetchPipeline(daemon));
      if (path === '/api/daemon/tail' && method === 'GET') {
        const components = (url.searchParams.get('components') ?? '').split(',').filter(Boolean);
        return pipeTail(daemon, { components, filter: url.searchParams.get('filter') ?? undefined }, res);
      }
    }
    if (path === '/api/language' && method === 'GET') return sendJson(res, 200, languageCatalog());
    if (path === '/api/record' && method === 'POST') return sendJson(res, 200, await record(req));
    if (path === '/api/query' && method === 'POST') return query(req, res);
    if (path === '/api/check' && method === 'POST') {
      const body = await readJson(req);
      return sendJson(res, 200, checkQuery(str(body, 'query') ?? ''));
    }
    if (path === '/api/estimate' && method === 'POST') {
      const body = await readJson(req);
      return sendJson(
        res,
        200,
        await estimateScan({
          from: opts.from,
          query: str(body, 'query', true) as string,
          start: str(body, 'start'),
          end: str(body, 'end'),
          now: now(),
        }),
      );
    }
    if (path === '/api/fields' && method === 'POST') {
      const body = await readJson(req);
      return sendJson(
        res,
        200,
        await discoverFields({
          from: opts.from,
          start: str(body, 'start'),
          end: str(body, 'end'),
          now: now(),
          threads: opts.threads,
        }),
      );
    }
    if (path === '/api/recipes' && method === 'GET') return sendJson(res, 200, recipeList());
    if (path === '/api/recipes/expand' && method === 'POST') {
      const body = await readJson(req);
      const params = body.params ?? {};
      if (typeof params !== 'object' || Array.isArray(params))
        throw new HttpError(400, "'params' must be an object");
      const given: Record<string, string> = {};
      for (const [k, v] of Object.entries(params as Record<string, unknown>)) given[k] = String(v ?? '');
      return sendJson(res, 200, {
        query: expandRecipe(findRecipe(str(body, 'name', true) as string), given),
      });
    }
    if (path === '/api/saved' && method === 'GET') return sendJson(res, 200, await saved.list());
    const m = /^\/api\/saved\/([^/]+)$/.exec(path);
    if (m) {
      const name = decodeURIComponent(m[1] as string);
      if (method === 'GET') return sendJson(res, 200, await saved.get(name));
      if (method === 'PUT') {
        const body = await readJson(req);
        return sendJson(
          res,
          200,
          await saved.put(name, str(body, 'query', true) as string, str(body, 'description') ?? ''),
        );
      }
      if (method === 'DELETE') {
        await saved.remove(name);
        return sendJson(res, 200, { deleted: name });
      }
    }
    throw new HttpError(404, `no such API: ${method} ${path}`);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        res.end();
        return;
      }
      const status =
        e instanceof HttpError
          ? e.status
          : e instanceof LogferryError
            ? e.code === 'SOURCE_FAILED'
              ? 502
              : 400
            : 500;
      sendJson(res, status, errorBody(e));
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${port}/${token ? `#token=${token}` : ''}`;
  return {
    url,
    token,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Compile-only check for the editor's inline errors: every problem with line/column. */
export function checkQuery(text: string): { ok: boolean; problems: QueryProblem[]; error?: string } {
  if (!text.trim()) return { ok: true, problems: [] };
  try {
    // Parsing and compiling are cheap and pure; the same code `logferry query` runs.
    compileForCheck(text);
    return { ok: true, problems: [] };
  } catch (e) {
    const b = errorBody(e);
    return { ok: false, problems: b.problems ?? [], error: b.error };
  }
}

function compileForCheck(text: string): void {
  compileQuery(text, { now: Date.now() });
}
