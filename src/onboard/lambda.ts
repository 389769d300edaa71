/**
 * `onboard lambda`: for each selected function, its log group (the LoggingConfig's, else
 * `/aws/lambda/<name>`) is created with retention if missing and subscribed to the destination,
 * and its LoggingConfig set to JSON with the requested levels where the runtime supports
 * application log levels (Node.js, Python, Java, .NET). Container-image functions keep their
 * logging (the runtime inside is unknown). A function owned by a CloudFormation/CDK stack is not
 * changed: the plan warns and prints the patch for its template (its subscription, a separate
 * resource, is still added). Functions of the topology stack itself are never subscribed (loop).
 *
 * With `--extension-layer-arn`, the logferry Telemetry API extension layer is attached too: the
 * layer is added beside the function's own layers (a newer/older version of the same layer is
 * replaced; at most 5 layers), and `LOGFERRY_CONFIG_PARAMETER` names the SSM parameter holding the
 * extension's logferry config (a reference, never the config or a secret itself). The plan never
 * holds the function's other environment values: they are MASKED and read back from the function
 * at apply (and at rollback, where the previous layer list and variable set are restored exactly).
 * Container-image functions (no layers), runtimes or architectures the layer does not declare, and
 * functions at the layer limit are refused with a sentence; stack-owned functions get the patch.
 */
import { LogferryError } from '../core/errors.js';
import { type AwsCaller, isNotFound } from './aws.js';
import { type LogGroupOptions, planLogGroup } from './log-groups.js';
import { type Destination, MASKED, type PlanNote, type PlanStep } from './plan.js';
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
  /** The logferry extension layer version to attach (`arn:…:layer:name:version`). */
  extensionLayerArn?: string;
  /** SSM parameter (name or ARN) holding the extension's logferry config. */
  extensionConfigParameter?: string;
}

/** Lambda's limit of layers per function. */
export const MAX_LAYERS = 5;
/** The variable the extension reads its config from (an SSM parameter name; SecureString allowed). */
export const EXTENSION_CONFIG_VAR = 'LOGFERRY_CONFIG_PARAMETER';

const LAYER_VERSION_ARN = /^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+):(\d+)$/;
const SSM_PARAMETER = /^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/)?[A-Za-z0-9_.\-/]{1,2048}$/;

interface LayerInfo {
  arn: string;
  /** The layer's ARN without the version: a function's other version of it is replaced. */
  layerArn: string;
  runtimes: string[];
  architectures: string[];
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
  Layers?: { Arn?: string }[];
  Architectures?: string[];
  Environment?: { Variables?: Record<string, string> };
}

export function validateLambdaArgs(a: LambdaArgs): string[] {
  const p: string[] = [];
  if (!(LOG_LEVELS as readonly string[]).includes(a.applicationLogLevel))
    p.push(`--application-log-level must be one of ${LOG_LEVELS.join(', ')}`);
  if (!(SYSTEM_LOG_LEVELS as readonly string[]).includes(a.systemLogLevel))
    p.push(`--system-log-level must be one of ${SYSTEM_LOG_LEVELS.join(', ')}`);
  if (a.extensionLayerArn !== undefined && !LAYER_VERSION_ARN.test(a.extensionLayerArn))
    p.push(
      `--extension-layer-arn ${a.extensionLayerArn} is not a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)`,
    );
  if (a.extensionLayerArn !== undefined && !a.extensionConfigParameter)
    p.push(
      '--extension-layer-arn needs --extension-config-parameter NAME: the SSM parameter (SecureString allowed) holding the logferry config the extension ships with',
    );
  if (a.extensionConfigParameter !== undefined && a.extensionLayerArn === undefined)
    p.push('--extension-config-parameter is only used with --extension-layer-arn');
  if (a.extensionConfigParameter !== undefined && !SSM_PARAMETER.test(a.extensionConfigParameter))
    p.push(
      `--extension-config-parameter ${a.extensionConfigParameter} is not an SSM parameter name or ARN (the config is passed by reference, never as a value)`,
    );
  return p;
}

/** Reads the extension layer version once: its ARN, compatible runtimes and architectures. */
async function readLayer(aws: AwsCaller, arn: string): Promise<LayerInfo> {
  const m = LAYER_VERSION_ARN.exec(arn);
  if (!m) throw new LogferryError('CONFIG_INVALID', `${arn} is not a layer version ARN`);
  try {
    const r = await aws.call<{
      LayerVersionArn?: string;
      CompatibleRuntimes?: string[];
      CompatibleArchitectures?: string[];
    }>('lambda', 'GetLayerVersion', { LayerName: m[1], VersionNumber: Number(m[2]) });
    return {
      arn: r.LayerVersionArn ?? arn,
      layerArn: m[1],
      runtimes: r.CompatibleRuntimes ?? [],
      architectures: r.CompatibleArchitectures ?? [],
    };
  } catch (e) {
    if (isNotFound(e))
      throw new LogferryError(
        'CONFIG_INVALID',
        `no layer version ${arn} (publish dist/lambda/extension as a layer first, see docs/onboard.md)`,
      );
    throw e;
  }
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
  const layer = args.extensionLayerArn ? await readLayer(aws, args.extensionLayerArn) : undefined;
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

    const logicalId = tags['aws:cloudformation:logical-id'];
    if (args.jsonLogs) planLoggingConfig(fn, args, group, stack, logicalId, steps, notes);
    if (layer) planExtension(fn, args, layer, stack, logicalId, steps, notes);
  }
  return { steps, notes };
}

function planLoggingConfig(
  fn: FnConfig,
  args: LambdaArgs,
  group: string,
  stack: string | undefined,
  logicalId: string | undefined,
  steps: PlanStep[],
  notes: PlanNote[],
): void {
  const name = fn.FunctionName!;
  const resource = `function ${name}`;
  if (fn.PackageType === 'Image') {
    notes.push({
      level: 'info',
      resource,
      message:
        'container image: its runtime is unknown, so LoggingConfig is left as it is (set LogFormat JSON yourself if the image is built on an AWS Lambda base image); no layers can be attached',
    });
    return;
  }
  if (!fn.Runtime || !LEVEL_RUNTIMES.test(fn.Runtime)) {
    notes.push({
      level: 'info',
      resource,
      message: `runtime ${fn.Runtime ?? 'unknown'} does not filter application logs by level; LoggingConfig left as it is`,
    });
    return;
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
    return;
  }
  if (stack) {
    notes.push({
      level: 'warn',
      resource,
      message: `owned by CloudFormation stack ${stack}: its LoggingConfig is not changed here (the next deploy would undo it). Apply this patch to the stack's template instead:`,
      patch: stackPatch(stack, logicalId, wanted),
    });
    return;
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

/** The template patch attaching the extension to a stack-owned function. */
function extensionPatch(
  stack: string,
  logicalId: string | undefined,
  layers: string[],
  param: string,
): string {
  const id = logicalId ?? '<FunctionLogicalId>';
  return [
    `stack ${stack}, resource ${id} (AWS::Lambda::Function) — set in its Properties:`,
    '  Layers:',
    ...layers.map((l) => `    - ${l}`),
    '  Environment:',
    '    Variables:',
    `      ${EXTENSION_CONFIG_VAR}: ${param}`,
    'CDK (aws-lambda Function):',
    `  fn.addLayers(lambda.LayerVersion.fromLayerVersionArn(this, 'LogferryExtension', '${layers[layers.length - 1]}'));`,
    `  fn.addEnvironment('${EXTENSION_CONFIG_VAR}', '${param}');`,
    `  // and grant the function's role ssm:GetParameter (and kms:Decrypt for a SecureString) on ${param}`,
  ].join('\n');
}

/** Why the extension cannot go on this function, or undefined when it can. */
function extensionRefusal(fn: FnConfig, layer: LayerInfo, others: string[]): string | undefined {
  if (fn.PackageType === 'Image')
    return 'container image: Lambda attaches no layers to image functions; build the extension into the image instead (copy dist/lambda/extension/ to /opt)';
  const runtime = fn.Runtime ?? 'unknown';
  if (layer.runtimes.length ? !layer.runtimes.includes(runtime) : !runtime.startsWith('nodejs'))
    return layer.runtimes.length
      ? `runtime ${runtime} is not among the layer's compatible runtimes (${layer.runtimes.join(', ')}); the extension is not attached`
      : `runtime ${runtime} has no node binary for the extension's launcher (the layer declares no compatible runtimes; nodejs20.x/nodejs22.x work); the extension is not attached`;
  const arch = fn.Architectures?.[0] ?? 'x86_64';
  if (layer.architectures.length && !layer.architectures.includes(arch))
    return `architecture ${arch} is not among the layer's compatible architectures (${layer.architectures.join(', ')}); the extension is not attached`;
  if (others.length >= MAX_LAYERS)
    return `already has ${others.length} layers, the most Lambda allows (${MAX_LAYERS}); the extension is not attached — remove a layer first or build the extension into one of them`;
  return undefined;
}

function planExtension(
  fn: FnConfig,
  args: LambdaArgs,
  layer: LayerInfo,
  stack: string | undefined,
  logicalId: string | undefined,
  steps: PlanStep[],
  notes: PlanNote[],
): void {
  const name = fn.FunctionName!;
  const resource = `function ${name}`;
  const param = args.extensionConfigParameter!;
  const currentLayers = (fn.Layers ?? []).map((l) => l.Arn ?? '').filter(Boolean);
  // Another version of the same layer is replaced in place (keeping the layer order).
  const others = currentLayers.filter((a) => a !== layer.arn && !a.startsWith(`${layer.layerArn}:`));
  const refusal = extensionRefusal(fn, layer, others);
  if (refusal) {
    notes.push({ level: 'warn', resource, message: refusal });
    return;
  }
  const sameIndex = currentLayers.findIndex((a) => a === layer.arn || a.startsWith(`${layer.layerArn}:`));
  const wantedLayers =
    sameIndex >= 0
      ? currentLayers.map((a, i) => (i === sameIndex ? layer.arn : a))
      : [...currentLayers, layer.arn];
  const vars = fn.Environment?.Variables ?? {};
  const layersChange = JSON.stringify(wantedLayers) !== JSON.stringify(currentLayers);
  const envChange = vars[EXTENSION_CONFIG_VAR] !== param;
  if (vars.LOGFERRY_CONFIG !== undefined)
    notes.push({
      level: 'warn',
      resource,
      message: `has LOGFERRY_CONFIG set, which the extension reads before ${EXTENSION_CONFIG_VAR}: remove it for the parameter to take effect`,
    });
  if (!layersChange && !envChange) {
    notes.push({
      level: 'info',
      resource,
      message: 'the logferry extension is already attached and configured',
    });
    return;
  }
  if (stack) {
    notes.push({
      level: 'warn',
      resource,
      message: `owned by CloudFormation stack ${stack}: the extension is not attached here (the next deploy would undo it). Apply this patch to the stack's template instead:`,
      patch: extensionPatch(stack, logicalId, wantedLayers, param),
    });
    return;
  }
  // Every other variable's value stays out of the plan and the run record: MASKED here, read
  // back from the function itself when the call is sent (apply and rollback alike).
  const masked = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, MASKED]));
  const otherKeys = Object.keys(vars)
    .filter((k) => k !== EXTENSION_CONFIG_VAR)
    .sort();
  const changes = [
    ...(layersChange ? [{ field: 'Layers', before: currentLayers, after: wantedLayers }] : []),
    ...(envChange
      ? [
          {
            field: `Environment.Variables.${EXTENSION_CONFIG_VAR}`,
            before: vars[EXTENSION_CONFIG_VAR],
            after: param,
          },
        ]
      : []),
  ];
  steps.push({
    id: `extension:${name}`,
    resource,
    action: 'attach the logferry extension layer',
    call: {
      service: 'lambda',
      operation: 'UpdateFunctionConfiguration',
      input: {
        FunctionName: name,
        Layers: wantedLayers,
        Environment: { Variables: { ...masked(otherKeys), [EXTENSION_CONFIG_VAR]: param } },
      },
      hooks: ['lambda-ready', 'lambda-env'],
    },
    changes,
    observed: {
      Layers: currentLayers,
      EnvironmentKeys: Object.keys(vars).sort(),
      [EXTENSION_CONFIG_VAR]: vars[EXTENSION_CONFIG_VAR] ?? null,
      Runtime: fn.Runtime,
      Architectures: fn.Architectures ?? ['x86_64'],
      PackageType: fn.PackageType ?? 'Zip',
      stack: stack ?? null,
    },
    undo: [
      {
        service: 'lambda',
        operation: 'UpdateFunctionConfiguration',
        input: {
          FunctionName: name,
          Layers: currentLayers,
          Environment: {
            Variables: {
              ...masked(otherKeys),
              ...(vars[EXTENSION_CONFIG_VAR] !== undefined
                ? { [EXTENSION_CONFIG_VAR]: vars[EXTENSION_CONFIG_VAR] }
                : {}),
            },
          },
        },
        hooks: ['lambda-ready', 'lambda-env'],
      },
    ],
  });
  notes.push({
    level: 'info',
    resource,
    message: `its execution role needs ssm:GetParameter on ${param} (and kms:Decrypt for a SecureString) and whatever the configured sink needs; onboarding does not change IAM roles`,
  });
}

function levelsOf(c: NonNullable<FnConfig['LoggingConfig']>): Record<string, string> {
  if (c.LogFormat !== 'JSON') return {};
  return {
    ...(c.ApplicationLogLevel ? { ApplicationLogLevel: c.ApplicationLogLevel } : {}),
    ...(c.SystemLogLevel ? { SystemLogLevel: c.SystemLogLevel } : {}),
  };
}
