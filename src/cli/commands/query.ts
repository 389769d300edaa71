/**
 * `logferry query '<Logs Insights query>'` — runs a query over a local archive (default
 * ./logferry-data), an S3 archive or an OpenSearch index and prints a table (with a histogram or
 * bar chart and a footer), JSON or CSV. The query comes from the argument, `-f file`, or a named
 * recipe (`--recipe eks/aws-auth-changes --param cluster=prod`). Syntax errors are LogferryError
 * QUERY_SYNTAX with a caret snippet (exit 2); progress goes to stderr on a TTY only.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { LogferryError } from '../../core/errors.js';
import { fileKind } from '../../core/file-kind.js';
import { expandRecipe, findRecipe, parseParamArgs } from '../../query/recipes/index.js';
import {
  type OutputFormat,
  progressLine,
  render,
  renderFooter,
  renderIncomplete,
  statsJson,
} from '../../query/render/index.js';
import { DEFAULT_FROM, DEFAULT_MAX_LINE_BYTES, runQuery } from '../../query/backends/index.js';

/** Exit status of a query whose answer misses data (unreadable/damaged objects, over-long lines). */
export const EXIT_INCOMPLETE = 3;

const OUTPUTS: OutputFormat[] = ['table', 'json', 'csv'];

function durationMs(text: string, flag: string): number {
  if (text === 'off') return -1;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m)
    throw new LogferryError(
      'CONFIG_INVALID',
      `${flag} '${text}': expected a period such as 30m, 1h, 1d, or 'off'`,
    );
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms'];
}

interface QueryFlags {
  from?: string;
  start?: string;
  end?: string;
  output: string;
  limit?: string;
  file?: string;
  recipe?: string;
  param: string[];
  lookup: string[];
  threads?: string;
  width?: string;
  pruneSlack?: string;
  printQuery?: boolean;
  allowPartial?: boolean;
  maxLineBytes?: string;
  statsJson?: string;
}

function byteSize(text: string, flag: string): number {
  const m = /^(\d+)(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(text.trim());
  const unit = (m?.[2] ?? 'b').toLowerCase()[0] as 'b' | 'k' | 'm' | 'g';
  const n = m ? Number(m[1]) * { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit] : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 31)
    throw new LogferryError(
      'CONFIG_INVALID',
      `${flag} '${text}': expected a size such as 1048576, 512k, 32m or 1g (at most 2g)`,
    );
  return n;
}

export async function resolveQueryText(positional: string | undefined, flags: QueryFlags): Promise<string> {
  const sources = [positional !== undefined, flags.file !== undefined, flags.recipe !== undefined].filter(
    Boolean,
  ).length;
  if (sources > 1)
    throw new LogferryError(
      'CONFIG_INVALID',
      'give the query once: as an argument, with -f <file>, or with --recipe <name>',
    );
  let text: string;
  if (flags.recipe) text = expandRecipe(findRecipe(flags.recipe), parseParamArgs(flags.param));
  else {
    if (flags.param.length) throw new LogferryError('CONFIG_INVALID', '--param applies to --recipe only');
    if (flags.file) {
      try {
        // A device or FIFO would be read until the string limit (or waited on forever).
        const st = await stat(flags.file);
        if (!st.isFile()) throw new Error(`it is ${fileKind(st)}, not a file`);
        text = await readFile(flags.file, 'utf8');
      } catch (e) {
        throw new LogferryError(
          'CONFIG_INVALID',
          `-f ${flags.file}: cannot read the query file (${(e as Error).message})`,
        );
      }
    } else if (positional !== undefined) text = positional;
    else
      throw new LogferryError(
        'CONFIG_INVALID',
        'no query: give one, e.g. logferry query \'filter @message like "error" | limit 20\', or -f query.txt, or --recipe (see `logferry recipes`)',
      );
  }
  if (flags.limit !== undefined) {
    if (!/^\d+$/.test(flags.limit) || Number(flags.limit) < 1)
      throw new LogferryError('CONFIG_INVALID', `--limit ${flags.limit}: expected a positive number`);
    text = `${text.replace(/\s+$/, '')}\n| limit ${flags.limit}`;
  }
  return text;
}

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('Run a CloudWatch Logs Insights query over an archive (local or S3) or an OpenSearch index')
    .argument('[query]', 'Logs Insights query text')
    .option(
      '--from <where>',
      `local path, s3://bucket/prefix, or opensearch[s]://host:port/index-pattern (default ${DEFAULT_FROM})`,
    )
    .option('--start <time>', 'start of the time range: ISO 8601, epoch, or relative (15m, 1h, 7d ago)')
    .option('--end <time>', 'end of the time range (exclusive), same forms as --start')
    .option('-o, --output <format>', 'table | json | csv', 'table')
    .option('--limit <n>', 'at most n result rows (appends | limit n)')
    .option('-f, --file <path>', 'read the query from a file')
    .option('--recipe <name>', 'run a named recipe (see `logferry recipes`)')
    .option(
      '--param <name=value>',
      'recipe parameter (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      '--lookup <name=file.csv>',
      'lookup table for lookup/cidrlookup: a CSV file or s3://bucket/key.csv (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--threads <n>', 'scan worker threads (default: all cores; 0 = none)')
    .option('--width <columns>', 'table width (default: the terminal width, else 160)')
    .option(
      '--prune-slack <period>',
      "how far events may lie outside their object's key time (default 1h; 'off' disables key-time pruning)",
    )
    .option('--print-query', 'print the (expanded) query to stderr before running it')
    .option(
      '--allow-partial',
      'exit 0 even when some data could not be read (it is still reported on stderr); default: exit 3',
    )
    .option(
      '--max-line-bytes <size>',
      `longest archive line read; longer lines are skipped and reported (default ${DEFAULT_MAX_LINE_BYTES / 1024 / 1024}m)`,
    )
    .option(
      '--stats-json <path>',
      "write the run's figures and what was skipped as JSON to a file ('-': stderr)",
    )
    .addHelpText(
      'after',
      `
Examples:
  logferry query 'fields @timestamp, @message | filter @message like "error" | limit 20'
  logferry query --from s3://my-archive/eks --start 2h 'filter @logStream like /^authenticator/ | filter @message like "access denied"'
  logferry query --recipe eks/aws-auth-changes --param cluster=prod --output json
  logferry query --lookup users=users.csv 'lookup users id as userId OUTPUT name, team'
  logferry query --from opensearch://localhost:9200/logs-* 'stats count(*) by bin(5m)'
  logferry query -f audit.insights --start 2026-11-22T00:00:00Z --end 2026-11-23T00:00:00Z -o csv > audit.csv`,
    )
    .action(async (positional: string | undefined, flags: QueryFlags) => {
      const output = flags.output as OutputFormat;
      if (!OUTPUTS.includes(output))
        throw new LogferryError('CONFIG_INVALID', `--output ${flags.output}: expected table, json or csv`);
      const text = await resolveQueryText(positional, flags);
      if (flags.printQuery) process.stderr.write(`${text}\n\n`);
      const maxLineBytes =
        flags.maxLineBytes === undefined ? undefined : byteSize(flags.maxLineBytes, '--max-line-bytes');
      const threads = flags.threads === undefined ? undefined : Number(flags.threads);
      if (threads !== undefined && !(Number.isInteger(threads) && threads >= 0))
        throw new LogferryError(
          'CONFIG_INVALID',
          `--threads ${flags.threads}: expected 0 or a positive integer`,
        );
      const tty = Boolean(process.stderr.isTTY);
      const width = flags.width
        ? Number(flags.width)
        : process.stdout.isTTY
          ? process.stdout.columns || 120
          : 160;
      let lastDraw = 0;
      const onProgress = tty
        ? (p: Parameters<typeof progressLine>[0]) => {
            const now = Date.now();
            if (now - lastDraw < 100 || now - p.startedAt < 300) return;
            lastDraw = now;
            process.stderr.write(`\r\x1b[2K${progressLine(p, process.stderr.columns || 80)}`);
          }
        : undefined;
      const started = Date.now();
      // Ctrl-C stops the scan (workers, S3/OpenSearch requests) and reports; a second one kills.
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      let run: Awaited<ReturnType<typeof runQuery>>;
      try {
        run = await runQuery({
          query: text,
          from: flags.from,
          start: flags.start,
          end: flags.end,
          threads,
          pruneSlackMs: flags.pruneSlack ? durationMs(flags.pruneSlack, '--prune-slack') : undefined,
          maxLineBytes,
          lookups: flags.lookup,
          onProgress,
          signal: abort.signal,
        });
      } catch (e) {
        if (abort.signal.aborted)
          throw new LogferryError(
            'QUERY_RUNTIME',
            `interrupted after ${((Date.now() - started) / 1000).toFixed(1)} s`,
          );
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
        if (tty && lastDraw) process.stderr.write('\r\x1b[2K');
      }
      const elapsedMs = Date.now() - started;
      process.stdout.write(render(run, { output, width, color: Boolean(process.stdout.isTTY), elapsedMs }));
      if (output !== 'table' && tty) process.stderr.write(renderFooter(run, elapsedMs));
      // Whatever the format or terminal: what was not read is said, and the status says it too.
      process.stderr.write(renderIncomplete(run, Boolean(flags.allowPartial)));
      if (flags.statsJson === '-') process.stderr.write(statsJson(run, elapsedMs));
      else if (flags.statsJson !== undefined) {
        try {
          await writeFile(flags.statsJson, statsJson(run, elapsedMs));
        } catch (e) {
          process.stderr.write(
            `logferry: cannot write --stats-json ${flags.statsJson}: ${(e as Error).message}\n`,
          );
          if (!process.exitCode) process.exitCode = 1;
        }
      }
      if (run.incomplete.length && !flags.allowPartial) process.exitCode = EXIT_INCOMPLETE;
    });
}
