/** The firehose-archive stack (seed 000 done right), synthesized once with two EKS clusters. */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { EKS_COMPONENTS, parseDeployConfig } from '../src/config.js';
import {
  componentKeyPrefixes,
  ERROR_PREFIX,
  SEED_PREFIX,
  s3EventKey,
} from '../src/stacks/firehose-archive.js';
import {
  actionsOf,
  checkIam,
  grants,
  lint,
  resources,
  type Synthesized,
  stageBundles,
  synthStack,
} from './helpers.js';

let s: Synthesized;
beforeAll(() => {
  s = synthStack('firehose-archive', { firehoseArchive: { clusters: ['prod', 'dev-2'] } });
}, 120_000);

const byType = (type: string) => Object.entries<any>(s.json.Resources).filter(([, r]) => r.Type === type);

describe('firehose-archive stack', () => {
  it('creates an encrypted, private, TLS-only bucket with lifecycle rules', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'archive',
            ExpirationInDays: 365,
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
              { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
            ],
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }),
          Match.objectLike({ Id: 'errors', Prefix: 'errors/', ExpirationInDays: 30 }),
        ]),
      },
      NotificationConfiguration: {
        TopicConfigurations: [{ Event: 's3:ObjectCreated:*', Topic: { Ref: Match.anyValue() } }],
      },
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    const [[, bucket]] = byType('AWS::S3::Bucket');
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('creates the delivery stream with dynamic partitioning from the Lambda, the seed prefix and only the Lambda processor', () => {
    s.template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: 'LogferryFirehoseArchive-archive',
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix: SEED_PREFIX,
        ErrorOutputPrefix: ERROR_PREFIX,
        CompressionFormat: 'GZIP',
        BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 60 },
        DynamicPartitioningConfiguration: { Enabled: true, RetryOptions: { DurationInSeconds: 300 } },
        ProcessingConfiguration: {
          Enabled: true,
          Processors: [
            {
              Type: 'Lambda',
              Parameters: [
                { ParameterName: 'LambdaArn', ParameterValue: Match.anyValue() },
                { ParameterName: 'BufferSizeInMBs', ParameterValue: '1' },
                { ParameterName: 'BufferIntervalInSeconds', ParameterValue: '60' },
                { ParameterName: 'NumberOfRetries', ParameterValue: '3' },
              ],
            },
          ],
        },
        CloudWatchLoggingOptions: {
          Enabled: true,
          LogGroupName: '/logferry/LogferryFirehoseArchive/firehose',
          LogStreamName: 'S3Delivery',
        },
      }),
    });
  });

  it('runs the built firehose bundle on nodejs22.x/arm64, sized for the 6 MB contract, logging to a named group', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 1024,
      Timeout: 120,
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('TransformLogs') } },
    });
    s.template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/logferry/LogferryFirehoseArchive/transform',
      RetentionInDays: 30,
    });
    // No managed policies anywhere: every permission is written out.
    for (const [, r] of byType('AWS::IAM::Role')) expect(r.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('gives Firehose, CloudWatch Logs and the Lambda exactly the actions they need on the created resources', () => {
    const wild = checkIam(s.json);
    expect(wild).toEqual(['ArchiveObjects: <ArchiveDA4CB258.Arn>/*']);

    const objects = grants(s.json, 's3:PutObject');
    expect(objects).toHaveLength(1);
    expect(actionsOf(objects[0])).toEqual(['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject']);
    const bucket = grants(s.json, 's3:ListBucket');
    expect(actionsOf(bucket[0])).toEqual([
      's3:GetBucketLocation',
      's3:ListBucket',
      's3:ListBucketMultipartUploads',
    ]);
    expect(resources(bucket[0])).toEqual(['<ArchiveDA4CB258.Arn>']);
    const invoke = grants(s.json, 'lambda:InvokeFunction');
    expect(invoke).toHaveLength(1);
    expect(resources(invoke[0])).toEqual([expect.stringMatching(/^<TransformFunction\w+\.Arn>$/)]);

    // CloudWatch Logs → Firehose: PutRecord(Batch) on this stream, trust limited by aws:SourceArn.
    const put = grants(s.json, 'firehose:PutRecord');
    expect(put).toHaveLength(1);
    expect(resources(put[0])).toEqual(['<DeliveryStream.Arn>']);
    s.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'logs.amazonaws.com' },
            Condition: { StringLike: { 'aws:SourceArn': Match.anyValue() } },
          },
        ],
      },
    });
    // Re-ingest only into its own stream (by name, since the stream depends on the function).
    const reingest = grants(s.json, 'firehose:PutRecordBatch').filter((x) => x.Sid === 'Reingest');
    expect(reingest).toHaveLength(1);
    expect(resources(reingest[0])[0]).toMatch(/:deliverystream\/LogferryFirehoseArchive-archive$/);
  });

  it('admits only this bucket in this account to the SNS topic (aws:SourceArn and aws:SourceAccount)', () => {
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            },
          }),
        ]),
      },
    });
  });

  it('has one queue per control-plane component (+ a DLQ each), subscribed raw with a body filter on the key prefix', () => {
    const queues = byType('AWS::SQS::Queue');
    expect(queues).toHaveLength(EKS_COMPONENTS.length * 2);
    for (const [, q] of queues) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    expect(queues.filter(([, q]) => q.Properties.RedrivePolicy)).toHaveLength(EKS_COMPONENTS.length);
    const subsc = byType('AWS::SNS::Subscription');
    expect(subsc).toHaveLength(EKS_COMPONENTS.length);
    const seen = new Set<string>();
    for (const [, sub] of subsc) {
      const p = sub.Properties;
      expect(p.Protocol).toBe('sqs');
      expect(p.RawMessageDelivery).toBe(true);
      expect(p.FilterPolicyScope).toBe('MessageBody');
      const prefixes = p.FilterPolicy.Records.s3.object.key.map((k: { prefix: string }) => k.prefix);
      const component = EKS_COMPONENTS.find((c) => prefixes[0] === `_aws_eks_prod_cluster/${c}/`);
      expect(component, JSON.stringify(prefixes)).toBeDefined();
      expect(prefixes).toEqual([
        `_aws_eks_prod_cluster/${component}/`,
        `_aws_eks_dev-2_cluster/${component}/`,
      ]);
      seen.add(component as string);
    }
    expect(seen.size).toBe(EKS_COMPONENTS.length);
    // Each queue admits SNS only from this topic.
    const sends = grants(s.json, 'sqs:SendMessage');
    expect(sends).toHaveLength(EKS_COMPONENTS.length);
    for (const st of sends)
      expect(st.Condition).toEqual({ ArnEquals: { 'aws:SourceArn': { Ref: expect.any(String) } } });
  });

  it('has alarms on Lambda errors/throttles, DLQ depth, Firehose failures and the EMF failed counter, and a dashboard', () => {
    const alarms = byType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const names = alarms.map((a) => a.MetricName).filter(Boolean);
    expect(names).toEqual(
      expect.arrayContaining([
        'Errors',
        'Throttles',
        'ApproximateNumberOfMessagesVisible',
        'DeliveryToS3.Success',
        'ExecuteProcessing.Success',
      ]),
    );
    expect(alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')).toHaveLength(6);
    const emf = alarms.find((a) => JSON.stringify(a.Metrics ?? '').includes('SUM(failed)'));
    expect(JSON.stringify(emf?.Metrics)).toContain('SCHEMA(\\"logferry\\", logGroup)');
    s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    expect(JSON.stringify(s.json.Resources)).toContain(
      'SEARCH(\'{logferry,logGroup} MetricName=\\\\\\"delivered\\\\\\"\'',
    );
  });

  it('exports DestinationArn and CloudWatchLogsRoleArn for onboarding', () => {
    expect(s.json.Outputs.DestinationArn).toMatchObject({
      Value: { 'Fn::GetAtt': ['DeliveryStream', 'Arn'] },
      Export: { Name: 'LogferryFirehoseArchive-DestinationArn' },
    });
    expect(s.json.Outputs.CloudWatchLogsRoleArn.Export.Name).toBe(
      'LogferryFirehoseArchive-CloudWatchLogsRoleArn',
    );
    expect(s.json.Outputs.PipelineLogGroups.Value).toBe(
      '/logferry/LogferryFirehoseArchive/transform,/logferry/LogferryFirehoseArchive/firehose',
    );
  });

  it('passes cdk-nag AwsSolutions with every suppression justified', () => {
    expect(s.nagViolations).toEqual([]);
    expect(s.acknowledgements.length).toBeGreaterThan(0);
    for (const a of s.acknowledgements) expect(a.reason.length, a.id).toBeGreaterThan(40);
  });

  it('passes cfn-lint with no errors', () => {
    const r = lint(s.templateFile);
    expect(r.errors).toEqual([]);
    expect(r.all).toEqual([]);
  }, 120_000);
});

describe('firehose-archive options', () => {
  it('encodes Hive-style prefixes as S3 event keys (= → %3D)', () => {
    expect(componentKeyPrefixes('hive', ['prod'], 'kube-scheduler')).toEqual([
      'cluster%3Dprod/component%3Dkube-scheduler/',
    ]);
    expect(s3EventKey('a b/c=d')).toBe('a+b/c%3Dd');
  });

  it('without cluster names, takes them as a deploy-time parameter joined into each filter policy', () => {
    const p = synthStack('firehose-archive', {});
    expect(p.json.Parameters.EksClusterNames.Type).toBe('CommaDelimitedList');
    const subsc = Object.values<any>(p.json.Resources).filter((r) => r.Type === 'AWS::SNS::Subscription');
    expect(subsc).toHaveLength(EKS_COMPONENTS.length);
    const audit = subsc.find((r) =>
      JSON.stringify(r.Properties.FilterPolicy).includes('/kube-apiserver-audit/'),
    );
    expect(audit.Properties.FilterPolicyScope).toBe('MessageBody');
    expect(audit.Properties.FilterPolicy).toEqual({
      'Fn::Join': [
        '',
        [
          '{"Records":{"s3":{"object":{"key":[{"prefix":"_aws_eks_',
          {
            'Fn::Join': ['_cluster/kube-apiserver-audit/"},{"prefix":"_aws_eks_', { Ref: 'EksClusterNames' }],
          },
          '_cluster/kube-apiserver-audit/"}]}}}}',
        ],
      ],
    });
    expect(p.nagViolations).toEqual([]);
    expect(lint(p.templateFile).errors).toEqual([]);
  }, 120_000);

  it('refuses a bad config listing every problem', () => {
    expect(() =>
      parseDeployConfig({ firehoseArchive: { clusters: ['bad name'], buffering: { sizeMiB: 1 }, nope: 1 } }),
    ).toThrow(/3 problems[\s\S]*clusters\.\[?0[\s\S]*buffering\.sizeMiB[\s\S]*nope/);
  });
});
