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
 * message is never rewritten", because security beats fidelity. Never drops a record. Costs: one
 * regex test per string of 4+ characters, a replace pass only when it matched, no allocation when
 * nothing matches; sensitive-key decisions are cached. Limits: pattern-based, so it lowers but does
 * not remove the risk of leaking secrets with unusual shapes; literal secrets shorter than
 * MIN_SECRET_LENGTH are ignored (they would mangle ordinary text).
 */
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
/**
 * Below this length AKIA/ASIA ids (20) and PEM blocks cannot occur, so a cheaper check for what
 * can (see `shortCandidate`) runs before the combined regex.
 */
const SHORT_STRING = 20;
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

const runtimeSecrets = new Set<string>();
let runtimeSecretsVersion = 0;

/**
 * Registers a secret value (a resolved token, password, API key) so every mask transform in this
 * process masks it from now on. Values shorter than MIN_SECRET_LENGTH are ignored.
 */
export function registerSecret(value: string): void {
  if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || runtimeSecrets.has(value)) return;
  runtimeSecrets.add(value);
  runtimeSecretsVersion++;
}

/** Forgets every runtime secret (tests, or a process that rotates credentials). */
export function clearRegisteredSecrets(): void {
  runtimeSecrets.clear();
  runtimeSecretsVersion++;
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

  let literals: string[] = [];
  const rebuild = () => {
    version = runtimeSecretsVersion;
    literals = [...cfg.secrets, ...runtimeSecrets].filter((s) => s.length >= MIN_SECRET_LENGTH);
    pats = buildPatterns(cfg, keys, literals);
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

  // Short strings (most field values) can only hold a key=value / key:value pair, a Bearer/Basic
  // credential, a short JWT, an e-mail address or a literal secret: a few indexOf calls rule them
  // out before the regex runs.
  const email = cfg.patterns.email;
  const shortCandidate = (s: string): boolean => {
    if (s.indexOf('=') >= 0 || s.indexOf(':') >= 0 || (email && s.indexOf('@') >= 0)) return true;
    if (s.indexOf('earer') >= 0 || s.indexOf('Basic') >= 0 || s.indexOf('eyJ') >= 0) return true;
    for (const l of literals) if (l.length <= s.length && s.indexOf(l) >= 0) return true;
    return false;
  };

  const maskString = (s: string): string => {
    if (version !== runtimeSecretsVersion) rebuild();
    if (s.length < MIN_CANDIDATE_LENGTH) return s;
    let out = s;
    if (pats.test && (s.length >= SHORT_STRING || shortCandidate(s)) && pats.test.test(s)) {
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
