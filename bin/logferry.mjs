#!/usr/bin/env node
// Entry point installed as `logferry`. In a source checkout (a `src/` and `scripts/` beside this
// file) it first makes sure dependencies are installed and dist/ is built; an installed package
// ships dist/ prebuilt and starts it directly. `--version` answers without loading the CLI.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version}\n`);
  process.exit(0);
}
if (existsSync(`${root}src/cli/main.ts`) && existsSync(`${root}scripts/ensure.mjs`))
  execFileSync(process.execPath, [`${root}scripts/ensure.mjs`], { stdio: 'inherit' });
await import('../dist/cli/logferry.mjs');
