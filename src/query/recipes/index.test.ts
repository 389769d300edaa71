import { describe, expect, it } from 'vitest';
import { isLogferryError } from '../../core/errors.js';
import { compileQuery, parseQuery } from '../index.js';
import { expandRecipe, findRecipe, parseParamArgs, RECIPES } from './index.js';

const SAMPLE: Record<string, string> = {
  task: 'ef7512c63ef2498880ecf78fd8f9ed11',
  container: 'nginx',
  namespace: 'test-namespace',
  name: 'test-hpa',
};

function required(name: string): Record<string, string> {
  const r = findRecipe(name);
  const out: Record<string, string> = {};
  for (const p of r.params) if (p.default === undefined) out[p.name] = SAMPLE[p.name];
  return out;
}

describe('recipes', () => {
  it('has unique names, descriptions, and the ones people ask for', () => {
    const names = RECIPES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of [
      'eks/aws-auth-changes',
      'eks/access-denied',
      'eks/evictions',
      'eks/pod-deletes',
      'eks/node-deletes',
      'eks/non-read-by-resource',
      'eks/errors-by-component',
      'lambda/cold-starts',
      'lambda/duration-percentiles',
      'ecs/task-logs',
    ])
      expect(names).toContain(n);
    for (const r of RECIPES) expect(r.description.length).toBeGreaterThan(10);
  });

  it('every recipe expands with its defaults and compiles', () => {
    for (const r of RECIPES) {
      const text = expandRecipe(r, required(r.name));
      expect(() => parseQuery(text), `${r.name}:\n${text}`).not.toThrow();
      expect(() => compileQuery(text)).not.toThrow();
      expect(text).not.toMatch(/\{\{/);
    }
  });

  it('adds optional filters only when given, escaping for strings and regexes', () => {
    const r = findRecipe('eks/aws-auth-changes');
    expect(expandRecipe(r, {})).not.toContain('@log like');
    expect(expandRecipe(r, { cluster: 'prod' })).toContain('| filter @log like "/aws/eks/prod/cluster"');
    const c = expandRecipe(findRecipe('ecs/container-logs'), { container: 'web_app', prefix: 'my.pre' });
    expect(c).toContain('| filter @logStream like /^my\\.pre\\/web_app\\//');
    const u = expandRecipe(findRecipe('eks/user-actions'), { user: "o'brien" });
    expect(u).toContain('user.username like "o\\\'brien"');
  });

  it('validates parameters and reports every problem at once', () => {
    const err = (() => {
      try {
        expandRecipe(findRecipe('ecs/task-logs'), { task: 'nope"', limit: '0', bogus: '1' });
      } catch (e) {
        return e;
      }
    })();
    expect(isLogferryError(err, 'CONFIG_INVALID')).toBe(true);
    const problems = (err as { details: { problems: string[] } }).details.problems;
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/unknown parameter 'bogus'/);
    expect(problems.join('\n')).toMatch(/task="nope\\"": expected a task id/);
    expect(() => expandRecipe(findRecipe('ecs/task-logs'), {})).toThrow(/missing parameter 'task'/);
    expect(() => findRecipe('aws-auth-changes')).toThrow(/did you mean eks\/aws-auth-changes/);
    expect(parseParamArgs(['a=b=c', 'x='])).toEqual({ a: 'b=c', x: '' });
    expect(() => parseParamArgs(['novalue'])).toThrow(/expected name=value/);
  });

  it('writes a bin period within Logs Insights caps (300s → 5m) and refuses one no unit writes exactly', () => {
    const r = findRecipe('lambda/cold-starts');
    const run = (bin: string) => expandRecipe(r, { bin });
    expect(run('300s')).toContain('by bin(5m)');
    expect(run('48h')).toContain('by bin(2d)');
    expect(run('120m')).toContain('by bin(2h)');
    expect(run('45s')).toContain('by bin(45s)');
    expect(run('3000ms')).toContain('by bin(3s)');
    for (const ok of ['300s', '48h', '120m', '3000ms']) expect(() => compileQuery(run(ok))).not.toThrow();
    const problems = (bin: string) => {
      try {
        run(bin);
      } catch (e) {
        return (e as { details: { problems: string[] } }).details.problems;
      }
      return [];
    };
    expect(problems('90m')).toEqual([
      `parameter bin="90m": 90m is over Logs Insights' cap of 60m and no larger unit writes it exactly; use 1h or 2h`,
    ]);
    expect(problems('30h')[0]).toMatch(/use 1d or 2d$/);
    expect(problems('0m')[0]).toMatch(/at least 1/);
  });
});
