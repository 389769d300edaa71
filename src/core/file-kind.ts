/** What a path that is neither a regular file nor a directory is, for "X is …, not …" sentences. */
import type { Stats } from 'node:fs';

export function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file or directory';
}
