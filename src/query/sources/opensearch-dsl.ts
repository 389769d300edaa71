/**
 * Translates a query's push-down filters into OpenSearch query DSL, **soundly**: every document the
 * filter keeps is matched by the DSL (the DSL may match more; the row stage still runs locally on
 * every hit). Each translation also says whether it is *exact* (matches exactly the kept documents);
 * only exact translations may be negated (`not`, `!=`, `not in`, `not like`).
 *
 * Decisions per field come from the index mapping (GET <pattern>/_mapping):
 *  - `keyword` fields: `=`/`in` → term/terms (exact when the literal fits `ignore_above`);
 *    `like "s"` → wildcard `*s*`; `like /^lit/` → prefix; a regex that is only a literal → exact,
 *    otherwise its literal run (sound, not exact).
 *  - `text` fields with a `.keyword` sub-field (OpenSearch's dynamic mapping, `ignore_above: 256`):
 *    the same on `.keyword`, but substring/prefix matches also keep documents whose value was too
 *    long to be indexed there (`must_not exists` on the sub-field), so they are never exact.
 *  - numeric fields: comparisons with number literals → term/range (exact).
 *  - `ispresent(f)` → exists (exact).
 * Literals that look like numbers are not pushed for string fields (Logs Insights compares them
 * numerically). Documents the sink stored in its mapping-conflict fallback form (`@fields_json`)
 * are always fetched, because their fields are not where the DSL looks.
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
const NUMERIC = new Set([
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

interface KeywordTarget {
  field: string;
  /** Values longer than this are not in the keyword index. */
  ignoreAbove: number;
  /** True when long values exist only in a text field (substring matches must keep unindexed docs). */
  viaSubField: boolean;
}

function keywordTarget(m: FieldMapping | 'conflict' | undefined, name: string): KeywordTarget | undefined {
  if (!m || m === 'conflict') return undefined;
  if (m.type === 'keyword')
    return { field: name, ignoreAbove: m.ignoreAbove ?? Number.POSITIVE_INFINITY, viaSubField: false };
  if (m.type === 'text' && m.keywordSub)
    return {
      field: m.keywordSub,
      ignoreAbove: m.subIgnoreAbove ?? Number.POSITIVE_INFINITY,
      viaSubField: true,
    };
  return undefined;
}

function escapeWildcard(s: string): string {
  return s.replace(/[\\*?]/g, '\\$&');
}

function stringEq(t: KeywordTarget, v: string): Translation | undefined {
  if (NUMBER_LIKE.test(v) || v.length > t.ignoreAbove) return undefined;
  return { q: { term: { [t.field]: v } }, exact: true };
}

/** A substring/prefix match: exact on a pure keyword field without length limit. */
function partial(t: KeywordTarget, q: Dsl): Translation {
  if (t.viaSubField || Number.isFinite(t.ignoreAbove)) {
    // Values too long for the keyword index are kept and checked locally.
    return {
      q: {
        bool: {
          should: [q, { bool: { must_not: { exists: { field: t.field } } } }],
          minimum_should_match: 1,
        },
      },
      exact: false,
    };
  }
  return { q, exact: true };
}

function not(t: Translation): Translation {
  return t.exact ? { q: { bool: { must_not: t.q } }, exact: true } : MATCH_ALL;
}

export function translate(e: Expr, mappings: MappingIndex): Translation {
  if (e.kind === 'unary' && e.op === 'not') return not(translate(e.operand, mappings));
  if (e.kind === 'call' && e.name === 'ispresent' && e.args.length === 1 && e.args[0].kind === 'field') {
    const name = e.args[0].name;
    const m = mappings.get(name);
    if (m && m !== 'conflict') return { q: { exists: { field: name } }, exact: true };
    return MATCH_ALL;
  }
  if (e.kind !== 'binary') return MATCH_ALL;
  if (e.op === 'and') {
    const a = translate(e.left, mappings);
    const b = translate(e.right, mappings);
    return { q: { bool: { filter: [a.q, b.q] } }, exact: a.exact && b.exact };
  }
  if (e.op === 'or') {
    const a = translate(e.left, mappings);
    const b = translate(e.right, mappings);
    if (a.q.match_all || b.q.match_all) return MATCH_ALL;
    return { q: { bool: { should: [a.q, b.q], minimum_should_match: 1 } }, exact: a.exact && b.exact };
  }
  if (e.left.kind !== 'field') return MATCH_ALL;
  const name = e.left.name;
  const m = mappings.get(name);
  const r = e.right;
  if (m && m !== 'conflict' && NUMERIC.has(m.type)) {
    if (r.kind !== 'number') return MATCH_ALL;
    const v = r.value;
    switch (e.op) {
      case '=':
        return { q: { term: { [name]: v } }, exact: true };
      case '!=':
        return not({ q: { term: { [name]: v } }, exact: true });
      case '<':
        return { q: { range: { [name]: { lt: v } } }, exact: true };
      case '<=':
        return { q: { range: { [name]: { lte: v } } }, exact: true };
      case '>':
        return { q: { range: { [name]: { gt: v } } }, exact: true };
      case '>=':
        return { q: { range: { [name]: { gte: v } } }, exact: true };
      default:
        return MATCH_ALL;
    }
  }
  const t = keywordTarget(m, name);
  if (!t) return MATCH_ALL;
  switch (e.op) {
    case '=':
    case '!=': {
      if (r.kind !== 'string') return MATCH_ALL;
      const eq = stringEq(t, r.value);
      if (!eq) return MATCH_ALL;
      return e.op === '=' ? eq : not(eq);
    }
    case 'in':
    case 'not in': {
      if (r.kind !== 'list') return MATCH_ALL;
      const values: string[] = [];
      for (const it of r.items) {
        if (it.kind !== 'string' || NUMBER_LIKE.test(it.value) || it.value.length > t.ignoreAbove)
          return MATCH_ALL;
        values.push(it.value);
      }
      const q: Translation = { q: { terms: { [t.field]: values } }, exact: true };
      return e.op === 'in' ? q : not(q);
    }
    case 'like':
    case 'not like':
    case '=~': {
      let tr: Translation | undefined;
      if (r.kind === 'string') {
        if (r.value === '') tr = { q: { exists: { field: name } }, exact: false };
        else tr = partial(t, { wildcard: { [t.field]: { value: `*${escapeWildcard(r.value)}*` } } });
      } else if (r.kind === 'regex') {
        const p = regexLiteralPrefix(r);
        if (p && p.lit.length > 0) {
          const q = p.anchored
            ? { prefix: { [t.field]: p.lit } }
            : { wildcard: { [t.field]: { value: `*${escapeWildcard(p.lit)}*` } } };
          const part = partial(t, q);
          // Only a regex that is exactly `^literal` or `literal` keeps its exactness; `s`/`m`/`u` flags are
          // irrelevant to a plain literal.
          tr = { q: part.q, exact: part.exact && p.whole && !/[gy]/.test(r.flags) };
        }
      }
      if (!tr) return MATCH_ALL;
      return e.op === 'not like' ? not(tr) : tr;
    }
    default:
      return MATCH_ALL;
  }
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
