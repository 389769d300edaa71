/**
 * The `demo` source (like Vector's `demo_logs`): realistic CloudWatch Logs subscription payloads,
 * encoded exactly as CloudWatch sends them (gzip JSON `DATA_MESSAGE`s, plus the occasional
 * `CONTROL_MESSAGE`) and decoded back through the real decode path (`decodeGzipPayload` +
 * `toRecords`), so a demo run exercises what production runs. It covers the EKS control plane
 * (`/aws/eks/<cluster>/cluster`: kube-apiserver-audit JSON events — reads, aws-auth patches,
 * evictions, pod/node deletes, forbidden requests —, kube-apiserver / controller-manager / scheduler
 * klog lines, authenticator key=value lines incl. "access denied"), Lambda (`/aws/lambda/<fn>`,
 * START/END/REPORT platform lines and JSON or tab-separated app lines) and ECS (`ecs/<container>/<task>`).
 * Output is deterministic for a seed and a start time; event times spread over a recent window.
 *
 * Delivery semantics: there is no upstream to redrive, so `ack` only counts outcomes. Limits: with
 * `follow` it runs until the signal aborts; `rate` caps events per second (0 = as fast as possible).
 * The generator (`DemoGenerator`) is exported for benches and tests.
 */
import { z } from 'zod';
import {
  type ControlMessage,
  controlMessage,
  type DataMessage,
  decodeGzipPayload,
  encodeCloudWatchPayload,
  toRecords,
} from '../aws/cloudwatch-payload.js';
import type { ComponentSpec } from '../core/component.js';
import type { Outcome, OutcomeKind } from '../core/outcome.js';
import { mulberry32 } from '../core/prng.js';
import { sleep } from '../core/retry.js';
import type { Source, SourceEnvelope } from '../core/source.js';

export const demoConfig = z.strictObject({
  type: z.literal('demo'),
  name: z.string().min(1).optional(),
  /** Payloads to emit (ignored with `follow`). 400 × 50 = 20,000 events by default. */
  envelopes: z.number().int().min(0).default(400),
  /** Log events per DATA_MESSAGE. CloudWatch batches vary; a fixed count keeps totals predictable. */
  eventsPerEnvelope: z.number().int().min(1).max(10_000).default(50),
  seed: z.number().int().default(1),
  /** Keep emitting until interrupted. */
  follow: z.boolean().default(false),
  /** Most events per second (0 = unbounded). */
  rate: z.number().min(0).default(0),
  /** Event times spread over this many minutes before the start (bounded runs). */
  windowMinutes: z
    .number()
    .positive()
    .max(7 * 24 * 60)
    .default(60),
  /** One envelope in N is a CONTROL_MESSAGE (0 = never). */
  controlEvery: z.number().int().min(0).default(200),
  /** One envelope in N is corrupted in transit (truncated gzip) to exercise the dead-letter path (0 = never). */
  corruptEvery: z.number().int().min(0).default(0),
  /** AWS account id used as the payload owner. */
  owner: z
    .string()
    .regex(/^\d{12}$/, 'owner must be a 12-digit AWS account id')
    .default('123456789012'),
  /** EKS cluster name used in log group names. */
  cluster: z.string().min(1).default('demo-prod'),
});
export type DemoConfig = z.infer<typeof demoConfig>;

export type DemoKind =
  | 'kube-apiserver-audit'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'authenticator'
  | 'lambda'
  | 'ecs';

/** Share of envelopes per stream kind (audit dominates real EKS control-plane volume). */
const KIND_WEIGHTS: [DemoKind, number][] = [
  ['kube-apiserver-audit', 34],
  ['kube-apiserver', 7],
  ['kube-controller-manager', 7],
  ['kube-scheduler', 5],
  ['authenticator', 9],
  ['lambda', 22],
  ['ecs', 16],
];

export interface DemoGeneratorOptions {
  seed?: number;
  eventsPerEnvelope?: number;
  /** Epoch ms the window ends at (default: now). */
  now?: number;
  windowMinutes?: number;
  /** Envelopes the window is spread over (bounded runs); 0/undefined: events are stamped near `now`. */
  totalEnvelopes?: number;
  controlEvery?: number;
  corruptEvery?: number;
  owner?: string;
  cluster?: string;
}

export interface DemoPayload {
  /** 0-based envelope number. */
  seq: number;
  kind: DemoKind | 'control';
  /** Exactly what CloudWatch would put on the wire (gzip JSON), possibly corrupted on purpose. */
  gzip: Buffer;
  corrupted: boolean;
  events: number;
}

const NAMESPACES = ['default', 'kube-system', 'payments', 'checkout', 'monitoring', 'ingress-nginx'];
const APPS = [
  'web',
  'api',
  'worker',
  'cart',
  'ledger',
  'coredns',
  'aws-load-balancer-controller',
  'metrics-server',
];
const CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'node-controller',
  'endpointslice-controller',
  'job-controller',
  'statefulset-controller',
  'disruption-controller',
  'namespace-controller',
];
const FUNCTIONS = ['orders-api', 'image-resizer', 'billing-webhook'];
const CONTAINERS = ['nginx', 'checkout', 'payments-worker'];
const USERS = ['alice', 'bob', 'carol', 'deploy-bot'];

/**
 * Deterministic generator of CloudWatch subscription payloads. `nextMessage()` gives the JSON
 * message; `next()` the gzip bytes CloudWatch would send. Cheap enough for benches (string
 * templates, no per-event JSON round trips beyond audit events, which are JSON by nature).
 */
export class DemoGenerator {
  private readonly rnd: () => number;
  private readonly per: number;
  private readonly end: number;
  private readonly windowMs: number;
  private readonly total: number;
  private readonly controlEvery: number;
  private readonly corruptEvery: number;
  private readonly owner: string;
  private readonly cluster: string;
  private readonly nodes: string[];
  private readonly eksStreams: Record<string, string>;
  private readonly lambdaStreams: string[][];
  private readonly ecsTasks: string[];
  private readonly fixedClock: boolean;
  private seq = 0;
  private eventSeq = 0;
  private lastTs = 0;

  constructor(opts: DemoGeneratorOptions = {}) {
    this.rnd = mulberry32(opts.seed ?? 1);
    this.per = opts.eventsPerEnvelope ?? 50;
    this.end = opts.now ?? Date.now();
    this.fixedClock = opts.now !== undefined;
    this.windowMs = (opts.windowMinutes ?? 60) * 60_000;
    this.total = opts.totalEnvelopes ?? 0;
    this.controlEvery = opts.controlEvery ?? 200;
    this.corruptEvery = opts.corruptEvery ?? 0;
    this.owner = opts.owner ?? '123456789012';
    this.cluster = opts.cluster ?? 'demo-prod';
    this.nodes = Array.from(
      { length: 4 },
      () => `ip-10-0-${this.int(1, 3)}-${this.int(10, 250)}.ec2.internal`,
    );
    this.eksStreams = {
      'kube-apiserver-audit': `kube-apiserver-audit-${this.hex(32)}`,
      'kube-apiserver': `kube-apiserver-${this.hex(32)}`,
      'kube-controller-manager': `kube-controller-manager-${this.hex(32)}`,
      'kube-scheduler': `kube-scheduler-${this.hex(32)}`,
      authenticator: `authenticator-${this.hex(32)}`,
    };
    this.lambdaStreams = FUNCTIONS.map(() => [this.hex(32), this.hex(32)]);
    this.ecsTasks = CONTAINERS.map(() => this.hex(32));
  }

  /** The gzip payload of the next envelope. */
  next(): DemoPayload {
    const seq = this.seq;
    const msg = this.nextMessage();
    const kind: DemoPayload['kind'] = msg.messageType === 'CONTROL_MESSAGE' ? 'control' : this.kindOf(msg);
    let gzip = encodeCloudWatchPayload(msg);
    const corrupted =
      this.corruptEvery > 0 && seq % this.corruptEvery === this.corruptEvery - 1 && kind !== 'control';
    // A payload cut short in transit: the decoder must refuse it with ENVELOPE_GZIP_TRUNCATED.
    if (corrupted) gzip = gzip.subarray(0, Math.max(12, gzip.length >> 1));
    return { seq, kind, gzip, corrupted, events: msg.logEvents?.length ?? 0 };
  }

  /** The next subscription message (DATA_MESSAGE or, every `controlEvery`, CONTROL_MESSAGE). */
  nextMessage(): DataMessage | ControlMessage {
    const seq = this.seq++;
    const base = this.baseTime(seq);
    if (this.controlEvery > 0 && seq % this.controlEvery === this.controlEvery - 1) {
      return controlMessage(base, 'Firehose');
    }
    const kind = this.pickKind();
    let ts = this.total > 0 ? Math.max(base, this.lastTs) : base;
    const events: DataMessage['logEvents'] = [];
    const tick = () => {
      ts += this.int(0, 40);
      return ts;
    };
    let logGroup: string;
    let logStream: string;
    if (kind === 'lambda') {
      const f = this.int(0, FUNCTIONS.length - 1);
      const fn = FUNCTIONS[f];
      logGroup = `/aws/lambda/${fn}`;
      const d = new Date(ts);
      logStream = `${d.getUTCFullYear()}/${pad2(d.getUTCMonth() + 1)}/${pad2(d.getUTCDate())}/[$LATEST]${this.lambdaStreams[f][this.int(0, 1)]}`;
      while (events.length < this.per) this.lambdaInvocation(fn, tick, events);
      events.length = this.per;
    } else if (kind === 'ecs') {
      const c = this.int(0, CONTAINERS.length - 1);
      logGroup = c === 0 ? '/ecs/storefront' : `/aws/ecs/containerinsights/${this.cluster}-ecs/application`;
      logStream = `ecs/${CONTAINERS[c]}/${this.ecsTasks[c]}`;
      for (let i = 0; i < this.per; i++) events.push(this.event(tick(), this.ecsLine(CONTAINERS[c], ts)));
    } else {
      logGroup = `/aws/eks/${this.cluster}/cluster`;
      logStream = this.eksStreams[kind];
      for (let i = 0; i < this.per; i++) events.push(this.event(tick(), this.eksLine(kind, ts)));
    }
    this.lastTs = ts;
    return {
      messageType: 'DATA_MESSAGE',
      owner: this.owner,
      logGroup,
      logStream,
      subscriptionFilters: ['logferry-demo'],
      logEvents: events,
    };
  }

  private kindOf(msg: DataMessage): DemoKind {
    if (msg.logGroup.startsWith('/aws/lambda/')) return 'lambda';
    if (msg.logStream.startsWith('ecs/')) return 'ecs';
    for (const [k] of KIND_WEIGHTS) if (msg.logStream.startsWith(`${k}-`)) return k;
    return 'kube-apiserver';
  }

  /** Bounded runs spread envelopes evenly over the window; unbounded ones stamp near real time. */
  private baseTime(seq: number): number {
    if (this.total > 0) return Math.floor(this.end - this.windowMs + (seq / this.total) * this.windowMs);
    // Unbounded with a fixed start: synthetic, deterministic clock (benches); otherwise real time (follow).
    return this.fixedClock ? this.end + seq * 100 : Date.now();
  }

  private event(timestamp: number, message: string): DataMessage['logEvents'][number] {
    // CloudWatch event ids are 56-digit decimal strings, unique per log group; derive one from the
    // time and a counter so they are unique and stable for a seed.
    const n = this.eventSeq++;
    const id = `${String(timestamp).padStart(16, '0')}${String(n).padStart(20, '0')}${String(Math.floor(this.rnd() * 1e10)).padStart(20, '0')}`;
    return { id, timestamp, message };
  }

  private pickKind(): DemoKind {
    let r = this.rnd() * 100;
    for (const [k, w] of KIND_WEIGHTS) {
      r -= w;
      if (r < 0) return k;
    }
    return 'ecs';
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.rnd() * (max - min + 1));
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rnd() * list.length)];
  }

  private hex(n: number): string {
    let s = '';
    while (s.length < n)
      s += Math.floor(this.rnd() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    return s.slice(0, n);
  }

  private uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  }

  private pod(app: string): string {
    return `${app}-${this.hex(10).replace(/[0-9]/g, (d) => 'bcdfghjklm'[Number(d)])}-${this.hex(5)}`;
  }

  private eksLine(kind: Exclude<DemoKind, 'lambda' | 'ecs'>, ts: number): string {
    switch (kind) {
      case 'kube-apiserver-audit':
        return this.auditEvent(ts);
      case 'kube-apiserver':
        return this.apiserverLine(ts);
      case 'kube-controller-manager':
        return this.kcmLine(ts);
      case 'kube-scheduler':
        return this.schedulerLine(ts);
      case 'authenticator':
        return this.authenticatorLine(ts);
    }
  }

  private klogPrefix(sev: 'I' | 'W' | 'E', ts: number, pid: number, file: string): string {
    const d = new Date(ts);
    const us = String(d.getUTCMilliseconds() * 1000 + this.int(0, 999)).padStart(6, '0');
    return `${sev}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${us} ${String(pid).padStart(7, ' ')} ${file}]`;
  }

  private auditEvent(ts: number): string {
    const r = this.rnd();
    const node = this.pick(this.nodes);
    const ns = this.pick(NAMESPACES);
    const app = this.pick(APPS);
    const iamUser = this.pick(USERS);
    const human = {
      username: `arn:aws:sts::${this.owner}:assumed-role/EKSAdmin/${iamUser}`,
      uid: `aws-iam-authenticator:${this.owner}:AROA${this.hex(17).toUpperCase()}`,
      groups: ['system:masters', 'system:authenticated'],
      extra: {
        accessKeyId: [`ASIA${this.hex(16).toUpperCase()}`],
        arn: [`arn:aws:sts::${this.owner}:assumed-role/EKSAdmin/${iamUser}`],
        canonicalArn: [`arn:aws:iam::${this.owner}:role/EKSAdmin`],
        principalId: [`AROA${this.hex(17).toUpperCase()}`],
        sessionName: [iamUser],
      },
    };
    const sa = (name: string) => ({
      username: `system:serviceaccount:kube-system:${name}`,
      uid: this.uuid(),
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
    });
    const kcmAgent = (c: string) =>
      `kube-controller-manager/v1.30.4 (linux/amd64) kubernetes/a51b3b7/system:serviceaccount:kube-system:${c}`;
    let verb: string;
    let uri: string;
    let user: Record<string, unknown>;
    let agent: string;
    let objectRef: Record<string, unknown>;
    let code = 200;
    let decision = 'allow';
    let extra: Record<string, unknown> = {};
    if (r < 0.3) {
      verb = this.pick(['get', 'list', 'watch']);
      const res = this.pick(['pods', 'configmaps', 'endpoints', 'services', 'secrets']);
      uri =
        verb === 'get'
          ? `/api/v1/namespaces/${ns}/${res}/${app}`
          : `/api/v1/namespaces/${ns}/${res}?limit=500&resourceVersion=0`;
      const c = this.pick(CONTROLLERS);
      user = sa(c);
      agent = kcmAgent(c);
      objectRef = {
        resource: res,
        namespace: ns,
        ...(verb === 'get' ? { name: app } : {}),
        apiVersion: 'v1',
      };
    } else if (r < 0.48) {
      verb = 'update';
      uri = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`;
      user = { username: `system:node:${node}`, groups: ['system:nodes', 'system:authenticated'] };
      agent = 'kubelet/v1.30.4-eks-a737599 (linux/amd64) kubernetes/a51b3b7';
      objectRef = {
        resource: 'leases',
        namespace: 'kube-node-lease',
        name: node,
        apiGroup: 'coordination.k8s.io',
        apiVersion: 'v1',
      };
    } else if (r < 0.58) {
      verb = 'create';
      const pod = this.pod(app);
      uri = `/api/v1/namespaces/${ns}/pods`;
      user = sa('replicaset-controller');
      agent = kcmAgent('replicaset-controller');
      objectRef = { resource: 'pods', namespace: ns, name: pod, apiVersion: 'v1' };
      code = 201;
    } else if (r < 0.65) {
      verb = 'patch';
      uri = '/api/v1/namespaces/kube-system/configmaps/aws-auth';
      user = human;
      agent = 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350';
      objectRef = { resource: 'configmaps', namespace: 'kube-system', name: 'aws-auth', apiVersion: 'v1' };
      extra = {
        requestObject: {
          data: {
            mapRoles: `- rolearn: arn:aws:iam::${this.owner}:role/eks-node-role\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n`,
          },
        },
      };
    } else if (r < 0.72) {
      verb = 'create';
      const pod = this.pod(app);
      uri = `/api/v1/namespaces/${ns}/pods/${pod}/eviction`;
      user = {
        username: 'system:serviceaccount:kube-system:cluster-autoscaler',
        groups: ['system:serviceaccounts', 'system:authenticated'],
      };
      agent = 'cluster-autoscaler/v1.30.2';
      objectRef = { resource: 'pods', namespace: ns, name: pod, apiVersion: 'v1', subresource: 'eviction' };
      code = this.rnd() < 0.2 ? 429 : 201;
    } else if (r < 0.8) {
      verb = 'delete';
      const pod = this.pod(app);
      uri = `/api/v1/namespaces/${ns}/pods/${pod}`;
      user = human;
      agent = 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350';
      objectRef = { resource: 'pods', namespace: ns, name: pod, apiVersion: 'v1' };
    } else if (r < 0.83) {
      verb = 'delete';
      uri = `/api/v1/nodes/${node}`;
      user = human;
      agent = 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350';
      objectRef = { resource: 'nodes', name: node, apiVersion: 'v1' };
    } else if (r < 0.92) {
      verb = this.pick(['get', 'list', 'create']);
      const res = this.pick(['secrets', 'clusterrolebindings', 'configmaps']);
      uri =
        res === 'clusterrolebindings'
          ? '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings'
          : `/api/v1/namespaces/kube-system/${res}`;
      user = {
        username: `system:serviceaccount:${ns}:default`,
        uid: this.uuid(),
        groups: ['system:serviceaccounts', 'system:authenticated'],
      };
      agent = 'python-requests/2.32.3';
      objectRef = {
        resource: res,
        ...(res === 'clusterrolebindings'
          ? { apiGroup: 'rbac.authorization.k8s.io' }
          : { namespace: 'kube-system' }),
        apiVersion: 'v1',
      };
      code = 403;
      decision = 'forbid';
    } else {
      verb = 'update';
      uri = `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/${app}/status`;
      user = sa('horizontal-pod-autoscaler');
      agent = kcmAgent('horizontal-pod-autoscaler');
      objectRef = {
        resource: 'horizontalpodautoscalers',
        namespace: ns,
        name: app,
        apiGroup: 'autoscaling',
        apiVersion: 'v2',
        subresource: 'status',
      };
    }
    const received = new Date(ts - this.int(1, 30)).toISOString().replace('Z', '000Z');
    const responseStatus: Record<string, unknown> = { metadata: {}, code };
    if (code === 403) {
      responseStatus.status = 'Failure';
      responseStatus.message = `${objectRef.resource} is forbidden: User "${user.username}" cannot ${verb} resource "${objectRef.resource}" in API group "" in the namespace "kube-system"`;
      responseStatus.reason = 'Forbidden';
    } else if (code === 429) {
      responseStatus.status = 'Failure';
      responseStatus.message = "Cannot evict pod as it would violate the pod's disruption budget.";
      responseStatus.reason = 'TooManyRequests';
    }
    return JSON.stringify({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: extra.requestObject ? 'RequestResponse' : 'Metadata',
      auditID: this.uuid(),
      stage: 'ResponseComplete',
      requestURI: uri,
      verb,
      user,
      sourceIPs: [`10.0.${this.int(1, 3)}.${this.int(2, 254)}`],
      userAgent: agent,
      objectRef,
      responseStatus,
      ...extra,
      requestReceivedTimestamp: received,
      stageTimestamp: new Date(ts).toISOString().replace('Z', '000Z'),
      annotations: {
        'authorization.k8s.io/decision': decision,
        'authorization.k8s.io/reason':
          decision === 'allow'
            ? `RBAC: allowed by ClusterRoleBinding "system:${String(objectRef.resource)}" of ClusterRole "system:controller" to ServiceAccount`
            : '',
      },
    });
  }

  private apiserverLine(ts: number): string {
    const r = this.rnd();
    if (r < 0.45)
      return `${this.klogPrefix('I', ts, 10, 'controller.go:615')} quota admission added evaluator for: ${this.pick(['leases.coordination.k8s.io', 'endpoints', 'replicasets.apps', 'events.events.k8s.io'])}`;
    if (r < 0.7)
      return `${this.klogPrefix('I', ts, 10, 'alloc.go:330')} "allocated clusterIPs" service="${this.pick(NAMESPACES)}/${this.pick(APPS)}" clusterIPs={"IPv4":"172.20.${this.int(0, 255)}.${this.int(1, 254)}"}`;
    if (r < 0.85)
      return `${this.klogPrefix('W', ts, 10, 'dispatcher.go:205')} Failed calling webhook, failing open vpc.k8s.aws: failed calling webhook "vpc.k8s.aws": context deadline exceeded`;
    return `${this.klogPrefix('E', ts, 10, 'status.go:71')} apiserver received an error that is not an metav1.Status: &errors.errorString{s:"http2: stream closed"}: http2: stream closed`;
  }

  private kcmLine(ts: number): string {
    const r = this.rnd();
    const ns = this.pick(NAMESPACES);
    const app = this.pick(APPS);
    if (r < 0.55) {
      const pod = this.pod(app);
      return `${this.klogPrefix('I', ts, 11, 'event.go:389')} "Event occurred" object="${ns}/${pod.slice(0, pod.lastIndexOf('-'))}" fieldPath="" kind="ReplicaSet" apiVersion="apps/v1" type="Normal" reason="SuccessfulCreate" message="Created pod: ${pod}"`;
    }
    if (r < 0.75)
      return `${this.klogPrefix('I', ts, 11, 'node_lifecycle_controller.go:1026')} "Node is NotReady" node="${this.pick(this.nodes)}"`;
    if (r < 0.9)
      return `${this.klogPrefix('I', ts, 11, 'range_allocator.go:380')} "Set node PodCIDR" node="${this.pick(this.nodes)}" podCIDRs=["10.100.${this.int(0, 255)}.0/24"]`;
    return `${this.klogPrefix('E', ts, 11, 'job_controller.go:602')} syncing job: failed pod(s) detected for job key "${ns}/${app}-backfill-${this.int(28000000, 29000000)}"`;
  }

  private schedulerLine(ts: number): string {
    const ns = this.pick(NAMESPACES);
    const pod = this.pod(this.pick(APPS));
    if (this.rnd() < 0.8) {
      return `${this.klogPrefix('I', ts, 10, 'schedule_one.go:314')} "Successfully bound pod to node" pod="${ns}/${pod}" node="${this.pick(this.nodes)}" evaluatedNodes=4 feasibleNodes=${this.int(1, 4)}`;
    }
    return `${this.klogPrefix('I', ts, 10, 'schedule_one.go:1004')} "Unable to schedule pod; no fit; waiting" pod="${ns}/${pod}" err="0/4 nodes are available: 4 Insufficient cpu. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod."`;
  }

  private authenticatorLine(ts: number): string {
    const time = new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const client = `127.0.0.1:${this.int(30000, 60000)}`;
    const r = this.rnd();
    if (r < 0.7) {
      const node = this.pick(this.nodes);
      return `time="${time}" level=info msg="access granted" arn="arn:aws:iam::${this.owner}:role/eks-node-role" client="${client}" groups="[system:bootstrappers system:nodes]" method=POST path=/authenticate uid="aws-iam-authenticator:${this.owner}:AROA${this.hex(17).toUpperCase()}" username="system:node:${node}"`;
    }
    if (r < 0.85) {
      return `time="${time}" level=warning msg="access denied" arn="arn:aws:iam::${this.owner}:user/ci-${this.pick(USERS)}" client="${client}" error="ARN is not mapped" method=POST path=/authenticate`;
    }
    if (r < 0.95) {
      return `time="${time}" level=info msg="STS response" accesskeyid=ASIA${this.hex(16).toUpperCase()} accountid=${this.owner} arn="arn:aws:sts::${this.owner}:assumed-role/EKSAdmin/${this.pick(USERS)}" client="${client}" method=POST path=/authenticate session=${this.pick(USERS)} userid=AROA${this.hex(17).toUpperCase()}`;
    }
    return `time="${time}" level=warning msg="access denied" client="${client}" error="input token was not properly formatted: X-Amz-Date parameter is expired (15 minute expiration) 2026-11-22 10:02:11 +0000 UTC" method=POST path=/authenticate`;
  }

  /** START, a few app lines, END, REPORT: one invocation (the last may be cut by the batch, as in real life). */
  private lambdaInvocation(fn: string, tick: () => number, out: DataMessage['logEvents']): void {
    const req = this.uuid();
    const cold = this.rnd() < 0.1;
    out.push(this.event(tick(), `START RequestId: ${req} Version: $LATEST\n`));
    const lines = this.int(1, 4);
    let t = 0;
    for (let i = 0; i < lines; i++) {
      t = tick();
      const iso = new Date(t).toISOString();
      const r = this.rnd();
      if (r < 0.55) {
        out.push(
          this.event(
            t,
            JSON.stringify({
              timestamp: iso,
              level: r < 0.5 ? 'INFO' : 'WARN',
              requestId: req,
              service: fn,
              message:
                r < 0.5
                  ? this.pick(['order accepted', 'resized image', 'webhook verified', 'cache miss'])
                  : 'slow downstream call',
              durationMs: this.int(2, 900),
              ...(fn === 'orders-api'
                ? { orderId: `ord_${this.hex(12)}`, customer: `cus_${this.hex(8)}` }
                : {}),
            }) + '\n',
          ),
        );
      } else if (r < 0.85) {
        out.push(
          this.event(
            t,
            `${iso}\t${req}\tINFO\tprocessed ${this.int(1, 50)} items in ${this.int(3, 400)} ms\n`,
          ),
        );
      } else if (r < 0.95) {
        out.push(
          this.event(
            t,
            `${iso}\t${req}\tERROR\tInvoke Error \t{"errorType":"TimeoutError","errorMessage":"connect ETIMEDOUT 10.0.${this.int(1, 3)}.${this.int(2, 254)}:443","stack":["TimeoutError: connect ETIMEDOUT","    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1606:16)"]}\n`,
          ),
        );
      } else {
        // Debug output that leaks a credential: masking must catch it before any sink sees it.
        out.push(
          this.event(
            t,
            `${iso}\t${req}\tDEBUG\tcalling partner API with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.${this.hex(24)}.${this.hex(20)} key=AKIAIOSFODNN7EXAMPLE\n`,
          ),
        );
      }
    }
    const dur = this.int(2, 2500) + this.rnd();
    out.push(this.event(tick(), `END RequestId: ${req}\n`));
    out.push(
      this.event(
        tick(),
        `REPORT RequestId: ${req}\tDuration: ${dur.toFixed(2)} ms\tBilled Duration: ${Math.ceil(dur)} ms\tMemory Size: 512 MB\tMax Memory Used: ${this.int(60, 240)} MB\t${cold ? `Init Duration: ${(150 + this.rnd() * 400).toFixed(2)} ms\t` : ''}\n`,
      ),
    );
  }

  private ecsLine(container: string, ts: number): string {
    if (container === 'nginx') {
      const d = new Date(ts);
      const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
      const stamp = `${pad2(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
      const path = this.pick([
        '/',
        '/health',
        '/cart',
        '/api/products?page=2',
        '/static/app.js',
        '/checkout',
      ]);
      const status = path === '/checkout' && this.rnd() < 0.3 ? 502 : this.pick([200, 200, 200, 304, 404]);
      const agent =
        path === '/health'
          ? 'ELB-HealthChecker/2.0'
          : 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15';
      return `10.0.${this.int(1, 3)}.${this.int(2, 254)} - - [${stamp}] "GET ${path} HTTP/1.1" ${status} ${this.int(0, 48000)} "-" "${agent}"`;
    }
    const r = this.rnd();
    const level = r < 0.8 ? 'info' : r < 0.93 ? 'warn' : 'error';
    if (this.rnd() < 0.75) {
      return JSON.stringify({
        level,
        ts: ts / 1000,
        logger: container,
        msg:
          level === 'error'
            ? 'payment declined'
            : level === 'warn'
              ? 'retrying request'
              : this.pick(['request completed', 'job finished', 'message consumed']),
        traceId: this.hex(32),
        ...(level === 'error'
          ? { code: 'card_declined', email: `${this.pick(USERS)}@example.com` }
          : { latencyMs: this.int(1, 300) }),
      });
    }
    return `${new Date(ts).toISOString()} ${level.toUpperCase()} [${container}] ${level === 'error' ? 'java.net.SocketTimeoutException: Read timed out' : `processed batch of ${this.int(1, 200)} messages`}`;
  }
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export interface DemoStats {
  envelopes: number;
  byOutcome: Record<OutcomeKind, number>;
}

/** The daemon source: a DemoGenerator behind the `Source` contract. */
export class DemoSource implements Source {
  readonly type = 'demo';
  readonly name: string;
  readonly expected?: number;
  readonly stats: DemoStats = {
    envelopes: 0,
    byOutcome: { delivered: 0, dropped: 0, rejected: 0, failed: 0 },
  };
  private readonly cfg: DemoConfig;
  private readonly now?: number;

  constructor(cfg: Partial<DemoConfig> & { now?: number } = {}) {
    const { now, ...rest } = cfg;
    this.cfg = demoConfig.parse({ ...rest, type: 'demo' });
    this.now = now;
    this.name = this.cfg.name ?? 'demo';
    this.expected = this.cfg.follow ? undefined : this.cfg.envelopes;
  }

  /** `--once`: the demo ends after `envelopes` payloads by itself, unless it follows. */
  bounded(): string | undefined {
    return this.cfg.follow ? 'it follows (follow: true) and never ends; set envelopes instead' : undefined;
  }

  async *envelopes(signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    const c = this.cfg;
    const gen = new DemoGenerator({
      seed: c.seed,
      eventsPerEnvelope: c.eventsPerEnvelope,
      now: c.follow ? this.now : (this.now ?? Date.now()),
      windowMinutes: c.windowMinutes,
      totalEnvelopes: c.follow ? 0 : c.envelopes,
      controlEvery: c.controlEvery,
      corruptEvery: c.corruptEvery,
      owner: c.owner,
      cluster: c.cluster,
    });
    const started = Date.now();
    let events = 0;
    for (let i = 0; c.follow || i < c.envelopes; i++) {
      if (signal.aborted) return;
      if (c.rate > 0) {
        // Pace by events: wait until the time at which `events` would have been emitted at `rate`.
        const due = started + (events / c.rate) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait, signal);
        if (signal.aborted) return;
      }
      const p = gen.next();
      events += Math.max(1, p.events);
      yield this.decode(p);
    }
  }

  /** Runs the production decode path on the payload. */
  decode(p: DemoPayload): SourceEnvelope {
    const ackId = `${this.name}:${this.cfg.seed}:${p.seq}`;
    const res = decodeGzipPayload(p.gzip);
    if (!res.ok)
      return {
        ackId,
        records: [],
        malformed: { code: res.code, reason: res.reason, payload: p.gzip.toString('base64') },
        bytes: p.gzip.length,
      };
    if (res.message.messageType === 'CONTROL_MESSAGE')
      return { ackId, records: [], control: true, bytes: p.gzip.length };
    return { ackId, records: toRecords(res.message, 'demo', ackId), bytes: p.gzip.length };
  }

  async ack(_envelope: SourceEnvelope, outcome: Outcome): Promise<void> {
    this.stats.envelopes++;
    this.stats.byOutcome[outcome.kind]++;
  }
}

export const demoSpec: ComponentSpec<DemoConfig, Source> = {
  type: 'demo',
  iam: [],
  summary:
    'Realistic CloudWatch subscription payloads (EKS control plane, Lambda, ECS, control messages), seeded.',
  schema: demoConfig,
  create: (cfg) => new DemoSource(cfg),
};
