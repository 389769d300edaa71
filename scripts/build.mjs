#!/usr/bin/env node
// Builds the CLI and one zip-ready directory per Lambda entry point (src/lambda/<name>.ts →
// dist/lambda/<name>/index.mjs exporting `handler` plus the chunks/ it loads, for the nodejs22.x
// runtime; handler `index.handler`). Code splitting keeps what a config does not use (other sinks,
// their SDK clients, the SSM/Secrets Manager clients) in chunks loaded by `import()` on demand, so
// a cold start evaluates only the default path (bench/lambda-bundles.ts measures it).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildWeb } from './build-web.mjs';
import { lambdaBuildOptions } from './lambda-build.mjs';

const root = new URL('..', import.meta.url).pathname;
// LOGFERRY_BUILD_OUT builds elsewhere (the package test stages a tarball without touching dist/).
const dist = process.env.LOGFERRY_BUILD_OUT ?? join(root, 'dist');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const lambdas = readdirSync(join(root, 'src', 'lambda'))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3));

await Promise.all([
  build({
    entryPoints: {
      'cli/logferry': join(root, 'src', 'cli', 'main.ts'),
      // `logferry query` scans archives on all cores with worker_threads running this entry.
      'cli/query-worker': join(root, 'src', 'query', 'backends', 'scan-worker.ts'),
    },
    outdir: dist,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    // Modules loaded by `await import()` (deploy's CDK app, …) become chunks loaded on demand, so
    // `logferry run` does not pay aws-cdk-lib's start-up time and memory.
    splitting: true,
    // Chunks sit beside the entry: code in them finds dist/cli/query-worker.mjs and dist/console by
    // paths relative to its own module.
    chunkNames: 'cli/[name]-[hash]',
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    define: { __LOGFERRY_VERSION__: JSON.stringify(version) },
    sourcemap: true,
    logLevel: 'warning',
  }),
  // The extension is laid out as its layer's zip (/opt/extensions/logferry starts
  // logferry-extension/index.mjs; docs/onboard.md).
  ...lambdas.map((name) =>
    build(
      lambdaBuildOptions(
        root,
        name,
        name === 'extension'
          ? join(dist, 'lambda', 'extension', 'logferry-extension')
          : join(dist, 'lambda', name),
      ),
    ),
  ),
  buildWeb(root, dist),
]);
if (lambdas.includes('extension')) {
  const layer = join(dist, 'lambda', 'extension');
  mkdirSync(join(layer, 'extensions'), { recursive: true });
  writeFileSync(
    join(layer, 'extensions', 'logferry'),
    readFileSync(join(root, 'src', 'lambda', 'extension-launcher.sh')),
    { mode: 0o755 },
  );
}
writeFileSync(join(dist, '.build-stamp'), new Date().toISOString());
console.error(
  `logferry: built dist/cli/logferry.mjs, the console app and ${lambdas.length} Lambda bundle(s): ${lambdas.join(', ') || '-'}`,
);
