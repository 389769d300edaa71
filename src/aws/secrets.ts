/**
 * Resolves secret references so credentials never sit in config literals:
 *   `ssm:/name`                        SSM Parameter Store (SecureString decrypted)
 *   `secretsmanager:<id>[#jsonKey]`    Secrets Manager (name or ARN; `#key` picks one field of a JSON secret)
 *   `env:NAME`                         an environment variable
 * Values are cached for a TTL (default 5 minutes, `LOGFERRY_SECRET_TTL_SECONDS`) and concurrent
 * look-ups of one reference share a single request. `refresh(ref)` bypasses the cache: sinks call it
 * once after an authentication failure (a rotated credential). When a TTL re-read fails but an
 * older value is cached, the older value is served (a brief Secrets Manager outage must not stop
 * delivery with a credential that still works); a first read that fails throws SECRET_UNAVAILABLE.
 *
 * Every resolved value is registered with the one process-wide secret list
 * (src/core/secrets-registry.ts), which the mask transform reads, so no resolved secret reaches a
 * sink, the dead-letter sink or a log line. Error messages name the reference, never the value.
 * Control-plane calls: SDK retries stay on (3 attempts).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { BuildContext } from '../core/component.js';
import { LogferryError } from '../core/errors.js';
import { registerSecret } from '../core/secrets-registry.js';
import { clientConfig } from './clients.js';

export const DEFAULT_SECRET_TTL_MS = 5 * 60_000;

export type SecretRef =
  | { kind: 'ssm'; name: string }
  | { kind: 'secretsmanager'; id: string; jsonKey?: string }
  | { kind: 'env'; name: string };

const PREFIXES = ['ssm:', 'secretsmanager:', 'env:'] as const;

/** True when `s` is written as a secret reference (`ssm:`, `secretsmanager:`, `env:`). */
export function isSecretRef(s: unknown): s is string {
  return typeof s === 'string' && PREFIXES.some((p) => s.startsWith(p) && s.length > p.length);
}

/** Parses a reference; throws CONFIG_INVALID for anything else (the message never echoes the text). */
export function parseSecretRef(ref: string): SecretRef {
  if (ref.startsWith('ssm:')) {
    const name = ref.slice(4);
    if (name) return { kind: 'ssm', name };
  } else if (ref.startsWith('secretsmanager:')) {
    const rest = ref.slice('secretsmanager:'.length);
    const hash = rest.lastIndexOf('#');
    const id = hash >= 0 ? rest.slice(0, hash) : rest;
    const jsonKey = hash >= 0 ? rest.slice(hash + 1) : undefined;
    if (id && jsonKey !== '')
      return jsonKey === undefined ? { kind: 'secretsmanager', id } : { kind: 'secretsmanager', id, jsonKey };
  } else if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return { kind: 'env', name };
  }
  throw new LogferryError(
    'CONFIG_INVALID',
    'not a secret reference: expected ssm:/name, secretsmanager:<id>[#jsonKey] or env:NAME',
  );
}

export interface SecretResolverOptions {
  ttlMs?: number;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

interface Entry {
  value: string;
  expires: number;
}

export class SecretResolver {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly env: NodeJS.ProcessEnv;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private sm?: SecretsManagerClient;
  /** Look-ups that went to the backing store (for tests and metrics). */
  fetches = 0;

  constructor(opts: SecretResolverOptions = {}) {
    this.env = opts.env ?? process.env;
    const fromEnv = Number(this.env.LOGFERRY_SECRET_TTL_SECONDS);
    this.ttlMs =
      opts.ttlMs ??
      (Number.isFinite(fromEnv) && fromEnv >= 0 && this.env.LOGFERRY_SECRET_TTL_SECONDS
        ? fromEnv * 1000
        : DEFAULT_SECRET_TTL_MS);
    this.now = opts.now ?? Date.now;
  }

  /** The value of `ref`, from the cache while fresh. */
  resolve(ref: string): Promise<string> {
    const hit = this.cache.get(ref);
    if (hit && hit.expires > this.now()) return Promise.resolve(hit.value);
    return this.load(ref, hit);
  }

  /** Re-reads `ref` from its store (after an authentication failure); never serves a stale value. */
  refresh(ref: string): Promise<string> {
    return this.load(ref, undefined);
  }

  private load(ref: string, stale: Entry | undefined): Promise<string> {
    const running = this.inflight.get(ref);
    if (running) return running;
    const p = this.fetch(parseSecretRef(ref))
      .then((value) => {
        registerSecret(value);
        this.cache.set(ref, { value, expires: this.now() + this.ttlMs });
        return value;
      })
      .catch((e) => {
        if (stale) return stale.value;
        throw e;
      })
      .finally(() => this.inflight.delete(ref));
    this.inflight.set(ref, p);
    return p;
  }

  private async fetch(ref: SecretRef): Promise<string> {
    this.fetches++;
    switch (ref.kind) {
      case 'env': {
        const v = this.env[ref.name];
        if (v === undefined || v === '') {
          throw new LogferryError(
            'SECRET_UNAVAILABLE',
            `environment variable ${ref.name} (a secret reference) is not set`,
          );
        }
        return v;
      }
      case 'ssm':
        // The SSM and Secrets Manager clients load on first use: a Lambda bundle whose config
        // holds no such reference never evaluates them (bench/lambda-bundles.ts).
        return (await import('./ssm.js')).getParameter(ref.name, this.env);
      case 'secretsmanager':
        return this.secretsManager(ref.id, ref.jsonKey);
    }
  }

  private async secretsManager(id: string, jsonKey: string | undefined): Promise<string> {
    const m = await import('@aws-sdk/client-secrets-manager');
    // A bundled CommonJS package imported dynamically may come back as `{ default: exports }`.
    const { GetSecretValueCommand, SecretsManagerClient } =
      'SecretsManagerClient' in m ? m : (m as unknown as { default: typeof m }).default;
    this.sm ??= new SecretsManagerClient(clientConfig('secretsmanager', { maxAttempts: 3, env: this.env }));
    let text: string | undefined;
    try {
      const out = await this.sm.send(new GetSecretValueCommand({ SecretId: id }));
      text =
        out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
    } catch (e) {
      throw new LogferryError(
        'SECRET_UNAVAILABLE',
        `cannot read secret ${id} from Secrets Manager: ${(e as Error).name}`,
        {
          cause: e,
        },
      );
    }
    if (text === undefined) throw new LogferryError('SECRET_UNAVAILABLE', `secret ${id} has no value`);
    if (jsonKey === undefined) return text;
    // The whole JSON secret is sensitive too: register it before picking the key.
    registerSecret(text);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new LogferryError(
        'SECRET_UNAVAILABLE',
        `secret ${id} is not JSON, so #${jsonKey} cannot be read from it`,
      );
    }
    const v = doc && typeof doc === 'object' ? (doc as Record<string, unknown>)[jsonKey] : undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new LogferryError('SECRET_UNAVAILABLE', `secret ${id} has no string key "${jsonKey}"`);
  }
}

let shared: SecretResolver | undefined;

/** One resolver per process (Lambda container), so the cache survives invocations. */
export function sharedSecretResolver(env: NodeJS.ProcessEnv = process.env): SecretResolver {
  shared ??= new SecretResolver({ env });
  return shared;
}

/** The BuildContext members components use to resolve their credentials. */
export function secretContext(
  resolver: SecretResolver,
): Required<Pick<BuildContext, 'resolveSecret' | 'refreshSecret'>> {
  return { resolveSecret: (ref) => resolver.resolve(ref), refreshSecret: (ref) => resolver.refresh(ref) };
}
