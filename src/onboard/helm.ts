/**
 * The node agent step of `onboard eks --agent`: a Helm release of the chart shipped in this
 * package (`charts/logferry-agent`). Helm talks to Kubernetes with the kube context's credentials
 * (RBAC), not AWS IAM, so these calls never go through `AwsCaller` and are not in the declared IAM
 * call table. The binary is `LOGFERRY_HELM` or `helm` on PATH.
 *
 * Values reach helm through a values file (mode 0600, deleted after the call), never on the
 * command line. Before an upgrade the release's state is read again (`helm history`): when it is
 * no longer the one the plan was made against, nothing is run (drift). The undo of an install is
 * `helm uninstall`; of an upgrade from revision N it is `helm rollback <release> N`.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { LogferryError } from '../core/errors.js';

export const AGENT_CHART = 'logferry-agent';
export const DEFAULT_AGENT_RELEASE = 'logferry-agent';
export const DEFAULT_AGENT_NAMESPACE = 'logferry';
/** How long `--wait` lets the DaemonSet become ready. */
export const HELM_WAIT = '10m';

/** Where the release lives and how helm reaches the cluster. */
export interface HelmTarget {
  release: string;
  namespace: string;
  kubeContext?: string;
  kubeconfig?: string;
}

/** The planned `helm upgrade --install`. */
export interface HelmUpgradeInput extends HelmTarget {
  chart: string;
  chartVersion: string;
  values: Record<string, unknown>;
  /** The release revision the plan saw (null: not installed); apply refuses when it changed. */
  previousRevision: number | null;
}

/** What `helm history` says about the release before the step. */
export type ReleaseState =
  | { present: false }
  | { present: true; revision: number; status: string; chart: string; values: Record<string, unknown> };

/** The helm binary: `LOGFERRY_HELM`, else `helm` on PATH; a clear sentence when neither exists. */
export function helmBinary(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.LOGFERRY_HELM;
  if (explicit) {
    if (!isExecutable(explicit))
      throw new LogferryError(
        'CONFIG_INVALID',
        `LOGFERRY_HELM is ${explicit}, which is not an executable file; point it at a helm 3 binary`,
      );
    return explicit;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'helm');
    if (isExecutable(p)) return p;
  }
  throw new LogferryError(
    'CONFIG_INVALID',
    '--agent installs the node agent with helm, and no helm binary was found: install helm 3 ' +
      '(https://helm.sh/docs/intro/install/) or set LOGFERRY_HELM to its path. Nothing was changed.',
  );
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `charts/logferry-agent` of the installed package (found upward from this module). */
export function agentChartDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const c = join(dir, 'charts', AGENT_CHART);
    if (existsSync(join(c, 'Chart.yaml'))) return c;
    const up = dirname(dir);
    if (up === dir)
      throw new LogferryError(
        'INTERNAL',
        `the ${AGENT_CHART} chart is missing from this logferry installation (charts/${AGENT_CHART})`,
      );
    dir = up;
  }
}

export function chartVersion(chartDir: string): string {
  const c = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { name?: string; version?: string };
  return `${c.name ?? AGENT_CHART}-${c.version ?? '0.0.0'}`;
}

/** The chart values onboarding sets (everything else keeps the chart's defaults). */
export function agentValues(o: {
  cluster: string;
  region: string;
  destinationArn: string;
  kind: 'kinesis' | 'firehose';
  roleArn?: string;
}): Record<string, unknown> {
  const name = o.destinationArn.slice(o.destinationArn.lastIndexOf('/') + 1);
  return {
    clusterName: o.cluster,
    aws: { region: o.region },
    destination: o.kind === 'firehose' ? { firehoseDeliveryStream: name } : { kinesisStream: name },
    ...(o.roleArn ? { serviceAccount: { roleArn: o.roleArn } } : {}),
  };
}

/** `--namespace`, `--kube-context`, `--kubeconfig` for every helm command. */
export function targetArgs(t: HelmTarget): string[] {
  return [
    '--namespace',
    t.namespace,
    ...(t.kubeContext ? ['--kube-context', t.kubeContext] : []),
    ...(t.kubeconfig ? ['--kubeconfig', t.kubeconfig] : []),
  ];
}

export function upgradeArgs(i: HelmUpgradeInput, valuesFile: string): string[] {
  return [
    'upgrade',
    '--install',
    i.release,
    i.chart,
    ...targetArgs(i),
    '--create-namespace',
    '--wait',
    '--timeout',
    HELM_WAIT,
    '--values',
    valuesFile,
  ];
}

/** The same release rendered locally (what `upgrade` would send), for checking the values. */
export function templateArgs(i: HelmUpgradeInput, valuesFile: string): string[] {
  return ['template', i.release, i.chart, '--namespace', i.namespace, '--values', valuesFile];
}

export function uninstallArgs(t: HelmTarget): string[] {
  return ['uninstall', t.release, ...targetArgs(t), '--wait', '--ignore-not-found'];
}

export function rollbackArgs(t: HelmTarget, revision: number): string[] {
  return ['rollback', t.release, String(revision), ...targetArgs(t), '--wait', '--timeout', HELM_WAIT];
}

export class HelmError extends Error {
  override name = 'HelmError';
  /** Set when the failed command was the upgrade itself: the release may have a new, failed revision. */
  partial = false;
}

/** Runs helm; rejects with its stderr (never the values: they are in a file). */
export function runHelm(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err)
        reject(
          new HelmError(
            `helm ${args.slice(0, 2).join(' ')} failed: ${(stderr || err.message).trim().split('\n').slice(-3).join(' ')}`,
          ),
        );
      else resolve(stdout);
    });
  });
}

/** Calls `fn` with a 0600 values file holding `values`, removed afterwards. */
export async function withValuesFile<T>(
  values: Record<string, unknown>,
  fn: (file: string) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'logferry-helm-'));
  const file = join(dir, 'values.json');
  try {
    // JSON is YAML: helm reads it as a values file.
    writeFileSync(file, JSON.stringify(values), { mode: 0o600 });
    return await fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The release's current revision, status, chart and user-supplied values (or absent). */
export async function releaseState(
  bin: string,
  t: HelmTarget,
  env?: NodeJS.ProcessEnv,
): Promise<ReleaseState> {
  let history: { revision?: number; status?: string; chart?: string }[];
  try {
    history = JSON.parse(
      await runHelm(bin, ['history', t.release, ...targetArgs(t), '--max', '1', '-o', 'json'], env),
    );
  } catch (e) {
    if (e instanceof HelmError && /release: not found/.test(e.message)) return { present: false };
    throw new LogferryError(
      'ONBOARD_FAILED',
      `cannot read helm release ${t.namespace}/${t.release}: ${(e as Error).message}`,
    );
  }
  const last = history.at(-1);
  if (!last?.revision) return { present: false };
  const values =
    (JSON.parse(
      await runHelm(
        bin,
        ['get', 'values', t.release, ...targetArgs(t), '--revision', String(last.revision), '-o', 'json'],
        env,
      ),
    ) as Record<string, unknown> | null) ?? {};
  return {
    present: true,
    revision: last.revision,
    status: last.status ?? '',
    chart: last.chart ?? '',
    values,
  };
}

/** JSON with sorted keys: equal values give equal strings. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** Leaf paths of a values tree: `{a:{b:1}}` → `[['a.b', 1]]`. */
export function flatten(v: unknown, prefix = ''): [string, unknown][] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [[prefix, v]];
  const out: [string, unknown][] = [];
  for (const [k, x] of Object.entries(v)) out.push(...flatten(x, prefix ? `${prefix}.${k}` : k));
  return out;
}

/** Runs one planned helm call (`upgrade --install`, `uninstall`, `rollback`). */
export async function execHelm(
  operation: string,
  input: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, unknown>> {
  const bin = helmBinary(env);
  const t = input as unknown as HelmTarget;
  if (operation === 'upgrade --install') {
    const i = input as unknown as HelmUpgradeInput;
    const before = await releaseState(bin, t, env);
    const rev = before.present ? before.revision : null;
    if (rev !== i.previousRevision)
      throw new LogferryError(
        'ONBOARD_DRIFT',
        `helm release ${t.namespace}/${t.release} is at ${rev === null ? 'no revision (not installed)' : `revision ${rev}`}, ` +
          `the plan was made at ${i.previousRevision === null ? 'not installed' : `revision ${i.previousRevision}`}; helm was not run. Make a new plan.`,
      );
    try {
      await withValuesFile(i.values, (file) => runHelm(bin, upgradeArgs(i, file), env));
    } catch (e) {
      if (e instanceof HelmError) e.partial = true;
      throw e;
    }
    const after = await releaseState(bin, t, env);
    return { previousRevision: rev, revision: after.present ? after.revision : null };
  }
  if (operation === 'uninstall') {
    await runHelm(bin, uninstallArgs(t), env);
    return {};
  }
  if (operation === 'rollback') {
    await runHelm(bin, rollbackArgs(t, Number(input.revision)), env);
    return {};
  }
  throw new LogferryError('INTERNAL', `no helm operation ${operation}`);
}
