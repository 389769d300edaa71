/**
 * The `logferry` command line. Each subcommand lives in cli/commands/<name>.ts and registers itself
 * here with one line. This is the only place that exits the process: commands throw LogferryError
 * and the handler below prints what to do next and picks the exit code (2 for bad config or query,
 * 1 for runtime failures).
 */
import { Command, CommanderError } from 'commander';
import { LogferryError } from '../core/errors.js';
import { registrations } from './commands/index.js';

/** The package version, put in by the build (scripts/build.mjs); tests run from source. */
declare const __LOGFERRY_VERSION__: string | undefined;
const LOGFERRY_VERSION = typeof __LOGFERRY_VERSION__ === 'string' ? __LOGFERRY_VERSION__ : '0.0.0-source';

export async function main(argv: string[]): Promise<number> {
  // The AWS SDK prints a 9-line notice on Node < 22 ("versions published after January 2027 will
  // require node >= 22") to stderr on the first client of every command. logferry pins its SDK,
  // so a user cannot act on it here; README says which Node versions logferry supports. Setting the
  // SDK's own switch keeps stderr for logferry's progress and summaries (a user's value wins).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const program = new Command('logferry')
    .description(
      'Ferries AWS CloudWatch Logs (EKS control plane, Lambda, ECS, any log group) to S3 archives, ' +
        'OpenSearch/Elasticsearch and HTTP log services, and queries them with the Logs Insights language.',
    )
    .version(LOGFERRY_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of await registrations(argv)) register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return commanderExitCode(e);
    if (e instanceof LogferryError) {
      process.stderr.write(`logferry: ${e.message}\n`);
      return e.code === 'CONFIG_INVALID' || e.code === 'QUERY_SYNTAX' ? 2 : 1;
    }
    process.stderr.write(`logferry: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

/**
 * Commander exits 1 for every usage error; logferry's contract is 2 for anything the user typed
 * wrong (unknown option or command, missing or bad argument), 0 for --help and --version.
 */
function commanderExitCode(e: CommanderError): number {
  if (e.exitCode === 0) return 0;
  if (e.code === 'commander.executeSubCommandAsync') return e.exitCode;
  return 2;
}

/**
 * Resolves once everything written to `stream` has reached the OS. Writes to a pipe are
 * asynchronous in Node: exiting right after a large `write` (e.g. `logferry query -o json | jq`)
 * would cut the output at the pipe buffer (64 KiB). A closed reader (EPIPE) resolves too.
 */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('error', () => resolve());
    stream.write('', () => resolve());
  });
}

const code = await main(process.argv.slice(2));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
