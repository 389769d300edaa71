/**
 * Where test servers and emulators are installed: a per-user cache shared by every clone on the
 * machine (so a second run does not download again), overridable with LOGFERRY_TEST_CACHE.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(...parts: string[]): string {
  const base =
    process.env.LOGFERRY_TEST_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'logferry-test');
  const dir = join(base, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
