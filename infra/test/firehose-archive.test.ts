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
  flat,
  grants,
  lint,
  resources,
  type Synthesized,
  stageBundles,
  synthStack,
} from './helpers.js';
import { ensureCfnLint } from '../../test/infra/cfn-lint.js';

let s: Synthesized;
beforeAll(() => {
  ensureCfnLint(); // first run on a machine installs it: under this hook's timeout, not a test's
  s = synthStack('firehose-archive', { firehoseArchive: { clusters: ['prod', 'dev-2'] } });
}, 600_000);

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

describe('firehose-archive component consumers (the sqs handler per component queue)', () => {
  let c: Synthesized;
  const kmsKey = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  beforeAll(() => {
    c = synthStack('firehose-archive', {
      firehoseArchive: {
        clusters: ['prod'],
        componentConsumers: {
          sink: {
            type: 'opensearch',
            url: 'https://search.example.com',
            username: 'shipper',
            password: 'ssm:/logferry/search-password',
          },
          secretKmsKeyArns: [kmsKey],
        },
      },
    });
  }, 120_000);
  const typed = (type: string) => Object.entries<any>(c.json.Resources).filter(([, r]) => r.Type === type);
  const consumerFns = () =>
    // Every handler is `index.handler` of its own directory; the consumers are told apart by id.
    typed('AWS::Lambda::Function').filter(([id]) => /^[A-Za-z]+Consumer/.test(id));
  /** The logical id of the component queue (not its DLQ) a resource refers to. */
  const queueIds = () =>
    typed('AWS::SQS::Queue')
      .filter(([, q]) => q.Properties.RedrivePolicy)
      .map(([id]) => id)
      .sort();

  it('runs the sqs bundle once per component, configured by reference (no secret value)', () => {
    const fns = consumerFns();
    expect(fns).toHaveLength(EKS_COMPONENTS.length);
    for (const [, f] of fns) {
      expect(f.Properties.Runtime).toBe('nodejs22.x');
      expect(f.Properties.Architectures).toEqual(['arm64']);
      const env = f.Properties.Environment.Variables;
      expect(env.LOGFERRY_OPENSEARCH_URL).toBe('https://search.example.com');
      expect(env.LOGFERRY_OPENSEARCH_PASSWORD).toBe('ssm:/logferry/search-password');
      expect(env.LOGFERRY_DLQ).toEqual({ Ref: expect.stringMatching(/^ConsumerDeadLetters/) });
    }
    const groups = String(c.json.Outputs.PipelineLogGroups.Value).split(',');
    for (const comp of EKS_COMPONENTS)
      expect(groups).toContain(`/logferry/LogferryFirehoseArchive/consumer-${comp}`);
  });

  it('maps each component queue to its consumer with ReportBatchItemFailures, visibility 6× the timeout', () => {
    const maps = typed('AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
    expect(maps).toHaveLength(EKS_COMPONENTS.length);
    for (const m of maps) {
      expect(m.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(m.BatchSize).toBe(10);
      expect(m.ScalingConfig).toEqual({ MaximumConcurrency: 5 });
    }
    expect(maps.map((m) => m.EventSourceArn['Fn::GetAtt'][0]).sort()).toEqual(queueIds());
    for (const id of queueIds()) expect(c.json.Resources[id].Properties.VisibilityTimeout).toBe(720);
  });

  it("gives each consumer exactly its queue, its component's objects, the dead letters, the secret and its key", () => {
    const wild = checkIam(c.json);
    const componentWild = EKS_COMPONENTS.map(
      (comp) => `ReadComponentObjects: <ArchiveDA4CB258.Arn>/_aws_eks_prod_cluster/${comp}/*`,
    );
    expect(wild).toEqual(['ArchiveObjects: <ArchiveDA4CB258.Arn>/*', ...componentWild].sort());
    const consumes = grants(c.json, 'sqs:ReceiveMessage');
    expect(consumes).toHaveLength(EKS_COMPONENTS.length);
    const consumed = new Set<string>();
    for (const st of consumes) {
      expect(actionsOf(st)).toEqual([
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
      ]);
      const r = resources(st);
      expect(r).toHaveLength(1);
      consumed.add(r[0]);
    }
    expect([...consumed].sort()).toEqual(queueIds().map((id) => `<${id}.Arn>`));
    // Per role: the statements and nothing else, each consumer reading only its component's prefix.
    const policies = typed('AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('sqs:ReceiveMessage'),
    );
    expect(policies).toHaveLength(EKS_COMPONENTS.length);
    for (const [, p] of policies) {
      const st = p.Properties.PolicyDocument.Statement;
      expect(st.map((x: { Sid: string }) => x.Sid).sort()).toEqual(
        [
          'ConsumeQueue',
          'DeadLetters',
          'OwnLogGroup',
          'ReadComponentObjects',
          'SecretKeys',
          'ssmRead',
        ].sort(),
      );
      const get = st.find((x: { Sid: string }) => x.Sid === 'ReadComponentObjects');
      expect(get.Action).toBe('s3:GetObject');
      const objects = resources(get);
      expect(objects).toHaveLength(1);
      expect(objects[0]).toMatch(/^<ArchiveDA4CB258\.Arn>\/_aws_eks_prod_cluster\/[a-z-]+\/\*$/);
      const ssm = st.find((x: { Sid: string }) => x.Sid === 'ssmRead');
      expect(ssm.Action).toBe('ssm:GetParameter');
      expect(flat(ssm.Resource)).toContain(':parameter/logferry/search-password');
      expect(st.find((x: { Sid: string }) => x.Sid === 'SecretKeys').Resource).toBe(kmsKey);
      const dl = st.find((x: { Sid: string }) => x.Sid === 'DeadLetters');
      expect(dl.Action).toBe('sqs:SendMessage');
      expect(flat(dl.Resource)).toMatch(/^<ConsumerDeadLetters\w+\.Arn>$/);
    }
  });

  it('alarms on every consumer (errors, throttles) and the consumer dead letters', () => {
    const alarms = typed('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const fnAlarms = (metric: string) =>
      alarms.filter(
        (a) => a.MetricName === metric && JSON.stringify(a.Dimensions ?? []).match(/Consumer|Transform/),
      );
    expect(fnAlarms('Errors')).toHaveLength(EKS_COMPONENTS.length + 1);
    expect(fnAlarms('Throttles')).toHaveLength(EKS_COMPONENTS.length + 1);
    expect(alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')).toHaveLength(
      EKS_COMPONENTS.length + 1,
    );
    expect(JSON.stringify(c.json.Resources)).toContain('ConsumerDeadLetters');
  });

  it('passes cdk-nag (justified suppressions) and cfn-lint', () => {
    expect(c.nagViolations).toEqual([]);
    for (const a of c.acknowledgements) expect(a.reason.length, a.id).toBeGreaterThan(40);
    const r = lint(c.templateFile);
    expect(r.errors).toEqual([]);
    expect(r.all).toEqual([]);
  }, 120_000);

  it('with cluster names as a parameter, reads any cluster segment of its component only; refuses consumers without queues', () => {
    const p = synthStack('firehose-archive', {
      firehoseArchive: {
        componentConsumers: { sink: { type: 'config', parameter: '/logferry/consumer-config' } },
      },
    });
    const wild = checkIam(p.json).filter((w) => w.startsWith('ReadComponentObjects'));
    expect(wild).toEqual(
      EKS_COMPONENTS.map(
        (comp) => `ReadComponentObjects: <ArchiveDA4CB258.Arn>/_aws_eks_*_cluster/${comp}/*`,
      ).sort(),
    );
    expect(p.nagViolations).toEqual([]);
    expect(() =>
      synthStack('firehose-archive', {
        firehoseArchive: {
          componentQueues: false,
          componentConsumers: { sink: { type: 'config', parameter: '/x' } },
        },
      }),
    ).toThrow(/componentConsumers needs firehoseArchive\.componentQueues/);
  }, 120_000);
});
