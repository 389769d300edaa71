/**
 * `onboard ecs`: for each selected service's task definition, either
 * - `--mode subscribe` (default): each container's `awslogs` log group is created if missing and
 *   subscribed; containers without any log configuration get an `awslogs` one (group
 *   `/ecs/<family>`) in a new revision; or
 * - `--mode firelens`: a new revision adds an aws-for-fluent-bit log router (essential, started
 *   first and stopped last via `dependsOn`, `stopTimeout` 120 s so it flushes) and routes the
 *   containers that used `awslogs` (or nothing) to the destination stream with `awsfirelens`.
 * New revisions copy every registrable field and tag of the current one; environment values never
 * enter the plan (filled from the immutable base revision at apply). Services are rolled onto the
 * new revision only with `--update-services`; rollback points them back and deregisters it.
 */
import { LogferryError } from '../core/errors.js';
import { type AwsCaller, isNotFound } from './aws.js';
import { type LogGroupOptions, planLogGroup } from './log-groups.js';
import { type Destination, MASKED, type PlanNote, type PlanStep } from './plan.js';
import { matches, parseSelector } from './select.js';
import { destinationKind } from './topology.js';

export const FIRELENS_IMAGE = 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable';
export const ROUTER_NAME = 'logferry-log-router';
/** The longest stop timeout ECS allows (seconds): the router keeps flushing until then. */
export const ROUTER_STOP_TIMEOUT_S = 120;

export interface EcsArgs {
  cluster: string;
  services: string;
  mode: 'subscribe' | 'firelens';
  updateServices: boolean;
  firelensImage?: string;
}

/** Fields RegisterTaskDefinition accepts, copied from DescribeTaskDefinition. */
const REGISTRABLE = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
] as const;

interface LogConfiguration {
  logDriver?: string;
  options?: Record<string, string>;
  secretOptions?: unknown[];
}

interface ContainerDefinition {
  name?: string;
  essential?: boolean;
  image?: string;
  environment?: { name?: string; value?: string }[];
  logConfiguration?: LogConfiguration;
  firelensConfiguration?: { type?: string; options?: Record<string, string> };
  dependsOn?: { containerName?: string; condition?: string }[];
  [k: string]: unknown;
}

interface TaskDefinition {
  taskDefinitionArn?: string;
  family?: string;
  revision?: number;
  containerDefinitions?: ContainerDefinition[];
  [k: string]: unknown;
}

export function validateEcsArgs(a: EcsArgs): string[] {
  const p: string[] = [];
  if (!a.cluster) p.push('--cluster is required');
  if (a.mode !== 'subscribe' && a.mode !== 'firelens')
    p.push(`--mode must be subscribe or firelens, not "${a.mode}"`);
  return p;
}

async function selectServices(
  aws: AwsCaller,
  cluster: string,
  text: string,
): Promise<{ serviceName?: string; serviceArn?: string; taskDefinition?: string }[]> {
  const sel = parseSelector(text, 'services');
  const arns: string[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const r = await aws.call<{ serviceArns?: string[]; nextToken?: string }>('ecs', 'ListServices', {
        cluster,
        ...(nextToken ? { nextToken } : {}),
      });
      arns.push(...(r.serviceArns ?? []));
      nextToken = r.nextToken;
    } while (nextToken);
  } catch (e) {
    if (isNotFound(e))
      throw new LogferryError('CONFIG_INVALID', `no ECS cluster "${cluster}" in ${aws.region}`);
    throw e;
  }
  const names = arns.map((a) => a.split('/').pop()!).filter((n) => matches(sel, n));
  const missing = sel.exact.filter((n) => !names.includes(n));
  if (missing.length)
    throw new LogferryError('CONFIG_INVALID', `no such service in cluster ${cluster}: ${missing.join(', ')}`);
  if (names.length === 0)
    throw new LogferryError(
      'CONFIG_INVALID',
      `no service in cluster ${cluster} matches --services '${text}'`,
    );
  const out: { serviceName?: string; serviceArn?: string; taskDefinition?: string }[] = [];
  const sorted = [...new Set(names)].sort();
  for (let i = 0; i < sorted.length; i += 10) {
    const r = await aws.call<{
      services?: { serviceName?: string; serviceArn?: string; taskDefinition?: string }[];
    }>('ecs', 'DescribeServices', { cluster, services: sorted.slice(i, i + 10) });
    out.push(...(r.services ?? []));
  }
  return out;
}

async function describeTd(
  aws: AwsCaller,
  ref: string,
): Promise<{ td: TaskDefinition; tags: { key?: string; value?: string }[] }> {
  const r = await aws.call<{ taskDefinition?: TaskDefinition; tags?: { key?: string; value?: string }[] }>(
    'ecs',
    'DescribeTaskDefinition',
    { taskDefinition: ref, include: ['TAGS'] },
  );
  if (!r.taskDefinition) throw new LogferryError('ONBOARD_FAILED', `task definition ${ref} not found`);
  return { td: r.taskDefinition, tags: r.tags ?? [] };
}

/** The routing options Fluent Bit's output needs for the destination. */
export function firelensOptions(dest: Destination, region: string): Record<string, string> {
  const kind = destinationKind(dest.arn);
  const name = dest.arn.split('/').pop()!;
  if (kind === 'firehose') return { Name: 'kinesis_firehose', region, delivery_stream: name };
  if (kind === 'kinesis') return { Name: 'kinesis_streams', region, stream: name };
  throw new LogferryError(
    'CONFIG_INVALID',
    `--mode firelens needs a Firehose or Kinesis destination, not ${dest.arn}`,
  );
}

function maskEnv(defs: ContainerDefinition[]): ContainerDefinition[] {
  return defs.map((c) =>
    c.environment?.length
      ? { ...c, environment: c.environment.map((e) => ({ name: e.name, value: MASKED })) }
      : c,
  );
}

/** True when the revision already ships its containers as onboarding would. */
function isOnboarded(
  td: TaskDefinition,
  mode: EcsArgs['mode'],
  fl: Record<string, string> | undefined,
): boolean {
  const defs = td.containerDefinitions ?? [];
  if (mode === 'subscribe') return defs.every((c) => c.logConfiguration);
  if (!defs.some((c) => c.firelensConfiguration)) return false;
  return defs.every(
    (c) =>
      c.firelensConfiguration ||
      (c.logConfiguration &&
        (c.logConfiguration.logDriver !== 'awsfirelens' ||
          Object.entries(fl ?? {}).every(([k, v]) => c.logConfiguration?.options?.[k] === v)) &&
        c.logConfiguration.logDriver !== 'awslogs'),
  );
}

/** The new revision's container definitions, or undefined when none is needed. */
function rewrite(
  td: TaskDefinition,
  args: EcsArgs,
  dest: Destination,
  region: string,
):
  | {
      defs: ContainerDefinition[];
      changes: { field: string; before: unknown; after: unknown }[];
      groups: string[];
    }
  | undefined {
  const defs = td.containerDefinitions ?? [];
  const changes: { field: string; before: unknown; after: unknown }[] = [];
  if (args.mode === 'subscribe') {
    const group = `/ecs/${td.family}`;
    let touched = false;
    const out = defs.map((c) => {
      if (c.logConfiguration) return c;
      touched = true;
      const logConfiguration = {
        logDriver: 'awslogs',
        options: { 'awslogs-group': group, 'awslogs-region': region, 'awslogs-stream-prefix': td.family! },
      };
      changes.push({
        field: `containerDefinitions[${c.name}].logConfiguration`,
        before: undefined,
        after: logConfiguration,
      });
      return { ...c, logConfiguration };
    });
    return touched ? { defs: out, changes, groups: [group] } : undefined;
  }
  if (defs.some((c) => c.firelensConfiguration)) return undefined;
  const options = firelensOptions(dest, region);
  const routed = defs
    .filter((c) => !c.logConfiguration || c.logConfiguration.logDriver === 'awslogs')
    .map((c) => c.name!);
  if (routed.length === 0) return undefined;
  const out: ContainerDefinition[] = defs.map((c) => {
    if (!routed.includes(c.name!)) return c;
    const logConfiguration = { logDriver: 'awsfirelens', options };
    changes.push({
      field: `containerDefinitions[${c.name}].logConfiguration`,
      before: c.logConfiguration,
      after: logConfiguration,
    });
    const dependsOn = [...(c.dependsOn ?? []), { containerName: ROUTER_NAME, condition: 'START' }];
    return { ...c, logConfiguration, dependsOn };
  });
  const router: ContainerDefinition = {
    name: ROUTER_NAME,
    image: args.firelensImage ?? FIRELENS_IMAGE,
    essential: true,
    firelensConfiguration: { type: 'fluentbit', options: { 'enable-ecs-log-metadata': 'true' } },
    memoryReservation: 50,
    stopTimeout: ROUTER_STOP_TIMEOUT_S,
    user: '0',
  };
  changes.push({
    field: `containerDefinitions[${ROUTER_NAME}]`,
    before: undefined,
    after: `${router.image} (essential, stopTimeout ${ROUTER_STOP_TIMEOUT_S}s)`,
  });
  return { defs: [router, ...out], changes, groups: [] };
}

export async function planEcs(
  aws: AwsCaller,
  args: EcsArgs,
  dest: Destination,
  lg: LogGroupOptions,
): Promise<{ steps: PlanStep[]; notes: PlanNote[] }> {
  const steps: PlanStep[] = [];
  const notes: PlanNote[] = [];
  const fl = args.mode === 'firelens' ? firelensOptions(dest, aws.region) : undefined;
  const services = await selectServices(aws, args.cluster, args.services);
  const registered = new Map<string, string>(); // base TD ARN → step id of its new revision
  const groupsDone = new Set<string>();
  for (const svc of services) {
    const name = svc.serviceName!;
    const resource = `service ${args.cluster}/${name}`;
    const { td, tags } = await describeTd(aws, svc.taskDefinition!);
    const tdArn = td.taskDefinitionArn!;
    let target = td;
    let newRevision: string | undefined; // step id or an existing ARN
    const rw = rewrite(td, args, dest, aws.region);
    if (rw) {
      // An earlier run may have registered the onboarded revision without rolling the service.
      const latest = (await describeTd(aws, td.family!)).td;
      if (latest.taskDefinitionArn !== tdArn && isOnboarded(latest, args.mode, fl)) {
        target = latest;
        newRevision = latest.taskDefinitionArn;
      } else if (registered.has(tdArn)) newRevision = registered.get(tdArn);
      else {
        const input: Record<string, unknown> = {};
        for (const k of REGISTRABLE) if (td[k] !== undefined && td[k] !== null) input[k] = td[k];
        input.containerDefinitions = maskEnv(rw.defs);
        if (tags.length) input.tags = tags;
        const id = `register-task-definition:${tdArn}`;
        steps.push({
          id,
          resource: `task definition ${td.family}:${td.revision}`,
          action: `register a new revision (${args.mode})`,
          call: {
            service: 'ecs',
            operation: 'RegisterTaskDefinition',
            input,
            hooks: ['ecs-env'],
            base: tdArn,
          },
          changes: rw.changes,
          observed: { taskDefinitionArn: tdArn },
          outputs: { taskDefinitionArn: 'taskDefinition.taskDefinitionArn' },
          undo: [
            {
              service: 'ecs',
              operation: 'DeregisterTaskDefinition',
              input: { taskDefinition: { $ref: `${id}.taskDefinitionArn` } },
            },
          ],
        });
        registered.set(tdArn, id);
        newRevision = id;
        if (args.mode === 'firelens')
          notes.push({
            level: 'warn',
            resource: `task definition ${td.family}`,
            message: `its task role (${td.taskRoleArn ?? 'none set'}) must allow ${destinationKind(dest.arn) === 'firehose' ? 'firehose:PutRecordBatch' : 'kinesis:PutRecords'} on ${dest.arn}; onboarding does not change IAM roles`,
          });
        target = { ...td, containerDefinitions: rw.defs };
      }
      for (const g of rw.groups)
        notes.push({
          level: 'info',
          resource: `task definition ${td.family}`,
          message: `containers now log to ${g} with awslogs: the execution role needs logs:CreateLogStream and logs:PutLogEvents`,
        });
    }
    // Subscribe every awslogs group the (new) revision writes to.
    for (const c of target.containerDefinitions ?? []) {
      const lc = c.logConfiguration;
      if (!lc) continue;
      if (lc.logDriver !== 'awslogs') {
        if (lc.logDriver !== 'awsfirelens')
          notes.push({
            level: 'info',
            resource,
            message: `container ${c.name} ships with ${lc.logDriver}; left alone`,
          });
        continue;
      }
      const group = lc.options?.['awslogs-group'];
      const region = lc.options?.['awslogs-region'] ?? aws.region;
      if (!group) continue;
      if (region !== aws.region) {
        notes.push({
          level: 'warn',
          resource,
          message: `container ${c.name} logs to ${group} in ${region}; run onboarding in that region for it`,
        });
        continue;
      }
      if (groupsDone.has(group)) continue;
      groupsDone.add(group);
      const sub = await planLogGroup(aws, group, dest, lg, resource);
      steps.push(...sub.steps);
      notes.push(...sub.notes);
    }
    if (!newRevision) continue;
    const revisionRef = newRevision.startsWith('arn:')
      ? newRevision
      : { $ref: `${newRevision}.taskDefinitionArn` };
    if (!args.updateServices) {
      notes.push({
        level: 'info',
        resource,
        message: `not rolled onto the new revision (run with --update-services, or deploy it yourself)`,
      });
      continue;
    }
    steps.push({
      id: `update-service:${args.cluster}/${name}`,
      resource,
      action: 'roll onto the new task definition revision',
      call: {
        service: 'ecs',
        operation: 'UpdateService',
        input: { cluster: args.cluster, service: name, taskDefinition: revisionRef },
      },
      changes: [
        {
          field: 'taskDefinition',
          before: tdArn,
          after: typeof revisionRef === 'string' ? revisionRef : '(the new revision)',
        },
      ],
      observed: { taskDefinition: tdArn },
      undo: [
        {
          service: 'ecs',
          operation: 'UpdateService',
          input: { cluster: args.cluster, service: name, taskDefinition: tdArn },
        },
      ],
    });
  }
  return { steps, notes };
}
