/**
 * The EKS/ECS query library from the seed (/work/shared/seeds/002_…txt), run verbatim over small,
 * realistic rows stored the way the archive stores them: audit events parsed by the k8s-audit
 * parser with their structure kept, control-plane text lines with only the envelope fields, ECS
 * container lines. Expected results are what Logs Insights returns for the same events.
 */
import { describe, expect, it } from 'vitest';
import { isParseFailure } from '../core/pipeline.js';
import { parseAuditEvent } from '../parsers/k8s-audit.js';
import { compileQuery } from './compile.js';
import type { Row } from './types.js';

const T0 = Date.UTC(2026, 10, 20, 9, 0, 0);
const LOG = '123456789012:/aws/eks/prod/cluster';
const AUDIT_STREAM = 'kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329';
const NODE = 'ip-10-20-42-209.ap-northeast-2.compute.internal';

let seq = 0;
function line(stream: string, message: string, log = LOG): Row {
  seq++;
  return { '@timestamp': T0 + seq * 1000, '@message': message, '@logStream': stream, '@log': log, id: seq };
}

interface Audit {
  verb: string;
  resource: string;
  name?: string;
  namespace?: string;
  username?: string;
  userAgent?: string;
  requestURI?: string;
  sessionName?: string;
  code?: number;
  requestObject?: unknown;
  responseObject?: unknown;
  apiGroup?: string;
}

function audit(a: Audit): Row {
  const event = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: `a-${seq + 1}`,
    stage: 'ResponseComplete',
    requestURI: a.requestURI ?? `/api/v1/${a.resource}${a.name ? `/${a.name}` : ''}`,
    verb: a.verb,
    user: {
      username: a.username ?? 'kubernetes-admin',
      groups: ['system:masters', 'system:authenticated'],
      ...(a.sessionName ? { extra: { sessionName: [a.sessionName], accessKeyId: ['ASIAEXAMPLE'] } } : {}),
    },
    sourceIPs: ['10.20.1.5'],
    userAgent: a.userAgent ?? 'kubectl/v1.29.0 (linux/amd64) kubernetes/abc',
    objectRef: {
      resource: a.resource,
      ...(a.namespace ? { namespace: a.namespace } : {}),
      ...(a.name ? { name: a.name } : {}),
      ...(a.apiGroup ? { apiGroup: a.apiGroup } : {}),
      apiVersion: 'v1',
    },
    responseStatus: { metadata: {}, code: a.code ?? 200 },
    ...(a.requestObject ? { requestObject: a.requestObject } : {}),
    ...(a.responseObject ? { responseObject: a.responseObject } : {}),
    requestReceivedTimestamp: '2026-11-20T09:00:00.000000Z',
  };
  const message = JSON.stringify(event);
  const fields = parseAuditEvent(message);
  if (isParseFailure(fields)) throw new Error('fixture is not an audit event');
  return { ...line(AUDIT_STREAM, message), ...fields };
}

const rows: Row[] = [
  line(
    'authenticator-1111222272c52cc05e3177863bdcc12d',
    'time="2026-11-20T09:00:01Z" level=info msg="access granted" arn="arn:aws:iam::123456789012:role/admin"',
  ),
  line(
    'authenticator-1111222272c52cc05e3177863bdcc12d',
    'time="2026-11-20T09:00:02Z" level=warning msg="access denied" arn="arn:aws:iam::123456789012:role/dev" error="ARN is not mapped"',
  ),
  line(
    'kube-apiserver-934e06efeb2e9416b02fa19f9a2d1774',
    'I1120 09:00:03.000000 10 flags.go:64] FLAG: --audit-log-maxage="0"',
  ),
  line(
    'kube-apiserver-934e06efeb2e9416b02fa19f9a2d1774',
    'I1120 09:00:04.000000 10 healthz.go:261] healthz check passed',
  ),
  line(
    'kube-controller-manager-934e06efeb2e9416b02fa19f9a2d1774',
    'I1120 09:00:05.000000 11 flags.go:64] FLAG: --cluster-name="prod"',
  ),
  line(
    'cloud-controller-manager-934e06efeb2e9416b02fa19f9a2d1774',
    'I1120 09:00:06.000000 12 node_controller.go:431] Initializing node',
  ),
  audit({ verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'aws-auth' }),
  audit({
    verb: 'update',
    resource: 'configmaps',
    namespace: 'kube-system',
    name: 'aws-auth',
    sessionName: 'alice',
    responseObject: { kind: 'ConfigMap', code: 200 },
  }),
  audit({ verb: 'create', resource: 'events', namespace: 'default', name: 'nginx.17a', sessionName: 'bob' }),
  audit({ verb: 'watch', resource: 'events', namespace: 'default' }),
  audit({
    verb: 'update',
    resource: 'leases',
    namespace: 'kube-node-lease',
    name: NODE,
    username: `system:node:${NODE}`,
    userAgent: 'kubelet/v1.29.0',
  }),
  audit({
    verb: 'patch',
    resource: 'nodes',
    name: NODE,
    username: `system:node:${NODE}`,
    requestObject: {
      status: {
        conditions: [
          { type: 'MemoryPressure' },
          { type: 'DiskPressure' },
          { type: 'PIDPressure' },
          { type: 'Ready', status: 'True' },
        ],
      },
    },
  }),
  audit({
    verb: 'patch',
    resource: 'pods',
    namespace: 'kube-system',
    name: 'aws-load-balancer-controller-7875bd8f78-7b866',
    requestObject: {
      status: { conditions: [{ type: 'a' }, { type: 'b' }, { type: 'c' }, { type: 'ContainersReady' }] },
    },
  }),
  audit({
    verb: 'create',
    resource: 'persistentvolumeclaims',
    namespace: 'default',
    name: 'efs-provisioner-test',
    username: 'system:serviceaccount:kube-system:persistent-volume-binder',
  }),
  audit({ verb: 'list', resource: 'persistentvolumes' }),
  audit({
    verb: 'patch',
    resource: 'serviceaccounts',
    namespace: 'kube-system',
    name: 'aws-node',
    responseObject: { kind: 'ServiceAccount', code: 200 },
  }),
  audit({ verb: 'get', resource: 'serviceaccounts', namespace: 'kube-system', name: 'aws-node' }),
  audit({
    verb: 'update',
    resource: 'horizontalpodautoscalers',
    namespace: 'test-namespace',
    name: 'test-hpa',
    requestURI: '/apis/autoscaling/v1/namespaces/test-namespace/horizontalpodautoscalers/test-hpa/status',
    responseObject: {
      spec: { targetCPUUtilizationPercentage: 50 },
      status: { currentCPUUtilizationPercentage: 73, desiredReplicas: 4, currentReplicas: 3 },
    },
  }),
  audit({
    verb: 'create',
    resource: 'pods',
    namespace: 'default',
    name: 'nginx-5d5f',
    requestURI: '/api/v1/namespaces/default/pods/nginx-5d5f/eviction',
  }),
  audit({
    verb: 'delete',
    resource: 'pods',
    namespace: 'default',
    name: 'nginx-5d5f',
    requestURI: '/api/v1/namespaces/default/pods/nginx-5d5f',
  }),
  audit({
    verb: 'delete',
    resource: 'nodes',
    name: 'ip-10-20-10-35.ap-northeast-2.compute.internal',
    requestURI: '/api/v1/nodes/ip-10-20-10-35.ap-northeast-2.compute.internal',
    responseObject: { kind: 'Status', code: 200 },
  }),
  audit({
    verb: 'create',
    resource: 'replicasets',
    namespace: 'default',
    name: 'nginx-5d5f',
    username: 'system:serviceaccount:kube-system:deployment-controller',
    userAgent:
      'kube-controller-manager/v1.25.8 (linux/amd64) kubernetes/83fe90d/system:serviceaccount:kube-system:deployment-controller',
  }),
  audit({
    verb: 'watch',
    resource: 'replicasets',
    username: 'system:kube-controller-manager',
    userAgent: 'kube-controller-manager/v1.25.8 (linux/amd64) kubernetes/83fe90d/shared-informers',
  }),
  audit({
    verb: 'create',
    resource: 'pods',
    namespace: 'default',
    name: 'nginx-5d5f-abcde',
    username: 'system:serviceaccount:kube-system:replicaset-controller',
    userAgent:
      'kube-controller-manager/v1.25.8 (linux/amd64) kubernetes/83fe90d/system:serviceaccount:kube-system:replicaset-controller',
  }),
  audit({
    verb: 'patch',
    resource: 'networkinterfaces',
    namespace: 'default',
    name: 'eni-1',
    username: 'eks:vpc-resource-controller',
  }),
  audit({
    verb: 'create',
    resource: 'targetgroupbindings',
    namespace: 'default',
    name: 'k8s-default-nginx-5ce4c141a0',
    apiGroup: 'elbv2.k8s.aws',
  }),
  audit({
    verb: 'patch',
    resource: 'targetgroupbindings',
    namespace: 'kubernetes-dashboard',
    name: 'k8s-dash',
    apiGroup: 'elbv2.k8s.aws',
  }),
  line(
    'ecs/nginx/ef7512c63ef2498880ecf78fd8f9ed11',
    '10.0.0.1 - - "GET / HTTP/1.1" 200',
    '123:/aws/ecs/containerinsights/bys-dev-ecs-main/application',
  ),
  line(
    'ecs/awssdk-iam-dev/ef7512c63ef2498880ecf78fd8f9ed11',
    'listing roles',
    '123:/aws/ecs/containerinsights/bys-dev-ecs-main/application',
  ),
  line(
    'ecs/awssdk-iam-dev/0000aaaa',
    'another task',
    '123:/aws/ecs/containerinsights/bys-dev-ecs-main/application',
  ),
];

async function run(q: string) {
  return compileQuery(q).execute(rows);
}

function ids(r: { rows: Row[] }, key = '@message'): unknown[] {
  return r.rows.map((x) => rows.find((y) => y[key] === x[key])?.id);
}

const byId = (id: number) => rows.find((r) => r.id === id)!;

describe('seed: authenticator and control-plane component logs', () => {
  it('access denied', async () => {
    const r = await run(`filter @logStream like /^authenticator/
    | fields @logStream, @timestamp, @message
    | sort @timestamp desc
    | filter @message like "access denied"
    | limit 50`);
    expect(r.fields).toEqual(['@logStream', '@timestamp', '@message']);
    expect(r.rows).toEqual([
      {
        '@logStream': byId(2)['@logStream'],
        '@timestamp': byId(2)['@timestamp'],
        '@message': byId(2)['@message'],
      },
    ]);
  });

  it('kube-controller-manager FLAG lines', async () => {
    const r = await run(`fields @timestamp, @message
  | filter @logStream like /^kube-controller-manager/
  | filter @message like "FLAG"
  | sort @timestamp desc`);
    expect(ids(r)).toEqual([5]);
  });

  it('cloud-controller-manager: like "" matches every line of the stream', async () => {
    const r = await run(`fields @timestamp, @message
  | filter @logStream like /^cloud-controller-manager/
  | filter @message like ""
  | sort @timestamp desc`);
    expect(ids(r)).toEqual([6]);
  });

  it('kube-apiserver without audit streams', async () => {
    const r = await run(`fields @timestamp, @message
  | filter @logStream like /^kube-apiserver-/
  | filter @logStream not like /^kube-apiserver-audit/
  | filter @message like "FLAG"
  | sort @timestamp desc`);
    expect(ids(r)).toEqual([3]);
  });
});

describe('seed: audit log objects', () => {
  it('event objects with the session name from an array', async () => {
    const r =
      await run(`fields @timestamp, userAgent, verb, objectRef.resource, objectRef.name, user.extra.sessionName.0
    | filter @logStream like "kube-apiserver-audit" 
    | filter verb not in ["list", "watch", "get"]
    | filter objectRef.resource == "events"
    | sort @timestamp desc`);
    expect(r.fields).toEqual([
      '@timestamp',
      'userAgent',
      'verb',
      'objectRef.resource',
      'objectRef.name',
      'user.extra.sessionName.0',
    ]);
    expect(r.rows).toEqual([
      {
        '@timestamp': byId(9)['@timestamp'],
        userAgent: 'kubectl/v1.29.0 (linux/amd64) kubernetes/abc',
        verb: 'create',
        'objectRef.resource': 'events',
        'objectRef.name': 'nginx.17a',
        'user.extra.sessionName.0': 'bob',
      },
    ]);
  });

  it('lease object of one node', async () => {
    const r =
      await run(`fields @timestamp, userAgent, verb, objectRef.resource, objectRef.name, user.extra.sessionName.0
    | filter @logStream like "kube-apiserver-audit" 
    | filter verb not in ["list", "watch", "get"]
    | filter objectRef.resource == "leases"
    | filter objectRef.name == "ip-10-20-42-209.ap-northeast-2.compute.internal"
    | sort @timestamp desc`);
    expect(r.rows.map((x) => [x.verb, x.userAgent, x['user.extra.sessionName.0']])).toEqual([
      ['update', 'kubelet/v1.29.0', null],
    ]);
  });

  it('node object with the 4th status condition', async () => {
    const r =
      await run(`fields @timestamp, userAgent, verb, objectRef.resource, objectRef.name, requestObject.status.conditions.3.type
    | filter @logStream like "kube-apiserver-audit" 
    | filter verb not in ["list", "watch", "get"]
    | filter objectRef.resource == "nodes"
    | filter objectRef.name == "ip-10-20-42-209.ap-northeast-2.compute.internal"
    | sort @timestamp desc`);
    expect(r.rows.map((x) => [x.verb, x['requestObject.status.conditions.3.type']])).toEqual([
      ['patch', 'Ready'],
    ]);
  });

  it('pod object', async () => {
    const r =
      await run(`fields @timestamp, userAgent, verb, objectRef.resource, objectRef.name, requestObject.status.conditions.3.type
    | filter @logStream like "kube-apiserver-audit" 
    | filter verb not in ["list", "watch", "get"]
    | filter objectRef.resource == "pods"
    | filter objectRef.name == "aws-load-balancer-controller-7875bd8f78-7b866"
    | sort @timestamp desc`);
    expect(r.rows.map((x) => x['requestObject.status.conditions.3.type'])).toEqual(['ContainersReady']);
  });

  it('multiple storage objects', async () => {
    const r = await run(`fields @timestamp, userAgent, verb, objectRef.resource, objectRef.name
    | filter @logStream like "kube-apiserver-audit" 
    | filter verb not in ["list", "watch", "get"]
    | filter objectRef.resource in ["persistentvolumeclaims", "persistentvolumes", "volumeattachments", "volumesnapshots", "volumesnapshotcontents"]
    | sort @timestamp desc`);
    expect(r.rows.map((x) => [x['objectRef.resource'], x['objectRef.name'], x.verb])).toEqual([
      ['persistentvolumeclaims', 'efs-provisioner-test', 'create'],
    ]);
  });

  it('aws-auth changes', async () => {
    const r =
      await run(`fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name , responseObject.code, @message
    | filter @logStream like /^kube-apiserver-audit/
    | filter objectRef.resource == "configmaps"
    | filter objectRef.name == "aws-auth"
    |filter verb not in ["watch", "list", "get"]
    | sort @timestamp desc`);
    expect(r.fields).toEqual([
      '@timestamp',
      'verb',
      'user.username',
      'objectRef.resource',
      'objectRef.namespace',
      'objectRef.name',
      'responseObject.code',
      '@message',
    ]);
    expect(r.rows).toEqual([
      {
        '@timestamp': byId(8)['@timestamp'],
        verb: 'update',
        'user.username': 'kubernetes-admin',
        'objectRef.resource': 'configmaps',
        'objectRef.namespace': 'kube-system',
        'objectRef.name': 'aws-auth',
        'responseObject.code': 200,
        '@message': byId(8)['@message'],
      },
    ]);
  });

  it('aws-node service account, non-read calls (single = and double spaces)', async () => {
    const r =
      await run(`fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name , responseObject.code, @message
    | filter @logStream like /^kube-apiserver-audit/
    | filter verb not in ["get", "list", "watch"]
    | filter objectRef.resource == "serviceaccounts"
    | filter objectRef.name  = "aws-node"
    | sort @timestamp desc`);
    expect(ids(r)).toEqual([16]);
  });

  it('HPA status, oldest first', async () => {
    const r =
      await run(`fields @timestamp, responseObject.spec.targetCPUUtilizationPercentage, responseObject.status.currentCPUUtilizationPercentage, responseObject.status.desiredReplicas, responseObject.status.currentReplicas
    | filter @logStream like /audit/
    | filter requestURI like '/apis/autoscaling/v1/namespaces/test-namespace/horizontalpodautoscalers/test-hpa/status'
    | sort @timestamp asc`);
    expect(r.rows).toEqual([
      {
        '@timestamp': byId(18)['@timestamp'],
        'responseObject.spec.targetCPUUtilizationPercentage': 50,
        'responseObject.status.currentCPUUtilizationPercentage': 73,
        'responseObject.status.desiredReplicas': 4,
        'responseObject.status.currentReplicas': 3,
      },
    ]);
  });

  it('eviction API', async () => {
    const r = await run(`fields @timestamp, @message
    | filter @logStream like /^kube-apiserver-audit/
    | filter requestURI like '/eviction'
    | sort @timestamp desc`);
    expect(ids(r)).toEqual([19]);
  });

  it('delete pods: the literal {namespace} template matches nothing, as in Logs Insights', async () => {
    const r = await run(`# Delete pods
fields @logStream, @timestamp, requestURI, @message
| filter @logStream like /^kube-apiserver-audit/
| filter requestURI like "/api/v1/namespaces/{namespace}/pods/{name}"
| filter verb == "delete"
| sort @timestamp desc`);
    expect(r.rows).toEqual([]);
  });

  it('delete nodes by URI prefix', async () => {
    const r = await run(`  fields @logStream, @timestamp, requestURI, @message
  | filter @logStream like /^kube-apiserver-audit/
  | filter requestURI like "/api/v1/node"
  | filter verb == "delete"
  | sort @timestamp desc`);
    expect(r.rows.map((x) => x.requestURI)).toEqual([
      '/api/v1/nodes/ip-10-20-10-35.ap-northeast-2.compute.internal',
    ]);
  });

  it('persistentvolumeclaim by name', async () => {
    const r =
      await run(`fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name , responseObject.code, @message
  | filter @logStream like /^kube-apiserver-audit/
  | filter objectRef.resource == "persistentvolumeclaims"
  | filter objectRef.name  = "efs-provisioner-test"
  | sort @timestamp desc`);
    expect(r.rows.map((x) => [x['user.username'], x['responseObject.code']])).toEqual([
      ['system:serviceaccount:kube-system:persistent-volume-binder', null],
    ]);
  });

  it('vpc-resource-controller in default', async () => {
    const r =
      await run(`fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name , responseObject.code, @message
| filter @logStream like /^kube-apiserver-audit/
| filter objectRef.namespace == "default"
| filter verb not in ["list", "watch", "get"]
| filter user.username like "vpc-resource-controller"
| sort @timestamp desc`);
    expect(r.rows.map((x) => x['objectRef.name'])).toEqual(['eni-1']);
  });

  it('watch of replicasets by the controller manager', async () => {
    const r =
      await run(`fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name , responseObject.code, @message
| filter @logStream like /^kube-apiserver-audit/
| filter user.username like "kube-controller"
| filter objectRef.resource == "replicasets"
| filter verb == "watch"
| sort @timestamp desc`);
    expect(r.rows.map((x) => [x.verb, x['user.username']])).toEqual([
      ['watch', 'system:kube-controller-manager'],
    ]);
  });

  it('deployment-controller: a commented-out filter is ignored', async () => {
    const r =
      await run(`fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name , responseObject.code, @message
| filter @logStream like /^kube-apiserver-audit/
# | filter user.username like "kube-controller"
| filter objectRef.resource == "replicasets"
| filter verb == "create"
| sort @timestamp desc`);
    expect(r.rows.map((x) => x['user.username'])).toEqual([
      'system:serviceaccount:kube-system:deployment-controller',
    ]);
  });

  it('replicaset-controller creating pods', async () => {
    const r =
      await run(`fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name , responseObject.code, @message
  | filter @logStream like /^kube-apiserver-audit/
  | filter verb == "create"
  | filter userAgent  like "replicaset-controller"
  | sort @timestamp desc`);
    expect(r.rows.map((x) => [x['objectRef.resource'], x['objectRef.name']])).toEqual([
      ['pods', 'nginx-5d5f-abcde'],
    ]);
  });

  it('targetgroupbindings outside kubernetes-dashboard', async () => {
    const r = await run(`fields @timestamp, @message
  | filter @logStream like /^kube-apiserver-audit/
  | filter verb not in ["get", "list", "watch"]
  | filter objectRef.namespace != "kubernetes-dashboard"
  | filter objectRef.resource == "targetgroupbindings"
  | sort @timestamp desc`);
    expect(ids(r)).toEqual([26]);
  });
});

describe('seed: ECS application logs', () => {
  it('task id by substring', async () => {
    const r = await run(`fields @logStream, @timestamp, @message
  | filter @logStream like "ef7512c63ef2498880ecf78fd8f9ed11"
  | sort @timestamp desc`);
    expect(ids(r)).toEqual([29, 28]);
  });

  it('task id by regex with escaped slashes', async () => {
    const r = await run(`fields @logStream, @timestamp, @message
  | filter @logStream like /ecs\\/awssdk-iam-dev\\/ef7512c63ef2498880ecf78fd8f9ed11/
  | sort @timestamp desc`);
    expect(ids(r)).toEqual([29]);
  });

  it('container name prefix', async () => {
    const r = await run(`fields @logStream, @timestamp, @message
  | filter @logStream like /^ecs\\/nginx*/
  | sort @timestamp desc`);
    expect(ids(r)).toEqual([28]);
  });
});

describe('seed: push-down for readers', () => {
  it('every seed filter before the sort is pushed down, the query reads only what it shows and filters', () => {
    const q =
      compileQuery(`fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name , responseObject.code, @message
    | filter @logStream like /^kube-apiserver-audit/
    | filter objectRef.resource == "configmaps"
    | filter objectRef.name == "aws-auth"
    |filter verb not in ["watch", "list", "get"]
    | sort @timestamp desc`);
    expect(q.pushdownFilters.length).toBe(4);
    expect(q.aggregates).toBe(false);
    expect([...(q.referencedFields as Set<string>)].sort()).toEqual(
      [
        '@timestamp',
        'verb',
        'user.username',
        'objectRef.resource',
        'objectRef.namespace',
        'objectRef.name',
        'responseObject.code',
        '@message',
        '@logStream',
      ].sort(),
    );
  });
});
