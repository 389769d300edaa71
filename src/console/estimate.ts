/**
 * "Before running, an estimate of what will be scanned": the objects and bytes a query's scan would
 * read after key pruning, from a listing only. OpenSearch decides its own plan, so for an index
 * the estimate says so instead of guessing.
 */
import { parseTimeRange, sourceKind } from '../query/backends/index.js';
import { compileQuery } from '../query/index.js';
import { listArchive } from './archive.js';

export interface ScanEstimate {
  source: 'local' | 's3' | 'opensearch';
  objects?: number;
  /** Stored (usually gzip) bytes the scan would read. */
  bytes?: number;
  objectsListed?: number;
  objectsPruned?: number;
  prunedPrefixes?: number;
  note?: string;
}

export async function estimateScan(opts: {
  from: string;
  query: string;
  start?: string;
  end?: string;
  now: number;
}): Promise<ScanEstimate> {
  const kind = sourceKind(opts.from);
  const compiled = compileQuery(opts.query, { now: opts.now });
  if (kind === 'opensearch')
    return { source: kind, note: 'OpenSearch plans the search itself; filters are pushed down where exact' };
  const range = parseTimeRange(opts.start, opts.end, opts.now);
  const listed = await listArchive(opts.from, compiled, range);
  let bytes = 0;
  for (const t of listed.targets) bytes += t.size ?? 0;
  return {
    source: kind,
    objects: listed.targets.length,
    bytes,
    objectsListed: listed.objectsListed,
    objectsPruned: listed.objectsPruned,
    prunedPrefixes: listed.prunedPrefixes,
  };
}
