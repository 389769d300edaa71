/**
 * Finds the deployed logferry topology an onboarding command ships to: the CloudFormation stack's
 * outputs `DestinationArn` (the Firehose delivery stream or Kinesis stream subscription filters
 * target) and `CloudWatchLogsRoleArn` (the role CloudWatch Logs assumes to write to it), or the
 * ARNs given with `--destination-arn`/`--role-arn` (which win over the stack's).
 */
import { LogferryError } from '../core/errors.js';
import { type AwsCaller, awsErrorName } from './aws.js';
import type { Destination } from './plan.js';

export const DESTINATION_OUTPUT = 'DestinationArn';
export const ROLE_OUTPUT = 'CloudWatchLogsRoleArn';

export interface TopologyArgs {
  stack?: string;
  destinationArn?: string;
  roleArn?: string;
}

/**
 * The stack names `logferry deploy` gives the two topologies when the config names none
 * (infra/src/config.ts; a test keeps them equal). Without --stack or --destination-arn, onboarding
 * looks for these and uses the one that exists.
 */
export const DEFAULT_TOPOLOGY_STACKS = ['LogferryKinesisSearch', 'LogferryFirehoseArchive'] as const;

const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/;

export function destinationKind(
  arn: string,
): 'firehose' | 'kinesis' | 'lambda' | 'logs-destination' | undefined {
  const service = arn.split(':')[2];
  if (service === 'firehose') return 'firehose';
  if (service === 'kinesis') return 'kinesis';
  if (service === 'lambda') return 'lambda';
  if (service === 'logs') return 'logs-destination';
  return undefined;
}

/** Format problems of the explicit ARNs (checked with the other arguments, before any call). */
export function validateTopologyArgs(args: TopologyArgs): string[] {
  const p: string[] = [];
  if (args.destinationArn && (!ARN.test(args.destinationArn) || !destinationKind(args.destinationArn)))
    p.push(
      `--destination-arn ${args.destinationArn} is not a Firehose, Kinesis, Lambda or CloudWatch Logs destination ARN`,
    );
  if (args.roleArn && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(args.roleArn))
    p.push(`--role-arn ${args.roleArn} is not an IAM role ARN`);
  return p;
}

type StackOutputs = { OutputKey?: string; OutputValue?: string }[];

async function describeStack(aws: AwsCaller, name: string): Promise<StackOutputs | undefined> {
  try {
    const r = await aws.call<{ Stacks?: { Outputs?: StackOutputs }[] }>('cloudformation', 'DescribeStacks', {
      StackName: name,
    });
    return r.Stacks?.[0]?.Outputs ?? [];
  } catch (e) {
    if (awsErrorName(e) === 'ValidationError') return undefined; // no such stack
    throw e;
  }
}

/** The deployed default-named topology, when exactly one exists (no --stack, no --destination-arn). */
async function defaultStack(aws: AwsCaller): Promise<string> {
  const found: string[] = [];
  for (const name of DEFAULT_TOPOLOGY_STACKS) if (await describeStack(aws, name)) found.push(name);
  if (found.length === 1) return found[0];
  if (found.length > 1)
    throw new LogferryError(
      'CONFIG_INVALID',
      `two logferry topologies are deployed here (${found.join(' and ')}): choose one with --stack NAME`,
    );
  throw new LogferryError(
    'CONFIG_INVALID',
    `no destination: no logferry topology stack (${DEFAULT_TOPOLOGY_STACKS.join(', ')}) in this region; deploy one first (logferry deploy kinesis-search), or give --stack NAME or --destination-arn ARN`,
  );
}

export async function resolveDestination(aws: AwsCaller, given: TopologyArgs): Promise<Destination> {
  const args = given.stack || given.destinationArn ? given : { ...given, stack: await defaultStack(aws) };
  let arn = args.destinationArn;
  let roleArn = args.roleArn;
  if (args.stack && (!arn || !roleArn)) {
    const outputs = await describeStack(aws, args.stack);
    if (!outputs)
      throw new LogferryError(
        'CONFIG_INVALID',
        `no CloudFormation stack "${args.stack}" in this region: deploy a topology first (logferry deploy) or name it with --destination-arn/--role-arn`,
      );
    const get = (k: string) => outputs.find((o) => o.OutputKey === k)?.OutputValue;
    arn ??= get(DESTINATION_OUTPUT);
    roleArn ??= get(ROLE_OUTPUT);
    if (!arn)
      throw new LogferryError(
        'CONFIG_INVALID',
        `stack "${args.stack}" has no ${DESTINATION_OUTPUT} output: is it a logferry topology stack (firehose-archive or kinesis-search)?`,
      );
  }
  const problems: string[] = [];
  if (!arn)
    problems.push(
      'no destination: give --stack NAME (a deployed logferry topology) or --destination-arn ARN',
    );
  else if (!ARN.test(arn) || !destinationKind(arn))
    problems.push(
      `--destination-arn ${arn} is not a Firehose, Kinesis, Lambda or CloudWatch Logs destination ARN`,
    );
  if (roleArn && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleArn))
    problems.push(`--role-arn ${roleArn} is not an IAM role ARN`);
  const kind = arn ? destinationKind(arn) : undefined;
  if ((kind === 'firehose' || kind === 'kinesis') && !roleArn)
    problems.push(
      `a ${kind} destination needs the role CloudWatch Logs assumes: --role-arn or the stack output ${ROLE_OUTPUT}`,
    );
  if (problems.length) throw new LogferryError('CONFIG_INVALID', problems.join('\n'));
  return { arn: arn!, ...(roleArn ? { roleArn } : {}), ...(args.stack ? { stack: args.stack } : {}) };
}
