/**
 * The daemon's data directory (`dataDir`, default `./logferry-data`): every piece of state a
 * `logferry run` keeps between starts — file positions, stream checkpoints, disk buffers — lives
 * under `<dataDir>/state/`, one directory per component (`stateDir`), and one lock file there
 * (`<dataDir>/state/daemon.lock`) makes sure two daemons never share it.
 *
 * The lock holds the owner's pid, host name and process start time. A lock whose owner is gone (a
 * `kill -9`, a crash, a container restarted with the same pid) is stale and taken over with a
 * warning; a lock held by a live process is refused with a sentence saying who holds it. A lock
 * written on another host cannot be checked from here and is refused too (remove it by hand when
 * that host's daemon is known to be gone). The lock is created atomically (written aside, then
 * hard-linked into place), so a reader never sees a half-written one.
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { LogferryError } from './errors.js';

/** Default data directory, relative to the working directory. */
export const DEFAULT_DATA_DIR = './logferry-data';
/** Sub-directory of the data directory that holds state (query scans skip it). */
export const STATE_SUBDIR = 'state';
export const LOCK_FILE = 'daemon.lock';

/** Anything carrying the data directory: the top-level config, or a component's BuildContext. */
export interface DataDirConfig {
  /** The data directory; relative paths resolve against `cwd`. */
  dataDir?: string;
  /** Base for a relative `dataDir` (the config file's directory). */
  cwd?: string;
}

/** The absolute data directory of a config (or build context). */
export function dataDirOf(config: DataDirConfig): string {
  return resolve(config.cwd ?? process.cwd(), config.dataDir ?? DEFAULT_DATA_DIR);
}

/**
 * The directory where one component keeps its state: `<dataDir>/state/<componentName>`. Sources
 * store positions and checkpoints there, buffered sinks their segments (in `buffer/` below it).
 * Not created here: the component creates it when it first writes.
 */
export function stateDir(config: DataDirConfig, componentName: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(componentName) || componentName === '.' || componentName === '..')
    throw new LogferryError(
      'CONFIG_INVALID',
      `component name "${componentName}" cannot name a state directory: use letters, digits, "_", "." and "-"`,
    );
  return join(dataDirOf(config), STATE_SUBDIR, componentName);
}

interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** The owner's start time in clock ticks since boot (Linux /proc), to detect pid reuse. */
  procStart?: string;
}

/** A process's start time (field 22 of /proc/<pid>/stat), or undefined where /proc is missing. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why a lock is stale, or undefined when its owner may still be running. */
function staleReason(owner: LockOwner | undefined, me: LockOwner): string | undefined {
  if (!owner) return 'the lock file is unreadable';
  if (owner.host !== me.host) return undefined;
  if (owner.pid === me.pid) return `it names this process's pid (${owner.pid}) from an earlier run`;
  if (!alive(owner.pid)) return `process ${owner.pid} is not running`;
  const now = procStart(owner.pid);
  if (owner.procStart !== undefined && now !== undefined && now !== owner.procStart)
    return `pid ${owner.pid} now belongs to another process`;
  return undefined;
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return typeof v?.pid === 'number' && typeof v.host === 'string' ? v : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw e;
    return undefined;
  }
}

export interface DataDirLock {
  /** The data directory (absolute). */
  readonly dataDir: string;
  readonly path: string;
  /** A stale lock taken over, and why (for a warning). */
  readonly tookOver?: string;
  /** Removes the lock if this process still holds it. Safe to call more than once. */
  release(): void;
}

/**
 * Takes the data directory's lock, or throws CONFIG_INVALID (exit 2) naming the daemon that holds
 * it. The lock is released by `release()` and, as a safety net, when the process exits.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const dir = resolve(dataDir);
  const stateRoot = join(dir, STATE_SUBDIR);
  const path = join(stateRoot, LOCK_FILE);
  try {
    mkdirSync(stateRoot, { recursive: true });
  } catch (e) {
    throw new LogferryError(
      'CONFIG_INVALID',
      `cannot create the data directory ${stateRoot}: ${(e as Error).message}; set dataDir to a writable directory`,
    );
  }
  const me: LockOwner = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    procStart: procStart(process.pid),
  };
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(me)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  let tookOver: string | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
      }
      let owner: LockOwner | undefined;
      try {
        owner = readOwner(path);
      } catch {
        continue; // removed meanwhile: try again
      }
      const why = staleReason(owner, me);
      if (why === undefined) {
        const o = owner as LockOwner;
        throw new LogferryError(
          'CONFIG_INVALID',
          `the data directory ${dir} is in use by another logferry daemon (pid ${o.pid} on ${o.host}, since ${o.since}); ` +
            `stop that daemon first, or give this one its own dataDir${o.host !== me.host ? ` (the lock was written on another host; if that daemon is gone, delete ${path})` : ''}`,
        );
      }
      // Move the stale lock aside (atomic) before removing it, so only one taker wins it.
      const aside = `${path}.stale-${process.pid}`;
      try {
        renameSync(path, aside);
        unlinkSync(aside);
      } catch {
        // Another starter took it over first: the next link attempt tells.
      }
      tookOver = why;
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      if (readOwner(path)?.pid === process.pid) unlinkSync(path);
    } catch {
      // gone already
    }
  };
  process.on('exit', release);
  return { dataDir: dir, path, tookOver, release };
}
