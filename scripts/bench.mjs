#!/usr/bin/env node
// Runs the scenario benchmarks: every bench/*.ts except the shared data generator (bench/data.ts)
// and helpers in subdirectories, one after another, each in its own `node --import tsx` process.
// `node scripts/bench.mjs firehose-transform kinesis-to-opensearch` runs only the named ones.
// Each scenario prints its figures and writes bench/results/<name>.json.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'bench');
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'data.ts' && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : all) {
  console.log(`\n▶ bench ${name}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, `${name}.ts`)], {
    cwd: root,
    stdio: 'inherit',
  });
  console.log(`${r.status === 0 ? '✔' : '✖'} ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
