/**
 * Applies a plan step by step and rolls a run back. Every apply writes a run record
 * (`<dataDir>/onboard/<run-id>.json`) before and after each call: the step, its status
 * (`started`, `applied`, `failed`, `not-run`), the response fields later steps need and the undo
 * calls with every reference resolved. A failure stops the run at once; the record then says
 * exactly what was and was not changed, and `logferry onboard rollback <run-id>` undoes the
 * applied steps (and a `started` one, tolerating that it may not have happened) in reverse order.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, LogferryError } from '../core/errors.js';
import { type AwsCaller, awsErrorName } from './aws.js';
import { execHelm, HelmError } from './helm.js';
import { MASKED, type Call, type Plan, type PlanStep, type Ref } from './plan.js';

export const RECORD_FORMAT = 'logferry-onboard-run/1';

export type StepStatus = 'not-run' | 'started' | 'applied' | 'failed' | 'rolled-back' | 'rollback-failed';

export interface RecordStep {
  id: string;
  resource: string;
  action: string;
  call: Call;
  status: StepStatus;
  outputs?: Record<string, unknown>;
  /** The undo calls with references resolved (set once the step is applied). */
  undo: Call[];
  error?: string;
}

export interface RunRecord {
  format: typeof RECORD_FORMAT;
  runId: string;
  command: string;
  args: Record<string, unknown>;
  region: string;
  endpoint?: string;
  startedAt: string;
  finishedAt?: string;
  status: 'applying' | 'applied' | 'failed' | 'rolled-back' | 'rollback-failed';
  steps: RecordStep[];
  rollback?: { startedAt: string; finishedAt?: string; status: 'rolled-back' | 'failed'; error?: string };
}

export function onboardDir(dataDir: string): string {
  return join(dataDir, 'onboard');
}

export function newRunId(now = new Date()): string {
  const t = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${t}-${randomBytes(3).toString('hex')}`;
}

function writeRecord(dataDir: string, rec: RunRecord): string {
  const dir = onboardDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${rec.runId}.json`);
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(rec, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}

export function readRecord(dataDir: string, runId: string): RunRecord {
  if (!/^[A-Za-z0-9-]+$/.test(runId))
    throw new LogferryError('CONFIG_INVALID', `"${runId}" is not a run id (see ${onboardDir(dataDir)})`);
  const file = join(onboardDir(dataDir), `${runId}.json`);
  if (!existsSync(file)) {
    const known = existsSync(onboardDir(dataDir))
      ? readdirSync(onboardDir(dataDir))
          .filter((f) => f.endsWith('.json'))
          .map((f) => f.slice(0, -5))
      : [];
    throw new LogferryError(
      'CONFIG_INVALID',
      `no onboarding run ${runId} under ${onboardDir(dataDir)}${known.length ? ` (known: ${known.slice(-5).join(', ')})` : ''}`,
    );
  }
  const rec = JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
  if (rec.format !== RECORD_FORMAT)
    throw new LogferryError('CONFIG_INVALID', `${file} is not a logferry onboarding run record`);
  return rec;
}

function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function isRef(v: unknown): v is Ref {
  return (
    v !== null && typeof v === 'object' && typeof (v as Ref).$ref === 'string' && Object.keys(v).length === 1
  );
}

/** Replaces every `{ $ref: 'step.output' }` with the value recorded for that step. */
export function resolveRefs<T>(value: T, outputs: Map<string, Record<string, unknown>>): T {
  if (isRef(value)) {
    const dot = value.$ref.lastIndexOf('.');
    const v = outputs.get(value.$ref.slice(0, dot))?.[value.$ref.slice(dot + 1)];
    if (v === undefined) throw new LogferryError('INTERNAL', `unresolved reference ${value.$ref}`);
    return v as T;
  }
  if (Array.isArray(value)) return value.map((x) => resolveRefs(x, outputs)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveRefs(v, outputs);
    return out as T;
  }
  return value;
}

const WAIT_LIMIT_MS = 15 * 60_000;

/** Waits until a Lambda function is Active and no update is in progress. */
async function lambdaReady(aws: AwsCaller, functionName: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const c = await aws.call<{
      State?: string;
      LastUpdateStatus?: string;
      StateReason?: string;
      LastUpdateStatusReason?: string;
    }>('lambda', 'GetFunctionConfiguration', { FunctionName: functionName });
    if (c.State === 'Failed' || c.LastUpdateStatus === 'Failed')
      throw new LogferryError(
        'ONBOARD_FAILED',
        `function ${functionName} is in a failed state: ${c.StateReason ?? c.LastUpdateStatusReason ?? 'no reason given'}`,
      );
    if (c.State !== 'Pending' && c.LastUpdateStatus !== 'InProgress') return;
    if (Date.now() > deadline)
      throw new LogferryError(
        'ONBOARD_FAILED',
        `function ${functionName} is still updating after 15 minutes`,
      );
    await aws.sleep();
  }
}

interface EksUpdate {
  id?: string;
  status?: string;
  errors?: { errorMessage?: string }[];
}

async function waitEksUpdate(aws: AwsCaller, name: string, updateId: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const r = await aws.call<{ update?: EksUpdate }>('eks', 'DescribeUpdate', { name, updateId });
    const st = r.update?.status;
    if (st === 'Successful') return;
    if (st === 'Failed' || st === 'Cancelled')
      throw new LogferryError(
        'ONBOARD_FAILED',
        `EKS update ${updateId} of ${name} ended ${st}: ${(r.update?.errors ?? []).map((e) => e.errorMessage).join('; ')}`,
      );
    if (Date.now() > deadline)
      throw new LogferryError(
        'ONBOARD_FAILED',
        `EKS update ${updateId} of ${name} did not finish in 15 minutes`,
      );
    await aws.sleep();
  }
}

/** Waits for every in-progress update of the cluster (another tool's or a previous run's). */
async function waitEksIdle(aws: AwsCaller, name: string): Promise<void> {
  let nextToken: string | undefined;
  const ids: string[] = [];
  do {
    const r = await aws.call<{ updateIds?: string[]; nextToken?: string }>('eks', 'ListUpdates', {
      name,
      ...(nextToken ? { nextToken } : {}),
    });
    ids.push(...(r.updateIds ?? []));
    nextToken = r.nextToken;
  } while (nextToken);
  for (const id of ids) {
    const r = await aws.call<{ update?: EksUpdate }>('eks', 'DescribeUpdate', { name, updateId: id });
    if (r.update?.status === 'InProgress') await waitEksUpdate(aws, name, id);
  }
}

function isUpdateInProgress(e: unknown): boolean {
  const n = awsErrorName(e);
  const m = describeError(e);
  return (
    n === 'ResourceInUseException' || (n === 'InvalidRequestException' && /in progress|in-progress/i.test(m))
  );
}

/** Fills MASKED environment values of container definitions from the base task definition. */
async function fillEnv(aws: AwsCaller, call: Call): Promise<Record<string, unknown>> {
  if (!call.base) return call.input;
  const base = await aws.call<{ taskDefinition?: { containerDefinitions?: ContainerDef[] } }>(
    'ecs',
    'DescribeTaskDefinition',
    {
      taskDefinition: call.base,
    },
  );
  const byName = new Map((base.taskDefinition?.containerDefinitions ?? []).map((c) => [c.name, c]));
  const defs = (call.input.containerDefinitions as ContainerDef[]).map((c) => {
    if (!c.environment?.some((e) => e.value === MASKED)) return c;
    const src = new Map((byName.get(c.name)?.environment ?? []).map((e) => [e.name, e.value]));
    return {
      ...c,
      environment: c.environment.map((e) => {
        if (e.value !== MASKED) return e;
        if (!src.has(e.name))
          throw new LogferryError(
            'ONBOARD_DRIFT',
            `${call.base} no longer has environment ${e.name} in ${c.name}`,
          );
        return { ...e, value: src.get(e.name) };
      }),
    };
  });
  return { ...call.input, containerDefinitions: defs };
}

/**
 * Fills MASKED values of `Environment.Variables` from the function's current variables (the plan
 * and the run record hold only their names); a variable gone since the plan is drift.
 */
async function fillLambdaEnv(
  aws: AwsCaller,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const wanted = (input.Environment as { Variables?: Record<string, string> } | undefined)?.Variables;
  if (!wanted || !Object.values(wanted).includes(MASKED)) return input;
  const current =
    (
      await aws.call<{ Environment?: { Variables?: Record<string, string> } }>(
        'lambda',
        'GetFunctionConfiguration',
        {
          FunctionName: input.FunctionName,
        },
      )
    ).Environment?.Variables ?? {};
  const Variables: Record<string, string> = {};
  for (const [k, v] of Object.entries(wanted)) {
    if (v !== MASKED) Variables[k] = v;
    else if (k in current) Variables[k] = current[k];
    else
      throw new LogferryError(
        'ONBOARD_DRIFT',
        `function ${String(input.FunctionName)} no longer has environment variable ${k}; nothing was changed on it`,
      );
  }
  return { ...input, Environment: { Variables } };
}

interface ContainerDef {
  name?: string;
  environment?: { name?: string; value?: string }[];
}

/** Sends one planned call with its hooks. */
export async function execCall(aws: AwsCaller, call: Call): Promise<Record<string, unknown>> {
  if (call.service === 'helm') return execHelm(call.operation, call.input, aws.env);
  const service = call.service;
  const hooks = call.hooks ?? [];
  let input = call.input;
  if (hooks.includes('ecs-env')) input = await fillEnv(aws, call);
  if (hooks.includes('lambda-ready')) await lambdaReady(aws, String(input.FunctionName));
  // After the wait: the values are read from the configuration the call will replace.
  if (hooks.includes('lambda-env')) input = await fillLambdaEnv(aws, input);
  let res: Record<string, unknown>;
  if (hooks.includes('eks-update')) {
    const name = String(input.name);
    for (let attempt = 1; ; attempt++) {
      try {
        res = await aws.call(service, call.operation, input);
        break;
      } catch (e) {
        if (!isUpdateInProgress(e) || attempt >= 10) throw e;
        await waitEksIdle(aws, name);
        await aws.sleep();
      }
    }
    const id = (res.update as EksUpdate | undefined)?.id;
    if (id) await waitEksUpdate(aws, name, id);
  } else {
    try {
      res = await aws.call(service, call.operation, input);
    } catch (e) {
      if (call.tolerate?.includes(awsErrorName(e))) return {};
      throw e;
    }
  }
  if (hooks.includes('lambda-ready')) await lambdaReady(aws, String(input.FunctionName));
  return res;
}

export interface ApplyResult {
  runId: string;
  file: string;
  record: RunRecord;
}

function summarize(rec: RunRecord): string {
  const by = (s: StepStatus) => rec.steps.filter((x) => x.status === s);
  const list = (xs: RecordStep[]) => xs.map((x) => `  - ${x.resource}: ${x.action}`).join('\n');
  const parts: string[] = [];
  if (by('applied').length) parts.push(`changed:\n${list(by('applied'))}`);
  if (by('started').length) parts.push(`may or may not have changed (interrupted):\n${list(by('started'))}`);
  const failed = by('failed');
  const line = (x: RecordStep) => `  - ${x.resource}: ${x.action}: ${x.error}`;
  if (failed.some((x) => !x.undo.length))
    parts.push(
      `failed (not changed):\n${failed
        .filter((x) => !x.undo.length)
        .map(line)
        .join('\n')}`,
    );
  if (failed.some((x) => x.undo.length))
    parts.push(
      `failed, may have partly changed (rollback undoes it):\n${failed
        .filter((x) => x.undo.length)
        .map(line)
        .join('\n')}`,
    );
  if (by('not-run').length) parts.push(`not changed (not attempted):\n${list(by('not-run'))}`);
  return parts.join('\n');
}

/** Applies the plan's steps in order, recording each; stops at the first failure. */
export async function applyPlan(
  plan: Plan,
  aws: AwsCaller,
  dataDir: string,
  log: (line: string) => void = () => {},
): Promise<ApplyResult> {
  const rec: RunRecord = {
    format: RECORD_FORMAT,
    runId: newRunId(),
    command: plan.command,
    args: plan.args,
    region: plan.region,
    ...(plan.endpoint ? { endpoint: plan.endpoint } : {}),
    startedAt: new Date().toISOString(),
    status: 'applying',
    steps: plan.steps.map((s: PlanStep) => ({
      id: s.id,
      resource: s.resource,
      action: s.action,
      call: s.call,
      status: 'not-run' as StepStatus,
      undo: [],
    })),
  };
  let file = writeRecord(dataDir, rec);
  const outputs = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < plan.steps.length; i++) {
    const step = plan.steps[i];
    const rs = rec.steps[i];
    const call = { ...step.call, input: resolveRefs(step.call.input, outputs) };
    rs.call = call;
    rs.status = 'started';
    // Until the call answers, rollback must assume it may have happened.
    rs.undo = tryResolve(step.undo, outputs);
    file = writeRecord(dataDir, rec);
    log(`[${i + 1}/${plan.steps.length}] ${step.call.service}:${step.call.operation} ${step.resource}`);
    try {
      const res = await execCall(aws, call);
      const out: Record<string, unknown> = {};
      for (const [k, p] of Object.entries(step.outputs ?? {})) out[k] = getPath(res, p);
      outputs.set(step.id, out);
      if (step.outputs) rs.outputs = out;
      rs.undo = resolveRefs(step.undo, outputs);
      rs.status = 'applied';
      file = writeRecord(dataDir, rec);
    } catch (e) {
      rs.status = 'failed';
      rs.error = `${awsErrorName(e) ? `${awsErrorName(e)}: ` : ''}${describeError(e)}`;
      // An AWS call that fails changed nothing. A helm upgrade that fails (e.g. --wait timed out)
      // may have left a new, failed revision: keep its undo (not when it never ran, e.g. drift).
      rs.undo = mayHavePartlyChanged(step.call, e) ? tryResolve(step.undo, outputs) : [];
      rec.status = 'failed';
      rec.finishedAt = new Date().toISOString();
      file = writeRecord(dataDir, rec);
      const applied = rec.steps.some(
        (x) => x.status === 'applied' || (x.status === 'failed' && x.undo.length),
      );
      throw new LogferryError(
        'ONBOARD_FAILED',
        `apply stopped at step ${i + 1} of ${plan.steps.length} (${step.resource}: ${step.action}): ${rs.error}\n` +
          `${summarize(rec)}\n` +
          `run record: ${file}\n` +
          (applied
            ? `to undo what was changed: logferry onboard rollback ${rec.runId}`
            : 'nothing was changed; no rollback is needed'),
        { details: { runId: rec.runId, file } },
      );
    }
  }
  rec.status = 'applied';
  rec.finishedAt = new Date().toISOString();
  file = writeRecord(dataDir, rec);
  return { runId: rec.runId, file, record: rec };
}

/** A failed helm upgrade may have changed the cluster; a failed AWS call, or helm refusing before it ran, did not. */
function mayHavePartlyChanged(call: Call, e: unknown): boolean {
  return call.service === 'helm' && e instanceof HelmError && e.partial;
}

/** Undo calls resolvable before the step answered (those without refs to its own outputs). */
function tryResolve(undo: Call[], outputs: Map<string, Record<string, unknown>>): Call[] {
  const out: Call[] = [];
  for (const u of undo) {
    try {
      out.push(resolveRefs(u, outputs));
    } catch {
      // Refers to this step's own response: unknown until it answers.
    }
  }
  return out;
}

export interface RollbackResult {
  record: RunRecord;
  file: string;
  undone: number;
  nothingToDo: boolean;
}

/** Undoes a run: the applied (and interrupted) steps' undo calls, last step first. */
export async function rollbackRun(
  runId: string,
  aws: AwsCaller,
  dataDir: string,
  log: (line: string) => void = () => {},
): Promise<RollbackResult> {
  const rec = readRecord(dataDir, runId);
  if (rec.status === 'rolled-back') {
    return { record: rec, file: join(onboardDir(dataDir), `${runId}.json`), undone: 0, nothingToDo: true };
  }
  rec.rollback = { startedAt: new Date().toISOString(), status: 'failed' };
  let file = writeRecord(dataDir, rec);
  let undone = 0;
  for (let i = rec.steps.length - 1; i >= 0; i--) {
    const s = rec.steps[i];
    const partial = s.status === 'failed' && s.undo.length > 0;
    if (s.status !== 'applied' && s.status !== 'started' && s.status !== 'rollback-failed' && !partial)
      continue;
    const interrupted = s.status === 'started' || partial;
    try {
      for (const u of s.undo) {
        log(`undo ${s.resource}: ${u.service}:${u.operation}`);
        // An interrupted step may not have happened: its undo tolerates "not found".
        await execCall(
          aws,
          interrupted ? { ...u, tolerate: [...(u.tolerate ?? []), 'ResourceNotFoundException'] } : u,
        );
      }
      s.status = 'rolled-back';
      undone++;
      file = writeRecord(dataDir, rec);
    } catch (e) {
      s.status = 'rollback-failed';
      s.error = `${awsErrorName(e) ? `${awsErrorName(e)}: ` : ''}${describeError(e)}`;
      rec.status = 'rollback-failed';
      rec.rollback = {
        ...rec.rollback,
        finishedAt: new Date().toISOString(),
        status: 'failed',
        error: s.error,
      };
      file = writeRecord(dataDir, rec);
      throw new LogferryError(
        'ONBOARD_FAILED',
        `rollback of ${runId} stopped at ${s.resource} (${s.action}): ${s.error}\n` +
          `the steps after it are restored; fix the cause and run \`logferry onboard rollback ${runId}\` again ` +
          `(it resumes where it stopped). Record: ${file}`,
      );
    }
  }
  rec.status = 'rolled-back';
  rec.rollback = { ...rec.rollback, finishedAt: new Date().toISOString(), status: 'rolled-back' };
  file = writeRecord(dataDir, rec);
  return { record: rec, file, undone, nothingToDo: false };
}
