/**
 * Building blocks shared by the stacks: a Lambda function with its own named log group and a role
 * that can write only there; a queue with its dead-letter queue; and `acknowledge`, which records a
 * justified cdk-nag suppression on a construct (read by cdk-nag's AwsSolutions pack in the tests).
 */
import { type CfnResource, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { LAMBDA_HANDLER, type LambdaBundle, lambdaBundleDir } from '../assets.js';

/** Records why a cdk-nag rule does not apply here (rule id as cdk-nag names it, e.g. `AwsSolutions-S1`). */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** CloudFormation value → the flat text cdk-nag uses in finding ids (`<Logical.Arn>`, `<AWS::Region>`). */
function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  const o = node as Record<string, unknown>;
  if (Array.isArray(o['Fn::Join'])) {
    const [d, items] = o['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(d);
  }
  if (o['Fn::Sub'] !== undefined) return flatten(o['Fn::Sub']);
  if (Array.isArray(o['Fn::GetAtt'])) {
    const [r, a] = o['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(r)}.${flatten(a)}>`;
  }
  if (o['Fn::ImportValue'] !== undefined) return flatten(o['Fn::ImportValue']);
  if (o.Ref !== undefined) return `<${flatten(o.Ref)}>`;
  return JSON.stringify(node);
}

/**
 * Acknowledges cdk-nag's IAM5 finding for one wildcard resource of a policy on `scope`, naming that
 * resource exactly (so a new wildcard elsewhere is still reported).
 */
export function acknowledgeWildcard(scope: IConstruct, resource: string, reason: string): void {
  const flat = flatten(Stack.of(scope).resolve(resource));
  acknowledge(scope, `AwsSolutions-IAM5[Resource::${flat}]`, reason);
}

/** Every log group of a logferry stack is named under this prefix, so it is never subscribed. */
export const LOG_GROUP_ROOT = '/logferry/';

export function pipelineLogGroupName(stackName: string, component: string): string {
  return `${LOG_GROUP_ROOT}${stackName}/${component}`;
}

export interface LogferryFunctionProps {
  bundle: LambdaBundle;
  /** Short component name: the log group is `/logferry/<stack>/<component>`. */
  component: string;
  description: string;
  memoryMiB: number;
  timeout: Duration;
  environment: Record<string, string>;
  logRetentionDays: logs.RetentionDays;
  functionName?: string;
  reservedConcurrency?: number;
}

/**
 * A function running one of logferry's built bundles (nodejs22.x, arm64) whose logs go to a log group
 * with a fixed, known name (so exclusions can name it) and whose role can write only that group.
 */
export class LogferryFunction extends Construct {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly logGroupName: string;
  /** The role's inline policy (every statement added later lands in it too). */
  readonly rolePolicy: IConstruct;

  constructor(scope: Construct, id: string, props: LogferryFunctionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.logGroupName = pipelineLogGroupName(stack.stackName, props.component);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: this.logGroupName,
      retention: props.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `logferry ${props.component}: writes its own log group only`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.rolePolicy = this.role.node.findChild('DefaultPolicy');
    this.fn = new lambda.Function(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: LAMBDA_HANDLER,
      // The handler's own directory: index.mjs, the chunks it loads on demand, their source maps.
      code: lambda.Code.fromAsset(lambdaBundleDir(props.bundle)),
      memorySize: props.memoryMiB,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      reservedConcurrentExecutions: props.reservedConcurrency,
    });
    // The role is created here with exactly the log permissions above (no AWSLambdaBasicExecutionRole);
    // its policy must exist before the function runs.
    this.fn.node.addDependency(this.rolePolicy);
    // lambda.Function also adds a DependsOn on the role it already references (cfn-lint W3005).
    (this.fn.node.defaultChild as CfnResource).addMetadata('cfn-lint', {
      config: { ignore_checks: ['W3005'] },
    });
    acknowledge(
      this.fn,
      'AwsSolutions-L1',
      'logferry’s bundles target the nodejs22.x runtime (the issue’s contract, tested with Node 22); ' +
        'a newer runtime is adopted deliberately after the bundles are tested on it.',
    );
  }
}

export interface QueueWithDlqProps {
  /** Messages stay this long in the dead-letter queue. */
  dlqRetention?: Duration;
  retention?: Duration;
  visibilityTimeout?: Duration;
  maxReceiveCount?: number;
}

/** An SQS queue (SSE-SQS, TLS only) with its own dead-letter queue. */
export class QueueWithDlq extends Construct {
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps = {}) {
    super(scope, id);
    this.dlq = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.dlqRetention ?? Duration.days(14),
    });
    acknowledge(
      this.dlq,
      'AwsSolutions-SQS3',
      'this queue is itself the dead-letter queue of its partner queue.',
    );
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.retention ?? Duration.days(4),
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(300),
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
  }
}

export function retentionDays(days: number): logs.RetentionDays {
  return days as logs.RetentionDays;
}

/**
 * The two outputs every topology stack exports for `logferry onboard` (and `--stack`): the ARN
 * subscription filters target and the role CloudWatch Logs assumes. Returns their export names.
 */
export function topologyOutputs(
  stack: Stack,
  destination: { arn: string; description: string },
  roleArn: string,
): { destinationArnExport: string; roleArnExport: string } {
  const destinationArnExport = `${stack.stackName}-DestinationArn`;
  const roleArnExport = `${stack.stackName}-CloudWatchLogsRoleArn`;
  new CfnOutput(stack, 'DestinationArn', {
    value: destination.arn,
    description: destination.description,
    exportName: destinationArnExport,
  });
  new CfnOutput(stack, 'CloudWatchLogsRoleArn', {
    value: roleArn,
    description: 'the role CloudWatch Logs assumes to put records into the stream',
    exportName: roleArnExport,
  });
  return { destinationArnExport, roleArnExport };
}
