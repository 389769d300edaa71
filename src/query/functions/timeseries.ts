/**
 * Time-series aggregates of Logs Insights (`stats … by bin(…)`): `rate`, `count_over_time`,
 * `sum_over_time`, `histogram`. Reference:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-timeseries-functions.html
 * Each is an ordinary per-group accumulator, so the stats machinery needs nothing new: the window
 * is the group, which is one bin when the query groups `by bin(…)`.
 */
import type { Getter } from '../values.js';
import { isMissing, toEpochMs, toNumber } from '../values.js';

export interface TsAccumulator {
  add(row: Record<string, unknown>): void;
  result(): unknown;
}

/** `count_over_time(field)`: events in the group with a value for the field. */
export function countOverTime(get: Getter): () => TsAccumulator {
  return () => {
    let n = 0;
    return {
      add(row) {
        if (!isMissing(get(row))) n++;
      },
      result: () => n,
    };
  };
}

/** `sum_over_time(field)`: sum of the numeric values in the group; 0 when it has none (a count-like total). */
export function sumOverTime(get: Getter): () => TsAccumulator {
  return () => {
    let s = 0;
    return {
      add(row) {
        const v = toNumber(get(row));
        if (!Number.isNaN(v)) s += v;
      },
      result: () => s,
    };
  };
}

/**
 * `rate(field, interval)`: the per-interval rate of change of a numeric field over the group,
 * (value at the latest event − value at the earliest) ÷ (their time difference) × interval, as a
 * counter's rate is read. Null with fewer than two timed values or when they share one timestamp.
 */
export function rate(get: Getter, ts: Getter, intervalMs: number): () => TsAccumulator {
  return () => {
    let t0 = Number.POSITIVE_INFINITY;
    let v0 = 0;
    let t1 = Number.NEGATIVE_INFINITY;
    let v1 = 0;
    let n = 0;
    return {
      add(row) {
        const v = toNumber(get(row));
        if (Number.isNaN(v)) return;
        const t = toEpochMs(ts(row));
        if (t === null) return;
        n++;
        if (t < t0) {
          t0 = t;
          v0 = v;
        }
        if (t >= t1) {
          t1 = t;
          v1 = v;
        }
      },
      result: () => (n < 2 || t1 === t0 ? null : ((v1 - v0) / (t1 - t0)) * intervalMs),
    };
  };
}

/** Bucket label: `lo-hi` with numbers as JavaScript prints them (at most 6 significant digits). */
function label(lo: number, hi: number): string {
  const f = (x: number) => String(Number(x.toPrecision(6)));
  return `${f(lo)}-${f(hi)}`;
}

/**
 * `histogram(field, buckets)`: the group's numeric values in `buckets` equal-width ranges from their
 * minimum to their maximum (the last range includes the maximum), as a map from `lo-hi` to count.
 * All values equal: one bucket. No values: null.
 */
/** An accumulator keeping a group's numeric values, turned into the result once (pct, histogram). */
export function collectNumbers(get: Getter, result: (vals: number[]) => unknown): () => TsAccumulator {
  return () => {
    const vals: number[] = [];
    return {
      add(row) {
        const v = toNumber(get(row));
        if (!Number.isNaN(v)) vals.push(v);
      },
      result: () => (vals.length === 0 ? null : result(vals)),
    };
  };
}

export function histogram(get: Getter, buckets: number): () => TsAccumulator {
  return collectNumbers(get, (vals) => {
    let min = vals[0];
    let max = vals[0];
    for (const v of vals) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (min === max) return { [label(min, max)]: vals.length };
    const width = (max - min) / buckets;
    const counts = new Array<number>(buckets).fill(0);
    for (const v of vals) counts[Math.min(buckets - 1, Math.floor((v - min) / width))]++;
    const out: Record<string, number> = {};
    for (let i = 0; i < buckets; i++)
      out[label(min + i * width, i === buckets - 1 ? max : min + (i + 1) * width)] = counts[i];
    return out;
  });
}
