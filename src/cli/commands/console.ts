/**
 * `logferry console` — serves the web console (Logs Insights editor, histogram, results, fields,
 * saved queries) over an archive, S3 prefix or OpenSearch index, on 127.0.0.1 unless `--host` says
 * otherwise (then with a token in the printed URL). Runs until Ctrl-C. The URL goes to stderr:
 * stdout carries data only.
 */
import type { Command } from 'commander';
import { LogferryError } from '../../core/errors.js';
import { startConsole } from '../../console/server.js';
import { DEFAULT_FROM, sourceKind } from '../../query/backends/index.js';

interface ConsoleFlags {
  from: string;
  host: string;
  port: string;
  queries: string;
  threads?: string;
  daemon?: string;
}

function intFlag(v: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new LogferryError(
      'CONFIG_INVALID',
      `${flag} '${v}': expected a whole number from ${min} to ${max}`,
    );
  return Number(v);
}

export function registerConsole(program: Command): void {
  program
    .command('console')
    .description('Serve the web console: Logs Insights queries over what logferry shipped, in the browser')
    .option(
      '--from <where>',
      'archive directory, s3://bucket/prefix or opensearch://host:port/index',
      DEFAULT_FROM,
    )
    .option(
      '--host <address>',
      'address to bind (anything but loopback requires the printed token)',
      '127.0.0.1',
    )
    .option('--port <n>', 'port (0: any free port)', '5170')
    .option('--queries <dir>', 'folder of saved queries (one .insights file each)', './logferry-queries')
    .option('--threads <n>', 'scan worker threads (default: all cores; 0 = none)')
    .option(
      '--daemon <host:port>',
      'a running `logferry run --metrics-address` to tail live and show as a graph',
    )
    .action(async (flags: ConsoleFlags) => {
      sourceKind(flags.from);
      const running = await startConsole({
        from: flags.from,
        host: flags.host,
        port: intFlag(flags.port, '--port', 0, 65535),
        queriesDir: flags.queries,
        threads: flags.threads === undefined ? undefined : intFlag(flags.threads, '--threads', 0, 256),
        version: program.version(),
        daemon: flags.daemon,
      }).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE')
          throw new LogferryError(
            'CONFIG_INVALID',
            `port ${flags.port} is in use: pick another with --port (0 = any free port)`,
          );
        if (e.code === 'EADDRNOTAVAIL' || e.code === 'EACCES')
          throw new LogferryError(
            'CONFIG_INVALID',
            `cannot bind ${flags.host}:${flags.port} (${e.code}): check --host and --port`,
          );
        throw e;
      });
      process.stderr.write(
        `logferry console: ${running.url}\n  querying ${flags.from} · saved queries in ${flags.queries} · Ctrl-C to stop\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await running.close();
    });
}
