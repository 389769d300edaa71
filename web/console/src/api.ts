/** The console server's API (docs/console.md), with the token from the URL fragment when there is one. */

export interface Problem {
  line: number;
  column: number;
  message: string;
}

export interface ApiError {
  error: string;
  code?: string;
  problems?: Problem[];
}

export interface Progress {
  objectsListed: number;
  objectsPruned: number;
  objectsDone: number;
  objectsFailed: number;
  failures: string[];
  bytesIn: number;
  bytesText: number;
  recordsScanned: number;
  recordsMatched: number;
  threads: number;
  startedAt: number;
}

export interface QueryResult {
  fields: string[];
  rows: Record<string, unknown>[];
  timeFields: string[];
  epochs: Record<string, (number | null)[]>;
  histogram: [number, number][];
  aggregates: boolean;
  binColumn?: string;
  binMs?: number;
  /** Per row: its @ptr, to open the whole event (archive scans, non-aggregating queries). */
  ptrs?: (string | null)[];
  stats: { recordsScanned: number; recordsMatched: number };
  progress: Progress;
  notes: string[];
  range: { startMs?: number; endMs?: number };
  source: string;
  elapsedMs: number;
  /** The answer over the rows found so far, while the scan goes on (replaced by the final result). */
  partial?: boolean;
}

export type QueryEvent =
  | ({ type: 'progress' } & { progress: Progress; elapsedMs: number })
  | ({ type: 'partial' } & QueryResult)
  | ({ type: 'result' } & QueryResult)
  | ({ type: 'error' } & ApiError);

export interface Language {
  commands: string[];
  functions: { name: string; kind: 'scalar' | 'aggregate'; min: number; max: number }[];
  keywords: string[];
}

export interface Field {
  name: string;
  type: string;
  count: number;
  top: { value: string; count: number }[];
}

export interface Recipe {
  name: string;
  description: string;
  query: string;
  params: { name: string; description: string; default?: string; pattern: string; expect: string }[];
}

export interface Saved {
  name: string;
  description: string;
  query: string;
}

export interface Estimate {
  source: string;
  objects?: number;
  bytes?: number;
  objectsListed?: number;
  objectsPruned?: number;
  prunedPrefixes?: number;
  note?: string;
}

export interface Range {
  start?: string;
  end?: string;
}

const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = {};
  if (json) h['content-type'] = 'application/json';
  if (token) h.authorization = `Bearer ${token}`;
  return h;
}

export class RequestError extends Error {
  constructor(readonly body: ApiError) {
    super(body.error);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const value = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as T & ApiError;
  if (!res.ok) throw new RequestError(value);
  return value;
}

export const api = {
  info: () => call<{ version: string; from: string; queriesDir: string; now: number }>('GET', '/api/info'),
  language: () => call<Language>('GET', '/api/language'),
  check: (query: string) =>
    call<{ ok: boolean; problems: Problem[]; error?: string }>('POST', '/api/check', { query }),
  estimate: (query: string, range: Range) => call<Estimate>('POST', '/api/estimate', { query, ...range }),
  fields: (range: Range) =>
    call<{ sampled: number; fields: Field[]; note?: string }>('POST', '/api/fields', range),
  record: (ptr: string) =>
    call<{ ptr: string; record: Record<string, unknown> }>('POST', '/api/record', { ptr }),
  recipes: () => call<Recipe[]>('GET', '/api/recipes'),
  expandRecipe: (name: string, params: Record<string, string>) =>
    call<{ query: string }>('POST', '/api/recipes/expand', { name, params }),
  saved: () => call<Saved[]>('GET', '/api/saved'),
  save: (q: Saved) => call<Saved>('PUT', `/api/saved/${encodeURIComponent(q.name)}`, q),
  remove: (name: string) => call<{ deleted: string }>('DELETE', `/api/saved/${encodeURIComponent(name)}`),
};

/** Runs a query; events arrive as the server writes them (NDJSON). Abort the signal to cancel. */
export async function streamQuery(
  query: string,
  range: Range,
  onEvent: (e: QueryEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch('/api/query', {
    method: 'POST',
    headers: headers(true),
    body: JSON.stringify({ query, ...range }),
    signal,
  });
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as ApiError;
    onEvent({ type: 'error', ...body });
    return;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line) onEvent(JSON.parse(line) as QueryEvent);
      nl = buf.indexOf('\n');
    }
  }
}
