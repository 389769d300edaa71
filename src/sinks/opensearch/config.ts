/**
 * The `opensearch` sink's configuration: its options schema and the limits it enforces (named
 * constants with their sources). See sink.ts for what the sink does.
 */
import * as z from 'zod';
import type { ComponentMeta } from '../../core/component.js';
import { describeError } from '../../core/errors.js';
import { compileIndexTemplate } from './index-name.js';

/**
 * OpenSearch's default `http.max_content_length` (100 MB); Amazon OpenSearch Service caps it by
 * instance type (10 MiB on small instances, 100 MiB on large).
 * https://docs.opensearch.org/latest/install-and-configure/configuring-opensearch/network-settings/
 * https://docs.aws.amazon.com/opensearch-service/latest/developerguide/limits.html#network-limits
 */
export const OPENSEARCH_DEFAULT_HTTP_MAX_CONTENT_LENGTH = 100 * 1024 * 1024;
/** Bulk requests beyond ~10 MiB gain no throughput and fit every Amazon OpenSearch Service instance size. */
export const OPENSEARCH_DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
/** Index names are at most 255 bytes. https://docs.opensearch.org/latest/api-reference/index-apis/create-index/ */
export const OPENSEARCH_MAX_INDEX_NAME_BYTES = 255;
export const DEFAULT_INDEX_TEMPLATE = 'logs-YYYY.MM.dd';
/** Field holding the parsed fields as one JSON string when the index refused their shape. */
export const FIELDS_JSON_FIELD = '@fields_json';
export const MAPPING_ERROR_FIELD = '@mapping_error';

export const MAX_REASON_CHARS = 1000;
/**
 * Ask only for what `send` reads: per-item status and error (positions are kept). The full answer
 * is ~8× larger per item (index, id, version, shards, seq_no) and costs both sides CPU.
 */
export const BULK_QUERY = { filter_path: 'errors,items.*.status,items.*.error' };

const secretOrLiteral = z.string().min(1);

export const opensearchSinkConfig = z
  .strictObject({
    type: z.literal('opensearch'),
    name: z.string().min(1).optional(),
    /** `https://host[:port][/prefix]`; basic credentials may ride in it (`https://user:pass@host`). */
    url: z.url({ protocol: /^https?$/ }),
    auth: z
      .discriminatedUnion('type', [
        z.strictObject({ type: z.literal('none') }),
        /** Values may be literals or secret references (`ssm:/…`, `secretsmanager:id#key`, `env:NAME`). */
        z.strictObject({ type: z.literal('basic'), username: secretOrLiteral, password: secretOrLiteral }),
        /** Amazon OpenSearch Service (`es`) or Serverless (`aoss`), signed with the default credential chain. */
        z.strictObject({
          type: z.literal('sigv4'),
          service: z.enum(['es', 'aoss']).default('es'),
          region: z.string().min(1).optional(),
        }),
      ])
      .optional(),
    /** Index name template: `{component}`, `{cluster}`, `{logGroup}`, `{logStream}`, `{owner}`,
     * `{function}`, `{source}`, `{fields.a.b}`; UTC event time `YYYY`, `MM`, `dd`, `HH`. */
    index: z
      .string()
      .min(1)
      .default(DEFAULT_INDEX_TEMPLATE)
      .superRefine((t, ctx) => {
        try {
          compileIndexTemplate(t);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: describeError(e) });
        }
      }),
    /** `stable`: `_id` from the CloudWatch event id (idempotent); `none`: server-generated ids
     * (needed for OpenSearch Serverless time-series collections; a redrive may duplicate). */
    documentId: z.enum(['stable', 'none']).default('stable'),
    /** What to do with a document whose field shapes the index refused (see the file comment). */
    onMappingError: z.enum(['fallback', 'reject']).default('fallback'),
    /** Ingest pipeline to run documents through. */
    pipeline: z.string().min(1).optional(),
    /** The server's `http.max_content_length` in bytes; requests never exceed it. */
    httpMaxContentLength: z.number().int().positive().default(OPENSEARCH_DEFAULT_HTTP_MAX_CONTENT_LENGTH),
    maxBytes: z.number().int().positive().optional(),
    maxRecords: z.number().int().positive().max(100_000).default(5_000),
    maxAgeMs: z.number().int().positive().default(1_000),
    timeoutMs: z.number().int().positive().default(30_000),
    /** gzip request bodies (saves transfer, costs CPU). */
    compression: z.boolean().default(false),
  })
  .refine((c) => c.maxBytes === undefined || c.maxBytes <= c.httpMaxContentLength, {
    message: 'maxBytes must not exceed httpMaxContentLength',
    path: ['maxBytes'],
  });

export type OpenSearchSinkConfig = z.infer<typeof opensearchSinkConfig>;

/** The registry entry's description (src/sinks/index.ts loads sink.ts on first create). */
export const opensearchSinkMeta: ComponentMeta<OpenSearchSinkConfig> = {
  type: 'opensearch',
  iam: ['es:ESHttpPost', 'es:ESHttpPut', 'aoss:APIAccessAll'],
  summary:
    'Bulk-indexes documents into OpenSearch 1–3 / Amazon OpenSearch Service / Elasticsearch 7–9, idempotently.',
  schema: opensearchSinkConfig,
};
