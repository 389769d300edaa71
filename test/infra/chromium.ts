/**
 * Headless Chromium for the console's UI tests: Debian's `chromium` package driven by
 * playwright-core (which downloads no browser). Installed with apt-get on first use when missing
 * (CI runs as root on a fresh machine); LOGFERRY_CHROMIUM names another binary.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

const DEFAULT = '/usr/bin/chromium';

function apt(args: string[]): boolean {
  try {
    execFileSync('apt-get', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 600_000,
    });
    return true;
  } catch {
    return false;
  }
}

export function chromiumPath(): string {
  const wanted = process.env.LOGFERRY_CHROMIUM ?? DEFAULT;
  if (existsSync(wanted)) return wanted;
  if (wanted === DEFAULT) {
    console.error('[test] installing Debian chromium for the console UI tests (first run only)…');
    if (!apt(['install', '-y', '--no-install-recommends', 'chromium'])) {
      apt(['update']);
      apt(['install', '-y', '--no-install-recommends', 'chromium']);
    }
    if (existsSync(wanted)) return wanted;
  }
  throw new Error(
    `no Chromium at ${wanted}: install Debian's chromium package (apt-get install chromium) or set LOGFERRY_CHROMIUM`,
  );
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Where the console tests write their screenshots: `.cache/screenshots/` (ignored), so a test run
 * leaves the work tree clean; with LOGFERRY_UPDATE_SCREENSHOTS=1 they refresh the ones docs/console.md
 * shows, under docs/images/.
 */
export function screenshotDir(): string {
  const root = new URL('../..', import.meta.url).pathname;
  return process.env.LOGFERRY_UPDATE_SCREENSHOTS === '1'
    ? join(root, 'docs', 'images')
    : join(root, '.cache', 'screenshots');
}
