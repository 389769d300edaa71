/**
 * A real OpenSearch node for tests: the `integ-test-zip` distribution of OpenSearch 2.x from Maven
 * Central (no security plugin, no bundled JDK: it runs on the machine's JDK 17+), downloaded once into
 * the test cache with its `.sha1` checked, unzipped once, and started as a single node on 127.0.0.1 on
 * free ports with a small heap, a throw-away data directory and disk watermarks off. The node is
 * stopped (and its data directory removed) by `stop()`.
 *
 * `LOGFERRY_OPENSEARCH_URL` may point at an already running node instead; `LOGFERRY_OPENSEARCH_VERSION`
 * picks another 2.x/3.x release; `LOGFERRY_OPENSEARCH_JAVA_HOME` (or `OPENSEARCH_JAVA_HOME`/`JAVA_HOME`)
 * picks the JDK, otherwise the one behind `java` on PATH is used. As root, the node runs in a user
 * namespace (`unshare`, util-linux) because OpenSearch refuses to run as root.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cacheDir } from './cache.js';
import { freePort, type Running, startProcess, waitFor } from './process.js';

export const OPENSEARCH_VERSION = process.env.LOGFERRY_OPENSEARCH_VERSION ?? '2.19.1';
const MAVEN = 'https://repo1.maven.org/maven2/org/opensearch/distribution/integ-test-zip/opensearch';

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} → HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Returns the unpacked OpenSearch home directory, downloading and unzipping it on first use. */
export async function ensureOpenSearch(version = OPENSEARCH_VERSION): Promise<string> {
  const root = cacheDir('opensearch');
  const home = join(root, `opensearch-${version}`);
  if (existsSync(join(home, 'bin', 'opensearch'))) return home;

  const zipPath = join(root, `opensearch-${version}.zip`);
  const url = `${MAVEN}/${version}/opensearch-${version}.zip`;
  const expected = (await download(`${url}.sha1`)).toString('utf8').trim().split(/\s+/)[0]?.toLowerCase();
  let zip: Buffer | undefined;
  if (existsSync(zipPath)) {
    zip = readFileSync(zipPath);
    if (createHash('sha1').update(zip).digest('hex') !== expected) zip = undefined;
  }
  if (!zip) {
    console.log(`[test] downloading OpenSearch ${version} from Maven Central (first run only)…`);
    zip = await download(url);
    const actual = createHash('sha1').update(zip).digest('hex');
    if (actual !== expected)
      throw new Error(`OpenSearch ${version} zip sha1 mismatch: got ${actual}, expected ${expected}`);
    // Write then rename, so a concurrent run never sees half a file.
    const part = `${zipPath}.${process.pid}.part`;
    writeFileSync(part, zip);
    renameSync(part, zipPath);
  }

  // Unzip into a private directory, then move it into place atomically; if another run won the race,
  // keep theirs.
  const staging = mkdtempSync(join(root, '.unzip-'));
  try {
    execFileSync('unzip', ['-q', zipPath, '-d', staging], { stdio: 'inherit' });
    const top = readdirSync(staging).find((d) => d.startsWith('opensearch-'));
    if (!top) throw new Error(`unexpected layout in ${zipPath}`);
    for (const f of readdirSync(join(staging, top, 'bin'))) chmodSync(join(staging, top, 'bin', f), 0o755);
    try {
      renameSync(join(staging, top), home);
    } catch (e) {
      if (!existsSync(join(home, 'bin', 'opensearch'))) throw e;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return home;
}

function javaHome(): string {
  const explicit =
    process.env.LOGFERRY_OPENSEARCH_JAVA_HOME ?? process.env.OPENSEARCH_JAVA_HOME ?? process.env.JAVA_HOME;
  if (explicit) return explicit;
  const java = execFileSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).trim();
  if (!java) throw new Error('no JDK found: install JDK 17+ or set LOGFERRY_OPENSEARCH_JAVA_HOME');
  return dirname(dirname(realpathSync(java)));
}

export interface RunningOpenSearch extends Running {
  version: string;
}

/** Starts a single-node cluster and resolves once it reports yellow or green health. */
export async function startOpenSearch(
  opts: { heapMb?: number; timeoutMs?: number } = {},
): Promise<RunningOpenSearch> {
  if (process.env.LOGFERRY_OPENSEARCH_URL) {
    const url = process.env.LOGFERRY_OPENSEARCH_URL.replace(/\/+$/, '');
    const info = (await (await fetch(url)).json()) as { version: { number: string } };
    return { url, version: info.version.number, stop: async () => {} };
  }
  const home = await ensureOpenSearch();
  const [httpPort, transportPort] = [await freePort(), await freePort()];
  const work = mkdtempSync(join(tmpdir(), 'logferry-opensearch-'));
  const heap = opts.heapMb ?? 512;
  const settings: Record<string, string> = {
    'cluster.name': `logferry-test-${process.pid}`,
    'node.name': 'node-0',
    'discovery.type': 'single-node',
    'network.host': '127.0.0.1',
    'http.port': String(httpPort),
    'transport.port': String(transportPort),
    'path.data': join(work, 'data'),
    'path.logs': join(work, 'logs'),
    'cluster.routing.allocation.disk.threshold_enabled': 'false',
    'action.destructive_requires_name': 'false',
    // Tests look documents up right after writing them and say so with `refresh`; nothing else needed.
  };
  const args = Object.entries(settings).map(([k, v]) => `-E${k}=${v}`);
  // OpenSearch refuses to run as root. When we are root (CI containers), run it in a fresh user
  // namespace mapped to an unprivileged id: inside it is not root, while file access still happens
  // as our own user, so the cache and the temp data directory need no chown.
  const bin = join(home, 'bin', 'opensearch');
  const asRoot = process.getuid?.() === 0;
  const p = startProcess(
    asRoot ? 'unshare' : bin,
    asRoot ? ['--user', '--map-user=1000', '--map-group=1000', bin, ...args] : args,
    {
      OPENSEARCH_JAVA_HOME: javaHome(),
      OPENSEARCH_JAVA_OPTS: `-Xms${heap}m -Xmx${heap}m`,
      // The distribution's own JAVA_HOME check warns when both are set; keep one.
      JAVA_HOME: '',
    },
    home,
  );
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    await p.stop();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'opensearch',
      async () => {
        const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`);
        if (!res.ok) return false;
        const h = (await res.json()) as { status: string };
        return h.status === 'green' || h.status === 'yellow';
      },
      opts.timeoutMs ?? 240_000,
      p.proc,
    );
  } catch (e) {
    console.error(p.output());
    await stop();
    throw e;
  }
  const info = (await (await fetch(url)).json()) as { version: { number: string } };
  return { url, version: info.version.number, stop };
}
