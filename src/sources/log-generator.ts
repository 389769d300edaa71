/**
 * The one generator of realistic CloudWatch Logs data, for the `demo` source (what `npm start`
 * ships), every bench and the tests: subscription payloads encoded exactly as CloudWatch sends them
 * (gzip JSON `DATA_MESSAGE`s, the occasional `CONTROL_MESSAGE`). It covers the EKS control plane
 * (`/aws/eks/<cluster>/cluster`: kube-apiserver-audit JSON events — reads, lease renewals, aws-auth
 * patches, evictions, pod/node deletes, forbidden requests —, kube-apiserver / controller-manager /
 * cloud-controller-manager / scheduler klog lines, authenticator key=value lines incl. "access
 * denied"), Lambda (`/aws/lambda/<fn>`: START/END/REPORT platform lines, JSON or tab-separated app
 * lines), ECS (`ecs/<container>/<task>`: nginx access lines, JSON and text app lines) and a generic
 * group of key=value job lines.
 *
 * - `LogGenerator`: streams and events of one kind (`stream`, `events`, `message`, `payloadOfSize`);
 *   `secretsRate` plants a credential in that share of the text lines (for masking benches).
 * - `DemoGenerator`: a sequence of whole payloads with a `mix` of kinds, control and corrupted
 *   payloads, event times spread over a window; what the demo source and the pipeline benches send.
 *
 * Output is deterministic for a seed (or a given PRNG) and a start time. Templates are string
 * building with no JSON round trips except audit events, which are JSON by nature.
 */
import { EKS_COMPONENTS, type EksComponent } from '../aws/classify.js';
import {
  type ControlMessage,
  controlMessage,
  type DataMessage,
  encodeCloudWatchPayload,
} from '../aws/cloudwatch-payload.js';
import { mulberry32 } from '../core/prng.js';

/** The EKS control-plane components logferry classifies (aws/classify.ts), then the other kinds. */
export type LogKind = EksComponent | 'lambda' | 'ecs' | 'generic';
export const EKS_KINDS: LogKind[] = [...EKS_COMPONENTS];
export const ALL_KINDS: LogKind[] = [...EKS_KINDS, 'lambda', 'ecs', 'generic'];

/** The kinds the demo source sends. */
export type DemoKind = Exclude<LogKind, 'cloud-controller-manager' | 'generic'>;

/** Share of payloads per kind (weights); audit dominates real EKS control-plane volume. */
export type LogMix = Partial<Record<LogKind, number>>;

/** The demo source's mix (what `npm start` ships). */
export const DEMO_MIX: LogMix = {
  'kube-apiserver-audit': 34,
  'kube-apiserver': 7,
  'kube-controller-manager': 7,
  'kube-scheduler': 5,
  authenticator: 9,
  lambda: 22,
  ecs: 16,
};

export type LogEvent = DataMessage['logEvents'][number];

export interface StreamSpec {
  owner: string;
  logGroup: string;
  logStream: string;
}

export interface LogGeneratorOptions {
  /** Seed of the generator's own PRNG (default 1); ignored when `rnd` is given. */
  seed?: number;
  /** A PRNG to draw from instead (callers sharing one sequence across helpers). */
  rnd?: () => number;
  /** AWS account id of the payload owner. */
  owner?: string;
  /** EKS cluster name in log group names. */
  cluster?: string;
  /**
   * Let the templates leak credentials where real logs do (a session key id in audit and
   * authenticator lines, a bearer token and an access key in Lambda debug output): what the demo
   * shows masking catch (default true). Off for data that must pass the default masking unchanged.
   */
  leaks?: boolean;
  /** Share (0–1) of text lines that get a planted credential appended (default 0). */
  secretsRate?: number;
  /**
   * Called with the ground-truth template id of every event made, in order (for pattern-quality
   * benches). Ids are `<kind>:<template>`; the rule of what one template is, is written at
   * `TEMPLATE_RULE`. Recording draws nothing from the PRNG: output is the same with or without it.
   */
  onTemplate?: (template: string) => void;
}

/**
 * What one ground-truth template is (the `onTemplate` ids), as Loghub labels templates: one format
 * string whose constant text is the same and whose variable parts differ. So two lines that differ
 * only in a value drawn for a slot (namespace, app, pod, node, user, id, IP, number, time, the
 * nginx path, the job name and status of a key=value line) are one template; a branch that picks
 * among N fixed sentences (a message text, a level word, a user-agent string) is N templates; a
 * branch whose line gains or loses fields (a cold start's `Init Duration`, orders-api's extra JSON
 * keys) is one template per shape. Audit events (JSON): the verb and the resource are the event's
 * constant "sentence" (they also decide the URI shape and the keys present) and the response code
 * decides whether a failure status and message are present, so an audit template is branch + verb
 * + resource + code; names, namespaces, users, uids, IPs and times are variables. A planted
 * credential (`secretsRate`) is constant text, so it appends `+secret<n>` to the id.
 */
export const TEMPLATE_RULE = 'constant text same, variables differ (see log-generator.ts)';

/** Credentials planted by `secretsRate`: each a pattern the default masking must catch. */
export const PLANTED_SECRETS = [
  ' password=hunter2hunter2',
  ' Authorization: Bearer abcDEF123456ghiJKL789',
  ' key=AKIAIOSFODNN7EXAMPLE',
  ' url=postgres://app:s3cr3tpw@db:5432/x',
];

/** Where `events()` of a kind starts by default (2025-11-22, a fixed clock for benches). */
export const DEFAULT_START_MS = 1_763_800_000_000;

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
 * Streams and events of every kind. Draws only from its PRNG, so the same seed (or PRNG state)
 * gives the same bytes.
 */
export class LogGenerator {
  readonly owner: string;
  readonly cluster: string;
  private readonly rnd: () => number;
  private readonly secretsRate: number;
  private readonly leaks: boolean;
  private readonly nodes: string[];
  private readonly eksStreams: Partial<Record<LogKind, string>>;
  private readonly lambdaStreams: string[][];
  private readonly ecsTasks: string[];
  private eventSeq = 0;
  private readonly onTemplate?: (template: string) => void;
  /** Template id of the line being built (set by each template branch before `event`). */
  private tpl = '';
  /** Ids of the events made in the current batch (reported once the batch is cut to length). */
  private readonly tplLog: string[] = [];

  constructor(opts: LogGeneratorOptions = {}) {
    this.rnd = opts.rnd ?? mulberry32(opts.seed ?? 1);
    this.owner = opts.owner ?? '123456789012';
    this.cluster = opts.cluster ?? 'demo-prod';
    this.secretsRate = opts.secretsRate ?? 0;
    this.leaks = opts.leaks ?? true;
    this.onTemplate = opts.onTemplate;
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

  /**
   * A stream of `kind`: EKS streams are one per component; `variant` picks the Lambda function or
   * ECS container (default: orders-api, checkout); Lambda streams are named after the day of `at`.
   */
  stream(kind: LogKind, opts: { at?: number; variant?: number; cluster?: string } = {}): StreamSpec {
    const owner = this.owner;
    if (kind === 'lambda') {
      const f = opts.variant ?? 0;
      const d = new Date(opts.at ?? DEFAULT_START_MS);
      return {
        owner,
        logGroup: `/aws/lambda/${FUNCTIONS[f]}`,
        logStream: `${d.getUTCFullYear()}/${pad2(d.getUTCMonth() + 1)}/${pad2(d.getUTCDate())}/[$LATEST]${this.lambdaStreams[f][this.int(0, 1)]}`,
      };
    }
    if (kind === 'ecs') {
      const c = opts.variant ?? 1;
      return {
        owner,
        logGroup: ECS_GROUPS[c](this.cluster),
        logStream: `ecs/${CONTAINERS[c]}/${this.ecsTasks[c]}`,
      };
    }
    if (kind === 'generic')
      return { owner, logGroup: '/custom/batch-jobs', logStream: `worker-${this.int(0, 49)}` };
    const name = this.eksStreams[kind] ?? `${kind}-${this.hex(32)}`;
    this.eksStreams[kind] = name;
    return { owner, logGroup: `/aws/eks/${opts.cluster ?? this.cluster}/cluster`, logStream: name };
  }

  /**
   * `n` events of one stream of `kind`, times rising from `startMs` (0–40 ms apart), ids shaped like
   * CloudWatch's (56 digits). `variant` as in `stream` (random when the stream is not given).
   */
  batch(
    kind: LogKind,
    n: number,
    startMs = DEFAULT_START_MS,
    variant?: number,
  ): { stream: StreamSpec; events: LogEvent[]; endMs: number } {
    let ts = startMs;
    const tick = () => {
      ts += this.int(0, 40);
      return ts;
    };
    const events: LogEvent[] = [];
    let stream: StreamSpec;
    if (kind === 'lambda') {
      const f = variant ?? this.int(0, FUNCTIONS.length - 1);
      stream = this.stream('lambda', { at: ts, variant: f });
      while (events.length < n) this.lambdaInvocation(FUNCTIONS[f], tick, events);
      events.length = n;
    } else if (kind === 'ecs') {
      const c = variant ?? this.int(0, CONTAINERS.length - 1);
      stream = this.stream('ecs', { variant: c });
      for (let i = 0; i < n; i++) events.push(this.event(tick(), this.ecsLine(CONTAINERS[c], ts)));
    } else if (kind === 'generic') {
      stream = this.stream('generic');
      for (let i = 0; i < n; i++) events.push(this.event(tick(), this.genericLine()));
    } else {
      stream = this.stream(kind);
      for (let i = 0; i < n; i++) events.push(this.event(tick(), this.eksLine(kind, ts)));
    }
    if (this.onTemplate) {
      for (let i = 0; i < events.length; i++) this.onTemplate(this.tplLog[i]);
      this.tplLog.length = 0;
    }
    return { stream, events, endMs: ts };
  }

  /** `n` events of `kind`'s default stream (the one `stream(kind)` names). */
  events(kind: LogKind, n: number, startMs = DEFAULT_START_MS): LogEvent[] {
    return this.batch(kind, n, startMs, kind === 'lambda' ? 0 : kind === 'ecs' ? 1 : undefined).events;
  }

  /** A stream of `kind` and its events whose gzip payload is about `targetGzipBytes`. */
  payloadOfSize(
    kind: LogKind,
    targetGzipBytes: number,
  ): { stream: StreamSpec; events: LogEvent[]; gzip: Buffer } {
    const stream = this.stream(kind);
    const probe = this.events(kind, 200);
    const probeGz = cwPayload(stream, probe).length;
    const n = Math.max(1, Math.round((targetGzipBytes / probeGz) * 200));
    const evs = n <= 200 ? probe.slice(0, n) : probe.concat(this.events(kind, n - 200, probe[199].timestamp));
    return { stream, events: evs, gzip: cwPayload(stream, evs) };
  }

  private event(timestamp: number, message: string): LogEvent {
    // CloudWatch event ids are 56-digit decimal strings, unique per log group; derive one from the
    // time and a counter so they are unique and stable for a seed.
    const n = this.eventSeq++;
    const id = `${String(timestamp).padStart(16, '0')}${String(n).padStart(20, '0')}${String(Math.floor(this.rnd() * 1e10)).padStart(20, '0')}`;
    let tpl = this.tpl;
    if (this.secretsRate > 0 && message.charCodeAt(0) !== 123 && this.rnd() < this.secretsRate) {
      // Planted after the text (never inside JSON, which would stop being JSON).
      const nl = message.endsWith('\n');
      const secret = this.pick(PLANTED_SECRETS);
      message = `${nl ? message.slice(0, -1) : message}${secret}${nl ? '\n' : ''}`;
      tpl += `+secret${PLANTED_SECRETS.indexOf(secret)}`;
    }
    if (this.onTemplate) this.tplLog.push(tpl);
    return { id, timestamp, message };
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

  private eksLine(kind: EksComponent, ts: number): string {
    switch (kind) {
      case 'kube-apiserver-audit':
        return this.auditEvent(ts);
      case 'kube-apiserver':
        return this.apiserverLine(ts);
      case 'kube-controller-manager':
        return this.kcmLine(ts);
      case 'cloud-controller-manager':
        return this.ccmLine(ts);
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
    const uid = `aws-iam-authenticator:${this.owner}:AROA${this.hex(17).toUpperCase()}`;
    const accessKeyId = `ASIA${this.hex(16).toUpperCase()}`;
    const human = {
      username: `arn:aws:sts::${this.owner}:assumed-role/EKSAdmin/${iamUser}`,
      uid,
      groups: ['system:masters', 'system:authenticated'],
      extra: {
        ...(this.leaks ? { accessKeyId: [accessKeyId] } : {}),
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
    let branch: string;
    if (r < 0.3) {
      branch = 'read';
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
      branch = 'lease';
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
      branch = 'create-pod';
      verb = 'create';
      const pod = this.pod(app);
      uri = `/api/v1/namespaces/${ns}/pods`;
      user = sa('replicaset-controller');
      agent = kcmAgent('replicaset-controller');
      objectRef = { resource: 'pods', namespace: ns, name: pod, apiVersion: 'v1' };
      code = 201;
    } else if (r < 0.65) {
      branch = 'aws-auth';
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
      branch = 'eviction';
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
      branch = 'delete-pod';
      verb = 'delete';
      const pod = this.pod(app);
      uri = `/api/v1/namespaces/${ns}/pods/${pod}`;
      user = human;
      agent = 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350';
      objectRef = { resource: 'pods', namespace: ns, name: pod, apiVersion: 'v1' };
    } else if (r < 0.83) {
      branch = 'delete-node';
      verb = 'delete';
      uri = `/api/v1/nodes/${node}`;
      user = human;
      agent = 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350';
      objectRef = { resource: 'nodes', name: node, apiVersion: 'v1' };
    } else if (r < 0.92) {
      branch = 'forbidden';
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
      branch = 'hpa-status';
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
    this.tpl = `audit:${branch}:${verb}:${String(objectRef.resource)}:${code}`;
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
    if (r < 0.45) {
      this.tpl = 'apiserver:quota-evaluator';
      return `${this.klogPrefix('I', ts, 10, 'controller.go:615')} quota admission added evaluator for: ${this.pick(['leases.coordination.k8s.io', 'endpoints', 'replicasets.apps', 'events.events.k8s.io'])}`;
    }
    this.tpl =
      r < 0.7
        ? 'apiserver:alloc-clusterip'
        : r < 0.85
          ? 'apiserver:webhook-fail-open'
          : 'apiserver:stream-closed';
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
    this.tpl =
      r < 0.55
        ? 'kcm:event-created-pod'
        : r < 0.75
          ? 'kcm:node-notready'
          : r < 0.9
            ? 'kcm:set-podcidr'
            : 'kcm:job-failed-pods';
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
      this.tpl = 'scheduler:bound';
      return `${this.klogPrefix('I', ts, 10, 'schedule_one.go:314')} "Successfully bound pod to node" pod="${ns}/${pod}" node="${this.pick(this.nodes)}" evaluatedNodes=4 feasibleNodes=${this.int(1, 4)}`;
    }
    this.tpl = 'scheduler:unschedulable';
    return `${this.klogPrefix('I', ts, 10, 'schedule_one.go:1004')} "Unable to schedule pod; no fit; waiting" pod="${ns}/${pod}" err="0/4 nodes are available: 4 Insufficient cpu. preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod."`;
  }

  private authenticatorLine(ts: number): string {
    const time = new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const client = `127.0.0.1:${this.int(30000, 60000)}`;
    const r = this.rnd();
    this.tpl =
      r < 0.7
        ? 'auth:granted'
        : r < 0.85
          ? 'auth:denied-unmapped'
          : r < 0.95
            ? 'auth:sts-response'
            : 'auth:denied-expired';
    if (r < 0.7) {
      const node = this.pick(this.nodes);
      return `time="${time}" level=info msg="access granted" arn="arn:aws:iam::${this.owner}:role/eks-node-role" client="${client}" groups="[system:bootstrappers system:nodes]" method=POST path=/authenticate uid="aws-iam-authenticator:${this.owner}:AROA${this.hex(17).toUpperCase()}" username="system:node:${node}"`;
    }
    if (r < 0.85) {
      return `time="${time}" level=warning msg="access denied" arn="arn:aws:iam::${this.owner}:user/ci-${this.pick(USERS)}" client="${client}" error="ARN is not mapped" method=POST path=/authenticate`;
    }
    if (r < 0.95) {
      const key = this.hex(16).toUpperCase();
      const user = this.pick(USERS);
      const session = this.pick(USERS);
      // The key id and the session name are what masking takes out of this line.
      return `time="${time}" level=info msg="STS response" ${this.leaks ? `accesskeyid=ASIA${key} ` : ''}accountid=${this.owner} arn="arn:aws:sts::${this.owner}:assumed-role/EKSAdmin/${user}" client="${client}" method=POST path=/authenticate ${this.leaks ? `session=${session} ` : ''}userid=AROA${this.hex(17).toUpperCase()}`;
    }
    return `time="${time}" level=warning msg="access denied" client="${client}" error="input token was not properly formatted: X-Amz-Date parameter is expired (15 minute expiration) 2026-11-22 10:02:11 +0000 UTC" method=POST path=/authenticate`;
  }

  /** START, a few app lines, END, REPORT: one invocation (the last may be cut by the batch, as in real life). */
  private lambdaInvocation(fn: string, tick: () => number, out: DataMessage['logEvents']): void {
    const req = this.uuid();
    const cold = this.rnd() < 0.1;
    this.tpl = 'lambda:start';
    out.push(this.event(tick(), `START RequestId: ${req} Version: $LATEST\n`));
    const lines = this.int(1, 4);
    let t = 0;
    for (let i = 0; i < lines; i++) {
      t = tick();
      const iso = new Date(t).toISOString();
      const r = this.rnd();
      if (r < 0.55) {
        const message =
          r < 0.5
            ? this.pick(['order accepted', 'resized image', 'webhook verified', 'cache miss'])
            : 'slow downstream call';
        this.tpl = `lambda:json:${r < 0.5 ? 'INFO' : 'WARN'}:${message}${fn === 'orders-api' ? ':order' : ''}`;
        out.push(
          this.event(
            t,
            JSON.stringify({
              timestamp: iso,
              level: r < 0.5 ? 'INFO' : 'WARN',
              requestId: req,
              service: fn,
              message,
              durationMs: this.int(2, 900),
              ...(fn === 'orders-api'
                ? { orderId: `ord_${this.hex(12)}`, customer: `cus_${this.hex(8)}` }
                : {}),
            }) + '\n',
          ),
        );
      } else if (r < 0.85) {
        this.tpl = 'lambda:tsv-processed';
        out.push(
          this.event(
            t,
            `${iso}\t${req}\tINFO\tprocessed ${this.int(1, 50)} items in ${this.int(3, 400)} ms\n`,
          ),
        );
      } else if (r < 0.95) {
        this.tpl = 'lambda:tsv-timeout';
        out.push(
          this.event(
            t,
            `${iso}\t${req}\tERROR\tInvoke Error \t{"errorType":"TimeoutError","errorMessage":"connect ETIMEDOUT 10.0.${this.int(1, 3)}.${this.int(2, 254)}:443","stack":["TimeoutError: connect ETIMEDOUT","    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1606:16)"]}\n`,
          ),
        );
      } else {
        // Debug output that leaks a credential (with `leaks`): masking must catch it before any sink sees it.
        this.tpl = this.leaks ? 'lambda:tsv-debug-leak' : 'lambda:tsv-debug';
        out.push(
          this.event(
            t,
            this.leaks
              ? `${iso}\t${req}\tDEBUG\tcalling partner API with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.${this.hex(24)}.${this.hex(20)} key=AKIAIOSFODNN7EXAMPLE\n`
              : `${iso}\t${req}\tDEBUG\tcalling partner API, request ${this.hex(24)}.${this.hex(20)}\n`,
          ),
        );
      }
    }
    const dur = this.int(2, 2500) + this.rnd();
    this.tpl = 'lambda:end';
    out.push(this.event(tick(), `END RequestId: ${req}\n`));
    this.tpl = cold ? 'lambda:report-cold' : 'lambda:report';
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
      this.tpl = path === '/health' ? 'ecs:nginx-health' : 'ecs:nginx-access';
      return `10.0.${this.int(1, 3)}.${this.int(2, 254)} - - [${stamp}] "GET ${path} HTTP/1.1" ${status} ${this.int(0, 48000)} "-" "${agent}"`;
    }
    const r = this.rnd();
    const level = r < 0.8 ? 'info' : r < 0.93 ? 'warn' : 'error';
    if (this.rnd() < 0.75) {
      const msg =
        level === 'error'
          ? 'payment declined'
          : level === 'warn'
            ? 'retrying request'
            : this.pick(['request completed', 'job finished', 'message consumed']);
      this.tpl = `ecs:json:${level}:${msg}`;
      return JSON.stringify({
        level,
        ts: ts / 1000,
        logger: container,
        msg,
        traceId: this.hex(32),
        ...(level === 'error'
          ? { code: 'card_declined', email: `${this.pick(USERS)}@example.com` }
          : { latencyMs: this.int(1, 300) }),
      });
    }
    this.tpl = `ecs:text:${level}`;
    return `${new Date(ts).toISOString()} ${level.toUpperCase()} [${container}] ${level === 'error' ? 'java.net.SocketTimeoutException: Read timed out' : `processed batch of ${this.int(1, 200)} messages`}`;
  }

  private ccmLine(ts: number): string {
    const node = this.pick(this.nodes);
    const ok = this.rnd() < 0.7;
    this.tpl = ok ? 'ccm:node-initialized' : 'ccm:shutdown-check-error';
    if (ok)
      return `${this.klogPrefix('I', ts, 12, 'node_controller.go:431')} Successfully initialized node ${node} with cloud provider, providerID="aws:///us-east-1a/i-${this.hex(17)}"`;
    return `${this.klogPrefix('E', ts, 12, 'node_lifecycle_controller.go:165')} error checking if node ${node} is shutdown: RequestLimitExceeded: Request limit exceeded.`;
  }

  private genericLine(): string {
    this.tpl = 'generic:job-step';
    return `job=${this.pick(['resize', 'export', 'reindex'])} step=${this.int(0, 9)} status=${this.pick(['ok', 'ok', 'retry', 'failed'])} items=${this.int(0, 4999)}`;
  }
}

/** ECS log groups per container: awslogs groups and a Container Insights application group. */
const ECS_GROUPS: ((cluster: string) => string)[] = [
  () => '/ecs/storefront',
  () => '/ecs/checkout',
  (cluster) => `/aws/ecs/containerinsights/${cluster}-ecs/application`,
];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

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
  /** Kinds of payload and their weights (default `DEMO_MIX`). */
  mix?: LogMix;
  /** See `LogGeneratorOptions.leaks` (default true). */
  leaks?: boolean;
  /** See `LogGeneratorOptions.secretsRate` (default 0). */
  secretsRate?: number;
}

export interface DemoPayload {
  /** 0-based envelope number. */
  seq: number;
  kind: LogKind | 'control';
  /** Exactly what CloudWatch would put on the wire (gzip JSON), possibly corrupted on purpose. */
  gzip: Buffer;
  corrupted: boolean;
  events: number;
}

/**
 * Deterministic sequence of CloudWatch subscription payloads. `nextMessage()` gives the JSON
 * message; `next()` the gzip bytes CloudWatch would send.
 */
export class DemoGenerator {
  private readonly rnd: () => number;
  private readonly lines: LogGenerator;
  private readonly mix: [LogKind, number][];
  private readonly mixTotal: number;
  private readonly per: number;
  private readonly end: number;
  private readonly windowMs: number;
  private readonly total: number;
  private readonly controlEvery: number;
  private readonly corruptEvery: number;
  private readonly fixedClock: boolean;
  private seq = 0;
  private lastTs = 0;
  private lastKind: LogKind = 'kube-apiserver-audit';

  constructor(opts: DemoGeneratorOptions = {}) {
    this.rnd = mulberry32(opts.seed ?? 1);
    this.lines = new LogGenerator({
      rnd: this.rnd,
      owner: opts.owner,
      cluster: opts.cluster,
      leaks: opts.leaks,
      secretsRate: opts.secretsRate,
    });
    this.mix = Object.entries(opts.mix ?? DEMO_MIX).filter(([, w]) => (w ?? 0) > 0) as [LogKind, number][];
    if (this.mix.length === 0) throw new Error('mix: give at least one kind a weight above 0');
    this.mixTotal = this.mix.reduce((a, [, w]) => a + w, 0);
    this.per = opts.eventsPerEnvelope ?? 50;
    this.end = opts.now ?? Date.now();
    this.fixedClock = opts.now !== undefined;
    this.windowMs = (opts.windowMinutes ?? 60) * 60_000;
    this.total = opts.totalEnvelopes ?? 0;
    this.controlEvery = opts.controlEvery ?? 200;
    this.corruptEvery = opts.corruptEvery ?? 0;
  }

  /** The gzip payload of the next envelope. */
  next(): DemoPayload {
    const seq = this.seq;
    const msg = this.nextMessage();
    const kind: DemoPayload['kind'] = msg.messageType === 'CONTROL_MESSAGE' ? 'control' : this.lastKind;
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
    const start = this.total > 0 ? Math.max(base, this.lastTs) : base;
    const { stream, events, endMs } = this.lines.batch(kind, this.per, start);
    this.lastTs = endMs;
    this.lastKind = kind;
    return {
      messageType: 'DATA_MESSAGE',
      owner: stream.owner,
      logGroup: stream.logGroup,
      logStream: stream.logStream,
      subscriptionFilters: ['logferry-demo'],
      logEvents: events,
    };
  }

  /** Bounded runs spread envelopes evenly over the window; unbounded ones stamp near real time. */
  private baseTime(seq: number): number {
    if (this.total > 0) return Math.floor(this.end - this.windowMs + (seq / this.total) * this.windowMs);
    // Unbounded with a fixed start: synthetic, deterministic clock (benches); otherwise real time (follow).
    return this.fixedClock ? this.end + seq * 100 : Date.now();
  }

  private pickKind(): LogKind {
    let r = this.rnd() * this.mixTotal;
    for (const [k, w] of this.mix) {
      r -= w;
      if (r < 0) return k;
    }
    return this.mix[this.mix.length - 1][0];
  }
}

export interface PayloadOptions {
  messageType?: string;
  extra?: Record<string, unknown>;
  subscriptionFilters?: string[];
}

/** The JSON document CloudWatch Logs sends for `events` of `stream`, gzipped. */
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

/** The CONTROL_MESSAGE CloudWatch sends when a subscription is created. */
export function controlPayload(at = DEFAULT_START_MS): Buffer {
  return encodeCloudWatchPayload(controlMessage(at, 'Firehose'));
}

export interface FirehoseEventRecord {
  recordId: string;
  approximateArrivalTimestamp: number;
  data: string;
}

/** A Firehose data-transformation event carrying `datas` (gzip payloads or base64 strings). */
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
      approximateArrivalTimestamp: DEFAULT_START_MS + i,
      data: typeof d === 'string' ? d : d.toString('base64'),
    })),
  };
}
