/**
 * Translates a query's push-down filters into OpenSearch query DSL, **soundly**: every document the
 * filter keeps is matched by the DSL (the DSL may match more; the row stage still runs locally on
 * every hit, so results equal a local evaluation). A translation is *exact* when it matches exactly
 * the kept documents; only exact translations are negated under `not (…)`.
 *
 * Per leaf (field op literal), from the index mapping (GET <pattern>/_mapping):
 *  - `keyword` fields, or `text` with a `.keyword` sub-field (dynamic mapping, `ignore_above: 256`):
 *    `=`/`in` → term/terms; `like "s"` → wildcard `*s*`; `like /^lit/` → prefix; another regex → its
 *    literal run (over-approximate, never negated).
 *  - numeric fields with number literals: term/range.
 *  - `!=`, `not in`, `not like` → `must_not` of a core that has no false positives.
 * Only the document's own fields (`@message`, `@logStream`, `@log`) are sure to be indexed as the
 * row sees them. Any other field may be absent from the index yet present in the row (JSON messages
 * are parsed on read; the sink's `@fields_json` fallback), and values over `ignore_above` are not in
 * the keyword index, so a positive leaf on them also keeps documents without the value indexed
 * (`must_not exists`). Literals that look like numbers are not pushed for string fields (Logs
 * Insights compares them numerically). A field holding a list matches term queries element-wise;
 * logferry assumes the scalar fields it filters on are scalars.
 */
import type { Expr } from '../ast.js';
import { regexLiteralPrefix } from './prune.js';

export interface FieldMapping {
  type: string;
  /** `.keyword` (or other keyword) sub-field of a text field. */
  keywordSub?: string;
  ignoreAbove?: number;
  subIgnoreAbove?: number;
}

export type MappingIndex = Map<string, FieldMapping | 'conflict'>;

// biome-ignore lint/suspicious/noExplicitAny: query DSL is free-form JSON
export type Dsl = Record<string, any>;

export interface Translation {
  q: Dsl;
  exact: boolean;
}

const MATCH_ALL: Translation = { q: { match_all: {} }, exact: false };
/** OpenSearch numeric field types (term/range on numbers; metric aggregations). */
export const NUMERIC_TYPES: ReadonlySet<string> = new Set([
  'long',
  'integer',
  'short',
  'byte',
  'double',
  'float',
  'half_float',
  'scaled_float',
  'unsigned_long',
]);
const NUMBER_LIKE = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
/** Fields the sink writes in its mapping-conflict fallback form. */
export const FALLBACK_FIELD = '@fields_json';

/** Flattens `_mapping` responses of every index into dotted paths; differing types are a conflict. */
export function indexMappings(body: Record<string, { mappings?: { properties?: Dsl } }>): MappingIndex {
  const out: MappingIndex = new Map();
  const walk = (props: Dsl, prefix: string) => {
    for (const [k, v] of Object.entries(props)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (v.properties) walk(v.properties, path);
      if (!v.type) continue;
      const m: FieldMapping = { type: v.type };
      if (typeof v.ignore_above === 'number') m.ignoreAbove = v.ignore_above;
      if (v.fields) {
        for (const [sub, sv] of Object.entries(v.fields as Dsl)) {
          if (sv.type === 'keyword') {
            m.keywordSub = `${path}.${sub}`;
            if (typeof sv.ignore_above === 'number') m.subIgnoreAbove = sv.ignore_above;
            break;
          }
        }
      }
      const prev = out.get(path);
      if (prev === undefined) out.set(path, m);
      else if (
        prev === 'conflict' ||
        prev.type !== m.type ||
        prev.keywordSub !== m.keywordSub ||
        prev.ignoreAbove !== m.ignoreAbove ||
        prev.subIgnoreAbove !== m.subIgnoreAbove
      )
        out.set(path, 'conflict');
    }
  };
  for (const idx of Object.values(body)) if (idx?.mappings?.properties) walk(idx.mappings.properties, '');
  return out;
}

export interface KeywordTarget {
  field: string;
  /** Values longer than this are not in the keyword index. */
  ignoreAbove: number;
}

/** Where a field's exact string values are indexed: the keyword field itself or a text field's keyword sub-field. */
export function keywordTarget(
  m: FieldMapping | 'conflict' | undefined,
  name: string,
): KeywordTarget | undefined {
  if (!m || m === 'conflict') return undefined;
  if (m.type === 'keyword') return { field: name, ignoreAbove: m.ignoreAbove ?? Number.POSITIVE_INFINITY };
  if (m.type === 'text' && m.keywordSub)
    return { field: m.keywordSub, ignoreAbove: m.subIgnoreAbove ?? Number.POSITIVE_INFINITY };
  return undefined;
}

/** Fields every document the sink writes carries, as stored (never derived on read). */
const DOC_FIELDS = new Set(['@message', '@logStream', '@log', '@id']);

function escapeWildcard(s: string): string {
  return s.replace(/[\\*?]/g, '\\$&');
}

/**
 * A leaf predicate as a DSL `core` that matches no document whose stored value fails the predicate
 * (no false positives), and that misses only documents whose value is not in the index
 * (`complete` = misses none of those that have the field indexed).
 */
interface Core {
  q: Dsl;
  /** The field the core looks at (for "not indexed there" checks). */
  field: string;
  complete: boolean;
  /** False when the core over-approximates (e.g. the literal run of a non-literal regex). */
  noFalsePositives: boolean;
}

function notExists(field: string): Dsl {
  return { bool: { must_not: { exists: { field } } } };
}

export interface TranslateOptions {
  /**
   * Assume every document considered has each leaf's field indexed (the caller verifies it with a
   * count): positive leaves are then their cores alone, and exact when the core has no false positives.
   */
  verified?: boolean;
  /** Collects the indexed fields the leaves look at (for that verification). */
  fields?: Set<string>;
}

/** Sound (and, on stored fields, exact) form of a positive predicate. */
function positive(core: Core, name: string, opts: TranslateOptions): Translation {
  if (opts.verified) return { q: core.q, exact: core.noFalsePositives };
  const stored = DOC_FIELDS.has(name);
  if (stored && core.complete) return { q: core.q, exact: core.noFalsePositives };
  // Documents without the value indexed (fields parsed on read, values over ignore_above) are kept.
  return { q: { bool: { should: [core.q, notExists(core.field)], minimum_should_match: 1 } }, exact: false };
}

/** Sound form of a negated predicate: drop only documents the core proves match. */
function negative(core: Core, name: string, opts: TranslateOptions): Translation {
  if (!core.noFalsePositives) return MATCH_ALL;
  return {
    q: { bool: { must_not: core.q } },
    exact: opts.verified === true || (DOC_FIELDS.has(name) && core.complete),
  };
}

function not(t: Translation): Translation {
  return t.exact ? { q: { bool: { must_not: t.q } }, exact: true } : MATCH_ALL;
}

function leafCore(
  e: Expr & { kind: 'binary' },
  name: string,
  m: FieldMapping | 'conflict' | undefined,
): { core: Core; negated: boolean } | undefined {
  const r = e.right;
  if (m && m !== 'conflict' && NUMERIC_TYPES.has(m.type)) {
    if (r.kind !== 'number') return undefined;
    const v = r.value;
    const mk = (q: Dsl, negated = false) => ({
      core: { q, field: name, complete: true, noFalsePositives: true },
      negated,
    });
    switch (e.op) {
      case '=':
        return mk({ term: { [name]: v } });
      case '!=':
        return mk({ term: { [name]: v } }, true);
      case '<':
        return mk({ range: { [name]: { lt: v } } });
      case '<=':
        return mk({ range: { [name]: { lte: v } } });
      case '>':
        return mk({ range: { [name]: { gt: v } } });
      case '>=':
        return mk({ range: { [name]: { gte: v } } });
      default:
        return undefined;
    }
  }
  const t = keywordTarget(m, name);
  if (!t) return undefined;
  const full = !Number.isFinite(t.ignoreAbove);
  switch (e.op) {
    case '=':
    case '!=': {
      if (r.kind !== 'string' || NUMBER_LIKE.test(r.value) || r.value.length > t.ignoreAbove)
        return undefined;
      // A value equal to the literal is short enough to be indexed: equality is complete.
      return {
        core: { q: { term: { [t.field]: r.value } }, field: t.field, complete: true, noFalsePositives: true },
        negated: e.op === '!=',
      };
    }
    case 'in':
    case 'not in': {
      if (r.kind !== 'list') return undefined;
      const values: string[] = [];
      for (const it of r.items) {
        if (it.kind !== 'string' || NUMBER_LIKE.test(it.value) || it.value.length > t.ignoreAbove)
          return undefined;
        values.push(it.value);
      }
      return {
        core: { q: { terms: { [t.field]: values } }, field: t.field, complete: true, noFalsePositives: true },
        negated: e.op === 'not in',
      };
    }
    case 'like':
    case 'not like':
    case '=~': {
      const negated = e.op === 'not like';
      if (r.kind === 'string') {
        if (r.value === '') return undefined;
        return {
          core: {
            q: { wildcard: { [t.field]: { value: `*${escapeWildcard(r.value)}*` } } },
            field: t.field,
            complete: full,
            noFalsePositives: true,
          },
          negated,
        };
      }
      if (r.kind === 'regex') {
        const p = regexLiteralPrefix(r);
        if (!p || p.lit.length === 0) return undefined;
        const q = p.anchored
          ? { prefix: { [t.field]: p.lit } }
          : { wildcard: { [t.field]: { value: `*${escapeWildcard(p.lit)}*` } } };
        return {
          core: { q, field: t.field, complete: full, noFalsePositives: p.whole && !/[gy]/.test(r.flags) },
          negated,
        };
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

export function translate(e: Expr, mappings: MappingIndex, opts: TranslateOptions = {}): Translation {
  if (e.kind === 'unary' && e.op === 'not') return not(translate(e.operand, mappings, opts));
  if (e.kind !== 'binary') return MATCH_ALL;
  if (e.op === 'and') {
    const a = translate(e.left, mappings, opts);
    const b = translate(e.right, mappings, opts);
    return { q: { bool: { filter: [a.q, b.q] } }, exact: a.exact && b.exact };
  }
  if (e.op === 'or') {
    const a = translate(e.left, mappings, opts);
    const b = translate(e.right, mappings, opts);
    if (a.q.match_all || b.q.match_all) return MATCH_ALL;
    return { q: { bool: { should: [a.q, b.q], minimum_should_match: 1 } }, exact: a.exact && b.exact };
  }
  if (e.left.kind !== 'field') return MATCH_ALL;
  const name = e.left.name;
  const leaf = leafCore(e, name, mappings.get(name));
  if (!leaf) return MATCH_ALL;
  opts.fields?.add(leaf.core.field);
  return leaf.negated ? negative(leaf.core, name, opts) : positive(leaf.core, name, opts);
}

/** The whole search query: time range, translated filters, and the fallback documents. */
export function buildSearchQuery(
  filters: Expr[],
  mappings: MappingIndex,
  range: { startMs?: number; endMs?: number },
): { query: Dsl; pushed: number; exact: boolean } {
  const clauses: Dsl[] = [];
  let pushed = 0;
  let exact = true;
  for (const f of filters) {
    const t = translate(f, mappings);
    if (t.q.match_all) {
      exact = false;
      continue;
    }
    pushed++;
    exact &&= t.exact;
    clauses.push(t.q);
  }
  const must: Dsl[] = [];
  if (range.startMs !== undefined || range.endMs !== undefined) {
    const r: Dsl = { format: 'epoch_millis' };
    if (range.startMs !== undefined) r.gte = range.startMs;
    if (range.endMs !== undefined) r.lt = range.endMs;
    must.push({ range: { '@timestamp': r } });
  }
  if (clauses.length) {
    const fields = clauses.length === 1 ? clauses[0] : { bool: { filter: clauses } };
    if (mappings.has(FALLBACK_FIELD))
      must.push({
        bool: { should: [fields, { exists: { field: FALLBACK_FIELD } }], minimum_should_match: 1 },
      });
    else must.push(fields);
  }
  return { query: must.length ? { bool: { filter: must } } : { match_all: {} }, pushed, exact };
}
