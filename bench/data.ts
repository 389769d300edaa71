/**
 * Deterministic generator of realistic CloudWatch Logs subscription payloads (the gzip JSON that
 * Kinesis/Firehose carry) for benchmarks and tests: EKS control-plane streams (audit JSON, klog
 * lines from apiserver/controller-manager/scheduler, authenticator), Lambda (platform lines + JSON
 * app logs), ECS awslogs and generic groups. Same seed → same bytes, so runs are comparable.
 */
import { EKS_COMPONENTS, type EksComponent } from '../src/aws/classify.js';
import { controlMessage, encodeCloudWatchPayload } from '../src/aws/cloudwatch-payload.js';

/** The project's one PRNG (mulberry32), under the name benches and tests import from here. */
export { mulberry32 as rng } from '../src/core/prng.js';

/** The EKS control-plane components logferry classifies (src/aws/classify.ts), then the other kinds. */
export type StreamKind = EksComponent | 'lambda' | 'ecs' | 'generic';

export const EKS_KINDS: StreamKind[] = [...EKS_COMPONENTS];
export const ALL_KINDS: StreamKind[] = [...EKS_KINDS, 'lambda', 'ecs', 'generic'];

export interface LogEvent {
  id: string;
  timestamp: number;
  message: string;
}

export interface StreamSpec {
  owner: string;
  logGroup: string;
  logStream: string;
}

const hex = (r: () => number, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(r() * 16)];
  return s;
};
const pick = <T>(r: () => number, a: readonly T[]): T => a[Math.floor(r() * a.length)];

export function streamFor(kind: StreamKind, r: () => number, cluster = 'prod'): StreamSpec {
  const owner = '123456789012';
  switch (kind) {
    case 'lambda':
      return { owner, logGroup: '/aws/lambda/orders-api', logStream: `2026/11/22/[$LATEST]${hex(r, 32)}` };
    case 'ecs':
      return { owner, logGroup: '/ecs/checkout', logStream: `web/app/${hex(r, 32)}` };
    case 'generic':
      return { owner, logGroup: '/custom/batch-jobs', logStream: `worker-${Math.floor(r() * 50)}` };
    default:
      return { owner, logGroup: `/aws/eks/${cluster}/cluster`, logStream: `${kind}-${hex(r, 32)}` };
  }
}

const VERBS = ['get', 'list', 'watch', 'update', 'patch', 'create', 'delete'];
const RESOURCES = ['pods', 'deployments', 'configmaps', 'secrets', 'leases', 'nodes', 'events', 'services'];
const NAMESPACES = ['default', 'kube-system', 'payments', 'checkout', 'monitoring'];
const USERS = [
  'system:serviceaccount:kube-system:coredns',
  'kubernetes-admin',
  'system:node:ip-10-0-1-23.ec2.internal',
  'eks:pod-identity',
];

function klog(r: () => number, ts: number, file: string, text: string): string {
  const d = new Date(ts);
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(d.getUTCDate()).padStart(2, '0');
  const time = d.toISOString().slice(11, 23);
  const sev = pick(r, ['I', 'I', 'I', 'W', 'E']);
  return `${sev}${mm}${dd} ${time}000       ${10 + Math.floor(r() * 90)} ${file}:${Math.floor(r() * 900) + 10}] ${text}`;
}

export function message(kind: StreamKind, r: () => number, ts: number): string {
  const ns = pick(r, NAMESPACES);
  const res = pick(r, RESOURCES);
  const verb = pick(r, VERBS);
  switch (kind) {
    case 'kube-apiserver-audit':
      return JSON.stringify({
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'Metadata',
        auditID: `${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}`,
        stage: 'ResponseComplete',
        requestURI: `/api/v1/namespaces/${ns}/${res}?limit=500&resourceVersion=${Math.floor(r() * 1e8)}`,
        verb,
        user: {
          username: pick(r, USERS),
          uid: hex(r, 32),
          groups: ['system:authenticated', 'system:masters'],
        },
        sourceIPs: [`10.0.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`],
        userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46',
        objectRef: { resource: res, namespace: ns, name: `${res}-${hex(r, 6)}`, apiVersion: 'v1' },
        responseStatus: { metadata: {}, code: pick(r, [200, 200, 200, 201, 404, 409]) },
        requestReceivedTimestamp: new Date(ts - 3).toISOString(),
        stageTimestamp: new Date(ts).toISOString(),
        annotations: {
          'authorization.k8s.io/decision': 'allow',
          'authorization.k8s.io/reason': `RBAC: allowed by ClusterRoleBinding "system:${res}" of ClusterRole "edit"`,
        },
      });
    case 'kube-apiserver':
      return klog(
        r,
        ts,
        'httplog.go',
        `"HTTP" verb="${verb.toUpperCase()}" URI="/api/v1/namespaces/${ns}/${res}" latency="${(r() * 40).toFixed(3)}ms" userAgent="kube-controller-manager/v1.31.2" audit-ID="${hex(r, 8)}" srcIP="10.0.1.${Math.floor(r() * 255)}:443" resp=200`,
      );
    case 'authenticator':
      return `time="${new Date(ts).toISOString()}" level=info msg="access granted" arn="arn:aws:iam::123456789012:role/eks-node-${hex(r, 6)}" client="127.0.0.1:${30000 + Math.floor(r() * 9999)}" groups="[system:bootstrappers system:nodes]" method=POST path=/authenticate sts=sts.us-east-1.amazonaws.com uid="aws-iam-authenticator:123456789012:${hex(r, 20).toUpperCase()}" username="system:node:ip-10-0-${Math.floor(r() * 255)}-${Math.floor(r() * 255)}.ec2.internal"`;
    case 'kube-controller-manager':
      return klog(
        r,
        ts,
        'replica_set.go',
        `"Finished syncing" kind="ReplicaSet" key="${ns}/${res}-${hex(r, 9)}" duration="${(r() * 9).toFixed(6)}ms"`,
      );
    case 'cloud-controller-manager':
      return klog(
        r,
        ts,
        'node_controller.go',
        `Successfully initialized node ip-10-0-${Math.floor(r() * 255)}-${Math.floor(r() * 255)}.ec2.internal with cloud provider, providerID="aws:///us-east-1a/i-${hex(r, 17)}"`,
      );
    case 'kube-scheduler':
      return klog(
        r,
        ts,
        'schedule_one.go',
        `"Successfully bound pod to node" pod="${ns}/${res}-${hex(r, 5)}" node="ip-10-0-${Math.floor(r() * 255)}-${Math.floor(r() * 255)}.ec2.internal" evaluatedNodes=${Math.floor(r() * 40) + 1} feasibleNodes=${Math.floor(r() * 10) + 1}`,
      );
    case 'lambda': {
      const p = r();
      if (p < 0.1)
        return `START RequestId: ${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)} Version: $LATEST\n`;
      if (p < 0.2)
        return `REPORT RequestId: ${hex(r, 8)}-${hex(r, 4)} Duration: ${(r() * 300).toFixed(2)} ms Billed Duration: ${Math.floor(r() * 300)} ms Memory Size: 512 MB Max Memory Used: ${Math.floor(r() * 200) + 60} MB\n`;
      return `${new Date(ts).toISOString()}\t${hex(r, 8)}-${hex(r, 4)}\tINFO\t${JSON.stringify({ level: 'info', msg: 'order processed', orderId: hex(r, 12), amountCents: Math.floor(r() * 100000), items: Math.floor(r() * 9) + 1 })}\n`;
    }
    case 'ecs':
      return `${new Date(ts).toISOString()} INFO [http-nio-8080-exec-${Math.floor(r() * 20)}] c.e.checkout.CartController - GET /cart/${hex(r, 10)} status=200 took=${Math.floor(r() * 120)}ms`;
    default:
      return `job=${pick(r, ['resize', 'export', 'reindex'])} step=${Math.floor(r() * 10)} status=${pick(r, ['ok', 'ok', 'retry', 'failed'])} items=${Math.floor(r() * 5000)}`;
  }
}

/** `n` events of one stream, timestamps rising from `startMs`, ids like CloudWatch's (56 digits). */
export function events(
  kind: StreamKind,
  n: number,
  r: () => number,
  startMs = 1_763_800_000_000,
): LogEvent[] {
  const out: LogEvent[] = new Array(n);
  let ts = startMs;
  // CloudWatch ids of one batch share a long prefix and count up (they encode time and sequence).
  let base = '';
  for (let k = 0; k < 32; k++) base += Math.floor(r() * 10);
  let seq = Math.floor(r() * 1e9);
  for (let i = 0; i < n; i++) {
    ts += Math.floor(r() * 50);
    seq += 1 + Math.floor(r() * 1000);
    out[i] = { id: `${base}${String(seq).padStart(24, '0')}`, timestamp: ts, message: message(kind, r, ts) };
  }
  return out;
}

export interface PayloadOptions {
  messageType?: string;
  extra?: Record<string, unknown>;
  subscriptionFilters?: string[];
}

/** The JSON document CloudWatch Logs sends, gzipped. */
export function cwPayload(stream: StreamSpec, evs: readonly LogEvent[], opts: PayloadOptions = {}): Buffer {
  return encodeCloudWatchPayload({
    messageType: opts.messageType ?? 'DATA_MESSAGE',
    owner: stream.owner,
    logGroup: stream.logGroup,
    logStream: stream.logStream,
    subscriptionFilters: opts.subscriptionFilters ?? ['to-firehose'],
    logEvents: evs,
    ...opts.extra,
  });
}

export function controlPayload(): Buffer {
  return encodeCloudWatchPayload(controlMessage(1_763_800_000_000, 'Firehose'));
}

/** Events of one stream whose gzip payload is about `targetGzipBytes` (grows until it gets there). */
export function payloadOfSize(
  kind: StreamKind,
  targetGzipBytes: number,
  r: () => number,
): { stream: StreamSpec; events: LogEvent[]; gzip: Buffer } {
  const stream = streamFor(kind, r);
  const probe = events(kind, 200, r);
  const probeGz = cwPayload(stream, probe).length;
  const n = Math.max(1, Math.round((targetGzipBytes / probeGz) * 200));
  const evs = n <= 200 ? probe.slice(0, n) : probe.concat(events(kind, n - 200, r, probe[199].timestamp));
  return { stream, events: evs, gzip: cwPayload(stream, evs) };
}

export interface FirehoseEventRecord {
  recordId: string;
  approximateArrivalTimestamp: number;
  data: string;
}

export function firehoseEvent(
  datas: readonly (Buffer | string)[],
  opts: { streamArn?: string; invocationId?: string; region?: string } = {},
): { invocationId: string; deliveryStreamArn: string; region: string; records: FirehoseEventRecord[] } {
  return {
    invocationId: opts.invocationId ?? 'inv-0001',
    deliveryStreamArn: opts.streamArn ?? 'arn:aws:firehose:us-east-1:123456789012:deliverystream/logs',
    region: opts.region ?? 'us-east-1',
    records: datas.map((d, i) => ({
      recordId: `49546986683135544286507457936321625675700192471156785154${String(i).padStart(4, '0')}`,
      approximateArrivalTimestamp: 1_763_800_000_000 + i,
      data: typeof d === 'string' ? d : d.toString('base64'),
    })),
  };
}
