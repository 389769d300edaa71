import { describe, expect, it } from 'vitest';
import { parseStage } from '../core/pipeline.js';
import { runStages } from '../core/stages.js';
import type { LogRecord } from '../core/record.js';
import { createAutoSelect } from './auto.js';
import { parsers } from './index.js';

const TS = Date.parse('2023-06-13T10:42:08.000Z');
const rec = (logGroup: string, logStream: string, message: string): LogRecord => ({
  timestamp: TS,
  message,
  fields: {},
  meta: { owner: '123456789012', logGroup, logStream, id: String(Math.random()), source: 'test', ackId: 'a' },
});

const EKS = '/aws/eks/prod/cluster';
const LAMBDA = '/aws/lambda/orders';
const LSTREAM = '2024/03/05/[$LATEST]0123456789abcdef0123456789abcdef';
const RID = 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef';

async function run(records: LogRecord[]) {
  const stage = parseStage({ select: createAutoSelect(), onError: 'annotate' });
  return (await runStages([stage], records)).records;
}

describe('auto parser selection', () => {
  it('routes each EKS component to its parser', async () => {
    const [audit, api, auth, kcm, sched, ccm] = await run([
      rec(
        EKS,
        'kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329',
        '{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","objectRef":{"resource":"pods"}}',
      ),
      rec(
        EKS,
        'kube-apiserver-934e06efeb2e9416b02fa19f9a2d1774',
        'I0613 10:42:07.123456      11 controller.go:611] quota admission added evaluator for: leases',
      ),
      rec(
        EKS,
        'authenticator-1111222272c52cc05e3177863bdcc12d',
        'time="2023-06-13T10:42:07Z" level=info msg="access granted" username="kubernetes-admin"',
      ),
      rec(
        EKS,
        'kube-controller-manager-934e06efeb2e9416b02fa19f9a2d1774',
        'I0613 10:42:07.000001       1 replica_set.go:577] "Too few replicas" replicaSet="default/web-5d78c9869d" need=3 creating=1',
      ),
      rec(
        EKS,
        'kube-scheduler-934e06efeb2e9416b02fa19f9a2d1774',
        'E0613 10:42:07.000001       1 leaderelection.go:330] error retrieving resource lock',
      ),
      rec(
        EKS,
        'cloud-controller-manager-934e06efeb2e9416b02fa19f9a2d1774',
        'W0613 10:42:07.000001       1 node_controller.go:100] node not found',
      ),
    ]);
    expect(audit.fields).toMatchObject({ verb: 'get', objectRef: { resource: 'pods' } });
    expect(api.fields).toMatchObject({ level: 'info', file: 'controller.go', line: 611 });
    expect(auth.fields).toMatchObject({ msg: 'access granted', username: 'kubernetes-admin' });
    expect(kcm.fields).toMatchObject({
      msg: 'Too few replicas',
      replicaSet: 'default/web-5d78c9869d',
      need: '3',
    });
    expect(sched.fields).toMatchObject({ level: 'error' });
    expect(ccm.fields).toMatchObject({ level: 'warning' });
  });

  it('Lambda: platform lines, runtime lines, prefixed JSON, else message only', async () => {
    const [start, report, app, pre, init, plain] = await run([
      rec(LAMBDA, LSTREAM, `START RequestId: ${RID} Version: $LATEST`),
      rec(
        LAMBDA,
        LSTREAM,
        `REPORT RequestId: ${RID}\tDuration: 1.5 ms\tBilled Duration: 2 ms\tMemory Size: 256 MB\tMax Memory Used: 64 MB\t`,
      ),
      rec(LAMBDA, LSTREAM, `2024-03-05T10:11:12.345Z\t${RID}\tINFO\t{"orderId":"o-1"}`),
      rec(LAMBDA, LSTREAM, 'DEBUG something {"k":1}'),
      rec(LAMBDA, LSTREAM, 'INIT_START Runtime Version: nodejs:22.v10'),
      rec(LAMBDA, LSTREAM, 'plain print output'),
    ]);
    expect(start.fields).toEqual({ '@type': 'START', '@requestId': RID });
    expect(report.fields).toMatchObject({ '@type': 'REPORT', '@duration': 1.5, '@memorySize': 256_000_000 });
    expect(app.fields).toEqual({ '@requestId': RID, level: 'info', orderId: 'o-1' });
    expect(pre.fields).toEqual({ k: 1 });
    expect(init.fields).toEqual({});
    expect(plain.fields).toEqual({});
  });

  it('ECS / generic: JSON, clear logfmt, else message only', async () => {
    const ecs = 'ecs/web/0123456789abcdef0123456789abcdef';
    const [json, lf, prose, half, broken, prefixed, braces] = await run([
      rec('/ecs/web', ecs, '{"level":"info","msg":"ok","http":{"status":200}}'),
      rec('/ecs/web', ecs, 'level=info msg="request done" status=200'),
      rec('/ecs/web', ecs, 'GET /health 200 in 3ms'),
      rec('/custom/app', 'host-1', 'Starting server with port=8080'),
      rec('/custom/app', 'host-1', '{"level":"info",'),
      rec('/ecs/web', ecs, '2024-01-01T00:00:00Z INFO {"user":"alice","ok":true}'),
      rec('/ecs/web', ecs, 'config map[a:b] {not json}'),
    ]);
    expect(json.fields).toEqual({ level: 'info', msg: 'ok', http: { status: 200 } });
    expect(lf.fields).toEqual({ level: 'info', msg: 'request done', status: '200' });
    expect(prose.fields).toEqual({});
    expect(half.fields).toEqual({});
    // Broken JSON that looked like JSON is a real parse failure: annotated when asked.
    expect(String(broken.fields['@parseError'])).toMatch(/^json: invalid JSON/);
    expect(prefixed.fields).toEqual({ user: 'alice', ok: true });
    expect(braces.fields).toEqual({});
  });

  it('never changes the event time or the message', async () => {
    const msg = 'I0101 00:00:00.000000       1 a.go:1] "x" time="1999-01-01"';
    const [r] = await run([rec(EKS, 'kube-apiserver-1', msg)]);
    expect(r.timestamp).toBe(TS);
    expect(r.message).toBe(msg);
  });

  it('caches classification per stream in a bounded map', async () => {
    const select = createAutoSelect({ maxStreams: 3 });
    for (let i = 0; i < 10; i++) select(rec('/aws/lambda/f', `2024/01/01/[1]${i}`, 'x'));
    expect(select.cacheSize()).toBe(3);
    const a = select(rec(EKS, 'kube-apiserver-audit-1', '{}'));
    const b = select(rec(EKS, 'kube-apiserver-audit-1', '{}'));
    expect(a).toBe(b);
    expect(a.type).toBe('k8s-audit');
  });
});

describe('parser registry', () => {
  it('registers every parser with a strict schema', async () => {
    expect(parsers.map((p) => p.type).sort()).toEqual([
      'apache',
      'eks-authenticator',
      'json',
      'k8s-audit',
      'klog',
      'lambda-platform',
      'logfmt',
      'ltsv',
      'nginx',
      'regex',
      'syslog',
    ]);
    for (const spec of parsers) {
      expect(spec.schema.safeParse({ type: spec.type, bogus: 1 }).success, spec.type).toBe(false);
    }
    const json = parsers.find((p) => p.type === 'json')!;
    const cfg = json.schema.parse({ type: 'json' });
    expect(cfg).toEqual({ type: 'json', prefix: true, timeKeep: false });
    const parser = json.create(cfg, {}) as { parse: (t: string, r: LogRecord) => unknown };
    expect(parser.parse('x {"a":1}', rec('g', 's', ''))).toEqual({ a: 1 });
  });
});
