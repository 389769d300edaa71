/**
 * cfn-lint (PyPI) for the CDK template tests: installed on first use into a virtualenv in the test
 * cache, as moto.ts does for moto; `LOGFERRY_CFN_LINT` may point at an existing `cfn-lint` instead.
 * Tests call `cfnLint(files)` lazily, so runs that do not lint templates never install it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './cache.js';

const CFN_LINT_SPEC = 'cfn-lint>=1.20,<2';

export function ensureCfnLint(): string {
  if (process.env.LOGFERRY_CFN_LINT) return process.env.LOGFERRY_CFN_LINT;
  const venv = cacheDir('cfn-lint-venv');
  const bin = join(venv, 'bin', 'cfn-lint');
  if (!existsSync(bin)) {
    // Several test workers or clones may get here at once: install under a lock, re-checking inside it.
    console.log(`[test] installing ${CFN_LINT_SPEC} into ${venv} (first run only)…`);
    const script = `[ -x "$1/bin/cfn-lint" ] || { python3 -m venv "$1" && "$1/bin/pip" install --quiet --disable-pip-version-check "$2"; }`;
    execFileSync('flock', [`${venv}.lock`, 'sh', '-c', script, 'sh', venv, CFN_LINT_SPEC], {
      stdio: 'inherit',
    });
  }
  return bin;
}

export interface CfnLintMatch {
  Rule: { Id: string };
  Level: string;
  Message: string;
  Filename: string;
  Location?: { Path?: unknown[] };
}

/**
 * Lints CloudFormation templates and returns every finding (errors, warnings, informational).
 * Exit codes of cfn-lint are a bit mask of the levels found; only a crash (no JSON) throws.
 */
export function cfnLint(files: string[], regions = ['us-east-1']): CfnLintMatch[] {
  const bin = ensureCfnLint();
  const r = spawnSync(bin, ['--format', 'json', '--regions', ...regions, '--', ...files], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = r.stdout.trim();
  if (!out.startsWith('[')) throw new Error(`cfn-lint did not run (exit ${r.status}): ${r.stderr || out}`);
  return JSON.parse(out) as CfnLintMatch[];
}
