/**
 * Listing an archive `--from` (a local directory or file, or s3://bucket/prefix): the one place that
 * chooses the lister and applies the key pruning (time window, @logStream/@log/partition filters)
 * that the scan applies. `logferry query` (its main scan, subqueries and diff baselines) and the
 * console's scan estimate and field discovery all list through here.
 */
import type { Expr } from '../ast.js';
import { listLocal } from './local.js';
import { mayMatch } from './prune.js';
import { listS3 } from './s3.js';
import type { ScanTarget } from './scan.js';
import type { TimeRange } from './time-range.js';

export interface ArchiveListing {
  /** Every object listed (an S3 listing already skips the prefixes it pruned). */
  all: ScanTarget[];
  /** Objects whose key may hold matching records: what a scan reads. */
  targets: ScanTarget[];
  /** S3 prefixes skipped while listing (never listed at all). */
  prunedPrefixes: number;
  /** Local directories that could not be read (`path: reason`). */
  unreadable: string[];
  /** Local entries that are neither files nor directories, never opened. */
  ignored: string[];
}

export interface ArchiveListOptions {
  filters: Expr[];
  range: TimeRange;
  slackMs: number;
  signal?: AbortSignal;
}

export async function listArchiveSource(from: string, opts: ArchiveListOptions): Promise<ArchiveListing> {
  let all: ScanTarget[];
  let prunedPrefixes = 0;
  let unreadable: string[] = [];
  let ignored: string[] = [];
  if (/^s3:\/\//i.test(from)) {
    const listed = await listS3(from, opts);
    all = listed.targets;
    prunedPrefixes = listed.prunedPrefixes;
  } else {
    const listed = await listLocal(from.replace(/^file:\/\//i, ''));
    all = listed.targets;
    unreadable = listed.unreadable;
    ignored = listed.ignored;
  }
  const targets = all.filter((t) => mayMatch(t.info, opts.filters, opts.range, opts.slackMs));
  return { all, targets, prunedPrefixes, unreadable, ignored };
}
