/**
 * `stats` pushed down to OpenSearch aggregations, only where the answer is exactly what local
 * evaluation gives:
 *  - the query is `filter …* | stats … [by …] | …rest`, with nothing but filters before `stats`;
 *  - every filter translates exactly once its fields are known to be indexed (opensearch-dsl.ts,
 *    verified mode), aggregates are `count(*)`, `count(f)`, `sum`, `avg`, `min`, `max` of numeric
 *    fields, groups are keyword/numeric fields and `bin(<fixed period>)` (date_histogram on
 *    `@timestamp`, aligned on the epoch like the engine's `bin`);
 *  - a `_count` proves that no matching document lacks an indexed value for any field involved
 *    (documents whose fields exist only in a JSON `@message`, the sink's `@fields_json` fallback,
 *    values over `ignore_above`), otherwise the scroll path runs.
 * Buckets come from a `composite` aggregation (paged with `after_key`, no bucket cap). Each bucket
 * becomes one row; the engine then runs a `stats` that re-aggregates one row per group (the identity:
 * `sum` of one count, `avg` of one average…) followed by the query's remaining commands, so column
 * names, ordering and later commands behave exactly as in a local run.
 */
import type { CallExpr, Command, Expr, FieldRef, Projection, QueryAst, StatsCommand } from '../ast.js';
import type { CompiledQuery, Row } from '../types.js';
import { type Dsl, keywordTarget, type MappingIndex, NUMERIC_TYPES, translate } from './opensearch-dsl.js';

const FIXED_UNITS = new Set(['ms', 's', 'm', 'h', 'd']);
const METRICS: Record<string, string> = { sum: 'sum', avg: 'avg', min: 'min', max: 'max' };

export interface AggPlan {
  /** Filter commands before `stats`, translated exactly (valid once `verifyFields` are proven indexed). */
  filters: Dsl[];
  verifyFields: string[];
  sources: Dsl[];
  /** How to put each composite source key into a row. */
  keyTo: ((row: Row, key: unknown) => void)[];
  metrics: { name: string; agg?: Dsl }[];
  /** The query the engine runs over one row per bucket. */
  rest: QueryAst;
}

function indexedName(mappings: MappingIndex, name: string, numericOnly: boolean): string | undefined {
  const m = mappings.get(name);
  if (!m || m === 'conflict') return undefined;
  if (NUMERIC_TYPES.has(m.type)) return name;
  // Values over `ignore_above` are covered by the `_count` proof, so only the target field matters.
  return numericOnly ? undefined : keywordTarget(m, name)?.field;
}

function field(name: string, like: Expr): FieldRef {
  return { kind: 'field', name, span: like.span };
}

export function planAggregation(compiled: CompiledQuery, mappings: MappingIndex): AggPlan | undefined {
  const cmds = compiled.ast.commands;
  const at = cmds.findIndex((c) => c.kind === 'stats');
  if (at < 0) return undefined;
  if (!cmds.slice(0, at).every((c) => c.kind === 'filter')) return undefined;
  const stats = cmds[at] as StatsCommand;
  // `by bin(…) offset …` shifts bins; the date_histogram below does not: run it locally.
  if (stats.offset) return undefined;
  const verify = new Set<string>();
  const filters: Dsl[] = [];
  for (const c of cmds.slice(0, at)) {
    if (c.kind !== 'filter') return undefined;
    const t = translate(c.expr, mappings, { verified: true, fields: verify });
    if (!t.exact || t.q.match_all) return undefined;
    filters.push(t.q);
  }
  const sources: Dsl[] = [];
  const keyTo: AggPlan['keyTo'] = [];
  for (const [i, p] of stats.by.entries()) {
    const e = p.expr;
    if (e.kind === 'field') {
      const f = indexedName(mappings, e.name, false);
      if (!f) return undefined;
      verify.add(f);
      sources.push({ [`g${i}`]: { terms: { field: f } } });
      keyTo.push((row, key) => {
        row[e.name] = key;
      });
    } else if (
      e.kind === 'call' &&
      e.name === 'bin' &&
      e.args.length === 1 &&
      e.args[0].kind === 'duration'
    ) {
      const d = e.args[0];
      if (!FIXED_UNITS.has(d.unit) || !(d.ms > 0)) return undefined;
      sources.push({ [`g${i}`]: { date_histogram: { field: '@timestamp', fixed_interval: `${d.ms}ms` } } });
      keyTo.push((row, key) => {
        row['@timestamp'] = key;
      });
    } else return undefined;
  }
  const metrics: AggPlan['metrics'] = [];
  const aggregates: Projection[] = [];
  for (const [i, p] of stats.aggregates.entries()) {
    const e = p.expr;
    if (e.kind !== 'call') return undefined;
    const name = `__lf_m${i}`;
    let reagg: string;
    if (e.name === 'count' && (e.star || e.args.length === 0)) {
      metrics.push({ name });
      reagg = 'sum';
    } else if (e.name === 'count' && e.args.length === 1 && e.args[0].kind === 'field') {
      const f = indexedName(mappings, e.args[0].name, false);
      if (!f) return undefined;
      verify.add(f);
      metrics.push({ name, agg: { value_count: { field: f } } });
      reagg = 'sum';
    } else if (METRICS[e.name] && e.args.length === 1 && e.args[0].kind === 'field') {
      const f = indexedName(mappings, e.args[0].name, true);
      if (!f) return undefined;
      verify.add(f);
      metrics.push({ name, agg: { [METRICS[e.name]]: { field: f } } });
      reagg = e.name;
    } else return undefined;
    const call: CallExpr = {
      kind: 'call',
      name: reagg,
      rawName: reagg,
      args: [field(name, e)],
      span: e.span,
    };
    aggregates.push({ expr: call, alias: p.name, name: p.name, span: p.span });
  }
  const restStats: StatsCommand = { kind: 'stats', aggregates, by: stats.by, span: stats.span };
  const rest: QueryAst = { ...compiled.ast, commands: [restStats as Command, ...cmds.slice(at + 1)] };
  return { filters, verifyFields: [...verify], sources, keyTo, metrics, rest };
}
