/**
 * `logferry import fluent-bit <fluent-bit.conf|.yaml> [--parsers FILE]... [-o out.yaml]`: converts a
 * Fluent Bit configuration into logferry's named-component config. The YAML goes to stdout (or -o);
 * the summary — what was not translated, approximated, or refused as a secret, each with file:line —
 * goes to stderr. An unreadable configuration exits 2 with every problem listed.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describeError, LogferryError } from '../../core/errors.js';
import { importFluentBit, summarize } from '../../import/fluent-bit/index.js';

export function registerImport(program: Command): void {
  const imp = program
    .command('import')
    .description('Convert another shipper’s configuration into a logferry config.');
  imp
    .command('fluent-bit')
    .description('Convert a Fluent Bit configuration (classic .conf or YAML) into a logferry config.')
    .argument('<config>', 'fluent-bit.conf or fluent-bit.yaml')
    .option(
      '--parsers <file>',
      'a parsers file (repeatable; also read: Parsers_File of [SERVICE])',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('-o, --output <file>', 'write the logferry YAML here instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ logferry import fluent-bit fluent-bit.conf --parsers parsers.conf -o logferry.yaml
  $ logferry validate logferry.yaml
See docs/migrate-from-fluent-bit.md.`,
    )
    .action((file: string, opts: { parsers?: string[]; output?: string }) => {
      const r = importFluentBit(file, { parsers: opts.parsers });
      if (opts.output) {
        try {
          writeFileSync(opts.output, r.yaml);
        } catch (e) {
          throw new LogferryError('CONFIG_INVALID', `cannot write ${opts.output}: ${describeError(e)}`);
        }
      } else process.stdout.write(r.yaml);
      process.stderr.write(summarize(r));
      if (opts.output)
        process.stderr.write(`wrote ${opts.output}; check it with: logferry validate ${opts.output}\n`);
    });
}
