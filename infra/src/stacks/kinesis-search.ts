/**
 * `kinesis-search` (seed 001, done right): CloudWatch Logs → on-demand Kinesis data stream → the
 * logferry consumer Lambda (partial batch failures, bisect, bounded retries and record age,
 * on-failure queue) → an existing OpenSearch/Elasticsearch/HTTP service or a new Amazon OpenSearch
 * Service domain. Sink credentials are references (SSM SecureString / Secrets Manager) resolved by
 * the function at run time, never environment values.
 */
import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { LogferryError } from '../../../src/core/errors.js';
import type { KinesisSearchConfig } from '../config.js';
import {
  acknowledge,
  acknowledgeWildcard,
  LogferryFunction,
  retentionDays,
  topologyOutputs,
} from '../constructs/common.js';
import { Monitoring } from '../constructs/monitoring.js';
import type { PipelineStack } from './firehose-archive.js';

/** The IAM resource a secret reference reads (`ssm:/name`, `secretsmanager:name-or-arn[#key]`). */
export function secretRefResource(stack: Stack, ref: string): { action: string; resource: string } {
  if (ref.startsWith('ssm:')) {
    const name = ref.slice(4);
    return {
      action: 'ssm:GetParameter',
      resource: stack.formatArn({
        service: 'ssm',
        resource: 'parameter',
        resourceName: name.replace(/^\//, ''),
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    };
  }
  const id = ref.slice('secretsmanager:'.length).split('#')[0];
  if (id.startsWith('arn:')) return { action: 'secretsmanager:GetSecretValue', resource: id };
  // A name: Secrets Manager appends `-` and six random characters to the ARN.
  return {
    action: 'secretsmanager:GetSecretValue',
    resource: stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${id}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  };
}

export class KinesisSearchStack extends Stack implements PipelineStack {
  readonly pipelineLogGroupNames: string[] = [];
  readonly destinationArnExport: string;
  readonly roleArnExport: string;
  readonly stream: kinesis.Stream;
  readonly consumer: lambda.Function;

  constructor(scope: Construct, id: string, cfg: KinesisSearchConfig, props: StackProps = {}) {
    super(scope, id, { ...props, stackName: cfg.stackName, description: 'logferry kinesis-search' });
    const stackName = this.stackName;
    const sink = cfg.sink;

    this.stream = new kinesis.Stream(this, 'Stream', {
      streamMode: kinesis.StreamMode.ON_DEMAND,
      encryption: kinesis.StreamEncryption.MANAGED,
      retentionPeriod: Duration.hours(cfg.streamRetentionHours),
    });
    acknowledge(
      this.stream,
      'AwsSolutions-KDS3',
      'the stream is encrypted with the AWS-managed Kinesis key; a customer key adds KMS request costs on ' +
        'every record and must also be granted to CloudWatch Logs.',
    );

    // Records a sink refused for good (with the reason), and positions of batches Lambda gave up on.
    const deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const onFailure = new sqs.Queue(this, 'OnFailure', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const q of [deadLetters, onFailure])
      acknowledge(q, 'AwsSolutions-SQS3', 'this queue is itself a dead-letter destination (terminal).');

    const env: Record<string, string> = {
      LOGFERRY_DLQ: deadLetters.queueUrl,
      LOGFERRY_LOG_LEVEL: cfg.lambda.logLevel,
    };
    const refs: string[] = [];
    let domain: opensearch.CfnDomain | undefined;
    let esResource: string | undefined;
    let endpoint: string | undefined;
    if (sink.type === 'opensearch') {
      env.LOGFERRY_OPENSEARCH_URL = sink.url;
      endpoint = sink.url;
      if (sink.auth) env.LOGFERRY_OPENSEARCH_AUTH = sink.auth;
      if (sink.username) env.LOGFERRY_OPENSEARCH_USERNAME = sink.username;
      if (sink.password) {
        env.LOGFERRY_OPENSEARCH_PASSWORD = sink.password;
        refs.push(sink.password);
      }
      if (sink.index) env.LOGFERRY_INDEX = sink.index;
      const sigv4 = sink.auth === 'sigv4' || (!sink.auth && /\.(es|aoss)\.amazonaws\.com/.test(sink.url));
      if (sigv4 && !sink.domainArn)
        throw new LogferryError(
          'CONFIG_INVALID',
          'kinesisSearch.sink.domainArn is required for SigV4 to an Amazon OpenSearch Service domain (the role is granted es:ESHttp* on it)',
        );
      if (sigv4 && sink.domainArn) esResource = `${sink.domainArn}/*`;
      if ((sink.auth === 'basic' || sink.username) && !sink.password)
        throw new LogferryError(
          'CONFIG_INVALID',
          'kinesisSearch.sink.password: basic auth needs a password reference (ssm:/name or secretsmanager:name)',
        );
    } else if (sink.type === 'config') {
      env.LOGFERRY_CONFIG_PARAMETER = sink.parameter;
      refs.push(`ssm:${sink.parameter}`);
    }
    for (const r of cfg.readSecrets) refs.push(r);

    const consumer = new LogferryFunction(this, 'Consumer', {
      bundle: 'kinesis',
      component: 'consumer',
      description: 'logferry Kinesis consumer: decode, parse, mask, deliver; partial batch failures',
      memoryMiB: cfg.lambda.memoryMiB,
      timeout: Duration.seconds(cfg.lambda.timeoutSeconds),
      logRetentionDays: retentionDays(cfg.logRetentionDays),
      environment: env,
      reservedConcurrency: cfg.lambda.reservedConcurrency,
    });
    this.consumer = consumer.fn;
    this.pipelineLogGroupNames.push(consumer.logGroupName);
    deadLetters.grantSendMessages(consumer.role);

    if (sink.type === 'domain') {
      const domainName =
        sink.domainName ??
        `${stackName
          .toLowerCase()
          .replace(/[^a-z0-9-]/g, '-')
          .replace(/^[^a-z]+/, '')}`
          .slice(0, 28)
          .padEnd(3, 'x');
      const domainResource = this.formatArn({
        service: 'es',
        resource: 'domain',
        resourceName: `${domainName}/*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      domain = new opensearch.CfnDomain(this, 'Domain', {
        domainName,
        engineVersion: sink.engineVersion,
        clusterConfig: { instanceType: sink.instanceType, instanceCount: sink.instanceCount },
        ebsOptions: { ebsEnabled: true, volumeType: 'gp3', volumeSize: sink.volumeGiB },
        encryptionAtRestOptions: { enabled: true },
        nodeToNodeEncryptionOptions: { enabled: true },
        domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: 'Policy-Min-TLS-1-2-PFS-2023-10' },
        accessPolicies: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'ConsumerWrites',
              Effect: 'Allow',
              Principal: { AWS: consumer.role.roleArn },
              Action: ['es:ESHttpGet', 'es:ESHttpPost', 'es:ESHttpPut'],
              Resource: domainResource,
            },
            ...(sink.readerArns.length
              ? [
                  {
                    Sid: 'Readers',
                    Effect: 'Allow',
                    Principal: { AWS: sink.readerArns },
                    Action: ['es:ESHttpGet', 'es:ESHttpHead', 'es:ESHttpPost'],
                    Resource: domainResource,
                  },
                ]
              : []),
          ],
        },
      });
      acknowledge(
        domain,
        'AwsSolutions-OS1',
        'optional starter domain reached over HTTPS with SigV4 by the consumer role only (IAM access policy); ' +
          'production domains in a VPC are used through sink.type opensearch.',
      );
      acknowledge(
        domain,
        'AwsSolutions-OS3',
        'access is limited by an IAM principal policy, not by source IP.',
      );
      acknowledge(
        domain,
        'AwsSolutions-OS4',
        'starter domain: dedicated master nodes triple the cost; set instanceCount and use an existing domain for production.',
      );
      acknowledge(
        domain,
        'AwsSolutions-OS7',
        'starter domain: zone awareness needs an even number of data nodes.',
      );
      for (const log of ['SEARCH_SLOW_LOGS', 'INDEX_SLOW_LOGS'])
        acknowledge(
          domain,
          `AwsSolutions-OS9[LogExport::${log}]`,
          'slow logs need a CloudWatch Logs resource policy for the service; off on the starter domain.',
        );
      env.LOGFERRY_OPENSEARCH_AUTH = 'sigv4';
      endpoint = `https://${domain.attrDomainEndpoint}`;
      consumer.fn.addEnvironment('LOGFERRY_OPENSEARCH_URL', endpoint);
      consumer.fn.addEnvironment('LOGFERRY_OPENSEARCH_AUTH', 'sigv4');
      if (sink.index) consumer.fn.addEnvironment('LOGFERRY_INDEX', sink.index);
      esResource = `${domain.attrArn}/*`;
    }
    if (esResource) {
      consumer.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'SearchWrite',
          actions: ['es:ESHttpGet', 'es:ESHttpPost', 'es:ESHttpPut'],
          resources: [esResource],
        }),
      );
      acknowledgeWildcard(
        consumer.role,
        esResource,
        'es:ESHttp* is scoped to the one search domain; `<domain>/*` names its index paths (daily indexes are ' +
          'created at run time).',
      );
    }
    const byAction = new Map<string, string[]>();
    for (const r of refs) {
      const { action, resource } = secretRefResource(this, r);
      byAction.set(action, [...(byAction.get(action) ?? []), resource]);
    }
    for (const [action, resources] of byAction)
      consumer.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: action.split(':')[0].replace(/[^a-z]/g, '') + 'Read',
          actions: [action],
          resources,
        }),
      );
    if (cfg.secretKmsKeyArns.length)
      consumer.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'SecretKeys',
          actions: ['kms:Decrypt'],
          resources: cfg.secretKmsKeyArns,
        }),
      );

    const es = cfg.eventSource;
    consumer.fn.addEventSource(
      new KinesisEventSource(this.stream, {
        startingPosition:
          es.startingPosition === 'LATEST'
            ? lambda.StartingPosition.LATEST
            : lambda.StartingPosition.TRIM_HORIZON,
        batchSize: es.batchSize,
        maxBatchingWindow: Duration.seconds(es.maxBatchingWindowSeconds),
        parallelizationFactor: es.parallelizationFactor,
        retryAttempts: es.maxRetryAttempts,
        maxRecordAge: Duration.seconds(es.maxRecordAgeSeconds),
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        onFailure: new destinations.SqsDestination(onFailure),
      }),
    );

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
      description: 'logferry: CloudWatch Logs subscription filters put records into the search stream',
    });
    cwlRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PutRecords',
        actions: ['kinesis:PutRecord', 'kinesis:PutRecords'],
        resources: [this.stream.streamArn],
      }),
    );

    new Monitoring(this, 'Monitoring', {
      ...cfg.monitoring,
      functions: [{ label: 'Consumer', fn: consumer.fn, kinesisConsumer: true }],
      deadLetterQueues: [
        { label: 'DeadLetters', queue: deadLetters },
        { label: 'OnFailure', queue: onFailure },
      ],
      emf: true,
    });

    ({ destinationArnExport: this.destinationArnExport, roleArnExport: this.roleArnExport } = topologyOutputs(
      this,
      { arn: this.stream.streamArn, description: 'the Kinesis data stream subscription filters target' },
      cwlRole.roleArn,
    ));
    new CfnOutput(this, 'StreamName', { value: this.stream.streamName });
    new CfnOutput(this, 'ConsumerFunctionName', { value: consumer.fn.functionName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: deadLetters.queueUrl });
    new CfnOutput(this, 'OnFailureQueueUrl', { value: onFailure.queueUrl });
    if (endpoint) new CfnOutput(this, 'SearchEndpoint', { value: endpoint });
    new CfnOutput(this, 'PipelineLogGroups', { value: this.pipelineLogGroupNames.join(',') });
  }
}
