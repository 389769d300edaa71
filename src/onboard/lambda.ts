/**
 * `onboard lambda`: for each selected function, its log group (the LoggingConfig's, else
 * `/aws/lambda/<name>`) is created with retention if missing and subscribed to the destination,
 * and its LoggingConfig set to JSON with the requested levels where the runtime supports
 * application log levels (Node.js, Python, Java, .NET). Container-image functions keep their
 * logging (the runtime inside is unknown). A function owned by a CloudFormation/CDK stack is not
 * changed: the plan warns and prints the patch for its template (its subscription, a separate
 * resource, is still added). Functions of the topology stack itself are never subscribed (loop).
 */
import { LogferryError } from '../core/errors.js';
import { type AwsCaller, isNotFound } from './aws.js';
import { type LogGroupOptions, planLogGroup } from './log-groups.js';
import type { Destination, PlanNote, PlanStep } from './plan.js';
import { matches, parseSelector } from './select.js';

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export const SYSTEM_LOG_LEVELS = ['DEBUG', 'INFO', 'WARN'] as const;

/** Runtimes whose managed runtime filters application logs by level in JSON format. */
const LEVEL_RUNTIMES = /^(nodejs|python|java|dotnet)/;

export interface LambdaArgs {
  functions: string;
  applicationLogLevel: string;
  systemLogLevel: string;
  /** `false`: leave LoggingConfig alone (only subscribe). */
  jsonLogs: boolean;
}

interface FnConfig {
  FunctionName?: string;
  FunctionArn?: string;
  Runtime?: string;
  PackageType?: string;
  State?: string;
  LastUpdateStatus?: string;
  LoggingConfig?: {
    LogFormat?: string;
    ApplicationLogLevel?: string;
    SystemLogLevel?: string;
    LogGroup?: string;
  };
}

export function validateLambdaArgs(a: LambdaArgs): string[] {
  const p: string[] = [];
  if (!(LOG_LEVELS as readonly string[]).includes(a.applicationLogLevel))
    p.push(`--application-log-level must be one of ${LOG_LEVELS.join(', ')}`);
  if (!(SYSTEM_LOG_LEVELS as readonly string[]).includes(a.systemLogLevel))
    p.push(`--system-log-level must be one of ${SYSTEM_LOG_LEVELS.join(', ')}`);
  return p;
}

async function selectFunctions(aws: AwsCaller, text: string): Promise<FnConfig[]> {
  const sel = parseSelector(text, 'functions');
  const out = new Map<string, FnConfig>();
  if (sel.patterns.length) {
    let Marker: string | undefined;
    do {
      const r = await aws.call<{ Functions?: FnConfig[]; NextMarker?: string }>('lambda', 'ListFunctions', {
        ...(Marker ? { Marker } : {}),
      });
      for (const f of r.Functions ?? [])
        if (f.FunctionName && matches(sel, f.FunctionName)) out.set(f.FunctionName, f);
      Marker = r.NextMarker;
    } while (Marker);
  }
  const missing: string[] = [];
  for (const name of sel.exact) {
    if (out.has(name)) continue;
    out.set(name, { FunctionName: name });
  }
  // Read each function's current configuration (ListFunctions may lag or lack State).
  const configs: FnConfig[] = [];
  for (const name of [...out.keys()].sort()) {
    try {
      configs.push(await aws.call<FnConfig>('lambda', 'GetFunctionConfiguration', { FunctionName: name }));
    } catch (e) {
      if (isNotFound(e)) missing.push(name);
      else throw e;
    }
  }
  if (missing.length)
    throw new LogferryError('CONFIG_INVALID', `no such Lambda function: ${missing.join(', ')}`);
  if (configs.length === 0)
    throw new LogferryError('CONFIG_INVALID', `no Lambda function matches --functions '${text}'`);
  return configs;
}

/** The template patch for a stack-owned function (CloudFormation and CDK forms). */
function stackPatch(stack: string, logicalId: string | undefined, cfg: Record<string, string>): string {
  const id = logicalId ?? '<FunctionLogicalId>';
  return [
    `stack ${stack}, resource ${id} (AWS::Lambda::Function) — add to its Properties:`,
    '  LoggingConfig:',
    ...Object.entries(cfg)
      .filter(([k]) => k !== 'LogGroup')
      .map(([k, v]) => `    ${k}: ${v}`),
    'CDK (aws-lambda Function props):',
    `  loggingFormat: lambda.LoggingFormat.JSON, applicationLogLevelV2: lambda.ApplicationLogLevel.${cfg.ApplicationLogLevel}, systemLogLevelV2: lambda.SystemLogLevel.${cfg.SystemLogLevel}`,
  ].join('\n');
}

export async function planLambda(
  aws: AwsCaller,
  args: LambdaArgs,
  dest: Destination,
  lg: LogGroupOptions,
): Promise<{ steps: PlanStep[]; notes: PlanNote[] }> {
  const steps: PlanStep[] = [];
  const notes: PlanNote[] = [];
  for (const fn of await selectFunctions(aws, args.functions)) {
    const name = fn.FunctionName!;
    const resource = `function ${name}`;
    const tags =
      (await aws.call<{ Tags?: Record<string, string> }>('lambda', 'ListTags', { Resource: fn.FunctionArn }))
        .Tags ?? {};
    const stack = tags['aws:cloudformation:stack-name'];
    if (stack && dest.stack && stack === dest.stack) {
      notes.push({
        level: 'info',
        resource,
        message: `part of the logferry topology stack ${stack}: never subscribed (it would loop)`,
      });
      continue;
    }
    if (fn.State === 'Pending' || fn.LastUpdateStatus === 'InProgress')
      notes.push({
        level: 'info',
        resource,
        message: 'is updating now; apply waits for the update to finish before changing it',
      });
    const group = fn.LoggingConfig?.LogGroup || `/aws/lambda/${name}`;
    const sub = await planLogGroup(aws, group, dest, lg, resource);
    steps.push(...sub.steps);
    notes.push(...sub.notes);

    if (!args.jsonLogs) continue;
    if (fn.PackageType === 'Image') {
      notes.push({
        level: 'info',
        resource,
        message:
          'container image: its runtime is unknown, so LoggingConfig is left as it is (set LogFormat JSON yourself if the image is built on an AWS Lambda base image); no layers can be attached',
      });
      continue;
    }
    if (!fn.Runtime || !LEVEL_RUNTIMES.test(fn.Runtime)) {
      notes.push({
        level: 'info',
        resource,
        message: `runtime ${fn.Runtime ?? 'unknown'} does not filter application logs by level; LoggingConfig left as it is`,
      });
      continue;
    }
    const current = fn.LoggingConfig ?? {};
    const wanted = {
      LogFormat: 'JSON',
      ApplicationLogLevel: args.applicationLogLevel,
      SystemLogLevel: args.systemLogLevel,
      LogGroup: group,
    };
    const changes = (['LogFormat', 'ApplicationLogLevel', 'SystemLogLevel'] as const)
      .filter((k) => current[k] !== wanted[k])
      .map((k) => ({ field: `LoggingConfig.${k}`, before: current[k], after: wanted[k] }));
    if (changes.length === 0) {
      notes.push({
        level: 'info',
        resource,
        message: 'LoggingConfig already JSON with the requested levels',
      });
      continue;
    }
    if (stack) {
      notes.push({
        level: 'warn',
        resource,
        message: `owned by CloudFormation stack ${stack}: its LoggingConfig is not changed here (the next deploy would undo it). Apply this patch to the stack's template instead:`,
        patch: stackPatch(stack, tags['aws:cloudformation:logical-id'], wanted),
      });
      continue;
    }
    steps.push({
      id: `logging-config:${name}`,
      resource,
      action: 'set LoggingConfig (JSON, levels)',
      call: {
        service: 'lambda',
        operation: 'UpdateFunctionConfiguration',
        input: { FunctionName: name, LoggingConfig: wanted },
        hooks: ['lambda-ready'],
      },
      changes,
      observed: {
        LoggingConfig: current,
        Runtime: fn.Runtime,
        PackageType: fn.PackageType ?? 'Zip',
        stack: stack ?? null,
      },
      undo: [
        {
          service: 'lambda',
          operation: 'UpdateFunctionConfiguration',
          // The exact previous LoggingConfig (a Text format carries no levels).
          input: {
            FunctionName: name,
            LoggingConfig: {
              LogFormat: current.LogFormat ?? 'Text',
              LogGroup: current.LogGroup ?? group,
              ...levelsOf(current),
            },
          },
          hooks: ['lambda-ready'],
        },
      ],
    });
  }
  return { steps, notes };
}

function levelsOf(c: NonNullable<FnConfig['LoggingConfig']>): Record<string, string> {
  if (c.LogFormat !== 'JSON') return {};
  return {
    ...(c.ApplicationLogLevel ? { ApplicationLogLevel: c.ApplicationLogLevel } : {}),
    ...(c.SystemLogLevel ? { SystemLogLevel: c.SystemLogLevel } : {}),
  };
}
