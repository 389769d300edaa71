/**
 * `onboard eks`: enables the requested control-plane log types with one `UpdateClusterConfig`
 * (EKS allows one update at a time: apply retries while another update is in progress and waits
 * for its own to finish), then creates `/aws/eks/<cluster>/cluster` with retention if missing and
 * subscribes it. The update sends the whole logging configuration (enabled and disabled types);
 * its undo sends back the exact previous configuration. With `--agent` the plan also installs the
 * node agent chart (`charts/logferry-agent`) for container logs as a Helm release (helm.ts).
 */
import { LogferryError } from '../core/errors.js';
import { type AwsCaller, isNotFound } from './aws.js';
import { type LogGroupOptions, planLogGroup } from './log-groups.js';
import {
  agentChartDir,
  agentValues,
  canonical,
  chartVersion,
  DEFAULT_AGENT_NAMESPACE,
  DEFAULT_AGENT_RELEASE,
  flatten,
  type HelmTarget,
  type HelmUpgradeInput,
  helmBinary,
  releaseState,
} from './helm.js';
import type { Destination, FieldChange, PlanNote, PlanStep } from './plan.js';
import { destinationKind } from './topology.js';

export const CONTROL_PLANE_LOG_TYPES = [
  'api',
  'audit',
  'authenticator',
  'controllerManager',
  'scheduler',
] as const;

export interface EksArgs {
  cluster: string;
  controlPlaneLogs: string[];
  agent: boolean;
  /** Helm release and namespace of the node agent (defaults logferry-agent / logferry). */
  agentRelease?: string;
  agentNamespace?: string;
  /** IRSA role for the agent's service account (omit with EKS Pod Identity). */
  agentRoleArn?: string;
  kubeContext?: string;
  kubeconfig?: string;
}

interface ClusterLogging {
  clusterLogging?: { types?: string[]; enabled?: boolean }[];
}

export function validateEksArgs(a: EksArgs): string[] {
  const p: string[] = [];
  if (!/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/.test(a.cluster ?? ''))
    p.push(`--cluster "${a.cluster ?? ''}" is not an EKS cluster name`);
  const bad = a.controlPlaneLogs.filter((t) => !(CONTROL_PLANE_LOG_TYPES as readonly string[]).includes(t));
  if (bad.length)
    p.push(
      `--control-plane-logs: unknown type(s) ${bad.join(', ')} (known: ${CONTROL_PLANE_LOG_TYPES.join(', ')})`,
    );
  if (a.controlPlaneLogs.length === 0) p.push('--control-plane-logs names no log type');
  // DNS-1123 names (Kubernetes namespaces; helm release names are at most 53 characters).
  const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  if (a.agentRelease !== undefined && !(dns.test(a.agentRelease) && a.agentRelease.length <= 53))
    p.push(
      `--agent-release "${a.agentRelease}" is not a helm release name (lowercase letters, digits, -; at most 53)`,
    );
  if (a.agentNamespace !== undefined && !(dns.test(a.agentNamespace) && a.agentNamespace.length <= 63))
    p.push(`--agent-namespace "${a.agentNamespace}" is not a Kubernetes namespace name`);
  if (a.agentRoleArn !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(a.agentRoleArn))
    p.push(`--agent-role-arn "${a.agentRoleArn}" is not an IAM role ARN`);
  const agentOnly = ['agentRelease', 'agentNamespace', 'agentRoleArn', 'kubeContext', 'kubeconfig'] as const;
  if (!a.agent && agentOnly.some((k) => a[k] !== undefined))
    p.push(
      '--agent-release, --agent-namespace, --agent-role-arn, --kube-context and --kubeconfig need --agent',
    );
  return p;
}

export function enabledTypes(l: ClusterLogging | undefined): Set<string> {
  const on = new Set<string>();
  for (const e of l?.clusterLogging ?? []) if (e.enabled) for (const t of e.types ?? []) on.add(t);
  return on;
}

/** The plan step that installs (or upgrades) the node agent release, or nothing when it is current. */
export async function planAgent(
  args: EksArgs,
  dest: Destination,
  region: string,
  env: NodeJS.ProcessEnv,
): Promise<{ steps: PlanStep[]; notes: PlanNote[] }> {
  const kind = destinationKind(dest.arn);
  if (kind !== 'kinesis' && kind !== 'firehose')
    throw new LogferryError(
      'CONFIG_INVALID',
      `--agent ships to a Kinesis stream or a Firehose delivery stream; the destination ${dest.arn} is neither`,
    );
  const bin = helmBinary(env);
  const chart = agentChartDir();
  const target: HelmTarget = {
    release: args.agentRelease ?? DEFAULT_AGENT_RELEASE,
    namespace: args.agentNamespace ?? DEFAULT_AGENT_NAMESPACE,
    ...(args.kubeContext ? { kubeContext: args.kubeContext } : {}),
    ...(args.kubeconfig ? { kubeconfig: args.kubeconfig } : {}),
  };
  const version = chartVersion(chart);
  const values = agentValues({
    cluster: args.cluster,
    region,
    destinationArn: dest.arn,
    kind,
    ...(args.agentRoleArn ? { roleArn: args.agentRoleArn } : {}),
  });
  const before = await releaseState(bin, target, env);
  const resource = `helm release ${target.namespace}/${target.release}${
    target.kubeContext ? ` (context ${target.kubeContext})` : ''
  }`;
  const reach = `helm reaches the cluster with ${
    target.kubeContext ? `--kube-context ${target.kubeContext}` : 'the current kube context'
  } of ${target.kubeconfig ? `--kubeconfig ${target.kubeconfig}` : '$KUBECONFIG (or ~/.kube/config)'}`;
  if (
    before.present &&
    before.status === 'deployed' &&
    before.chart === version &&
    canonical(before.values) === canonical(values)
  )
    return {
      steps: [],
      notes: [
        {
          level: 'info',
          resource,
          message: `node agent already installed (revision ${before.revision}, ${version}, same values)`,
        },
      ],
    };
  const old = new Map(before.present ? flatten(before.values) : []);
  const changes: FieldChange[] = [
    {
      field: 'chart',
      before: before.present
        ? `${before.chart} (revision ${before.revision}, ${before.status})`
        : '(not installed)',
      after: version,
    },
    { field: 'chart path', before: undefined, after: chart },
  ];
  const now = flatten(values);
  for (const [k, v] of now)
    if (old.get(k) !== v) changes.push({ field: `values.${k}`, before: old.get(k), after: v });
  for (const [k, v] of old)
    if (!now.some(([n]) => n === k)) changes.push({ field: `values.${k}`, before: v, after: undefined });
  const input: HelmUpgradeInput = {
    ...target,
    chart,
    chartVersion: version,
    values,
    previousRevision: before.present ? before.revision : null,
  };
  const notes: PlanNote[] = [{ level: 'info', resource, message: reach }];
  if (!args.agentRoleArn)
    notes.push({
      level: 'warn',
      resource,
      message:
        'no --agent-role-arn: the agent needs AWS credentials to put records to the destination; create an EKS Pod Identity association for its service account, or pass the IRSA role with --agent-role-arn',
    });
  return {
    steps: [
      {
        id: `agent:${target.namespace}/${target.release}`,
        resource,
        action: before.present
          ? `upgrade the node agent from revision ${before.revision}`
          : 'install the node agent',
        call: {
          service: 'helm',
          operation: 'upgrade --install',
          input: input as unknown as Record<string, unknown>,
        },
        changes,
        observed: before.present
          ? { revision: before.revision, status: before.status, chart: before.chart, values: before.values }
          : null,
        undo: [
          before.present
            ? { service: 'helm', operation: 'rollback', input: { ...target, revision: before.revision } }
            : { service: 'helm', operation: 'uninstall', input: { ...target } },
        ],
        outputs: { revision: 'revision' },
      },
    ],
    notes,
  };
}

export async function planEks(
  aws: AwsCaller,
  args: EksArgs,
  dest: Destination,
  lg: LogGroupOptions,
): Promise<{ steps: PlanStep[]; notes: PlanNote[] }> {
  const steps: PlanStep[] = [];
  const notes: PlanNote[] = [];
  let cluster: { status?: string; logging?: ClusterLogging };
  try {
    cluster =
      (await aws.call<{ cluster?: typeof cluster }>('eks', 'DescribeCluster', { name: args.cluster }))
        .cluster ?? {};
  } catch (e) {
    if (isNotFound(e))
      throw new LogferryError('CONFIG_INVALID', `no EKS cluster "${args.cluster}" in ${aws.region}`);
    throw e;
  }
  const resource = `cluster ${args.cluster}`;
  const on = enabledTypes(cluster.logging);
  const wanted = new Set([...on, ...args.controlPlaneLogs]);
  const missing = args.controlPlaneLogs.filter((t) => !on.has(t));
  if (missing.length === 0)
    notes.push({
      level: 'info',
      resource,
      message: `control-plane logs already on: ${[...on].sort().join(', ')}`,
    });
  else {
    const enabled = CONTROL_PLANE_LOG_TYPES.filter((t) => wanted.has(t));
    const disabled = CONTROL_PLANE_LOG_TYPES.filter((t) => !wanted.has(t));
    const logging = {
      clusterLogging: [
        { types: enabled, enabled: true },
        ...(disabled.length ? [{ types: disabled, enabled: false }] : []),
      ],
    };
    if (cluster.status && cluster.status !== 'ACTIVE')
      notes.push({
        level: 'info',
        resource,
        message: `status ${cluster.status}: apply waits for updates in progress`,
      });
    steps.push({
      id: `control-plane-logs:${args.cluster}`,
      resource,
      action: `enable control-plane logs ${missing.join(', ')}`,
      call: {
        service: 'eks',
        operation: 'UpdateClusterConfig',
        input: { name: args.cluster, logging },
        hooks: ['eks-update'],
      },
      changes: missing.map((t) => ({ field: `logging.${t}`, before: 'disabled', after: 'enabled' })),
      observed: { logging: cluster.logging ?? null },
      undo: [
        {
          service: 'eks',
          operation: 'UpdateClusterConfig',
          input: {
            name: args.cluster,
            logging: cluster.logging ?? {
              clusterLogging: [{ types: [...CONTROL_PLANE_LOG_TYPES], enabled: false }],
            },
          },
          hooks: ['eks-update'],
        },
      ],
    });
  }
  const sub = await planLogGroup(aws, `/aws/eks/${args.cluster}/cluster`, dest, lg, resource);
  steps.push(...sub.steps);
  notes.push(...sub.notes);
  if (args.agent) {
    const agent = await planAgent(args, dest, aws.region, aws.env);
    steps.push(...agent.steps);
    notes.push(...agent.notes);
  }
  return { steps, notes };
}
