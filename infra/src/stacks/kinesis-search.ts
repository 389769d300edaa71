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
import { grantSinkAccess, type SinkAccess, sinkAccess } from '../constructs/sink.js';
import type { PipelineStack } from './firehose-archive.js';

export { secretRefResource } from '../constructs/sink.js';

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
    let domain: opensearch.CfnDomain | undefined;
    const access: SinkAccess =
      sink.type === 'domain' ? { env: {}, refs: [] } : sinkAccess(sink, 'kinesisSearch.sink');
    Object.assign(env, access.env);
    const refs = access.refs;
    let esResource = access.esResource;
    let endpoint = access.endpoint;
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
    grantSinkAccess(this, consumer.role, { refs, esResource }, cfg.secretKmsKeyArns);

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
