/**
 * Seeded random logs for the pattern tests (and the pattern benches): a set of templates, each a
 * sequence of constant words, separators and typed variables, drawn with the project's PRNG.
 * Also `patternMatcher`: the documented reading of a `@pattern` as a regular expression.
 */
import { mulberry32 } from '../../core/prng.js';

type Part = { kind: 'const'; text: string } | { kind: 'var'; gen: (r: () => number) => string };

const WORDS =
  'request started finished failed connection closed opened user session cache miss hit worker job queue retry timeout upstream backend token refresh write read disk volume mounted node pod scheduled evicted'.split(
    ' ',
  );
const SEPS = [' ', ' ', ' ', ', ', ': ', ' - ', ' | '];

const hex = (r: () => number, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(r() * 16)];
  return s;
};

const VARS: ((r: () => number) => string)[] = [
  (r) => String(Math.floor(r() * 100000)),
  (r) =>
    `${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`,
  (r) => `${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}`,
  (r) => new Date(1_760_000_000_000 + Math.floor(r() * 1e9)).toISOString(),
  (r) => `${(r() * 1000).toFixed(2)}ms`,
  (r) => `id_${Math.floor(r() * 1e6)}`,
];

export interface Template {
  parts: Part[];
  seps: string[];
}

/** `count` random templates (seeded). */
export function randomTemplates(seed: number, count: number): Template[] {
  const r = mulberry32(seed);
  const out: Template[] = [];
  for (let t = 0; t < count; t++) {
    const n = 3 + Math.floor(r() * 8);
    const parts: Part[] = [];
    const seps: string[] = [''];
    const level = ['INFO', 'WARN', 'ERROR', 'DEBUG', ''][Math.floor(r() * 5)];
    if (level) {
      parts.push({ kind: 'const', text: level });
      seps.push(' ');
    }
    for (let i = 0; i < n; i++) {
      if (r() < 0.35) parts.push({ kind: 'var', gen: VARS[Math.floor(r() * VARS.length)] });
      else parts.push({ kind: 'const', text: `${WORDS[Math.floor(r() * WORDS.length)]}${t}` });
      seps.push(i === n - 1 ? '' : SEPS[Math.floor(r() * SEPS.length)]);
    }
    out.push({ parts, seps });
  }
  return out;
}

export function render(t: Template, r: () => number): string {
  let s = t.seps[0];
  for (let i = 0; i < t.parts.length; i++) {
    const p = t.parts[i];
    s += p.kind === 'const' ? p.text : p.gen(r);
    s += t.seps[i + 1];
  }
  return s;
}

/** `n` messages from `templates`, Zipf-ish template frequencies, seeded. */
export function randomLogs(seed: number, n: number, templates: Template[]): string[] {
  const r = mulberry32(seed ^ 0x5bd1e995);
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.min(templates.length - 1, Math.floor(templates.length * r() * r()));
    out[i] = render(templates[k], r);
  }
  return out;
}

/** Seeded Fisher–Yates shuffle (a copy). */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const r = mulberry32(seed);
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const TOKEN_RE = /<(?:Time|IPAddress|Number|Token)-\d+>/g;

/**
 * A `@pattern` read as a regular expression, as docs/patterns.md documents it: each `<Type-n>` token
 * matches any text (empty included), a run of whitespace matches any run of whitespace, and
 * everything else matches itself.
 */
export function patternMatcher(pattern: string): RegExp {
  const lit = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  let src = '';
  let last = 0;
  for (const m of pattern.matchAll(TOKEN_RE)) {
    src += `${lit(pattern.slice(last, m.index))}[\\s\\S]*?`;
    last = (m.index as number) + m[0].length;
  }
  src += lit(pattern.slice(last));
  return new RegExp(`^${src}$`);
}
