/**
 * Options of the HTTP log-service sinks. `http` with `flavor` (logzio, splunk-hec, loki, ndjson)
 * is the original form and keeps working; `logzio`, `splunk-hec` and `loki` are sink types of their
 * own with only their service's options. Every form is checked by one function and normalised to
 * `HttpSinkConfig` (the `http` form with its flavor) before a sink is built.
 */
import * as z from 'zod';
import { LOGZIO_MAX_LINE_BYTES, LOGZIO_MAX_REQUEST_BYTES, DEFAULT_TIMEOUT_MS } from './limits.js';

export const FLAVORS = ['logzio', 'splunk-hec', 'loki', 'ndjson'] as const;
export type Flavor = (typeof FLAVORS)[number];

const SECRET_REF = /^(ssm:.+|secretsmanager:.+|env:[A-Za-z_][A-Za-z0-9_]*)$/;

const secretRef = z.string().refine((s) => SECRET_REF.test(s), {
  // Never echo the value: it may be a pasted token.
  message:
    'token must be a secret reference (ssm:/name, secretsmanager:<id>[#key] or env:NAME), never a literal token in config',
});

export const LOKI_LABEL_SOURCES = ['logGroup', 'logStream', 'component', 'owner'] as const;

/** Every option of every flavor (the `http` form). */
const allOptions = {
  name: z.string().min(1).optional(),
  flavor: z.enum(FLAVORS).default('ndjson'),
  /** Full endpoint. Logz.io: `https://listener.logz.io:8071`; Splunk: `https://host:8088`; Loki: `http://host:3100`. */
  url: z.url(),
  /** Secret reference for the credential (required for logzio and splunk-hec). */
  token: secretRef.optional(),
  /** Logz.io `type` query parameter (parsing pipeline). */
  logType: z.string().regex(/^\S+$/, 'logType cannot contain spaces').default('logferry'),
  /** Compress request bodies (Content-Encoding: gzip). Default: on for logzio, off otherwise. */
  gzip: z.boolean().optional(),
  /** Extra request headers (not for credentials: use `token`). */
  headers: z.record(z.string(), z.string()).default({}),
  /** ndjson: header that carries the token, and its prefix. */
  tokenHeader: z.string().min(1).default('Authorization'),
  tokenPrefix: z.string().default('Bearer '),
  /** Splunk HEC metadata. */
  index: z.string().min(1).optional(),
  sourcetype: z.string().min(1).default('aws:cloudwatchlogs'),
  source: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  /** Loki: tenant (`X-Scope-OrgID`), which record facts become stream labels, static labels, line format. */
  tenant: z.string().min(1).optional(),
  labels: z.array(z.enum(LOKI_LABEL_SOURCES)).default(['logGroup', 'logStream', 'component']),
  staticLabels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string()).default({}),
  line: z.enum(['json', 'message']).default('json'),
  /** Batch limits (defaults per flavor). */
  maxRecords: z.number().int().positive().optional(),
  maxBytes: z.number().int().positive().optional(),
  maxRecordBytes: z.number().int().positive().optional(),
  maxAgeMs: z.number().int().positive().default(1_000),
  timeoutMs: z.number().int().positive().default(DEFAULT_TIMEOUT_MS),
};

type Checked = {
  flavor: Flavor;
  token?: string;
  maxBytes?: number;
  maxRecordBytes?: number;
  headers: Record<string, string>;
};

/** The checks every form shares (token required, Logz.io limits, reserved headers). */
export function checkHttpOptions(c: Checked, ctx: z.RefinementCtx): void {
  if ((c.flavor === 'logzio' || c.flavor === 'splunk-hec') && !c.token) {
    ctx.addIssue({
      code: 'custom',
      path: ['token'],
      message: `flavor ${c.flavor} needs a token (a secret reference)`,
    });
  }
  if (c.flavor === 'logzio' && c.maxBytes !== undefined && c.maxBytes > LOGZIO_MAX_REQUEST_BYTES) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxBytes'],
      message: `Logz.io accepts at most ${LOGZIO_MAX_REQUEST_BYTES} bytes per request`,
    });
  }
  if (c.flavor === 'logzio' && c.maxRecordBytes !== undefined && c.maxRecordBytes > LOGZIO_MAX_LINE_BYTES) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxRecordBytes'],
      message: `Logz.io accepts at most ${LOGZIO_MAX_LINE_BYTES} bytes per line`,
    });
  }
  for (const h of Object.keys(c.headers)) {
    if (/^(authorization|x-scope-orgid)$/i.test(h)) {
      ctx.addIssue({
        code: 'custom',
        path: ['headers', h],
        message: `set ${h} through token/tenant, not headers`,
      });
    }
  }
}

export const httpSinkConfig = z
  .strictObject({ type: z.literal('http'), ...allOptions })
  .superRefine(checkHttpOptions);

export type HttpSinkConfig = z.infer<typeof httpSinkConfig>;

const COMMON = [
  'name',
  'url',
  'token',
  'gzip',
  'headers',
  'maxRecords',
  'maxBytes',
  'maxRecordBytes',
  'maxAgeMs',
  'timeoutMs',
] as const;

/** The options of one service as a sink type of its own (`type: loki`, …). */
export function serviceSinkConfig<T extends Exclude<Flavor, 'ndjson'>, K extends keyof typeof allOptions>(
  type: T,
  keys: readonly K[],
) {
  const picked: Record<string, z.ZodType> = {};
  for (const k of [...COMMON, ...keys]) picked[k] = allOptions[k as keyof typeof allOptions];
  return z
    .strictObject({
      type: z.literal(type),
      ...(picked as Pick<typeof allOptions, (typeof COMMON)[number] | K>),
    })
    .superRefine((c, ctx) => checkHttpOptions({ ...(c as unknown as Checked), flavor: type }, ctx));
}

/** A service type's options as the `http` form (defaults filled), which every sink is built from. */
export function asHttpConfig(flavor: Flavor, cfg: { type: string; [k: string]: unknown }): HttpSinkConfig {
  const { type: _t, ...rest } = cfg;
  return httpSinkConfig.parse({ ...rest, type: 'http', flavor });
}
