/**
 * Listing an archive (local directory or s3://) the way `logferry query` does, for the console's
 * scan estimate and field discovery: the same key pruning (time window, stream/component filters)
 * the scan applies, without reading any object.
 */
import { listLocal } from '../query/backends/local.js';
import { mayMatch } from '../query/backends/prune.js';
import { listS3 } from '../query/backends/s3.js';
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
  const slackMs = DEFAULT_PRUNE_SLACK_MS;
  let all: ScanTarget[];
  let prunedPrefixes = 0;
  if (/^s3:\/\//i.test(from)) {
    const listed = await listS3(from, { filters: compiled.pushdownFilters, range, slackMs, signal });
    all = listed.targets;
    prunedPrefixes = listed.prunedPrefixes;
  } else {
    all = (await listLocal(from.replace(/^file:\/\//i, ''))).targets;
  }
  const targets = all.filter((t) => mayMatch(t.info, compiled.pushdownFilters, range, slackMs));
  return { targets, objectsListed: all.length, objectsPruned: all.length - targets.length, prunedPrefixes };
}
