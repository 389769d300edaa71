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
 *
 * `startElasticsearch(version)` does the same with Elasticsearch's `integ-test-zip` (7.x/8.x, no
 * x-pack, so no security), for the compatibility matrix of the opensearch sink.
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

type Distribution = 'opensearch' | 'elasticsearch';

const MAVEN: Record<Distribution, string> = {
  opensearch: 'https://repo1.maven.org/maven2/org/opensearch/distribution/integ-test-zip/opensearch',
  elasticsearch: 'https://repo1.maven.org/maven2/org/elasticsearch/distribution/integ-test-zip/elasticsearch',
};

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} → HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Returns the unpacked OpenSearch home directory, downloading and unzipping it on first use. */
export function ensureOpenSearch(version = OPENSEARCH_VERSION): Promise<string> {
  return ensureDistribution('opensearch', version);
}

async function ensureDistribution(dist: Distribution, version: string): Promise<string> {
  const root = cacheDir(dist);
  const home = join(root, `${dist}-${version}`);
  if (existsSync(join(home, 'bin', dist))) return home;

  const zipPath = join(root, `${dist}-${version}.zip`);
  const url = `${MAVEN[dist]}/${version}/${dist}-${version}.zip`;
  const expected = (await download(`${url}.sha1`)).toString('utf8').trim().split(/\s+/)[0]?.toLowerCase();
  let zip: Buffer | undefined;
  if (existsSync(zipPath)) {
    zip = readFileSync(zipPath);
    if (createHash('sha1').update(zip).digest('hex') !== expected) zip = undefined;
  }
  if (!zip) {
    console.log(`[test] downloading ${dist} ${version} from Maven Central (first run only)…`);
    zip = await download(url);
    const actual = createHash('sha1').update(zip).digest('hex');
    if (actual !== expected)
      throw new Error(`${dist} ${version} zip sha1 mismatch: got ${actual}, expected ${expected}`);
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
    const top = readdirSync(staging).find((d) => d.startsWith(`${dist}-`));
    if (!top) throw new Error(`unexpected layout in ${zipPath}`);
    for (const f of readdirSync(join(staging, top, 'bin'))) chmodSync(join(staging, top, 'bin', f), 0o755);
    try {
      renameSync(join(staging, top), home);
    } catch (e) {
      if (!existsSync(join(home, 'bin', dist))) throw e;
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
  return startNode('opensearch', OPENSEARCH_VERSION, opts);
}

/** An Elasticsearch single node from its integ-test zip (7.x, 8.x; runs on the machine's JDK 17+). */
export function startElasticsearch(
  version: string,
  opts: { heapMb?: number; timeoutMs?: number } = {},
): Promise<RunningOpenSearch> {
  return startNode('elasticsearch', version, opts);
}

async function startNode(
  dist: Distribution,
  version: string,
  opts: { heapMb?: number; timeoutMs?: number },
): Promise<RunningOpenSearch> {
  const home = await ensureDistribution(dist, version);
  const [httpPort, transportPort] = [await freePort(), await freePort()];
  const work = mkdtempSync(join(tmpdir(), `logferry-${dist}-`));
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
  if (dist === 'elasticsearch') {
    // 8.x turns on security (TLS, passwords) by itself; tests talk plain HTTP.
    if (Number.parseInt(version, 10) >= 8) settings['xpack.security.enabled'] = 'false';
  }
  const args = Object.entries(settings).map(([k, v]) => `-E${k}=${v}`);
  // OpenSearch refuses to run as root. When we are root (CI containers), run it in a fresh user
  // namespace mapped to an unprivileged id: inside it is not root, while file access still happens
  // as our own user, so the cache and the temp data directory need no chown.
  const bin = join(home, 'bin', dist);
  const javaEnv =
    dist === 'opensearch'
      ? { OPENSEARCH_JAVA_HOME: javaHome(), OPENSEARCH_JAVA_OPTS: `-Xms${heap}m -Xmx${heap}m` }
      : { ES_JAVA_HOME: javaHome(), ES_JAVA_OPTS: `-Xms${heap}m -Xmx${heap}m` };
  const asRoot = process.getuid?.() === 0;
  const p = startProcess(
    asRoot ? 'unshare' : bin,
    asRoot ? ['--user', '--map-user=1000', '--map-group=1000', bin, ...args] : args,
    // The distribution's own JAVA_HOME check warns when both are set; keep one.
    { ...javaEnv, JAVA_HOME: '' },
    home,
  );
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    await p.stop();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    await waitFor(
      dist,
      async () => {
        const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`);
        if (!res.ok) return false;
        const h = (await res.json()) as { status: string };
        return h.status === 'green' || h.status === 'yellow';
      },
      opts.timeoutMs ?? 240_000,
      p.proc,
    );
    // Elasticsearch 8's integ-test zip lacks the module serving `GET /`; ask the node itself then.
    const info = (await (await fetch(url)).json()) as { version?: { number?: string } };
    let version = info.version?.number;
    if (!version) {
      const nodes = (await (await fetch(`${url}/_nodes/_local?filter_path=nodes.*.version`)).json()) as {
        nodes?: Record<string, { version?: string }>;
      };
      version = Object.values(nodes.nodes ?? {})[0]?.version;
    }
    if (!version) throw new Error(`${dist}: could not read its version`);
    return { url, version, stop };
  } catch (e) {
    console.error(p.output());
    await stop();
    throw e;
  }
}
