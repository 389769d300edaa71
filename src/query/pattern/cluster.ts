/**
 * Deterministic log-template clustering for `pattern`, `diff` and `anomaly`.
 *
 * 1. Each message is tokenized canonically (tokenize.ts): words containing digits become typed
 *    variables. The token sequence is the message's *signature*; signatures are counted in a map
 *    (with per-variable value samples, see sample.ts).
 * 2. At the end, signatures with the same shape (word count and separators) are clustered by a
 *    frequency rule in the spirit of Brain (Yu et al., 2023): in each shape group, every
 *    (column, word) pair is weighted by the events that carry it; for each signature the frequency
 *    shared by most of its columns marks its "common part" (columns at least that frequent are
 *    constant), and signatures with the same common part form a cluster. Inside a cluster, a
 *    remaining column with at most `CHILD_SPLIT_MAX` distinct words splits the cluster (those words
 *    are constants, e.g. `opened`/`closed`); a column with more becomes a `<Token>`.
 * 3. Identical resulting patterns are merged; patterns are ordered by count, then text.
 *
 * Every step is a function of the multiset of signatures, so the result does not depend on input
 * order, how the input was split into files, or on thread count.
 *
 * Memory: at most `maxSignatures` signatures are held (default 20,000). When one more would be
 * needed, the clusterer coarsens every signature one level (long or path-like words become
 * `<Token>`, then words from position 16, 8, 4, 2, 1, 0 on are folded into one trailing token) and
 * carries on at that level. The level reached depends only on how many distinct signatures the
 * whole input has at each level, so it too is order-independent. Each signature holds at most
 * `sampleSize` values per variable.
 */
import { ValueSample } from './sample.js';
import {
  isVar,
  VAR,
  MAX_VALUE_CHARS,
  materialize,
  newSpans,
  newTokenized,
  scan,
  type Spans,
  T_CONST,
  T_TAIL,
  T_TOKEN,
  VAR_TAIL,
  VAR_TOKEN,
  varType,
  type TokenType,
  T_TIME,
  T_IP,
  T_NUMBER,
  VAR_TIME,
  VAR_IP,
  VAR_NUMBER,
  H1_SEED,
  H2_SEED,
  HASH2,
  hashRange,
} from './tokenize.js';

// Module-local copies for the hot loops (imported bindings can cost a getter call per read when the
// code runs untranspiled-to-one-bundle, as under tsx).
const K_CONST = T_CONST;
const K_TAIL = T_TAIL;
const K_MAX_VALUE = MAX_VALUE_CHARS;

export const DEFAULT_MAX_SIGNATURES = 20_000;
export const DEFAULT_SAMPLE_SIZE = 10;
/** A non-common column with at most this many distinct words splits its cluster. */
export const CHILD_SPLIT_MAX = 2;
/**
 * …or at most this many when every one of them looks like a keyword (`GET`/`POST`/`DELETE`,
 * `Started`/`Stopped`/`Paused`): all upper-case, or capitalised lower-case.
 */
export const CHILD_SPLIT_MAX_KEYWORDS = 4;
const KEYWORD_RE = /^(?:[A-Z]{2,}|[A-Z][a-z]+)$/;
/** Fold points of coarsening levels 2…8 (level 1 masks long/path-like words). */
const FOLD_AT = [16, 8, 4, 2, 1, 0];
export const MAX_LEVEL = 1 + FOLD_AT.length;
/** Level 1 masks constant words longer than this, or containing `/ \ @ .`. */
const LONG_WORD = 24;

export type SeverityLabel = 'FATAL' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE' | 'UNKNOWN';

const LEVEL_WORDS: Record<string, SeverityLabel> = {
  fatal: 'FATAL',
  panic: 'FATAL',
  emerg: 'FATAL',
  emergency: 'FATAL',
  alert: 'FATAL',
  crit: 'FATAL',
  critical: 'FATAL',
  error: 'ERROR',
  err: 'ERROR',
  severe: 'ERROR',
  warn: 'WARN',
  warning: 'WARN',
  info: 'INFO',
  information: 'INFO',
  notice: 'INFO',
  debug: 'DEBUG',
  trace: 'TRACE',
  verbose: 'TRACE',
};
const KLOG: Record<string, SeverityLabel> = { I: 'INFO', W: 'WARN', E: 'ERROR', F: 'FATAL' };
/** A level word counts anywhere when upper-case, else only among the first this many words. */
const LEVEL_WORD_WINDOW = 6;

/**
 * Severity of a signature from its constant words: klog's leading `E`/`W`/`I`/`F`, an upper-case
 * level word anywhere (`ERROR`, `WARN`…), or any-case level word among the first 6 words (covers
 * `level=info`, `"level":"error"`, `[warn]`).
 */
export function severityOf(seps: string[], words: string[]): SeverityLabel {
  if (words.length > 1 && seps[0] === '' && seps[1] === '' && KLOG[words[0]] && isVar(words[1]))
    return KLOG[words[0]];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w.length < 3 || w.length > 11 || isVar(w)) continue;
    const lower = w.toLowerCase();
    const label = LEVEL_WORDS[lower];
    if (label && (i < LEVEL_WORD_WINDOW || w === w.toUpperCase())) return label;
  }
  return 'UNKNOWN';
}

/** Per-signature extra state a consumer (anomaly, diff) keeps; must merge associatively and commutatively. */
export interface Extra<E> {
  create(): E;
  /** Adds one event (its tokenization and timestamp). */
  add(e: E, message: string, sp: Spans, ts: number): void;
  /** Folds `from` into `into` (columns already aligned: same shape). */
  merge(into: E, from: E): void;
}

interface Signature<E> {
  seps: string[];
  words: string[];
  counts: number[];
  total: number;
  samples: (ValueSample | undefined)[];
  severity: SeverityLabel;
  minTs: number;
  maxTs: number;
  extra: E | undefined;
  /** The pattern text it ended in (set by `clusters()`). */
  pattern?: string;
  /**
   * Set while the signature has seen one event only (and no consumer keeps extra state): that
   * event's message, slot and time. Its `seps`, `words`, `severity` and `samples` are not built
   * yet (`realize` builds them from the message, exactly as `add` would have): inputs with a
   * constant word of high cardinality bring a new signature with almost every event, and most of
   * those are never seen again before coarsening folds them together.
   */
  pending: string | undefined;
  pendingSlot: number;
  pendingTs: number;
}

/** A one-event signature keeps its message (see `Signature.pending`) only up to this length. */
const PENDING_MAX_CHARS = 4096;
const NO_WORDS: string[] = [];
const NO_SAMPLES: (ValueSample | undefined)[] = [];

export interface PatternTokenDetail {
  /** As in the pattern text, e.g. `<Number-2>`. */
  name: string;
  type: TokenType;
  /** 1-based position among the pattern's tokens. */
  index: number;
  /** Most frequent kept values with exact counts (see ValueSample). */
  values: { value: string; count: number }[];
  /** Distinct values (exact when `exact`, else an estimate). */
  distinct: number;
  exact: boolean;
}

export interface PatternCluster<E = undefined> {
  pattern: string;
  /** Events per slot (slot 0 only for `pattern`; current/baseline for `diff`). */
  counts: number[];
  total: number;
  severity: SeverityLabel;
  tokens: PatternTokenDetail[];
  /** Regex source that matches exactly the messages of this pattern (tokens as wildcards). */
  minTs: number;
  maxTs: number;
  /** Constant words and separators, for callers that need the structure. */
  seps: string[];
  words: string[];
  /** Per-column samples (undefined for constant columns and the trailing fold). */
  samples: (ValueSample | undefined)[];
  extra: E | undefined;
}

export interface ClustererOptions<E> {
  maxSignatures?: number;
  sampleSize?: number;
  /** Number of count slots (default 1). */
  slots?: number;
  extra?: Extra<E>;
}

function coarsen(t: { seps: string[]; words: string[] }, level: number): boolean {
  let changed = false;
  const { seps, words } = t;
  if (level >= 1) {
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      if (isVar(w)) continue;
      if (w.length > LONG_WORD || /[/\\@.]/.test(w)) {
        words[i] = VAR_TOKEN;
        changed = true;
      }
    }
  }
  if (level >= 2) {
    const at = FOLD_AT[Math.min(level - 2, FOLD_AT.length - 1)];
    if (words.length > at && !(words.length === at + 1 && words[at] === VAR_TAIL)) {
      words.length = at;
      seps.length = at + 1;
      words.push(VAR_TAIL);
      seps.push('');
      if (at === 0) seps[0] = '';
      changed = true;
    }
  }
  return changed;
}

// Signature keys: the scan hashes every word and separator twice (tokenize.ts); a key folds those
// per-item hashes (a variable's type code in place of its text) into two 32-bit hashes and keeps 53
// bits as one safe integer. Keys are computed from a message's spans on the hot path and from the
// strings of a stored signature when coarsening: both fold the same items the same way, so they agree.
const TYPE_BASE = 0x10010;
const TYPE_CODE: Record<string, number> = {
  [VAR_TIME]: T_TIME,
  [VAR_IP]: T_IP,
  [VAR_NUMBER]: T_NUMBER,
  [VAR_TOKEN]: T_TOKEN,
  [VAR_TAIL]: T_TAIL,
};
const K1_SEED = 0x2545f491;
const K2_SEED = 0x6c8e9cf5;

function fold1(k: number, x: number): number {
  k = Math.imul(k ^ x, 0x9e3779b1);
  return k ^ (k >>> 15);
}

function fold2(k: number, x: number): number {
  k = Math.imul(k ^ x, 0x85ebca6b);
  return k ^ (k >>> 13);
}

/** Hash of a value cut to MAX_VALUE_CHARS (passed like the scan's word hashes). */
const CUT_HASH = new Int32Array(2);
const CUT_HASH2 = CUT_HASH.subarray(1);

/** The last computed key's two 32-bit halves (a typed array: no number boxing on the hot path). */
const KEY = new Int32Array(2);

function finishKey(k1: number, k2: number, n: number): void {
  KEY[0] = fold1(k1, n);
  KEY[1] = fold2(k2, n);
}

/**
 * Signatures by 64-bit key: open addressing over two Int32Arrays (key halves) and one of indices
 * into `list` (0 = empty slot), grown at half load. Lookups take the key from `KEY`.
 */
class SigTable<S> {
  list: S[] = [];
  private k1 = new Int32Array(1024);
  private k2 = new Int32Array(1024);
  private at = new Int32Array(1024);
  private mask = 1023;

  get size(): number {
    return this.list.length;
  }

  /** Index in `list` of the signature with key `KEY`, or -1. */
  find(): number {
    const a = KEY[0];
    const b = KEY[1];
    let i = (a ^ Math.imul(b, 0x27d4eb2d)) & this.mask;
    for (;;) {
      const j = this.at[i];
      if (j === 0) return -1;
      if (this.k1[i] === a && this.k2[i] === b) return j - 1;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds `sig` under key `KEY` (not present). */
  insert(sig: S): void {
    this.list.push(sig);
    this.place(KEY[0], KEY[1], this.list.length);
    if (this.list.length * 2 > this.mask) this.grow();
  }

  private place(a: number, b: number, j: number): void {
    let i = (a ^ Math.imul(b, 0x27d4eb2d)) & this.mask;
    while (this.at[i] !== 0) i = (i + 1) & this.mask;
    this.k1[i] = a;
    this.k2[i] = b;
    this.at[i] = j;
  }

  private grow(): void {
    const { k1, k2, at } = this;
    const size = (this.mask + 1) * 2;
    this.k1 = new Int32Array(size);
    this.k2 = new Int32Array(size);
    this.at = new Int32Array(size);
    this.mask = size - 1;
    for (let i = 0; i < at.length; i++) if (at[i] !== 0) this.place(k1[i], k2[i], at[i]);
  }
}

function hashSpans(sp: Spans): void {
  const { type, wh1, wh2, sh1, sh2 } = sp;
  const n = sp.n;
  let k1 = K1_SEED;
  let k2 = K2_SEED;
  for (let i = 0; i < n; i++) {
    k1 = fold1(k1, sh1[i]);
    k2 = fold2(k2, sh2[i]);
    const t = type[i];
    if (t === K_CONST) {
      k1 = fold1(k1, wh1[i]);
      k2 = fold2(k2, wh2[i]);
    } else {
      k1 = fold1(k1, TYPE_BASE + t);
      k2 = fold2(k2, TYPE_BASE + t);
    }
  }
  k1 = fold1(k1, sh1[n]);
  k2 = fold2(k2, sh2[n]);
  finishKey(k1, k2, n);
}

function hashSignature(seps: string[], words: string[]): void {
  let k1 = K1_SEED;
  let k2 = K2_SEED;
  const n = words.length;
  for (let i = 0; i < n; i++) {
    k1 = fold1(k1, hashRange(seps[i], 0, seps[i].length));
    k2 = fold2(k2, HASH2.v);
    const w = words[i];
    if (isVar(w)) {
      k1 = fold1(k1, TYPE_BASE + TYPE_CODE[w]);
      k2 = fold2(k2, TYPE_BASE + TYPE_CODE[w]);
    } else {
      k1 = fold1(k1, hashRange(w, 0, w.length));
      k2 = fold2(k2, HASH2.v);
    }
  }
  k1 = fold1(k1, hashRange(seps[n], 0, seps[n].length));
  k2 = fold2(k2, HASH2.v);
  finishKey(k1, k2, n);
}

/** `coarsen` on spans (the hot path's form); must agree with `coarsen` on strings. */
function coarsenSpans(msg: string, sp: Spans, level: number): void {
  const { wStart, wEnd, type, sh1, sh2 } = sp;
  if (level >= 1) {
    for (let i = 0; i < sp.n; i++) {
      if (type[i] !== T_CONST) continue;
      const s = wStart[i];
      const e = wEnd[i];
      let mask = e - s > LONG_WORD;
      for (let j = s; j < e && !mask; j++) {
        const c = msg.charCodeAt(j);
        mask = c === 47 || c === 92 || c === 64 || c === 46;
      }
      if (mask) type[i] = T_TOKEN;
    }
  }
  if (level >= 2) {
    const at = FOLD_AT[Math.min(level - 2, FOLD_AT.length - 1)];
    if (sp.n > at && !(sp.n === at + 1 && type[at] === T_TAIL)) {
      if (at === 0) {
        wStart[0] = 0;
        sh1[0] = H1_SEED;
        sh2[0] = H2_SEED;
      }
      wEnd[at] = msg.length;
      type[at] = T_TAIL;
      sh1[at + 1] = H1_SEED;
      sh2[at + 1] = H2_SEED;
      sp.n = at + 1;
    }
  }
}

function keyOf(seps: string[], words: string[]): string {
  let k = seps[0];
  for (let i = 0; i < words.length; i++) k += `\u0001${words[i]}\u0001${seps[i + 1]}`;
  return k;
}

const SEVERITY_ORDER: SeverityLabel[] = ['FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE', 'UNKNOWN'];

export class PatternClusterer<E = undefined> {
  private sigs = new SigTable<Signature<E>>();
  private readonly maxSignatures: number;
  private readonly sampleSize: number;
  private readonly slots: number;
  private readonly extra: Extra<E> | undefined;
  private readonly tok = newTokenized();
  private readonly sp = newSpans();
  /** Scratch spans of `realize` (which runs while `sp` holds the message being added). */
  private readonly sp2 = newSpans();
  /** Current coarsening level (0 = none). */
  level = 0;
  events = 0;

  constructor(opts: ClustererOptions<E> = {}) {
    this.maxSignatures = Math.max(1, opts.maxSignatures ?? DEFAULT_MAX_SIGNATURES);
    this.sampleSize = Math.max(1, opts.sampleSize ?? DEFAULT_SAMPLE_SIZE);
    this.slots = Math.max(1, opts.slots ?? 1);
    this.extra = opts.extra;
  }

  get signatureCount(): number {
    return this.sigs.size;
  }

  /** Adds one message to count slot `slot`, seen at `ts` (epoch ms; NaN when unknown). */
  add(message: string, slot = 0, ts = Number.NaN): void {
    this.events++;
    this.place(message, slot, ts);
    if (this.sigs.size > this.maxSignatures) this.coarsenAll();
  }

  /** Counts one event in its signature at the current level (creating the signature if new). */
  private place(message: string, slot: number, ts: number): void {
    const sp = scan(message, this.sp);
    if (this.level > 0) coarsenSpans(message, sp, this.level);
    hashSpans(sp);
    const found = this.sigs.find();
    let sig: Signature<E>;
    if (found >= 0) {
      sig = this.sigs.list[found];
      if (sig.pending !== undefined) this.realize(sig);
    } else if (!this.extra && message.length <= PENDING_MAX_CHARS) {
      const counts = new Array(this.slots).fill(0);
      counts[slot] = 1;
      this.sigs.insert({
        seps: NO_WORDS,
        words: NO_WORDS,
        counts,
        total: 1,
        samples: NO_SAMPLES,
        severity: 'UNKNOWN',
        minTs: ts < Number.POSITIVE_INFINITY ? ts : Number.POSITIVE_INFINITY,
        maxTs: ts > Number.NEGATIVE_INFINITY ? ts : Number.NEGATIVE_INFINITY,
        // (exactly what `count` sets for one event)
        extra: undefined,
        pending: message,
        pendingSlot: slot,
        pendingTs: ts,
      });
      return;
    } else sig = this.newSignature(message, sp);
    this.count(sig, message, sp, slot, ts);
  }

  private newSignature(message: string, sp: Spans): Signature<E> {
    const t = materialize(message, sp, this.tok);
    const sig: Signature<E> = {
      seps: t.seps.slice(),
      words: t.words.slice(),
      counts: new Array(this.slots).fill(0),
      total: 0,
      samples: new Array(t.words.length),
      severity: severityOf(t.seps, t.words),
      minTs: Number.POSITIVE_INFINITY,
      maxTs: Number.NEGATIVE_INFINITY,
      extra: this.extra?.create(),
      pending: undefined,
      pendingSlot: 0,
      pendingTs: 0,
    };
    this.sigs.insert(sig);
    return sig;
  }

  /**
   * Builds a one-event signature's words and samples from its kept message: the same scan at the
   * same level (pending signatures always belong to the current level: `coarsenAll` places them
   * again), so the result is what `add` builds for a new signature.
   */
  private realize(sig: Signature<E>): void {
    const message = sig.pending as string;
    sig.pending = undefined;
    const sp = scan(message, this.sp2);
    if (this.level > 0) coarsenSpans(message, sp, this.level);
    const t = materialize(message, sp, this.tok);
    sig.seps = t.seps.slice();
    sig.words = t.words.slice();
    sig.samples = new Array(t.words.length);
    sig.severity = severityOf(t.seps, t.words);
    sig.counts[sig.pendingSlot] = 0;
    sig.total = 0;
    sig.minTs = Number.POSITIVE_INFINITY;
    sig.maxTs = Number.NEGATIVE_INFINITY;
    this.count(sig, message, sp, sig.pendingSlot, sig.pendingTs);
  }

  /** Counts one event (its scan `sp`) in `sig`: counts, times, value samples, extra state. */
  private count(sig: Signature<E>, message: string, sp: Spans, slot: number, ts: number): void {
    sig.counts[slot]++;
    sig.total++;
    if (ts < sig.minTs) sig.minTs = ts;
    if (ts > sig.maxTs) sig.maxTs = ts;
    const first = Number.isNaN(ts) ? Number.POSITIVE_INFINITY : ts;
    const { type, wStart, wEnd, wh1, wh2 } = sp;
    const samples = sig.samples;
    for (let i = 0; i < sp.n; i++) {
      const ty = type[i];
      if (ty === K_CONST || ty === K_TAIL) continue;
      let s = samples[i];
      if (!s) {
        s = new ValueSample(this.sampleSize);
        samples[i] = s;
      }
      const st = wStart[i];
      // The scan's hashes of the word are the sample's, unless the value is cut.
      if (wEnd[i] - st <= K_MAX_VALUE) s.offer(message, st, wEnd[i], wh1, wh2, i, first);
      else {
        CUT_HASH[0] = hashRange(message, st, st + K_MAX_VALUE);
        CUT_HASH[1] = HASH2.v;
        s.offer(message, st, st + K_MAX_VALUE, CUT_HASH, CUT_HASH2, 0, first);
      }
    }
    if (this.extra && sig.extra !== undefined) this.extra.add(sig.extra, message, sp, ts);
  }

  private coarsenAll(): void {
    while (this.sigs.size > this.maxSignatures && this.level < MAX_LEVEL) {
      this.level++;
      const old = this.sigs;
      this.sigs = new SigTable();
      for (const sig of old.list) {
        if (sig.pending !== undefined) {
          // A one-event signature is its message: place it again at the new level.
          this.place(sig.pending, sig.pendingSlot, sig.pendingTs);
          continue;
        }
        const before = sig.words.slice();
        coarsen(sig, this.level);
        // Constant words that became variables join the samples with their counts.
        const samples: (ValueSample | undefined)[] = new Array(sig.words.length);
        for (let i = 0; i < sig.words.length; i++) {
          if (sig.words[i] === VAR_TAIL) continue;
          if (isVar(sig.words[i]) && !isVar(before[i])) {
            const s = new ValueSample(this.sampleSize);
            s.add(before[i], sig.total, sig.minTs);
            samples[i] = s;
          } else samples[i] = sig.samples[i];
        }
        sig.samples = samples;
        sig.severity = severityOf(sig.seps, sig.words);
        hashSignature(sig.seps, sig.words);
        const cur = this.sigs.find();
        if (cur >= 0) {
          const into = this.sigs.list[cur];
          if (into.pending !== undefined) this.realize(into);
          this.mergeSig(into, sig);
        } else this.sigs.insert(sig);
      }
    }
  }

  private mergeSig(into: Signature<E>, from: Signature<E>): void {
    for (let i = 0; i < into.counts.length; i++) into.counts[i] += from.counts[i];
    // Severity of a merged signature: that of the heavier side (ties by label order).
    if (
      from.total > into.total ||
      (from.total === into.total &&
        SEVERITY_ORDER.indexOf(from.severity) < SEVERITY_ORDER.indexOf(into.severity))
    )
      into.severity = from.severity;
    into.total += from.total;
    if (from.minTs < into.minTs) into.minTs = from.minTs;
    if (from.maxTs > into.maxTs) into.maxTs = from.maxTs;
    for (let i = 0; i < into.samples.length; i++) {
      const f = from.samples[i];
      if (!f) continue;
      const s = into.samples[i];
      if (s) s.merge(f);
      else {
        const n = new ValueSample(this.sampleSize);
        n.merge(f);
        into.samples[i] = n;
      }
    }
    if (this.extra && into.extra !== undefined && from.extra !== undefined)
      this.extra.merge(into.extra, from.extra);
  }

  /** Clusters everything added so far into patterns, most frequent first (ties by pattern text). */
  clusters(): PatternCluster<E>[] {
    for (const sig of this.sigs.list) if (sig.pending !== undefined) this.realize(sig);
    const groups = new Map<string, Signature<E>[]>();
    for (const sig of this.sigs.list) {
      // Severity is part of the shape: a pattern never mixes `E…` and `I…` lines.
      const gk = `${sig.severity}\u0001${sig.words.length}\u0001${sig.seps.map(shapeSep).join('\u0001')}`;
      let g = groups.get(gk);
      if (!g) {
        g = [];
        groups.set(gk, g);
      }
      g.push(sig);
    }
    const byPattern = new Map<string, PatternCluster<E>>();
    const gkeys = [...groups.keys()].sort();
    for (const gk of gkeys) {
      const group = groups.get(gk) as Signature<E>[];
      for (const members of clusterGroup(group)) {
        const c = this.build(members);
        for (const m of members) m.pattern = c.pattern;
        const cur = byPattern.get(c.pattern);
        if (cur) this.mergeCluster(cur, c);
        else byPattern.set(c.pattern, c);
      }
    }
    const out = [...byPattern.values()];
    for (const c of out) c.tokens = tokenDetails(c);
    out.sort((a, b) => b.total - a.total || (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0));
    return out;
  }

  /** The pattern a message falls in, after `clusters()` (undefined if it was never added). */
  patternOf(message: string): string | undefined {
    const sp = scan(message, this.sp);
    if (this.level > 0) coarsenSpans(message, sp, this.level);
    hashSpans(sp);
    const found = this.sigs.find();
    return found >= 0 ? this.sigs.list[found].pattern : undefined;
  }

  private build(members: Signature<E>[]): PatternCluster<E> {
    // Deterministic member order: by key.
    if (members.length > 1) {
      // Each key built once (a comparator that builds both keys costs O(m log m) concatenations).
      const keyed = members.map((m) => ({ k: keyOf(m.seps, m.words), m }));
      keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      for (let i = 0; i < keyed.length; i++) members[i] = keyed[i].m;
    }
    const first = members[0];
    const n = first.words.length;
    const words = first.words.slice();
    // Recompute exactly: a column is constant iff all members have the same constant word there.
    for (let c = 0; c < n; c++) {
      const w0 = first.words[c];
      let same = true;
      let allTail = w0 === VAR_TAIL;
      let oneType: string | undefined = isVar(w0) ? w0 : undefined;
      for (const m of members) {
        const x = m.words[c];
        if (x !== w0) same = false;
        if (x !== VAR_TAIL) allTail = false;
        if (!isVar(x) || x !== oneType) oneType = undefined;
      }
      words[c] = same ? w0 : allTail ? VAR_TAIL : (oneType ?? VAR_TOKEN);
    }
    const counts = new Array(this.slots).fill(0);
    const samples: (ValueSample | undefined)[] = new Array(n);
    const sev = new Map<SeverityLabel, number>();
    let total = 0;
    let minTs = Number.POSITIVE_INFINITY;
    let maxTs = Number.NEGATIVE_INFINITY;
    let extra: E | undefined;
    if (this.extra) extra = this.extra.create();
    for (const m of members) {
      for (let i = 0; i < counts.length; i++) counts[i] += m.counts[i];
      total += m.total;
      if (m.minTs < minTs) minTs = m.minTs;
      if (m.maxTs > maxTs) maxTs = m.maxTs;
      sev.set(m.severity, (sev.get(m.severity) ?? 0) + m.total);
      for (let c = 0; c < n; c++) {
        if (!isVar(words[c]) || words[c] === VAR_TAIL) continue;
        let s = samples[c];
        if (!s) {
          s = new ValueSample(this.sampleSize);
          samples[c] = s;
        }
        const ms = m.samples[c];
        if (ms) s.merge(ms);
        else if (!isVar(m.words[c])) s.add(m.words[c], m.total, m.minTs);
      }
      if (this.extra && extra !== undefined && m.extra !== undefined) this.extra.merge(extra, m.extra);
    }
    return {
      pattern: patternText(first.seps, words),
      counts,
      total,
      severity: pickSeverity(sev),
      tokens: [],
      minTs,
      maxTs,
      seps: first.seps,
      words,
      samples,
      extra,
    };
  }

  private mergeCluster(into: PatternCluster<E>, from: PatternCluster<E>): void {
    for (let i = 0; i < into.counts.length; i++) into.counts[i] += from.counts[i];
    if (from.total > into.total) into.severity = from.severity;
    into.total += from.total;
    if (from.minTs < into.minTs) into.minTs = from.minTs;
    if (from.maxTs > into.maxTs) into.maxTs = from.maxTs;
    for (let c = 0; c < into.samples.length; c++) {
      const f = from.samples[c];
      if (!f) continue;
      const s = into.samples[c];
      if (s) s.merge(f);
      else into.samples[c] = f;
    }
    if (this.extra && into.extra !== undefined && from.extra !== undefined)
      this.extra.merge(into.extra, from.extra);
  }
}

/** Separators compare with runs of whitespace as one space (a pattern's whitespace matches any run). */
function shapeSep(s: string): string {
  return s.length === 1 && s !== ' ' && s !== '\t' ? s : s.replace(/\s+/g, ' ');
}

function pickSeverity(sev: Map<SeverityLabel, number>): SeverityLabel {
  let best: SeverityLabel = 'UNKNOWN';
  let bestN = -1;
  for (const label of SEVERITY_ORDER) {
    if (label === 'UNKNOWN') continue;
    const n = sev.get(label) ?? 0;
    if (n > bestN && n > 0) {
      best = label;
      bestN = n;
    }
  }
  return best;
}

/** The pattern as AWS shows it: constant text with `<Type-n>` for the n-th variable part. */
export function patternText(seps: string[], words: string[]): string {
  let out = seps[0];
  let k = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    out += isVar(w) ? `<${varType(w)}-${++k}>` : w;
    out += seps[i + 1];
  }
  return out;
}

function tokenDetails<E>(c: PatternCluster<E>): PatternTokenDetail[] {
  const out: PatternTokenDetail[] = [];
  let k = 0;
  for (let i = 0; i < c.words.length; i++) {
    const w = c.words[i];
    if (!isVar(w)) continue;
    k++;
    const type = varType(w);
    const s = c.samples[i];
    out.push({
      name: `<${type}-${k}>`,
      type,
      index: k,
      values: s ? s.top(DEFAULT_SAMPLE_SIZE) : [],
      distinct: s ? s.distinct() : 0,
      exact: s ? !s.overflow : false,
    });
  }
  return out;
}

/**
 * Brain-style clustering of one shape group (same word count and separators): see module comment.
 * Returns groups of signatures; every step depends only on the multiset of signatures.
 */
function clusterGroup<E>(group: Signature<E>[]): Signature<E>[][] {
  if (group.length === 1) return [group];
  const n = group[0].words.length;
  const freq: Map<string, number>[] = [];
  for (let c = 0; c < n; c++) freq.push(new Map());
  // Variables of any type count as one word here: a column that holds an address in one event
  // and a host name in another is still one column of one template.
  // An empty word (`()`) is a value that is missing: a variable too.
  const gen = (w: string) => (w === '' || isVar(w) ? VAR : w);
  for (const s of group)
    for (let c = 0; c < n; c++) {
      const w = gen(s.words[c]);
      freq[c].set(w, (freq[c].get(w) ?? 0) + s.total);
    }
  const roots = new Map<string, { sig: Signature<E>; child: boolean[] }[]>();
  const tally = new Map<number, number>();
  for (const s of group) {
    tally.clear();
    const fs: number[] = new Array(n);
    // Variables are wildcards: they stay in the common part and take no part in choosing it.
    for (let c = 0; c < n; c++) {
      const f = freq[c].get(gen(s.words[c])) as number;
      const v = gen(s.words[c]) === VAR;
      fs[c] = v ? Number.POSITIVE_INFINITY : f;
      if (!v) tally.set(f, (tally.get(f) ?? 0) + 1);
    }
    let rootF = 0;
    let best = -1;
    for (const [f, k] of tally) {
      if (k > best || (k === best && f > rootF)) {
        best = k;
        rootF = f;
      }
    }
    let key = '';
    const child: boolean[] = new Array(n);
    for (let c = 0; c < n; c++) {
      child[c] = fs[c] < rootF;
      key += child[c] ? `\u0001${VAR}` : `\u0001${gen(s.words[c])}`;
    }
    let r = roots.get(key);
    if (!r) {
      r = [];
      roots.set(key, r);
    }
    r.push({ sig: s, child });
  }
  const out: Signature<E>[][] = [];
  for (const key of [...roots.keys()].sort()) {
    const members = roots.get(key) as { sig: Signature<E>; child: boolean[] }[];
    const cols: number[] = [];
    for (let c = 0; c < n; c++) if (members.some((m) => m.child[c])) cols.push(c);
    splitChildren(
      members.map((m) => m.sig),
      cols,
      out,
    );
  }
  return out;
}

/** Splits by the child column with the fewest distinct constant words (≤ CHILD_SPLIT_MAX), recursively. */
function splitChildren<E>(sigs: Signature<E>[], cols: number[], out: Signature<E>[][]): void {
  if (sigs.length === 1 || cols.length === 0) {
    out.push(sigs);
    return;
  }
  let bestCol = -1;
  let bestDistinct = Number.POSITIVE_INFINITY;
  for (const c of cols) {
    const seen = new Set<string>();
    let anyConst = false;
    for (const s of sigs) {
      const w = s.words[c];
      seen.add(w === '' || isVar(w) ? VAR : w);
      if (!isVar(w)) anyConst = true;
    }
    // A column that holds a variable in some events is a variable column (`rhost=<IP>` and
    // `rhost=host.example.com` are one template).
    if (!anyConst || seen.size < 2 || seen.has(VAR)) continue;
    const max = [...seen].every((w) => KEYWORD_RE.test(w)) ? CHILD_SPLIT_MAX_KEYWORDS : CHILD_SPLIT_MAX;
    if (seen.size <= max && seen.size < bestDistinct) {
      bestDistinct = seen.size;
      bestCol = c;
    }
  }
  if (bestCol < 0) {
    out.push(sigs);
    return;
  }
  const parts = new Map<string, Signature<E>[]>();
  for (const s of sigs) {
    const w = s.words[bestCol] === '' || isVar(s.words[bestCol]) ? VAR : s.words[bestCol];
    let p = parts.get(w);
    if (!p) {
      p = [];
      parts.set(w, p);
    }
    p.push(s);
  }
  const rest = cols.filter((c) => c !== bestCol);
  for (const w of [...parts.keys()].sort()) splitChildren(parts.get(w) as Signature<E>[], rest, out);
}
