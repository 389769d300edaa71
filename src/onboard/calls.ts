/**
 * The declared table of AWS API calls each onboarding command may make — the single source both
 * for the code path (`AwsCaller` refuses any call not declared for its command) and for
 * `logferry iam-policy <command>` (the least-privilege policy is generated from this table, one
 * statement per resource scope). A test records every SDK command actually sent during plan,
 * apply and rollback against moto and checks the set equals this table's.
 *
 * Resource templates use `{partition}`, `{region}`, `{account}` and command-specific names
 * (`{cluster}`, `{stack}`, `{role}`); the generator fills what it knows and leaves `*` otherwise.
 * Actions that do not support resource-level permissions say `*` (per the IAM service
 * authorization reference).
 */

export type OnboardService = 'lambda' | 'ecs' | 'eks' | 'logs' | 'iam' | 'cloudformation';

export interface DeclaredCall {
  service: OnboardService;
  /** SDK operation name (`UpdateFunctionConfiguration`); the command class is `<operation>Command`. */
  operation: string;
  /** IAM actions the operation needs (usually `<prefix>:<operation>`, plus e.g. iam:PassRole). */
  actions: string[];
  /** ARN template(s) the actions are scoped to. */
  resources: string[];
  /** Why the call is made (shown in the policy's Sid and docs). */
  why: string;
  /** Extra condition on the statement (e.g. PassRole only to logs.amazonaws.com). */
  condition?: Record<string, Record<string, string | string[]>>;
  /** An authorization the service checks during another call (iam:PassRole); never sent itself. */
  implicit?: true;
}

export type OnboardCommand = 'onboard lambda' | 'onboard ecs' | 'onboard eks' | 'onboard rollback';

const LOG_GROUP = 'arn:{partition}:logs:{region}:{account}:log-group:*';
const STACK = 'arn:{partition}:cloudformation:{region}:{account}:stack/{stack}/*';
const PASS_LOGS_ROLE: DeclaredCall = {
  service: 'iam',
  operation: 'PassRole',
  actions: ['iam:PassRole'],
  resources: ['{role}'],
  why: 'PutSubscriptionFilter hands the CloudWatch Logs role to CloudWatch Logs',
  condition: { StringEquals: { 'iam:PassedToService': 'logs.amazonaws.com' } },
  implicit: true,
};

/** The extension layer version (`--extension-layer-arn`), else any layer of this account and region. */
const LAYER = '{layer}';
/** Lambda checks lambda:GetLayerVersion on every layer an UpdateFunctionConfiguration names. */
const LAYER_FOR_UPDATE: DeclaredCall = {
  service: 'lambda',
  operation: 'GetLayerVersion',
  actions: ['lambda:GetLayerVersion'],
  resources: [LAYER],
  why: 'UpdateFunctionConfiguration with Layers needs it on each layer version it names',
  implicit: true,
};

const TOPOLOGY: DeclaredCall = {
  service: 'cloudformation',
  operation: 'DescribeStacks',
  actions: ['cloudformation:DescribeStacks'],
  resources: [STACK],
  why: 'reads DestinationArn and CloudWatchLogsRoleArn from the topology stack outputs',
};

const LOG_GROUP_CALLS: DeclaredCall[] = [
  {
    service: 'logs',
    operation: 'DescribeLogGroups',
    actions: ['logs:DescribeLogGroups'],
    resources: [LOG_GROUP],
    why: 'finds whether each log group exists and its retention',
  },
  {
    service: 'logs',
    operation: 'CreateLogGroup',
    actions: ['logs:CreateLogGroup'],
    resources: [LOG_GROUP],
    why: 'creates a missing log group',
  },
  {
    service: 'logs',
    operation: 'PutRetentionPolicy',
    actions: ['logs:PutRetentionPolicy'],
    resources: [LOG_GROUP],
    why: 'sets retention on a log group it created',
  },
  {
    service: 'logs',
    operation: 'DescribeSubscriptionFilters',
    actions: ['logs:DescribeSubscriptionFilters'],
    resources: [LOG_GROUP],
    why: "reads the group's filters (free slots, other tools' filters, its own)",
  },
  {
    service: 'logs',
    operation: 'PutSubscriptionFilter',
    actions: ['logs:PutSubscriptionFilter'],
    resources: [LOG_GROUP, 'arn:{partition}:logs:{region}:{account}:destination:*'],
    why: 'subscribes the log group to the logferry destination',
  },
];

/** What rollback may call: the inverse of every write above. */
const ROLLBACK_CALLS: DeclaredCall[] = [
  {
    service: 'logs',
    operation: 'DeleteSubscriptionFilter',
    actions: ['logs:DeleteSubscriptionFilter'],
    resources: [LOG_GROUP],
    why: 'removes a subscription filter onboarding added',
  },
  {
    service: 'logs',
    operation: 'PutSubscriptionFilter',
    actions: ['logs:PutSubscriptionFilter'],
    resources: [LOG_GROUP, 'arn:{partition}:logs:{region}:{account}:destination:*'],
    why: 'restores a subscription filter onboarding replaced',
  },
  PASS_LOGS_ROLE,
  {
    service: 'logs',
    operation: 'DeleteLogGroup',
    actions: ['logs:DeleteLogGroup'],
    resources: [LOG_GROUP],
    why: 'removes a log group onboarding created',
  },
  {
    service: 'lambda',
    operation: 'UpdateFunctionConfiguration',
    actions: ['lambda:UpdateFunctionConfiguration'],
    resources: ['arn:{partition}:lambda:{region}:{account}:function:*'],
    why: "restores a function's previous LoggingConfig, layers and environment",
  },
  LAYER_FOR_UPDATE,
  {
    service: 'lambda',
    operation: 'GetFunctionConfiguration',
    actions: ['lambda:GetFunctionConfiguration'],
    resources: ['arn:{partition}:lambda:{region}:{account}:function:*'],
    why: 'waits until a function is no longer updating before changing it',
  },
  {
    service: 'ecs',
    operation: 'UpdateService',
    actions: ['ecs:UpdateService'],
    resources: ['arn:{partition}:ecs:{region}:{account}:service/*/*'],
    why: 'points a service back at its previous task definition',
  },
  {
    service: 'ecs',
    operation: 'DeregisterTaskDefinition',
    actions: ['ecs:DeregisterTaskDefinition'],
    resources: ['*'],
    why: 'deregisters the revision onboarding registered (no resource-level permissions)',
  },
  {
    service: 'eks',
    operation: 'UpdateClusterConfig',
    actions: ['eks:UpdateClusterConfig'],
    resources: ['arn:{partition}:eks:{region}:{account}:cluster/*'],
    why: "restores the cluster's previous control-plane logging",
  },
  {
    service: 'eks',
    operation: 'DescribeUpdate',
    actions: ['eks:DescribeUpdate'],
    resources: ['arn:{partition}:eks:{region}:{account}:cluster/*'],
    why: 'waits for the logging update to finish',
  },
  {
    service: 'eks',
    operation: 'ListUpdates',
    actions: ['eks:ListUpdates'],
    resources: ['arn:{partition}:eks:{region}:{account}:cluster/*'],
    why: 'finds an update already in progress, to wait for it',
  },
];

export const CALLS: Record<OnboardCommand, DeclaredCall[]> = {
  'onboard lambda': [
    TOPOLOGY,
    {
      service: 'lambda',
      operation: 'ListFunctions',
      actions: ['lambda:ListFunctions'],
      resources: ['*'],
      why: 'expands --functions patterns (no resource-level permissions)',
    },
    {
      service: 'lambda',
      operation: 'GetFunctionConfiguration',
      actions: ['lambda:GetFunctionConfiguration'],
      resources: ['arn:{partition}:lambda:{region}:{account}:function:*'],
      why: "reads runtime, package type, state and LoggingConfig; waits while 'Updating'",
    },
    {
      service: 'lambda',
      operation: 'ListTags',
      actions: ['lambda:ListTags'],
      resources: ['arn:{partition}:lambda:{region}:{account}:function:*'],
      why: 'finds functions owned by a CloudFormation/CDK stack',
    },
    {
      service: 'lambda',
      operation: 'UpdateFunctionConfiguration',
      actions: ['lambda:UpdateFunctionConfiguration'],
      resources: ['arn:{partition}:lambda:{region}:{account}:function:*'],
      why: 'sets JSON log format and log levels (LoggingConfig); with --extension-layer-arn also Layers and the LOGFERRY_CONFIG_PARAMETER variable',
    },
    {
      service: 'lambda',
      operation: 'GetLayerVersion',
      actions: ['lambda:GetLayerVersion'],
      resources: [LAYER],
      why: "reads the extension layer's compatible runtimes and architectures (and authorizes attaching it)",
    },
    ...LOG_GROUP_CALLS,
    PASS_LOGS_ROLE,
  ],
  'onboard ecs': [
    TOPOLOGY,
    {
      service: 'ecs',
      operation: 'ListServices',
      actions: ['ecs:ListServices'],
      resources: ['*'],
      why: 'expands --services patterns (scoped by the ecs:cluster condition)',
      condition: { ArnLike: { 'ecs:cluster': 'arn:{partition}:ecs:{region}:{account}:cluster/{cluster}' } },
    },
    {
      service: 'ecs',
      operation: 'DescribeServices',
      actions: ['ecs:DescribeServices'],
      resources: ['arn:{partition}:ecs:{region}:{account}:service/{cluster}/*'],
      why: "reads each service's task definition",
    },
    {
      service: 'ecs',
      operation: 'DescribeTaskDefinition',
      actions: ['ecs:DescribeTaskDefinition'],
      resources: ['*'],
      why: 'reads container log configuration (no resource-level permissions)',
    },
    {
      service: 'ecs',
      operation: 'RegisterTaskDefinition',
      actions: ['ecs:RegisterTaskDefinition', 'ecs:TagResource'],
      resources: ['*'],
      why: 'registers the new revision, copying its tags (no resource-level permissions)',
    },
    {
      service: 'iam',
      operation: 'PassRole',
      actions: ['iam:PassRole'],
      resources: ['arn:{partition}:iam::{account}:role/*'],
      why: "RegisterTaskDefinition passes the revision's task and execution roles to ECS",
      condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      implicit: true,
    },
    {
      service: 'ecs',
      operation: 'UpdateService',
      actions: ['ecs:UpdateService'],
      resources: ['arn:{partition}:ecs:{region}:{account}:service/{cluster}/*'],
      why: 'rolls services onto the new revision (only with --update-services)',
    },
    ...LOG_GROUP_CALLS,
    PASS_LOGS_ROLE,
  ],
  'onboard eks': [
    TOPOLOGY,
    {
      service: 'eks',
      operation: 'DescribeCluster',
      actions: ['eks:DescribeCluster'],
      resources: ['arn:{partition}:eks:{region}:{account}:cluster/{cluster}'],
      why: "reads the cluster's control-plane logging",
    },
    {
      service: 'eks',
      operation: 'UpdateClusterConfig',
      actions: ['eks:UpdateClusterConfig'],
      resources: ['arn:{partition}:eks:{region}:{account}:cluster/{cluster}'],
      why: 'enables control-plane log types',
    },
    {
      service: 'eks',
      operation: 'DescribeUpdate',
      actions: ['eks:DescribeUpdate'],
      resources: ['arn:{partition}:eks:{region}:{account}:cluster/{cluster}'],
      why: 'waits for the logging update to finish',
    },
    {
      service: 'eks',
      operation: 'ListUpdates',
      actions: ['eks:ListUpdates'],
      resources: ['arn:{partition}:eks:{region}:{account}:cluster/{cluster}'],
      why: 'finds an update already in progress, to wait for it before retrying',
    },
    ...LOG_GROUP_CALLS,
    PASS_LOGS_ROLE,
  ],
  'onboard rollback': ROLLBACK_CALLS,
};

export function isDeclared(command: OnboardCommand, service: OnboardService, operation: string): boolean {
  return CALLS[command].some((c) => c.service === service && c.operation === operation);
}

export interface PolicyContext {
  partition?: string;
  region?: string;
  account?: string;
  cluster?: string;
  stack?: string;
  /** The CloudWatch Logs role ARN handed to PutSubscriptionFilter. */
  role?: string;
  /** The extension layer version `onboard lambda --extension-layer-arn` attaches. */
  layer?: string;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: {
    Sid: string;
    Effect: 'Allow';
    Action: string[];
    Resource: string[];
    Condition?: Record<string, Record<string, string | string[]>>;
  }[];
}

function fill(template: string, ctx: PolicyContext): string {
  return template
    .replaceAll('{partition}', ctx.partition ?? 'aws')
    .replaceAll('{region}', ctx.region ?? '*')
    .replaceAll('{account}', ctx.account ?? '*')
    .replaceAll('{cluster}', ctx.cluster ?? '*')
    .replaceAll('{stack}', ctx.stack ?? '*')
    .replaceAll('{role}', ctx.role ?? `arn:${ctx.partition ?? 'aws'}:iam::${ctx.account ?? '*'}:role/*`)
    .replaceAll(
      '{layer}',
      ctx.layer ??
        `arn:${ctx.partition ?? 'aws'}:lambda:${ctx.region ?? '*'}:${ctx.account ?? '*'}:layer:*:*`,
    );
}

function fillCondition(
  c: DeclaredCall['condition'],
  ctx: PolicyContext,
): DeclaredCall['condition'] | undefined {
  if (!c) return undefined;
  const out: NonNullable<DeclaredCall['condition']> = {};
  for (const [op, kv] of Object.entries(c)) {
    out[op] = {};
    for (const [k, v] of Object.entries(kv))
      out[op][k] = Array.isArray(v) ? v.map((x) => fill(x, ctx)) : fill(v, ctx);
  }
  return out;
}

/**
 * The least-privilege policy for one command: actions grouped by (resources, condition), so each
 * statement names exactly the resources its actions may touch.
 */
export function policyFor(command: OnboardCommand, ctx: PolicyContext = {}): PolicyDocument {
  const groups = new Map<
    string,
    { actions: Set<string>; resources: string[]; condition?: DeclaredCall['condition']; why: string[] }
  >();
  for (const call of CALLS[command]) {
    const resources = call.resources.map((r) => fill(r, ctx));
    const condition = fillCondition(call.condition, ctx);
    const key = JSON.stringify([resources, condition ?? null]);
    let g = groups.get(key);
    if (!g) {
      g = { actions: new Set(), resources, condition, why: [] };
      groups.set(key, g);
    }
    for (const action of call.actions) g.actions.add(action);
    if (!g.why.includes(call.operation)) g.why.push(call.operation);
  }
  const Statement: PolicyDocument['Statement'] = [];
  for (const g of groups.values()) {
    let sid = g.why
      .join('')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 90);
    // Sids must be unique within a policy (PassRole appears once per service it is passed to).
    const base = sid;
    for (let n = 2; Statement.some((x) => x.Sid === sid); n++) sid = `${base}${n}`;
    Statement.push({
      Sid: sid,
      Effect: 'Allow',
      Action: [...g.actions].sort(),
      Resource: g.resources,
      ...(g.condition ? { Condition: g.condition } : {}),
    });
  }
  return { Version: '2012-10-17', Statement };
}

/** Every IAM action the command's policy grants. */
export function actionsFor(command: OnboardCommand): Set<string> {
  return new Set(CALLS[command].flatMap((c) => c.actions));
}

/** IAM action(s) needed for one SDK operation of a command (for checking recorded calls). */
export function actionsForOperation(
  command: OnboardCommand,
  service: OnboardService,
  operation: string,
): string[] {
  const c = CALLS[command].find((x) => x.service === service && x.operation === operation);
  return c ? c.actions : [];
}
