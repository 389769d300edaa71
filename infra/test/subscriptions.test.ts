/**
 * The subscriptions stack: filters mode (rule + backfill + derived exclusions), account-policy mode,
 * and the synth-time refusals that make a shipping loop impossible.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack } from '../src/app.js';
import { parseDeployConfig } from '../src/config.js';
import {
  assertNoPipelineGroupSelected,
  collectPipelineLogGroups,
  TRAIL_NOTICE,
} from '../src/stacks/subscriptions.js';
import {
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

const PIPELINE = [
  '/logferry/LogferryFirehoseArchive/firehose',
  '/logferry/LogferryFirehoseArchive/transform',
  '/logferry/LogferryKinesisSearch/consumer',
  '/logferry/LogferrySubscriptions/subscriber',
];

let filters: Synthesized;
let account: Synthesized;
beforeAll(() => {
  ensureCfnLint(); // first run on a machine installs it: under this hook's timeout, not a test's
  filters = synthStack('subscriptions', {
    subscriptions: {
      selection: {
        prefixes: ['/aws/lambda/', '/aws/eks/'],
        tags: { team: '*' },
        exclude: { patterns: ['*-debug'] },
      },
      retention: { days: 14 },
    },
  });
  account = synthStack('subscriptions', {
    subscriptions: {
      mode: 'account-policy',
      target: { stack: 'firehose-archive' },
      selection: { exclude: { names: ['/noisy'] } },
    },
  });
}, 600_000);

const env = (s: Synthesized) =>
  Object.values<any>(s.json.Resources).find((r) => r.Type === 'AWS::Lambda::Function')?.Properties.Environment
    .Variables;

describe('subscriptions stack (filters)', () => {
  it('subscribes new groups from CloudTrail CreateLogGroup through EventBridge', () => {
    filters.template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'LogferrySubscriptions-create-log-group',
      EventPattern: {
        source: ['aws.logs'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['logs.amazonaws.com'], eventName: ['CreateLogGroup'] },
      },
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
    filters.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'LogferrySubscriptions-subscriber',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 900,
    });
  });

  it('backfills existing groups once through a custom resource that runs after the rule exists', () => {
    const [id, cr] = Object.entries<any>(filters.json.Resources).find(
      ([, r]) => r.Type === 'Custom::LogferrySubscriptions',
    )!;
    expect(id).toMatch(/^Backfill/);
    expect(cr.Properties).toMatchObject({ Backfill: 'true', FilterName: 'logferry', ServiceTimeout: '3600' });
    expect(cr.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^CreateLogGroup/)]));
  });

  it('excludes every pipeline log group, derived from the stacks, and names the target by export', () => {
    const v = env(filters);
    const sel = JSON.parse(v.LOGFERRY_SUB_SELECTION);
    expect(sel.exclude.names).toEqual(PIPELINE);
    expect(sel.exclude.prefixes).toEqual(['/logferry/']);
    expect(sel.exclude.patterns).toEqual(['*-debug']);
    expect(sel.prefixes).toEqual(['/aws/lambda/', '/aws/eks/']);
    expect(v.LOGFERRY_SUB_DESTINATION_ARN).toEqual({
      'Fn::ImportValue': 'LogferryKinesisSearch-DestinationArn',
    });
    expect(v.LOGFERRY_SUB_ROLE_ARN).toEqual({
      'Fn::ImportValue': 'LogferryKinesisSearch-CloudWatchLogsRoleArn',
    });
    expect(v.LOGFERRY_SUB_ON_NO_FREE_SLOT).toBe('report');
    expect(JSON.parse(v.LOGFERRY_SUB_RETENTION)).toMatchObject({ days: 14, overrideExisting: false });
    expect(filters.json.Outputs.ExcludedLogGroups.Value).toBe(PIPELINE.join(','));
  });

  it('grants only what the subscriber calls, on log groups, its rule, itself and the logs role', () => {
    const wild = checkIam(filters.json);
    const anyGroup = 'arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*';
    expect(wild).toEqual([
      `ListGroups: ${anyGroup}`,
      `ManageFilters: ${anyGroup}`,
      'ReadTags: arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/eks/*',
      'ReadTags: arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/lambda/*',
      `SetRetention: ${anyGroup}`,
    ]);
    const pass = grants(filters.json, 'iam:PassRole');
    expect(pass).toHaveLength(1);
    expect(pass[0].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'logs.amazonaws.com' } });
    expect(
      resources(grants(filters.json, 'lambda:InvokeFunction').find((s) => s.Sid === 'ContinueItself')!),
    ).toEqual([
      'arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:LogferrySubscriptions-subscriber',
    ]);
    expect(resources(grants(filters.json, 'events:DisableRule')[0])).toEqual([
      'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/LogferrySubscriptions-create-log-group',
    ]);
  });

  it('passes cdk-nag and cfn-lint', () => {
    expect(filters.nagViolations).toEqual([]);
    expect(account.nagViolations).toEqual([]);
    for (const a of [...filters.acknowledgements, ...account.acknowledgements])
      expect(a.reason.length, a.id).toBeGreaterThan(40);
    for (const t of [filters, account]) {
      const r = lint(t.templateFile);
      expect(r.errors).toEqual([]);
      expect(r.all).toEqual([]);
    }
  }, 120_000);
});

describe('subscriptions stack (account policy)', () => {
  it('puts one account-level subscription filter policy excluding the pipeline groups by name', () => {
    account.template.hasResourceProperties('AWS::Logs::AccountPolicy', {
      PolicyName: 'logferry-logferry',
      PolicyType: 'SUBSCRIPTION_FILTER_POLICY',
      Scope: 'ALL',
      SelectionCriteria: `LogGroupName NOT IN [${[...PIPELINE.slice(0, 3), '/noisy'].map((n) => JSON.stringify(n)).join(', ')}]`,
    });
    const doc = JSON.stringify(account.json.Resources.AccountPolicy.Properties.PolicyDocument);
    expect(doc).toContain('LogferryFirehoseArchive-DestinationArn');
    expect(doc).toContain('LogferryFirehoseArchive-CloudWatchLogsRoleArn');
    // Without retention there is nothing to run: no function at all.
    account.template.resourceCountIs('AWS::Lambda::Function', 0);
  });
});

describe('synth refuses what could loop or cannot be expressed', () => {
  it('fails when a pipeline function logs to a group whose name is not fixed', () => {
    const app = new App();
    const stack = new Stack(app, 'P');
    new lambda.Function(stack, 'F', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler=async()=>1'),
    });
    expect(() => collectPipelineLogGroups([stack])).toThrow(
      /P\/F\/Resource: Lambda function without a fixed, named log group/,
    );
  });

  it('fails when a selection would subscribe a pipeline group', () => {
    const spec = {
      prefixes: ['/logferry/'],
      patterns: [],
      tags: {},
      exclude: { names: [], prefixes: [], patterns: [] },
    };
    expect(() => assertNoPipelineGroupSelected(spec, ['/logferry/S/consumer'], 'x')).toThrow(
      /shipping loop.*\/logferry\/S\/consumer/,
    );
  });

  it('fails when the account policy is asked for prefixes, patterns or tags', () => {
    stageBundles();
    expect(() =>
      buildStack(
        'subscriptions',
        parseDeployConfig({
          subscriptions: { mode: 'account-policy', selection: { prefixes: ['/aws/'], tags: { a: 'b' } } },
        }),
      ),
    ).toThrow(/selection\.prefixes, selection\.tags cannot be expressed/);
  });
});

describe('subscriptions stack with firehose-archive consumers', () => {
  it("excludes the component consumers' log groups too", () => {
    const built = buildStack(
      'subscriptions',
      parseDeployConfig({
        firehoseArchive: {
          clusters: ['prod'],
          componentConsumers: { sink: { type: 'config', parameter: '/logferry/consumers' } },
        },
      }),
    );
    const excluded = (built.stack as unknown as { excludedLogGroups: string[] }).excludedLogGroups;
    expect(excluded).toEqual(
      expect.arrayContaining([...PIPELINE, '/logferry/LogferryFirehoseArchive/consumer-kube-scheduler']),
    );
    expect(excluded.filter((g) => g.includes('/consumer-'))).toHaveLength(6);
  });
});

describe('subscriptions stack: the CloudTrail trail the CreateLogGroup rule depends on', () => {
  let trail: Synthesized;
  beforeAll(() => {
    trail = synthStack('subscriptions', { subscriptions: { trail: { create: true, expireAfterDays: 30 } } });
  }, 120_000);
  const typed = (s: Synthesized, type: string) =>
    Object.entries<any>(s.json.Resources).filter(([, r]) => r.Type === type);

  it('by default creates no trail and says at synth (warning) and in the outputs that the rule needs one', () => {
    expect(typed(filters, 'AWS::CloudTrail::Trail')).toEqual([]);
    expect(filters.json.Outputs.NewLogGroupsNeedCloudTrail.Value).toBe(TRAIL_NOTICE);
    const built = buildStack('subscriptions', parseDeployConfig({}));
    Annotations.fromStack(built.stack).hasWarning(
      '*',
      Match.stringLikeRegexp('only while a CloudTrail trail records management'),
    );
    expect(trail.json.Outputs.NewLogGroupsNeedCloudTrail).toBeUndefined();
  });

  it('with trail.create, records write management events into a private, encrypted, TLS-only, expiring bucket', () => {
    const [[trailId, t]] = typed(trail, 'AWS::CloudTrail::Trail');
    expect(t.Properties).toMatchObject({
      TrailName: 'LogferrySubscriptions-management-events',
      IsLogging: true,
      IsMultiRegionTrail: false,
      EnableLogFileValidation: true,
      EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'WriteOnly' }],
    });
    const [[bucketId, b]] = typed(trail, 'AWS::S3::Bucket');
    expect(trailId).toMatch(/^ManagementEvents/);
    expect(t.Properties.S3BucketName).toEqual({ Ref: bucketId });
    expect(b.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: {
        Rules: [expect.objectContaining({ ExpirationInDays: 30, Status: 'Enabled' })],
      },
    });
    expect(b.DeletionPolicy).toBe('Retain');
    // CloudTrail checks the bucket policy when the trail is created.
    const [[policyId, policy]] = typed(trail, 'AWS::S3::BucketPolicy');
    expect(t.DependsOn).toContain(policyId);
    const st = policy.Properties.PolicyDocument.Statement;
    expect(st).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    );
    const trailArn = t.Properties.TrailName;
    const acl = st.find((x: { Sid?: string }) => x.Sid === 'CloudTrailAclCheck');
    expect(acl).toMatchObject({
      Effect: 'Allow',
      Action: 's3:GetBucketAcl',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
    });
    expect(flat(acl.Condition.StringEquals['aws:SourceArn'])).toMatch(new RegExp(`:trail/${trailArn}$`));
    const write = st.find((x: { Sid?: string }) => x.Sid === 'CloudTrailWrite');
    expect(write).toMatchObject({
      Effect: 'Allow',
      Action: 's3:PutObject',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
    });
    expect(write.Condition.StringEquals['s3:x-amz-acl']).toBe('bucket-owner-full-control');
    expect(flat(write.Condition.StringEquals['aws:SourceArn'])).toMatch(new RegExp(`:trail/${trailArn}$`));
    expect(flat(write.Resource)).toBe(`<${bucketId}.Arn>/AWSLogs/<AWS::AccountId>/*`);
    expect(trail.json.Outputs.TrailArn).toBeDefined();
  });

  it('passes the IAM checks, cdk-nag (justified) and cfn-lint', () => {
    const wild = checkIam(trail.json);
    expect(wild.filter((w) => w.startsWith('CloudTrail'))).toEqual([
      expect.stringMatching(
        /^CloudTrailWrite: <ManagementEventsBucket\w+\.Arn>\/AWSLogs\/<AWS::AccountId>\/\*$/,
      ),
    ]);
    expect(trail.nagViolations).toEqual([]);
    for (const a of trail.acknowledgements) expect(a.reason.length, a.id).toBeGreaterThan(40);
    const r = lint(trail.templateFile);
    expect(r.errors).toEqual([]);
    expect(r.all).toEqual([]);
  }, 120_000);
});
