import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataDirOf, lockDataDir, stateDir } from './data-dir.js';
import { LogferryError } from './errors.js';

const root = mkdtempSync(join(tmpdir(), 'lf-datadir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const lockPath = (d: string) => join(d, 'state', 'daemon.lock');
function writeLock(d: string, owner: Record<string, unknown>) {
  mkdirSync(join(d, 'state'), { recursive: true });
  writeFileSync(lockPath(d), JSON.stringify(owner));
}

describe('stateDir', () => {
  it('puts each component under <dataDir>/state/<name>, relative to the config directory', () => {
    expect(stateDir({ dataDir: '/var/lib/lf' }, 'nodes')).toBe('/var/lib/lf/state/nodes');
    expect(stateDir({ dataDir: 'data', cwd: '/etc/lf' }, 'q')).toBe('/etc/lf/data/state/q');
    expect(dataDirOf({ cwd: '/srv' })).toBe('/srv/logferry-data');
  });
  it('refuses a name that would leave the state directory', () => {
    expect(() => stateDir({ dataDir: '/d' }, '../etc')).toThrow(/cannot name a state directory/);
    expect(() => stateDir({ dataDir: '/d' }, '..')).toThrow(LogferryError);
  });
});

describe('lockDataDir', () => {
  it('creates a lock with pid and host, and removes it on release', () => {
    const d = join(root, 'a');
    const lock = lockDataDir(d);
    const owner = JSON.parse(readFileSync(lockPath(d), 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    expect(lock.tookOver).toBeUndefined();
    lock.release();
    expect(existsSync(lockPath(d))).toBe(false);
    lock.release();
  });

  it('refuses a directory held by a live process, naming it', async () => {
    const d = join(root, 'b');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      writeLock(d, { pid: child.pid, host: hostname(), since: '2026-12-05T10:00:00.000Z' });
      let err: unknown;
      try {
        lockDataDir(d);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LogferryError);
      expect((err as LogferryError).code).toBe('CONFIG_INVALID');
      expect((err as Error).message).toMatch(
        new RegExp(
          `in use by another logferry daemon \\(pid ${child.pid} on ${hostname()}, since 2026-12-05`,
        ),
      );
      // The holder's lock is left alone.
      expect(JSON.parse(readFileSync(lockPath(d), 'utf8')).pid).toBe(child.pid);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over a stale lock: dead pid, our own pid from an earlier run, garbage', async () => {
    const d = join(root, 'c');
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const pid = child.pid as number;
    await new Promise((r) => child.once('exit', r));
    writeLock(d, { pid, host: hostname(), since: 'x' });
    const l1 = lockDataDir(d);
    expect(l1.tookOver).toMatch(new RegExp(`process ${pid} is not running`));
    l1.release();
    writeLock(d, { pid: process.pid, host: hostname(), since: 'x' });
    const l2 = lockDataDir(d);
    expect(l2.tookOver).toMatch(/this process's pid/);
    l2.release();
    mkdirSync(join(d, 'state'), { recursive: true });
    writeFileSync(lockPath(d), 'not json');
    const l3 = lockDataDir(d);
    expect(l3.tookOver).toMatch(/unreadable/);
    l3.release();
  });

  it('detects a reused pid by its start time', () => {
    const d = join(root, 'd');
    // pid 1 is alive but started at another time than the lock says.
    writeLock(d, { pid: 1, host: hostname(), since: 'x', procStart: '-1' });
    const l = lockDataDir(d);
    expect(l.tookOver).toMatch(/pid 1 now belongs to another process/);
    l.release();
  });

  it('refuses a lock written on another host (it cannot be checked from here)', () => {
    const d = join(root, 'e');
    writeLock(d, { pid: 999999, host: 'other-node', since: 'x' });
    expect(() => lockDataDir(d)).toThrow(/pid 999999 on other-node.*written on another host.*delete/);
  });
});
