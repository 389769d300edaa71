/**
 * Config text (YAML or JSON) → validated Config. Refuses bad config at once with every problem
 * listed (YAML syntax errors with line and column, schema problems with their path), and never
 * echoes values that could be secrets.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { describeError, LogferryError } from '../core/errors.js';
import { fileKind } from '../core/file-kind.js';
import { parsers } from '../parsers/index.js';
import type { Config } from './schema.js';
import { configError, validateConfig } from './validate.js';

export { type ConfigProblem, suggestKey, validateConfig } from './validate.js';

/** Parses YAML (JSON is YAML) into a plain value, or throws CONFIG_INVALID with positions. */
export function parseConfigText(text: string, origin = 'config'): unknown {
  const deep = flowDepthBeyond(text, MAX_FLOW_DEPTH);
  if (deep !== undefined) throw configError(origin, [{ path: deep, message: TOO_DEEP }]);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(syntax)',
      message: /Maximum call stack/.test(e.message) ? TOO_DEEP : e.message.split('\n')[0],
    }));
    throw configError(origin, problems);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (e) {
    // A YAML alias bomb ("billion laughs") or an alias to nothing: a sentence, not a stack trace.
    const why = (e as Error)?.message ?? String(e);
    throw configError(origin, [
      {
        path: e instanceof RangeError && /call stack/.test(why) ? '(document)' : '(aliases)',
        message: /alias count/i.test(why)
          ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}): the document expands aliases (*name) exponentially; write the values out or use fewer aliases`
          : e instanceof RangeError && /call stack/.test(why)
            ? TOO_DEEP
            : `cannot resolve the document's aliases: ${why}`,
      },
    ]);
  }
}

/** Deepest `[`/`{` nesting read: a real config is a few levels; yaml recurses once per level. */
const MAX_FLOW_DEPTH = 256;

/**
 * One linear pass over the text: the line and column where `[`/`{` nesting (outside quoted strings
 * and comments) first exceeds `max`, or undefined. Refusing such a document before yaml reads it
 * keeps the parser's recursion (and the engine's stack overflow deep inside it) out of the way.
 */
function flowDepthBeyond(text: string, max: number): string | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      lineStart = i + 1;
    } else if ((c === 34 || c === 39) && startsToken(text, i)) {
      // "…" with backslash escapes, '…' with '' for a quote; both may span lines. A quote inside a
      // plain scalar (don't) is text, as in YAML.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 10) {
          line++;
          lineStart = i + 1;
        } else if (c === 34 && d === 92) i++;
        else if (d === c) {
          if (c === 39 && text.charCodeAt(i + 1) === 39) i++;
          else break;
        }
      }
    } else if (c === 35 && (i === 0 || text.charCodeAt(i - 1) <= 32)) {
      while (i + 1 < text.length && text.charCodeAt(i + 1) !== 10) i++;
    } else if (c === 91 || c === 123) {
      if (++depth > max) return `line ${line}, column ${i - lineStart + 1}`;
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  return undefined;
}

/** A quote opens a quoted scalar only at a token start: after a blank, `[`, `{`, `,`, `:`, `-` or at the start. */
function startsToken(text: string, i: number): boolean {
  if (i === 0) return true;
  const p = text.charCodeAt(i - 1);
  return p <= 32 || p === 91 || p === 123 || p === 44 || p === 58 || p === 45;
}

const TOO_DEEP =
  'lists or maps are nested too deeply to read (thousands of levels); a config is a few levels deep — check for unbalanced brackets';

/** Alias expansions allowed while reading a config (yaml's default is 100 too; set here explicitly). */
const MAX_ALIAS_COUNT = 100;

export function loadConfigText(text: string, origin = 'config'): Config {
  return validateConfig(parseConfigText(text, origin), origin);
}

// Parsers are referenced by name from parse settings; export the registry for the CLI's listing.
export { parsers };

/** Largest config file read: a config with 10,000 components is about 1 MiB. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/**
 * A config file's text, or CONFIG_INVALID with a sentence: a directory, a device (`/dev/zero` would
 * be read until memory runs out), a FIFO (would wait for a writer forever), a socket, or a file over
 * MAX_CONFIG_BYTES is refused before reading.
 */
export function readConfigFile(path: string): string {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error(`it is ${fileKind(st)}, not a file`);
    if (st.size > MAX_CONFIG_BYTES)
      throw new Error(
        `it is ${st.size} bytes; a config file is at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB`,
      );
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new LogferryError('CONFIG_INVALID', `cannot read config file ${path}: ${describeError(e)}`);
  }
}
