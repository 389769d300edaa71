import { describe, expect, it } from 'vitest';
import { actionsFor, CALLS, type OnboardCommand, policyFor } from './calls.js';

/** Actions IAM cannot scope to a resource (service authorization reference): `*` is the only choice. */
const NO_RESOURCE_LEVEL = new Set([
  'lambda:ListFunctions',
  'ecs:ListServices',
  'ecs:DescribeTaskDefinition',
  'ecs:RegisterTaskDefinition',
  'ecs:TagResource',
  'ecs:DeregisterTaskDefinition',
]);

describe('policyFor', () => {
  for (const command of Object.keys(CALLS) as OnboardCommand[]) {
    it(`${command}: exact actions, no wildcard action, * only where IAM allows nothing narrower`, () => {
      const policy = policyFor(command, {
        region: 'eu-west-1',
        account: '123456789012',
        cluster: 'c',
        stack: 's',
      });
      const actions = policy.Statement.flatMap((s) => s.Action);
      expect(new Set(actions)).toEqual(actionsFor(command));
      // An action appears once, except PassRole: one statement per service it is passed to.
      const scoped = actions.filter((a) => a !== 'iam:PassRole');
      expect(scoped.length).toBe(new Set(scoped).size);
      expect(new Set(policy.Statement.map((s) => s.Sid)).size).toBe(policy.Statement.length);
      for (const s of policy.Statement) {
        for (const a of s.Action) expect(a).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
        if (s.Resource.includes('*')) for (const a of s.Action) expect(NO_RESOURCE_LEVEL).toContain(a);
        for (const r of s.Resource)
          if (r !== '*') expect(r).toMatch(/^arn:aws:[a-z0-9-]+:(eu-west-1)?:123456789012:/);
        expect(s.Sid).toMatch(/^[A-Za-z0-9]+$/);
      }
      for (const s of policy.Statement.filter((x) => x.Action.includes('iam:PassRole')))
        expect(s.Condition?.StringEquals?.['iam:PassedToService']).toBeDefined();
    });
  }

  it('scopes PassRole to the given CloudWatch Logs role and the stack read to the given stack', () => {
    const role = 'arn:aws:iam::123456789012:role/logferry-cwl';
    const policy = policyFor('onboard lambda', {
      account: '123456789012',
      region: 'us-east-1',
      stack: 'logs',
      role,
    });
    const pass = policy.Statement.find((s) => s.Action.includes('iam:PassRole'))!;
    expect(pass.Resource).toEqual([role]);
    const stack = policy.Statement.find((s) => s.Action.includes('cloudformation:DescribeStacks'))!;
    expect(stack.Resource).toEqual(['arn:aws:cloudformation:us-east-1:123456789012:stack/logs/*']);
  });

  it('scopes lambda:GetLayerVersion to the extension layer version, in onboarding and rollback alike', () => {
    const layer = 'arn:aws:lambda:us-east-1:123456789012:layer:logferry-extension:3';
    for (const command of ['onboard lambda', 'onboard rollback'] as const) {
      const policy = policyFor(command, { account: '123456789012', region: 'us-east-1', layer });
      const get = policy.Statement.find((s) => s.Action.includes('lambda:GetLayerVersion'))!;
      expect(get.Resource).toEqual([layer]);
      const upd = policy.Statement.find((s) => s.Action.includes('lambda:UpdateFunctionConfiguration'))!;
      expect(upd.Resource).toEqual(['arn:aws:lambda:us-east-1:123456789012:function:*']);
    }
    const any = policyFor('onboard lambda', { account: '123456789012', region: 'us-east-1' });
    expect(any.Statement.find((s) => s.Action.includes('lambda:GetLayerVersion'))!.Resource).toEqual([
      'arn:aws:lambda:us-east-1:123456789012:layer:*:*',
    ]);
  });

  it('leaves unknown parts as * (region, account) without widening the action list', () => {
    const policy = policyFor('onboard eks');
    const upd = policy.Statement.find((s) => s.Action.includes('eks:UpdateClusterConfig'))!;
    expect(upd.Resource).toEqual(['arn:aws:eks:*:*:cluster/*']);
  });
});
