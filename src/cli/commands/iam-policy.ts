/**
 * `logferry iam-policy <command>` — prints the least-privilege IAM policy a command needs,
 * generated from the same declared call table the command's code path is held to
 * (`onboard/calls.ts`). `--region`, `--account`, `--cluster`, `--stack`, `--role-arn` narrow the
 * resources; without them those parts are `*`. `--explain` lists each call and why it is made.
 */
import type { Command } from 'commander';
import { LogferryError } from '../../core/errors.js';
import { CALLS, type OnboardCommand, policyFor } from '../../onboard/calls.js';

const COMMANDS = Object.keys(CALLS) as OnboardCommand[];

export function registerIamPolicy(program: Command): void {
  program
    .command('iam-policy')
    .description('Print the least-privilege IAM policy a command needs (generated from the calls it makes)')
    .argument('<command...>', `one of: ${COMMANDS.map((c) => `"${c}"`).join(', ')}`)
    .option('--region <region>', 'scope resources to this region')
    .option('--account <id>', 'scope resources to this account')
    .option('--partition <p>', 'ARN partition', 'aws')
    .option('--cluster <name>', 'scope ECS/EKS resources to this cluster')
    .option('--stack <name>', 'the topology stack onboarding reads')
    .option('--role-arn <arn>', 'the CloudWatch Logs role PutSubscriptionFilter passes')
    .option('--extension-layer-arn <arn>', 'the extension layer version onboard lambda attaches')
    .option('--explain', 'list each API call and why, instead of the policy')
    .action(
      (
        words: string[],
        f: {
          region?: string;
          account?: string;
          partition: string;
          cluster?: string;
          stack?: string;
          roleArn?: string;
          extensionLayerArn?: string;
          explain?: boolean;
        },
      ) => {
        const text = words.join(' ').replace(/^logferry\s+/, '');
        const command = (COMMANDS.find((c) => c === text) ?? COMMANDS.find((c) => c === `onboard ${text}`)) as
          | OnboardCommand
          | undefined;
        const problems: string[] = [];
        if (!command) problems.push(`no policy for "${text}": known commands are ${COMMANDS.join(', ')}`);
        if (f.account !== undefined && !/^\d{12}$/.test(f.account))
          problems.push(`--account must be 12 digits, not "${f.account}"`);
        if (f.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(f.region))
          problems.push(`--region "${f.region}" is not an AWS region`);
        if (problems.length || !command) throw new LogferryError('CONFIG_INVALID', problems.join('\n'));
        if (f.explain) {
          for (const c of CALLS[command])
            process.stdout.write(
              `${c.implicit ? '(authorization) ' : ''}${c.service}:${c.operation}  ${c.actions.join(', ')}  — ${c.why}\n`,
            );
          return;
        }
        const policy = policyFor(command, {
          partition: f.partition,
          region: f.region,
          account: f.account,
          cluster: f.cluster,
          stack: f.stack,
          role: f.roleArn,
          layer: f.extensionLayerArn,
        });
        process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
      },
    );
}
