/**
 * How far V8 lets the heap grow past what the last full collection kept, for `logferry run`.
 *
 * A daemon's records live long enough (batches wait up to a second for a sink) to be copied into
 * V8's old generation, where only a full mark-compact frees them. On a machine with gigabytes of
 * memory V8 lets the old generation grow to up to 4× what the last mark-compact kept before it
 * collects again: a file → OpenSearch run keeping ~30 MB alive peaked at 240 MB RSS. Capping the
 * growth at 2× (`--heap-growing-percent=100`) brought it to 185 MB at the same client CPU time
 * (bench/file-to-opensearch.ts; a file → blackhole run, whose records die young, is unchanged).
 *
 * `LOGFERRY_HEAP_GROWING_PERCENT` changes it (`0`: V8's own policy); a `--heap-growing-percent`
 * given to node (command line or NODE_OPTIONS) wins.
 */
import { setFlagsFromString } from 'node:v8';
import { LogferryError } from '../core/errors.js';

export const DEFAULT_HEAP_GROWING_PERCENT = 100;
const FLAG = '--heap-growing-percent';

/** The percent `run` applies (undefined: leave V8 alone); throws CONFIG_INVALID on a bad value. */
export function heapGrowingPercent(
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
): number | undefined {
  if (execArgv.some((a) => a.startsWith(FLAG)) || (env.NODE_OPTIONS ?? '').includes(FLAG)) return undefined;
  const raw = env.LOGFERRY_HEAP_GROWING_PERCENT;
  if (raw === undefined || raw.trim() === '') return DEFAULT_HEAP_GROWING_PERCENT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 1000)
    throw new LogferryError(
      'CONFIG_INVALID',
      `LOGFERRY_HEAP_GROWING_PERCENT must be a whole number from 0 (V8's own policy) to 1000, got "${raw}"`,
    );
  return n === 0 ? undefined : n;
}

/** Applies `heapGrowingPercent()` to this process's V8 (read at every collection: takes effect now). */
export function tuneHeapGrowth(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const pct = heapGrowingPercent(env);
  if (pct !== undefined) setFlagsFromString(`${FLAG}=${pct}`);
  return pct;
}
