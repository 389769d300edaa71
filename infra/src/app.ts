/**
 * The logferry CDK app: builds one of the three stacks from the deploy configuration and
 * synthesizes it to a cloud assembly (CloudFormation template + assets) that the pinned CDK CLI
 * deploys or diffs. Used by `logferry deploy` and by the tests.
 */
import { App, type Stack, Tags } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { DeployConfig } from './config.js';
import { FirehoseArchiveStack } from './stacks/firehose-archive.js';
import { KinesisSearchStack } from './stacks/kinesis-search.js';
import { SubscriptionsStack } from './stacks/subscriptions.js';

export const STACK_KINDS = ['firehose-archive', 'kinesis-search', 'subscriptions'] as const;
export type StackKind = (typeof STACK_KINDS)[number];

export interface Built {
  app: App;
  stack: Stack;
  /** The CloudFormation stack name. */
  stackName: string;
}

function envOf(cfg: DeployConfig) {
  return cfg.env.account || cfg.env.region ? { account: cfg.env.account, region: cfg.env.region } : undefined;
}

/** Builds the stacks whose log groups the subscriptions stack must never subscribe (not synthesized). */
function pipelineStacksFor(cfg: DeployConfig): {
  stacks: Stack[];
  target?: FirehoseArchiveStack | KinesisSearchStack;
} {
  const scratch = new App();
  const env = envOf(cfg);
  // Only the names matter here: the queues' cluster prefixes do not change any log group.
  const fh = new FirehoseArchiveStack(
    scratch,
    'FirehoseArchive',
    // Queues only when consumers (whose log groups count) need them.
    {
      ...cfg.firehoseArchive,
      componentQueues:
        cfg.firehoseArchive.componentQueues && cfg.firehoseArchive.componentConsumers !== undefined,
    },
    { env },
  );
  const ks = new KinesisSearchStack(scratch, 'KinesisSearch', cfg.kinesisSearch, { env });
  const t = cfg.subscriptions.target;
  const target = 'stack' in t ? (t.stack === 'firehose-archive' ? fh : ks) : undefined;
  return { stacks: [fh, ks], target };
}

export function buildStack(kind: StackKind, cfg: DeployConfig, outdir?: string): Built {
  const app = new App({ outdir, analyticsReporting: false });
  const env = envOf(cfg);
  let stack: Stack;
  if (kind === 'firehose-archive')
    stack = new FirehoseArchiveStack(app, 'FirehoseArchive', cfg.firehoseArchive, { env });
  else if (kind === 'kinesis-search')
    stack = new KinesisSearchStack(app, 'KinesisSearch', cfg.kinesisSearch, { env });
  else {
    const { stacks, target } = pipelineStacksFor(cfg);
    stack = new SubscriptionsStack(app, 'Subscriptions', cfg.subscriptions, {
      env,
      pipelineStacks: stacks,
      targetExports: target
        ? { destinationArn: target.destinationArnExport, roleArn: target.roleArnExport }
        : undefined,
    });
  }
  Tags.of(app).add('logferry:stack', kind);
  for (const [k, v] of Object.entries(cfg.tags)) Tags.of(app).add(k, v);
  return { app, stack, stackName: stack.stackName };
}

export function synth(
  kind: StackKind,
  cfg: DeployConfig,
  outdir?: string,
): Built & { assembly: CloudAssembly } {
  const built = buildStack(kind, cfg, outdir);
  return { ...built, assembly: built.app.synth() };
}
