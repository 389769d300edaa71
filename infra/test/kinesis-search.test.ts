/**
 * The kinesis-search stack (seed 001 done right): once with the default starter domain, once with an
 * existing OpenSearch endpoint whose password is an SSM reference.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDeployConfig } from '../src/config.js';
import { buildStack } from '../src/app.js';
import { checkIam, grants, lint, resources, type Synthesized, stageBundles, synthStack } from './helpers.js';
import { ensureCfnLint } from '../../test/infra/cfn-lint.js';

let domain: Synthesized;
let existing: Synthesized;
beforeAll(() => {
  ensureCfnLint(); // first run on a machine installs it: under this hook's timeout, not a test's
  domain = synthStack('kinesis-search', {});
  existing = synthStack('kinesis-search', {
    kinesisSearch: {
      sink: {
        type: 'opensearch',
        url: 'https://search.example.com',
        username: 'logferry',
        password: 'ssm:/logferry/opensearch-password',
      },
      readSecrets: ['secretsmanager:logzio-token'],
    },
  });
}, 600_000);

describe('kinesis-search stack', () => {
  it('creates an on-demand, encrypted stream', () => {
    domain.template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      RetentionPeriodHours: 24,
    });
  });

  it('maps the stream with partial batch failures, bisect, bounded retries and age, parallelism and an on-failure queue', () => {
    domain.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 21600,
      ParallelizationFactor: 2,
      BatchSize: 200,
      MaximumBatchingWindowInSeconds: 2,
      StartingPosition: 'TRIM_HORIZON',
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OnFailure'), 'Arn'] } },
      },
    });
  });

  it('runs the kinesis bundle on nodejs22.x/arm64 with the dead-letter queue and SigV4 to the domain', () => {
    domain.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          LOGFERRY_DLQ: { Ref: Match.stringLikeRegexp('^DeadLetters') },
          LOGFERRY_OPENSEARCH_AUTH: 'sigv4',
          LOGFERRY_OPENSEARCH_URL: Match.anyValue(),
        }),
      },
    });
    domain.template.hasResourceProperties('AWS::OpenSearchService::Domain', {
      DomainName: 'logferrykinesissearch',
      EngineVersion: 'OpenSearch_2.19',
      ClusterConfig: { InstanceType: 't3.small.search', InstanceCount: 1 },
      EBSOptions: { EBSEnabled: true, VolumeType: 'gp3', VolumeSize: 20 },
      EncryptionAtRestOptions: { Enabled: true },
      NodeToNodeEncryptionOptions: { Enabled: true },
      DomainEndpointOptions: { EnforceHTTPS: true },
      AccessPolicies: {
        Statement: [
          Match.objectLike({
            Principal: { AWS: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsumerRole'), 'Arn'] } },
          }),
        ],
      },
    });
  });

  it('keeps every IAM statement minimal (starter domain)', () => {
    const wild = checkIam(domain.json);
    expect(wild).toEqual([
      'ConsumerWrites: arn:<AWS::Partition>:es:<AWS::Region>:<AWS::AccountId>:domain/logferrykinesissearch/*',
      'SearchWrite: <Domain.Arn>/*',
    ]);
    for (const w of wild)
      expect(w).toMatch(
        /^SearchWrite: <Domain\.Arn>\/\*$|^ConsumerWrites: arn:<AWS::Partition>:es:<AWS::Region>:<AWS::AccountId>:domain\/logferrykinesissearch\/\*$/,
      );
    const put = grants(domain.json, 'kinesis:PutRecord');
    expect(put).toHaveLength(1);
    expect(resources(put[0])).toEqual([expect.stringMatching(/^<Stream\w+\.Arn>$/)]);
    const send = grants(domain.json, 'sqs:SendMessage').filter((s) => !s.Principal);
    // The consumer role sends to its dead-letter queue; Lambda's on-failure destination to the other.
    expect(send.map((s) => resources(s)[0]).sort()).toEqual([
      expect.stringMatching(/^<DeadLetters\w+\.Arn>$/),
      expect.stringMatching(/^<OnFailure\w+\.Arn>$/),
    ]);
  });

  it('passes the sink secret as a reference and grants reading exactly it', () => {
    existing.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          LOGFERRY_OPENSEARCH_URL: 'https://search.example.com',
          LOGFERRY_OPENSEARCH_USERNAME: 'logferry',
          LOGFERRY_OPENSEARCH_PASSWORD: 'ssm:/logferry/opensearch-password',
        }),
      },
    });
    const ssm = grants(existing.json, 'ssm:GetParameter');
    expect(ssm).toHaveLength(1);
    expect(resources(ssm[0])).toEqual([
      'arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/logferry/opensearch-password',
    ]);
    const sm = grants(existing.json, 'secretsmanager:GetSecretValue');
    expect(resources(sm[0])).toEqual([
      'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:logzio-token-??????',
    ]);
    expect(existing.json.Resources).not.toHaveProperty('Domain');
    expect(checkIam(existing.json)).toEqual([
      'secretsmanagerRead: arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:logzio-token-??????',
    ]);
  });

  it('has iterator-age, DLQ, error and EMF alarms', () => {
    const alarms = Object.values<any>(domain.json.Resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((a) => a.Properties);
    expect(alarms.find((a) => a.MetricName === 'IteratorAge')).toMatchObject({
      Threshold: 300000,
      Statistic: 'Maximum',
    });
    expect(alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')).toHaveLength(2);
    expect(alarms.some((a) => JSON.stringify(a.Metrics ?? '').includes('SUM(failed)'))).toBe(true);
  });

  it('exports DestinationArn and CloudWatchLogsRoleArn', () => {
    expect(domain.json.Outputs.DestinationArn.Export.Name).toBe('LogferryKinesisSearch-DestinationArn');
    expect(domain.json.Outputs.CloudWatchLogsRoleArn.Export.Name).toBe(
      'LogferryKinesisSearch-CloudWatchLogsRoleArn',
    );
  });

  it('passes cdk-nag AwsSolutions with every suppression justified', () => {
    expect(domain.nagViolations).toEqual([]);
    expect(existing.nagViolations).toEqual([]);
    for (const a of [...domain.acknowledgements, ...existing.acknowledgements])
      expect(a.reason.length, a.id).toBeGreaterThan(40);
  });

  it('passes cfn-lint with no errors', () => {
    for (const t of [domain, existing]) {
      const r = lint(t.templateFile);
      expect(r.errors).toEqual([]);
      expect(r.all).toEqual([]);
    }
  }, 120_000);

  it('refuses a plain password and SigV4 without the domain ARN', () => {
    stageBundles();
    expect(() =>
      parseDeployConfig({
        kinesisSearch: { sink: { type: 'opensearch', url: 'https://x', password: 'hunter2' } },
      }),
    ).toThrow(/password: must be a reference/);
    expect(() =>
      buildStack(
        'kinesis-search',
        parseDeployConfig({
          kinesisSearch: { sink: { type: 'opensearch', url: 'https://search-a.eu-west-1.es.amazonaws.com' } },
        }),
      ),
    ).toThrow(/domainArn is required/);
  });
});
