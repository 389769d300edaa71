/**
 * Shorthand environment variables for the common case, as users of other forwarders expect. They
 * fill in only what the explicit config (LOGFERRY_CONFIG / LOGFERRY_CONFIG_PARAMETER) leaves unset;
 * explicit config always wins, section by section:
 *
 *   LOGFERRY_OPENSEARCH_URL       → an `opensearch` sink, when the config has no `sinks`. Basic
 *                                   credentials in the URL (`https://user:pass@host`) move into
 *                                   `auth` (URL-encoded secret references such as `ssm:/os/pw` stay
 *                                   references); Amazon OpenSearch Service (`*.es.amazonaws.com`) and
 *                                   Serverless (`*.aoss.amazonaws.com`) get SigV4 with the region
 *                                   from the host name.
 *   LOGFERRY_OPENSEARCH_AUTH      `sigv4` | `basic` | `none` (overrides the detection above)
 *   LOGFERRY_OPENSEARCH_USERNAME / LOGFERRY_OPENSEARCH_PASSWORD
 *                                 basic credentials; either may be a secret reference
 *   LOGFERRY_OPENSEARCH_REGION    SigV4 region when the host does not name one
 *   LOGFERRY_INDEX                index template for opensearch sinks that set none
 *                                 (default: one index per day, `logs-YYYY.MM.dd`)
 *   LOGFERRY_S3_URL               → an `s3` archive sink (`s3://bucket/prefix`), beside OpenSearch
 *   LOGFERRY_DLQ                  → `deadLetter`: an SQS queue URL, or `file://path` / a path
 *   LOGFERRY_DLQ_OVERFLOW_S3_URL  where the SQS dead-letter sink puts entries too large for a message
 *   LOGFERRY_MASK=false           turns masking off (`true`/unset: on)
 *   LOGFERRY_PARSE=none|auto      parsing by source (default auto)
 *
 * So with only LOGFERRY_OPENSEARCH_URL set: automatic parsing, masking on, one index per day.
 * A literal password found in the URL is registered with the secret list so masking removes it
 * from logs; `redactUrl` gives the form that may be logged.
 */
import { isSecretRef } from '../aws/secrets.js';
import { LogferryError } from '../core/errors.js';
import { registerSecret } from '../core/secrets-registry.js';

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** The URL with any password replaced, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:****@');
  }
}

const AWS_HOST = /^(?:.+\.)?([a-z]{2}(?:-gov)?-[a-z]+-\d)\.(es|aoss)\.amazonaws\.com(?:\.cn)?$/;

/** `{service, region}` for Amazon OpenSearch Service / Serverless endpoints, else undefined. */
export function awsOpenSearchHost(host: string): { service: 'es' | 'aoss'; region?: string } | undefined {
  const h = host.toLowerCase();
  const m = AWS_HOST.exec(h);
  if (m) return { service: m[2] as 'es' | 'aoss', region: m[1] };
  if (/\.es\.amazonaws\.com(\.cn)?$/.test(h)) return { service: 'es' };
  if (/\.aoss\.amazonaws\.com(\.cn)?$/.test(h)) return { service: 'aoss' };
  return undefined;
}

function flag(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  const s = v.trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw new LogferryError('CONFIG_INVALID', `${name} must be true or false`);
}

function opensearchSink(env: NodeJS.ProcessEnv, raw: string): Record<string, unknown> {
  let u: URL | undefined;
  try {
    u = new URL(raw);
  } catch {
    u = undefined;
  }
  // `host:9200` and `user:pass@host` parse as URLs with an odd scheme: refuse them here with what to
  // write, without echoing the value (its "scheme" may be a user name and the rest a password).
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:')) {
    throw new LogferryError(
      'CONFIG_INVALID',
      'LOGFERRY_OPENSEARCH_URL is not an http(s) URL: write it like https://search-logs-abc.eu-west-1.es.amazonaws.com or https://user:password@opensearch.example.com:9200',
    );
  }
  const urlUser = u.username ? decodeURIComponent(u.username) : undefined;
  const urlPass = u.password ? decodeURIComponent(u.password) : undefined;
  u.username = '';
  u.password = '';
  if (urlPass && !isSecretRef(urlPass)) registerSecret(urlPass);
  const sink: Record<string, unknown> = { type: 'opensearch', url: u.toString().replace(/\/$/, '') };

  const username = env.LOGFERRY_OPENSEARCH_USERNAME || urlUser;
  const password = env.LOGFERRY_OPENSEARCH_PASSWORD || urlPass;
  if (env.LOGFERRY_OPENSEARCH_PASSWORD && !isSecretRef(env.LOGFERRY_OPENSEARCH_PASSWORD))
    registerSecret(env.LOGFERRY_OPENSEARCH_PASSWORD);
  const aws = awsOpenSearchHost(u.hostname);
  const mode =
    (env.LOGFERRY_OPENSEARCH_AUTH || '').trim().toLowerCase() ||
    (aws && !password ? 'sigv4' : password ? 'basic' : 'none');
  if (mode === 'sigv4') {
    const auth: Record<string, unknown> = { type: 'sigv4', service: aws?.service ?? 'es' };
    const region = env.LOGFERRY_OPENSEARCH_REGION || aws?.region;
    if (region) auth.region = region;
    sink.auth = auth;
  } else if (mode === 'basic') {
    if (!username || !password) {
      throw new LogferryError(
        'CONFIG_INVALID',
        'LOGFERRY_OPENSEARCH_AUTH=basic needs a username and password (in the URL or LOGFERRY_OPENSEARCH_USERNAME/PASSWORD)',
      );
    }
    sink.auth = { type: 'basic', username, password };
  } else if (mode !== 'none') {
    throw new LogferryError('CONFIG_INVALID', 'LOGFERRY_OPENSEARCH_AUTH must be sigv4, basic or none');
  }
  if (env.LOGFERRY_INDEX) sink.index = env.LOGFERRY_INDEX;
  return sink;
}

function deadLetter(env: NodeJS.ProcessEnv, raw: string): Record<string, unknown> {
  const v = raw.trim();
  if (/^https?:\/\//.test(v)) {
    const dl: Record<string, unknown> = { type: 'sqs', queueUrl: v };
    if (env.LOGFERRY_DLQ_OVERFLOW_S3_URL) dl.overflowS3Url = env.LOGFERRY_DLQ_OVERFLOW_S3_URL;
    return dl;
  }
  if (v.startsWith('file://')) return { type: 'file', path: decodeURIComponent(v.slice('file://'.length)) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    throw new LogferryError(
      'CONFIG_INVALID',
      'LOGFERRY_DLQ must be an SQS queue URL (https://sqs…) or file://path',
    );
  }
  return { type: 'file', path: v };
}

/** Returns a new config document with the shorthands applied (the input is not modified). */
export function applyShorthands(
  doc: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc };

  if (out.sinks === undefined) {
    const sinks: Record<string, unknown>[] = [];
    if (env.LOGFERRY_OPENSEARCH_URL) sinks.push(opensearchSink(env, env.LOGFERRY_OPENSEARCH_URL.trim()));
    if (env.LOGFERRY_S3_URL) sinks.push({ type: 's3', url: env.LOGFERRY_S3_URL.trim() });
    if (sinks.length > 0) out.sinks = sinks;
  } else if (env.LOGFERRY_INDEX && Array.isArray(out.sinks)) {
    out.sinks = out.sinks.map((s) =>
      s &&
      typeof s === 'object' &&
      (s as Record<string, unknown>).type === 'opensearch' &&
      (s as Record<string, unknown>).index === undefined
        ? { ...s, index: env.LOGFERRY_INDEX }
        : s,
    );
  }

  if (out.deadLetter === undefined && env.LOGFERRY_DLQ) out.deadLetter = deadLetter(env, env.LOGFERRY_DLQ);

  if (out.mask === undefined) {
    const mask = flag('LOGFERRY_MASK', env.LOGFERRY_MASK);
    if (mask === false) out.mask = false;
  }

  if (out.parse === undefined && env.LOGFERRY_PARSE) {
    const p = env.LOGFERRY_PARSE.trim().toLowerCase();
    if (p !== 'auto' && p !== 'none')
      throw new LogferryError('CONFIG_INVALID', 'LOGFERRY_PARSE must be auto or none');
    out.parse = p;
  }
  return out;
}
