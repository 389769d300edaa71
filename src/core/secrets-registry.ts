/**
 * The process-wide list of literal secret values that must never reach a sink, a dead-letter entry
 * or a log line. Whoever resolves a secret (src/aws/secrets.ts: SSM, Secrets Manager, env refs)
 * registers the value here; the mask transform reads the list and replaces every occurrence in
 * messages and string fields. A version counter lets readers rebuild their matcher only when the
 * list changed (cheap check per record).
 *
 * Limits: values shorter than `MIN_SECRET_LENGTH` are not registered (masking every "ab" in every
 * log line would destroy the logs and protect nothing); the list is bounded by the number of
 * distinct references a process resolves (rotations add values; old ones stay masked).
 */

/** Shorter values are ignored: too likely to occur by chance in unrelated text. */
export const MIN_SECRET_LENGTH = 4;

const values = new Set<string>();
let version = 0;
const listeners = new Set<(value: string) => void>();

/** Registers a literal secret (and, for JSON objects, every string leaf of length ≥ MIN_SECRET_LENGTH). */
export function registerSecret(value: string): void {
  if (typeof value !== 'string') return;
  add(value);
  const t = value.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      for (const leaf of stringLeaves(JSON.parse(value))) add(leaf);
    } catch {
      // not JSON: the whole value is registered already
    }
  }
}

function add(v: string): void {
  if (v.length < MIN_SECRET_LENGTH || values.has(v)) return;
  values.add(v);
  version++;
  for (const l of listeners) l(v);
}

function* stringLeaves(v: unknown): Generator<string> {
  if (typeof v === 'string') yield v;
  else if (Array.isArray(v)) for (const x of v) yield* stringLeaves(x);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) yield* stringLeaves(x);
}

/** The registered values (longest first, so a matcher prefers the longest overlap). */
export function registeredSecrets(): string[] {
  return [...values].sort((a, b) => b.length - a.length);
}

/** Increases whenever a value is added; readers cache their matcher per version. */
export function secretsVersion(): number {
  return version;
}

/** Called with each newly registered value; returns an unsubscribe function. */
export function onSecretRegistered(fn: (value: string) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Replaces every registered value in `text` (for log lines and error messages). */
export function redactSecrets(text: string, replacement = '****'): string {
  if (values.size === 0 || !text) return text;
  let out = text;
  for (const v of registeredSecrets()) if (out.includes(v)) out = out.split(v).join(replacement);
  return out;
}

/** For tests only: forget every value. */
export function clearSecretsForTests(): void {
  values.clear();
  version++;
}
