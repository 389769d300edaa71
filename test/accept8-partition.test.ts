/**
 * Issue #8 §2 provenance of `raw` archives (session 5, accept8): with the Hive keys or the
 * `log_group` prefix docs/firehose.md suggests for busy Lambda accounts
 * (`component=${component}/log_group=${log_group}/log_stream=${log_stream}/…`), raw Lambda lines
 * had no `@log`/`@logStream`: the key's `log_group` was never read and a `log_stream` holding `_`
 * was ignored. The `/` → `_` form is unambiguous for EKS and Lambda groups and for Lambda streams.
 */
import { describe, expect, it } from 'vitest';
import { parseObjectKey } from '../src/query/backends/partition-path.js';

describe('Hive log_group / log_stream keys give raw lines their provenance', () => {
  it('Lambda: group and stream recovered exactly', () => {
    const info = parseObjectKey(
      'component=lambda/log_group=_aws_lambda_orders_api-v2/log_stream=2026_12_06_[$LATEST]938b1cfa2090e44743c09a1d0c792417/dt=2026-12-06/logferry-2026-12-06-04-21-58-cfa8d9229d642ad1.gz',
    );
    expect(info.logGroup).toBe('/aws/lambda/orders_api-v2');
    expect(info.logStream).toBe('2026/12/06/[$LATEST]938b1cfa2090e44743c09a1d0c792417');
    expect(info.fields).toMatchObject({ component: 'lambda', log_group: '_aws_lambda_orders_api-v2' });
  });

  it('EKS: group from log_group, stream as written (EKS streams hold no `/`)', () => {
    const info = parseObjectKey(
      'log_group=_aws_eks_demo-prod_cluster/log_stream=kube-apiserver-audit-6d010770feacb771748ca60a7d213b2e/x-2026-12-06-04-00-00-abc.gz',
    );
    expect(info.logGroup).toBe('/aws/eks/demo-prod/cluster');
    expect(info.logStream).toBe('kube-apiserver-audit-6d010770feacb771748ca60a7d213b2e');
  });

  it('ambiguous groups and streams stay unnamed (fields only)', () => {
    const info = parseObjectKey('log_group=_ecs_check_out/log_stream=web_app_ef7512c6/x.gz');
    expect(info.logGroup).toBeUndefined();
    expect(info.logStream).toBeUndefined();
    expect(info.fields).toEqual({ log_group: '_ecs_check_out', log_stream: 'web_app_ef7512c6' });
  });
});
