/**
 * Named, parameterised Logs Insights queries — the seed library's EKS control-plane queries and the
 * ones people ask for next (aws-auth changes, access denied, evictions, pod/node deletes, non-read
 * audit events by resource, errors by component, Lambda cold starts and duration percentiles, ECS
 * task logs). `logferry query --recipe eks/aws-auth-changes --param cluster=prod`.
 *
 * Templates: `{{name}}` inserts a parameter inside a string literal (quotes and backslashes
 * escaped), `{{name:re}}` inside a /regex/ (metacharacters and `/` escaped); a line starting with
 * `{{?name}}` is kept only when that parameter is non-empty. Every parameter is validated against its
 * pattern before it reaches the query, so a recipe can never be turned into a different query.
 */
import { LogferryError } from '../../core/errors.js';
import type { DurationUnit } from '../ast.js';
import { PERIOD_CAPS, periodWithinCaps } from '../functions/datetime.js';

export interface RecipeParam {
  name: string;
  description: string;
  /** Used when not given; '' means "optional, leave the filter out". Absent means required. */
  default?: string;
  pattern: RegExp;
  /** Shown when validation fails. */
  expect: string;
  /**
   * Rewrites a value that matched `pattern` into the form the query needs, or returns a sentence
   * (`{ problem }`) when it has none.
   */
  normalize?: (v: string) => string | { problem: string };
}

export interface Recipe {
  name: string;
  description: string;
  params: RecipeParam[];
  query: string;
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const K8S_NAME_EXPECT = 'a Kubernetes name (lowercase letters, digits, - and .)';
const TEXT = /^[^"\\\n\r]*$/;
const TEXT_EXPECT = 'text without double quotes, backslashes or newlines';

const cluster: RecipeParam = {
  name: 'cluster',
  description: 'EKS cluster name (empty: every cluster)',
  default: '',
  pattern: /^([A-Za-z0-9][A-Za-z0-9_-]{0,99})?$/,
  expect: 'an EKS cluster name (letters, digits, - and _)',
};
const limit = (n: number): RecipeParam => ({
  name: 'limit',
  description: 'maximum rows',
  default: String(n),
  pattern: /^([1-9]\d{0,3}|10000)$/,
  expect: 'a number from 1 to 10000',
});
const bin = (d: string): RecipeParam => ({
  name: 'bin',
  description: 'time bucket width',
  default: d,
  pattern: /^\d{1,4}(ms|s|m|h|d)$/,
  expect: 'a period such as 5m, 1h, 1d',
  normalize: binWithinCaps,
});

/**
 * A recipe's `bin` is not query text: `300s` means five minutes, so it is written `5m` (Logs
 * Insights would silently run `bin(300s)` as 60 seconds, and logferry refuses it in a query). A
 * period no larger unit expresses exactly (`90m`) is refused with the nearest ones that fit.
 */
function binWithinCaps(v: string): string | { problem: string } {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(v)!;
  const p = { amount: Number(m[1]), unit: m[2] as DurationUnit };
  if (p.amount === 0) return { problem: 'a period must be at least 1' };
  const fits = periodWithinCaps(p);
  if (fits) return fits;
  const cap = PERIOD_CAPS[p.unit]!;
  const up = p.unit === 'ms' ? 's' : p.unit === 's' ? 'm' : p.unit === 'm' ? 'h' : 'd';
  const per = p.unit === 'h' ? 24 : p.unit === 'ms' ? 1000 : 60;
  const lo = Math.floor(p.amount / per);
  const near = [lo, lo + 1].filter((n) => n >= 1).map((n) => `${n}${up}`);
  return {
    problem: `${v} is over Logs Insights' cap of ${cap}${p.unit} and no larger unit writes it exactly; use ${near.join(' or ')}`,
  };
}
const text = (name: string, description: string, def = ''): RecipeParam => ({
  name,
  description,
  default: def,
  pattern: TEXT,
  expect: TEXT_EXPECT,
});
const k8s = (name: string, description: string, def?: string): RecipeParam => ({
  name,
  description,
  default: def,
  pattern: def === '' ? new RegExp(`^(${K8S_NAME.source.slice(1, -1)})?$`) : K8S_NAME,
  expect: K8S_NAME_EXPECT,
});

const CLUSTER_LINE = '{{?cluster}}| filter @log like "/aws/eks/{{cluster}}/cluster"';
const AUDIT = [
  'fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name, responseStatus.code, @message',
  '| filter @logStream like /^kube-apiserver-audit/',
  CLUSTER_LINE,
];
const NOT_READ = '| filter verb not in ["get", "list", "watch"]';

export const RECIPES: Recipe[] = [
  // ------------------------------------------------------------------ EKS control plane (seed)
  {
    name: 'eks/aws-auth-changes',
    description: 'Changes to the aws-auth ConfigMap (who mapped which IAM identities), newest first',
    params: [cluster, limit(1000)],
    query: [
      ...AUDIT,
      '| filter objectRef.resource == "configmaps"',
      '| filter objectRef.name == "aws-auth"',
      NOT_READ,
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'eks/access-denied',
    description: 'IAM authenticator "access denied" messages (who tried to reach the cluster and failed)',
    params: [cluster, limit(50)],
    query: [
      'fields @timestamp, @logStream, @message',
      '| filter @logStream like /^authenticator/',
      CLUSTER_LINE,
      '| filter @message like "access denied"',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'eks/audit-object',
    description:
      'Non-read API calls on one kind of object (events, leases, nodes, pods, …), optionally one name',
    params: [
      k8s('resource', 'objectRef.resource, e.g. pods, nodes, leases, events, serviceaccounts', 'pods'),
      k8s('name', 'objectRef.name (empty: any)', ''),
      k8s('namespace', 'objectRef.namespace (empty: any)', ''),
      cluster,
      limit(1000),
    ],
    query: [
      ...AUDIT,
      NOT_READ,
      '| filter objectRef.resource == "{{resource}}"',
      '{{?name}}| filter objectRef.name == "{{name}}"',
      '{{?namespace}}| filter objectRef.namespace == "{{namespace}}"',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'eks/storage-changes',
    description: 'Non-read API calls on volumes: PVCs, PVs, volume attachments and snapshots',
    params: [cluster, limit(1000)],
    query: [
      ...AUDIT,
      NOT_READ,
      '| filter objectRef.resource in ["persistentvolumeclaims", "persistentvolumes", "volumeattachments", "volumesnapshots", "volumesnapshotcontents"]',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'eks/serviceaccount-changes',
    description: 'Non-read API calls on a service account (default aws-node, the VPC CNI)',
    params: [k8s('name', 'service account name', 'aws-node'), cluster, limit(1000)],
    query: [
      ...AUDIT,
      NOT_READ,
      '| filter objectRef.resource == "serviceaccounts"',
      '| filter objectRef.name = "{{name}}"',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'eks/evictions',
    description: 'Pod evictions through the Eviction API (drains, autoscalers, node pressure)',
    params: [cluster, limit(1000)],
    query: [
      'fields @timestamp, user.username, objectRef.namespace, objectRef.name, responseStatus.code, @message',
      '| filter @logStream like /^kube-apiserver-audit/',
      CLUSTER_LINE,
      "| filter requestURI like '/eviction'",
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'eks/pod-deletes',
    description: 'Pod deletions (who deleted which pod), optionally in one namespace',
    params: [k8s('namespace', 'namespace (empty: any)', ''), cluster, limit(1000)],
    query: [
      'fields @timestamp, @logStream, user.username, objectRef.namespace, objectRef.name, requestURI, @message',
      '| filter @logStream like /^kube-apiserver-audit/',
      CLUSTER_LINE,
      '| filter verb == "delete"',
      '| filter objectRef.resource == "pods"',
      '{{?namespace}}| filter objectRef.namespace == "{{namespace}}"',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'eks/node-deletes',
    description: 'Node deletions (kubectl delete node, Karpenter, cluster autoscaler)',
    params: [cluster, limit(1000)],
    query: [
      'fields @timestamp, @logStream, user.username, objectRef.name, requestURI, @message',
      '| filter @logStream like /^kube-apiserver-audit/',
      CLUSTER_LINE,
      '| filter requestURI like "/api/v1/nodes/"',
      '| filter verb == "delete"',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'eks/non-read-by-resource',
    description: 'Count of non-read audit events (create/update/patch/delete) per resource and verb',
    params: [cluster],
    query: [
      'filter @logStream like /^kube-apiserver-audit/',
      CLUSTER_LINE,
      NOT_READ,
      '| stats count(*) as events by objectRef.resource, verb',
      '| sort events desc',
    ].join('\n'),
  },
  {
    name: 'eks/user-actions',
    description: 'Non-read API calls by users whose name contains a text (e.g. vpc-resource-controller)',
    params: [
      text('user', 'text in user.username', 'vpc-resource-controller'),
      k8s('namespace', 'namespace (empty: any)', ''),
      cluster,
      limit(1000),
    ],
    query: [
      ...AUDIT,
      NOT_READ,
      '| filter user.username like "{{user}}"',
      '{{?namespace}}| filter objectRef.namespace == "{{namespace}}"',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'eks/controller-creates',
    description:
      'Objects a controller created, by user agent (deployment-controller → replicasets, replicaset-controller → pods)',
    params: [text('agent', 'text in userAgent', 'replicaset-controller'), cluster, limit(1000)],
    query: [
      ...AUDIT,
      '| filter verb == "create"',
      '| filter userAgent like "{{agent}}"',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'eks/targetgroupbinding-changes',
    description: 'Non-read API calls on AWS Load Balancer Controller TargetGroupBindings',
    params: [cluster, limit(1000)],
    query: [
      ...AUDIT,
      NOT_READ,
      '| filter objectRef.resource == "targetgroupbindings"',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'eks/hpa-status',
    description: 'HorizontalPodAutoscaler status updates: target vs current CPU and replicas',
    params: [k8s('namespace', 'HPA namespace'), k8s('name', 'HPA name'), cluster],
    query: [
      'fields @timestamp, responseObject.spec.targetCPUUtilizationPercentage, responseObject.status.currentCPUUtilizationPercentage, responseObject.status.desiredReplicas, responseObject.status.currentReplicas',
      '| filter @logStream like /audit/',
      CLUSTER_LINE,
      "| filter requestURI like '/apis/autoscaling/v1/namespaces/{{namespace}}/horizontalpodautoscalers/{{name}}/status'",
      '| sort @timestamp asc',
    ].join('\n'),
  },
  {
    name: 'eks/component-logs',
    description: 'Log lines of one control-plane component, optionally containing a text',
    params: [
      {
        name: 'component',
        description:
          'kube-apiserver, kube-controller-manager, cloud-controller-manager, kube-scheduler or authenticator',
        default: 'kube-controller-manager',
        pattern:
          /^(kube-apiserver|kube-controller-manager|cloud-controller-manager|kube-scheduler|authenticator)$/,
        expect:
          'one of kube-apiserver, kube-controller-manager, cloud-controller-manager, kube-scheduler, authenticator',
      },
      text('contains', 'text the message must contain (empty: any)'),
      cluster,
      limit(1000),
    ],
    query: [
      'fields @timestamp, @logStream, @message',
      '| filter @logStream like /^{{component:re}}-/',
      '| filter @logStream not like /^kube-apiserver-audit/',
      CLUSTER_LINE,
      '{{?contains}}| filter @message like "{{contains}}"',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'eks/errors-by-component',
    description: 'Error lines (klog E…, "error", "fail") per control-plane component',
    params: [cluster],
    query: [
      'filter @log like "/aws/eks/"',
      '| filter @logStream not like /^kube-apiserver-audit/',
      CLUSTER_LINE,
      '| filter @message like /^E\\d{4} / or @message like /error|fail/i',
      '| parse @logStream /^(?<component>[a-z-]+?)-[0-9a-f]{32}$/',
      '| stats count(*) as errors by component',
      '| sort errors desc',
    ].join('\n'),
  },
  {
    name: 'eks/api-errors-over-time',
    description: 'Audit events answered with an HTTP error (≥ 400), per time bucket',
    params: [bin('5m'), cluster],
    query: [
      'filter @logStream like /^kube-apiserver-audit/',
      CLUSTER_LINE,
      '| filter responseStatus.code >= 400',
      '| stats count(*) as errors by bin({{bin}})',
    ].join('\n'),
  },
  // ------------------------------------------------------------------ Lambda
  {
    name: 'lambda/cold-starts',
    description: 'Cold starts (REPORT lines with an Init Duration) and init time, per time bucket',
    params: [text('function', 'function name or part of it (empty: every function)'), bin('1h')],
    query: [
      'filter @type = "REPORT"',
      '{{?function}}| filter @log like "/aws/lambda/{{function}}"',
      '| filter ispresent(@initDuration)',
      '| stats count(*) as coldStarts, avg(@initDuration) as avgInitMs, max(@initDuration) as maxInitMs by bin({{bin}})',
    ].join('\n'),
  },
  {
    name: 'lambda/duration-percentiles',
    description: 'Invocation duration percentiles (p50/p90/p99) and max, per time bucket',
    params: [text('function', 'function name or part of it (empty: every function)'), bin('1h')],
    query: [
      'filter @type = "REPORT"',
      '{{?function}}| filter @log like "/aws/lambda/{{function}}"',
      '| stats count(*) as invocations, pct(@duration, 50) as p50, pct(@duration, 90) as p90, pct(@duration, 99) as p99, max(@duration) as maxMs by bin({{bin}})',
    ].join('\n'),
  },
  {
    name: 'lambda/memory',
    description: 'Memory used vs configured per function (how far memory could be lowered)',
    params: [text('function', 'function name or part of it (empty: every function)')],
    query: [
      'filter @type = "REPORT"',
      '{{?function}}| filter @log like "/aws/lambda/{{function}}"',
      '| stats max(@maxMemoryUsed / 1000 / 1000) as maxUsedMB, max(@memorySize / 1000 / 1000) as configuredMB, count(*) as invocations by @log',
    ].join('\n'),
  },
  {
    name: 'lambda/errors',
    description: 'Errors, timeouts and crashes in Lambda logs, newest first',
    params: [text('function', 'function name or part of it (empty: every function)'), limit(100)],
    query: [
      'fields @timestamp, @log, @logStream, @message',
      '| filter @log like "/aws/lambda/"',
      '{{?function}}| filter @log like "/aws/lambda/{{function}}"',
      '| filter @message like /ERROR|Task timed out|Runtime exited|Runtime\\.\\w+Error/',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  // ------------------------------------------------------------------ ECS
  {
    name: 'ecs/task-logs',
    description: 'Log lines of one ECS task (awslogs stream ecs/<container>/<task-id>)',
    params: [
      {
        name: 'task',
        description: 'ECS task id (32 hex digits or a UUID)',
        pattern: /^([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
        expect: 'a task id: 32 hex digits or a UUID',
      },
      limit(1000),
    ],
    query: [
      'fields @timestamp, @logStream, @message',
      '| filter @logStream like "{{task}}"',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'ecs/container-logs',
    description: 'Log lines of every task of one container (stream prefix/container/…)',
    params: [
      {
        name: 'container',
        description: 'container name from the task definition',
        pattern: /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/,
        expect: 'a container name (letters, digits, - and _)',
      },
      {
        name: 'prefix',
        description: 'awslogs-stream-prefix',
        default: 'ecs',
        pattern: /^[A-Za-z0-9._-]+$/,
        expect: 'letters, digits, ., - and _',
      },
      limit(1000),
    ],
    query: [
      'fields @timestamp, @logStream, @message',
      '| filter @logStream like /^{{prefix:re}}\\/{{container:re}}\\//',
      '| sort @timestamp desc',
      '| limit {{limit}}',
    ].join('\n'),
  },
  {
    name: 'ecs/errors-by-task',
    description: 'Error lines per ECS task and container',
    params: [
      {
        name: 'prefix',
        description: 'awslogs-stream-prefix',
        default: 'ecs',
        pattern: /^[A-Za-z0-9._-]+$/,
        expect: 'letters, digits, ., - and _',
      },
    ],
    query: [
      'filter @logStream like /^{{prefix:re}}\\//',
      '| filter @message like /error|exception|fatal/i',
      '| parse @logStream /^[^\\/]+\\/(?<container>[^\\/]+)\\/(?<task>[0-9a-f-]+)$/',
      '| stats count(*) as errors by container, task',
      '| sort errors desc',
    ].join('\n'),
  },
];

export function findRecipe(name: string): Recipe {
  const r = RECIPES.find((x) => x.name === name);
  if (r) return r;
  const close = RECIPES.filter((x) => x.name.includes(name) || name.includes(x.name.split('/')[1] ?? '')).map(
    (x) => x.name,
  );
  throw new LogferryError(
    'CONFIG_INVALID',
    `no recipe named '${name}'${close.length ? ` (did you mean ${close.slice(0, 3).join(', ')}?)` : ''}; \`logferry recipes\` lists them`,
  );
}

function escapeString(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/'/g, "\\'");
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Parses `k=v` strings (from repeated `--param`). */
export function parseParamArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new LogferryError('CONFIG_INVALID', `--param ${a}: expected name=value`);
    out[a.slice(0, eq).trim()] = a.slice(eq + 1);
  }
  return out;
}

/** The recipe's query text with validated parameters. Reports every problem at once. */
export function expandRecipe(recipe: Recipe, given: Record<string, string>): string {
  const problems: string[] = [];
  const values: Record<string, string> = {};
  for (const k of Object.keys(given)) {
    if (!recipe.params.some((p) => p.name === k))
      problems.push(
        `unknown parameter '${k}' (${recipe.name} takes ${recipe.params.map((p) => p.name).join(', ') || 'none'})`,
      );
  }
  for (const p of recipe.params) {
    const v = given[p.name] ?? p.default;
    if (v === undefined) {
      problems.push(`missing parameter '${p.name}': ${p.description} (--param ${p.name}=…)`);
      continue;
    }
    if (!p.pattern.test(v)) {
      problems.push(`parameter ${p.name}=${JSON.stringify(v)}: expected ${p.expect}`);
      continue;
    }
    const n = p.normalize ? p.normalize(v) : v;
    if (typeof n !== 'string') {
      problems.push(`parameter ${p.name}=${JSON.stringify(v)}: ${n.problem}`);
      continue;
    }
    values[p.name] = n;
  }
  if (problems.length) {
    throw new LogferryError('CONFIG_INVALID', `recipe ${recipe.name}:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  const lines: string[] = [];
  for (const raw of recipe.query.split('\n')) {
    let line = raw;
    const cond = /^\{\{\?(\w+)\}\}/.exec(line);
    if (cond) {
      if (!values[cond[1]]) continue;
      line = line.slice(cond[0].length);
    }
    line = line.replace(/\{\{(\w+)(:re)?\}\}/g, (_m, name: string, re?: string) =>
      re ? escapeRegex(values[name] ?? '') : escapeString(values[name] ?? ''),
    );
    lines.push(line);
  }
  // The first command must not start with a pipe when the conditional line before it was dropped.
  if (lines.length) lines[0] = lines[0].replace(/^\|\s*/, '');
  return lines.join('\n');
}
