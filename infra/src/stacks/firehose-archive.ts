/**
 * `firehose-archive` (seed 000, done right): CloudWatch Logs → Firehose (logferry transformation
 * Lambda, dynamic partitioning) → S3, and S3 → SNS → one SQS queue per EKS control-plane component,
 * each receiving only its component's objects. With `componentConsumers`, each queue also gets a
 * consumer Lambda (the `sqs` handler: reads the announced objects, ships their lines to the sink)
 * whose role may read only that queue and that component's objects.
 */
import {
  ArnFormat,
  CfnOutput,
  CfnParameter,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { LogferryError } from '../../../src/core/errors.js';
import { EKS_COMPONENTS, type FirehoseArchiveConfig } from '../config.js';
import {
  acknowledge,
  acknowledgeWildcard,
  LogferryFunction,
  pipelineLogGroupName,
  QueueWithDlq,
  retentionDays,
  topologyOutputs,
} from '../constructs/common.js';
import { Monitoring } from '../constructs/monitoring.js';
import { grantSinkAccess, sinkAccess } from '../constructs/sink.js';

export const SEED_PREFIX = '!{partitionKeyFromLambda:object_prefix}/';
export const HIVE_PREFIX =
  'cluster=!{partitionKeyFromLambda:cluster}/component=!{partitionKeyFromLambda:component}/' +
  'dt=!{partitionKeyFromLambda:year}-!{partitionKeyFromLambda:month}-!{partitionKeyFromLambda:day}/' +
  'hour=!{partitionKeyFromLambda:hour}/';
export const ERROR_PREFIX = 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/';

/** S3 event notifications carry the object key URL-encoded (`=` → `%3D`, space → `+`). */
export function s3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

/** The object-key prefixes under which one component's objects of the given clusters land. */
export function componentKeyPrefixes(
  style: 'seed' | 'hive',
  clusters: string[],
  component: string,
): string[] {
  return clusters.map((c) =>
    s3EventKey(
      style === 'seed' ? `_aws_eks_${c}_cluster/${component}/` : `cluster=${c}/component=${component}/`,
    ),
  );
}

/**
 * The object-key patterns (IAM resource form, not URL-encoded) of one component's objects: per named
 * cluster, or any cluster when the names are a deploy-time parameter.
 */
export function componentObjectPatterns(
  style: 'seed' | 'hive',
  clusters: string[] | undefined,
  component: string,
): string[] {
  return (clusters ?? ['*']).map((c) =>
    style === 'seed' ? `_aws_eks_${c}_cluster/${component}/*` : `cluster=${c}/component=${component}/*`,
  );
}

/** The CfnSubscription CDK's SqsSubscription created for `queue` (it lives under the queue). */
function subscriptionOf(queue: Construct): sns.CfnSubscription {
  const found = queue.node.findAll().find((c) => c instanceof sns.CfnSubscription);
  if (!found) throw new LogferryError('INTERNAL', `no SNS subscription under ${queue.node.path}`);
  return found as sns.CfnSubscription;
}

export interface PipelineStack {
  /** Every log group the stack's own components write (never to be subscribed). */
  readonly pipelineLogGroupNames: string[];
  readonly destinationArnExport: string;
  readonly roleArnExport: string;
}

export class FirehoseArchiveStack extends Stack implements PipelineStack {
  readonly pipelineLogGroupNames: string[] = [];
  readonly destinationArnExport: string;
  readonly roleArnExport: string;
  readonly bucket: s3.Bucket;
  readonly deliveryStream: firehose.CfnDeliveryStream;

  constructor(scope: Construct, id: string, cfg: FirehoseArchiveConfig, props: StackProps = {}) {
    super(scope, id, { ...props, stackName: cfg.stackName, description: 'logferry firehose-archive' });
    const stackName = this.stackName;
    const streamName = `${stackName}-archive`.slice(0, 64);
    const streamArn = this.formatArn({
      service: 'firehose',
      resource: 'deliverystream',
      resourceName: streamName,
    });

    // ---- bucket ----------------------------------------------------------------------------
    const bucketName =
      cfg.bucketName ??
      Fn.join('-', [
        stackName
          .toLowerCase()
          .replace(/[^a-z0-9-]/g, '-')
          .slice(0, 30)
          .replace(/^-+|-+$/g, ''),
        this.account,
        this.region,
      ]);
    const l = cfg.lifecycle;
    const transitions: s3.Transition[] = [];
    if (l.infrequentAccessAfterDays > 0)
      transitions.push({
        storageClass: s3.StorageClass.INFREQUENT_ACCESS,
        transitionAfter: Duration.days(Math.max(30, l.infrequentAccessAfterDays)),
      });
    if (l.glacierAfterDays > 0)
      transitions.push({
        storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
        transitionAfter: Duration.days(l.glacierAfterDays),
      });
    this.bucket = new s3.Bucket(this, 'Archive', {
      bucketName,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: cfg.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      serverAccessLogsBucket: cfg.accessLogsBucket
        ? s3.Bucket.fromBucketName(this, 'AccessLogs', cfg.accessLogsBucket)
        : undefined,
      serverAccessLogsPrefix: cfg.accessLogsBucket ? `${stackName}/` : undefined,
      lifecycleRules: [
        {
          id: 'archive',
          transitions,
          expiration: l.expireAfterDays > 0 ? Duration.days(l.expireAfterDays) : undefined,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        ...(l.errorsExpireAfterDays > 0
          ? [{ id: 'errors', prefix: 'errors/', expiration: Duration.days(l.errorsExpireAfterDays) }]
          : []),
      ],
    });
    if (!cfg.accessLogsBucket)
      acknowledge(
        this.bucket,
        'AwsSolutions-S1',
        'server access logging is optional (firehoseArchive.accessLogsBucket): the only writer is Firehose ' +
          'through its role, and CloudTrail data events are the better audit trail for readers.',
      );

    // ---- transformation Lambda -------------------------------------------------------------
    const transform = new LogferryFunction(this, 'Transform', {
      bundle: 'firehose',
      component: 'transform',
      description: 'logferry Firehose transformation: validate, parse, mask, partition keys',
      memoryMiB: cfg.lambda.memoryMiB,
      timeout: Duration.seconds(cfg.lambda.timeoutSeconds),
      logRetentionDays: retentionDays(cfg.logRetentionDays),
      environment: {
        LOGFERRY_LOG_LEVEL: cfg.lambda.logLevel,
        ...(cfg.lambda.config ? { LOGFERRY_CONFIG: cfg.lambda.config } : {}),
      },
    });
    this.pipelineLogGroupNames.push(transform.logGroupName);
    // Re-ingest of records that do not fit the 6 MB answer: into its own stream only.
    transform.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'Reingest',
        actions: ['firehose:PutRecordBatch'],
        resources: [streamArn],
      }),
    );

    // ---- Firehose --------------------------------------------------------------------------
    const firehoseLogGroupName = pipelineLogGroupName(stackName, 'firehose');
    const firehoseLogs = new logs.LogGroup(this, 'FirehoseLogs', {
      logGroupName: firehoseLogGroupName,
      retention: retentionDays(cfg.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const firehoseLogStream = firehoseLogs.addStream('S3Delivery', { logStreamName: 'S3Delivery' });
    this.pipelineLogGroupNames.push(firehoseLogGroupName);

    const firehoseRole = new iam.Role(this, 'FirehoseRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'sts:ExternalId': this.account } },
      }),
      description: 'logferry: Firehose writes the archive bucket and invokes the transformation',
    });
    firehoseRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveBucket',
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [this.bucket.bucketArn],
      }),
    );
    firehoseRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveObjects',
        actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
    firehoseRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'Transform',
        actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
        resources: [transform.fn.functionArn],
      }),
    );
    firehoseRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeliveryErrors',
        actions: ['logs:PutLogEvents'],
        resources: [
          this.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${firehoseLogGroupName}:log-stream:S3Delivery`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    acknowledgeWildcard(
      firehoseRole,
      this.bucket.arnForObjects('*'),
      'object-level S3 actions need `<bucket>/*`: Firehose writes keys that dynamic partitioning decides at ' +
        'run time; the bucket is the one this stack creates.',
    );

    const p = cfg.processor;
    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamName: streamName,
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: this.bucket.bucketArn,
        roleArn: firehoseRole.roleArn,
        prefix: cfg.prefixStyle === 'hive' ? HIVE_PREFIX : SEED_PREFIX,
        errorOutputPrefix: ERROR_PREFIX,
        bufferingHints: {
          sizeInMBs: cfg.buffering.sizeMiB,
          intervalInSeconds: cfg.buffering.intervalSeconds,
        },
        compressionFormat: cfg.compression,
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: {
          enabled: true,
          // Only the Lambda: every event already ends with "\n" (AppendDelimiterToRecord would add blank lines).
          processors: [
            {
              type: 'Lambda',
              parameters: [
                { parameterName: 'LambdaArn', parameterValue: transform.fn.functionArn },
                { parameterName: 'BufferSizeInMBs', parameterValue: String(p.bufferSizeMiB) },
                { parameterName: 'BufferIntervalInSeconds', parameterValue: String(p.bufferIntervalSeconds) },
                { parameterName: 'NumberOfRetries', parameterValue: String(p.retries) },
              ],
            },
          ],
        },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: firehoseLogGroupName,
          logStreamName: 'S3Delivery',
        },
      },
    });
    // Firehose checks its role when the stream is created: the policy must exist first.
    this.deliveryStream.node.addDependency(firehoseRole.node.findChild('DefaultPolicy'));
    this.deliveryStream.node.addDependency(firehoseLogStream);

    // ---- CloudWatch Logs → Firehose role (used by subscription filters) ---------------------
    const cwlRole = new iam.Role(this, 'CloudWatchLogsRole', {
      assumedBy: new iam.ServicePrincipal('logs.amazonaws.com', {
        conditions: {
          StringLike: {
            'aws:SourceArn': this.formatArn({
              service: 'logs',
              resource: '*',
              arnFormat: ArnFormat.NO_RESOURCE_NAME,
            }),
          },
        },
      }),
      description: 'logferry: CloudWatch Logs subscription filters put records into the archive stream',
    });
    cwlRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PutRecords',
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: [this.deliveryStream.attrArn],
      }),
    );

    // ---- S3 → SNS → one queue per component ------------------------------------------------
    const topic = new sns.Topic(this, 'ObjectCreated', {
      displayName: `${stackName} archive objects`,
      enforceSSL: true,
    });
    acknowledge(
      topic,
      'AwsSolutions-SNS2',
      'notifications carry only object keys and sizes; S3 cannot publish to a topic encrypted with the ' +
        'AWS-managed SNS key, and the queues it feeds are encrypted (SSE-SQS).',
    );
    const publish = topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveBucketOnly',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          // The ARN is built from the name (not a reference to the bucket): the bucket's notification
          // configuration depends on this policy, so the policy cannot depend on the bucket.
          ArnLike: { 'aws:SourceArn': Fn.join('', ['arn:', this.partition, ':s3:::', bucketName]) },
          StringEquals: { 'aws:SourceAccount': this.account },
        },
      }),
    );
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = {
      topicConfigurations: [{ event: 's3:ObjectCreated:*', topic: topic.topicArn }],
    };
    // S3 tests publishing when the configuration is set: the topic policy must exist first.
    if (publish.policyDependable) cfnBucket.node.addDependency(publish.policyDependable);

    const queueOutputs: Record<string, QueueWithDlq> = {};
    const consumers = cfg.componentConsumers;
    if (consumers && !cfg.componentQueues)
      throw new LogferryError(
        'CONFIG_INVALID',
        'firehoseArchive.componentConsumers needs firehoseArchive.componentQueues (the queues they consume)',
      );
    const consumerFns: { label: string; fn: lambda.IFunction }[] = [];
    // Objects a consumer could not read or parse, and records the sink refused, with the reason.
    const consumerDeadLetters = consumers
      ? new sqs.Queue(this, 'ConsumerDeadLetters', {
          encryption: sqs.QueueEncryption.SQS_MANAGED,
          enforceSSL: true,
          retentionPeriod: Duration.days(14),
        })
      : undefined;
    if (consumerDeadLetters)
      acknowledge(
        consumerDeadLetters,
        'AwsSolutions-SQS3',
        'this queue is itself a dead-letter destination (terminal).',
      );
    const access = consumers
      ? sinkAccess(consumers.sink, 'firehoseArchive.componentConsumers.sink')
      : undefined;
    // Without cluster names in the config, they become a deploy-time parameter: the filter policies
    // are then joined from it (EKS cluster names need no URL encoding).
    const clustersParam =
      cfg.componentQueues && cfg.clusters.length === 0
        ? new CfnParameter(this, 'EksClusterNames', {
            type: 'CommaDelimitedList',
            description:
              'EKS clusters whose control-plane logs this archive receives; each component queue filters on ' +
              'their object-key prefixes (or set firehoseArchive.clusters in the deploy config)',
          })
        : undefined;
    if (cfg.componentQueues) {
      for (const component of EKS_COMPONENTS) {
        const id = component
          .split('-')
          .map((s) => s[0].toUpperCase() + s.slice(1))
          .join('');
        const q = new QueueWithDlq(
          this,
          `${id}Queue`,
          consumers
            ? { visibilityTimeout: Duration.seconds(Math.max(300, 6 * consumers.lambda.timeoutSeconds)) }
            : {},
        );
        topic.addSubscription(
          new subs.SqsSubscription(q.queue, {
            rawMessageDelivery: true,
            filterPolicyWithMessageBody: {
              Records: sns.FilterOrPolicy.policy({
                s3: sns.FilterOrPolicy.policy({
                  object: sns.FilterOrPolicy.policy({
                    key: sns.FilterOrPolicy.filter(
                      sns.SubscriptionFilter.stringFilter({
                        matchPrefixes: componentKeyPrefixes(
                          cfg.prefixStyle,
                          clustersParam ? ['PARAMETER'] : cfg.clusters,
                          component,
                        ),
                      }),
                    ),
                  }),
                }),
              }),
            },
          }),
        );
        if (clustersParam) {
          const [before, after] = componentKeyPrefixes(cfg.prefixStyle, ['\u0000'], component)[0].split(
            '%00',
          );
          const filterPolicy = Fn.join('', [
            `{"Records":{"s3":{"object":{"key":[{"prefix":"${before}`,
            Fn.join(`${after}"},{"prefix":"${before}`, clustersParam.valueAsList),
            `${after}"}]}}}}`,
          ]);
          subscriptionOf(q.queue).addPropertyOverride('FilterPolicy', filterPolicy);
        }
        queueOutputs[id] = q;
        if (consumers && access && consumerDeadLetters) {
          const c = new LogferryFunction(this, `${id}Consumer`, {
            bundle: 'sqs',
            component: `consumer-${component}`,
            description: `logferry ${component} consumer: reads the archive objects its queue announces, ships them`,
            memoryMiB: consumers.lambda.memoryMiB,
            timeout: Duration.seconds(consumers.lambda.timeoutSeconds),
            logRetentionDays: retentionDays(cfg.logRetentionDays),
            environment: {
              LOGFERRY_LOG_LEVEL: consumers.lambda.logLevel,
              LOGFERRY_DLQ: consumerDeadLetters.queueUrl,
              ...access.env,
            },
          });
          this.pipelineLogGroupNames.push(c.logGroupName);
          // Exactly what the event source mapping and the handler do, on this queue and these objects.
          c.role.addToPrincipalPolicy(
            new iam.PolicyStatement({
              sid: 'ConsumeQueue',
              actions: [
                'sqs:ChangeMessageVisibility',
                'sqs:DeleteMessage',
                'sqs:GetQueueAttributes',
                'sqs:ReceiveMessage',
              ],
              resources: [q.queue.queueArn],
            }),
          );
          const objects = componentObjectPatterns(
            cfg.prefixStyle,
            clustersParam ? undefined : cfg.clusters,
            component,
          ).map((k) => this.bucket.arnForObjects(k));
          c.role.addToPrincipalPolicy(
            new iam.PolicyStatement({
              sid: 'ReadComponentObjects',
              actions: ['s3:GetObject'],
              resources: objects,
            }),
          );
          for (const o of objects)
            acknowledgeWildcard(
              c.role,
              o,
              `s3:GetObject only under the ${component} prefix of this stack's bucket: object keys carry the delivery ` +
                'time, decided at run time' +
                (clustersParam ? ' (cluster names are a deploy-time parameter, so any cluster segment)' : ''),
            );
          c.role.addToPrincipalPolicy(
            new iam.PolicyStatement({
              sid: 'DeadLetters',
              actions: ['sqs:SendMessage'],
              resources: [consumerDeadLetters.queueArn],
            }),
          );
          grantSinkAccess(
            this,
            c.role,
            { ...access, refs: [...access.refs, ...consumers.readSecrets] },
            consumers.secretKmsKeyArns,
          );
          new lambda.EventSourceMapping(this, `${id}ConsumerEvents`, {
            target: c.fn,
            eventSourceArn: q.queue.queueArn,
            batchSize: consumers.batchSize,
            maxBatchingWindow: consumers.maxBatchingWindowSeconds
              ? Duration.seconds(consumers.maxBatchingWindowSeconds)
              : undefined,
            reportBatchItemFailures: true,
            maxConcurrency: consumers.maxConcurrency,
          });
          consumerFns.push({ label: `${id}Consumer`, fn: c.fn });
          new CfnOutput(this, `${id}ConsumerFunctionName`, { value: c.fn.functionName });
        }
        new CfnOutput(this, `${id}QueueUrl`, {
          value: q.queue.queueUrl,
          description: `queue of ${component} objects`,
        });
      }
    }

    // ---- monitoring ---------------------------------------------------------------------------
    new Monitoring(this, 'Monitoring', {
      ...cfg.monitoring,
      functions: [{ label: 'Transform', fn: transform.fn }, ...consumerFns],
      deadLetterQueues: [
        ...Object.entries(queueOutputs).map(([id, q]) => ({ label: `${id}Dlq`, queue: q.dlq })),
        ...(consumerDeadLetters ? [{ label: 'ConsumerDeadLetters', queue: consumerDeadLetters }] : []),
      ],
      deliveryStreamName: streamName,
      emf: true,
    });

    // ---- outputs (read by `logferry onboard`) ------------------------------------------------
    ({ destinationArnExport: this.destinationArnExport, roleArnExport: this.roleArnExport } = topologyOutputs(
      this,
      {
        arn: this.deliveryStream.attrArn,
        description: 'the Firehose delivery stream subscription filters target',
      },
      cwlRole.roleArn,
    ));
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'DeliveryStreamName', { value: streamName });
    new CfnOutput(this, 'TransformFunctionName', { value: transform.fn.functionName });
    new CfnOutput(this, 'ObjectCreatedTopicArn', { value: topic.topicArn });
    new CfnOutput(this, 'PipelineLogGroups', { value: this.pipelineLogGroupNames.join(',') });
  }
}
