/**
 * `logferry tap <config> [component...]`: runs the config like `logferry run` and prints, as NDJSON
 * on stdout, the records leaving the named components (sources after parsing and masking, named
 * transforms, sinks: the records routed to them), like `vector tap`. Delivery is unchanged: every
 * sink still gets what it would get; the summary goes to stderr.
 */
import type { Command } from 'commander';
import { type RunOptions, run } from './run.js';

export function registerTap(program: Command): void {
  program
    .command('tap')
    .description('Run a config and print the records leaving a component as NDJSON (delivery unchanged).')
    .argument('<config>', 'YAML or JSON config file')
    .argument('[component...]', 'source, transform or sink names (default: every source)')
    .option('--events <n>', 'demo sources: ship about N events')
    .option('--follow', 'demo sources: keep producing until interrupted (Ctrl-C)')
    .option('--rate <n>', 'demo sources: events per second')
    .option('--out <dir>', 'archive directory for the default sink and dead letters')
    .option('--metrics-address <host:port>', 'serve Prometheus /metrics and /health there')
    .addHelpText(
      'after',
      `
Examples:
  $ logferry tap pipeline.yaml                  records of every source, after parse and mask
  $ logferry tap pipeline.yaml no-reads         what the no-reads transform lets through
  $ logferry tap pipeline.yaml search | jq .message`,
    )
    .action(async (configPath: string, components: string[], opts: RunOptions) => {
      await run(configPath, { ...opts, json: true }, { components });
    });
}
