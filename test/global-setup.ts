/**
 * Starts the real local servers the harness tests use, once per test run, and hands their
 * endpoints to tests through `inject()`. Nothing here talks to AWS: every endpoint is on loopback
 * and every credential is a dummy.
 *
 * LOGFERRY_TEST_SERVICES=none skips them (fast unit-only runs); tests that need a service then fail
 * with a clear message rather than silently passing.
 */
import type { TestProject } from 'vitest/node';
import { startKinesis } from './infra/kinesis.js';
import { startMoto } from './infra/moto.js';
import type { Running } from './infra/process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    motoUrl: string;
    kinesisUrl: string;
  }
}

const running: Running[] = [];

export async function setup(project: TestProject): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID ??= 'testing';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
  process.env.AWS_REGION ??= 'us-east-1';
  if (process.env.LOGFERRY_TEST_SERVICES === 'none') {
    project.provide('motoUrl', '');
    project.provide('kinesisUrl', '');
    return;
  }
  const [moto, kinesis] = await Promise.all([startMoto(), startKinesis()]);
  running.push(moto, kinesis);
  project.provide('motoUrl', moto.url);
  project.provide('kinesisUrl', kinesis.url);
}

export async function teardown(): Promise<void> {
  await Promise.all(running.map((r) => r.stop()));
}
