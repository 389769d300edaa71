import { describe, expect, it } from 'vitest';
import { decodeKeySegment, encodeKeySegment, objectPrefix, partitionKeys } from './partition.js';

const T = Date.UTC(2026, 10, 22, 9, 5);

describe('partitionKeys', () => {
  it("keeps the seed's EKS layout byte for byte", () => {
    // The seed (000): logGroup.replace(/\//g, '_') + '/' + component + '/' + logStream.replace(/\//g, '_').
    const seed = (group: string, stream: string, component: string) =>
      `${group.replace(/\//g, '_')}/${component}/${stream.replace(/\//g, '_')}`;
    for (const [stream, component] of [
      ['kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329', 'kube-apiserver-audit'],
      ['kube-apiserver-934e06efeb2e9416b02fa19f9a2d1774', 'kube-apiserver'],
      ['authenticator-1111222272c52cc05e3177863bdcc12d', 'authenticator'],
      ['kube-controller-manager-aa', 'kube-controller-manager'],
      ['cloud-controller-manager-bb', 'cloud-controller-manager'],
      ['kube-scheduler-cc', 'kube-scheduler'],
    ]) {
      for (const group of ['/aws/eks/prod/cluster', '/aws/eks/my_prod/cluster']) {
        const k = partitionKeys(group, stream, T);
        expect(k.object_prefix).toBe(seed(group, stream, component));
        expect(k.component).toBe(component);
      }
    }
  });

  it('partitions Lambda by function, with the stream in the key', () => {
    const k = partitionKeys(
      '/aws/lambda/orders-api',
      '2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef',
      T,
    );
    expect(k.object_prefix).toBe(
      '_aws_lambda_orders-api/lambda/2026_11_22_[$LATEST]0123456789abcdef0123456789abcdef',
    );
    expect(k.component).toBe('lambda');
    expect(objectPrefix('/aws/lambda/my_fn', '2026/11/22/[7]ab')).toBe(
      '_aws_lambda_my_fn/lambda/2026_11_22_[7]ab',
    );
  });

  it('partitions ECS by log group, then task stream (prefix/container/task), reversibly', () => {
    const stream = 'web/app_server/ef7512c63ef2498880ecf78fd8f9ed11';
    const k = partitionKeys('/ecs/check_out', stream, T);
    expect(k.object_prefix).toBe('_ecs_check%5Fout/ecs/web_app%5Fserver_ef7512c63ef2498880ecf78fd8f9ed11');
    const [g, c, s] = k.object_prefix.split('/');
    expect([decodeKeySegment(g), c, decodeKeySegment(s)]).toEqual(['/ecs/check_out', 'ecs', stream]);
  });

  it('gives other log groups their own partition instead of one default/', () => {
    expect(objectPrefix('/custom/batch-jobs', 'worker-7')).toBe('_custom_batch-jobs/default/worker-7');
    expect(objectPrefix('/aws/eks/prod/cluster', 'some-new-component-1')).toBe(
      '_aws_eks_prod_cluster/default/some-new-component-1',
    );
  });

  it('encodes any name reversibly into one safe segment', () => {
    for (const name of ['/a/b_c', 'x%y', 'sp ace#1', 'ünï/cödé', '..', '.', 'a=b', 'p?q&r', '日本/語']) {
      const seg = encodeKeySegment(name);
      expect(seg).not.toMatch(/[/=?&#\s]/);
      expect(seg).not.toMatch(/^\.+$/);
      expect(decodeKeySegment(seg)).toBe(name);
    }
    expect(decodeKeySegment('a=b')).toBeUndefined();
    expect(decodeKeySegment('%zz')).toBeUndefined();
  });

  it('never yields NaN time keys', () => {
    expect(partitionKeys('/x', 'y', Number.NaN)).toMatchObject({
      year: '1970',
      month: '01',
      day: '01',
      hour: '00',
    });
  });

  it('never yields NaN keys for times outside what a date can hold (1e20, ±Infinity)', () => {
    for (const t of [1e20, -1e20, 8.64e15 + 1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const k = partitionKeys('/aws/lambda/f', 's', t);
      for (const v of [k.year, k.month, k.day, k.hour]) expect(v).toMatch(/^\d+$/);
      expect(k.year).toHaveLength(4);
    }
    expect(partitionKeys('/x', 'y', 1e20)).toMatchObject({
      year: '9999',
      month: '12',
      day: '31',
      hour: '23',
    });
    expect(partitionKeys('/x', 'y', -1e20)).toMatchObject({ year: '0000', month: '01', day: '01' });
  });
});
