/**
 * The CLI bundled as `npm run build` bundles it (esbuild, the CLI and its query worker side by side),
 * into a test's own directory, so a test can run the real CLI without racing other test files that
 * rebuild dist/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = new URL('../..', import.meta.url).pathname;

/** Builds `<outDir>/cli/logferry.mjs` and `<outDir>/cli/query-worker.mjs`. */
export async function buildCliBundle(outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: {
      'cli/logferry': join(root, 'src', 'cli', 'main.ts'),
      'cli/query-worker': join(root, 'src', 'query', 'backends', 'scan-worker.ts'),
    },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
}
