/**
 * Runs a Logs Insights query against where logferry ships logs: a local archive (default
 * `./logferry-data`, what `logferry run` writes), an S3 archive (`s3://bucket/prefix`) or an
 * OpenSearch index pattern (`opensearch://host:port/pattern`, `opensearchs://` for TLS). Archives are
 * pruned by key and scanned in parallel (scan.ts); OpenSearch gets the exact part of the filters as
 * query DSL (opensearch.ts). Every reader reports progress (objects, bytes, records).
 */
import { LogferryError } from '../../core/errors.js';
import { compileQuery } from '../index.js';
import { resolveSubqueries } from '../compile.js';
import { loadLookupTables } from '../lookup/table.js';
import type { CompiledQuery, QueryResult, Row } from '../types.js';
import { baselineWindow, diffCommandOf, withBaseline } from '../pattern/diff.js';
import { WINDOW_FIELD } from '../pattern/operator.js';
import { listArchiveSource } from './listing.js';
import {
  ArchiveScan,
  DEFAULT_PRUNE_SLACK_MS,
  incompleteReasons,
  type ScanProgress,
  type ScanTarget,
} from './scan.js';
import { parseTimeRange, type TimeRange } from './time-range.js';

export { parseTimeArg, parseTimeRange, type TimeRange } from './time-range.js';
export type { ScanProgress } from './scan.js';
export { incompleteReasons } from './scan.js';
export { DEFAULT_MAX_LINE_BYTES } from './scan-object.js';

export const DEFAULT_FROM = './logferry-data';

import type { LiveScan, QueryRun, RunQueryOptions, SourceKind } from './run-types.js';

export type { LiveScan, QueryRun, RunQueryOptions, SourceKind } from './run-types.js';

function envBytes(name: string): number | undefined {
  const v = process.env[name];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

export function sourceKind(from: string): SourceKind {
  if (/^s3:\/\//i.test(from)) return 's3';
  if (/^opensearchs?:\/\//i.test(from)) return 'opensearch';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(from) && !/^file:\/\//i.test(from)) {
    throw new LogferryError(
      'CONFIG_INVALID',
      `--from ${from}: unknown scheme; use a local directory or file, s3://bucket/prefix, or opensearch://host:port/index-pattern (opensearchs:// for TLS)`,
    );
  }
  return 'local';
}

async function* tap(
  rows: AsyncIterable<Row>,
  progress: ScanProgress,
  onProgress?: (p: ScanProgress) => void,
  onRow?: (row: Row) => void,
): AsyncGenerator<Row> {
  let n = 0;
  for await (const r of rows) {
    if (onProgress && (++n & 1023) === 0) onProgress(progress);
    onRow?.(r);
    yield r;
  }
}

export async function runQuery(opts: RunQueryOptions): Promise<QueryRun> {
  const now = opts.now ?? Date.now();
  const from = opts.from ?? DEFAULT_FROM;
  const kind = sourceKind(from);
  const range = parseTimeRange(opts.start, opts.end, now);
  const lookups = await loadLookupTables(opts.lookups ?? [], opts.signal);
  const compiled = compileQuery(opts.query, { now, start: range.startMs, end: range.endMs, lookups });
  const slackMs = opts.pruneSlackMs ?? DEFAULT_PRUNE_SLACK_MS;
  const diff = diffCommandOf(compiled.ast);
  const baseRange = diff ? baselineWindow(diff, range, now) : undefined;
  if (kind === 'opensearch') {
    if (diff)
      throw new LogferryError(
        'CONFIG_INVALID',
        'diff/logcompare read archives (a local directory or s3://); not OpenSearch yet',
      );
    const { runOpenSearchQuery } = await import('./opensearch.js');
    return runOpenSearchQuery({ ...opts, from, now, range, compiled, lookupTables: lookups });
  }
  const listing = await listArchiveSource(from, {
    filters: compiled.pushdownFilters,
    range,
    slackMs,
    signal: opts.signal,
  });
  const targets = listing.all;
  const prunedPrefixes = listing.prunedPrefixes;
  const unreadable = listing.unreadable;
  const notes: string[] = [];
  if (listing.ignored.length)
    notes.push(
      `${listing.ignored.length} entr${listing.ignored.length === 1 ? 'y is' : 'ies are'} neither a file nor a directory (FIFO, socket, device) and were not read: ${listing.ignored.slice(0, 5).join(', ')}${listing.ignored.length > 5 ? ', …' : ''}`,
    );
  // A local listing does not depend on the filters or the window (the scan prunes); an S3 listing
  // prunes prefixes by them, so a subquery or a baseline window lists again with its own.
  const targetsFor = async (
    filters: CompiledQuery['pushdownFilters'],
    r: TimeRange,
  ): Promise<ScanTarget[]> =>
    kind === 's3'
      ? (await listArchiveSource(from, { filters, range: r, slackMs, signal: opts.signal })).all
      : targets;
  const scanOpts = {
    compiled,
    queryText: opts.query,
    now,
    range,
    threads: opts.threads,
    pruneSlackMs: slackMs,
    inlineMaxBytes: opts.inlineMaxBytes ?? envBytes('LOGFERRY_QUERY_INLINE_MAX_BYTES'),
    maxLineBytes: opts.maxLineBytes,
    signal: opts.signal,
    pointers: opts.pointers,
  };
  // Subqueries (join, appendcols, x in (…)) run first, each a scan of the same source and time range
  // with its own push-down (its SOURCE prunes by @log like the query's does).
  const subIncomplete: string[] = [];
  let subRecords = 0;
  await resolveSubqueries(compiled.subqueries, async (plan) => {
    const subTargets = await targetsFor(plan.compiled.pushdownFilters, range);
    const sub = new ArchiveScan(subTargets, { ...scanOpts, compiled: plan.compiled, queryText: plan.text });
    const result = await plan.compiled.finish(sub.rows(), { signal: opts.signal });
    subRecords += sub.progress.recordsScanned;
    for (const r of incompleteReasons(sub.progress)) subIncomplete.push(`subquery: ${r}`);
    return result;
  });
  if (compiled.subqueries.length)
    notes.push(`subqueries read ${subRecords} record(s) before the query (same source and time range)`);
  const scan = new ArchiveScan(targets, scanOpts);
  // diff/logcompare: the baseline window is read from the same source after the current one.
  const baseline = baseRange
    ? new ArchiveScan(await targetsFor(compiled.pushdownFilters, baseRange), {
        ...scanOpts,
        range: baseRange,
      })
    : undefined;
  for (const u of unreadable) {
    scan.progress.objectsFailed++;
    if (scan.progress.failures.length < 5) scan.progress.failures.push(`${u} (directory not read)`);
  }
  const timer = opts.onProgress ? setInterval(() => opts.onProgress?.(scan.progress), 100) : undefined;
  try {
    const rows = baseline ? withBaseline(scan.rows(), baseline.rows(), WINDOW_FIELD) : scan.rows();
    const live: LiveScan = {
      compiled,
      range,
      source: kind,
      progress: scan.progress,
      histogram: scan.histogram,
    };
    const onRow = opts.onRow ? (r: Row) => opts.onRow?.(r, live) : undefined;
    const result = await compiled.finish(tap(rows, scan.progress, opts.onProgress, onRow), {
      signal: opts.signal,
      ...(opts.pointers ? { keep: ['@ptr'] } : {}),
    });
    result.stats = {
      recordsScanned: scan.progress.recordsScanned,
      recordsMatched: scan.progress.recordsMatched,
    };
    if (prunedPrefixes) notes.push(`${prunedPrefixes} prefix(es) pruned while listing`);
    if (targets.length === 0 && prunedPrefixes === 0)
      notes.push(`no archive objects under ${from}: is this where \`logferry run\` or the S3 sink writes?`);
    else if (scan.progress.objectsListed > 0 && scan.progress.objectsPruned === scan.progress.objectsListed)
      notes.push(
        'every object was pruned by its key (time range or @logStream filters); --prune-slack widens the time window',
      );
    return {
      result,
      compiled,
      source: kind,
      range,
      progress: scan.progress,
      histogram: scan.histogram,
      notes,
      incomplete: [...incompleteReasons(scan.progress), ...subIncomplete],
    };
  } finally {
    if (timer) clearInterval(timer);
  }
}
