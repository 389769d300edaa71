/**
 * The node agent chart (charts/logferry-agent): `helm lint --strict` is clean with each CI values
 * file, `helm template` output passes kubernetes-validate --strict (the Kubernetes schemas), and
 * the rendered objects say what the chart promises: a DaemonSet with read-only host log mounts, a
 * host-path filesystem buffer, resource limits, IRSA annotation, RBAC limited to namespaces/pods
 * get/list/watch, and a logferry config with the `file` source and a disk-buffered sink. Helm and
 * kubernetes-validate are installed by the test itself (cached).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHelm, ensureKubernetesValidate } from './infra/helm.js';

const chart = new URL('../charts/logferry-agent', import.meta.url).pathname;
const ciValues = readdirSync(join(chart, 'ci')).filter((f) => f.endsWith('.yaml'));
let helm: string;
let validate: string;
let dir: string;

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects
type Obj = any;

/** `helm template` with one CI values file, in namespace `logging`. */
function template(values: string) {
  return run(helm, ['template', 'agent', chart, '--namespace', 'logging', '-f', join(chart, 'ci', values)]);
}

function render(values: string): Obj[] {
  const r = template(values);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return parseAllDocuments(r.out)
    .map((d) => d.toJS())
    .filter(Boolean);
}

beforeAll(() => {
  helm = ensureHelm();
  validate = ensureKubernetesValidate();
  dir = mkdtempSync(join(tmpdir(), 'lf-helm-'));
}, 1_200_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('charts/logferry-agent', () => {
  it('has CI values files to lint and render with', () => {
    expect(ciValues.sort()).toEqual(['firehose-values.yaml', 'kinesis-values.yaml']);
  });

  it.each(ciValues)('helm lint --strict is clean with ci/%s', (values) => {
    const r = run(helm, ['lint', chart, '--strict', '-f', join(chart, 'ci', values)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('0 chart(s) failed');
    expect(r.out).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it.each(ciValues)('helm template output with ci/%s passes the Kubernetes schemas', (values) => {
    const r = template(values);
    expect(r.code).toBe(0);
    const file = join(dir, `${values}.rendered.yaml`);
    writeFileSync(file, r.out);
    const v = run(validate, ['--strict', file]);
    expect(v.err + v.out).not.toMatch(/ERROR|WARN|failed/i);
    expect(v.code).toBe(0);
    for (const kind of ['serviceaccount', 'configmap', 'clusterrole', 'clusterrolebinding', 'daemonset'])
      expect(v.out + v.err).toContain(`passed for resource ${kind}/agent-logferry-agent`);
  });

  it('renders a DaemonSet with read-only host logs, a host-path disk buffer, limits and IRSA', () => {
    const objs = render('kinesis-values.yaml');
    const ds = objs.find((o) => o.kind === 'DaemonSet');
    const pod = ds.spec.template.spec;
    const c = pod.containers[0];
    expect(c.resources.limits).toEqual({ cpu: '1', memory: '512Mi' });
    expect(c.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    const mounts = Object.fromEntries(c.volumeMounts.map((m: Obj) => [m.name, m]));
    expect(mounts.containers).toMatchObject({ mountPath: '/var/log/containers', readOnly: true });
    expect(mounts.pods).toMatchObject({ mountPath: '/var/log/pods', readOnly: true });
    expect(mounts.buffer.readOnly).toBeUndefined();
    const vols = Object.fromEntries(pod.volumes.map((v: Obj) => [v.name, v]));
    expect(vols.containers.hostPath).toEqual({ path: '/var/log/containers', type: 'Directory' });
    expect(vols.buffer.hostPath).toEqual({ path: '/var/lib/logferry-agent', type: 'DirectoryOrCreate' });
    const sa = objs.find((o) => o.kind === 'ServiceAccount');
    expect(pod.serviceAccountName).toBe(sa.metadata.name);
    expect(sa.metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/logferry-agent',
    });
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('grants only get/list/watch on namespaces and pods, bound to the agent service account', () => {
    const objs = render('firehose-values.yaml');
    const role = objs.find((o) => o.kind === 'ClusterRole');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['namespaces', 'pods'], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = objs.find((o) => o.kind === 'ClusterRoleBinding');
    const sa = objs.find((o) => o.kind === 'ServiceAccount');
    expect(binding.roleRef.name).toBe(role.metadata.name);
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'logging' },
    ]);
    // Pod Identity: no IRSA role, other annotations kept.
    expect(sa.metadata.annotations).toEqual({ 'example.com/owner': 'platform' });
  });

  it.each([
    [
      'kinesis-values.yaml',
      { type: 'kinesis', streamName: 'logferry-logs', region: 'us-east-1' },
      1073741824,
    ],
    [
      'firehose-values.yaml',
      { type: 'firehose', deliveryStreamName: 'logferry-archive', region: 'eu-west-1' },
      4294967296,
    ],
  ])(
    'the config map holds the logferry config: file source, disk-buffered sink (%s)',
    (values, sink, maxBytes) => {
      const cm = render(values).find((o) => o.kind === 'ConfigMap');
      const config = parse(cm.data['logferry.yaml']);
      expect(config.sources).toEqual({
        containers: { type: 'file', path: '/var/log/containers/*.log', tag: 'kube.*' },
      });
      expect(config.sinks.destination).toEqual({
        ...sink,
        buffer: { type: 'disk', path: '/var/lib/logferry-agent/buffer', maxBytes },
      });
      expect(config.dataDir).toBe('/var/lib/logferry-agent/state');
    },
  );

  it('refuses to render without a destination or with two, saying what to set', () => {
    const none = run(helm, ['template', 'agent', chart, '--set', 'aws.region=us-east-1']);
    expect(none.code).not.toBe(0);
    expect(none.err).toContain('set destination.kinesisStream or destination.firehoseDeliveryStream');
    const two = run(helm, [
      'template',
      'agent',
      chart,
      '--set',
      'aws.region=us-east-1',
      '--set',
      'destination.kinesisStream=a',
      '--set',
      'destination.firehoseDeliveryStream=b',
    ]);
    expect(two.code).not.toBe(0);
    expect(two.err).toContain('set only one of');
  });
});
