/**
 * `--from <path>`: a local archive (a file, or a directory walked recursively) as `logferry run` and
 * the S3 sink's `file://` mode write it — gzip or plain NDJSON / raw objects under partition
 * prefixes. Hidden files and directories (`.tmp` files of in-progress atomic writes) and the
 * `dead-letter` directory are skipped: they are not archived events.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { LogferryError } from '../../core/errors.js';
import { parseObjectKey } from './partition-path.js';
import type { ScanTarget } from './scan.js';

const SKIP_DIRS = new Set(['dead-letter', 'node_modules']);

export async function listLocal(root: string): Promise<ScanTarget[]> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(root);
  } catch {
    throw new LogferryError(
      'CONFIG_INVALID',
      `--from ${root}: no such file or directory. Run \`logferry run\` first to write a demo archive to ./logferry-data, or point --from at an archive directory, an s3://bucket/prefix or an opensearch://host:port/index`,
    );
  }
  if (st.isFile()) return [{ info: parseObjectKey(root.split(sep).join('/')), size: st.size, path: root }];
  const out: ScanTarget[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(p);
      } else if (e.isFile() && !e.name.endsWith('.tmp')) {
        const s = await stat(p);
        out.push({ info: parseObjectKey(relative(root, p).split(sep).join('/')), size: s.size, path: p });
      }
    }
  };
  await walk(root);
  return out;
}
