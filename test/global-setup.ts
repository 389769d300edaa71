/**
 * Starts the real local servers the harness tests use, once per test run, and hands their
 * endpoints to tests through `inject()`. Nothing here talks to AWS: every endpoint is on loopback
 * and every credential is a dummy.
 *
 * LOGFERRY_TEST_SERVICES=none skips them (fast unit-only runs); tests that need a service then fail
 * with a clear message rather than silently passing. A comma list (`moto`, `moto,opensearch`;
 * names: moto, kinesis, opensearch) starts only those; unset starts all.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startKinesis } from './infra/kinesis.js';
import { startMoto } from './infra/moto.js';
import { startOpenSearch } from './infra/opensearch.js';
import type { Running } from './infra/process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    motoUrl: string;
    opensearchUrl: string;
    kinesisUrl: string;
  }
}

const running: Running[] = [];

/**
 * dist/ is built here, once, before any test file runs. Test files that run the built CLI or
 * bundles read dist/ and never rebuild it in place (several rebuilding it while others ran the CLI
 * from it made the CLI exit 1 mid-test); a file that needs a build of its own uses
 * LOGFERRY_BUILD_OUT.
 */
function buildDist(): void {
  const root = new URL('..', import.meta.url).pathname;
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
}

export async function setup(project: TestProject): Promise<void> {
  buildDist();
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  process.env.AWS_REGION ??= 'us-east-1';
  if (process.env.LOGFERRY_TEST_SERVICES === 'none') {
    project.provide('motoUrl', '');
    project.provide('kinesisUrl', '');
    project.provide('opensearchUrl', '');
    return;
  }
  const wanted = (process.env.LOGFERRY_TEST_SERVICES ?? 'moto,kinesis,opensearch')
    .split(',')
    .map((s) => s.trim());
  const start = async <T extends Running>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    if (!wanted.includes(name)) return undefined;
    const r = await fn();
    running.push(r);
    return r;
  };
  const [moto, kinesis, opensearch] = await Promise.all([
    start('moto', startMoto),
    start('kinesis', startKinesis),
    start('opensearch', () => startOpenSearch()),
  ]);
  project.provide('motoUrl', moto?.url ?? '');
  project.provide('kinesisUrl', kinesis?.url ?? '');
  project.provide('opensearchUrl', opensearch?.url ?? '');
}

export async function teardown(): Promise<void> {
  await Promise.all(running.map((r) => r.stop()));
}
