/**
 * The deploy configuration: one YAML or JSON file with a section per stack, read by
 * `logferry deploy <stack> --config file`. Every section has defaults, so a file is only needed
 * for what differs (the EKS cluster names of the archive, the search endpoint of kinesis-search).
 * A bad file is refused at once with every problem listed by its path.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { LogferryError } from '../../src/core/errors.js';

const name = z.string().min(1);
const days = z.union([
  z.literal(1),
  z.literal(3),
  z.literal(5),
  z.literal(7),
  z.literal(14),
  z.literal(30),
  z.literal(60),
  z.literal(90),
  z.literal(120),
  z.literal(150),
  z.literal(180),
  z.literal(365),
  z.literal(400),
  z.literal(545),
  z.literal(731),
  z.literal(1096),
  z.literal(1827),
  z.literal(2192),
  z.literal(2557),
  z.literal(2922),
  z.literal(3288),
  z.literal(3653),
]);
/** Log retention values CloudWatch Logs accepts. */
export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const monitoring = z
  .object({
    /** Email addresses subscribed to the alarm topic (confirmation mail from AWS). */
    alarmEmails: z.array(z.email()).default([]),
    /** Kinesis iterator age (ms) above which the consumer is falling behind. */
    iteratorAgeMs: z.number().int().positive().default(300_000),
    /** Alarm when this many `failed` records (EMF) are counted in 5 minutes. */
    failedRecords: z.number().int().nonnegative().default(0),
    dashboard: z.boolean().default(true),
  })
  .strict()
  .prefault({});

const lifecycle = z
  .object({
    /** Days after which objects move to S3 Standard-IA (0: never). */
    infrequentAccessAfterDays: z.number().int().nonnegative().default(30),
    /** Days after which objects move to Glacier Instant Retrieval (0: never). */
    glacierAfterDays: z.number().int().nonnegative().default(90),
    /** Days after which objects are deleted (0: never). */
    expireAfterDays: z.number().int().nonnegative().default(365),
    /** Days after which error-prefix objects are deleted (0: never). */
    errorsExpireAfterDays: z.number().int().nonnegative().default(30),
  })
  .strict()
  .prefault({});

/** The six EKS control-plane components of the seed's layout, each with its own queue. */
export const EKS_COMPONENTS = [
  'kube-apiserver',
  'kube-apiserver-audit',
  'authenticator',
  'kube-controller-manager',
  'cloud-controller-manager',
  'kube-scheduler',
] as const;

const secretRef = z
  .string()
  .regex(
    /^(ssm:\/.+|secretsmanager:.+)$/,
    'must be a reference: ssm:/parameter-name or secretsmanager:<name or ARN>[#key], never the value',
  );

/** An existing OpenSearch/Elasticsearch endpoint (or Amazon OpenSearch Service with SigV4). */
const opensearchSink = z
  .object({
    type: z.literal('opensearch'),
    /** An existing OpenSearch/Elasticsearch endpoint (https://…). */
    url: z.url({ protocol: /^https?$/ }),
    /** `sigv4` for Amazon OpenSearch Service, `basic` with username/password references. */
    auth: z.enum(['sigv4', 'basic', 'none']).optional(),
    username: z.string().optional(),
    password: secretRef.optional(),
    index: z.string().optional(),
    /** Needed for sigv4 to an existing Amazon OpenSearch Service domain: its ARN. */
    domainArn: z.string().startsWith('arn:').optional(),
  })
  .strict();

/** A new Amazon OpenSearch Service domain (kinesis-search only). */
const domainSink = z
  .object({
    type: z.literal('domain'),
    /** Domain name (3-28 lower-case characters); default from the stack name. */
    domainName: z
      .string()
      .regex(/^[a-z][a-z0-9-]{2,27}$/)
      .optional(),
    /** A new Amazon OpenSearch Service domain, written with SigV4 by the consumer role. */
    engineVersion: z.string().default('OpenSearch_2.19'),
    instanceType: z.string().default('t3.small.search'),
    instanceCount: z.number().int().min(1).default(1),
    volumeGiB: z.number().int().min(10).default(20),
    index: z.string().optional(),
    /** IAM principals (role/user ARNs) allowed to read the domain (search, Dashboards). */
    readerArns: z
      .array(
        z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:(role|user)\/.+$/, 'must be an IAM role or user ARN'),
      )
      .default([]),
  })
  .strict();

/** A full logferry config in an SSM parameter. */
const configSink = z
  .object({
    type: z.literal('config'),
    /**
     * An SSM parameter (SecureString allowed) holding a full logferry config (sinks: …):
     * Logz.io, Splunk, Loki, Elasticsearch… with secrets as references inside it.
     */
    parameter: z.string().startsWith('/'),
  })
  .strict();

/**
 * A consumer Lambda (the `sqs` handler) per component queue of firehose-archive: reads each object its
 * queue announces and ships the lines to the sink. Off unless configured.
 */
const componentConsumers = z
  .object({
    sink: z.discriminatedUnion('type', [opensearchSink, configSink]),
    /** More secret references the functions may read (those inside a `config` parameter): granted read. */
    readSecrets: z.array(secretRef).default([]),
    /** Customer KMS key ARNs that encrypt the referenced secrets (kms:Decrypt is granted on them). */
    secretKmsKeyArns: z.array(z.string().startsWith('arn:')).default([]),
    /** Messages (object notifications) per invocation. */
    batchSize: z.number().int().min(1).max(10).default(10),
    maxBatchingWindowSeconds: z.number().int().min(0).max(300).default(0),
    /** Concurrent invocations per queue (SQS event source scaling). */
    maxConcurrency: z.number().int().min(2).max(1000).default(5),
    lambda: z
      .object({
        memoryMiB: z.number().int().min(256).max(10240).default(1024),
        /** The queues' visibility timeout becomes 6× this (at least 300 s), as Lambda advises. */
        timeoutSeconds: z.number().int().min(30).max(900).default(120),
        logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const firehoseArchiveSchema = z
  .object({
    stackName: name.default('LogferryFirehoseArchive'),
    /** Bucket name; default `<stack name>-<account>-<region>` (lower case). */
    bucketName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (lower case, 3-63 chars)')
      .optional(),
    /** `seed`: `<object_prefix>/` (the seed's layout); `hive`: cluster=/component=/dt=/hour=. */
    prefixStyle: z.enum(['seed', 'hive']).default('seed'),
    /** EKS clusters whose control-plane logs arrive here; the component queues filter on their prefixes. */
    clusters: z
      .array(z.string().regex(/^[0-9A-Za-z][A-Za-z0-9_-]*$/, 'must be an EKS cluster name'))
      .default([]),
    /** One SQS queue (+ DLQ) per control-plane component, fed by S3 → SNS notifications. */
    componentQueues: z.boolean().default(true),
    /** A consumer Lambda per component queue shipping its objects to a sink (needs componentQueues). */
    componentConsumers: componentConsumers.optional(),
    compression: z.enum(['GZIP', 'UNCOMPRESSED', 'ZIP', 'Snappy', 'HADOOP_SNAPPY']).default('GZIP'),
    buffering: z
      .object({
        /** S3 buffer; dynamic partitioning needs ≥ 64 MB. */
        sizeMiB: z.number().int().min(64).max(128).default(64),
        intervalSeconds: z.number().int().min(0).max(900).default(60),
      })
      .strict()
      .prefault({}),
    processor: z
      .object({
        /** Input batch for the transformation Lambda: small, so 5–10× decompressed output fits 6 MB. */
        bufferSizeMiB: z.number().min(0.2).max(3).default(1),
        bufferIntervalSeconds: z.number().int().min(0).max(900).default(60),
        retries: z.number().int().min(0).max(300).default(3),
      })
      .strict()
      .prefault({}),
    lambda: z
      .object({
        memoryMiB: z.number().int().min(512).max(10240).default(1024),
        timeoutSeconds: z.number().int().min(60).max(900).default(120),
        /** The logferry pipeline config (YAML text) for the handler: `firehose.format`, `mask`, … */
        config: z.string().optional(),
        logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      })
      .strict()
      .prefault({}),
    lifecycle,
    /** `retain` keeps the bucket (with its logs) when the stack is deleted. */
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
    /** Bucket for S3 server access logs of the archive bucket (none: access logging off). */
    accessLogsBucket: z.string().optional(),
    logRetentionDays: days.default(30),
    monitoring,
  })
  .strict();

export const kinesisSearchSchema = z
  .object({
    stackName: name.default('LogferryKinesisSearch'),
    sink: z.discriminatedUnion('type', [opensearchSink, domainSink, configSink]).prefault({ type: 'domain' }),
    /** More secret references the function may read (those inside a `config` parameter): granted read. */
    readSecrets: z.array(secretRef).default([]),
    /** Customer KMS key ARNs that encrypt the referenced secrets (kms:Decrypt is granted on them). */
    secretKmsKeyArns: z.array(z.string().startsWith('arn:')).default([]),
    /** Stream retention; on-demand capacity. */
    streamRetentionHours: z.number().int().min(24).max(8760).default(24),
    eventSource: z
      .object({
        batchSize: z.number().int().min(1).max(10000).default(200),
        maxBatchingWindowSeconds: z.number().int().min(0).max(300).default(2),
        parallelizationFactor: z.number().int().min(1).max(10).default(2),
        maxRetryAttempts: z.number().int().min(0).max(10000).default(10),
        maxRecordAgeSeconds: z.number().int().min(60).max(604800).default(21600),
        startingPosition: z.enum(['TRIM_HORIZON', 'LATEST']).default('TRIM_HORIZON'),
      })
      .strict()
      .prefault({}),
    lambda: z
      .object({
        memoryMiB: z.number().int().min(256).max(10240).default(1024),
        timeoutSeconds: z.number().int().min(30).max(900).default(120),
        reservedConcurrency: z.number().int().min(1).optional(),
        logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      })
      .strict()
      .prefault({}),
    logRetentionDays: days.default(30),
    monitoring,
  })
  .strict();

const selection = z
  .object({
    /** Log group name prefixes (`/aws/eks/`, `/aws/lambda/`); none and no patterns: every group. */
    prefixes: z.array(z.string().min(1)).default([]),
    /** Glob patterns on the whole name: `*` any run of characters, `?` one character. */
    patterns: z.array(z.string().min(1)).default([]),
    /** Tags every selected group must carry (value `*`: any value). */
    tags: z.record(z.string(), z.string()).default({}),
    exclude: z
      .object({
        names: z.array(z.string().min(1)).default([]),
        prefixes: z.array(z.string().min(1)).default([]),
        patterns: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export const subscriptionsSchema = z
  .object({
    stackName: name.default('LogferrySubscriptions'),
    /** The pipeline these groups ship to: a stack deployed by `logferry deploy`, or explicit ARNs. */
    target: z
      .union([
        z.object({ stack: z.enum(['firehose-archive', 'kinesis-search']) }).strict(),
        z
          .object({ destinationArn: z.string().startsWith('arn:'), roleArn: z.string().startsWith('arn:') })
          .strict(),
      ])
      .default({ stack: 'kinesis-search' }),
    /** `filters`: a subscription filter per group; `account-policy`: one account-level policy. */
    mode: z.enum(['filters', 'account-policy']).default('filters'),
    /** Stable name of every filter logferry creates: redeploys update it in place. */
    filterName: z
      .string()
      .regex(/^[^:*]{1,512}$/)
      .default('logferry'),
    filterPattern: z.string().default(''),
    selection,
    /** Filters CloudWatch Logs allows per group (2 by default; some accounts have more). */
    maxFiltersPerGroup: z.number().int().min(1).max(10).default(2),
    /** `report`: a full group is logged as "no free slot"; `replace`: logferry's filter replaces the oldest other one. */
    onNoFreeSlot: z.enum(['report', 'replace']).default('report'),
    /** Subscribe the groups that exist at deploy time (a one-off backfill). */
    backfill: z.boolean().default(true),
    /**
     * The rule on `CreateLogGroup` sees new groups only while a CloudTrail trail records management
     * events in the region. `create: true` makes one (write events only) with its own bucket; leave it
     * off when the account already has such a trail (an organization trail counts).
     */
    trail: z
      .object({
        create: z.boolean().default(false),
        /** One trail for every region (and global service events), or this region only. */
        multiRegion: z.boolean().default(false),
        expireAfterDays: z.number().int().min(1).default(90),
        removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
        accessLogsBucket: z.string().optional(),
      })
      .strict()
      .prefault({}),
    retention: z
      .object({
        days,
        /** Which groups get it (default: every group). */
        selection: selection.optional(),
        /** Also change groups that already have a retention setting. */
        overrideExisting: z.boolean().default(false),
      })
      .strict()
      .optional(),
    logRetentionDays: days.default(30),
    monitoring,
  })
  .strict();

export const deployConfigSchema = z
  .object({
    firehoseArchive: firehoseArchiveSchema.prefault({}),
    kinesisSearch: kinesisSearchSchema.prefault({}),
    subscriptions: subscriptionsSchema.prefault({}),
    /** Account and region; default: the AWS CLI environment at deploy time (agnostic templates). */
    env: z
      .object({
        account: z
          .string()
          .regex(/^\d{12}$/)
          .optional(),
        region: z.string().optional(),
      })
      .strict()
      .prefault({}),
    tags: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export type DeployConfig = z.infer<typeof deployConfigSchema>;
export type FirehoseArchiveConfig = z.infer<typeof firehoseArchiveSchema>;
export type ExternalSinkConfig = z.infer<typeof opensearchSink> | z.infer<typeof configSink>;
export type KinesisSearchConfig = z.infer<typeof kinesisSearchSchema>;
export type SubscriptionsConfig = z.infer<typeof subscriptionsSchema>;
export type Selection = z.infer<typeof selection>;

function pathOf(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.') || '(top level)';
}

/** Validates a parsed document; throws CONFIG_INVALID listing every problem. */
export function parseDeployConfig(doc: unknown, origin = 'deploy config'): DeployConfig {
  const r = deployConfigSchema.safeParse(doc ?? {});
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${pathOf(i.path)}: ${i.message}`);
  throw new LogferryError(
    'CONFIG_INVALID',
    `${origin} is not valid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`,
    { details: { problems } },
  );
}

/** Reads a YAML or JSON deploy config file. */
export function loadDeployConfig(file?: string): DeployConfig {
  if (!file) return parseDeployConfig({});
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new LogferryError('CONFIG_INVALID', `cannot read deploy config ${file}: ${(e as Error).message}`);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const problems = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}${e.message.split('\n')[0]}`;
    });
    throw new LogferryError(
      'CONFIG_INVALID',
      `${file} is not valid YAML/JSON:\n  - ${problems.join('\n  - ')}`,
      { details: { problems } },
    );
  }
  return parseDeployConfig(doc.toJS(), file);
}
