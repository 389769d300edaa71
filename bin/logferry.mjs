#!/usr/bin/env node
// Entry point installed as `logferry`: builds on first use from a source checkout, then runs the CLI.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
if (existsSync(`${root}scripts/ensure.mjs`))
  execFileSync(process.execPath, [`${root}scripts/ensure.mjs`], { stdio: 'inherit' });
await import('../dist/cli/logferry.mjs');
