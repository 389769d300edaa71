/**
 * A small glob expander for the file source: `*`, `?`, `[...]`, `{a,b}` within one path segment and
 * `**` for any number of directories. Patterns are absolute or relative to `cwd`. Dot files match
 * `*` (log directories rarely hide files, and Fluent Bit's tail matches them too). Unreadable
 * directories are skipped silently; a pattern that matches nothing is not an error (files may
 * appear later).
 */
import { readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';

const MAGIC = /[*?[{]/;

/** Compiles one path segment (no `/`) to an anchored RegExp. */
export function segmentRegExp(seg: string): RegExp {
  let re = '';
  let inBrace = 0;
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === '\\' && i + 1 < seg.length) {
      re += escapeChar(seg[++i]);
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let body = seg.slice(i + 1, close);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else if (c === '{') {
      inBrace++;
      re += '(?:';
    } else if (c === '}' && inBrace > 0) {
      inBrace--;
      re += ')';
    } else if (c === ',' && inBrace > 0) re += '|';
    else re += escapeChar(c);
  }
  return new RegExp(`^${re}$`);
}

function escapeChar(c: string): string {
  return /[.+^$()|\\/{}[\]*?]/.test(c) ? `\\${c}` : c;
}

/** Full-path matcher (for `exclude`): the pattern is resolved against `cwd` first. */
export function globMatcher(pattern: string, cwd: string): (path: string) => boolean {
  const abs = isAbsolute(pattern) ? pattern : resolve(cwd, pattern);
  const segs = abs.split(sep).filter((s, i) => s !== '' || i === 0);
  const parts = segs.map((s) => (s === '**' ? '**' : segmentRegExp(s)));
  return (path: string) =>
    matchParts(
      parts,
      path.split(sep).filter((s, i) => s !== '' || i === 0),
      0,
      0,
    );
}

function matchParts(parts: (RegExp | '**')[], segs: string[], pi: number, si: number): boolean {
  while (pi < parts.length) {
    const p = parts[pi];
    if (p === '**') {
      for (let k = si; k <= segs.length; k++) if (matchParts(parts, segs, pi + 1, k)) return true;
      return false;
    }
    if (si >= segs.length || !p.test(segs[si])) return false;
    pi++;
    si++;
  }
  return si === segs.length;
}

/** Expands `pattern` to the existing non-directory paths it matches, sorted. */
export async function expandGlob(pattern: string, cwd: string): Promise<string[]> {
  const { base, rest } = splitBase(pattern, cwd);
  const parts = rest.map((s) => (s === '**' ? '**' : segmentRegExp(s)));
  const out = new Set<string>();
  await walk(base, parts, 0, out, new Set());
  return [...out].sort();
}

async function walk(
  dir: string,
  parts: (RegExp | '**')[],
  pi: number,
  out: Set<string>,
  seen: Set<string>,
): Promise<void> {
  if (pi >= parts.length) return;
  const p = parts[pi];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  if (p === '**') {
    const key = `${dir}\u0000${pi}`;
    if (seen.has(key)) return;
    seen.add(key);
    // zero directories
    await walk(dir, parts, pi + 1, out, seen);
    for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name), parts, pi, out, seen);
    return;
  }
  const last = pi === parts.length - 1;
  for (const e of entries) {
    if (!p.test(e.name)) continue;
    const full = join(dir, e.name);
    if (last) {
      if (!e.isDirectory()) out.add(full);
    } else if (e.isDirectory() || e.isSymbolicLink()) await walk(full, parts, pi + 1, out, seen);
  }
}

/** Directories to watch for a pattern: its fixed prefix (recursive when the rest has `**` or more segments). */
export function watchBase(pattern: string, cwd: string): { dir: string; recursive: boolean } {
  const { base, rest } = splitBase(pattern, cwd);
  return { dir: base, recursive: rest.length > 1 };
}

/** The fixed directory prefix of a pattern (no magic characters) and the segments after it. */
function splitBase(pattern: string, cwd: string): { base: string; rest: string[] } {
  const abs = isAbsolute(pattern) ? pattern : resolve(cwd, pattern);
  const segs = abs.split(sep);
  let base = segs[0] === '' ? sep : segs[0];
  let i = 1;
  while (i < segs.length - 1 && !MAGIC.test(segs[i])) {
    base = join(base, segs[i]);
    i++;
  }
  return { base, rest: segs.slice(i).filter((s) => s !== '') };
}
