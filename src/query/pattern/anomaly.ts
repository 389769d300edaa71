/**
 * `pattern … | anomaly`: the five kinds of anomaly AWS documents, each a fixed, deterministic rule.
 *
 * Time model. The events' own time span (first to last `@timestamp` the query saw) is cut into
 * buckets of width W, epoch-aligned; W starts at one minute and doubles until the span fits in
 * `MAX_BUCKETS` buckets (so W depends only on the span, not on arrival order). The last quarter of
 * the buckets (at least one) is the *recent* part; the rest is the *baseline*. Every rule compares
 * the recent part with the baseline; with fewer than `MIN_BUCKETS` buckets nothing is flagged.
 *
 * Rules (constants below):
 * - NewPattern: no event in the baseline, at least NEW_MIN in the recent part.
 * - PatternFrequency: expected = baseline count × recent buckets / baseline buckets; a spike when the
 *   recent count ≥ FREQ_MIN, ≥ FREQ_RATIO × expected and the Poisson z-score ≥ FREQ_Z; a drop when
 *   expected ≥ FREQ_MIN, recent ≤ expected / FREQ_RATIO and z ≤ −FREQ_Z.
 * - TokenVariation: a token whose baseline took 1…TOKEN_BASE_MAX distinct values (over ≥ TOKEN_BASE_EVENTS
 *   events, value table exact) shows a value first seen in the recent part at least TOKEN_NEW_MIN times.
 * - NumericToken: a `<Number>` token with ≥ NUM_MIN_BASE baseline and ≥ NUM_MIN_RECENT recent values
 *   whose recent mean differs from the baseline mean by ≥ NUM_REL_CHANGE of it and by ≥ NUM_SE
 *   standard errors (baseline spread / √recent count).
 * - HttpErrorCode: a `<Number>` token whose values are all whole numbers in 100–599 and that one of
 *   the two words before it names (`status`, `code`, `http`, `resp`, or an `HTTP/x` token before it);
 *   recent 4xx/5xx share ≥ 2 × the baseline share and ≥ baseline share + HTTP_SHARE_GAIN, with at
 *   least HTTP_MIN_ERRORS recent errors.
 * Priority: HIGH for an ERROR/FATAL pattern or a 5xx rise, MEDIUM for new patterns, frequency
 * changes and 4xx rises, LOW for token and numeric changes.
 */
import type { Extra, PatternCluster } from './cluster.js';
import { type Spans, T_NUMBER, VAR_NUMBER } from './tokenize.js';

export const MAX_BUCKETS = 128;
export const MIN_BUCKETS = 4;
export const NEW_MIN = 3;
export const FREQ_MIN = 10;
export const FREQ_RATIO = 3;
export const FREQ_Z = 4;
export const TOKEN_BASE_MAX = 5;
export const TOKEN_BASE_EVENTS = 20;
export const TOKEN_NEW_MIN = 3;
export const NUM_MIN_BASE = 10;
export const NUM_MIN_RECENT = 5;
export const NUM_REL_CHANGE = 0.5;
export const NUM_SE = 4;
export const HTTP_SHARE_GAIN = 0.1;
export const HTTP_MIN_ERRORS = 5;
/** Signatures kept while tracking anomalies (each holds up to MAX_BUCKETS buckets). */
export const ANOMALY_MAX_SIGNATURES = 5_000;

const MINUTE = 60_000;

/** Per numeric column per bucket: count, sum, sum of squares, 4xx/5xx count, 5xx count, non-status count. */
const NS = 6;

export interface AnomalyState {
  hist: Map<number, number>;
  /** column index → bucket start → stats (NS numbers). */
  nums: Map<number, Map<number, Float64Array>>;
}

export function anomalyColumns(): string[] {
  return ['@anomalyType', '@priority', '@description'];
}

function rebucket<V>(m: Map<number, V>, w: number, merge: (a: V, b: V) => V): Map<number, V> {
  const out = new Map<number, V>();
  for (const [b, v] of m) {
    const k = Math.floor(b / w) * w;
    const cur = out.get(k);
    out.set(k, cur === undefined ? v : merge(cur, v));
  }
  return out;
}

function addStats(a: Float64Array, b: Float64Array): Float64Array {
  for (let i = 0; i < NS; i++) a[i] += b[i];
  return a;
}

export class AnomalyTracker {
  readonly maxSignatures = ANOMALY_MAX_SIGNATURES;
  width = MINUTE;
  minTs = Number.POSITIVE_INFINITY;
  maxTs = Number.NEGATIVE_INFINITY;
  private readonly states: AnomalyState[] = [];
  readonly extra: Extra<unknown>;

  constructor() {
    const self = this;
    this.extra = {
      create(): AnomalyState {
        const s: AnomalyState = { hist: new Map(), nums: new Map() };
        self.states.push(s);
        return s;
      },
      add(e, message, sp, ts) {
        self.add(e as AnomalyState, message, sp, ts);
      },
      merge(into, from) {
        const a = into as AnomalyState;
        const b = from as AnomalyState;
        for (const [k, v] of b.hist) a.hist.set(k, (a.hist.get(k) ?? 0) + v);
        for (const [c, m] of b.nums) {
          let am = a.nums.get(c);
          if (!am) {
            am = new Map();
            a.nums.set(c, am);
          }
          for (const [k, v] of m) {
            const cur = am.get(k);
            if (cur) addStats(cur, v);
            else am.set(k, Float64Array.from(v));
          }
        }
      },
    };
  }

  private add(s: AnomalyState, message: string, sp: Spans, ts: number): void {
    if (!Number.isFinite(ts)) return;
    if (ts < this.minTs) this.minTs = ts;
    if (ts > this.maxTs) this.maxTs = ts;
    while (Math.floor(this.maxTs / this.width) - Math.floor(this.minTs / this.width) + 1 > MAX_BUCKETS)
      this.widen();
    const b = Math.floor(ts / this.width) * this.width;
    s.hist.set(b, (s.hist.get(b) ?? 0) + 1);
    for (let c = 0; c < sp.n; c++) {
      if (sp.type[c] !== T_NUMBER) continue;
      const raw = message.slice(sp.wStart[c], sp.wEnd[c]);
      const x = Number.parseFloat(raw.indexOf(',') >= 0 ? raw.replace(/,/g, '') : raw);
      if (!Number.isFinite(x)) continue;
      let m = s.nums.get(c);
      if (!m) {
        m = new Map();
        s.nums.set(c, m);
      }
      let st = m.get(b);
      if (!st) {
        st = new Float64Array(NS);
        m.set(b, st);
      }
      st[0]++;
      st[1] += x;
      st[2] += x * x;
      const status = Number.isInteger(x) && x >= 100 && x <= 599;
      if (status && x >= 400) st[3]++;
      if (status && x >= 500) st[4]++;
      if (!status) st[5]++;
    }
  }

  private widen(): void {
    this.width *= 2;
    const w = this.width;
    for (const s of this.states) {
      s.hist = rebucket(s.hist, w, (a, b) => a + b);
      for (const [c, m] of s.nums) s.nums.set(c, rebucket(m, w, addStats));
    }
  }
}

export interface AnomalyResult {
  '@anomalyType': string | null;
  '@priority': 'HIGH' | 'MEDIUM' | 'LOW' | null;
  '@description': string | null;
}

const NONE: AnomalyResult = { '@anomalyType': null, '@priority': null, '@description': null };
const RANK = { HIGH: 0, MEDIUM: 1, LOW: 2 } as const;

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

/** One result per cluster (same order). */
export function detectAnomalies(clusters: PatternCluster<unknown>[], tr: AnomalyTracker): AnomalyResult[] {
  if (!Number.isFinite(tr.minTs)) return clusters.map(() => NONE);
  const w = tr.width;
  const first = Math.floor(tr.minTs / w) * w;
  const last = Math.floor(tr.maxTs / w) * w;
  const nb = (last - first) / w + 1;
  if (nb < MIN_BUCKETS) return clusters.map(() => NONE);
  const nRecent = Math.max(1, Math.floor(nb / 4));
  const nBase = nb - nRecent;
  const split = first + nBase * w;
  let baseTotal = 0;
  for (const c of clusters) {
    const s = c.extra as AnomalyState | undefined;
    if (s) for (const [b, n] of s.hist) if (b < split) baseTotal += n;
  }
  return clusters.map((c) => {
    const s = c.extra as AnomalyState | undefined;
    if (!s) return NONE;
    const kinds: string[] = [];
    const notes: string[] = [];
    let priority: 'HIGH' | 'MEDIUM' | 'LOW' | undefined;
    const raise = (p: 'HIGH' | 'MEDIUM' | 'LOW') => {
      if (priority === undefined || RANK[p] < RANK[priority]) priority = p;
    };
    const severe = c.severity === 'ERROR' || c.severity === 'FATAL';
    let base = 0;
    let recent = 0;
    for (const [b, n] of s.hist) {
      if (b < split) base += n;
      else recent += n;
    }
    // New pattern.
    if (base === 0 && recent >= NEW_MIN && baseTotal > 0) {
      kinds.push('NewPattern');
      notes.push(`new pattern: ${recent} events in the recent part, none before`);
      raise(severe ? 'HIGH' : 'MEDIUM');
    }
    // Pattern frequency.
    if (base > 0) {
      const expected = (base * nRecent) / nBase;
      const z = (recent - expected) / Math.sqrt(Math.max(expected, 1));
      if (recent >= FREQ_MIN && recent >= FREQ_RATIO * expected && z >= FREQ_Z) {
        kinds.push('PatternFrequency');
        notes.push(`frequency up: ${recent} recent events where ${fmt(expected)} were expected`);
        raise(severe ? 'HIGH' : 'MEDIUM');
      } else if (expected >= FREQ_MIN && recent <= expected / FREQ_RATIO && z <= -FREQ_Z) {
        kinds.push('PatternFrequency');
        notes.push(`frequency down: ${recent} recent events where ${fmt(expected)} were expected`);
        raise('MEDIUM');
      }
    }
    // Token variation.
    let k = 0;
    let tokenFlag = false;
    for (let col = 0; col < c.words.length; col++) {
      const sample = c.samples[col];
      if (c.words[col].charCodeAt(0) !== 0) continue;
      k++;
      if (!sample || sample.overflow || base < TOKEN_BASE_EVENTS) continue;
      let baseDistinct = 0;
      const fresh: string[] = [];
      for (const [v, st] of sample.values) {
        if (st.first < split) baseDistinct++;
        else if (st.count >= TOKEN_NEW_MIN) fresh.push(v);
      }
      if (baseDistinct >= 1 && baseDistinct <= TOKEN_BASE_MAX && fresh.length > 0) {
        fresh.sort();
        tokenFlag = true;
        notes.push(
          `token ${c.tokens[k - 1]?.name ?? k} has new value(s) ${fresh.map((v) => JSON.stringify(v)).join(', ')}`,
        );
        raise(severe ? 'HIGH' : 'LOW');
      }
    }
    if (tokenFlag) kinds.push('TokenVariation');
    // Numeric token and HTTP error code.
    let numericFlag = false;
    let httpFlag = false;
    for (const [col, m] of [...s.nums].sort((a, b) => a[0] - b[0])) {
      if (col >= c.words.length || c.words[col] !== VAR_NUMBER) continue;
      const b = new Float64Array(NS);
      const r = new Float64Array(NS);
      for (const [bk, st] of m) addStats(bk < split ? b : r, st);
      const name = tokenName(c, col);
      if (b[0] >= NUM_MIN_BASE && r[0] >= NUM_MIN_RECENT) {
        const mb = b[1] / b[0];
        const mr = r[1] / r[0];
        const sd = Math.sqrt(Math.max(0, b[2] / b[0] - mb * mb));
        const d = Math.abs(mr - mb);
        if (d >= NUM_REL_CHANGE * Math.abs(mb) && d >= (NUM_SE * sd) / Math.sqrt(r[0]) && d > 0) {
          numericFlag = true;
          notes.push(`token ${name}: recent mean ${fmt(mr)} vs baseline mean ${fmt(mb)}`);
          raise(severe ? 'HIGH' : 'LOW');
        }
      }
      const isStatus = b[5] + r[5] === 0 && b[0] + r[0] > 0 && looksLikeStatus(c, col);
      if (isStatus && r[0] > 0) {
        const shareB = b[0] > 0 ? b[3] / b[0] : 0;
        const shareR = r[3] / r[0];
        if (r[3] >= HTTP_MIN_ERRORS && shareR >= 2 * shareB && shareR >= shareB + HTTP_SHARE_GAIN) {
          httpFlag = true;
          notes.push(
            `token ${name}: HTTP errors ${fmt(shareR * 100)}% of recent events vs ${fmt(shareB * 100)}% before`,
          );
          raise(r[4] > 0 || severe ? 'HIGH' : 'MEDIUM');
        }
      }
    }
    if (numericFlag) kinds.push('NumericToken');
    if (httpFlag) kinds.push('HttpErrorCode');
    if (kinds.length === 0) return NONE;
    return {
      '@anomalyType': kinds.join(','),
      '@priority': priority ?? 'LOW',
      '@description': notes.join('; '),
    };
  });
}

const STATUS_WORD = /status|code|http|resp/i;

/** An HTTP status column: one of the two words before it names it (`status=`, `"code":`, `HTTP/1.1" 500`). */
function looksLikeStatus(c: PatternCluster<unknown>, col: number): boolean {
  for (let i = col - 1; i >= Math.max(0, col - 2); i--) {
    const w = c.words[i];
    if (w.charCodeAt(0) !== 0) {
      if (STATUS_WORD.test(w)) return true;
    } else {
      const top = c.samples[i]?.top(1)[0]?.value;
      if (top !== undefined && /^HTTP\//i.test(top)) return true;
    }
  }
  return false;
}

function tokenName(c: PatternCluster<unknown>, col: number): string {
  let k = 0;
  for (let i = 0; i <= col; i++) if (c.words[i].charCodeAt(0) === 0) k++;
  return c.tokens[k - 1]?.name ?? `#${k}`;
}

/** Sort key: anomalous rows first by priority. */
export function anomalyRank(r: AnomalyResult): number {
  return r['@priority'] === null ? 3 : RANK[r['@priority']];
}
