import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../core/record.js';
import { addFieldsSchema, createAddFieldsTransform } from './add-fields.js';
import { issues, testRecord as rec } from './test-records.js';

const make = (o: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
  createAddFieldsTransform(addFieldsSchema.parse({ type: 'add-fields', ...o }), { env });
const fields = (r: unknown) => (r as LogRecord).fields;

describe('add-fields transform', () => {
  it('static values, nested names, existing fields kept unless overwrite', () => {
    const t = make({ fields: { env: 'prod', 'service.team': 'payments', tags: ['a'] } });
    expect(fields(t.apply(rec({ env: 'dev' })))).toEqual({
      env: 'dev',
      service: { team: 'payments' },
      tags: ['a'],
    });
    const o = make({ fields: { env: 'prod' }, overwrite: true });
    expect(fields(o.apply(rec({ env: 'dev' })))).toEqual({ env: 'prod' });
    const a = fields(t.apply(rec())).tags as string[];
    a.push('b');
    expect(fields(t.apply(rec())).tags).toEqual(['a']);
  });

  it('AWS context for EKS control-plane streams', () => {
    const t = make({ aws: true }, { AWS_REGION: 'eu-west-1' });
    expect(fields(t.apply(rec()))).toEqual({
      aws: {
        account: '123456789012',
        region: 'eu-west-1',
        logGroup: '/aws/eks/prod/cluster',
        logStream: 'kube-apiserver-audit-0123',
        eks: { cluster: 'prod', component: 'kube-apiserver-audit' },
      },
    });
    const sched = fields(t.apply(rec({}, {}, { logStream: 'kube-scheduler-abc' }))) as {
      aws: { eks: unknown };
    };
    expect(sched.aws.eks).toEqual({ cluster: 'prod', component: 'kube-scheduler' });
  });

  it('Lambda and ECS context; items that do not apply are left out', () => {
    const t = make({
      aws: { function: 'fn', cluster: 'cluster', container: 'container', task: 'task', account: 'acct' },
    });
    expect(
      fields(t.apply(rec({}, {}, { logGroup: '/aws/lambda/orders', logStream: '2024/01/01/[$LATEST]abc' }))),
    ).toEqual({
      fn: 'orders',
      acct: '123456789012',
    });
    expect(
      fields(
        t.apply(
          rec(
            {},
            {},
            { logGroup: '/ecs/web', logStream: 'web/nginx/0123456789abcdef0123456789abcdef', owner: '' },
          ),
        ),
      ),
    ).toEqual({ container: 'nginx', task: '0123456789abcdef0123456789abcdef' });
  });

  it('region: option beats environment; absent when unknown', () => {
    expect(
      fields(make({ aws: { region: 'r' }, region: 'us-east-1' }, { AWS_REGION: 'eu-west-1' }).apply(rec())),
    ).toEqual({
      r: 'us-east-1',
    });
    expect(fields(make({ aws: { region: 'r' } }, { AWS_DEFAULT_REGION: 'ap-south-1' }).apply(rec()))).toEqual(
      { r: 'ap-south-1' },
    );
    expect(fields(make({ aws: { region: 'r' } }, {}).apply(rec()))).toEqual({});
  });

  it('classification follows stream changes between records', () => {
    const t = make({ aws: { component: 'c' } });
    const got = ['kube-apiserver-audit-1', 'authenticator-2', 'authenticator-2', 'other'].map(
      (s) => fields(t.apply(rec({}, {}, { logStream: s }))).c,
    );
    expect(got).toEqual(['kube-apiserver-audit', 'authenticator', 'authenticator', undefined]);
  });

  it('refuses bad config', () => {
    expect(issues(addFieldsSchema.safeParse({ type: 'add-fields' }))).toEqual([
      ': add-fields needs fields, aws or both',
    ]);
    expect(issues(addFieldsSchema.safeParse({ type: 'add-fields', aws: { acount: 'x' } })).join()).toMatch(
      /acount/,
    );
    expect(issues(addFieldsSchema.safeParse({ type: 'add-fields', aws: false })).join()).toMatch(/aws/);
    expect(
      issues(addFieldsSchema.safeParse({ type: 'add-fields', fields: { '@timestamp': 1 } })).join(),
    ).toMatch(/system fields/);
    expect(
      issues(addFieldsSchema.safeParse({ type: 'add-fields', aws: true, region: 'Ireland' })).join(),
    ).toMatch(/region/);
  });
});
