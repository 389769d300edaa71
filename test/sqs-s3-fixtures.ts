/**
 * Seed 000's layout on moto for the sqs-s3 tests: a bucket of archive objects
 * (`_aws_eks_<cluster>_cluster/<component>/<stream>/<name>-YYYY-MM-dd-HH-mm-ss-<hash>.gz`, raw klog /
 * audit lines as Firehose writes them), an SNS topic the bucket notifies, and SQS queues subscribed
 * to it (raw message delivery, as the seed says; or SNS-wrapped), plus EventBridge-shaped messages
 * sent to a queue directly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { walk } from './infra/cli-daemon.js';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';

const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export interface Clients {
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
}

export function clients(endpoint: string): Clients {
  const base = { endpoint, region: 'us-east-1', credentials: creds };
  return {
    s3: new S3Client({ ...base, forcePathStyle: true }),
    sqs: new SQSClient(base),
    sns: new SNSClient(base),
  };
}

export const CLUSTER = 'prod-eu';

/** Realistic kube-apiserver / audit lines, numbered so each is identifiable. */
export function eksLines(component: string, n: number, tag: string): string[] {
  const out: string[] = [];
  for (let i = 1; i <= n; i++) {
    if (component === 'kube-apiserver-audit')
      out.push(
        JSON.stringify({
          kind: 'Event',
          apiVersion: 'audit.k8s.io/v1',
          level: 'Metadata',
          auditID: `${tag}-${i}`,
          stage: 'ResponseComplete',
          verb: i % 3 === 0 ? 'delete' : 'get',
          requestURI: `/api/v1/namespaces/default/pods/web-${i}`,
          user: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
          requestReceivedTimestamp: new Date(Date.UTC(2026, 11, 5, 16, 0, 0, i)).toISOString(),
        }),
      );
    else
      out.push(
        `I1205 16:00:${String(i % 60).padStart(2, '0')}.${String(i % 1e6).padStart(6, '0')}      10 httplog.go:132] "HTTP" verb="GET" URI="/readyz" latency="1.2ms" tag="${tag}-${i}"`,
      );
  }
  return out;
}

export function objectKey(component: string, stream: string, seq: number): string {
  return `_aws_eks_${CLUSTER}_cluster/${component}/${stream}/logferry-2026-12-05-16-00-${String(seq % 60).padStart(2, '0')}-${randomBytes(4).toString('hex')}.gz`;
}

export interface Layout {
  bucket: string;
  topicArn: string;
  rawQueue: string;
  snsQueue: string;
  ebQueue: string;
}

/** Bucket → SNS topic → a raw-delivery queue and an SNS-envelope queue; a third queue for EventBridge shapes. */
export async function createLayout(c: Clients, name: string): Promise<Layout> {
  const bucket = `${name}-logs`;
  await c.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const { TopicArn } = await c.sns.send(new CreateTopicCommand({ Name: `${name}-topic` }));
  const q = async (n: string) =>
    (await c.sqs.send(new CreateQueueCommand({ QueueName: n }))).QueueUrl as string;
  const [rawQueue, snsQueue, ebQueue] = await Promise.all([
    q(`${name}-apiserver`),
    q(`${name}-wrapped`),
    q(`${name}-eb`),
  ]);
  const arnOf = async (url: string) =>
    (await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
      .Attributes?.QueueArn as string;
  await c.sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: await arnOf(rawQueue),
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  await c.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: await arnOf(snsQueue) }));
  await c.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        TopicConfigurations: [{ TopicArn, Events: ['s3:ObjectCreated:*'] }],
      },
    }),
  );
  return { bucket, topicArn: TopicArn as string, rawQueue, snsQueue, ebQueue };
}

export async function putLines(
  c: Clients,
  bucket: string,
  key: string,
  lines: string[],
  gzip = true,
): Promise<string> {
  const text = `${lines.join('\n')}\n`;
  const r = await c.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzip ? gzipSync(text) : Buffer.from(text) }),
  );
  return (r.ETag ?? '').replace(/"/g, '');
}

/** The EventBridge `Object Created` event for an object (keys URL-encoded as S3 does). */
export function eventBridgeBody(bucket: string, key: string, etag: string, size: number): string {
  return JSON.stringify({
    version: '0',
    id: randomBytes(8).toString('hex'),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: '2026-12-05T16:00:00Z',
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: {
        key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'),
        size,
        etag,
        sequencer: '0064',
      },
      'request-id': 'R1',
      requester: '123456789012',
      reason: 'PutObject',
    },
  });
}

export async function send(c: Clients, queueUrl: string, body: string): Promise<void> {
  await c.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

/** Messages visible or in flight. */
export async function queueDepth(c: Clients, queueUrl: string): Promise<number> {
  const a = (
    await c.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    )
  ).Attributes;
  return Number(a?.ApproximateNumberOfMessages ?? 0) + Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** Receives (and leaves) everything visible: for tests that build Lambda events from real messages. */
export async function receiveAll(c: Clients, queueUrl: string, want: number) {
  const out: {
    MessageId?: string;
    Body?: string;
    ReceiptHandle?: string;
    Attributes?: Record<string, string>;
  }[] = [];
  for (let i = 0; i < 30 && out.length < want; i++) {
    const r = await c.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 300,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
    );
    out.push(...(r.Messages ?? []));
  }
  return out;
}

/** Every file under `d` (none when it does not exist). */
export const filesUnder = walk;

/** The `@id` of every record a local S3-sink archive (gzip ndjson) holds, duplicates included. */
export const archivedIds = (d: string): string[] =>
  walk(d)
    .filter((f) => f.endsWith('.gz'))
    .flatMap((f) => gunzipSync(readFileSync(f)).toString('utf8').split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l)['@id'] as string);

/**
 * Writes `<dir>/logferry.json` for the crash tests: one sqs-s3 source on `queueUrl` (short polls,
 * 5 s visibility, state under `<dir>/state`) → a local S3-sink archive of gzip ndjson, dead letters
 * to a file. Returns the config's path.
 */
export function writeCrashConfig(o: {
  dir: string;
  name: string;
  queueUrl: string;
  endpoint: string;
  archive: string;
  deadLetter: string;
}): string {
  const config = join(o.dir, 'logferry.json');
  writeFileSync(
    config,
    JSON.stringify({
      sources: [
        {
          type: 'sqs-s3',
          name: o.name,
          queueUrl: o.queueUrl,
          endpoint: o.endpoint,
          waitTimeSeconds: 1,
          visibilityTimeoutSeconds: 5,
          retryDelaySeconds: 0,
          maxConcurrentObjects: 2,
          chunkLines: 500,
          dataDir: join(o.dir, 'state'),
        },
      ],
      sinks: [{ type: 's3', url: o.archive, format: 'ndjson', maxRecords: 2_000, maxAgeMs: 100 }],
      deadLetter: { type: 'file', path: o.deadLetter },
    }),
  );
  return config;
}

/** Starts the built CLI's `logferry run <config> --json` against moto (stderr collected for the summary). */
export function startRun(
  cli: string,
  cwd: string,
  config: string,
  extra: string[] = [],
): {
  proc: ChildProcess;
  done: Promise<{ code: number | null; stderr: string }>;
} {
  const proc = spawn(process.execPath, [cli, 'run', config, '--json', ...extra], {
    cwd,
    env: {
      ...process.env,
      LOGFERRY_OPENSEARCH_URL: '',
      LOGFERRY_S3_URL: '',
      LOGFERRY_DLQ: '',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<{ code: number | null; stderr: string }>((r) =>
    proc.on('exit', (code) => r({ code, stderr })),
  );
  return { proc, done };
}
