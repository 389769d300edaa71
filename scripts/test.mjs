#!/usr/bin/env node
// The full test suite, as CI runs it: typecheck, lint, then every unit and harness test (the
// harness starts its own local servers and emulators; see test/global-setup.ts). Ends with a plain
// `tests: N passed, N failed` line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = (n) => join(root, 'node_modules', '.bin', n);
const step = (name, cmd, args) => {
  const t0 = Date.now();
  console.log(`\n▶ ${name}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  console.log(`${r.status === 0 ? '✔' : '✖'} ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return r.status === 0;
};

const extra = process.argv.slice(2);
let ok = step('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
ok = step('typecheck (console app)', bin('tsc'), ['-p', join('web', 'console', 'tsconfig.json')]) && ok;
ok = step('lint', bin('biome'), ['check', '--diagnostic-level=error', '.']) && ok;
mkdirSync(join(root, 'build'), { recursive: true });
const report = join(root, 'build', 'vitest-report.json');
const vitestOk = step('tests', bin('vitest'), [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...extra,
]);
ok = vitestOk && ok;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  console.log(
    `\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`,
  );
  if (r.numTotalTests === 0) ok = false;
}
process.exit(ok ? 0 : 1);
