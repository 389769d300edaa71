/**
 * `logferry onboard lambda|ecs|eks …` — connects workloads' logs to a deployed logferry topology.
 * Prints the plan (each API call, resource and field changed) and changes nothing without
 * `--apply`; `--plan-out plan.json` saves it and `--apply plan.json` applies exactly that plan
 * after re-checking for drift. Every apply writes a run record under `<data-dir>/onboard/`, and
 * `logferry onboard rollback <run-id>` restores the previous configuration.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { LogferryError } from '../../core/errors.js';
import type { AwsCaller } from '../../onboard/aws.js';
import { CONTROL_PLANE_LOG_TYPES } from '../../onboard/eks.js';
import { onboardDir } from '../../onboard/engine.js';
import {
  type ApplyResult,
  applyPlan,
  applySavedPlan,
  caller,
  commandOf,
  loadPlan,
  makePlan,
  type OnboardArgs,
  type Plan,
  renderPlan,
  rollback,
  savePlan,
} from '../../onboard/index.js';

interface CommonFlags {
  stack?: string;
  destinationArn?: string;
  roleArn?: string;
  filterName?: string;
  filterPattern?: string;
  retentionDays?: string;
  maxFilters?: string;
  apply?: string | boolean;
  planOut?: string;
  json?: boolean;
  dataDir: string;
}

interface EksAgentFlags {
  agentRelease?: string;
  agentNamespace?: string;
  agentRoleArn?: string;
  kubeContext?: string;
  kubeconfig?: string;
}

function addCommon(cmd: Command): Command {
  return cmd
    .option(
      '--stack <name>',
      'the deployed logferry topology stack (reads its DestinationArn and CloudWatchLogsRoleArn outputs)',
      process.env.LOGFERRY_STACK,
    )
    .option('--destination-arn <arn>', 'ship to this Firehose/Kinesis ARN instead of the stack output')
    .option('--role-arn <arn>', 'the role CloudWatch Logs assumes to write to the destination')
    .option('--filter-name <name>', 'the subscription filter name onboarding owns', 'logferry')
    .option('--filter-pattern <pattern>', 'subscription filter pattern (empty: every event)', '')
    .option('--retention-days <n>', 'retention for log groups onboarding creates', '30')
    .option('--max-filters <n>', 'subscription filters a log group may have (AWS default 2)', '2')
    .option(
      '--apply [plan.json]',
      'apply: the plan just made, or exactly the saved plan after re-checking drift',
    )
    .option('--plan-out <file>', 'save the plan as JSON (apply it later with --apply FILE)')
    .option('--json', 'print the plan (and the apply result) as JSON')
    .option('--data-dir <dir>', 'where run records are kept (for rollback)', './logferry-data');
}

function common(f: CommonFlags) {
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n))
      throw new LogferryError('CONFIG_INVALID', `--${name} must be an integer, not "${v}"`);
    return n;
  };
  return {
    stack: f.stack || undefined,
    destinationArn: f.destinationArn,
    roleArn: f.roleArn,
    filterName: f.filterName,
    filterPattern: f.filterPattern,
    retentionDays: num(f.retentionDays, 'retention-days'),
    maxFilters: num(f.maxFilters, 'max-filters'),
  };
}

const out = (s: string) => process.stdout.write(s);
const err = (s: string) => process.stderr.write(`${s}\n`);

function printApplied(
  r: ApplyResult | { nothingToDo: true },
  json: boolean | undefined,
  plan: Plan,
  dataDir: string,
): void {
  if ('nothingToDo' in r) {
    if (json) out(`${JSON.stringify({ plan, run: null, nothingToDo: true }, null, 2)}\n`);
    else out('Nothing to do: everything selected is already onboarded.\n');
    return;
  }
  if (json) {
    out(
      `${JSON.stringify({ plan, run: { runId: r.runId, file: r.file, status: r.record.status } }, null, 2)}\n`,
    );
    return;
  }
  out(
    `Applied ${r.record.steps.length} change(s). Run ${r.runId} recorded in ${r.file}\n` +
      `To undo: logferry onboard rollback ${r.runId}${dataDir !== './logferry-data' ? ` --data-dir ${dataDir}` : ''}\n`,
  );
}

async function runOnboard(
  args: OnboardArgs | undefined,
  f: CommonFlags,
  kind: OnboardArgs['kind'],
): Promise<void> {
  const command = commandOf(kind);
  const aws: AwsCaller = caller(command);
  try {
    const width = process.stdout.isTTY ? process.stdout.columns || 160 : 160;
    if (typeof f.apply === 'string') {
      if (!existsSync(f.apply)) throw new LogferryError('CONFIG_INVALID', `no plan file ${f.apply}`);
      const plan = loadPlan(f.apply);
      if (plan.command !== command)
        throw new LogferryError(
          'CONFIG_INVALID',
          `${f.apply} is a plan for "logferry ${plan.command}", not "logferry ${command}"`,
        );
      if (!f.json)
        out(
          renderPlan(plan, width).replace(/ Nothing has been changed: run again with --apply to apply\./, ''),
        );
      const r = await applySavedPlan(plan, aws, f.dataDir, err);
      printApplied(r, f.json, plan, f.dataDir);
      return;
    }
    if (!args) throw new LogferryError('INTERNAL', 'no arguments');
    const plan = await makePlan(args, aws);
    if (f.planOut) {
      savePlan(plan, f.planOut);
      err(`plan saved to ${f.planOut}; apply it with: logferry ${command} --apply ${f.planOut}`);
    }
    if (!f.apply) {
      out(f.json ? `${JSON.stringify(plan, null, 2)}\n` : renderPlan(plan, width));
      return;
    }
    if (!f.json)
      out(
        renderPlan(plan, width).replace(/ Nothing has been changed: run again with --apply to apply\./, ''),
      );
    if (plan.steps.length === 0) {
      printApplied({ nothingToDo: true }, f.json, plan, f.dataDir);
      return;
    }
    printApplied(await applyPlan(plan, aws, f.dataDir, err), f.json, plan, f.dataDir);
  } finally {
    aws.destroy();
  }
}

function need(v: string | undefined, flag: string, f: CommonFlags): string {
  if (v === undefined && typeof f.apply !== 'string')
    throw new LogferryError(
      'CONFIG_INVALID',
      `${flag} is required (or --apply PLAN.json to apply a saved plan)`,
    );
  return v ?? '';
}

export function registerOnboard(program: Command): void {
  const onboard = program
    .command('onboard')
    .description(
      'Connect Lambda functions, ECS services and EKS clusters to a deployed logferry topology (plan first, --apply to change, exact rollback)',
    );

  addCommon(
    onboard
      .command('lambda')
      .description(
        "Subscribe functions' log groups (created with retention if missing), set JSON logs with levels, optionally attach the logferry extension layer",
      )
      .option('--functions <names>', "functions: 'a,b', 'prefix*' or '*'")
      .option('--application-log-level <level>', 'LoggingConfig.ApplicationLogLevel', 'INFO')
      .option('--system-log-level <level>', 'LoggingConfig.SystemLogLevel', 'INFO')
      .option('--no-json-logs', 'leave LoggingConfig alone (only subscribe)')
      .option(
        '--extension-layer-arn <arn>',
        'also attach this logferry extension layer version (Telemetry API; ships without CloudWatch)',
      )
      .option(
        '--extension-config-parameter <name>',
        "SSM parameter holding the extension's logferry config (set as LOGFERRY_CONFIG_PARAMETER; a reference, never the value)",
      ),
  ).action(
    async (
      f: CommonFlags & {
        functions?: string;
        applicationLogLevel: string;
        systemLogLevel: string;
        jsonLogs: boolean;
        extensionLayerArn?: string;
        extensionConfigParameter?: string;
      },
    ) => {
      const functions = need(f.functions, '--functions', f);
      await runOnboard(
        typeof f.apply === 'string'
          ? undefined
          : {
              kind: 'lambda',
              ...common(f),
              functions,
              applicationLogLevel: f.applicationLogLevel.toUpperCase(),
              systemLogLevel: f.systemLogLevel.toUpperCase(),
              jsonLogs: f.jsonLogs,
              ...(f.extensionLayerArn !== undefined ? { extensionLayerArn: f.extensionLayerArn } : {}),
              ...(f.extensionConfigParameter !== undefined
                ? { extensionConfigParameter: f.extensionConfigParameter }
                : {}),
            },
        f,
        'lambda',
      );
    },
  );

  addCommon(
    onboard
      .command('ecs')
      .description(
        "Subscribe services' awslogs groups, or add a FireLens log router, in new task definition revisions",
      )
      .option('--cluster <name>', 'ECS cluster')
      .option('--services <names>', "services: 'x,y', 'prefix*' or '*'", '*')
      .option(
        '--mode <mode>',
        'subscribe (awslogs groups) or firelens (aws-for-fluent-bit router → the stream)',
        'subscribe',
      )
      .option('--update-services', 'roll services onto the new revisions (otherwise only registered)')
      .option('--firelens-image <image>', 'log router image', undefined),
  ).action(
    async (
      f: CommonFlags & {
        cluster?: string;
        services: string;
        mode: string;
        updateServices?: boolean;
        firelensImage?: string;
      },
    ) => {
      const cluster = need(f.cluster, '--cluster', f);
      await runOnboard(
        typeof f.apply === 'string'
          ? undefined
          : {
              kind: 'ecs',
              ...common(f),
              cluster,
              services: f.services,
              mode: f.mode as 'subscribe' | 'firelens',
              updateServices: Boolean(f.updateServices),
              ...(f.firelensImage ? { firelensImage: f.firelensImage } : {}),
            },
        f,
        'ecs',
      );
    },
  );

  addCommon(
    onboard
      .command('eks')
      .description(
        'Enable control-plane logs (one update at a time), subscribe /aws/eks/<cluster>/cluster, and with --agent install the node agent Helm release',
      )
      .option('--cluster <name>', 'EKS cluster')
      .option(
        '--control-plane-logs <types>',
        `comma list of ${CONTROL_PLANE_LOG_TYPES.join(', ')}`,
        CONTROL_PLANE_LOG_TYPES.join(','),
      )
      .option(
        '--agent',
        'also install the node agent chart (charts/logferry-agent) for container logs: helm upgrade --install --wait (needs helm: LOGFERRY_HELM or PATH)',
      )
      .option('--agent-release <name>', 'helm release of the node agent (default logferry-agent)')
      .option('--agent-namespace <ns>', 'namespace of the node agent (default logferry; created if missing)')
      .option(
        '--agent-role-arn <arn>',
        "IRSA role for the agent's service account (omit with an EKS Pod Identity association)",
      )
      .option('--kube-context <name>', 'kubeconfig context helm uses (default: the current context)')
      .option('--kubeconfig <file>', 'kubeconfig file helm uses (default: $KUBECONFIG or ~/.kube/config)'),
  ).action(
    async (
      f: CommonFlags & EksAgentFlags & { cluster?: string; controlPlaneLogs: string; agent?: boolean },
    ) => {
      const cluster = need(f.cluster, '--cluster', f);
      await runOnboard(
        typeof f.apply === 'string'
          ? undefined
          : {
              kind: 'eks',
              ...common(f),
              cluster,
              controlPlaneLogs: f.controlPlaneLogs
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
              agent: Boolean(f.agent),
              ...(f.agentRelease !== undefined ? { agentRelease: f.agentRelease } : {}),
              ...(f.agentNamespace !== undefined ? { agentNamespace: f.agentNamespace } : {}),
              ...(f.agentRoleArn !== undefined ? { agentRoleArn: f.agentRoleArn } : {}),
              ...(f.kubeContext !== undefined ? { kubeContext: f.kubeContext } : {}),
              ...(f.kubeconfig !== undefined ? { kubeconfig: f.kubeconfig } : {}),
            },
        f,
        'eks',
      );
    },
  );

  onboard
    .command('rollback')
    .description('Restore the configuration an onboarding run changed')
    .argument('<run-id>', `a run id (files under <data-dir>/onboard/)`)
    .option('--data-dir <dir>', 'where run records are kept', './logferry-data')
    .option('--json', 'print the result as JSON')
    .action(async (runId: string, f: { dataDir: string; json?: boolean }) => {
      const r = await rollback(runId, f.dataDir, {}, err);
      if (f.json) {
        out(
          `${JSON.stringify({ runId, status: r.record.status, undone: r.undone, nothingToDo: r.nothingToDo, file: r.file }, null, 2)}\n`,
        );
        return;
      }
      if (r.nothingToDo) out(`Nothing to do: run ${runId} is already rolled back.\n`);
      else
        out(
          `Rolled back run ${runId}: ${r.undone} change(s) undone (record: ${r.file}, under ${onboardDir(f.dataDir)}).\n`,
        );
    });
}
