/**
 * `subscriptions`: connects log groups to a logferry pipeline, safely.
 *
 * `filters` mode: a subscription filter (stable name) per selected group — new groups through an
 * EventBridge rule on CloudTrail's `CreateLogGroup`, existing ones through a one-off backfill custom
 * resource that pages with throttling backoff and, on removal, deletes exactly the filters it made.
 * `account-policy` mode: one account-level subscription filter policy (`PutAccountPolicy`, here the
 * `AWS::Logs::AccountPolicy` resource) excluding the pipeline's groups by name.
 *
 * The pipeline's own log groups are derived from the stacks in the app (every function must log to
 * a fixed, named group, every log group must have a fixed name) and excluded; synth fails if any of
 * them would still be selected, which is what makes a shipping loop impossible.
 */
import {
  Annotations,
  ArnFormat,
  CfnOutput,
  CustomResource,
  Duration,
  Fn,
  Stack,
  type StackProps,
  Token,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import { LogferryError } from '../../../src/core/errors.js';
import { compileSelection, type SelectionSpec, withPipelineExclusions } from '../../runtime/selection.js';
import type { SubscriptionsConfig } from '../config.js';
import { ManagementEventsTrail } from '../constructs/trail.js';
import {
  acknowledge,
  acknowledgeWildcard,
  LOG_GROUP_ROOT,
  LogferryFunction,
  retentionDays,
} from '../constructs/common.js';
import { Monitoring } from '../constructs/monitoring.js';

/** Most names an account policy's `LogGroupName NOT IN [...]` may list. */
export const ACCOUNT_POLICY_MAX_EXCLUSIONS = 50;
/** Lambda's limit on the total size of environment variables. */
const LAMBDA_ENV_LIMIT = 4096;

/**
 * Every log group the given stacks write: the names of their log groups, and the log group of every
 * Lambda function (which must be one of those, by name: a function logging to the default
 * `/aws/lambda/<generated name>` could not be excluded before it exists).
 */
export function collectPipelineLogGroups(stacks: Stack[]): string[] {
  const names = new Set<string>();
  const problems: string[] = [];
  for (const stack of stacks) {
    const groups = new Map<string, string>();
    const functions: lambda.CfnFunction[] = [];
    const visit = (c: IConstruct) => {
      if (c instanceof logs.CfnLogGroup) {
        const n = c.logGroupName;
        if (!n || Token.isUnresolved(n)) problems.push(`${c.node.path}: log group without a fixed name`);
        else groups.set(stack.getLogicalId(c), n);
      } else if (c instanceof lambda.CfnFunction) functions.push(c);
      for (const child of c.node.children) visit(child);
    };
    visit(stack);
    for (const n of groups.values()) names.add(n);
    for (const f of functions) {
      const cfg = stack.resolve(f.loggingConfig) as { LogGroup?: unknown; logGroup?: unknown } | undefined;
      const ref = (cfg?.LogGroup ?? cfg?.logGroup) as { Ref?: string } | string | undefined;
      const name = typeof ref === 'string' ? ref : ref?.Ref ? groups.get(ref.Ref) : undefined;
      if (!name) problems.push(`${f.node.path}: Lambda function without a fixed, named log group`);
      else names.add(name);
    }
  }
  if (problems.length)
    throw new LogferryError(
      'CONFIG_INVALID',
      `cannot derive the pipeline's log groups, so they could not be excluded from subscriptions:\n  - ${problems.join('\n  - ')}`,
    );
  return [...names].sort();
}

/** Refuses a selection that would subscribe any pipeline group (the shipping loop). */
export function assertNoPipelineGroupSelected(
  spec: SelectionSpec,
  pipelineGroups: string[],
  what: string,
): void {
  const sel = compileSelection(spec);
  const bad = pipelineGroups.filter((n) => sel.selectsName(n));
  if (bad.length)
    throw new LogferryError(
      'CONFIG_INVALID',
      `${what} would subscribe logferry's own log groups (a shipping loop): ${bad.join(', ')}`,
    );
}

/** Said at synth (warning) and in the outputs when the stack creates no trail. */
export const TRAIL_NOTICE =
  'new log groups are found through the EventBridge rule on CloudTrail CreateLogGroup events, which arrive ' +
  'only while a CloudTrail trail records management (write) events in this region; this stack creates none ' +
  '(subscriptions.trail.create: true makes one) — without a trail, only the backfill at deploy subscribes groups.';

export interface SubscriptionsProps extends StackProps {
  /** The pipeline stacks in this app whose groups must never be subscribed (and the target's exports). */
  pipelineStacks: Stack[];
  /** Export names of the target pipeline's outputs, when the target is a logferry stack. */
  targetExports?: { destinationArn: string; roleArn: string };
}

export class SubscriptionsStack extends Stack {
  readonly excludedLogGroups: string[];
  readonly subscriber?: LogferryFunction;

  constructor(scope: Construct, id: string, cfg: SubscriptionsConfig, props: SubscriptionsProps) {
    super(scope, id, { ...props, stackName: cfg.stackName, description: 'logferry subscriptions' });
    const stackName = this.stackName;
    const target = cfg.target;
    const destinationArn =
      'destinationArn' in target
        ? target.destinationArn
        : Fn.importValue(props.targetExports!.destinationArn);
    const roleArn = 'roleArn' in target ? target.roleArn : Fn.importValue(props.targetExports!.roleArn);

    const needsFunction = cfg.mode === 'filters' || cfg.retention !== undefined;
    const functionName = `${stackName}-subscriber`.slice(0, 64);
    const ruleName = `${stackName}-create-log-group`.slice(0, 64);
    // This stack's own group is known before it exists: `/logferry/<stack>/subscriber`.
    const ownGroups = needsFunction ? [`${LOG_GROUP_ROOT}${stackName}/subscriber`] : [];
    const pipelineGroups = [
      ...new Set([...collectPipelineLogGroups(props.pipelineStacks), ...ownGroups]),
    ].sort();
    this.excludedLogGroups = pipelineGroups;
    const pipeline = { names: pipelineGroups, prefixes: [LOG_GROUP_ROOT] };
    const selection = withPipelineExclusions(cfg.selection, pipeline);
    assertNoPipelineGroupSelected(selection, pipelineGroups, 'subscriptions.selection');

    if (cfg.mode === 'account-policy') {
      const s = cfg.selection;
      const inexpressible = [
        s.prefixes.length && 'selection.prefixes',
        s.patterns.length && 'selection.patterns',
        Object.keys(s.tags).length && 'selection.tags',
        s.exclude.prefixes.length && 'selection.exclude.prefixes',
        s.exclude.patterns.length && 'selection.exclude.patterns',
      ].filter(Boolean);
      if (inexpressible.length)
        throw new LogferryError(
          'CONFIG_INVALID',
          `subscriptions.mode account-policy applies to every log group except named ones; ${inexpressible.join(', ')} cannot be expressed there (use mode: filters)`,
        );
      const excluded = [...new Set([...pipelineGroups, ...s.exclude.names])].sort();
      if (excluded.length > ACCOUNT_POLICY_MAX_EXCLUSIONS)
        throw new LogferryError(
          'CONFIG_INVALID',
          `an account policy can exclude at most ${ACCOUNT_POLICY_MAX_EXCLUSIONS} log groups by name; ${excluded.length} are needed (the pipeline's own: ${pipelineGroups.length}) — use mode: filters`,
        );
      // The same check the filters mode runs, on exactly what the policy will exclude.
      assertNoPipelineGroupSelected(
        { prefixes: [], patterns: [], tags: {}, exclude: { names: excluded, prefixes: [], patterns: [] } },
        pipelineGroups,
        'the account policy',
      );
      new logs.CfnAccountPolicy(this, 'AccountPolicy', {
        policyName: `logferry-${cfg.filterName}`,
        policyType: 'SUBSCRIPTION_FILTER_POLICY',
        scope: 'ALL',
        selectionCriteria: `LogGroupName NOT IN [${excluded.map((n) => JSON.stringify(n)).join(', ')}]`,
        policyDocument: this.toJsonString({
          DestinationArn: destinationArn,
          RoleArn: roleArn,
          FilterPattern: cfg.filterPattern,
          Distribution: 'Random',
        }),
      });
    }

    if (needsFunction) {
      const retentionSpec = cfg.retention
        ? {
            days: cfg.retention.days,
            overrideExisting: cfg.retention.overrideExisting,
            selection: withPipelineExclusions(
              cfg.retention.selection ?? {
                prefixes: [],
                patterns: [],
                tags: {},
                exclude: { names: [], prefixes: [], patterns: [] },
              },
              pipeline,
            ),
          }
        : undefined;
      const env: Record<string, string> = {
        LOGFERRY_SUB_DESTINATION_ARN: destinationArn,
        LOGFERRY_SUB_ROLE_ARN: roleArn,
        LOGFERRY_SUB_FILTER_NAME: cfg.filterName,
        LOGFERRY_SUB_FILTER_PATTERN: cfg.filterPattern,
        LOGFERRY_SUB_MAX_FILTERS: String(cfg.maxFiltersPerGroup),
        LOGFERRY_SUB_ON_NO_FREE_SLOT: cfg.onNoFreeSlot,
        LOGFERRY_SUB_RULE_NAME: ruleName,
      };
      if (cfg.mode === 'filters') env.LOGFERRY_SUB_SELECTION = JSON.stringify(selection);
      if (retentionSpec) env.LOGFERRY_SUB_RETENTION = JSON.stringify(retentionSpec);
      const envBytes = Object.entries(env)
        .filter(([, v]) => !Token.isUnresolved(v))
        .reduce((n, [k, v]) => n + k.length + v.length, 0);
      if (envBytes > LAMBDA_ENV_LIMIT - 512)
        throw new LogferryError(
          'CONFIG_INVALID',
          `subscriptions: the selection is too large for the function's environment (${envBytes} of ${LAMBDA_ENV_LIMIT} bytes); use fewer, broader prefixes or patterns`,
        );

      const sub = new LogferryFunction(this, 'Subscriber', {
        bundle: 'subscriptions',
        component: 'subscriber',
        functionName,
        description: 'logferry subscriptions: subscribe new and existing log groups, set retention, clean up',
        memoryMiB: 256,
        timeout: Duration.minutes(15),
        logRetentionDays: retentionDays(cfg.logRetentionDays),
        environment: env,
        reservedConcurrency: 5,
      });
      this.subscriber = sub;

      // Narrowest log-group resources: the selection's prefixes when it selects by prefix only.
      const groupArn = (p: string) =>
        this.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: `${p}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        });
      const anyGroup = [groupArn('')];
      const selectedGroups =
        cfg.mode === 'filters' && cfg.selection.patterns.length === 0 && cfg.selection.prefixes.length > 0
          ? cfg.selection.prefixes.map(groupArn)
          : anyGroup;
      sub.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ListGroups',
          actions: ['logs:DescribeLogGroups'],
          resources: anyGroup,
        }),
      );
      if (cfg.mode === 'filters') {
        sub.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'ManageFilters',
            actions: [
              'logs:DescribeSubscriptionFilters',
              'logs:PutSubscriptionFilter',
              'logs:DeleteSubscriptionFilter',
            ],
            // Removal and filter-name changes look at every group, so deletes may happen anywhere.
            resources: anyGroup,
          }),
        );
        sub.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'PassLogsRole',
            actions: ['iam:PassRole'],
            resources: [roleArn],
            conditions: { StringEquals: { 'iam:PassedToService': 'logs.amazonaws.com' } },
          }),
        );
      }
      if (Object.keys(cfg.selection.tags).length || Object.keys(cfg.retention?.selection?.tags ?? {}).length)
        sub.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'ReadTags',
            actions: ['logs:ListTagsForResource'],
            resources: selectedGroups,
          }),
        );
      if (cfg.retention)
        sub.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            sid: 'SetRetention',
            actions: ['logs:PutRetentionPolicy'],
            resources: anyGroup,
          }),
        );
      sub.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ContinueItself',
          actions: ['lambda:InvokeFunction'],
          resources: [
            this.formatArn({
              service: 'lambda',
              resource: 'function',
              resourceName: functionName,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      );
      sub.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'StopRuleOnRemoval',
          actions: ['events:DisableRule'],
          resources: [this.formatArn({ service: 'events', resource: 'rule', resourceName: ruleName })],
        }),
      );
      for (const r of new Set([...anyGroup, ...selectedGroups]))
        acknowledgeWildcard(
          sub.role,
          r,
          'the subscriber manages filters on log groups that do not exist yet (new groups, chosen by pattern or ' +
            'tag at run time), so its log-group resources end in `*` (narrowed to the selected prefixes where the ' +
            'selection allows); DescribeLogGroups accepts only `log-group:*`; removal must look at every group.',
        );

      // Failed deliveries and failed asynchronous invocations are kept, not dropped.
      const failures = new sqs.Queue(this, 'Failures', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      acknowledge(
        failures,
        'AwsSolutions-SQS3',
        'this queue is itself the dead-letter destination (terminal).',
      );
      sub.fn.configureAsyncInvoke({
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
        onFailure: new destinations.SqsDestination(failures),
      });

      const rule = new events.Rule(this, 'CreateLogGroup', {
        ruleName,
        description: 'logferry: subscribe each new log group (CloudTrail CreateLogGroup)',
        eventPattern: {
          source: ['aws.logs'],
          detailType: ['AWS API Call via CloudTrail'],
          detail: { eventSource: ['logs.amazonaws.com'], eventName: ['CreateLogGroup'] },
        },
        targets: [
          new targets.LambdaFunction(sub.fn, {
            deadLetterQueue: failures,
            retryAttempts: 8,
            maxEventAge: Duration.hours(6),
          }),
        ],
      });

      // The rule sees CreateLogGroup only through a trail recording management events here.
      if (cfg.trail.create) {
        const trail = new ManagementEventsTrail(this, 'ManagementEvents', {
          trailName: `${stackName}-management-events`.slice(0, 128),
          multiRegion: cfg.trail.multiRegion,
          expireAfterDays: cfg.trail.expireAfterDays,
          removalPolicy: cfg.trail.removalPolicy,
          accessLogsBucket: cfg.trail.accessLogsBucket,
        });
        new CfnOutput(this, 'TrailArn', { value: trail.trailArn });
        new CfnOutput(this, 'TrailBucketName', { value: trail.bucket.bucketName });
      } else {
        Annotations.of(this).addWarningV2('logferry:subscriptions-needs-trail', TRAIL_NOTICE);
        new CfnOutput(this, 'NewLogGroupsNeedCloudTrail', { value: TRAIL_NOTICE });
      }

      const backfill = new CustomResource(this, 'Backfill', {
        serviceToken: sub.fn.functionArn,
        resourceType: 'Custom::LogferrySubscriptions',
        serviceTimeout: Duration.hours(1),
        properties: {
          Backfill: String(cfg.mode === 'filters' && cfg.backfill),
          FilterName: cfg.filterName,
          DestinationArn: destinationArn,
          Selection: JSON.stringify(selection),
          Retention: JSON.stringify(retentionSpec ?? null),
        },
      });
      // The rule exists before the backfill starts (no group falls between them); removal runs the
      // clean-up first, which disables the rule before deleting filters.
      backfill.node.addDependency(rule);
      backfill.node.addDependency(sub.rolePolicy, sub.logGroup);

      new Monitoring(this, 'Monitoring', {
        ...cfg.monitoring,
        functions: [{ label: 'Subscriber', fn: sub.fn }],
        deadLetterQueues: [{ label: 'Failures', queue: failures }],
        iteratorAgeMs: cfg.monitoring.iteratorAgeMs,
        emf: false,
      });
      new CfnOutput(this, 'SubscriberFunctionName', { value: sub.fn.functionName });
      new CfnOutput(this, 'FailuresQueueUrl', { value: failures.queueUrl });
    }

    new CfnOutput(this, 'Mode', { value: cfg.mode });
    new CfnOutput(this, 'FilterName', { value: cfg.filterName });
    if ('destinationArn' in target) {
      new CfnOutput(this, 'DestinationArn', { value: destinationArn });
      new CfnOutput(this, 'CloudWatchLogsRoleArn', { value: roleArn });
    } else new CfnOutput(this, 'TargetStack', { value: target.stack });
    new CfnOutput(this, 'ExcludedLogGroups', { value: pipelineGroups.join(',') });
  }
}
