/**
 * Where the built Lambda bundles are: `dist/lambda/<name>/` of the logferry package (a zip-ready
 * directory: `index.mjs`, handler `index.handler`, and the `chunks/` it loads), found by walking up
 * from this module (it runs from source under vitest/tsx and from dist/cli when bundled).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogferryError } from '../../src/core/errors.js';

export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'logferry') return dir;
      } catch {
        // not ours: keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new LogferryError('INTERNAL', 'cannot find the logferry package root');
    dir = up;
  }
}

export type LambdaBundle = 'firehose' | 'kinesis' | 'sqs' | 'subscriptions';

/** The built directory of one Lambda entry point (`dist/lambda/<name>/`, handler `index.handler`). */
export function lambdaBundleDir(name: LambdaBundle): string {
  // LOGFERRY_LAMBDA_DIR: bundles built elsewhere (tests stage a private copy, since dist/ may be rebuilt).
  const root = process.env.LOGFERRY_LAMBDA_DIR ? '' : packageRoot();
  const dir = process.env.LOGFERRY_LAMBDA_DIR
    ? join(process.env.LOGFERRY_LAMBDA_DIR, name)
    : join(root, 'dist', 'lambda', name);
  if (!existsSync(join(dir, 'index.mjs')))
    throw new LogferryError(
      'CONFIG_INVALID',
      `the Lambda bundle ${join(dir, 'index.mjs')} is missing: run \`npm run build\`${root ? ` in ${root}` : ''} first`,
    );
  return dir;
}

/** The handler setting of every bundle directory. */
export const LAMBDA_HANDLER = 'index.handler';
