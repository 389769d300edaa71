/**
 * The onboarding plan: every AWS call (and, for `onboard eks --agent`, the helm command) an apply
 * will make, in order, with the resource and each field it changes (before → after), the state it was planned against (`observed`, re-checked
 * before a saved plan is applied) and the calls that undo it. A plan holds no secret values:
 * container environment values are replaced by a marker and filled from the (immutable) base task
 * definition at apply time (Lambda environment values from the function itself).
 */
import type { OnboardCommand, OnboardService } from './calls.js';

export const PLAN_FORMAT = 'logferry-onboard-plan/1';

/** Stands in for a container environment value in plans and records (filled at apply time). */
export const MASKED = '***unchanged (read from the base task definition at apply)***';

/** A value resolved at apply time from an earlier step's response: `{ $ref: 'stepId.outputName' }`. */
export interface Ref {
  $ref: string;
}

export type Hook =
  /** Wait until the Lambda function is Active and not updating (before and after changing it). */
  | 'lambda-ready'
  /** Retry while another EKS update is in progress; then wait for this update to finish. */
  | 'eks-update'
  /** Fill MASKED container environment values from `base` (a task definition ARN). */
  | 'ecs-env'
  /** Fill MASKED Lambda environment values from the function's current configuration. */
  | 'lambda-env';

export interface Call {
  /** An AWS service of the declared call table, or `helm` (Kubernetes, not IAM: see helm.ts). */
  service: OnboardService | 'helm';
  operation: string;
  input: Record<string, unknown>;
  hooks?: Hook[];
  /** The task definition whose environment values fill MASKED ones. */
  base?: string;
  /** AWS error names that mean the call's effect is already in place (rollback of a delete). */
  tolerate?: string[];
}

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface PlanStep {
  /** Stable id: `<kind>:<resource>` (used by $ref and the run record). */
  id: string;
  /** What is changed, e.g. `log group /aws/lambda/orders`. */
  resource: string;
  /** Short verb phrase: `create`, `subscribe`, `set LoggingConfig`, … */
  action: string;
  call: Call;
  changes: FieldChange[];
  /** The state this step was planned against; a saved plan is refused when it no longer holds. */
  observed: unknown;
  /** Calls that restore the previous configuration, in order (may hold $refs to this step's outputs). */
  undo: Call[];
  /** Response paths kept for later $refs and the record, e.g. `{ taskDefinitionArn: 'taskDefinition.taskDefinitionArn' }`. */
  outputs?: Record<string, string>;
}

export interface PlanNote {
  level: 'info' | 'warn';
  resource: string;
  message: string;
  /** A patch for the owning template (CloudFormation/CDK) instead of drifting the resource. */
  patch?: string;
}

export interface Destination {
  arn: string;
  roleArn?: string;
  stack?: string;
}

export interface Plan {
  format: typeof PLAN_FORMAT;
  command: OnboardCommand;
  /** The normalized arguments: re-planning with them is how drift is detected. */
  args: Record<string, unknown>;
  region: string;
  endpoint?: string;
  createdAt: string;
  destination: Destination;
  steps: PlanStep[];
  notes: PlanNote[];
}

/** Everything a step's outcome depends on, for comparing a saved plan with a fresh one. */
export function stepFingerprint(s: PlanStep): string {
  return JSON.stringify([s.id, s.call, s.undo, s.observed, s.outputs ?? null]);
}

/** Differences between a saved plan and a fresh plan of the same arguments (empty: no drift). */
export function planDrift(saved: Plan, fresh: Plan): string[] {
  const out: string[] = [];
  const freshById = new Map(fresh.steps.map((s) => [s.id, s]));
  const savedIds = new Set(saved.steps.map((s) => s.id));
  for (const s of saved.steps) {
    const f = freshById.get(s.id);
    if (!f) out.push(`${s.resource}: "${s.action}" is no longer needed or possible (changed since the plan)`);
    else if (stepFingerprint(f) !== stepFingerprint(s))
      out.push(`${s.resource}: "${s.action}" — the resource changed since the plan was made`);
  }
  for (const f of fresh.steps)
    if (!savedIds.has(f.id)) out.push(`${f.resource}: "${f.action}" is now needed but is not in the plan`);
  if (
    saved.destination.arn !== fresh.destination.arn ||
    saved.destination.roleArn !== fresh.destination.roleArn
  )
    out.push('the destination or role resolved from the stack changed since the plan');
  return out;
}

function show(v: unknown): string {
  if (v === undefined) return '(none)';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** The plan as a readable table (stdout) with notes and patches after it. */
export function renderPlan(plan: Plan, width = 160): string {
  const lines: string[] = [];
  lines.push(
    `Plan for logferry ${plan.command} (region ${plan.region}${plan.endpoint ? `, endpoint ${plan.endpoint}` : ''})`,
  );
  lines.push(
    `Destination: ${plan.destination.arn}${plan.destination.roleArn ? `  role: ${plan.destination.roleArn}` : ''}${
      plan.destination.stack ? `  (stack ${plan.destination.stack})` : ''
    }`,
  );
  lines.push('');
  if (plan.steps.length === 0) lines.push('Nothing to do: everything selected is already onboarded.');
  else {
    // One line per changed field; a step's first line names the call and the resource.
    const rows: string[][] = [];
    plan.steps.forEach((s, i) => {
      const changes = s.changes.length
        ? s.changes.map((c) => `${c.field}: ${show(c.before)} → ${show(c.after)}`)
        : [s.action];
      for (let j = 0; j < changes.length; j++)
        rows.push(
          j === 0
            ? [String(i + 1), `${s.call.service}:${s.call.operation}`, s.resource, changes[j]]
            : ['', '', '', changes[j]],
        );
    });
    const head = ['#', 'API call', 'resource', 'change'];
    const w = head.map((h, i) =>
      Math.min(Math.max(h.length, ...rows.map((r) => r[i].length)), i === 3 ? 999 : 64),
    );
    const fixed = w[0] + w[1] + w[2] + 6;
    w[3] = Math.max(20, Math.min(w[3], width - fixed));
    const fmt = (r: string[]) =>
      r
        .map((c, i) => (i === 3 ? clip(c, w[3]) : clip(c, w[i]).padEnd(w[i])))
        .join('  ')
        .trimEnd();
    lines.push(fmt(head));
    lines.push(fmt(w.map((n) => '-'.repeat(n))));
    for (const r of rows) lines.push(fmt(r));
    lines.push('');
    lines.push(`${plan.steps.length} change(s). Nothing has been changed: run again with --apply to apply.`);
  }
  const warns = plan.notes.filter((n) => n.level === 'warn');
  const infos = plan.notes.filter((n) => n.level === 'info');
  if (warns.length || infos.length) lines.push('');
  for (const n of warns) {
    lines.push(`warning: ${n.resource}: ${n.message}`);
    if (n.patch) lines.push(...n.patch.split('\n').map((l) => `    ${l}`));
  }
  for (const n of infos) lines.push(`note: ${n.resource}: ${n.message}`);
  return `${lines.join('\n')}\n`;
}
