/**
 * Scenario `query-regex`: what the linear-time regex matching of query regexes (src/query/regex.ts,
 * issue 8) costs on ordinary patterns. For each pattern, the same messages are tested with the
 * matcher the engine now compiles (`toJsRegex`: V8 with its linear fallback, case-insensitivity
 * rewritten into classes, RE2JS where V8's linear engine cannot go) and, as the baseline in the same
 * run, with a plain `new RegExp(source, flags)` as the engine used before. Results must agree. One
 * catastrophic pattern is timed on the new path only (the baseline would not finish).
 *
 *   node --import tsx bench/query-regex.ts   (or: node scripts/bench.mjs query-regex)
 */
import { toJsRegex } from '../src/query/regex.js';
import { ALL_KINDS, events, rng, streamFor } from './data.js';
import { writeResults } from './lib/harness.js';

const N = 200_000;
const r = rng(7);
const messages: string[] = [];
for (let i = 0; messages.length < N; i++) {
  const kind = ALL_KINDS[i % ALL_KINDS.length];
  streamFor(kind, r);
  for (const e of events(kind, 50, r)) messages.push(e.message);
}
messages.length = N;
const mb = messages.reduce((a, m) => a + m.length, 0) / 1e6;

/** [pattern as written in a query, flags, pattern and flags for the old engine]. */
const PATTERNS: [string, string, string, string][] = [
  ['(?i)error|timeout|fail', '', 'error|timeout|fail', 'i'],
  ['status=5\\d\\d', '', 'status=5\\d\\d', ''],
  ['took=\\d{3}ms', '', 'took=\\d{3}ms', ''],
  ['"verb":"(get|list|watch)"', '', '"verb":"(get|list|watch)"', ''],
  ['(?i)get /cart/[a-f0-9]+', '', 'get /cart/[a-f0-9]+', 'i'],
  ['^\\d{4}-\\d{2}-\\d{2}T', '', '^\\d{4}-\\d{2}-\\d{2}T', ''],
  ['(?<lvl>[IWEF])\\d{4} (?<time>[0-9:.]+)', '', '(?<lvl>[IWEF])\\d{4} (?<time>[0-9:.]+)', ''],
];

function cpuMs(fn: () => number): { ms: number; hits: number } {
  let best = Number.POSITIVE_INFINITY;
  let hits = 0;
  for (let pass = 0; pass < 5; pass++) {
    const c0 = process.cpuUsage();
    hits = fn();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1000);
  }
  return { ms: Math.round(best * 10) / 10, hits };
}

const rows: Record<string, unknown>[] = [];
console.log(`messages: ${N.toLocaleString()}  (${mb.toFixed(1)} MB)`);
console.log('pattern                                   engine  before ms  after ms  ratio  hits');
for (const [src, flags, oldSrc, oldFlags] of PATTERNS) {
  const old = new RegExp(oldSrc, oldFlags);
  const now = toJsRegex(src, flags);
  const exec = src.includes('(?<');
  const run = (re: { test(s: string): boolean; exec(s: string): unknown }) => () => {
    let n = 0;
    if (exec) for (const m of messages) n += re.exec(m) ? 1 : 0;
    else for (const m of messages) n += re.test(m) ? 1 : 0;
    return n;
  };
  const a = cpuMs(run(old));
  const b = cpuMs(run(now.re));
  if (a.hits !== b.hits) throw new Error(`results differ for /${src}/: ${a.hits} vs ${b.hits}`);
  const ratio = Math.round((b.ms / a.ms) * 100) / 100;
  rows.push({ pattern: src, engine: now.engine, beforeMs: a.ms, afterMs: b.ms, ratio, hits: a.hits });
  console.log(
    `${src.padEnd(41)} ${now.engine.padEnd(7)} ${String(a.ms).padStart(9)} ${String(b.ms).padStart(9)} ${ratio.toFixed(2).padStart(6)}  ${a.hits}`,
  );
}
const evil = `${'a'.repeat(40)}b`;
const t0 = performance.now();
const evilHit = toJsRegex('(a+)+$', '').re.test(evil) || toJsRegex('(a|aa)+$', '').re.test(evil);
const evilMs = Math.round((performance.now() - t0) * 10) / 10;
console.log(`catastrophic /(a+)+$/ and /(a|aa)+$/ over 40 a's and a b: ${evilMs} ms (match: ${evilHit})`);
const geo = Math.exp(rows.reduce((s, x) => s + Math.log(x.ratio as number), 0) / rows.length);
console.log(`geometric mean after/before: ${geo.toFixed(2)}`);
writeResults('query-regex', {
  messages: N,
  mb,
  patterns: rows,
  geometricMeanRatio: geo,
  catastrophicMs: evilMs,
});
