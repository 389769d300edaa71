/**
 * Onboarding against the moto server (Lambda, ECS, EKS, IAM, CloudWatch Logs, CloudFormation,
 * Kinesis) with functions, services and clusters this test creates under a random prefix: a plan
 * changes nothing; apply changes exactly what the plan lists; a second run has nothing to do;
 * rollback restores the original configuration byte for byte; a failure midway leaves a run
 * record that says what was and was not changed and rolls back correctly; a saved plan is refused
 * after drift. Every SDK command sent is recorded (SDK middleware) and must equal the command's
 * declared call table — the source of `logferry iam-policy`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  DescribeSubscriptionFiltersCommand,
  PutRetentionPolicyCommand,
  PutSubscriptionFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateClusterCommand as CreateEcsClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateClusterCommand,
  DescribeClusterCommand,
  EKSClient,
  type Logging,
  UpdateClusterConfigCommand,
} from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateStreamCommand, DescribeStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import {
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishLayerVersionCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isLogferryError } from '../src/core/errors.js';
import type { SendObserver } from '../src/onboard/aws.js';
import { CALLS, type OnboardCommand, type OnboardService } from '../src/onboard/calls.js';
import { readRecord } from '../src/onboard/engine.js';
import {
  applyPlan,
  applySavedPlan,
  caller,
  loadPlan,
  makePlan,
  type OnboardArgs,
  type Plan,
  renderPlan,
  rollback,
  savePlan,
} from '../src/onboard/index.js';
import { MASKED } from '../src/onboard/plan.js';

const motoUrl = inject('motoUrl');
const region = 'us-east-1';
const p = `lf${randomBytes(3).toString('hex')}`;
const env = { ...process.env, AWS_ENDPOINT_URL: motoUrl, AWS_REGION: region };
const cfg = {
  endpoint: motoUrl,
  region,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
};
const lambda = new LambdaClient(cfg);
const logs = new CloudWatchLogsClient(cfg);
const ecs = new ECSClient(cfg);
const eks = new EKSClient(cfg);
const iam = new IAMClient(cfg);
const cfn = new CloudFormationClient(cfg);
const kinesis = new KinesisClient({ ...cfg, requestHandler: new NodeHttpHandler() });

/** Every (command, service, operation) actually sent, from SDK middleware. */
const sent = new Map<OnboardCommand, Set<string>>();
const observer =
  (command: OnboardCommand): SendObserver =>
  (service: OnboardService, operation: string) => {
    if (!sent.has(command)) sent.set(command, new Set());
    sent.get(command)!.add(`${service}:${operation}`);
  };
const aws = (command: OnboardCommand) => caller(command, { env, observe: observer(command), pollMs: 20 });
const undo = (runId: string) =>
  rollback(runId, dataDir, { env, observe: observer('onboard rollback'), pollMs: 20 });

let dataDir: string;
let roleArn: string;
let streamArn: string;
let otherStreamArn: string;
const stack = `${p}-topology`;

/** A zip-packaged function (`extra`: runtime, layers, environment, tags…) on moto. */
const create = (name: string, extra: Record<string, unknown>) =>
  lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: roleArn,
      Handler: 'index.handler',
      Code: { ZipFile: ZIP },
      ...extra,
    } as never),
  );

/** A container-image function (onboarding refuses or patches these differently). */
const createImageFunction = (name: string) =>
  lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: roleArn,
      PackageType: 'Image',
      Code: { ImageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1' },
    }),
  );

async function createStream(name: string): Promise<string> {
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  return (await kinesis.send(new DescribeStreamCommand({ StreamName: name }))).StreamDescription!.StreamARN!;
}

async function group(name: string, retention?: number): Promise<void> {
  await logs.send(new CreateLogGroupCommand({ logGroupName: name }));
  if (retention)
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: retention }));
}

async function otherFilter(groupName: string, filterName: string): Promise<void> {
  await logs.send(
    new PutSubscriptionFilterCommand({
      logGroupName: groupName,
      filterName,
      filterPattern: '',
      destinationArn: otherStreamArn,
      roleArn,
    }),
  );
}

/** A log group's configuration: the group (or null) and its subscription filters. */
async function groupState(name: string): Promise<unknown> {
  const g = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }))).logGroups?.find(
    (x) => x.logGroupName === name,
  );
  if (!g) return null;
  const filters =
    (await logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName: name }))).subscriptionFilters ??
    [];
  // creationTime of a filter is when it was last put: a restored filter is the same filter.
  return { group: g, filters: filters.map(({ creationTime: _, ...f }) => f) };
}

/** Functions' configuration (without what every update changes) and their log groups. */
async function functionsState(names: string[], groups: string[]): Promise<string> {
  const fns: unknown[] = [];
  for (const n of names) {
    const c = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: n }));
    const { $metadata: _m, LastModified: _l, RevisionId: _r, LastUpdateStatus: _u, ...rest } = c;
    fns.push(rest);
  }
  const gs: unknown[] = [];
  for (const g of groups) gs.push(await groupState(g));
  return JSON.stringify({ fns, gs }, null, 1);
}

beforeAll(async () => {
  if (!motoUrl)
    throw new Error('moto is not running (LOGFERRY_TEST_SERVICES excludes it): these tests need it');
  dataDir = mkdtempSync(join(tmpdir(), 'lf-onboard-'));
  roleArn = (
    await iam.send(
      new CreateRoleCommand({
        RoleName: `${p}-cwl`,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'logs.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    )
  ).Role!.Arn!;
  streamArn = await createStream(`${p}-logs`);
  otherStreamArn = await createStream(`${p}-other-tool`);
  // The deployed topology, as `logferry deploy` leaves it: a stack with the two outputs.
  await cfn.send(
    new CreateStackCommand({
      StackName: stack,
      TemplateBody: JSON.stringify({
        Resources: { Marker: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
        Outputs: { DestinationArn: { Value: streamArn }, CloudWatchLogsRoleArn: { Value: roleArn } },
      }),
    }),
  );
}, 120_000);

afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const ZIP = Buffer.from('UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', 'base64');

describe('onboard lambda', () => {
  const fn = (s: string) => `${p}-${s}`;
  const names = ['orders', 'billing', 'busy', 'image', 'ruby', 'owned', 'full', 'self'].map(fn);
  const groups = names.map((n) => `/aws/lambda/${n}`);
  const args: OnboardArgs = {
    kind: 'lambda',
    stack,
    functions: `${p}-*`,
    applicationLogLevel: 'INFO',
    systemLogLevel: 'WARN',
    jsonLogs: true,
  };
  let original: string;

  const state = () => functionsState(names, groups);

  beforeAll(async () => {
    await create(fn('orders'), { Runtime: 'nodejs22.x' });
    await group(`/aws/lambda/${fn('orders')}`, 7);
    await otherFilter(`/aws/lambda/${fn('orders')}`, 'datadog');
    await create(fn('billing'), { Runtime: 'python3.12' });
    // Reports LastUpdateStatus InProgress for two reads after each update (moto extension).
    await create(fn('busy'), { Runtime: 'nodejs20.x', Tags: { 'logferry-test:update-polls': '2' } });
    await group(`/aws/lambda/${fn('busy')}`);
    await createImageFunction(fn('image'));
    await create(fn('ruby'), { Runtime: 'ruby3.3' });
    await create(fn('owned'), {
      Runtime: 'nodejs22.x',
      Tags: { 'aws:cloudformation:stack-name': 'AppStack', 'aws:cloudformation:logical-id': 'OwnedFn' },
    });
    await create(fn('full'), { Runtime: 'java21' });
    await group(`/aws/lambda/${fn('full')}`);
    await otherFilter(`/aws/lambda/${fn('full')}`, 'datadog');
    await otherFilter(`/aws/lambda/${fn('full')}`, 'lumigo');
    await create(fn('self'), { Runtime: 'nodejs22.x', Tags: { 'aws:cloudformation:stack-name': stack } });
    original = await state();
  }, 120_000);

  let plan: Plan;
  let runId: string;

  it('plans every change and changes nothing', async () => {
    plan = await makePlan(args, aws('onboard lambda'));
    expect(await state()).toBe(original);
    expect(plan.destination).toEqual({ arn: streamArn, roleArn, stack });
    const ids = plan.steps.map((s) => s.id);
    expect(ids).toEqual([
      `create-log-group:/aws/lambda/${fn('billing')}`,
      `retention:/aws/lambda/${fn('billing')}`,
      `subscribe:/aws/lambda/${fn('billing')}`,
      `logging-config:${fn('billing')}`,
      `subscribe:/aws/lambda/${fn('busy')}`,
      `logging-config:${fn('busy')}`,
      `logging-config:${fn('full')}`,
      `create-log-group:/aws/lambda/${fn('image')}`,
      `retention:/aws/lambda/${fn('image')}`,
      `subscribe:/aws/lambda/${fn('image')}`,
      `subscribe:/aws/lambda/${fn('orders')}`,
      `logging-config:${fn('orders')}`,
      `create-log-group:/aws/lambda/${fn('owned')}`,
      `retention:/aws/lambda/${fn('owned')}`,
      `subscribe:/aws/lambda/${fn('owned')}`,
      `create-log-group:/aws/lambda/${fn('ruby')}`,
      `retention:/aws/lambda/${fn('ruby')}`,
      `subscribe:/aws/lambda/${fn('ruby')}`,
    ]);
    const text = renderPlan(plan);
    expect(text).toContain(`no free subscription filter slot (2 of 2 used by "datadog"`);
    expect(text).toContain('owned by CloudFormation stack AppStack');
    expect(text).toContain('resource OwnedFn (AWS::Lambda::Function)');
    expect(text).toContain('LogFormat: JSON');
    expect(text).toContain(`function ${fn('self')}: part of the logferry topology stack ${stack}`);
    expect(text).toContain('container image');
    expect(text).toContain('runtime ruby3.3 does not filter application logs by level');
    expect(text).toContain('LoggingConfig.LogFormat: Text → JSON');
  });

  it('applies exactly the plan', async () => {
    const r = await applyPlan(plan, aws('onboard lambda'), dataDir);
    runId = r.runId;
    expect(r.record.status).toBe('applied');
    expect(r.record.steps.map((s) => [s.id, s.status])).toEqual(plan.steps.map((s) => [s.id, 'applied']));
    const before = JSON.parse(original) as { fns: Record<string, unknown>[]; gs: unknown[] };
    const after = JSON.parse(await state()) as typeof before;
    const planned = new Set(plan.steps.map((s) => s.resource));
    // Exactly the resources the plan names changed, nothing else.
    names.forEach((n, i) => {
      const changed = JSON.stringify(before.fns[i]) !== JSON.stringify(after.fns[i]);
      expect([n, changed]).toEqual([n, planned.has(`function ${n}`)]);
      const gChanged = JSON.stringify(before.gs[i]) !== JSON.stringify(after.gs[i]);
      expect([groups[i], gChanged]).toEqual([groups[i], planned.has(`log group ${groups[i]}`)]);
    });
    const orders = after.fns[0] as { LoggingConfig: unknown };
    expect(orders.LoggingConfig).toEqual({
      LogFormat: 'JSON',
      ApplicationLogLevel: 'INFO',
      SystemLogLevel: 'WARN',
      LogGroup: groups[0],
    });
    // The other tool's filter is untouched; ours is added beside it.
    const og = after.gs[0] as {
      group: { retentionInDays?: number };
      filters: { filterName: string; destinationArn: string }[];
    };
    expect(og.group.retentionInDays).toBe(7);
    expect(og.filters.map((f) => [f.filterName, f.destinationArn]).sort()).toEqual([
      ['datadog', otherStreamArn],
      ['logferry', streamArn],
    ]);
    const billing = after.gs[1] as { group: { retentionInDays?: number }; filters: unknown[] };
    expect(billing.group.retentionInDays).toBe(30);
    // The full group is left alone; the owned function's configuration too.
    expect(after.gs[6]).toEqual(before.gs[6]);
    expect(after.fns[5]).toEqual(before.fns[5]);
  });

  it('has nothing to do on a second run', async () => {
    const again = await makePlan(args, aws('onboard lambda'));
    expect(again.steps).toEqual([]);
    expect(renderPlan(again)).toContain('Nothing to do');
    const r = await applySavedPlan(again, aws('onboard lambda'), dataDir);
    expect(r).toEqual({ nothingToDo: true });
  });

  it('rolls back to the original configuration byte for byte', async () => {
    const r = await undo(runId);
    expect(r.record.status).toBe('rolled-back');
    expect(await state()).toBe(original);
    expect((await undo(runId)).nothingToDo).toBe(true);
  });

  it('refuses a saved plan after drift, then applies a fresh saved plan exactly', async () => {
    const file = join(dataDir, 'plan.json');
    savePlan(await makePlan(args, aws('onboard lambda')), file);
    await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: fn('orders'),
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'ERROR', SystemLogLevel: 'WARN' },
      }),
    );
    const drifted = await state();
    const err = await applySavedPlan(loadPlan(file), aws('onboard lambda'), dataDir).catch((e) => e);
    expect(isLogferryError(err, 'ONBOARD_DRIFT')).toBe(true);
    expect(String(err.message)).toContain(`function ${fn('orders')}`);
    expect(await state()).toBe(drifted);
    // Back to the original, a fresh saved plan applies exactly as saved.
    await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: fn('orders'),
        LoggingConfig: { LogFormat: 'Text' },
      }),
    );
    expect(await state()).toBe(original);
    savePlan(await makePlan(args, aws('onboard lambda')), file);
    const saved = loadPlan(file);
    const r = await applySavedPlan(saved, aws('onboard lambda'), dataDir);
    if ('nothingToDo' in r) throw new Error('expected changes');
    expect(r.record.steps.map((s) => s.call)).toEqual(saved.steps.map((s) => s.call));
    await undo(r.runId);
    expect(await state()).toBe(original);
  });

  it('stops at a failure midway, records what was and was not changed, and rolls that back', async () => {
    const planned = await makePlan(args, aws('onboard lambda'));
    // The orders group disappears after planning: its subscribe step fails.
    await logs.send(new DeleteLogGroupCommand({ logGroupName: groups[0] }));
    const beforeApply = await state();
    const err = await applyPlan(planned, aws('onboard lambda'), dataDir).catch((e) => e);
    expect(isLogferryError(err, 'ONBOARD_FAILED')).toBe(true);
    const failedAt = planned.steps.findIndex((s) => s.id === `subscribe:${groups[0]}`);
    expect(err.message).toContain(`apply stopped at step ${failedAt + 1} of ${planned.steps.length}`);
    expect(err.message).toContain('logferry onboard rollback');
    const rec = readRecord(dataDir, String(err.details.runId));
    expect(rec.status).toBe('failed');
    expect(rec.steps.map((s) => s.status)).toEqual(
      planned.steps.map((_, i) => (i < failedAt ? 'applied' : i === failedAt ? 'failed' : 'not-run')),
    );
    expect(rec.steps[failedAt].error).toContain('ResourceNotFoundException');
    // Every applied step carries its undo; rollback restores the state before the apply.
    for (const s of rec.steps.slice(0, failedAt))
      if (!s.id.startsWith('retention:')) expect(s.undo.length).toBeGreaterThan(0);
    await undo(rec.runId);
    expect(await state()).toBe(beforeApply);
    // Put the orders group back as it was for later tests.
    await group(groups[0], 7);
    await otherFilter(groups[0], 'datadog');
  });

  it('refuses bad arguments with every problem listed, before calling AWS', async () => {
    const bad = {
      ...args,
      applicationLogLevel: 'LOUD',
      systemLogLevel: 'ERROR',
      retentionDays: 8,
    } as OnboardArgs;
    const err = await makePlan(bad, aws('onboard lambda')).catch((e) => e);
    expect(isLogferryError(err, 'CONFIG_INVALID')).toBe(true);
    expect(err.message).toContain('--application-log-level');
    expect(err.message).toContain('--system-log-level');
    expect(err.message).toContain('--retention-days');
    const missing = await makePlan(
      { ...args, functions: `${fn('orders')},${fn('nope')}` },
      aws('onboard lambda'),
    ).catch((e) => e);
    expect(missing.message).toContain(`no such Lambda function: ${fn('nope')}`);
  });
});

describe('onboard lambda --extension-layer-arn', () => {
  const fn = (s: string) => `${p}x${s}`;
  const names = ['node', 'old', 'full', 'image', 'py', 'arm', 'owned'].map(fn);
  const groups = names.map((n) => `/aws/lambda/${n}`);
  const SECRET = `tok-${randomBytes(8).toString('hex')}`;
  const param = `/${p}/logferry/extension-config`;
  let ext1: string;
  let ext2: string;
  let otherLayers: string[];
  let args: Extract<OnboardArgs, { kind: 'lambda' }>;
  let original: string;

  const state = () => functionsState(names, groups);

  const publish = async (name: string, extra: Record<string, unknown> = {}) =>
    (
      await lambda.send(
        new PublishLayerVersionCommand({ LayerName: name, Content: { ZipFile: ZIP }, ...extra } as never),
      )
    ).LayerVersionArn!;

  beforeAll(async () => {
    const compat = { CompatibleRuntimes: ['nodejs20.x', 'nodejs22.x'], CompatibleArchitectures: ['x86_64'] };
    ext1 = await publish(`${p}-logferry-extension`, compat);
    ext2 = await publish(`${p}-logferry-extension`, compat);
    otherLayers = [];
    for (let i = 1; i <= 5; i++) otherLayers.push(await publish(`${p}-other${i}`));
    // Has its own layer and a secret in its environment; updates take two reads to finish.
    await create(fn('node'), {
      Runtime: 'nodejs22.x',
      Layers: [otherLayers[0]],
      Environment: { Variables: { API_TOKEN: SECRET, KEEP: '1' } },
      Tags: { 'logferry-test:update-polls': '2' },
    });
    // An older version of the extension is replaced in place.
    await create(fn('old'), { Runtime: 'nodejs20.x', Layers: [otherLayers[1], ext1] });
    await create(fn('full'), { Runtime: 'nodejs22.x', Layers: otherLayers });
    await createImageFunction(fn('image'));
    await create(fn('py'), { Runtime: 'python3.12' });
    await create(fn('arm'), { Runtime: 'nodejs22.x', Architectures: ['arm64'] });
    await create(fn('owned'), {
      Runtime: 'nodejs22.x',
      Tags: { 'aws:cloudformation:stack-name': 'AppStack', 'aws:cloudformation:logical-id': 'OwnedFn' },
    });
    args = {
      kind: 'lambda',
      stack,
      functions: `${p}x*`,
      applicationLogLevel: 'INFO',
      systemLogLevel: 'INFO',
      jsonLogs: false,
      extensionLayerArn: ext2,
      extensionConfigParameter: param,
    };
    original = await state();
  }, 120_000);

  let plan: Plan;
  let runId: string;

  it('plans the layer and the config reference, refuses what cannot take it, changes nothing', async () => {
    plan = await makePlan(args, aws('onboard lambda'));
    expect(await state()).toBe(original);
    const ext = plan.steps.filter((s) => s.id.startsWith('extension:'));
    expect(ext.map((s) => s.id)).toEqual([`extension:${fn('node')}`, `extension:${fn('old')}`]);
    expect(ext[0].call.input).toEqual({
      FunctionName: fn('node'),
      Layers: [otherLayers[0], ext2],
      Environment: { Variables: { API_TOKEN: MASKED, KEEP: MASKED, LOGFERRY_CONFIG_PARAMETER: param } },
    });
    expect(ext[1].call.input.Layers).toEqual([otherLayers[1], ext2]);
    // No environment value of the function is in the plan, saved or shown.
    expect(JSON.stringify(plan)).not.toContain(SECRET);
    const text = renderPlan(plan, 1000);
    expect(text).not.toContain(SECRET);
    expect(text).toContain(
      `Layers: ${JSON.stringify([otherLayers[0]])} → ${JSON.stringify([otherLayers[0], ext2])}`,
    );
    expect(text).toContain(`Environment.Variables.LOGFERRY_CONFIG_PARAMETER: (none) → ${param}`);
    expect(text).toContain(`function ${fn('full')}: already has 5 layers, the most Lambda allows (5)`);
    expect(text).toContain(`function ${fn('image')}: container image: Lambda attaches no layers`);
    expect(text).toContain(
      `function ${fn('py')}: runtime python3.12 is not among the layer's compatible runtimes`,
    );
    expect(text).toContain(
      `function ${fn('arm')}: architecture arm64 is not among the layer's compatible architectures`,
    );
    expect(text).toContain(
      `function ${fn('owned')}: owned by CloudFormation stack AppStack: the extension is not attached`,
    );
    expect(text).toContain(`fn.addEnvironment('LOGFERRY_CONFIG_PARAMETER', '${param}');`);
  });

  it('applies exactly the plan, keeping other layers and variables; the record holds no secret', async () => {
    // An update of the function is running when apply starts (InProgress for two reads): apply
    // waits for it before reading the environment and changing the layers.
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn('node'), Description: '' }));
    const r = await applyPlan(plan, aws('onboard lambda'), dataDir);
    runId = r.runId;
    expect(r.record.status).toBe('applied');
    const node = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn('node') }));
    expect(node.Layers?.map((l) => l.Arn)).toEqual([otherLayers[0], ext2]);
    expect(node.Environment?.Variables).toEqual({
      API_TOKEN: SECRET,
      KEEP: '1',
      LOGFERRY_CONFIG_PARAMETER: param,
    });
    const old = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn('old') }));
    expect(old.Layers?.map((l) => l.Arn)).toEqual([otherLayers[1], ext2]);
    expect(old.Environment?.Variables).toEqual({ LOGFERRY_CONFIG_PARAMETER: param });
    // Refused and stack-owned functions keep their configuration.
    const before = JSON.parse(original) as { fns: unknown[] };
    const after = JSON.parse(await state()) as { fns: unknown[] };
    for (const i of [2, 3, 4, 5, 6]) expect(after.fns[i]).toEqual(before.fns[i]);
    expect(readFileSync(r.file, 'utf8')).not.toContain(SECRET);
  });

  it('has nothing to do on a second run', async () => {
    const again = await makePlan(args, aws('onboard lambda'));
    expect(again.steps).toEqual([]);
    expect(renderPlan(again)).toContain(`function ${fn('node')}: the logferry extension is already attached`);
  });

  it('rolls back layers and environment byte for byte', async () => {
    const r = await undo(runId);
    expect(r.record.status).toBe('rolled-back');
    expect(await state()).toBe(original);
    expect(readFileSync(r.file, 'utf8')).not.toContain(SECRET);
  });

  it('refuses a missing layer and bad extension arguments before changing anything', async () => {
    const gone = await makePlan(
      { ...args, extensionLayerArn: `${ext2.replace(/:\d+$/, '')}:99` },
      aws('onboard lambda'),
    ).catch((e) => e);
    expect(isLogferryError(gone, 'CONFIG_INVALID')).toBe(true);
    expect(gone.message).toContain('no layer version');
    const bad = await makePlan(
      {
        ...args,
        extensionLayerArn: 'arn:aws:lambda:us-east-1:123456789012:function:x',
        extensionConfigParameter: undefined,
      },
      aws('onboard lambda'),
    ).catch((e) => e);
    expect(isLogferryError(bad, 'CONFIG_INVALID')).toBe(true);
    expect(bad.message).toContain('is not a layer version ARN');
    expect(bad.message).toContain('needs --extension-config-parameter');
    expect(await state()).toBe(original);
  });
});

describe('onboard ecs', () => {
  const cluster = `${p}-ecs`;
  const webGroup = `/ecs/${p}-web`;
  const apiGroup = `/ecs/${p}-api`;
  let webTd: string;
  let apiTd: string;
  let original: string;

  async function state(): Promise<string> {
    const svcs = (
      await ecs.send(new DescribeServicesCommand({ cluster, services: [`${p}-web-svc`, `${p}-api-svc`] }))
    ).services!.map((s) => ({
      name: s.serviceName,
      taskDefinition: s.taskDefinition,
      desiredCount: s.desiredCount,
    }));
    const active: string[] = [];
    for (const fam of [`${p}-web`, `${p}-api`])
      active.push(
        ...((await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: fam, status: 'ACTIVE' })))
          .taskDefinitionArns ?? []),
      );
    const tds: unknown[] = [];
    for (const td of [webTd, apiTd]) {
      const r = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: td, include: ['TAGS'] }));
      tds.push({ td: r.taskDefinition, tags: r.tags });
    }
    return JSON.stringify(
      { svcs, active, tds, groups: [await groupState(webGroup), await groupState(apiGroup)] },
      null,
      1,
    );
  }

  beforeAll(async () => {
    await ecs.send(new CreateEcsClusterCommand({ clusterName: cluster }));
    webTd = (
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: `${p}-web`,
          executionRoleArn: roleArn,
          containerDefinitions: [
            {
              name: 'app',
              image: 'nginx:1',
              memory: 256,
              essential: true,
              environment: [{ name: 'DB_PASSWORD', value: 'hunter2-secret' }],
              logConfiguration: {
                logDriver: 'awslogs',
                options: {
                  'awslogs-group': webGroup,
                  'awslogs-region': region,
                  'awslogs-stream-prefix': 'web',
                },
              },
            },
            { name: 'sidecar', image: 'busybox:1', memory: 64, essential: false },
          ],
          tags: [{ key: 'team', value: 'web' }],
        }),
      )
    ).taskDefinition!.taskDefinitionArn!;
    apiTd = (
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: `${p}-api`,
          containerDefinitions: [
            {
              name: 'api',
              image: 'api:1',
              memory: 256,
              essential: true,
              logConfiguration: {
                logDriver: 'awslogs',
                options: {
                  'awslogs-group': apiGroup,
                  'awslogs-region': region,
                  'awslogs-stream-prefix': 'api',
                },
              },
            },
          ],
        }),
      )
    ).taskDefinition!.taskDefinitionArn!;
    // The api group is already subscribed by an earlier logferry to an old stream: updated in place.
    await group(apiGroup, 14);
    await logs.send(
      new PutSubscriptionFilterCommand({
        logGroupName: apiGroup,
        filterName: 'logferry',
        filterPattern: '',
        destinationArn: otherStreamArn,
        roleArn,
      }),
    );
    for (const [svc, td] of [
      [`${p}-web-svc`, webTd],
      [`${p}-api-svc`, apiTd],
    ])
      await ecs.send(
        new CreateServiceCommand({
          cluster,
          serviceName: svc,
          taskDefinition: td,
          desiredCount: 1,
          launchType: 'EC2',
        }),
      );
    original = await state();
  }, 120_000);

  const args: OnboardArgs = {
    kind: 'ecs',
    stack,
    cluster,
    services: `${p}-*`,
    mode: 'subscribe',
    updateServices: true,
  };

  it('subscribe mode: plan, apply, nothing to do, rollback byte for byte; secrets never in the plan', async () => {
    const plan = await makePlan(args, aws('onboard ecs'));
    expect(await state()).toBe(original);
    expect(plan.steps.map((s) => s.id)).toEqual([
      `subscribe:${apiGroup}`,
      `register-task-definition:${webTd}`,
      `create-log-group:${webGroup}`,
      `retention:${webGroup}`,
      `subscribe:${webGroup}`,
      `update-service:${cluster}/${p}-web-svc`,
    ]);
    expect(JSON.stringify(plan)).not.toContain('hunter2');
    expect(JSON.stringify(plan)).toContain(MASKED);
    const r = await applyPlan(plan, aws('onboard ecs'), dataDir);
    expect(JSON.stringify(readRecord(dataDir, r.runId))).not.toContain('hunter2');
    const svc = (await ecs.send(new DescribeServicesCommand({ cluster, services: [`${p}-web-svc`] })))
      .services![0];
    expect(svc.taskDefinition).not.toBe(webTd);
    const td = (
      await ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: svc.taskDefinition, include: ['TAGS'] }),
      )
    ).taskDefinition!;
    const app = td.containerDefinitions!.find((c) => c.name === 'app')!;
    expect(app.environment).toEqual([{ name: 'DB_PASSWORD', value: 'hunter2-secret' }]);
    expect(td.containerDefinitions!.find((c) => c.name === 'sidecar')!.logConfiguration).toEqual({
      logDriver: 'awslogs',
      options: { 'awslogs-group': webGroup, 'awslogs-region': region, 'awslogs-stream-prefix': `${p}-web` },
    });
    const api = (await groupState(apiGroup)) as { filters: { filterName: string; destinationArn: string }[] };
    expect(api.filters.map((f) => [f.filterName, f.destinationArn])).toEqual([['logferry', streamArn]]);
    expect((await makePlan(args, aws('onboard ecs'))).steps).toEqual([]);
    await undo(r.runId);
    expect(await state()).toBe(original);
  });

  it('firelens mode adds an essential router with a stop timeout; services roll only when asked', async () => {
    const fargs = {
      ...args,
      mode: 'firelens',
      updateServices: false,
      services: `${p}-api-svc`,
    } as OnboardArgs;
    const plan = await makePlan(fargs, aws('onboard ecs'));
    expect(plan.steps.map((s) => s.call.operation)).toEqual(['RegisterTaskDefinition']);
    expect(renderPlan(plan)).toContain('not rolled onto the new revision');
    const r = await applyPlan(plan, aws('onboard ecs'), dataDir);
    const newArn = r.record.steps[0].outputs!.taskDefinitionArn as string;
    const td = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: newArn })))
      .taskDefinition!;
    const router = td.containerDefinitions!.find((c) => c.firelensConfiguration)!;
    expect(router).toMatchObject({
      essential: true,
      stopTimeout: 120,
      firelensConfiguration: { type: 'fluentbit' },
    });
    const apiC = td.containerDefinitions!.find((c) => c.name === 'api')!;
    expect(apiC.logConfiguration).toEqual({
      logDriver: 'awsfirelens',
      options: { Name: 'kinesis_streams', region, stream: `${p}-logs` },
    });
    expect(apiC.dependsOn).toEqual([{ containerName: router.name, condition: 'START' }]);
    const svc = (await ecs.send(new DescribeServicesCommand({ cluster, services: [`${p}-api-svc`] })))
      .services![0];
    expect(svc.taskDefinition).toBe(apiTd);
    // Re-running does not register yet another revision; asking to roll now only rolls.
    const again = await makePlan({ ...fargs, updateServices: true } as OnboardArgs, aws('onboard ecs'));
    expect(again.steps.map((s) => [s.call.operation, s.call.input.taskDefinition])).toEqual([
      ['UpdateService', newArn],
    ]);
    await undo(r.runId);
    expect(await state()).toBe(original);
  });
});

describe('onboard eks', () => {
  const cluster = `${p}-eks`;
  const logGroup = `/aws/eks/${cluster}/cluster`;
  const initialLogging: Logging = {
    clusterLogging: [
      { types: ['api'], enabled: true },
      { types: ['audit', 'authenticator', 'controllerManager', 'scheduler'], enabled: false },
    ],
  };
  let original: string;

  async function state(): Promise<string> {
    const c = (await eks.send(new DescribeClusterCommand({ name: cluster }))).cluster!;
    return JSON.stringify({ logging: c.logging, group: await groupState(logGroup) }, null, 1);
  }

  beforeAll(async () => {
    await eks.send(
      new CreateClusterCommand({
        name: cluster,
        roleArn,
        resourcesVpcConfig: { subnetIds: [] },
        logging: initialLogging,
        // Each update stays InProgress for one DescribeUpdate (moto extension).
        tags: { 'logferry-test:update-polls': '1' },
      }),
    );
    original = await state();
  }, 60_000);

  it('enables control-plane logs one update at a time (waiting for one in progress), subscribes, rolls back exactly', async () => {
    const args: OnboardArgs = {
      kind: 'eks',
      stack,
      cluster,
      controlPlaneLogs: ['api', 'audit', 'authenticator'],
      agent: false,
    };
    const plan = await makePlan(args, aws('onboard eks'));
    expect(await state()).toBe(original);
    expect(plan.steps.map((s) => s.id)).toEqual([
      `control-plane-logs:${cluster}`,
      `create-log-group:${logGroup}`,
      `retention:${logGroup}`,
      `subscribe:${logGroup}`,
    ]);
    // Another tool's update is in progress when apply starts: apply waits and retries.
    await eks.send(new UpdateClusterConfigCommand({ name: cluster, logging: initialLogging }));
    const r = await applyPlan(plan, aws('onboard eks'), dataDir);
    expect(r.record.status).toBe('applied');
    const c = (await eks.send(new DescribeClusterCommand({ name: cluster }))).cluster!;
    expect(c.logging!.clusterLogging).toEqual([
      { types: ['api', 'audit', 'authenticator'], enabled: true },
      { types: ['controllerManager', 'scheduler'], enabled: false },
    ]);
    const g = (await groupState(logGroup)) as { filters: { destinationArn: string }[] };
    expect(g.filters.map((f) => f.destinationArn)).toEqual([streamArn]);
    expect((await makePlan(args, aws('onboard eks'))).steps).toEqual([]);
    // Again another update is in progress when rollback starts: it waits and retries too.
    await eks.send(new UpdateClusterConfigCommand({ name: cluster, logging: c.logging }));
    await undo(r.runId);
    expect(await state()).toBe(original);
  });

  it('refuses unknown log types and a missing cluster', async () => {
    const err = await makePlan(
      { kind: 'eks', stack, cluster, controlPlaneLogs: ['api', 'kubelet'], agent: false },
      aws('onboard eks'),
    ).catch((e) => e);
    expect(err.message).toContain('unknown type(s) kubelet');
    const missing = await makePlan(
      { kind: 'eks', stack, cluster: `${p}-nope`, controlPlaneLogs: ['api'], agent: false },
      aws('onboard eks'),
    ).catch((e) => e);
    expect(isLogferryError(missing, 'CONFIG_INVALID')).toBe(true);
    expect(missing.message).toContain(`no EKS cluster "${p}-nope"`);
  });
});

describe('iam-policy matches what the commands send', () => {
  it('every SDK command sent is declared for its command, and every declared call was sent', () => {
    for (const command of Object.keys(CALLS) as OnboardCommand[]) {
      const declared = new Set(
        CALLS[command].filter((c) => !c.implicit).map((c) => `${c.service}:${c.operation}`),
      );
      const seen = sent.get(command) ?? new Set();
      expect([command, [...seen].sort()]).toEqual([command, [...declared].sort()]);
    }
  });

  it('run records are private files (mode 0600)', () => {
    const dir = join(dataDir, 'onboard');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(join(dir, f), 'utf8')).format).toBe('logferry-onboard-run/1');
    }
  });
});
