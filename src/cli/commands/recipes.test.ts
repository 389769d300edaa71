import { describe, expect, it } from 'vitest';
import { findRecipe } from '../../query/recipes/index.js';
import { runHint } from './recipes.js';

describe('logferry recipes <name>: the Run: hint', () => {
  const r = findRecipe('eks/hpa-status'); // namespace and name are required, cluster is optional

  it('asks for each required parameter when none is given', () => {
    expect(runHint(r, {})).toBe('logferry query --recipe eks/hpa-status --param namespace=… --param name=…');
  });

  it('repeats the given values, quoted for the shell, and keeps the missing required ones', () => {
    expect(runHint(r, { name: "it's a value", cluster: 'prod', nope: 'x' })).toBe(
      "logferry query --recipe eks/hpa-status --param namespace=… --param 'name=it'\\''s a value' --param cluster=prod",
    );
  });

  it('writes a plain value unquoted', () => {
    const hint = runHint(findRecipe('eks/aws-auth-changes'), { cluster: 'prod' });
    expect(hint).toBe('logferry query --recipe eks/aws-auth-changes --param cluster=prod');
  });
});
