#!/usr/bin/env node
// Builds the console's browser app (web/console) into static assets: dist/console/index.html and
// dist/console/assets/app.{js,css}. One esbuild pass (the same bundler as the CLI and the Lambda
// bundles): Preact for the UI, CodeMirror 6 for the editor, uPlot for the charts, all bundled, so
// the console works offline with nothing fetched from a CDN.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export async function buildWeb(root, dist) {
  const out = join(dist, 'console');
  mkdirSync(join(out, 'assets'), { recursive: true });
  await build({
    entryPoints: { app: join(root, 'web', 'console', 'src', 'app.tsx') },
    outdir: join(out, 'assets'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'web', 'console', 'index.html'), join(out, 'index.html'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = new URL('..', import.meta.url).pathname;
  await buildWeb(root, process.env.LOGFERRY_BUILD_OUT ?? join(root, 'dist'));
}
