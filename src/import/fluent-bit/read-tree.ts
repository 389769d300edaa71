/**
 * What the classic and YAML readers share: reading a file and the files it includes into one
 * `FbConfig`, with include cycles, directories and unreadable files reported as problems (never
 * thrown), each file listed once it is read. The format's reader parses one file's text.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileKind } from '../../core/file-kind.js';
import type { FbConfig, ReadProblem } from './model.js';

export interface ReadTreeOptions {
  env?: NodeJS.ProcessEnv;
  /** Shown in messages instead of absolute paths (default: paths as given). */
  display?: (file: string) => string;
}

/** One file being read: where it is, and how to read what it includes. */
export interface FileContext {
  config: FbConfig;
  problems: ReadProblem[];
  env: NodeJS.ProcessEnv;
  /** Absolute path (includes resolve against it). */
  abs: string;
  /** The path as messages show it. */
  file: string;
  show: (file: string) => string;
  /** Reads an included file into the same config (cycles are reported, not followed). */
  include: (path: string) => void;
}

/**
 * Reads `file` (and, through `ctx.include`, what it includes) with `parse`. `cycle` names the
 * include mechanism in the cycle message (`@INCLUDE`, `includes`).
 */
export function readTree(
  file: string,
  opts: ReadTreeOptions,
  into: FbConfig | undefined,
  cycle: string,
  parse: (text: string, ctx: FileContext) => void,
): { config: FbConfig; problems: ReadProblem[] } {
  const config: FbConfig = into ?? { sections: [], variables: new Map(), files: [] };
  const problems: ReadProblem[] = [];
  const env = opts.env ?? process.env;
  const show = opts.display ?? ((f: string) => f);
  const stack: string[] = [];

  const readOne = (path: string): void => {
    const abs = resolve(path);
    if (stack.includes(abs)) {
      problems.push({ file: show(abs), message: `${cycle} cycle: ${[...stack, abs].map(show).join(' → ')}` });
      return;
    }
    let text: string;
    try {
      // A directory is refused; a device or FIFO (`/dev/zero`) would be read or waited on forever.
      const st = statSync(abs);
      if (!st.isFile()) throw new Error(`it is ${fileKind(st)}, not a file`);
      text = readFileSync(abs, 'utf8');
    } catch (e) {
      problems.push({ file: show(abs), message: `cannot read: ${(e as Error).message}` });
      return;
    }
    stack.push(abs);
    config.files.push(show(abs));
    try {
      parse(text, { config, problems, env, abs, file: show(abs), show, include: readOne });
    } finally {
      stack.pop();
    }
  };

  readOne(file);
  return { config, problems };
}
