/**
 * `onboard eks --agent`: the node agent as a planned Helm step.
 *
 * There is no Kubernetes cluster on the test machine, so everything that needs helm to reach a
 * cluster (history, get values, upgrade --install --wait, rollback, uninstall) runs against
 * test/fixtures/fake-helm.mjs, put in place through LOGFERRY_HELM: a STAND-IN that records its argv
 * and the values file it was given and answers like helm 3 (output shapes, "release: not found",
 * revisions, a failed revision when FAKE_HELM_FAIL=upgrade). It proves the commands, the run record
 * and the rollback logic, not that the chart installs on a real cluster (that is untested here).
 * In addition, the real helm binary (test/infra/helm.ts) renders the chart with exactly the values
 * file apply handed to helm, and the rendered DaemonSet, ConfigMap and ServiceAccount carry the
 * destination, region, cluster and IRSA role. The AWS side (control-plane logs, subscription) runs
 * against moto as in onboard-moto.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, DescribeSubscriptionFiltersCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateStreamCommand, DescribeStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { LogferryError } from '../src/core/errors.js';
import { policyFor } from '../src/onboard/calls.js';
import { planAgent } from '../src/onboard/eks.js';
import { applyPlan, type RunRecord, readRecord } from '../src/onboard/engine.js';
import {
  agentChartDir,
  agentValues,
  chartVersion,
  type HelmUpgradeInput,
  helmBinary,
  rollbackArgs,
  templateArgs,
  uninstallArgs,
  upgradeArgs,
} from '../src/onboard/helm.js';
import { caller, loadPlan, type OnboardArgs, type Plan, renderPlan, rollback } from '../src/onboard/index.js';
import { PLAN_FORMAT } from '../src/onboard/plan.js';
import { ensureHelm } from './infra/helm.js';

const fakeHelm = new URL('./fixtures/fake-helm.mjs', import.meta.url).pathname;
const root = new URL('..', import.meta.url).pathname;
const streamArn = 'arn:aws:kinesis:us-east-1:123456789012:stream/logferry-logs';
const firehoseArn = 'arn:aws:firehose:us-east-1:123456789012:deliverystream/logferry-archive';
const agentRole = 'arn:aws:iam::123456789012:role/logferry-agent';

let dir: string;
let fakeDir: string;
let dataDir: string;
let env: NodeJS.ProcessEnv;

function argvLog(): string[][] {
  try {
    return readFileSync(join(fakeDir, 'argv.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}
const commands = () =>
  argvLog().map((a) => (a[0] === 'get' || a[0] === 'upgrade' ? `${a[0]} ${a[1]}` : a[0]));

// biome-ignore lint/suspicious/noExplicitAny: fake helm state
function fakeState(): any {
  try {
    return JSON.parse(readFileSync(join(fakeDir, 'state.json'), 'utf8'));
  } catch {
    return {};
  }
}

/** Runs the fake helm directly (to set up a release "someone else" installed). */
function helmAs(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(fakeHelm, args, { env: { ...env, ...extra }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

const eksArgs = (o: Partial<OnboardArgs & { kind: 'eks' }> = {}) =>
  ({
    cluster: 'prod',
    controlPlaneLogs: ['api'],
    agent: true,
    kubeContext: 'prod-admin',
    kubeconfig: '/home/ops/.kube/prod',
    agentRoleArn: agentRole,
    ...o,
  }) as Parameters<typeof planAgent>[0];

function planOf(steps: Awaited<ReturnType<typeof planAgent>>['steps']): Plan {
  return {
    format: PLAN_FORMAT,
    command: 'onboard eks',
    args: {},
    region: 'us-east-1',
    createdAt: new Date().toISOString(),
    destination: { arn: streamArn },
    steps,
    notes: [],
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lf-eks-agent-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fakeDir = mkdtempSync(join(dir, 'helm-'));
  dataDir = mkdtempSync(join(dir, 'data-'));
  env = { ...process.env, LOGFERRY_HELM: fakeHelm, FAKE_HELM_DIR: fakeDir };
});

describe('helm command construction', () => {
  const input: HelmUpgradeInput = {
    release: 'logferry-agent',
    namespace: 'logferry',
    kubeContext: 'ctx',
    kubeconfig: '/k/config',
    chart: '/pkg/charts/logferry-agent',
    chartVersion: 'logferry-agent-0.1.0',
    values: {},
    previousRevision: null,
  };

  it('upgrade --install waits, creates the namespace, and passes values only as a file', () => {
    expect(upgradeArgs(input, '/tmp/v.json')).toEqual([
      'upgrade',
      '--install',
      'logferry-agent',
      '/pkg/charts/logferry-agent',
      '--namespace',
      'logferry',
      '--kube-context',
      'ctx',
      '--kubeconfig',
      '/k/config',
      '--create-namespace',
      '--wait',
      '--timeout',
      '10m',
      '--values',
      '/tmp/v.json',
    ]);
    expect(upgradeArgs({ ...input, kubeContext: undefined, kubeconfig: undefined }, 'f')).not.toContain(
      '--kube-context',
    );
  });

  it('undo commands: uninstall (tolerating an absent release) and rollback to a revision', () => {
    expect(uninstallArgs(input)).toEqual([
      'uninstall',
      'logferry-agent',
      '--namespace',
      'logferry',
      '--kube-context',
      'ctx',
      '--kubeconfig',
      '/k/config',
      '--wait',
      '--ignore-not-found',
    ]);
    expect(rollbackArgs(input, 4).slice(0, 3)).toEqual(['rollback', 'logferry-agent', '4']);
    expect(rollbackArgs(input, 4)).toContain('--wait');
  });

  it('values name the stream or the delivery stream, the region, the cluster, and the role only when given', () => {
    expect(
      agentValues({ cluster: 'c', region: 'eu-west-1', destinationArn: streamArn, kind: 'kinesis' }),
    ).toEqual({
      clusterName: 'c',
      aws: { region: 'eu-west-1' },
      destination: { kinesisStream: 'logferry-logs' },
    });
    expect(
      agentValues({
        cluster: 'c',
        region: 'r',
        destinationArn: firehoseArn,
        kind: 'firehose',
        roleArn: agentRole,
      }),
    ).toEqual({
      clusterName: 'c',
      aws: { region: 'r' },
      destination: { firehoseDeliveryStream: 'logferry-archive' },
      serviceAccount: { roleArn: agentRole },
    });
  });

  it('the chart is found inside the package, and the package ships charts/', () => {
    expect(agentChartDir()).toBe(join(root, 'charts', 'logferry-agent'));
    expect(chartVersion(agentChartDir())).toMatch(/^logferry-agent-\d+\.\d+\.\d+$/);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('charts/');
  });

  it('no helm binary: a clear sentence (exit 2), before anything runs', () => {
    const empty = mkdtempSync(join(dir, 'path-'));
    const e = (() => {
      try {
        helmBinary({ PATH: empty });
      } catch (x) {
        return x as LogferryError;
      }
    })();
    expect(e).toBeInstanceOf(LogferryError);
    expect(e?.code).toBe('CONFIG_INVALID');
    expect(e?.message).toMatch(/no helm binary was found.*LOGFERRY_HELM/);
    expect(() => helmBinary({ LOGFERRY_HELM: join(empty, 'nope') })).toThrow(/not an executable file/);
    mkdirSync(join(empty, 'bin'));
    writeFileSync(join(empty, 'bin', 'helm'), '#!/bin/sh\n', { mode: 0o755 });
    expect(helmBinary({ PATH: `/nonexistent:${join(empty, 'bin')}` })).toBe(join(empty, 'bin', 'helm'));
  });

  it('the CLI exits 2 with that sentence when helm is missing, before any AWS call', () => {
    const empty = mkdtempSync(join(dir, 'path-'));
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'dist', 'cli', 'logferry.mjs'),
        'onboard',
        'eks',
        '--cluster',
        'prod',
        '--agent',
        '--destination-arn',
        streamArn,
        '--role-arn',
        agentRole,
      ],
      {
        encoding: 'utf8',
        env: { PATH: empty, HOME: dir, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no helm binary was found/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('iam-policy onboard-eks is unchanged: helm needs Kubernetes RBAC, not IAM', () => {
    const actions = policyFor('onboard eks').Statement.flatMap((s) => s.Action);
    expect(actions.filter((a) => !/^(eks|logs|cloudformation|iam):/.test(a))).toEqual([]);
  });

  it('refuses destinations the agent cannot ship to', async () => {
    await expect(
      planAgent(eksArgs(), { arn: 'arn:aws:lambda:us-east-1:123456789012:function:x' }, 'us-east-1', env),
    ).rejects.toThrow(/Kinesis stream or a Firehose delivery stream/);
  });
});

describe('the agent step with a stand-in helm (no cluster here)', () => {
  it('plans an install without running anything but reads; apply installs; re-plan is nothing to do; rollback uninstalls', async () => {
    const r = await planAgent(eksArgs(), { arn: streamArn }, 'us-east-1', env);
    expect(commands()).toEqual(['history']);
    expect(fakeState()).toEqual({});
    expect(r.steps).toHaveLength(1);
    const step = r.steps[0];
    expect(step.id).toBe('agent:logferry/logferry-agent');
    expect(step.call.service).toBe('helm');
    expect(step.call.input).toMatchObject({
      release: 'logferry-agent',
      namespace: 'logferry',
      kubeContext: 'prod-admin',
      kubeconfig: '/home/ops/.kube/prod',
      chart: agentChartDir(),
      previousRevision: null,
      values: {
        clusterName: 'prod',
        aws: { region: 'us-east-1' },
        destination: { kinesisStream: 'logferry-logs' },
        serviceAccount: { roleArn: agentRole },
      },
    });
    expect(step.undo).toEqual([
      {
        service: 'helm',
        operation: 'uninstall',
        input: {
          release: 'logferry-agent',
          namespace: 'logferry',
          kubeContext: 'prod-admin',
          kubeconfig: '/home/ops/.kube/prod',
        },
      },
    ]);
    const text = renderPlan({ ...planOf(r.steps), notes: r.notes }, 400);
    expect(text).toContain('helm:upgrade --install');
    expect(text).toContain(
      'helm reaches the cluster with --kube-context prod-admin of --kubeconfig /home/ops/.kube/prod',
    );
    expect(text).toContain(`chart path: (none) → ${agentChartDir()}`);
    expect(text).toContain('values.destination.kinesisStream: (none) → logferry-logs');
    expect(text).toContain(`values.serviceAccount.roleArn: (none) → ${agentRole}`);
    expect(text).toContain('chart: (not installed) → logferry-agent-');

    const applied = await applyPlan(planOf(r.steps), caller('onboard eks', { env }), dataDir);
    expect(applied.record.status).toBe('applied');
    const up = argvLog().find((a) => a[0] === 'upgrade')!;
    const valuesFile = up[up.indexOf('--values') + 1];
    expect(up).toEqual(upgradeArgs(step.call.input as unknown as HelmUpgradeInput, valuesFile));
    // The values file is gone after the call; the stand-in kept a copy of what helm was given.
    expect(() => readFileSync(valuesFile)).toThrow();
    const given = readdirSync(fakeDir).filter((f) => f.startsWith('values-'));
    expect(given).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(fakeDir, given[0]), 'utf8'))).toEqual(step.call.input.values);
    expect(applied.record.steps[0].outputs).toEqual({ revision: 1 });
    expect(fakeState()['logferry/logferry-agent'].revisions.map((x: { status: string }) => x.status)).toEqual(
      ['deployed'],
    );

    const again = await planAgent(eksArgs(), { arn: streamArn }, 'us-east-1', env);
    expect(again.steps).toEqual([]);
    expect(again.notes.map((n) => n.message).join('\n')).toMatch(
      /already installed \(revision 1, .*same values\)/,
    );

    const before = argvLog().length;
    await rollback(applied.runId, dataDir, { env });
    expect(argvLog().slice(before)).toEqual([uninstallArgs(step.call.input as unknown as HelmUpgradeInput)]);
    expect(fakeState()).toEqual({});
    expect(readRecord(dataDir, applied.runId).status).toBe('rolled-back');
  });

  it('an installed release with other values: the plan shows the differences, rollback returns to its revision', async () => {
    const first = await planAgent(
      eksArgs({ agentRoleArn: undefined }),
      { arn: firehoseArn },
      'us-east-1',
      env,
    );
    await applyPlan(planOf(first.steps), caller('onboard eks', { env }), dataDir);
    helmAs(['rollback', 'logferry-agent', '1', '--namespace', 'logferry']); // revision 2, same values
    const original = JSON.stringify(fakeState()['logferry/logferry-agent'].revisions.at(-1).values);

    const r = await planAgent(eksArgs(), { arn: streamArn }, 'us-east-1', env);
    const step = r.steps[0];
    expect(step.action).toBe('upgrade the node agent from revision 2');
    expect(step.changes).toEqual(
      expect.arrayContaining([
        { field: 'values.destination.kinesisStream', before: undefined, after: 'logferry-logs' },
        { field: 'values.destination.firehoseDeliveryStream', before: 'logferry-archive', after: undefined },
        { field: 'values.serviceAccount.roleArn', before: undefined, after: agentRole },
      ]),
    );
    expect(step.undo).toEqual([
      {
        service: 'helm',
        operation: 'rollback',
        input: expect.objectContaining({ release: 'logferry-agent', revision: 2 }),
      },
    ]);
    const applied = await applyPlan(planOf(r.steps), caller('onboard eks', { env }), dataDir);
    expect(applied.record.steps[0].outputs).toEqual({ revision: 3 });
    await rollback(applied.runId, dataDir, { env });
    expect(argvLog().at(-1)!.slice(0, 3)).toEqual(['rollback', 'logferry-agent', '2']);
    const now = fakeState()['logferry/logferry-agent'].revisions.at(-1);
    expect(now.status).toBe('deployed');
    expect(JSON.stringify(now.values)).toBe(original);
  });

  it('a helm failure midway stops, says what was and was not changed and how to roll back; rollback undoes the failed revision', async () => {
    const r = await planAgent(eksArgs(), { arn: streamArn }, 'us-east-1', env);
    const extra = {
      id: 'after',
      resource: 'helm release logferry/second',
      action: 'install the node agent',
      call: { ...r.steps[0].call, input: { ...r.steps[0].call.input, release: 'second' } },
      changes: [],
      observed: null,
      undo: [],
    };
    const failing = caller('onboard eks', { env: { ...env, FAKE_HELM_FAIL: 'upgrade' } });
    const e = await applyPlan(planOf([r.steps[0], extra]), failing, dataDir).then(
      () => {
        throw new Error('apply should have failed');
      },
      (x) => x as LogferryError,
    );
    expect(e).toBeInstanceOf(LogferryError);
    expect(e.code).toBe('ONBOARD_FAILED');
    expect(e.message).toMatch(/apply stopped at step 1 of 2/);
    expect(e.message).toMatch(/UPGRADE FAILED: context deadline exceeded/);
    expect(e.message).toMatch(
      /failed, may have partly changed \(rollback undoes it\):\n {2}- helm release logferry\/logferry-agent/,
    );
    expect(e.message).toMatch(/not changed \(not attempted\):\n {2}- helm release logferry\/second/);
    const runId = (e.details as { runId: string }).runId;
    expect(e.message).toContain(`logferry onboard rollback ${runId}`);
    const rec: RunRecord = readRecord(dataDir, runId);
    expect(rec.steps.map((s) => s.status)).toEqual(['failed', 'not-run']);
    expect(rec.steps[0].undo.map((u) => u.operation)).toEqual(['uninstall']);
    expect(fakeState()['logferry/logferry-agent'].revisions[0].status).toBe('failed');
    await rollback(runId, dataDir, { env });
    expect(fakeState()).toEqual({});
    expect(readRecord(dataDir, runId).steps.map((s) => s.status)).toEqual(['rolled-back', 'not-run']);
  });

  it('a release changed since the plan: helm upgrade is not run, the record says nothing was changed', async () => {
    const r = await planAgent(eksArgs(), { arn: streamArn }, 'us-east-1', env);
    const chart = agentChartDir();
    writeFileSync(join(dir, 'other.json'), '{"clusterName":"x"}');
    helmAs([
      'upgrade',
      '--install',
      'logferry-agent',
      chart,
      '--namespace',
      'logferry',
      '--values',
      join(dir, 'other.json'),
    ]);
    const n = argvLog().length;
    const e = await applyPlan(planOf(r.steps), caller('onboard eks', { env }), dataDir).then(
      () => {
        throw new Error('apply should have failed');
      },
      (x) => x as LogferryError,
    );
    expect(e.message).toMatch(/is at revision 1, the plan was made at not installed; helm was not run/);
    expect(e.message).toMatch(/nothing was changed; no rollback is needed/);
    expect(
      argvLog()
        .slice(n)
        .map((a) => a[0]),
    ).toEqual(['history', 'get']);
    expect(readRecord(dataDir, (e.details as { runId: string }).runId).steps[0].undo).toEqual([]);
  });
});

describe('the real helm renders exactly the values apply handed to helm', () => {
  let helm: string;
  beforeAll(() => {
    helm = ensureHelm();
  }, 1_200_000);

  it.each([
    ['kinesis', streamArn],
    ['firehose', firehoseArn],
  ])(
    '%s: the DaemonSet, config and service account get the destination, region, cluster and role',
    async (_k, arn) => {
      const r = await planAgent(eksArgs(), { arn }, 'eu-west-1', env);
      await applyPlan(planOf(r.steps), caller('onboard eks', { env }), dataDir);
      const given = join(fakeDir, readdirSync(fakeDir).find((f) => f.startsWith('values-'))!);
      const input = r.steps[0].call.input as unknown as HelmUpgradeInput;
      const out = spawnSync(helm, templateArgs(input, given), { encoding: 'utf8', timeout: 120_000 });
      expect(out.stderr).toBe('');
      expect(out.status).toBe(0);
      // biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects
      const objs: any[] = parseAllDocuments(out.stdout)
        .map((d) => d.toJS())
        .filter(Boolean);
      const ds = objs.find((o) => o.kind === 'DaemonSet');
      expect(ds.metadata.namespace).toBe('logferry');
      const envs = Object.fromEntries(
        ds.spec.template.spec.containers[0].env
          .filter((e: { value?: string }) => e.value !== undefined)
          .map((e: { name: string; value: string }) => [e.name, e.value]),
      );
      expect(envs).toMatchObject({ AWS_REGION: 'eu-west-1', LOGFERRY_CLUSTER: 'prod' });
      const sa = objs.find((o) => o.kind === 'ServiceAccount');
      expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).toBe(agentRole);
      expect(ds.spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
      const config = Object.values(objs.find((o) => o.kind === 'ConfigMap').data).join('\n');
      const name = arn.slice(arn.lastIndexOf('/') + 1);
      expect(config).toContain(
        arn.includes(':kinesis:') ? `streamName: "${name}"` : `deliveryStreamName: "${name}"`,
      );
      expect(config).toContain('region: "eu-west-1"');
    },
    180_000,
  );
});

describe('logferry onboard eks --agent (built CLI, AWS side on moto, stand-in helm)', () => {
  const motoUrl = inject('motoUrl');
  const p = `lfa${randomBytes(3).toString('hex')}`;
  const cluster = `${p}-eks`;
  const cfg = {
    endpoint: motoUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  let dest: string[];
  let stream: string;

  function cli(args: string[], extra: NodeJS.ProcessEnv = {}) {
    const r = spawnSync(process.execPath, [join(root, 'dist', 'cli', 'logferry.mjs'), ...args], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...env,
        AWS_ENDPOINT_URL: motoUrl,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        NODE_NO_WARNINGS: '1',
        ...extra,
      },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  async function awsState(): Promise<string> {
    const c = (await new EKSClient(cfg).send(new DescribeClusterCommand({ name: cluster }))).cluster!;
    const f = await new CloudWatchLogsClient(cfg)
      .send(new DescribeSubscriptionFiltersCommand({ logGroupName: `/aws/eks/${cluster}/cluster` }))
      .then(
        (r) => r.subscriptionFilters?.map((x) => x.destinationArn) ?? [],
        () => 'no group',
      );
    return JSON.stringify({ logging: c.logging, f });
  }

  beforeAll(async () => {
    if (!motoUrl)
      throw new Error('moto is not running (LOGFERRY_TEST_SERVICES excludes it): these tests need it');
    const role = (
      await new IAMClient(cfg).send(
        new CreateRoleCommand({ RoleName: `${p}-cwl`, AssumeRolePolicyDocument: '{}' }),
      )
    ).Role!.Arn!;
    const kinesis = new KinesisClient({ ...cfg, requestHandler: new NodeHttpHandler() });
    await kinesis.send(new CreateStreamCommand({ StreamName: `${p}-logs`, ShardCount: 1 }));
    stream = (await kinesis.send(new DescribeStreamCommand({ StreamName: `${p}-logs` }))).StreamDescription!
      .StreamARN!;
    dest = ['--destination-arn', stream, '--role-arn', role];
    await new EKSClient(cfg).send(
      new CreateClusterCommand({ name: cluster, roleArn: role, resourcesVpcConfig: { subnetIds: [] } }),
    );
  }, 120_000);

  it('--plan-out then --apply plan.json installs the agent with the AWS steps; again is nothing to do; rollback restores all', async () => {
    const original = await awsState();
    const flags = [
      'onboard',
      'eks',
      '--cluster',
      cluster,
      '--control-plane-logs',
      'api,audit',
      '--agent',
      '--agent-namespace',
      'logs',
      '--agent-role-arn',
      agentRole,
      '--kube-context',
      'prod-admin',
      '--kubeconfig',
      '/home/ops/.kube/prod',
      '--data-dir',
      dataDir,
      ...dest,
    ];
    const planFile = join(dir, `${p}-plan.json`);
    const planned = cli([...flags, '--plan-out', planFile]);
    expect(planned.stderr).toContain('plan saved');
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain('helm:upgrade --install');
    expect(planned.stdout).toContain('helm release logs/logferry-agent (context prod-admin)');
    expect(commands()).toEqual(['history']);
    expect(fakeState()).toEqual({});
    expect(await awsState()).toBe(original);
    const saved = loadPlan(planFile);
    expect(saved.steps.at(-1)!.call).toMatchObject({
      service: 'helm',
      input: { namespace: 'logs', values: { destination: { kinesisStream: `${p}-logs` } } },
    });

    const applied = cli(['onboard', 'eks', '--apply', planFile, '--data-dir', dataDir]);
    expect(applied.stderr).not.toMatch(/\n\s+at /);
    expect(applied.code).toBe(0);
    const runId = /Run (\S+) recorded/.exec(applied.stdout)![1];
    const up = argvLog().find((a) => a[0] === 'upgrade')!;
    expect(up).toEqual(
      expect.arrayContaining(['--kube-context', 'prod-admin', '--kubeconfig', '/home/ops/.kube/prod']),
    );
    expect(fakeState()['logs/logferry-agent'].revisions).toHaveLength(1);
    expect(await awsState()).not.toBe(original);

    const again = cli([...flags, '--apply']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to do');
    expect(again.stdout).toMatch(/node agent already installed \(revision 1/);
    expect(argvLog().filter((a) => a[0] === 'upgrade')).toHaveLength(1);

    const undone = cli(['onboard', 'rollback', runId, '--data-dir', dataDir]);
    expect(undone.code).toBe(0);
    expect(argvLog().at(-1)![0]).toBe('uninstall');
    expect(fakeState()).toEqual({});
    expect(await awsState()).toBe(original);
  }, 300_000);

  it('a saved plan is refused when the release changed since (drift), and nothing is changed', async () => {
    const planFile = join(dir, `${p}-drift.json`);
    const flags = ['onboard', 'eks', '--cluster', cluster, '--control-plane-logs', 'api', '--agent', ...dest];
    expect(cli([...flags, '--plan-out', planFile]).code).toBe(0);
    writeFileSync(join(dir, 'other.json'), '{"clusterName":"someone-else"}');
    helmAs([
      'upgrade',
      '--install',
      'logferry-agent',
      agentChartDir(),
      '--namespace',
      'logferry',
      '--values',
      join(dir, 'other.json'),
    ]);
    const r = cli(['onboard', 'eks', '--apply', planFile, '--data-dir', dataDir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no longer matches what is deployed; nothing was changed/);
    expect(r.stderr).toMatch(/helm release logferry\/logferry-agent/);
    expect(argvLog().filter((a) => a[0] === 'upgrade')).toHaveLength(1);
  }, 300_000);
});
