/**
 * Reader for Fluent Bit's classic configuration format, with its rules: `[SECTION]` headers at
 * column 0, indented `Key Value` entries (one indentation per section, as Fluent Bit requires),
 * whole-line `#` comments (a `#` later in a line is part of the value, as in Fluent Bit), keys
 * case-insensitive, repeated keys kept in order, `@SET KEY=VALUE` variables and `@INCLUDE path`
 * (relative to the including file, `*`/`?` wildcards in the file name, sorted, cycles refused).
 * Every problem is collected, never thrown, so one run lists them all.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { FbConfig, FbSection, ReadProblem, SectionKind } from './model.js';
import { type ReadTreeOptions, readTree } from './read-tree.js';

const KINDS: Record<string, SectionKind> = {
  service: 'service',
  input: 'input',
  filter: 'filter',
  output: 'output',
  parser: 'parser',
  multiline_parser: 'multiline_parser',
};

/** Fluent Bit's variable syntax: `${NAME}`. */
const VAR_REF = /\$\{([A-Za-z_][A-Za-z0-9_.]*)\}/g;

/** Expands `${VAR}` from variables, then the environment; unknown names become '' (Fluent Bit's rule). */
export function expandVariables(
  value: string,
  variables: ReadonlyMap<string, string>,
  env: NodeJS.ProcessEnv,
  onMissing?: (name: string) => void,
): string {
  return value.replace(VAR_REF, (_, name: string) => {
    const v = variables.get(name) ?? env[name];
    if (v === undefined) {
      onMissing?.(name);
      return '';
    }
    return v;
  });
}

function hasGlob(s: string): boolean {
  return /[*?]/.test(s);
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Files an `@INCLUDE` names: one path, or the sorted matches of a wildcard in its file name. */
export function resolveInclude(spec: string, fromFile: string): { files: string[]; problem?: string } {
  const full = isAbsolute(spec) ? spec : resolve(dirname(fromFile), spec);
  if (!hasGlob(full)) {
    if (!existsSync(full)) return { files: [], problem: `@INCLUDE ${spec}: no such file (${full})` };
    return { files: [full] };
  }
  const dir = dirname(full);
  if (hasGlob(dir))
    return { files: [], problem: `@INCLUDE ${spec}: wildcards are supported in the file name only` };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    return { files: [], problem: `@INCLUDE ${spec}: cannot read directory ${dir}: ${(e as Error).message}` };
  }
  const re = globToRegExp(basename(full));
  const files = names
    .filter((n) => re.test(n))
    .sort()
    .map((n) => join(dir, n))
    .filter((f) => statSync(f).isFile());
  return { files };
}

export type ClassicReadOptions = ReadTreeOptions;

/** Reads a classic config (and what it includes) into sections; problems are returned, never thrown. */
export function readClassic(
  file: string,
  opts: ClassicReadOptions = {},
  into?: FbConfig,
): { config: FbConfig; problems: ReadProblem[] } {
  return readTree(
    file,
    opts,
    into,
    '@INCLUDE',
    (text, { config, problems, env, abs, file: shown, include }) => {
      let section: FbSection | undefined;
      let indent: string | undefined;
      /** Inside a `[GROUP]` of the current section. */
      let group = false;
      const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
      for (let i = 0; i < lines.length; i++) {
        const lineNo = i + 1;
        const raw = lines[i].replace(/\s+$/, '');
        const body = raw.trimStart();
        if (body === '' || body.startsWith('#')) continue;
        const where = { file: shown, line: lineNo };
        const lead = raw.slice(0, raw.length - body.length);
        if (body.startsWith('[') && !(section && lead !== '' && lead === (indent ?? lead))) {
          if (lead !== '') {
            problems.push({ ...where, message: `section header ${body} must start at column 1` });
            continue;
          }
          // As Fluent Bit: the name is what is between `[` and the first `]`; the rest of the line is ignored.
          const m = /^\[([^\]\s][^\]]*)\]/.exec(body);
          if (!m) {
            problems.push({ ...where, message: `malformed section header: ${body}` });
            section = undefined;
            continue;
          }
          const name = m[1].trim().toLowerCase();
          section = {
            kind: KINDS[name] ?? 'other',
            header: m[1].trim(),
            entries: [],
            file: where.file,
            line: lineNo,
          };
          config.sections.push(section);
          indent = undefined;
          group = false;
          continue;
        }
        if (body.startsWith('@')) {
          const cmd = /^@(\w+)\s*(.*)$/.exec(body);
          const name = cmd?.[1].toUpperCase();
          const arg = cmd?.[2].trim() ?? '';
          if (name === 'SET') {
            const eq = arg.indexOf('=');
            if (eq <= 0) {
              problems.push({ ...where, message: `@SET needs KEY=VALUE, found "${arg}"` });
              continue;
            }
            const key = arg.slice(0, eq).trim();
            config.variables.set(key, expandVariables(arg.slice(eq + 1).trim(), config.variables, env));
            continue;
          }
          if (name === 'INCLUDE') {
            if (!arg) {
              problems.push({ ...where, message: '@INCLUDE needs a file name' });
              continue;
            }
            const spec = expandVariables(arg, config.variables, env);
            const { files, problem } = resolveInclude(spec, abs);
            if (problem) problems.push({ ...where, message: problem });
            for (const f of files) include(f);
            // An included file's sections end where it ends; entries after the @INCLUDE would
            // otherwise land in the last included section.
            section = undefined;
            continue;
          }
          problems.push({
            ...where,
            message: `unknown command ${body.split(/\s/)[0]} (known: @INCLUDE, @SET)`,
          });
          continue;
        }
        if (!section) {
          problems.push({ ...where, message: `"${body}" is outside any [SECTION]` });
          continue;
        }
        if (lead === '') {
          problems.push({ ...where, message: `entry "${body}" must be indented under [${section.header}]` });
          continue;
        }
        if (indent === undefined) indent = lead;
        if (body.startsWith('[') && lead === indent) {
          // A group inside the section (`    [GROUP name]`, its entries indented twice, as Fluent
          // Bit reads them): kept as a nested setting, which has no logferry equivalent.
          const g = /^\[([^\]]+)\]/.exec(body);
          if (!g) problems.push({ ...where, message: `malformed group header: ${body}` });
          else {
            if (!section.nested) section.nested = [];
            section.nested.push({ key: `[${g[1].trim()}] group`, line: lineNo });
          }
          group = true;
          continue;
        }
        if (group && lead === indent + indent) continue;
        group = false;
        if (lead !== indent) {
          problems.push({
            ...where,
            message: `invalid indentation: entries of [${section.header}] (line ${section.line}) are indented with ${describeIndent(indent)}, this one with ${describeIndent(lead)}`,
          });
          continue;
        }
        const kv = /^(\S+)(?:\s+(.*))?$/.exec(body);
        const key = kv?.[1] ?? body;
        const value = kv?.[2]?.trim() ?? '';
        if (value === '') {
          problems.push({ ...where, message: `key "${key}" has no value` });
          continue;
        }
        section.entries.push({ key: key.toLowerCase(), rawKey: key, value, file: where.file, line: lineNo });
      }
    },
  );
}

function describeIndent(s: string): string {
  const tabs = (s.match(/\t/g) ?? []).length;
  const spaces = s.length - tabs;
  return [
    spaces ? `${spaces} space${spaces === 1 ? '' : 's'}` : '',
    tabs ? `${tabs} tab${tabs === 1 ? '' : 's'}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
}
