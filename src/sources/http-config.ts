/** The `http` source's config and registry description, apart from its server (http.ts). */
import * as z from 'zod';
import type { ComponentMeta } from '../core/component.js';
import {
  DEFAULT_ADDRESS,
  maxDecodedBytesSchema,
  pendingShape,
  secretRefSchema,
  sourceName,
  tlsConfig,
} from './listen.js';

/** Firehose's largest HTTP endpoint buffer (64 MiB). */
export const FIREHOSE_MAX_BUFFER_BYTES = 64 * 1024 * 1024;
/** Firehose limits an access key to 4,096 bytes. */
export const FIREHOSE_MAX_ACCESS_KEY_BYTES = 4096;

const path = z.string().regex(/^\/[^?#\s]*$/, 'a path starts with `/` and has no query or spaces');

export const httpSourceConfig = z
  .strictObject({
    type: z.literal('http'),
    name: sourceName,
    /** Interface to listen on (default 127.0.0.1: this machine only). */
    address: z.string().min(1).default(DEFAULT_ADDRESS),
    /** TCP port (0 = any free port). */
    port: z.number().int().min(0).max(65535).default(9880),
    /** Path of the Firehose HTTP endpoint protocol (POST). */
    firehosePath: path.default('/firehose'),
    /** Path of plain POSTs (text lines or NDJSON, see `format`). */
    path: path.default('/'),
    /** Body of plain POSTs: one record per line (`lines`) or one JSON document per line (`ndjson`). */
    format: z.enum(['lines', 'ndjson']).default('lines'),
    /** Shared key (secret reference): `X-Amz-Firehose-Access-Key` or `Authorization: Bearer`. */
    accessKey: secretRefSchema('accessKey').optional(),
    tls: tlsConfig.optional(),
    /** Largest body as sent (413 above). */
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(FIREHOSE_MAX_BUFFER_BYTES),
    /** Largest body after `Content-Encoding: gzip`/`deflate` (413 above; refuses gzip bombs). */
    maxDecodedBytes: maxDecodedBytesSchema,
    ...pendingShape,
    /** `meta.logGroup` of records that are not CloudWatch payloads (default: the source name). */
    logGroup: z.string().min(1).optional(),
    /** Tag (`fields.tag`) of every record. */
    tag: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.firehosePath === c.path)
      ctx.addIssue({ code: 'custom', path: ['path'], message: '`path` and `firehosePath` must differ' });
  });
export type HttpSourceConfig = z.infer<typeof httpSourceConfig>;

export const httpSourceMeta: ComponentMeta<HttpSourceConfig> = {
  type: 'http',
  summary:
    'Listens for Amazon Data Firehose HTTP endpoint deliveries and plain text-lines/NDJSON POSTs; answers only after the records have an outcome (413/429 push-back, optional TLS and access key).',
  schema: httpSourceConfig,
  // Listens only; an access key in SSM or Secrets Manager needs ssm:GetParameter or
  // secretsmanager:GetSecretValue on that one secret.
  iam: [],
};
