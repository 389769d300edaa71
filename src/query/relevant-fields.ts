/**
 * `relevantfields [f, …] where condition` (CWL_QuerySyntax-RelevantFields): which fields tell the
 * rows that meet the condition apart from the rest (the baseline). AWS documents the output columns
 * but not the score; logferry's score, on a 0–1 scale, is deterministic:
 *   - numeric field (every present value a number or number-like text): the two-sample
 *     Kolmogorov–Smirnov statistic between the condition's and the baseline's values, with
 *     `@conditionalMedian` / `@baselineMedian`;
 *   - other fields: the total variation distance between the two value distributions, where
 *     "missing" counts as a value (a field present only when the condition holds scores high), with
 *     `@topRelevanceContributors`: the (up to) 3 values whose share changed most, each
 *     `{value, conditionRatio, baselineRatio}`.
 * Rows are newest first (score descending, then field name). Without a field list every field is
 * analysed (nested maps flattened to dotted names, 3 levels) except `@timestamp`, `@message`,
 * `@ptr` and `@ingestionTime`. Memory is bounded: at most 200 fields, 1,000 distinct values per field
 * (the rest pooled as "(other)") and 10,000 numbers per side (a seeded reservoir sample beyond that).
 * With no condition rows or no baseline rows there is nothing to compare and no row is returned.
 */
import { mulberry32 } from '../core/prng.js';
import type { RelevantfieldsCommand } from './ast.js';
import { compileExpr, type ExprContext } from './compile-expr.js';
import type { Sink } from './stateful-commands.js';
import type { Row } from './types.js';
import { fieldGetter, isMissing, jsonText, toNumber, toStr, truthy } from './values.js';

export const RELEVANTFIELDS_COLUMNS = [
  '@fieldName',
  '@relevanceScore',
  '@topRelevanceContributors',
  '@conditionalMedian',
  '@baselineMedian',
];
export const RELEVANTFIELDS_MAX_FIELDS = 200;
export const RELEVANTFIELDS_MAX_VALUES = 1_000;
export const RELEVANTFIELDS_SAMPLE = 10_000;
const SKIP = new Set(['@timestamp', '@message', '@ptr', '@ingestionTime']);
const MISSING = '(missing)';
const OTHER = '(other)';

class Side {
  rows = 0;
  counts = new Map<string, number>();
  nums: number[] = [];
  seen = 0;
}

interface FieldStats {
  numeric: boolean;
  sides: [Side, Side];
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function ks(a: number[], b: number[]): number {
  if (!a.length || !b.length) return 1;
  const x = a.slice().sort((p, q) => p - q);
  const y = b.slice().sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= v) i++;
    while (j < y.length && y[j] <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

function flatten(row: Row, out: Map<string, unknown>, prefix = '', depth = 0): void {
  for (const [k, v] of Object.entries(row)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (!prefix && SKIP.has(k)) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 2)
      flatten(v as Row, out, name, depth + 1);
    else out.set(name, v);
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function relevantfieldsOperator(c: RelevantfieldsCommand, ctx: ExprContext, next: Sink): Sink {
  const cond = compileExpr(c.where, ctx);
  const listed = c.fields.length ? c.fields.map((f) => [f, fieldGetter(f)] as const) : undefined;
  const stats = new Map<string, FieldStats>();
  const totals: [number, number] = [0, 0];
  const random = mulberry32(0x5eed);
  const record = (name: string, v: unknown, side: number) => {
    let fs = stats.get(name);
    if (!fs) {
      if (stats.size >= RELEVANTFIELDS_MAX_FIELDS) return;
      fs = { numeric: true, sides: [new Side(), new Side()] };
      stats.set(name, fs);
    }
    const s = fs.sides[side];
    s.rows++;
    if (isMissing(v)) return;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? toNumber(v) : Number.NaN;
    if (Number.isNaN(n)) fs.numeric = false;
    else {
      s.seen++;
      if (s.nums.length < RELEVANTFIELDS_SAMPLE) s.nums.push(n);
      else {
        const j = Math.floor(random() * s.seen);
        if (j < RELEVANTFIELDS_SAMPLE) s.nums[j] = n;
      }
    }
    const key = typeof v === 'object' ? jsonText(v) : toStr(v);
    const cur = s.counts.get(key);
    if (cur !== undefined) s.counts.set(key, cur + 1);
    else if (s.counts.size < RELEVANTFIELDS_MAX_VALUES) s.counts.set(key, 1);
    else s.counts.set(OTHER, (s.counts.get(OTHER) ?? 0) + 1);
  };
  const flat = new Map<string, unknown>();
  return {
    push(row) {
      const side = truthy(cond(row)) ? 0 : 1;
      totals[side]++;
      if (listed) for (const [name, g] of listed) record(name, g(row), side);
      else {
        flat.clear();
        flatten(row, flat);
        for (const [name, v] of flat) record(name, v, side);
      }
      return true;
    },
    end() {
      const out: Row[] = [];
      if (totals[0] > 0 && totals[1] > 0) {
        for (const [name, fs] of stats) {
          const [c0, b0] = fs.sides;
          // Rows that lacked the field (never recorded) count as missing.
          const missC = totals[0] - c0.rows;
          const missB = totals[1] - b0.rows;
          const presentC = c0.rows - [...c0.counts.values()].reduce((a, b) => a + b, 0);
          const presentB = b0.rows - [...b0.counts.values()].reduce((a, b) => a + b, 0);
          const mC = missC + presentC;
          const mB = missB + presentB;
          const numeric = fs.numeric && (c0.nums.length > 0 || b0.nums.length > 0);
          if (numeric) {
            const score = ks(c0.nums, b0.nums);
            out.push({
              '@fieldName': name,
              '@relevanceScore': round3(score),
              '@topRelevanceContributors': null,
              '@conditionalMedian': median(c0.nums),
              '@baselineMedian': median(b0.nums),
            });
            continue;
          }
          const values = new Set([...c0.counts.keys(), ...b0.counts.keys()]);
          const shifts: { value: string; conditionRatio: number; baselineRatio: number; d: number }[] = [];
          let tv = 0;
          const add = (value: string, nc: number, nb: number) => {
            const pc = nc / totals[0];
            const pb = nb / totals[1];
            tv += Math.abs(pc - pb);
            shifts.push({
              value,
              conditionRatio: round3(pc),
              baselineRatio: round3(pb),
              d: Math.abs(pc - pb),
            });
          };
          for (const v of values) add(v, c0.counts.get(v) ?? 0, b0.counts.get(v) ?? 0);
          if (mC || mB) add(MISSING, mC, mB);
          shifts.sort((a, b) => b.d - a.d || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
          out.push({
            '@fieldName': name,
            '@relevanceScore': round3(tv / 2),
            '@topRelevanceContributors': shifts
              .slice(0, 3)
              .filter((s) => s.d > 0)
              .map(({ value, conditionRatio, baselineRatio }) => ({ value, conditionRatio, baselineRatio })),
            '@conditionalMedian': null,
            '@baselineMedian': null,
          });
        }
      }
      out.sort((a, b) => {
        const d = (b['@relevanceScore'] as number) - (a['@relevanceScore'] as number);
        if (d) return d;
        return (a['@fieldName'] as string) < (b['@fieldName'] as string) ? -1 : 1;
      });
      for (const r of out) if (!next.push(r)) break;
      next.end();
    },
  };
}
