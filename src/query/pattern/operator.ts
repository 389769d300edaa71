/**
 * The pattern-family commands as push operators of the query engine (see stateful-commands.ts):
 * `pattern X`, `diff`/`logcompare` and `anomaly` consume every row, cluster the values with
 * PatternClusterer (cluster.ts) and emit one row per pattern at the end. They run after the scan's
 * merge (in the stateful part of the query), and the clustering is order-independent, so results do
 * not depend on `--threads` or on how the input is split into files.
 *
 * Fusion: `pattern X | diff` clusters X over both windows; `pattern X | anomaly` adds anomaly columns;
 * a bare `diff` clusters `@message`. `anomaly` anywhere else is refused.
 */
import { LogferryError } from '../../core/errors.js';
import type { Command } from '../ast.js';
import { queryError } from '../parser.js';
import { compileExpr, type ExprContext } from '../compile-expr.js';
import type { Sink } from '../stateful-commands.js';
import type { Row } from '../types.js';
import { jsonText, toEpochMs } from '../values.js';
import { AnomalyTracker, anomalyColumns, anomalyRank, detectAnomalies } from './anomaly.js';
import type { AnomalyCommand, DiffCommand, PatternCommand } from './ast.js';
import { type PatternCluster, PatternClusterer } from './cluster.js';

/** Rows of diff's baseline window carry this field set to `'baseline'` (set by the reader). */
export const WINDOW_FIELD = '@logferry.window';

export const PATTERN_COLUMNS = ['@pattern', '@ratio', '@sampleCount', '@severityLabel', '@tokens'];
export const DIFF_COLUMNS = [
  '@pattern',
  '@severityLabel',
  '@currentCount',
  '@previousCount',
  '@change',
  '@changePercent',
  '@status',
  '@tokens',
];
export const ANOMALY_COLUMNS = ['@anomalyType', '@priority', '@description'];

/** Output columns after command `c`, given the columns before it. */
export function familyColumns(
  c: PatternCommand | DiffCommand | AnomalyCommand,
  before: string[] | undefined,
): string[] {
  if (c.kind === 'pattern') return PATTERN_COLUMNS;
  if (c.kind === 'diff') return DIFF_COLUMNS;
  return [...(before ?? PATTERN_COLUMNS), ...anomalyColumns()];
}

/** The token detail of one pattern, with the field names of AWS's PatternToken. */
export function tokensOf(c: PatternCluster<unknown>): Record<string, unknown>[] {
  return c.tokens.map((t) => ({
    dynamicTokenPosition: t.index,
    isDynamic: true,
    tokenString: t.name,
    inferredTokenName: t.type,
    enumerations: Object.fromEntries(t.values.map((v) => [v.value, v.count])),
    distinctValues: t.distinct,
    enumerationsComplete: t.exact,
  }));
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function patternRow(c: PatternCluster<unknown>, total: number): Row {
  return {
    '@pattern': c.pattern,
    '@ratio': total > 0 ? round(c.total / total, 6) : 0,
    '@sampleCount': c.total,
    '@severityLabel': c.severity,
    '@tokens': tokensOf(c),
  };
}

function diffRow(c: PatternCluster<unknown>): Row {
  const cur = c.counts[0];
  const prev = c.counts[1];
  return {
    '@pattern': c.pattern,
    '@severityLabel': c.severity,
    '@currentCount': cur,
    '@previousCount': prev,
    '@change': cur - prev,
    '@changePercent': prev > 0 ? round(((cur - prev) / prev) * 100, 1) : null,
    '@status':
      prev === 0
        ? 'new'
        : cur === 0
          ? 'gone'
          : cur > prev
            ? 'increased'
            : cur < prev
              ? 'decreased'
              : 'unchanged',
    '@tokens': tokensOf(c),
  };
}

function fail(text: string | undefined, c: Command, message: string): never {
  if (text !== undefined)
    throw queryError(text, [{ line: c.span.start.line, column: c.span.start.column, message }]);
  throw new LogferryError('QUERY_SYNTAX', message);
}

export interface FamilyPlan {
  factory: (next: Sink) => Sink;
  /** Commands after `rest[i]` fused into this operator. */
  consumed: number;
}

const MESSAGE_EXPR = {
  kind: 'field' as const,
  name: '@message',
  span: { start: { line: 1, column: 1, offset: 0 }, end: { line: 1, column: 1, offset: 0 } },
};

/** Plans the pattern-family command at `rest[i]` (with what fuses into it). */
export function planPatternFamily(rest: Command[], i: number, ctx: ExprContext, text?: string): FamilyPlan {
  const c = rest[i];
  let consumed = 0;
  let pattern: PatternCommand | undefined;
  let diff: DiffCommand | undefined;
  let anomaly: AnomalyCommand | undefined;
  if (c.kind === 'pattern') {
    pattern = c;
    const n = rest[i + 1];
    if (n?.kind === 'diff') {
      diff = n;
      consumed = 1;
    } else if (n?.kind === 'anomaly') {
      anomaly = n;
      consumed = 1;
    }
  } else if (c.kind === 'diff') diff = c;
  else if (c.kind === 'anomaly')
    fail(text, c, 'anomaly works on the patterns of `pattern`: write pattern @message | anomaly');
  const after = rest[i + 1 + consumed];
  if (after?.kind === 'anomaly')
    fail(
      text,
      after,
      'anomaly must directly follow pattern (pattern @message | anomaly); it does not combine with diff',
    );
  if (after?.kind === 'diff' || after?.kind === 'pattern')
    fail(text, after, `${after.kind} cannot follow ${diff ? 'diff' : 'pattern'}`);
  const get = compileExpr(pattern ? pattern.expr : MESSAGE_EXPR, ctx);
  return {
    consumed,
    factory: (next) =>
      familyOperator(get, next, { diff: diff !== undefined, anomaly: anomaly !== undefined }),
  };
}

function familyOperator(
  get: (row: Row) => unknown,
  next: Sink,
  mode: { diff: boolean; anomaly: boolean },
): Sink {
  const tracker = mode.anomaly ? new AnomalyTracker() : undefined;
  const clusterer = new PatternClusterer<unknown>({
    slots: mode.diff ? 2 : 1,
    ...(tracker ? { extra: tracker.extra, maxSignatures: tracker.maxSignatures } : {}),
  });
  let total = 0;
  return {
    push(row) {
      const v = get(row);
      if (v === undefined || v === null) return true;
      const text = typeof v === 'string' ? v : typeof v === 'object' ? jsonText(v) : String(v);
      const ts = toEpochMs(row['@timestamp']);
      const slot = mode.diff && row[WINDOW_FIELD] === 'baseline' ? 1 : 0;
      clusterer.add(text, slot, typeof ts === 'number' ? ts : Number.NaN);
      total++;
      return true;
    },
    end() {
      const clusters = clusterer.clusters();
      if (mode.diff) {
        const rows = clusters.map(diffRow);
        rows.sort(
          (a, b) =>
            Math.abs(b['@change'] as number) - Math.abs(a['@change'] as number) ||
            (b['@currentCount'] as number) +
              (b['@previousCount'] as number) -
              ((a['@currentCount'] as number) + (a['@previousCount'] as number)) ||
            ((a['@pattern'] as string) < (b['@pattern'] as string) ? -1 : 1),
        );
        for (const r of rows) if (!next.push(r)) break;
      } else if (tracker) {
        const found = detectAnomalies(clusters, tracker);
        // Anomalous patterns first (by priority), each group in the pattern order (count, text).
        const order = clusters
          .map((_, k) => k)
          .sort((a, b) => anomalyRank(found[a]) - anomalyRank(found[b]) || a - b);
        for (const k of order) if (!next.push({ ...patternRow(clusters[k], total), ...found[k] })) break;
      } else {
        for (const c of clusters) if (!next.push(patternRow(c, total))) break;
      }
      next.end();
    },
  };
}
