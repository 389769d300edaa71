/**
 * `logferry onboard` and `logferry iam-policy` as users run them (the built CLI against moto):
 * the plan table on stdout and nothing changed; `--plan-out` then `--apply plan.json`; a second
 * run says "nothing to do"; `onboard rollback <run-id>`; `--json`; bad input exits 2 with every
 * problem and no stack trace.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, DescribeSubscriptionFiltersCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateStreamCommand, DescribeStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateFunctionCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist', 'cli', 'logferry.mjs');
const motoUrl = inject('motoUrl');
const p = `lfc${randomBytes(3).toString('hex')}`;
const cfg = {
  endpoint: motoUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
};
let dir: string;
let dest: string[];

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, AWS_ENDPOINT_URL: motoUrl, AWS_REGION: 'us-east-1', NODE_NO_WARNINGS: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!motoUrl)
    throw new Error('moto is not running (LOGFERRY_TEST_SERVICES excludes it): these tests need it');
  // dist/ is built once by test/global-setup.ts.
  dir = mkdtempSync(join(tmpdir(), 'lf-onboard-cli-'));
  const role = (
    await new IAMClient(cfg).send(
      new CreateRoleCommand({ RoleName: `${p}-cwl`, AssumeRolePolicyDocument: '{}' }),
    )
  ).Role!.Arn!;
  const kinesis = new KinesisClient({ ...cfg, requestHandler: new NodeHttpHandler() });
  await kinesis.send(new CreateStreamCommand({ StreamName: `${p}-logs`, ShardCount: 1 }));
  const stream = (await kinesis.send(new DescribeStreamCommand({ StreamName: `${p}-logs` })))
    .StreamDescription!.StreamARN!;
  dest = ['--destination-arn', stream, '--role-arn', role];
  await new LambdaClient(cfg).send(
    new CreateFunctionCommand({
      FunctionName: `${p}-fn`,
      Runtime: 'nodejs22.x',
      Role: role,
      Handler: 'index.handler',
      Code: { ZipFile: Buffer.from('UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', 'base64') },
    }),
  );
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const loggingConfig = async () =>
  (await new LambdaClient(cfg).send(new GetFunctionConfigurationCommand({ FunctionName: `${p}-fn` })))
    .LoggingConfig;
const filters = async () => {
  try {
    return (
      (
        await new CloudWatchLogsClient(cfg).send(
          new DescribeSubscriptionFiltersCommand({ logGroupName: `/aws/lambda/${p}-fn` }),
        )
      ).subscriptionFilters ?? []
    ).length;
  } catch {
    return -1; // no such group
  }
};

describe('logferry onboard (CLI)', () => {
  it('prints the plan table and changes nothing; --plan-out then --apply plan.json; rollback restores', async () => {
    const before = JSON.stringify(await loggingConfig());
    const plan = run(['onboard', 'lambda', '--functions', `${p}-*`, ...dest, '--plan-out', 'plan.json']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/#\s+API call\s+resource\s+change/);
    expect(plan.stdout).toContain(`logs:CreateLogGroup`);
    expect(plan.stdout).toContain(`lambda:UpdateFunctionConfiguration  function ${p}-fn`);
    expect(plan.stdout).toContain('Nothing has been changed');
    expect(plan.stderr).toContain('plan saved to plan.json');
    expect(existsSync(join(dir, 'plan.json'))).toBe(true);
    expect(JSON.stringify(await loggingConfig())).toBe(before);
    expect(await filters()).toBe(-1);

    const applied = run(['onboard', 'lambda', '--apply', 'plan.json']);
    expect(applied.code).toBe(0);
    const runId = /Run (\S+) recorded/.exec(applied.stdout)?.[1];
    expect(runId).toBeTruthy();
    expect(existsSync(join(dir, 'logferry-data', 'onboard', `${runId}.json`))).toBe(true);
    expect((await loggingConfig())?.LogFormat).toBe('JSON');
    expect(await filters()).toBe(1);

    const again = run(['onboard', 'lambda', '--functions', `${p}-*`, ...dest, '--apply']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to do');

    // The saved plan is stale now: refused, exit 1, nothing changed.
    const stale = run(['onboard', 'lambda', '--apply', 'plan.json']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('the plan no longer matches what is deployed; nothing was changed');

    const back = run(['onboard', 'rollback', runId!, '--json']);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ runId, status: 'rolled-back', nothingToDo: false });
    expect(JSON.stringify(await loggingConfig())).toBe(before);
    expect(await filters()).toBe(-1);
  });

  it('--json prints the plan as JSON on stdout only', () => {
    const r = run(['onboard', 'lambda', '--functions', `${p}-fn`, ...dest, '--json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.format).toBe('logferry-onboard-plan/1');
    expect(plan.steps.map((s: { call: { operation: string } }) => s.call.operation)).toEqual([
      'CreateLogGroup',
      'PutRetentionPolicy',
      'PutSubscriptionFilter',
      'UpdateFunctionConfiguration',
    ]);
  });

  it('bad input exits 2 with every problem and no stack trace', () => {
    const r = run([
      'onboard',
      'lambda',
      '--functions',
      'x',
      '--destination-arn',
      'nope',
      '--retention-days',
      '8',
      '--application-log-level',
      'LOUD',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--retention-days');
    expect(r.stderr).toContain('--application-log-level');
    expect(r.stderr).toContain('--destination-arn nope is not a Firehose');
    expect(r.stderr).not.toContain('    at ');
    expect(r.stdout).toBe('');
    const ext = run([
      'onboard',
      'lambda',
      '--functions',
      'x',
      '--extension-layer-arn',
      'arn:aws:lambda:us-east-1:123456789012:layer:logferry-extension',
    ]);
    expect(ext.code).toBe(2);
    expect(ext.stderr).toContain('is not a layer version ARN');
    expect(ext.stderr).toContain('needs --extension-config-parameter');
    expect(ext.stderr).not.toContain('    at ');
    const none = run(['onboard', 'eks']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--cluster is required');
    const unknownRun = run(['onboard', 'rollback', '20990101T000000Z-abcdef']);
    expect(unknownRun.code).toBe(2);
    expect(unknownRun.stderr).toContain('no onboarding run 20990101T000000Z-abcdef');
  });
});

describe('logferry iam-policy (CLI)', () => {
  it('prints a policy scoped to what is given, with no wildcard actions', () => {
    const r = run([
      'iam-policy',
      'onboard',
      'eks',
      '--region',
      'eu-west-1',
      '--account',
      '123456789012',
      '--cluster',
      'prod',
    ]);
    expect(r.code).toBe(0);
    const policy = JSON.parse(r.stdout);
    const actions = policy.Statement.flatMap((s: { Action: string[] }) => s.Action);
    expect(actions.some((a: string) => a.includes('*'))).toBe(false);
    expect(actions).toContain('eks:UpdateClusterConfig');
    const eksStmt = policy.Statement.find((s: { Action: string[] }) =>
      s.Action.includes('eks:UpdateClusterConfig'),
    );
    expect(eksStmt.Resource).toEqual(['arn:aws:eks:eu-west-1:123456789012:cluster/prod']);
    const pass = policy.Statement.find((s: { Action: string[] }) => s.Action.includes('iam:PassRole'));
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'logs.amazonaws.com' } });
  });

  it('onboard lambda: covers attaching the extension layer (GetLayerVersion on the given layer version)', () => {
    const layer = 'arn:aws:lambda:eu-west-1:123456789012:layer:logferry-extension:4';
    const r = run([
      'iam-policy',
      'onboard',
      'lambda',
      '--region',
      'eu-west-1',
      '--account',
      '123456789012',
      '--extension-layer-arn',
      layer,
    ]);
    expect(r.code).toBe(0);
    const policy = JSON.parse(r.stdout);
    const stmt = (a: string) => policy.Statement.find((s: { Action: string[] }) => s.Action.includes(a));
    expect(stmt('lambda:GetLayerVersion').Resource).toEqual([layer]);
    expect(stmt('lambda:UpdateFunctionConfiguration').Resource).toEqual([
      'arn:aws:lambda:eu-west-1:123456789012:function:*',
    ]);
    const explain = run(['iam-policy', 'onboard', 'rollback', '--explain']);
    expect(explain.stdout).toContain('(authorization) lambda:GetLayerVersion');
  });

  it('refuses an unknown command with exit 2', () => {
    const r = run(['iam-policy', 'deploy', 'everything']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'known commands are onboard lambda, onboard ecs, onboard eks, onboard rollback',
    );
  });
});
