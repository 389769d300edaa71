/**
 * The `opensearch` sink's connection: the HTTP client (its own retries off — the core retries),
 * authentication (basic credentials, literal or secret references; SigV4 for Amazon OpenSearch
 * Service and Serverless with the default credential chain), re-reading credentials once after a
 * 401/403, the server version check, `_bulk` requests, and turning a failed request into the error
 * the core's delivery engine understands (SINK_AUTH, SINK_THROTTLED, SINK_UNAVAILABLE,
 * SINK_REJECTED).
 */
import { Client, errors as osErrors } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws';
import { isSecretRef } from '../../aws/secrets.js';
import type { BuildContext, Logger } from '../../core/component.js';
import { describeError, isLogferryError, LogferryError } from '../../core/errors.js';
import { type BulkItemResult, detectServer, isSupported, type ServerInfo } from './bulk.js';
import { BULK_QUERY, MAX_REASON_CHARS, type OpenSearchSinkConfig } from './config.js';

// ---------------------------------------------------------------------------------------------

export interface Credentials {
  username: string;
  password: string;
}

/** `search-x.eu-west-1.es.amazonaws.com`, `abc.us-east-1.aoss.amazonaws.com` → the region. */
const AWS_ENDPOINT_REGION = /\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.(?:es|aoss)\.amazonaws\.com(?:\.cn)?$/;

export function awsEndpointRegion(hostname: string): string | undefined {
  return AWS_ENDPOINT_REGION.exec(hostname.toLowerCase())?.[1];
}

export function redactUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

export function statusOf(e: unknown): number | undefined {
  if (e instanceof osErrors.ResponseError) return e.statusCode ?? e.meta?.statusCode ?? undefined;
  return undefined;
}

function retryAfterMs(e: unknown): number | undefined {
  const h = (e as { meta?: { headers?: Record<string, string> } })?.meta?.headers?.['retry-after'];
  if (!h) return undefined;
  const secs = Number(h);
  return Number.isFinite(secs) && secs >= 0 ? secs * 1000 : undefined;
}

export async function resolveCredentials(
  cfg: OpenSearchSinkConfig,
  ctx: BuildContext,
): Promise<Credentials | undefined> {
  const u = new URL(cfg.url);
  if (cfg.auth?.type === 'basic') {
    if (u.username || u.password) {
      throw new LogferryError(
        'CONFIG_INVALID',
        'opensearch: give credentials either in the url or in auth, not both',
      );
    }
    const resolve = async (v: string) => {
      if (!isSecretRef(v)) return v;
      if (!ctx.resolveSecret) {
        throw new LogferryError(
          'CONFIG_INVALID',
          'opensearch: auth uses a secret reference but no secret resolver is available',
        );
      }
      return ctx.resolveSecret(v);
    };
    const [username, password] = await Promise.all([resolve(cfg.auth.username), resolve(cfg.auth.password)]);
    return { username, password };
  }
  if (u.username || u.password) {
    if (cfg.auth && cfg.auth.type !== 'none') {
      throw new LogferryError(
        'CONFIG_INVALID',
        'opensearch: credentials in the url cannot be combined with sigv4',
      );
    }
    return { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  }
  return undefined;
}

/** One sink's connection to its server; replaced client and credentials live here. */
export class OpenSearchConnection {
  readonly endpoint: URL;
  private client: Client;
  server?: ServerInfo;
  private creds?: Credentials;
  private credentialProvider?: () => Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
  }>;
  /** True once secrets were re-read after an auth failure and no success followed yet. */
  private refreshedAfterAuthFailure = false;

  constructor(
    private readonly cfg: OpenSearchSinkConfig,
    private readonly ctx: BuildContext,
    private readonly name: string,
    creds?: Credentials,
  ) {
    const u = new URL(cfg.url);
    u.username = '';
    u.password = '';
    this.endpoint = u;
    this.creds = creds;
    this.client = this.makeClient();
    if (cfg.auth?.type === 'sigv4' && cfg.auth.service === 'aoss') {
      // Serverless has no `GET /` with a version; it speaks the OpenSearch 2 API.
      this.server = { flavor: 'aoss', version: 'serverless', major: 2 };
    }
  }

  private get log(): Logger | undefined {
    return this.ctx.log;
  }

  private makeClient(): Client {
    const base = {
      node: this.endpoint.toString().replace(/\/+$/, ''),
      maxRetries: 0,
      requestTimeout: this.cfg.timeoutMs,
      compression: this.cfg.compression ? ('gzip' as const) : undefined,
      suggestCompression: this.cfg.compression,
    };
    const auth = this.cfg.auth;
    if (auth?.type === 'sigv4') {
      const region =
        auth.region ??
        awsEndpointRegion(this.endpoint.hostname) ??
        this.ctx.env?.AWS_REGION ??
        process.env.AWS_REGION ??
        process.env.AWS_DEFAULT_REGION;
      if (!region)
        throw new LogferryError(
          'CONFIG_INVALID',
          `${this.name}: sigv4 needs a region (auth.region or AWS_REGION)`,
        );
      return new Client({
        ...base,
        ...AwsSigv4Signer({
          region,
          service: auth.service,
          // One memoised default chain per sink; the signer re-asks only when credentials near expiry.
          getCredentials: async () => {
            if (!this.credentialProvider) {
              const m = await import('@aws-sdk/credential-provider-node');
              // In a Lambda bundle this CommonJS package comes back as `{ default: exports }`.
              const { defaultProvider } =
                'defaultProvider' in m ? m : (m as unknown as { default: typeof m }).default;
              this.credentialProvider = defaultProvider();
            }
            return this.credentialProvider();
          },
        }),
      });
    }
    return new Client(this.creds ? { ...base, auth: { ...this.creds } } : base);
  }

  async ensureServer(): Promise<ServerInfo> {
    if (this.server) return this.server;
    let info: ServerInfo;
    try {
      info = detectServer((await this.client.info()).body);
    } catch (e) {
      // A writer-only role may not read `GET /` (403), some builds do not serve it (404/405), a proxy
      // may answer something else: the version check is a courtesy, so go on with the API every
      // supported version shares. 401 (bad credentials) and unreachable servers still fail.
      const status = statusOf(e);
      const unreadable =
        status === 403 || status === 404 || status === 405 || (status === undefined && isLogferryError(e));
      if (!unreadable) await this.onRequestError(e);
      this.log?.warn('opensearch: could not read the server version; assuming a supported server', {
        sink: this.name,
        status,
      });
      this.server = { flavor: 'unknown', version: 'unknown', major: Number.NaN };
      return this.server;
    }
    if (!isSupported(info)) {
      this.log?.error('opensearch: unsupported server version', {
        sink: this.name,
        flavor: info.flavor,
        version: info.version,
      });
    } else {
      this.log?.info('opensearch: connected', {
        sink: this.name,
        url: redactUrl(this.endpoint),
        flavor: info.flavor,
        version: info.version,
      });
    }
    this.server = info;
    return info;
  }

  /** Turns a failed request into the error the core understands. Always throws. */
  async onRequestError(e: unknown): Promise<never> {
    const status = statusOf(e);
    if (status === 401 || status === 403) {
      const refreshed = await this.refreshCredentials();
      throw new LogferryError(
        'SINK_AUTH',
        `${this.name}: HTTP ${status} from ${redactUrl(this.endpoint)}${refreshed ? ' (credentials re-read; retrying)' : ''}`,
      );
    }
    if (status === 429) {
      throw new LogferryError('SINK_THROTTLED', `${this.name}: HTTP 429`, {
        details: { retryAfterMs: retryAfterMs(e) },
      });
    }
    if (status !== undefined && (status >= 500 || status === 408)) {
      throw new LogferryError('SINK_UNAVAILABLE', `${this.name}: HTTP ${status}`, {
        details: { retryAfterMs: retryAfterMs(e) },
      });
    }
    if (status !== undefined) {
      const body = (e as osErrors.ResponseError).body as
        | { error?: { type?: string; reason?: string } }
        | undefined;
      const why = body?.error ? `${body.error.type}: ${body.error.reason}` : `HTTP ${status}`;
      throw new LogferryError(
        'SINK_REJECTED',
        `${this.name}: request refused: ${why}`.slice(0, MAX_REASON_CHARS),
      );
    }
    if (e instanceof LogferryError) throw e;
    throw new LogferryError('SINK_UNAVAILABLE', `${this.name}: ${describeError(e)}`, { cause: e });
  }

  /** Re-reads secret-referenced credentials once per run of auth failures; true when it did. */
  private async refreshCredentials(): Promise<boolean> {
    const auth = this.cfg.auth;
    if (this.refreshedAfterAuthFailure) return false;
    if (auth?.type === 'sigv4') {
      // Rotated or revoked role credentials: start a fresh credential chain and signer.
      this.refreshedAfterAuthFailure = true;
      this.credentialProvider = undefined;
      this.replaceClient();
      this.log?.info('opensearch: AWS credentials re-read after an authentication failure', {
        sink: this.name,
      });
      return true;
    }
    if (auth?.type !== 'basic') return false;
    const refs = [auth.username, auth.password].filter(isSecretRef);
    if (refs.length === 0) return false;
    const reread = this.ctx.refreshSecret ?? this.ctx.resolveSecret;
    if (!reread) return false;
    this.refreshedAfterAuthFailure = true;
    const [username, password] = await Promise.all(
      [auth.username, auth.password].map((v) => (isSecretRef(v) ? reread(v) : Promise.resolve(v))),
    );
    this.creds = { username, password };
    this.replaceClient();
    this.log?.info('opensearch: credentials re-read after an authentication failure', { sink: this.name });
    return true;
  }

  private replaceClient(): void {
    const old = this.client;
    this.client = this.makeClient();
    void old.close().catch(() => {});
  }

  async bulk(body: string, signal?: AbortSignal): Promise<BulkItemResult[] | 'tooLarge' | 'ok'> {
    // A pre-serialised NDJSON string goes through as is (the typed `bulk()` only admits arrays).
    const req = this.client.transport.request({
      method: 'POST',
      path: '/_bulk',
      querystring: this.cfg.pipeline ? { ...BULK_QUERY, pipeline: this.cfg.pipeline } : BULK_QUERY,
      bulkBody: body,
    });
    // Block body on purpose: `abort()` returns the request's thenable, and an EventTarget listener
    // that returns a thenable has its rejection rethrown as an uncaught exception by Node.
    const abort = () => {
      req.abort();
    };
    signal?.addEventListener('abort', abort, { once: true });
    try {
      const res = await req;
      this.refreshedAfterAuthFailure = false;
      const b = res.body as unknown as { errors?: boolean; items?: Record<string, BulkItemResult>[] };
      if (b.errors === false) return 'ok';
      return (b.items ?? []).map((it) => {
        for (const k in it) return it[k];
        return { status: 500, error: { type: 'empty_item' } };
      });
    } catch (e) {
      if (statusOf(e) === 413) return 'tooLarge';
      return this.onRequestError(e);
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
