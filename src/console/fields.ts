/**
 * Field discovery for the editor's autocomplete and the field sidebar: a bounded sample of whole
 * records (the newest objects of the range first) flattened the way Logs Insights names fields
 * (`responseObject.code`, `items.0.name`), each with its type, how many sampled records have it,
 * and its most frequent values. Reads at most SAMPLE_RECORDS records from SAMPLE_OBJECTS objects.
 */
import { parseTimeRange, sourceKind } from '../query/backends/index.js';
import { hitToRow, openSearchClient } from '../query/backends/opensearch.js';
import { buildSearchQuery } from '../query/backends/opensearch-dsl.js';
import { ArchiveScan } from '../query/backends/scan.js';
import { LogferryError } from '../core/errors.js';
import { compileQuery, type Row } from '../query/index.js';
import { listArchive } from './archive.js';

export const SAMPLE_RECORDS = 2000;
export const SAMPLE_OBJECTS = 24;
const MAX_FIELDS = 400;
const MAX_DEPTH = 5;
const TOP_VALUES = 5;
const MAX_TRACKED_VALUES = 200;
const MAX_VALUE_CHARS = 120;

export type FieldType = 'string' | 'number' | 'boolean' | 'time' | 'object' | 'array' | 'mixed';

export interface DiscoveredField {
  name: string;
  type: FieldType;
  /** Sampled records that have a value for it. */
  count: number;
  top: { value: string; count: number }[];
}

export interface FieldDiscovery {
  sampled: number;
  fields: DiscoveredField[];
  note?: string;
}

interface Acc {
  types: Set<FieldType>;
  count: number;
  values: Map<string, number>;
}

function typeOf(name: string, v: unknown): FieldType {
  if (name === '@timestamp' || name === '@ingestionTime') return 'time';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (typeof v === 'boolean') return 'boolean';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return 'string';
}

/** Adds one record's leaves (and containers) under dotted names. */
function visit(acc: Map<string, Acc>, name: string, v: unknown, depth: number): void {
  if (v === undefined || v === null) return;
  let a = acc.get(name);
  if (!a) {
    if (acc.size >= MAX_FIELDS) return;
    a = { types: new Set(), count: 0, values: new Map() };
    acc.set(name, a);
  }
  const t = typeOf(name, v);
  a.types.add(t);
  a.count++;
  if (t !== 'object' && t !== 'array') {
    const s = String(v).slice(0, MAX_VALUE_CHARS);
    const n = a.values.get(s);
    if (n !== undefined) a.values.set(s, n + 1);
    else if (a.values.size < MAX_TRACKED_VALUES) a.values.set(s, 1);
  }
  if (depth >= MAX_DEPTH || (t !== 'object' && t !== 'array')) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) visit(acc, `${name}.${i}`, v[i], depth + 1);
  } else {
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      visit(acc, `${name}.${k}`, x, depth + 1);
  }
}

export function summarise(rows: Iterable<Row>): FieldDiscovery {
  const acc = new Map<string, Acc>();
  let sampled = 0;
  for (const r of rows) {
    sampled++;
    for (const [k, v] of Object.entries(r)) visit(acc, k, v, 0);
  }
  const fields: DiscoveredField[] = [...acc.entries()].map(([name, a]) => ({
    name,
    type: a.types.size === 1 ? ([...a.types][0] as FieldType) : 'mixed',
    count: a.count,
    top: [...a.values.entries()]
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      .slice(0, TOP_VALUES)
      .map(([value, count]) => ({ value, count })),
  }));
  fields.sort((x, y) => {
    const sx = x.name.startsWith('@') ? 0 : 1;
    const sy = y.name.startsWith('@') ? 0 : 1;
    return sx - sy || y.count - x.count || (x.name < y.name ? -1 : 1);
  });
  return { sampled, fields };
}

export async function discoverFields(opts: {
  from: string;
  start?: string;
  end?: string;
  now: number;
  threads?: number;
}): Promise<FieldDiscovery> {
  const range = parseTimeRange(opts.start, opts.end, opts.now);
  if (sourceKind(opts.from) === 'opensearch') return discoverOpenSearch(opts.from, range);
  const compiled = compileQuery(`limit ${SAMPLE_RECORDS}`, { now: opts.now });
  const listed = await listArchive(opts.from, compiled, range);
  // Newest objects first: keys carry their time (date path, object name), so the key order is time order.
  const targets = [...listed.targets]
    .sort((a, b) => (a.info.key < b.info.key ? 1 : -1))
    .slice(0, SAMPLE_OBJECTS);
  const ac = new AbortController();
  const scan = new ArchiveScan(targets, {
    compiled,
    queryText: `limit ${SAMPLE_RECORDS}`,
    now: opts.now,
    range,
    threads: 0,
    signal: ac.signal,
  });
  const rows: Row[] = [];
  try {
    for await (const r of scan.rows()) {
      rows.push(r);
      if (rows.length >= SAMPLE_RECORDS) break;
    }
  } finally {
    ac.abort();
  }
  return summarise(rows);
}

/**
 * OpenSearch: the newest SAMPLE_RECORDS documents of the range (one search, sorted by @timestamp),
 * read as the query engine reads hits, summarised like an archive sample.
 */
async function discoverOpenSearch(
  from: string,
  range: { startMs?: number; endMs?: number },
): Promise<FieldDiscovery> {
  const { client, target } = await openSearchClient(from);
  // The query engine's search query with no filters: just the time range.
  const { query } = buildSearchQuery([], new Map(), range);
  try {
    const res = await client.search({
      index: target.index,
      size: SAMPLE_RECORDS,
      ignore_unavailable: true,
      allow_no_indices: true,
      body: { query, sort: [{ '@timestamp': { order: 'desc', unmapped_type: 'date' } }] },
    });
    const hits = (res.body as { hits?: { hits?: { _source?: Row }[] } }).hits?.hits ?? [];
    return summarise(hits.map((h) => hitToRow({ ...(h._source ?? {}) })));
  } catch (e) {
    throw new LogferryError(
      'SOURCE_FAILED',
      `field discovery in ${target.node}/${target.index}: ${(e as Error).message}; check that OpenSearch is reachable and the index pattern matches`,
      { cause: e },
    );
  } finally {
    await client.close().catch(() => {});
  }
}
