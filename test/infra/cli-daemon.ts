/**
 * Running the built CLI as an operator does, for the daemon tests (run-durable, crash-recovery): a
 * private bundle per test file (never racing dist/), bounded runs, daemons started in the
 * background and killed or signalled, their JSON summaries, and what they archived.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll } from 'vitest';
import { buildCliBundle } from './cli-bundle.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Daemon {
  child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Its exit code, once it has exited. */
  exited(): Promise<number | null>;
}

export interface PrivateCli {
  /** A temporary directory for the file's runs (removed after the file). */
  root: string;
  /** `logferry <args>` in `cwd`, to its end (two minutes at most). */
  run(args: string[], cwd: string): CliRun;
  /** `logferry <args>` in `cwd`, in the background (stdout ignored, stderr collected). */
  start(args: string[], cwd: string): Daemon;
}

/**
 * Builds the CLI into a private bundle before the file's tests and removes it (and `root`) after.
 * Call at the top of a test file; `name` tells the directories apart.
 */
export function privateCli(name: string): PrivateCli {
  const root = mkdtempSync(join(tmpdir(), `lf-${name}-`));
  // Inside node_modules so the bundle's packages resolve.
  const buildDir = join(
    new URL('../..', import.meta.url).pathname,
    'node_modules',
    '.cache',
    `logferry-${name}-${process.pid}`,
  );
  const cli = join(buildDir, 'cli', 'logferry.mjs');
  // No sink from the environment: each test names its own.
  const env = { ...process.env, LOGFERRY_OPENSEARCH_URL: '', LOGFERRY_S3_URL: '', LOGFERRY_DLQ: '' };
  beforeAll(() => buildCliBundle(buildDir), 120_000);
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(buildDir, { recursive: true, force: true });
  });
  return {
    root,
    run(args, cwd) {
      const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    start(args, cwd) {
      const child = spawn(process.execPath, [cli, ...args], {
        cwd,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr?.on('data', (d) => {
        err += d.toString();
      });
      return { child, stderr: () => err, exited: () => exited(child) };
    },
  };
}

export const exited = (c: ChildProcess): Promise<number | null> =>
  new Promise((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

/** The JSON summary a `--json` run ends its stderr with. */
export function summaryOf(stderr: string) {
  const lines = stderr.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

export function walk(d: string): string[] {
  if (!existsSync(d)) return [];
  const out: string[] = [];
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** Every NDJSON document in a local S3-layout archive (finished objects only), or in one object. */
export function archived(d: string): { '@id': string; '@message': string }[] {
  return (existsSync(d) && statSync(d).isFile() ? [d] : walk(d))
    .filter((f) => f.endsWith('.gz'))
    .flatMap((f) => gunzipSync(readFileSync(f)).toString('utf8').trimEnd().split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 50 ms; throws after `ms`. */
export async function waitUntil(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A TCP endpoint that accepts connections and never answers (a hung sink). */
export async function hungEndpoint(): Promise<{ port: number; sockets: Socket[]; close(): void }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    port,
    sockets,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
