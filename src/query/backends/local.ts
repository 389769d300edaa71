/**
 * `--from <path>`: a local archive (a file, or a directory walked recursively) as `logferry run` and
 * the S3 sink's `file://` mode write it — gzip or plain NDJSON / raw objects under partition
 * prefixes. Hidden files and directories (`.tmp` files of in-progress atomic writes) and the
 * `dead-letter` directory are skipped: they are not archived events.
 *
 * What cannot be an archive is refused with a sentence before anything is read (exit 2): a missing
 * path, a device (`/dev/zero`), a FIFO or socket, a binary file, an unreadable root. Inside the walk,
 * a directory that cannot be read is reported as skipped data (the CLI then exits 3), symbolic
 * links are followed (each directory once), and entries that are neither files nor directories
 * (FIFOs, sockets, devices) are listed in `ignored` and never opened — reading a FIFO could block.
 */
import type { Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { describeError, LogferryError } from '../../core/errors.js';
import { fileKind } from '../../core/file-kind.js';
import { parseObjectKey } from './partition-path.js';
import type { ScanTarget } from './scan.js';
import { binaryObjectKind, SNIFF_BYTES } from './scan-object.js';

/** `state`: the daemon's positions, checkpoints, disk buffers and lock (core/data-dir.ts), not logs. */
const SKIP_DIRS = new Set(['dead-letter', 'node_modules', 'state']);
/** Bytes of a single-file `--from` inspected to tell text or gzip from binary data. */

export interface LocalListing {
  targets: ScanTarget[];
  /** Directories or links that could not be read: `path: reason` (their contents were not scanned). */
  unreadable: string[];
  /** Entries that are not regular files or directories, never opened. */
  ignored: string[];
}

const HINT =
  'point --from at an archive directory (what `logferry run` or the S3 sink writes), one archive object (gzip or NDJSON/raw text), an s3://bucket/prefix or an opensearch://host:port/index';

export async function listLocal(root: string): Promise<LocalListing> {
  let st: Stats;
  try {
    st = await stat(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new LogferryError(
        'CONFIG_INVALID',
        `--from ${root}: no such file or directory. Run \`logferry run\` first to write a demo archive to ./logferry-data, or point --from at an archive directory, an s3://bucket/prefix or an opensearch://host:port/index`,
      );
    throw new LogferryError(
      'CONFIG_INVALID',
      `--from ${root}: cannot be read (${describeError(e)}); ${HINT}`,
    );
  }
  if (st.isFile()) {
    let head: Buffer;
    try {
      const fh = await open(root, 'r');
      try {
        const buf = Buffer.alloc(Math.min(SNIFF_BYTES, st.size));
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        head = buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    } catch (e) {
      throw new LogferryError(
        'CONFIG_INVALID',
        `--from ${root}: cannot be read (${describeError(e)}); ${HINT}`,
      );
    }
    const binary = binaryObjectKind(head);
    if (binary !== undefined)
      throw new LogferryError(
        'CONFIG_INVALID',
        `--from ${root}: is not an archive object (${binary}, neither gzip nor text); ${HINT}`,
      );
    return {
      targets: [{ info: parseObjectKey(root.split(sep).join('/')), size: st.size, path: root }],
      unreadable: [],
      ignored: [],
    };
  }
  if (!st.isDirectory())
    throw new LogferryError('CONFIG_INVALID', `--from ${root}: is ${fileKind(st)}, not an archive; ${HINT}`);
  try {
    await readdir(root);
  } catch (e) {
    throw new LogferryError(
      'CONFIG_INVALID',
      `--from ${root}: the directory cannot be read (${describeError(e)}); check its permissions`,
    );
  }
  const listing: LocalListing = { targets: [], unreadable: [], ignored: [] };
  const seenDirs = new Set<string>([`${st.dev}:${st.ino}`]);
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      listing.unreadable.push(`${relative(root, dir) || '.'}: ${describeError(e)}`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      const rel = relative(root, p).split(sep).join('/');
      let s: Stats | undefined;
      if (e.isSymbolicLink() || e.isFile() || e.isDirectory()) {
        try {
          s = await stat(p);
        } catch (err) {
          listing.unreadable.push(`${rel}: ${describeError(err)}`);
          continue;
        }
      }
      if (s?.isDirectory()) {
        if (SKIP_DIRS.has(e.name)) continue;
        const id = `${s.dev}:${s.ino}`;
        if (seenDirs.has(id)) continue;
        seenDirs.add(id);
        await walk(p);
      } else if (s?.isFile()) {
        if (!e.name.endsWith('.tmp'))
          listing.targets.push({ info: parseObjectKey(rel), size: s.size, path: p });
      } else listing.ignored.push(rel);
    }
  };
  await walk(root);
  return listing;
}
