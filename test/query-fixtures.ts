/**
 * A small, deterministic archive for the `logferry query` tests: EKS audit events (JSON messages,
 * half of them with parsed fields as a json parser would store them, one with a `\u002d` escape),
 * authenticator lines with "access denied", kube-apiserver klog lines, Lambda platform lines and
 * ECS task lines, spread over three hours. Written through the real S3 sink (ndjson or raw, any key
 * template), so the readers see exactly what `logferry run` and the daemon write. The `expected*`
 * helpers compute answers from the fixture data directly, independent of the query engine.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { clientConfig } from '../src/aws/clients.js';
import type { LogRecord } from '../src/core/record.js';
import type { Encoded } from '../src/core/sink.js';
import { S3Sink } from '../src/sinks/s3.js';

export const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
export const CLUSTER = 'prod';
export const OWNER = '123456789012';
export const EKS_GROUP = `/aws/eks/${CLUSTER}/cluster`;
export const AUDIT_STREAM = 'kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329';
export const AUTH_STREAM = 'authenticator-1111222272c52cc05e3177863bdcc12d';
export const API_STREAM = 'kube-apiserver-934e06efeb2e9416b02fa19f9a2d1774';
export const TASK_ID = 'ef7512c63ef2498880ecf78fd8f9ed11';

export interface AuditFact {
  ts: number;
  verb: string;
  resource: string;
  namespace: string;
  name: string;
  user: string;
  code: number;
  requestURI: string;
}

const VERBS = ['get', 'list', 'watch', 'patch', 'update', 'create', 'delete'];
const RESOURCES = ['configmaps', 'pods', 'leases', 'nodes', 'events', 'serviceaccounts'];

function meta(logGroup: string, logStream: string, id: string) {
  return { owner: OWNER, logGroup, logStream, id, source: 'test', ackId: 'a' };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

export interface Fixture {
  records: LogRecord[];
  audit: AuditFact[];
  /** Authenticator "access denied" event times. */
  denied: number[];
  /** Id of the audit event whose message spells aws-auth with a JSON escape. */
  escapedTs: number;
}

export function makeFixture(): Fixture {
  const records: LogRecord[] = [];
  const audit: AuditFact[] = [];
  let seq = 0;
  const id = () => String(10_000_000 + seq++).padStart(56, '0');
  // 300 audit events, one every 36 s over 3 h.
  for (let i = 0; i < 300; i++) {
    const ts = T0 + i * 36_000;
    const verb = VERBS[i % VERBS.length];
    const resource = RESOURCES[Math.floor(i / 7) % RESOURCES.length];
    const namespace = resource === 'nodes' ? '' : i % 3 === 0 ? 'kube-system' : 'default';
    const name =
      resource === 'configmaps'
        ? i % 2 === 0
          ? 'aws-auth'
          : 'coredns'
        : resource === 'nodes'
          ? 'ip-10-20-42-209.ap-northeast-2.compute.internal'
          : resource === 'pods'
            ? `web-${i}`
            : `${resource}-${i % 5}`;
    const user = i % 4 === 0 ? 'kubernetes-admin' : 'system:serviceaccount:kube-system:replicaset-controller';
    const code = i % 10 === 9 ? 403 : 200;
    const requestURI =
      resource === 'nodes'
        ? `/api/v1/nodes/${name}`
        : `/api/v1/namespaces/${namespace || 'default'}/${resource}/${name}`;
    audit.push({ ts, verb, resource, namespace, name, user, code, requestURI });
    const event = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      stage: 'ResponseComplete',
      requestURI,
      verb,
      user: { username: user, groups: ['system:authenticated'] },
      userAgent: 'kubectl/v1.29.0 (linux/amd64) kubernetes/abc',
      objectRef: { resource, namespace: namespace || undefined, name, apiVersion: 'v1' },
      responseStatus: { metadata: {}, code },
      requestReceivedTimestamp: iso(ts),
      stageTimestamp: iso(ts + 3),
    };
    const message = JSON.stringify(event);
    // Half the events are stored with parsed fields (json parser on), half as plain messages.
    const fields = i % 2 === 0 ? (JSON.parse(message) as Record<string, unknown>) : {};
    records.push({ timestamp: ts, message, fields, meta: meta(EKS_GROUP, AUDIT_STREAM, id()) });
  }
  // One aws-auth patch whose message escapes the '-' (Go/other encoders may escape characters).
  const escapedTs = T0 + 2 * 3_600_000 + 1_234;
  audit.push({
    ts: escapedTs,
    verb: 'patch',
    resource: 'configmaps',
    namespace: 'kube-system',
    name: 'aws-auth',
    user: 'escaped-admin',
    code: 200,
    requestURI: '/api/v1/namespaces/kube-system/configmaps/aws-auth',
  });
  records.push({
    timestamp: escapedTs,
    message: `{"kind":"Event","verb":"patch","requestURI":"/api/v1/namespaces/kube-system/configmaps/aws\\u002dauth","user":{"username":"escaped-admin"},"objectRef":{"resource":"configmaps","namespace":"kube-system","name":"aws\\u002dauth"},"responseStatus":{"code":200},"requestReceivedTimestamp":"${iso(escapedTs)}"}`,
    fields: {},
    meta: meta(EKS_GROUP, AUDIT_STREAM, id()),
  });
  // Authenticator: one line every 3 min, every other one "access denied".
  const denied: number[] = [];
  for (let i = 0; i < 60; i++) {
    const ts = T0 + i * 180_000 + 500;
    const isDenied = i % 2 === 1;
    if (isDenied) denied.push(ts);
    const msg = isDenied
      ? `time="${new Date(ts).toISOString()}" level=warning msg="access denied" arn="arn:aws:iam::${OWNER}:role/dev-${i}" client="127.0.0.1:5${i}" method=POST path=/authenticate`
      : `time="${new Date(ts).toISOString()}" level=info msg="access granted" arn="arn:aws:iam::${OWNER}:role/ops" client="127.0.0.1:4${i}" method=POST path=/authenticate uid="heptio-authenticator-aws:${OWNER}:AROA${i}" username="kubernetes-admin"`;
    records.push({ timestamp: ts, message: msg, fields: {}, meta: meta(EKS_GROUP, AUTH_STREAM, id()) });
  }
  // kube-apiserver klog lines.
  for (let i = 0; i < 40; i++) {
    const ts = T0 + i * 270_000 + 250;
    const d = new Date(ts);
    const p2 = (n: number) => String(n).padStart(2, '0');
    const head = `${i % 8 === 0 ? 'E' : 'I'}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}000      11 `;
    const msg = `${head}${i % 8 === 0 ? 'controller.go:114] loading OpenAPI spec failed: FLAG error' : 'httplog.go:132] "HTTP" verb="GET" URI="/readyz" latency="1.2ms"'}`;
    records.push({ timestamp: ts, message: msg, fields: {}, meta: meta(EKS_GROUP, API_STREAM, id()) });
  }
  // Lambda: START/END/REPORT every 10 min, a cold start on the first.
  for (let i = 0; i < 18; i++) {
    const ts = T0 + i * 600_000;
    const rid = `8f5e${String(i).padStart(4, '0')}-1111-2222-3333-444455556666`;
    const stream = '2026/11/20/[$LATEST]0123456789abcdef0123456789abcdef';
    const group = '/aws/lambda/orders';
    records.push({
      timestamp: ts,
      message: `START RequestId: ${rid} Version: $LATEST\n`,
      fields: {},
      meta: meta(group, stream, id()),
    });
    records.push({
      timestamp: ts + 100,
      message: `END RequestId: ${rid}\n`,
      fields: {},
      meta: meta(group, stream, id()),
    });
    const init = i === 0 ? '\tInit Duration: 245.17 ms' : '';
    records.push({
      timestamp: ts + 101,
      message: `REPORT RequestId: ${rid}\tDuration: ${(50 + i * 10).toFixed(2)} ms\tBilled Duration: ${51 + i * 10} ms\tMemory Size: 512 MB\tMax Memory Used: ${80 + i} MB${init}\t\n`,
      fields: {},
      meta: meta(group, stream, id()),
    });
  }
  // ECS task lines.
  for (let i = 0; i < 30; i++) {
    const ts = T0 + i * 360_000 + 42;
    records.push({
      timestamp: ts,
      message:
        i % 5 === 0
          ? `ERROR upstream timed out while reading response header (task ${i})`
          : `10.0.1.${i} - - "GET /health HTTP/1.1" 200 2`,
      fields: {},
      meta: meta('/ecs/shop', `ecs/nginx/${TASK_ID}`, id()),
    });
  }
  return { records, audit, denied, escapedTs };
}

/** Writes records through the real S3 sink (local directory or s3://), one send per partition group. */
export async function writeArchive(
  url: string,
  records: LogRecord[],
  opts: { format?: 'ndjson' | 'raw'; keyTemplate?: string; endpoint?: string; maxRecords?: number } = {},
): Promise<void> {
  const sink = new S3Sink({
    url,
    format: opts.format ?? 'ndjson',
    keyTemplate: opts.keyTemplate,
    endpoint: opts.endpoint,
  });
  const groups = new Map<string, Encoded<string>[]>();
  for (const r of records) {
    const e = sink.encode(r);
    if ('reject' in e) throw new Error(`fixture record rejected: ${e.reject}`);
    const k = e.partition ?? '';
    const g = groups.get(k);
    if (g) g.push(e);
    else groups.set(k, [e]);
  }
  const size = opts.maxRecords ?? 100;
  for (const g of groups.values()) {
    for (let i = 0; i < g.length; i += size) {
      const res = await sink.send(g.slice(i, i + size), { attempt: 1 });
      if (res.problems.length) throw new Error(`fixture write failed: ${JSON.stringify(res.problems)}`);
    }
  }
  await sink.close?.();
}

/** The Hive-style key template the archive tests write with. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the S3 sink's key template syntax
export const HIVE = 'cluster=${cluster}/component=${component}/dt=${year}-${month}-${day}/hour=${hour}';

/**
 * For tests against moto's S3: points LOGFERRY_S3_ENDPOINT at `endpoint`, creates `bucket`, and
 * writes the fixture twice — under `<flatPrefix>` in the sink's default layout and under `hive` with
 * the HIVE template (`hiveMaxRecords` per object). `restore` puts the endpoint variable back.
 */
export async function writeS3Archives(
  endpoint: string,
  bucket: string,
  opts: { flatPrefix: string; hiveMaxRecords: number },
): Promise<{ fx: Fixture; restore: () => void }> {
  const saved = process.env.LOGFERRY_S3_ENDPOINT;
  process.env.LOGFERRY_S3_ENDPOINT = endpoint;
  const s3 = new S3Client(clientConfig('s3', { endpoint }));
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  s3.destroy();
  const fx = makeFixture();
  await writeArchive(`s3://${bucket}/${opts.flatPrefix}`, fx.records, { endpoint });
  await writeArchive(`s3://${bucket}/hive`, fx.records, {
    endpoint,
    keyTemplate: HIVE,
    maxRecords: opts.hiveMaxRecords,
  });
  const restore = () => {
    if (saved === undefined) delete process.env.LOGFERRY_S3_ENDPOINT;
    else process.env.LOGFERRY_S3_ENDPOINT = saved;
  };
  return { fx, restore };
}

export const AWS_AUTH_QUERY = `fields @timestamp, verb, user.username, objectRef.resource, objectRef.namespace, objectRef.name , responseObject.code, @message
    | filter @logStream like /^kube-apiserver-audit/
    | filter objectRef.resource == "configmaps"
    | filter objectRef.name == "aws-auth"
    |filter verb not in ["watch", "list", "get"]
    | sort @timestamp desc`;

/** The fields `AWS_AUTH_QUERY` displays, in its `fields` order (written out, not derived from the query). */
export const AWS_AUTH_FIELDS: readonly string[] = [
  '@timestamp',
  'verb',
  'user.username',
  'objectRef.resource',
  'objectRef.namespace',
  'objectRef.name',
  'responseObject.code',
  '@message',
];

export function expectedAwsAuth(f: Fixture, range: { startMs?: number; endMs?: number } = {}): AuditFact[] {
  return f.audit
    .filter(
      (a) =>
        a.resource === 'configmaps' &&
        a.name === 'aws-auth' &&
        !['watch', 'list', 'get'].includes(a.verb) &&
        (range.startMs === undefined || a.ts >= range.startMs) &&
        (range.endMs === undefined || a.ts < range.endMs),
    )
    .sort((a, b) => b.ts - a.ts);
}

/**
 * Two log groups for join/subquery tests: API Gateway requests (every minute for two hours, a 503
 * every seventh) and the Lambda invocations of every other request (same requestId, 500 ms later).
 */
export interface SubqueryFixture {
  T0: number;
  API: string;
  FN: string;
  records: LogRecord[];
  api: { ts: number; requestId: string; status: number; userId: string; ip: string }[];
  fn: { ts: number; requestId: string; duration: number }[];
}

export function makeSubqueryFixture(): SubqueryFixture {
  const t0 = Date.UTC(2026, 10, 20, 10, 0, 0);
  const API = '/aws/apigateway/prod';
  const FN = '/aws/lambda/orders';
  const fx: SubqueryFixture = { T0: t0, API, FN, records: [], api: [], fn: [] };
  let n = 0;
  const rec = (group: string, stream: string, ts: number, body: Record<string, unknown>): LogRecord =>
    ({
      timestamp: ts,
      message: JSON.stringify(body),
      fields: body,
      meta: {
        owner: OWNER,
        logGroup: group,
        logStream: stream,
        id: String(1e9 + n++),
        source: 'test',
        ackId: 'a',
      },
    }) as LogRecord;
  for (let i = 0; i < 120; i++) {
    const ts = t0 + i * 60_000;
    const a = {
      ts,
      requestId: `req-${i}`,
      status: i % 7 === 0 ? 503 : 200,
      userId: `u${i % 3}`,
      ip: i % 2 ? `10.1.${i}.1` : `192.168.0.${i}`,
    };
    fx.api.push(a);
    fx.records.push(
      rec(API, 'stage-prod', ts, { requestId: a.requestId, status: a.status, userId: a.userId, ip: a.ip }),
    );
    if (i % 2 === 0) {
      const f = { ts: ts + 500, requestId: `req-${i}`, duration: 100 + i };
      fx.fn.push(f);
      fx.records.push(
        rec(FN, '2026/11/20/[$LATEST]abc', f.ts, { requestId: f.requestId, duration: f.duration }),
      );
    }
  }
  return fx;
}
