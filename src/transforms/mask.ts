/**
 * `mask` transform (on by default): replaces secrets before any sink sees a record. Key-based — a
 * field whose name ends with a sensitive word (password, passwd, passphrase, secret, token,
 * authorization, apiKey/api_key, accessKey, secretKey, secretAccessKey, privateKey, cookie,
 * session, sessionId, clientSecret, credentials; case, `-`, `_` and `.` ignored; any depth;
 * configurable) has its whole value replaced. Value-based — every string field and the message are
 * scanned with one combined regular expression for AWS access key ids (AKIA…/ASIA…), sensitive
 * `key=value` / `"key": "value"` pairs in text (query strings, logfmt, JSON embedded in a message —
 * this is how AWS secret keys are caught in context), `Bearer`/`Basic` credentials, JWTs, PEM
 * private keys, passwords in URLs (`scheme://user:pass@`), literal secret values (configured, or
 * registered at runtime with `registerSecret` by whatever resolved them), and optionally e-mail
 * addresses (off by default). It rewrites `record.message` too: the documented exception to "the
 * message is never rewritten", because security beats fidelity. Never drops a record. Costs: a
 * pre-filter per string of 4+ characters (native `indexOf` scans for each pattern's anchor and a
 * right-to-left key check at each `:`/`=`; see `buildPrefilter`), the combined regex only where the
 * pre-filter cannot rule a match out, a replace pass only when it matched, no allocation when
 * nothing matches; sensitive-key decisions are cached. Limits: pattern-based, so it lowers but does
 * not remove the risk of leaking secrets with unusual shapes; literal secrets shorter than
 * MIN_SECRET_LENGTH are ignored (they would mangle ordinary text).
 */
import {
  clearSecretsForTests,
  registerSecret as registerCoreSecret,
  registeredSecrets,
  secretsVersion,
} from '../core/secrets-registry.js';
import { z } from 'zod';
import type { BuildContext } from '../core/component.js';
import { LogferryError } from '../core/errors.js';
import type { Transform } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';

export const DEFAULT_REPLACEMENT = '****';
/** Literal secrets shorter than this are not masked (too likely to match ordinary text). */
export const MIN_SECRET_LENGTH = 6;
/** Nesting depth walked in `fields`; deeper values are masked as a whole only if they are strings. */
export const MAX_MASK_DEPTH = 32;
/** Strings shorter than this cannot hold any default pattern; they are skipped. */
const MIN_CANDIDATE_LENGTH = 4;
/** Strings up to this length are pre-filtered by one character loop rather than native scans. */
const SHORT_SCAN = 32;
/** Bound of the per-transform key decision cache (keys repeat across records). */
const KEY_CACHE_MAX = 10_000;

/** Field-name endings treated as secret (compared lower-cased without `-`, `_`, `.`). */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'authorization',
  'apiKey',
  'accessKey',
  'secretKey',
  'secretAccessKey',
  'privateKey',
  'cookie',
  'setCookie',
  'session',
  'sessionId',
  'clientSecret',
  'credentials',
];

const boolDefault = (v: boolean) => z.boolean().default(v);

export const maskOptionsSchema = z.strictObject({
  type: z.literal('mask'),
  /** Text that replaces a secret (default `****`). */
  replacement: z.string().min(1).default(DEFAULT_REPLACEMENT),
  /** Add or remove sensitive key names (`remove` takes names from the default list). */
  keys: z
    .strictObject({
      add: z.array(z.string().min(2)).default([]),
      remove: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  /** Value patterns; all on except `email`. */
  patterns: z
    .strictObject({
      keyValue: boolDefault(true),
      awsAccessKeyId: boolDefault(true),
      awsSecretKey: boolDefault(true),
      bearer: boolDefault(true),
      jwt: boolDefault(true),
      privateKey: boolDefault(true),
      urlCredentials: boolDefault(true),
      email: boolDefault(false),
    })
    .prefault({}),
  /** Extra regular expressions (JavaScript syntax); every match is replaced. */
  extraPatterns: z
    .array(
      z.string().refine(
        (s) => {
          try {
            new RegExp(s, 'g');
            return true;
          } catch {
            return false;
          }
        },
        { error: 'invalid regular expression' },
      ),
    )
    .default([]),
  /** Literal secret values always masked. */
  secrets: z.array(z.string().min(MIN_SECRET_LENGTH)).default([]),
  /** Secret references (`ssm:/name`, `secretsmanager:id#key`, `env:NAME`) resolved at start and masked. */
  secretRefs: z.array(z.string().min(1)).default([]),
  /** Mask `record.message` as well as fields (default true). */
  message: z.boolean().default(true),
});

export type MaskOptions = z.input<typeof maskOptionsSchema>;
type MaskConfig = z.output<typeof maskOptionsSchema>;

// ---- runtime secret registry ---------------------------------------------------------------

// The one registry is core's (src/core/secrets-registry.ts); this transform reads it.

/**
 * Registers a secret value (a resolved token, password, API key) so every mask transform in this
 * process masks it from now on. Values shorter than MIN_SECRET_LENGTH are ignored.
 */
export function registerSecret(value: string): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
  registerCoreSecret(value);
}

/** Forgets every runtime secret (tests, or a process that rotates credentials). */
export function clearRegisteredSecrets(): void {
  clearSecretsForTests();
}

/** A build context whose `resolveSecret` registers each value it resolves (for sinks/sources). */
export function withSecretRegistration(ctx: BuildContext): BuildContext {
  const resolve = ctx.resolveSecret;
  if (!resolve) return ctx;
  return {
    ...ctx,
    resolveSecret: async (ref) => {
      const v = await resolve(ref);
      registerSecret(v);
      return v;
    },
  };
}

// ---- key matching ----------------------------------------------------------------------------

function normalizeKey(k: string): string {
  return k.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Splits `secretAccessKey`, `api_key`, `X-Api-Key` into lower-case words. */
function keyWords(k: string): string[] {
  return k
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s\-_.]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Case-insensitive literal without the `i` flag (the combined regex must stay case-sensitive). */
function ci(word: string): string {
  let out = '';
  for (const ch of word) {
    const lo = ch.toLowerCase();
    const up = ch.toUpperCase();
    out += lo === up ? escapeRegex(ch) : `[${lo}${up}]`;
  }
  return out;
}

function keyAlternation(keys: readonly string[]): string {
  const frags = [...new Set(keys.map((k) => keyWords(k).map(ci).join('[-_.]?')))];
  frags.sort((a, b) => b.length - a.length);
  return frags.join('|');
}

// ---- the combined pattern --------------------------------------------------------------------

export interface Patterns {
  /** Every branch, non-global: the detection test. */
  test?: RegExp;
  /** The same, global: the replace pass. (Splitting detection into a case-insensitive key regex
   *  and the rest measured no faster on V8 over the bench corpus, so one pattern it is.) */
  combined?: RegExp;
}

export function buildPatterns(
  cfg: MaskConfig,
  keys: readonly string[],
  literals: readonly string[],
): Patterns {
  const p = cfg.patterns;
  const branches: string[] = [];
  if (p.privateKey) {
    branches.push(
      '(?<pem>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\\s\\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$))',
    );
  }
  if (p.urlCredentials) {
    // Anchored on `://` (rare) rather than on every word start.
    branches.push(`(?<urlp>://[^\\s:/?#@"']+:)(?<urlw>[^\\s/?#@"']+)(?=@)`);
  }
  if (p.awsSecretKey) {
    // A 40-character AWS secret access key next to its name, whatever the separator style.
    const name = `(?:${ci('aws')}[-_.]?)?${ci('secret')}[-_.]?${ci('access')}[-_.]?${ci('key')}`;
    branches.push(
      `(?<awsk>${name}\\\\?["']?\\s*[:=]\\s*\\\\?["']?)(?<awsv>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])`,
    );
  }
  if (p.keyValue && keys.length > 0) {
    // key, then: quoted key + `:`/`=`; `=`; `:` directly followed by the value; `: "quoted"`.
    // (Tried: the key in a lookbehind, matching from the separator. V8 ran it 10× slower.)
    const sep = '(?:\\\\?["\']\\s*[:=]\\s*|\\s*=>?\\s*|:(?=[^\\s/])|:\\s+(?=\\\\?["\']))';
    const scheme = '(?:(?:[Bb]earer|Basic|[Tt]oken)\\s+)?';
    const value =
      '(?:\\\\"(?<v2>(?:[^"\\\\]|\\\\[^"])*)\\\\"' +
      // An unterminated quoted value (a truncated line) is masked to the end of the line.
      '|"(?<v1>(?:[^"\\\\\\n]|\\\\.)*)(?:"|(?=\\n)|$)' +
      "|'(?<v3>[^'\\n]*)'" +
      '|(?<v4>(?!(?:null|true|false)\\b)[^\\s&,;"\'<>{}\\[\\]\\\\]+))';
    branches.push(`(?<kvk>(?:${keyAlternation(keys)})${sep}${scheme})${value}`);
  }
  if (p.bearer) {
    branches.push(
      '(?<bs>\\b(?:[Bb]earer|Basic)\\s+)(?<bt>(?=[A-Za-z0-9._~+/-]*[0-9._~+/-])[A-Za-z0-9._~+/-]{8,}=*)',
    );
  }
  if (p.jwt) branches.push('(?<jwt>\\beyJ[A-Za-z0-9_-]{4,}\\.eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*)');
  if (p.awsAccessKeyId) branches.push('(?<akid>\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b)');
  if (literals.length > 0) {
    const lits = [...literals].sort((a, b) => b.length - a.length).map(escapeRegex);
    branches.push(`(?<lit>${lits.join('|')})`);
  }
  if (p.email)
    branches.push(
      '(?<email>(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}\\b)',
    );
  if (branches.length === 0) return {};
  const src = branches.join('|');
  return { test: new RegExp(src), combined: new RegExp(src, 'g') };
}

// ---- the pre-filter ---------------------------------------------------------------------------

/** JavaScript's `\s` (what the separators in the combined pattern allow). */
function isSpace(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * A cheap test that is true whenever the combined pattern can match (it may also be true when the
 * pattern does not): when it is false the regular expression never runs. The combined pattern has
 * no literal prefix V8 could scan for (the key branch starts at any letter of a sensitive word), so
 * testing it costs a walk of every branch at every position; this pre-filter instead looks for what
 * each branch cannot match without:
 * - PEM `-----BEGIN `, URL credentials `://`, Bearer/Basic `earer`/`Basic`, JWT `eyJ`, access key
 *   ids `AKIA`/`ASIA`, e-mail `@`, each literal secret: `indexOf` (native, vectorised scans);
 * - key=value pairs and AWS secret keys: every such match holds a `:` or `=` whose left side, after
 *   optional white space, an optional quote and an optional backslash, ends with a sensitive key
 *   (its words compared ASCII case-insensitively, each `-`/`_`/`.` between them optional). Each `:`
 *   and `=` is checked from right to left, which fails on the first or second character almost
 *   always (most keys in logs are not sensitive).
 * Keys with characters other than ASCII letters and digits (only possible through `keys.add`) turn
 * the key check off: then any `:` or `=` counts as a candidate, as before this pre-filter existed.
 */
export function buildPrefilter(
  cfg: MaskConfig,
  keys: readonly string[],
  literals: readonly string[],
): (s: string) => boolean {
  const p = cfg.patterns;
  // Substrings each branch cannot match without (the rarest part of its literal prefix).
  const anchors: string[] = [];
  if (p.privateKey) anchors.push('BEGIN ');
  if (p.bearer) anchors.push('Bearer', 'bearer', 'Basic');
  if (p.jwt) anchors.push('yJ');
  if (p.awsAccessKeyId) anchors.push('AKIA', 'ASIA');
  if (p.email) anchors.push('@');
  for (const l of literals) anchors.push(l);
  const url = p.urlCredentials;

  // Sensitive key forms as lower-case word lists, for the right-to-left check.
  const forms: string[][] = [];
  if (p.keyValue) for (const k of keys) forms.push(keyWords(k));
  if (p.awsSecretKey) forms.push(['secret', 'access', 'key']);
  let anySeparator = false;
  const good: string[][] = [];
  for (const words of forms) {
    if (words.length === 0 || words.some((w) => !/^[a-z0-9]+$/.test(w))) anySeparator = true;
    else good.push(words);
  }
  // Candidate forms by the last two characters of the last word (lower case, 7 bits each): one
  // typed-array lookup discards almost every `:`/`=` in ordinary text. A one-character last word
  // is listed under every possible character before it.
  const bySuffix = new Map<number, string[][]>();
  const suffixHit = new Uint8Array(128 * 128);
  const add = (code: number, words: string[]) => {
    suffixHit[code] = 1;
    const list = bySuffix.get(code);
    if (list) list.push(words);
    else bySuffix.set(code, [words]);
  };
  for (const words of good) {
    const last = words[words.length - 1];
    const z = last.charCodeAt(last.length - 1);
    if (last.length >= 2) add((last.charCodeAt(last.length - 2) << 7) | z, words);
    else for (let y = 0; y < 128; y++) add((y << 7) | z, words);
  }
  const keyCheck = forms.length > 0;

  /** Does a sensitive key form (ASCII case-insensitive, optional `-_.` between words) end at `e`? */
  const keyEndsAt = (s: string, e: number, cands: readonly string[][]): boolean => {
    outer: for (let k = 0; k < cands.length; k++) {
      const words = cands[k];
      let i = e;
      for (let w = words.length - 1; w >= 0; w--) {
        const word = words[w];
        if (w < words.length - 1 && i >= 0) {
          const c = s.charCodeAt(i);
          if (c === 45 || c === 95 || c === 46) i--; // - _ . (never part of a word)
        }
        if (i + 1 < word.length) continue outer;
        for (let j = word.length - 1; j >= 0; j--, i--) {
          let c = s.charCodeAt(i);
          if (c >= 65 && c <= 90) c += 32;
          if (c !== word.charCodeAt(j)) continue outer;
        }
      }
      return true;
    }
    return false;
  };

  /**
   * A `:` or `=` at `at`: could a sensitive key, then a separator, lead up to it? Every separator
   * of the key branches reads, right to left: `[:=]`, white space, an optional quote, an optional
   * backslash, then the key (whose last character is a letter or digit, never a quote).
   */
  const keyBefore = (s: string, at: number): boolean => {
    let a = at - 1;
    let c = s.charCodeAt(a);
    while (c === 32 || (c >= 9 && c <= 13) || (c >= 128 && isSpace(c))) c = s.charCodeAt(--a);
    if (c === 34 || c === 39) {
      c = s.charCodeAt(--a);
      if (c === 92) c = s.charCodeAt(--a);
    }
    if (a < 0) return false;
    // (At a = 0 the character before is NaN, `| 32` makes it a space: one-letter words see it.)
    // `| 32` lower-cases ASCII letters (other characters may map onto a listed pair: a harmless
    // extra candidate, never a missed one).
    const z = c | 32;
    const y = s.charCodeAt(a - 1) | 32;
    if (z >= 128 || y >= 128) return false;
    const code = (y << 7) | z;
    if (suffixHit[code] === 0) return false;
    return keyEndsAt(s, a, bySuffix.get(code) as string[][]);
  };

  /**
   * After `://`: the URL branch needs at least one character outside `\s:/?#@"'` (the user name),
   * and an `@` somewhere after it.
   */
  const userInfoAt = (s: string, i: number): boolean => {
    const c = s.charCodeAt(i);
    if (i >= s.length || isSpace(c)) return false;
    if (c === 58 || c === 47 || c === 63 || c === 35 || c === 64 || c === 34 || c === 39) return false;
    return s.indexOf('@', i) >= 0;
  };

  // Anchors sharing a first character (`Bearer`, `Basic`, `BEGIN `; `AKIA`, `ASIA`) are found by one
  // scan for that character (rare in most logs) instead of one scan each; the others by `indexOf`.
  const heads = new Map<string, string[]>();
  for (const a of anchors) {
    const list = heads.get(a[0]);
    if (list) list.push(a);
    else heads.set(a[0], [a]);
  }
  const single: string[] = [];
  const grouped: { head: string; list: string[] }[] = [];
  for (const [head, list] of heads) {
    if (list.length === 1) single.push(list[0]);
    else grouped.push({ head, list });
  }

  // Short strings (most field values): one pass over their characters, looking for any character
  // an anchor starts with or a `:`/`=`, costs less than a native call per anchor; only a string
  // holding one of them goes on to the full check below.
  const trigger = new Uint8Array(65536);
  for (const a of anchors) trigger[a.charCodeAt(0)] = 1;
  if (url || keyCheck) trigger[58] = 1;
  if (keyCheck) trigger[61] = 1;

  return (s: string): boolean => {
    if (s.length <= SHORT_SCAN) {
      let i = 0;
      while (i < s.length && trigger[s.charCodeAt(i)] === 0) i++;
      if (i === s.length) return false;
    }
    for (let i = 0; i < single.length; i++) if (s.indexOf(single[i]) >= 0) return true;
    for (let g = 0; g < grouped.length; g++) {
      const { head, list } = grouped[g];
      for (let at = s.indexOf(head); at >= 0; at = s.indexOf(head, at + 1)) {
        for (let k = 0; k < list.length; k++) if (s.startsWith(list[k], at)) return true;
      }
    }
    if (url || keyCheck) {
      for (let at = s.indexOf(':'); at >= 0; at = s.indexOf(':', at + 1)) {
        if (url && s.charCodeAt(at + 1) === 47 && s.charCodeAt(at + 2) === 47 && userInfoAt(s, at + 3))
          return true;
        if (keyCheck && (anySeparator || keyBefore(s, at))) return true;
      }
    }
    if (keyCheck) {
      for (let at = s.indexOf('='); at >= 0; at = s.indexOf('=', at + 1)) {
        if (anySeparator || keyBefore(s, at)) return true;
      }
    }
    return false;
  };
}

interface Groups {
  awsk?: string;
  urlp?: string;
  kvk?: string;
  v1?: string;
  v2?: string;
  v3?: string;
  v4?: string;
  bs?: string;
}

// ---- the transform ---------------------------------------------------------------------------

export interface Masker {
  /** The string with secrets replaced; the same string (no allocation) when nothing matched. */
  maskString(s: string): string;
  /** Masks a record in place (fields, and the message unless disabled). */
  maskRecord(record: LogRecord): void;
  isSensitiveKey(key: string): boolean;
}

export function createMasker(options: MaskOptions = { type: 'mask' }): Masker {
  const cfg = maskOptionsSchema.parse(options);
  const R = cfg.replacement;
  const removed = new Set(cfg.keys.remove.map(normalizeKey));
  const keys = [...DEFAULT_SENSITIVE_KEYS.filter((k) => !removed.has(normalizeKey(k))), ...cfg.keys.add];
  const keyEnds = [...new Set(keys.map(normalizeKey))];
  const keyCache = new Map<string, boolean>();
  const extra = cfg.extraPatterns.map((s) => new RegExp(s, 'g'));
  const extraTest = cfg.extraPatterns.map((s) => new RegExp(s));

  let version = -1;
  let pats: Patterns = {};
  let mayMatch: (s: string) => boolean = () => true;

  const rebuild = () => {
    version = secretsVersion();
    const literals = [...cfg.secrets, ...registeredSecrets()].filter((s) => s.length >= MIN_SECRET_LENGTH);
    pats = buildPatterns(cfg, keys, literals);
    mayMatch = buildPrefilter(cfg, keys, literals);
  };
  rebuild();

  const replacer = (match: string, ...args: unknown[]): string => {
    const g = args[args.length - 1] as Groups;
    if (g.kvk !== undefined) {
      if (g.v1 !== undefined) {
        if (g.v1 === '') return match;
        return match.endsWith('"') ? `${g.kvk}"${R}"` : `${g.kvk}"${R}`;
      }
      if (g.v2 !== undefined) return g.v2 === '' ? match : `${g.kvk}\\"${R}\\"`;
      if (g.v3 !== undefined) return g.v3 === '' ? match : `${g.kvk}'${R}'`;
      return g.kvk + R;
    }
    if (g.awsk !== undefined) return g.awsk + R;
    if (g.urlp !== undefined) return g.urlp + R;
    if (g.bs !== undefined) return g.bs + R;
    return R;
  };

  const maskString = (s: string): string => {
    if (version !== secretsVersion()) rebuild();
    if (s.length < MIN_CANDIDATE_LENGTH) return s;
    let out = s;
    // The pre-filter is true whenever the combined pattern could match: the regex runs only then.
    if (pats.test && mayMatch(s) && pats.test.test(s)) {
      out = s.replace(pats.combined as RegExp, replacer);
    }
    for (let i = 0; i < extra.length; i++) {
      if (extraTest[i].test(out)) out = out.replace(extra[i], R);
    }
    return out;
  };

  const isSensitiveKey = (key: string): boolean => {
    let v = keyCache.get(key);
    if (v === undefined) {
      const n = normalizeKey(key);
      v = false;
      for (const end of keyEnds) {
        if (n.endsWith(end)) {
          v = true;
          break;
        }
      }
      if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
      keyCache.set(key, v);
    }
    return v;
  };

  const maskArray = (arr: unknown[], depth: number): void => {
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      if (typeof v === 'string') {
        const m = maskString(v);
        if (m !== v) arr[i] = m;
      } else if (typeof v === 'object' && v !== null && depth < MAX_MASK_DEPTH) {
        if (Array.isArray(v)) maskArray(v, depth + 1);
        else maskObject(v as Record<string, unknown>, depth + 1);
      }
    }
  };

  const maskObject = (obj: Record<string, unknown>, depth: number): void => {
    for (const k in obj) {
      const v = obj[k];
      if (v === null || v === undefined) continue;
      const t = typeof v;
      if (t === 'boolean') continue;
      if (isSensitiveKey(k)) {
        if (v !== R) obj[k] = R;
        continue;
      }
      if (t === 'string') {
        const m = maskString(v as string);
        if (m !== v) obj[k] = m;
      } else if (t === 'object' && depth < MAX_MASK_DEPTH) {
        if (Array.isArray(v)) maskArray(v, depth + 1);
        else maskObject(v as Record<string, unknown>, depth + 1);
      }
    }
  };

  return {
    maskString,
    isSensitiveKey,
    maskRecord(record) {
      if (cfg.message) {
        const m = maskString(record.message);
        if (m !== record.message) record.message = m;
      }
      maskObject(record.fields, 0);
    },
  };
}

export function createMaskTransform(options: MaskOptions = { type: 'mask' }): Transform {
  const masker = createMasker(options);
  return {
    type: 'mask',
    apply(record) {
      masker.maskRecord(record);
      return record;
    },
  };
}

/** Registry factory: resolves `secretRefs` (and registers them) before building the transform. */
export async function buildMaskTransform(cfg: MaskConfig, ctx: BuildContext): Promise<Transform> {
  if (cfg.secretRefs.length > 0) {
    if (!ctx.resolveSecret)
      throw new LogferryError('CONFIG_INVALID', 'mask.secretRefs needs a secret resolver in this context');
    for (const ref of cfg.secretRefs) registerSecret(await ctx.resolveSecret(ref));
  }
  return createMaskTransform(cfg);
}
