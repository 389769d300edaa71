/**
 * A real AWS API emulator for tests: moto's server (S3, SQS, SSM, Secrets Manager, Firehose,
 * Kinesis, CloudWatch Logs…) on loopback. Installed on first use into a virtualenv in the test
 * cache from PyPI; `LOGFERRY_MOTO_SERVER` may point at an existing `moto_server` instead.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './cache.js';
import { freePort, type Running, startProcess, waitFor } from './process.js';

const MOTO_SPEC = 'moto[server]>=5.1,<6';

export function ensureMoto(): string {
  if (process.env.LOGFERRY_MOTO_SERVER) return process.env.LOGFERRY_MOTO_SERVER;
  const venv = cacheDir('moto-venv');
  const server = join(venv, 'bin', 'moto_server');
  if (!existsSync(server)) {
    // Several test workers or clones may get here at once: install under a lock, re-checking inside it.
    console.log(`[test] installing ${MOTO_SPEC} into ${venv} (first run only)…`);
    const script = `[ -x "$1/bin/moto_server" ] || { python3 -m venv "$1" && "$1/bin/pip" install --quiet --disable-pip-version-check "$2"; }`;
    execFileSync('flock', [`${venv}.lock`, 'sh', '-c', script, 'sh', venv, MOTO_SPEC], { stdio: 'inherit' });
  }
  return server;
}

/**
 * moto-server.py (beside this file) is moto's server plus in-process extensions for what moto
 * lacks (Lambda LoggingConfig, EKS updates); it is used unless LOGFERRY_MOTO_SERVER names a server.
 */
const EXTENDED_SERVER = new URL('./moto-server.py', import.meta.url).pathname;

export async function startMoto(): Promise<Running> {
  const server = ensureMoto();
  const port = await freePort();
  const args = ['-H', '127.0.0.1', '-p', String(port)];
  const extended = !process.env.LOGFERRY_MOTO_SERVER && existsSync(EXTENDED_SERVER);
  const p = extended
    ? startProcess(join(server, '..', 'python'), [EXTENDED_SERVER, ...args], {
        MOTO_ALLOW_NONEXISTENT_REGION: 'true',
      })
    : startProcess(server, args, { MOTO_ALLOW_NONEXISTENT_REGION: 'true' });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor('moto_server', async () => (await fetch(`${url}/moto-api/`)).ok, 60_000, p.proc);
  } catch (e) {
    console.error(p.output());
    await p.stop();
    throw e;
  }
  return { url, stop: p.stop };
}
