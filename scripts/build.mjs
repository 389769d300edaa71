#!/usr/bin/env node
// Builds the CLI and one self-contained bundle per Lambda entry point (src/lambda/<name>.ts →
// dist/lambda/<name>.mjs exporting `handler`, for the nodejs22.x runtime).
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { buildWeb } from './build-web.mjs';

const root = new URL('..', import.meta.url).pathname;
// LOGFERRY_BUILD_OUT builds elsewhere (the package test stages a tarball without touching dist/).
const dist = process.env.LOGFERRY_BUILD_OUT ?? join(root, 'dist');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

// ESM bundles that still contain CommonJS dependencies need `require`.
const banner = {
  js: "import { createRequire as __lfCreateRequire } from 'node:module'; const require = __lfCreateRequire(import.meta.url);",
};

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
  ...lambdas.map((name) =>
    build({
      entryPoints: { [`lambda/${name}`]: join(root, 'src', 'lambda', `${name}.ts`) },
      outdir: dist,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      sourcemap: 'linked',
      banner,
      legalComments: 'none',
      logLevel: 'warning',
    }),
  ),
  buildWeb(root, dist),
]);
// The extension bundle laid out as its layer's zip (/opt/extensions/logferry starts it; docs/onboard.md).
if (lambdas.includes('extension')) {
  const layer = join(dist, 'lambda', 'extension');
  mkdirSync(join(layer, 'extensions'), { recursive: true });
  mkdirSync(join(layer, 'logferry-extension'), { recursive: true });
  for (const f of ['extension.mjs', 'extension.mjs.map'])
    copyFileSync(join(dist, 'lambda', f), join(layer, 'logferry-extension', f));
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
