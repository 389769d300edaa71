import { describe, expect, it } from 'vitest';
import { partitionKeys } from '../../aws/partition.js';
import { parseObjectKey } from './partition-path.js';

describe('parseObjectKey', () => {
  it('reads the seed EKS layout the S3 sink writes (group, component, exact stream, name time)', () => {
    const k = partitionKeys(
      '/aws/eks/prod/cluster',
      'kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329',
      Date.UTC(2026, 10, 22, 9, 5),
    );
    const key = `${k.object_prefix}/logs-2026-11-22-09-05-07-abcdef12.gz`;
    expect(key.startsWith('_aws_eks_prod_cluster/kube-apiserver-audit/')).toBe(true);
    const info = parseObjectKey(key);
    expect(info.logGroup).toBe('/aws/eks/prod/cluster');
    expect(info.cluster).toBe('prod');
    expect(info.streamPrefix).toBe('kube-apiserver-audit');
    expect(info.logStream).toBe('kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329');
    expect(info.fields).toEqual({ cluster: 'prod', component: 'kube-apiserver-audit' });
    expect(info.keyTimeMs).toBe(Date.UTC(2026, 10, 22, 9, 5, 7));
  });
  it('keeps cluster names with underscores', () => {
    const info = parseObjectKey(
      '_aws_eks_my_prod_cluster/authenticator/authenticator-1111222272c52cc05e3177863bdcc12d/x.gz',
    );
    expect(info.logGroup).toBe('/aws/eks/my_prod/cluster');
  });
  it('reads Hive keys: component, cluster, dt and hour window', () => {
    const info = parseObjectKey('cluster=prod/component=kube-apiserver/dt=2026-11-22/hour=07/part-0001.gz');
    expect(info.cluster).toBe('prod');
    expect(info.streamPrefix).toBe('kube-apiserver');
    expect(info.keyFromMs).toBe(Date.UTC(2026, 10, 22, 7));
    expect(info.keyToMs).toBe(Date.UTC(2026, 10, 22, 8));
    expect(parseObjectKey('dt=2026-11-22/x.gz').keyToMs).toBe(Date.UTC(2026, 10, 23));
  });
  it('reads the Firehose default time prefix and object name time', () => {
    const info = parseObjectKey('logs/2026/11/22/13/stream-1-2026-11-22-13-59-58-6a1b2c3d.gz');
    expect(info.keyFromMs).toBe(Date.UTC(2026, 10, 22, 13));
    expect(info.keyToMs).toBe(Date.UTC(2026, 10, 22, 14));
    expect(info.keyTimeMs).toBe(Date.UTC(2026, 10, 22, 13, 59, 58));
  });
  it('knows nothing about the default prefix', () => {
    const info = parseObjectKey('default/batch.gz');
    expect(info).toEqual({ key: 'default/batch.gz' });
  });
  it('reads the Lambda, ECS and other-group layouts back to the exact group and stream', () => {
    const cases: [string, string, string][] = [
      ['/aws/lambda/orders_api', '2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef', 'lambda'],
      ['/ecs/check_out', 'web/app/ef7512c63ef2498880ecf78fd8f9ed11', 'ecs'],
      ['/custom/batch jobs', 'worker_7', 'default'],
      ['plain-group', 'a/b/c', 'default'],
    ];
    for (const [group, stream, component] of cases) {
      const k = partitionKeys(group, stream, Date.UTC(2026, 10, 22));
      const info = parseObjectKey(`${k.object_prefix}/logferry-2026-11-22-00-00-01-abcdef12.gz`);
      expect(info.logGroup, group).toBe(group);
      expect(info.logStream, group).toBe(stream);
      expect(info.component, group).toBe(component);
      // The layout's component is a partition field, as a Hive `component=` key is.
      expect(info.fields, group).toEqual({ component });
      expect(info.keyTimeMs).toBe(Date.UTC(2026, 10, 22, 0, 0, 1));
    }
  });
  it('exposes every Hive key=value segment as a partition field', () => {
    const info = parseObjectKey('component=lambda/log_group=_aws_lambda_x/dt=2026-11-22/hour=07/part.gz');
    expect(info.fields).toEqual({
      component: 'lambda',
      log_group: '_aws_lambda_x',
      dt: '2026-11-22',
      hour: '07',
    });
    expect(info.streamPrefix).toBeUndefined();
    expect(parseObjectKey('team=a%20b/x.gz').fields).toEqual({ team: 'a b' });
  });
});
