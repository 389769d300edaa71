/**
 * `onboard eks`: enables the requested control-plane log types with one `UpdateClusterConfig`
 * (EKS allows one update at a time: apply retries while another update is in progress and waits
 * for its own to finish), then creates `/aws/eks/<cluster>/cluster` with retention if missing and
 * subscribes it. The update sends the whole logging configuration (enabled and disabled types);
 * its undo sends back the exact previous configuration. With `--agent` the plan also tells how to
 * install the node agent chart (`charts/logferry-agent`) for container logs.
 */
import { LogferryError } from '../core/errors.js';
import { type AwsCaller, isNotFound } from './aws.js';
import { type LogGroupOptions, planLogGroup } from './log-groups.js';
import type { Destination, PlanNote, PlanStep } from './plan.js';
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
  return p;
}

export function enabledTypes(l: ClusterLogging | undefined): Set<string> {
  const on = new Set<string>();
  for (const e of l?.clusterLogging ?? []) if (e.enabled) for (const t of e.types ?? []) on.add(t);
  return on;
}

export function agentHelmCommand(cluster: string, dest: Destination, region: string): string {
  const kind = destinationKind(dest.arn);
  const name = dest.arn.split('/').pop();
  return [
    'helm upgrade --install logferry-agent charts/logferry-agent --namespace logferry --create-namespace \\',
    `  --set aws.region=${region} \\`,
    `  --set destination.${kind === 'firehose' ? 'firehoseDeliveryStream' : 'kinesisStream'}=${name} \\`,
    `  --set clusterName=${cluster} \\`,
    '  --set serviceAccount.roleArn=<IAM role for the agent (IRSA) allowed to put records to the destination>',
  ].join('\n');
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
  if (args.agent)
    notes.push({
      level: 'warn',
      resource,
      message:
        'the node agent is not installed by apply (it needs kubectl access to the cluster, which onboarding does not hold); install the chart with:',
      patch: agentHelmCommand(args.cluster, dest, aws.region),
    });
  return { steps, notes };
}
