/**
 * Tools for the Helm chart tests, installed on first use into the test cache (shared by every
 * clone): helm built from the Go module proxy (`go install helm.sh/helm/v3/cmd/helm@v3.21.4`, a few
 * minutes on 2 cores, once), and `kubernetes-validate` (PyPI, ships the Kubernetes schemas, works
 * offline) in a virtualenv. `LOGFERRY_HELM` may point at an existing helm binary instead.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './cache.js';

export const HELM_VERSION = 'v3.21.4';
const KUBERNETES_VALIDATE_SPEC = 'kubernetes-validate>=1.37,<2';

export function ensureHelm(): string {
  if (process.env.LOGFERRY_HELM) return process.env.LOGFERRY_HELM;
  const dir = cacheDir(`helm-${HELM_VERSION}`);
  const bin = join(dir, 'bin', 'helm');
  if (!existsSync(bin)) {
    console.log(
      `[test] building helm ${HELM_VERSION} from the Go module proxy into ${dir} (first run only, a few minutes)…`,
    );
    const script = `[ -x "$1/bin/helm" ] || GOBIN="$1/bin" go install "helm.sh/helm/v3/cmd/helm@$2"`;
    execFileSync('flock', [`${dir}.lock`, 'sh', '-c', script, 'sh', dir, HELM_VERSION], {
      stdio: 'inherit',
      env: { ...process.env, PATH: `${process.env.PATH}:/usr/local/go/bin` },
    });
  }
  return bin;
}

export function ensureKubernetesValidate(): string {
  const venv = cacheDir('kubernetes-validate-venv');
  const bin = join(venv, 'bin', 'kubernetes-validate');
  if (!existsSync(bin)) {
    console.log(`[test] installing ${KUBERNETES_VALIDATE_SPEC} into ${venv} (first run only)…`);
    const script = `[ -x "$1/bin/kubernetes-validate" ] || { python3 -m venv "$1" && "$1/bin/pip" install --quiet --disable-pip-version-check "$2"; }`;
    execFileSync('flock', [`${venv}.lock`, 'sh', '-c', script, 'sh', venv, KUBERNETES_VALIDATE_SPEC], {
      stdio: 'inherit',
    });
  }
  return bin;
}
