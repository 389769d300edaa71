/**
 * `logferry recipes [name] [--json]` — lists the named query recipes (name, parameters with
 * defaults, description) as a table or JSON; with a name, shows that recipe's parameters and its
 * query expanded with the defaults (or `--param` values).
 */
import type { Command } from 'commander';
import { expandRecipe, findRecipe, parseParamArgs, RECIPES, type Recipe } from '../../query/recipes/index.js';
import { renderTable } from '../../query/render/table.js';

function paramSummary(r: Recipe): string {
  return r.params
    .map((p) =>
      p.default === undefined
        ? `${p.name} (required)`
        : p.default === ''
          ? `${p.name}?`
          : `${p.name}=${p.default}`,
    )
    .join(' ');
}

/** Quotes a word for a POSIX shell when it holds anything but safe characters. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that runs recipe `r`: every `--param` the user gave (quoted for the shell, in the
 * recipe's parameter order), then `--param name=…` for each required one still missing.
 */
export function runHint(r: Recipe, given: Record<string, string>): string {
  const params = r.params.flatMap((p) =>
    given[p.name] !== undefined
      ? [` --param ${shellWord(`${p.name}=${given[p.name]}`)}`]
      : p.default === undefined
        ? [` --param ${p.name}=…`]
        : [],
  );
  return `logferry query --recipe ${shellWord(r.name)}${params.join('')}`;
}

export function registerRecipes(program: Command): void {
  program
    .command('recipes')
    .description('List the named Logs Insights recipes for `logferry query --recipe`')
    .argument('[name]', 'show one recipe: its parameters and expanded query')
    .option('--json', 'print as JSON')
    .option(
      '--param <name=value>',
      'parameter for the expanded query (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .action((name: string | undefined, flags: { json?: boolean; param: string[] }) => {
      const width = process.stdout.isTTY ? process.stdout.columns || 120 : 160;
      const color = Boolean(process.stdout.isTTY);
      const describe = (r: Recipe) => ({
        name: r.name,
        description: r.description,
        params: r.params.map((p) => ({
          name: p.name,
          description: p.description,
          default: p.default ?? null,
          required: p.default === undefined,
        })),
      });
      if (name) {
        const r = findRecipe(name);
        const given = parseParamArgs(flags.param);
        const required = r.params.filter((p) => p.default === undefined && given[p.name] === undefined);
        const query = required.length ? undefined : expandRecipe(r, given);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ ...describe(r), query: query ?? null }, null, 2)}\n`);
          return;
        }
        let out = `${r.name} — ${r.description}\n\nParameters:\n`;
        const rows = r.params.map((p) => ({
          name: p.name,
          default: p.default === undefined ? '(required)' : p.default === '' ? '(optional)' : p.default,
          description: p.description,
        }));
        out += rows.length
          ? renderTable(['name', 'default', 'description'], rows, {
              width,
              times: new Set(),
              color,
              wrap: 'description',
              messageLines: 2,
            })
          : '  none\n';
        out += query
          ? `\nQuery:\n${query.replace(/^/gm, '  ')}\n`
          : `\nGive ${required.map((p) => `--param ${p.name}=…`).join(' ')} to see the expanded query.\n`;
        out += `\nRun: ${runHint(r, given)}\n`;
        process.stdout.write(out);
        return;
      }
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(RECIPES.map(describe), null, 2)}\n`);
        return;
      }
      const rows = RECIPES.map((r) => ({
        recipe: r.name,
        parameters: paramSummary(r),
        description: r.description,
      }));
      process.stdout.write(
        renderTable(['recipe', 'parameters', 'description'], rows, {
          width,
          times: new Set(),
          color,
          wrap: 'description',
          messageLines: 2,
        }),
      );
      process.stdout.write(
        `\n${RECIPES.length} recipes · logferry recipes <name> shows one · logferry query --recipe <name> [--param k=v] runs it\n`,
      );
    });
}
