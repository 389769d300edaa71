/**
 * Classifies a CloudWatch log stream by what produced it, from the log group and stream names alone:
 * EKS control-plane components (`/aws/eks/<cluster>/cluster`), Lambda (`/aws/lambda/<fn>`,
 * `YYYY/MM/DD/[<version>]<instance>` streams), ECS awslogs (`<prefix>/<container>/<task-id>`), or
 * generic. Pure string checks, cheap enough to run per envelope.
 */

/** Order matters: `kube-apiserver-audit` must be tested before `kube-apiserver`. */
export const EKS_COMPONENTS = [
  'kube-apiserver-audit',
  'kube-apiserver',
  'authenticator',
  'kube-controller-manager',
  'cloud-controller-manager',
  'kube-scheduler',
] as const;

export type EksComponent = (typeof EKS_COMPONENTS)[number];

export type StreamClass =
  | { kind: 'eks'; cluster: string; component: EksComponent }
  | { kind: 'lambda'; functionName: string; version?: string; instance?: string }
  | { kind: 'ecs'; prefix: string; container: string; taskId: string }
  | { kind: 'generic' };

const EKS_GROUP = /^\/aws\/eks\/([^/]+)\/cluster$/;
const LAMBDA_GROUP = /^\/aws\/lambda\/(.+)$/;
const LAMBDA_STREAM = /^\d{4}\/\d{2}\/\d{2}\/\[([^\]]*)\](.*)$/;
const ECS_STREAM =
  /^([^/]+)\/([^/]+)\/([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** The EKS component a stream name belongs to, by prefix, as EKS names them. */
export function eksComponentOf(logStream: string): EksComponent | undefined {
  for (const c of EKS_COMPONENTS) if (logStream.startsWith(c)) return c;
  return undefined;
}

export function classifyStream(logGroup: string, logStream: string): StreamClass {
  const eks = EKS_GROUP.exec(logGroup);
  if (eks) {
    const component = eksComponentOf(logStream);
    if (component) return { kind: 'eks', cluster: eks[1], component };
    return { kind: 'generic' };
  }
  const lambda = LAMBDA_GROUP.exec(logGroup);
  if (lambda) {
    const s = LAMBDA_STREAM.exec(logStream);
    return s
      ? { kind: 'lambda', functionName: lambda[1], version: s[1], instance: s[2] }
      : { kind: 'lambda', functionName: lambda[1] };
  }
  const ecs = ECS_STREAM.exec(logStream);
  if (ecs) return { kind: 'ecs', prefix: ecs[1], container: ecs[2], taskId: ecs[3] };
  return { kind: 'generic' };
}

/** A short component label for partitioning and index names. */
export function componentLabel(c: StreamClass): string {
  switch (c.kind) {
    case 'eks':
      return c.component;
    case 'lambda':
      return 'lambda';
    case 'ecs':
      return 'ecs';
    default:
      return 'default';
  }
}
