#!/usr/bin/env node
// Makes a fresh clone runnable: installs dependencies when node_modules is missing or stale, and
// builds dist/ when it is missing or older than the sources. Quiet when there is nothing to do.
import { execSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (cmd) => execSync(cmd, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

function newest(dir) {
  let m = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return m;
}

const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
// A node_modules that is a symlink is shared with another checkout (a git worktree): `npm ci` would
// empty the directory it points to under the other checkout's feet, so only say it may be stale.
const shared =
  existsSync(join(root, 'node_modules')) && lstatSync(join(root, 'node_modules')).isSymbolicLink();
if (shared && (!existsSync(installed) || mtime(lock) > mtime(installed))) {
  console.error(
    'logferry: node_modules is a symlink (shared); not reinstalling it — run `npm ci` where it lives if it is stale',
  );
} else if (!existsSync(installed) || mtime(lock) > mtime(installed)) {
  // `npm ci`: exactly what the lock says, so a fresh clone gets the tested tree.
  console.error('logferry: installing dependencies (npm ci)…');
  run('npm ci --no-audit --no-fund --loglevel=error');
}
const stamp = join(root, 'dist', '.build-stamp');
if (
  !existsSync(stamp) ||
  Math.max(
    newest(join(root, 'src')),
    newest(join(root, 'web')),
    mtime(join(root, 'scripts', 'build.mjs')),
    mtime(join(root, 'scripts', 'build-web.mjs')),
    newest(join(root, 'infra')),
  ) > mtime(stamp)
) {
  console.error('logferry: building dist/…');
  run('node scripts/build.mjs');
}
