/**
 * Onboarding: plan, apply (exactly the plan, after re-checking drift for a saved one) and rollback
 * of Lambda functions, ECS services and EKS clusters onto a deployed logferry topology. The CLI
 * (`cli/commands/onboard.ts`) is a thin layer over these functions; tests call them directly.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { LogferryError } from '../core/errors.js';
import { AwsCaller, type CallerOptions } from './aws.js';
import type { OnboardCommand } from './calls.js';
import { type EcsArgs, planEcs, validateEcsArgs } from './ecs.js';
import { type EksArgs, planEks, validateEksArgs } from './eks.js';
import { helmBinary } from './helm.js';
import { type ApplyResult, applyPlan, type RollbackResult, rollbackRun } from './engine.js';
import { type LambdaArgs, planLambda, validateLambdaArgs } from './lambda.js';
import { DEFAULT_FILTER_NAME, type LogGroupOptions, SUBSCRIPTION_FILTERS_PER_GROUP } from './log-groups.js';
import { PLAN_FORMAT, type Plan, planDrift } from './plan.js';
import { resolveDestination, type TopologyArgs, validateTopologyArgs } from './topology.js';

export { renderPlan } from './plan.js';

/** CloudWatch Logs' accepted retention values. */
export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export interface CommonArgs extends TopologyArgs {
  filterName?: string;
  filterPattern?: string;
  retentionDays?: number;
  maxFilters?: number;
}

export type OnboardArgs =
  | ({ kind: 'lambda' } & CommonArgs & LambdaArgs)
  | ({ kind: 'ecs' } & CommonArgs & EcsArgs)
  | ({ kind: 'eks' } & CommonArgs & EksArgs);

export function commandOf(kind: OnboardArgs['kind']): OnboardCommand {
  return `onboard ${kind}` as OnboardCommand;
}

function logGroupOptions(a: CommonArgs): LogGroupOptions {
  return {
    filterName: a.filterName ?? DEFAULT_FILTER_NAME,
    filterPattern: a.filterPattern ?? '',
    retentionDays: a.retentionDays ?? 30,
    maxFilters: a.maxFilters ?? SUBSCRIPTION_FILTERS_PER_GROUP,
  };
}

/** Every problem with the arguments at once (exit 2 before any AWS call). */
export function validateArgs(a: OnboardArgs): void {
  const p: string[] = validateTopologyArgs(a);
  if (a.retentionDays !== undefined && !RETENTION_DAYS.includes(a.retentionDays))
    p.push(`--retention-days must be one of ${RETENTION_DAYS.join(', ')}`);
  if (a.maxFilters !== undefined && (!Number.isInteger(a.maxFilters) || a.maxFilters < 1))
    p.push('--max-filters must be a positive integer');
  if (a.filterName !== undefined && !/^[^:*]{1,512}$/.test(a.filterName))
    p.push('--filter-name must be 1-512 characters without : or *');
  if (a.kind === 'lambda') p.push(...validateLambdaArgs(a));
  if (a.kind === 'ecs') p.push(...validateEcsArgs(a));
  if (a.kind === 'eks') p.push(...validateEksArgs(a));
  if (p.length) throw new LogferryError('CONFIG_INVALID', p.join('\n'));
}

export async function makePlan(args: OnboardArgs, aws: AwsCaller): Promise<Plan> {
  validateArgs(args);
  // Before any AWS call: without helm, `--agent` cannot be planned (it reads the release's state).
  if (args.kind === 'eks' && args.agent) helmBinary(aws.env);
  const dest = await resolveDestination(aws, args);
  const lg = logGroupOptions(args);
  const r =
    args.kind === 'lambda'
      ? await planLambda(aws, args, dest, lg)
      : args.kind === 'ecs'
        ? await planEcs(aws, args, dest, lg)
        : await planEks(aws, args, dest, lg);
  return {
    format: PLAN_FORMAT,
    command: commandOf(args.kind),
    args: args as unknown as Record<string, unknown>,
    region: aws.region,
    ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
    createdAt: new Date().toISOString(),
    destination: dest,
    steps: r.steps,
    notes: r.notes,
  };
}

export function savePlan(plan: Plan, file: string): void {
  writeFileSync(file, `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o600 });
}

export function loadPlan(file: string): Plan {
  let plan: Plan;
  try {
    plan = JSON.parse(readFileSync(file, 'utf8')) as Plan;
  } catch (e) {
    throw new LogferryError('CONFIG_INVALID', `cannot read plan ${file}: ${(e as Error).message}`);
  }
  if (plan?.format !== PLAN_FORMAT || !Array.isArray(plan.steps))
    throw new LogferryError(
      'CONFIG_INVALID',
      `${file} is not a logferry onboarding plan (written by --plan-out)`,
    );
  return plan;
}

/**
 * Applies a saved plan exactly as written, after re-planning with its own arguments and refusing
 * when anything it depends on changed since (drift).
 */
export async function applySavedPlan(
  plan: Plan,
  aws: AwsCaller,
  dataDir: string,
  log?: (l: string) => void,
): Promise<ApplyResult | { nothingToDo: true }> {
  if (plan.region !== aws.region)
    throw new LogferryError(
      'ONBOARD_DRIFT',
      `the plan was made for region ${plan.region}, this run uses ${aws.region}`,
    );
  const fresh = await makePlan(plan.args as unknown as OnboardArgs, aws);
  const drift = planDrift(plan, fresh);
  if (drift.length)
    throw new LogferryError(
      'ONBOARD_DRIFT',
      `the plan no longer matches what is deployed; nothing was changed. Make a new plan.\n${drift.map((d) => `  - ${d}`).join('\n')}`,
    );
  if (plan.steps.length === 0) return { nothingToDo: true };
  return applyPlan(plan, aws, dataDir, log);
}

export function caller(command: OnboardCommand, opts?: CallerOptions): AwsCaller {
  return new AwsCaller(command, opts);
}

export async function rollback(
  runId: string,
  dataDir: string,
  opts?: CallerOptions,
  log?: (l: string) => void,
): Promise<RollbackResult> {
  const aws = new AwsCaller('onboard rollback', opts);
  try {
    return await rollbackRun(runId, aws, dataDir, log);
  } finally {
    aws.destroy();
  }
}

export type { ApplyResult, Plan, RollbackResult };
export { applyPlan };
