import { describe, expect, it } from 'vitest';
import { resolveRefs } from './engine.js';
import { PLAN_FORMAT, type Plan, type PlanStep, planDrift, renderPlan } from './plan.js';

const step = (id: string, observed: unknown): PlanStep => ({
  id,
  resource: `log group ${id}`,
  action: 'subscribe',
  call: { service: 'logs', operation: 'PutSubscriptionFilter', input: { logGroupName: id } },
  changes: [
    { field: 'a', before: undefined, after: 1 },
    { field: 'b', before: 'x', after: 'y' },
  ],
  observed,
  undo: [],
});

const plan = (steps: PlanStep[]): Plan => ({
  format: PLAN_FORMAT,
  command: 'onboard lambda',
  args: {},
  region: 'us-east-1',
  createdAt: '2026-01-01T00:00:00Z',
  destination: {
    arn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s',
    roleArn: 'arn:aws:iam::123456789012:role/r',
  },
  steps,
  notes: [
    {
      level: 'warn',
      resource: 'function f',
      message: 'owned by a stack',
      patch: 'LoggingConfig:\n  LogFormat: JSON',
    },
  ],
});

describe('planDrift', () => {
  it('finds changed, vanished and new steps and a changed destination', () => {
    const saved = plan([step('g1', { n: 1 }), step('g2', { n: 1 })]);
    expect(planDrift(saved, plan([step('g1', { n: 1 }), step('g2', { n: 1 })]))).toEqual([]);
    const drift = planDrift(saved, {
      ...plan([step('g1', { n: 2 }), step('g3', {})]),
      destination: { arn: 'x' },
    });
    expect(drift).toHaveLength(4);
    expect(drift.join('\n')).toMatch(/g1.*changed since/);
    expect(drift.join('\n')).toMatch(/g2.*no longer needed/);
    expect(drift.join('\n')).toMatch(/g3.*not in the plan/);
  });
});

describe('renderPlan', () => {
  it('shows one line per changed field, notes and patches, and says nothing changed', () => {
    const text = renderPlan(plan([step('g1', {})]));
    expect(text).toContain('logs:PutSubscriptionFilter  log group g1  a: (none) → 1');
    expect(text).toMatch(/\n\s+b: x → y\n/);
    expect(text).toContain(
      'warning: function f: owned by a stack\n    LoggingConfig:\n      LogFormat: JSON',
    );
    expect(text).toContain('Nothing has been changed');
    expect(renderPlan(plan([]))).toContain('Nothing to do');
  });
});

describe('resolveRefs', () => {
  it('replaces $ref objects with recorded outputs, deeply, and refuses unknown ones', () => {
    const outputs = new Map([['register:td', { taskDefinitionArn: 'arn:td:2' }]]);
    expect(resolveRefs({ a: [{ $ref: 'register:td.taskDefinitionArn' }], b: 1 }, outputs)).toEqual({
      a: ['arn:td:2'],
      b: 1,
    });
    expect(() => resolveRefs({ $ref: 'other.x' }, outputs)).toThrow(/unresolved reference/);
  });
});
