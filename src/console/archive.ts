/**
 * Listing an archive (local directory or s3://) for the console's scan estimate and field discovery:
 * the query backends' listing (backends/listing.ts), so the console prunes exactly as
 * `logferry query` does (time window, stream/component filters) without reading any object.
 */
import { listArchiveSource } from '../query/backends/listing.js';
import { DEFAULT_PRUNE_SLACK_MS, type ScanTarget } from '../query/backends/scan.js';
import type { TimeRange } from '../query/backends/time-range.js';
import type { CompiledQuery } from '../query/index.js';

export interface ListedArchive {
  /** Objects the scan would read (after pruning). */
  targets: ScanTarget[];
  objectsListed: number;
  objectsPruned: number;
  /** S3 prefixes skipped while listing (never listed at all). */
  prunedPrefixes: number;
}

export async function listArchive(
  from: string,
  compiled: CompiledQuery,
  range: TimeRange,
  signal?: AbortSignal,
): Promise<ListedArchive> {
  const listed = await listArchiveSource(from, {
    filters: compiled.pushdownFilters,
    range,
    slackMs: DEFAULT_PRUNE_SLACK_MS,
    signal,
  });
  return {
    targets: listed.targets,
    objectsListed: listed.all.length,
    objectsPruned: listed.all.length - listed.targets.length,
    prunedPrefixes: listed.prunedPrefixes,
  };
}
