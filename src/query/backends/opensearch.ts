/**
 * `--from opensearch://host:port/index-pattern` (`opensearchs://` for TLS): runs a query against
 * documents the opensearch sink wrote (`toDocument(r, 'iso')`). The push-down filters and the
 * `--start`/`--end` range become query DSL (opensearch-dsl.ts — sound, and exact where it can be);
 * matching documents are read with a scroll (sorted by `_doc`, the cheapest order) and the query's
 * row stage and stateful rest run locally, so results equal a local evaluation of the same
 * documents. Subqueries (join, appendcols, `x in (…)`) are each a search of the same index pattern
 * and time range with their own push-down, finished by the same engine before the query runs. Credentials: user/password in the URL, or `LOGFERRY_OPENSEARCH_USERNAME` /
 * `LOGFERRY_OPENSEARCH_PASSWORD`, each a value or a secret reference (`ssm:/…`,
 * `secretsmanager:…`, `env:…`); never logged.
 */
import { Client } from '@opensearch-project/opensearch';
import { isSecretRef, sharedSecretResolver } from '../../aws/secrets.js';
import { describeError, LogferryError } from '../../core/errors.js';
import { resolveSubqueries } from '../compile.js';
import { compileQuery } from '../index.js';
import type { CompiledQuery, LookupTableData, QueryResult, Row } from '../types.js';
import { toEpochMs } from './decode.js';
import type { QueryRun, RunQueryOptions } from './run-types.js';
import { type AggPlan, planAggregation } from './opensearch-aggs.js';
import { buildSearchQuery, type Dsl, FALLBACK_FIELD, indexMappings } from './opensearch-dsl.js';
import { incompleteReasons, newProgress, type ScanProgress } from './scan.js';
import type { TimeRange } from './time-range.js';
import { SYSTEM_FIELDS } from '../../core/document.js';

/** Hits per scroll page. `index.max_result_window` (10,000) bounds `size`. */
export const SCROLL_PAGE_SIZE = 2_000;
const SCROLL_KEEP_ALIVE = '2m';

export interface OpenSearchTarget {
  node: string;
  index: string;
  username?: string;
  password?: string;
}

export function parseOpenSearchUrl(url: string): OpenSearchTarget {
  const m = /^(opensearchs?):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]+)\/(.+)$/.exec(url);
  if (!m)
    throw new LogferryError(
      'CONFIG_INVALID',
      `--from ${url.replace(/\/\/[^@/]*@/, '//…@')}: expected opensearch://host:port/index-pattern (opensearchs:// for TLS), e.g. opensearch://localhost:9200/logs-*`,
    );
  const t: OpenSearchTarget = {
    node: `${m[1] === 'opensearchs' ? 'https' : 'http'}://${m[4]}`,
    index: decodeURIComponent(m[5]),
  };
  if (m[2]) t.username = decodeURIComponent(m[2]);
  if (m[3] !== undefined) t.password = decodeURIComponent(m[3]);
  return t;
}

async function credential(v: string | undefined): Promise<string | undefined> {
  if (v === undefined) return undefined;
  return isSecretRef(v) ? sharedSecretResolver().resolve(v) : v;
}

/** An archived/indexed document → a query row (epoch-ms time, fallback fields restored). */
export function hitToRow(src: Row): Row {
  const row = src;
  const ts = row['@timestamp'];
  if (typeof ts !== 'number') {
    const ms = toEpochMs(ts);
    if (Number.isFinite(ms)) row['@timestamp'] = ms;
  }
  const fb = row[FALLBACK_FIELD];
  if (typeof fb === 'string') {
    try {
      const o = JSON.parse(fb) as Record<string, unknown>;
      for (const k in o) if (!SYSTEM_FIELDS.has(k) && !(k in row)) row[k] = o[k];
    } catch {
      // keep it as stored
    }
  }
  let hasFields = false;
  for (const k in row) if (!SYSTEM_FIELDS.has(k)) hasFields = true;
  const msg = row['@message'];
  if (!hasFields && typeof msg === 'string' && msg.trimStart().startsWith('{')) {
    try {
      const o = JSON.parse(msg);
      if (o && typeof o === 'object' && !Array.isArray(o))
        for (const k in o) if (!SYSTEM_FIELDS.has(k) && !(k in row)) row[k] = o[k];
    } catch {
      // not JSON after all
    }
  }
  return row;
}

export async function openSearchClient(url: string): Promise<{ client: Client; target: OpenSearchTarget }> {
  const target = parseOpenSearchUrl(url);
  const username = await credential(target.username ?? process.env.LOGFERRY_OPENSEARCH_USERNAME);
  const password = await credential(target.password ?? process.env.LOGFERRY_OPENSEARCH_PASSWORD);
  const client = new Client({
    node: target.node,
    auth: username !== undefined ? { username, password: password ?? '' } : undefined,
    maxRetries: 2,
    requestTimeout: 60_000,
  });
  return { client, target };
}

function explainError(e: unknown, target: OpenSearchTarget): LogferryError {
  const status = (e as { meta?: { statusCode?: number } })?.meta?.statusCode;
  const hint =
    status === 401 || status === 403
      ? 'check the credentials (user:password in the URL, or LOGFERRY_OPENSEARCH_USERNAME/PASSWORD, which may be ssm:/… or secretsmanager:… references)'
      : status === 404
        ? `no index matches '${target.index}'; check the index pattern (the sink writes logs-YYYY.MM.dd by default)`
        : `check that OpenSearch is reachable at ${target.node} (opensearchs:// for TLS)`;
  return new LogferryError(
    'SOURCE_FAILED',
    `opensearch ${target.node}/${target.index}: ${describeError(e)}; ${hint}`,
    { cause: e },
  );
}

export async function runOpenSearchQuery(
  opts: RunQueryOptions & {
    from: string;
    now: number;
    range: TimeRange;
    compiled: CompiledQuery;
    lookupTables?: ReadonlyMap<string, LookupTableData>;
  },
): Promise<QueryRun> {
  const { compiled, range, signal } = opts;
  const { client, target } = await openSearchClient(opts.from);
  const progress: ScanProgress = newProgress();
  const histogram = new Map<number, number>();
  const notes: string[] = [];
  try {
    let mappingBody: Record<string, { mappings?: { properties?: Record<string, unknown> } }>;
    try {
      const res = await client.indices.getMapping({
        index: target.index,
        ignore_unavailable: true,
        allow_no_indices: true,
      });
      mappingBody = res.body as typeof mappingBody;
    } catch (e) {
      throw explainError(e, target);
    }
    const mappings = indexMappings(mappingBody);
    const { query, pushed, exact } = buildSearchQuery(compiled.pushdownFilters, mappings, range);
    notes.push(
      `${pushed} of ${compiled.pushdownFilters.length} filter(s) pushed down to OpenSearch${pushed ? (exact && pushed === compiled.pushdownFilters.length ? ' (exactly)' : ' (as a pre-filter)') : ''}; the rest runs locally`,
    );
    progress.objectsListed = Object.keys(mappingBody).length;

    // join, appendcols and `x in (…)`: each subquery is its own search over the same index pattern and
    // time range (its filters pushed down as the query's are), its rest evaluated by the local engine.
    if (compiled.subqueries.length) {
      let subRecords = 0;
      const subProgress = newProgress();
      await resolveSubqueries(compiled.subqueries, async (sub) => {
        const built = buildSearchQuery(sub.compiled.pushdownFilters, mappings, range);
        const before = subProgress.recordsScanned;
        const r = await sub.compiled.finish(
          searchRows(client, target, sub.compiled, built.query, subProgress, undefined, signal),
          { signal },
        );
        subRecords += subProgress.recordsScanned - before;
        return r;
      });
      progress.bytesIn += subProgress.bytesIn;
      progress.objectsFailed += subProgress.objectsFailed;
      for (const f of subProgress.failures)
        if (progress.failures.length < 5) progress.failures.push(`subquery: ${f}`);
      notes.push(
        `subqueries read ${subRecords} document(s) before the query (same index pattern and time range)`,
      );
    }
    // Aggregation push-down recompiles what follows stats; with subqueries the query runs locally.
    const plan = compiled.subqueries.length ? undefined : planAggregation(compiled, mappings);
    if (plan) {
      const agg = await aggregate(client, target, plan, query, progress, notes, {
        now: opts.now,
        start: range.startMs,
        end: range.endMs,
        lookups: opts.lookupTables,
      }).catch((e) => {
        throw e instanceof LogferryError ? e : explainError(e, target);
      });
      if (agg)
        return {
          result: agg,
          compiled,
          source: 'opensearch',
          range,
          progress,
          histogram,
          notes,
          incomplete: incompleteReasons(progress),
        };
    }

    const result = await compiled.finish(
      searchRows(client, target, compiled, query, progress, histogram, signal, opts.onProgress),
      { signal },
    );
    progress.bytesText = progress.bytesIn;
    result.stats = { recordsScanned: progress.recordsScanned, recordsMatched: progress.recordsMatched };
    return {
      result,
      compiled,
      source: 'opensearch',
      range,
      progress,
      histogram,
      notes,
      incomplete: incompleteReasons(progress),
    };
  } finally {
    await client.close().catch(() => {});
  }
}

/**
 * The documents matching `query`, scrolled (sorted by `_doc`, the cheapest order) and passed through
 * `compiled`'s row stage: what the local engine finishes, as it finishes an archive scan.
 */
async function* searchRows(
  client: Client,
  target: OpenSearchTarget,
  compiled: CompiledQuery,
  query: Dsl,
  progress: ScanProgress,
  histogram: Map<number, number> | undefined,
  signal?: AbortSignal,
  onProgress?: (p: ScanProgress) => void,
): AsyncGenerator<Row> {
  let scrollId: string | undefined;
  try {
    let res = await client.search({
      index: target.index,
      scroll: SCROLL_KEEP_ALIVE,
      size: SCROLL_PAGE_SIZE,
      ignore_unavailable: true,
      allow_no_indices: true,
      body: { query, sort: ['_doc'] },
    });
    for (;;) {
      signal?.throwIfAborted();
      const body = res.body as { _scroll_id?: string; hits: { hits: { _source?: Row }[] } };
      noteShardFailures(res.body, progress);
      scrollId = body._scroll_id;
      const hits = body.hits.hits;
      progress.bytesIn += bytesOf(res);
      if (hits.length === 0) break;
      progress.objectsDone++;
      for (const h of hits) {
        if (!h._source) continue;
        progress.recordsScanned++;
        const row = hitToRow(h._source);
        const ts = row['@timestamp'] as number;
        const out = compiled.rowStage(row);
        if (out === null) continue;
        progress.recordsMatched++;
        if (histogram && Number.isFinite(ts)) {
          const m = ts - (ts % 60_000);
          histogram.set(m, (histogram.get(m) ?? 0) + 1);
        }
        yield out;
      }
      onProgress?.(progress);
      if (!scrollId) break;
      res = await client.scroll({ scroll_id: scrollId, scroll: SCROLL_KEEP_ALIVE });
    }
  } catch (e) {
    if (e instanceof LogferryError || signal?.aborted) throw e;
    throw explainError(e, target);
  } finally {
    if (scrollId) await client.clearScroll({ scroll_id: scrollId }).catch(() => {});
  }
}

const COMPOSITE_PAGE = 1_000;

/**
 * A search answered by only some shards (`_shards.failed`) or cut by a timeout is a partial answer:
 * counted as failed "objects" (shards) so the CLI reports it and exits non-zero.
 */
export function noteShardFailures(body: unknown, progress: ScanProgress): void {
  const b = body as {
    timed_out?: boolean;
    _shards?: {
      failed?: number;
      failures?: { index?: string; reason?: { reason?: string; type?: string } }[];
    };
  };
  const failed = Number(b?._shards?.failed ?? 0);
  if (failed > 0) {
    progress.objectsFailed += failed;
    const f = b._shards?.failures?.[0];
    const why = f?.reason?.reason ?? f?.reason?.type ?? 'no reason given';
    if (progress.failures.length < 5)
      progress.failures.push(`${failed} shard(s)${f?.index ? ` of ${f.index}` : ''} failed: ${why}`);
  }
  if (b?.timed_out) {
    progress.objectsFailed++;
    if (progress.failures.length < 5) progress.failures.push('the search timed out on some shards');
  }
}

function bytesOf(res: { headers?: unknown }): number {
  const len = Number((res.headers as Record<string, string> | undefined)?.['content-length']);
  return Number.isFinite(len) ? len : 0;
}

/**
 * Runs the planned aggregation, or returns undefined when it would not be exact (a matching
 * document lacks an indexed value) or there is nothing to aggregate — the scroll path then runs.
 */
async function aggregate(
  client: Client,
  target: OpenSearchTarget,
  plan: AggPlan,
  sound: Dsl,
  progress: ScanProgress,
  notes: string[],
  window: { now: number; start?: number; end?: number; lookups?: ReadonlyMap<string, LookupTableData> },
): Promise<QueryResult | undefined> {
  const base: Dsl = { bool: { filter: [sound, ...plan.filters] } };
  const count = async (query: Dsl) => {
    const res = await client.count({
      index: target.index,
      ignore_unavailable: true,
      allow_no_indices: true,
      body: { query },
    });
    progress.bytesIn += bytesOf(res);
    noteShardFailures(res.body, progress);
    return Number((res.body as { count: number }).count);
  };
  if (plan.verifyFields.length) {
    // Over the sound pre-filter, not `base`: a document lacking a value would fail the verified
    // filters there and hide exactly what this check must find.
    const missing = await count({
      bool: {
        filter: [sound],
        should: plan.verifyFields.map((f) => ({ bool: { must_not: { exists: { field: f } } } })),
        minimum_should_match: 1,
      },
    });
    if (missing > 0) {
      notes.push(
        `stats evaluated locally: ${missing} matching document(s) lack an indexed value for ${plan.verifyFields.join(', ')}`,
      );
      return undefined;
    }
  }
  const total = await count(base);
  if (total === 0) return undefined;
  const metricAggs: Dsl = {};
  for (const m of plan.metrics) if (m.agg) metricAggs[m.name] = m.agg;
  const rows: Row[] = [];
  type Bucket = { key?: Record<string, unknown>; doc_count: number } & Record<string, { value?: unknown }>;
  const toRow = (b: Bucket, docCount: number) => {
    const row: Row = {};
    plan.keyTo.forEach((put, i) => {
      put(row, b.key?.[`g${i}`]);
    });
    for (const m of plan.metrics) row[m.name] = m.agg ? (b[m.name]?.value ?? null) : docCount;
    return row;
  };
  if (plan.sources.length === 0) {
    const res = await client.search({
      index: target.index,
      ignore_unavailable: true,
      allow_no_indices: true,
      body: { size: 0, query: base, aggs: metricAggs },
    });
    progress.bytesIn += bytesOf(res);
    noteShardFailures(res.body, progress);
    rows.push(
      toRow(
        { doc_count: total, ...((res.body as { aggregations?: Bucket }).aggregations ?? {}) } as Bucket,
        total,
      ),
    );
  } else {
    let after: Record<string, unknown> | undefined;
    do {
      const res = await client.search({
        index: target.index,
        ignore_unavailable: true,
        allow_no_indices: true,
        body: {
          size: 0,
          query: base,
          aggs: {
            g: {
              composite: { size: COMPOSITE_PAGE, sources: plan.sources, ...(after ? { after } : {}) },
              aggs: metricAggs,
            },
          },
        } as Dsl,
      });
      progress.bytesIn += bytesOf(res);
      noteShardFailures(res.body, progress);
      progress.objectsDone++;
      const g = (
        res.body as { aggregations?: { g?: { buckets: Bucket[]; after_key?: Record<string, unknown> } } }
      ).aggregations?.g;
      const buckets = g?.buckets ?? [];
      for (const b of buckets) rows.push(toRow(b, b.doc_count));
      after = buckets.length === COMPOSITE_PAGE ? g?.after_key : undefined;
    } while (after);
  }
  const result = await compileQuery(plan.rest, window).execute(rows);
  progress.recordsScanned = total;
  progress.recordsMatched = total;
  progress.bytesText = progress.bytesIn;
  result.stats = { recordsScanned: total, recordsMatched: total };
  notes.push(
    `stats pushed down to OpenSearch as aggregations (${rows.length} group(s) over ${total} documents)`,
  );
  return result;
}
