/**
 * `logferry import fluent-bit`: reads a Fluent Bit configuration (classic `.conf` or YAML, with its
 * includes and parsers files), translates it (translate.ts) and writes logferry YAML with comments.
 * A configuration that cannot be read (missing file, malformed line, include cycle) is refused with
 * every problem listed (CONFIG_INVALID, exit 2); what merely does not translate is a note.
 */
import { existsSync } from 'node:fs';
import { dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { LogferryError } from '../../core/errors.js';
import { readClassic } from './classic.js';
import { emitYaml } from './emit.js';
import { at, type FbConfig, getValue, type ReadProblem } from './model.js';
import { type Note, type Translation, translate } from './translate.js';
import { readYaml } from './yaml-format.js';

export type { Note } from './translate.js';

export interface ImportOptions {
  /** Extra parsers files (`--parsers`), classic or YAML. */
  parsers?: string[];
  env?: NodeJS.ProcessEnv;
  /** Directory paths are shown relative to (default: the working directory). */
  cwd?: string;
}

export interface ImportResult {
  doc: Translation['doc'];
  yaml: string;
  notes: Note[];
  files: string[];
}

function isYamlFile(f: string): boolean {
  return ['.yaml', '.yml'].includes(extname(f).toLowerCase());
}

export function importFluentBit(file: string, opts: ImportOptions = {}): ImportResult {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const display = (f: string) => {
    const r = relative(cwd, f);
    return r && !r.startsWith('..') && !isAbsolute(r) ? r : f;
  };
  const fb: FbConfig = { sections: [], variables: new Map(), files: [] };
  const problems: ReadProblem[] = [];
  const read = (f: string) => {
    const r = isYamlFile(f) ? readYaml(f, { env, display }, fb) : readClassic(f, { env, display }, fb);
    problems.push(...r.problems);
  };
  read(resolve(cwd, file));
  // Parsers_File entries of [SERVICE] (relative to the main file, as Fluent Bit resolves them).
  const mainDir = dirname(resolve(cwd, file));
  const missing: Note[] = [];
  for (const s of fb.sections.filter((x) => x.kind === 'service')) {
    for (const e of s.entries.filter((x) => x.key === 'parsers_file')) {
      const p = isAbsolute(e.value) ? e.value : resolve(mainDir, e.value);
      // A Parsers_File that is not here (an image or ConfigMap path such as FireLens's
      // /fluent-bit/parsers/parsers.conf) is a note: its parsers can be passed with --parsers.
      if (!existsSync(p)) {
        missing.push({
          kind: 'untranslated',
          where: at(e),
          message: `Parsers_File ${e.value}: not found here (${p}); pass it with --parsers if the config uses its parsers`,
        });
        continue;
      }
      read(p);
    }
  }
  for (const p of opts.parsers ?? []) read(resolve(cwd, p));
  for (const s of fb.sections)
    if (['input', 'filter', 'output'].includes(s.kind) && getValue(s, 'name') === undefined)
      problems.push({ file: s.file, line: s.line, message: `[${s.header}] has no Name` });
  if (problems.length > 0) {
    throw new LogferryError(
      'CONFIG_INVALID',
      `cannot read the Fluent Bit configuration ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${at(p)}: ${p.message}`)
        .join('\n')}`,
      { details: { problems: problems.map((p) => `${at(p)}: ${p.message}`) } },
    );
  }
  const t = translate(fb, { env });
  t.notes.unshift(...missing);
  const header = [
    `logferry config imported from Fluent Bit: ${fb.files.join(', ')}`,
    'Check it with: logferry validate <this file>. Lines marked NOT TRANSLATED have no logferry equivalent.',
  ];
  return { doc: t.doc, yaml: emitYaml(t, header), notes: t.notes, files: fb.files };
}

/** The stderr summary: counts, then every note with its file:line, worst first. */
export function summarize(r: ImportResult): string {
  const order: Note['kind'][] = ['secret', 'untranslated', 'approximated', 'ignored', 'info'];
  const title: Record<Note['kind'], string> = {
    secret: 'secrets (not copied)',
    untranslated: 'not translated',
    approximated: 'translated approximately',
    ignored: 'ignored (logferry does this differently)',
    info: 'notes',
  };
  const counts = (k: string) =>
    Object.keys((r.doc as unknown as Record<string, Record<string, unknown> | undefined>)[k] ?? {}).length;
  const lines = [
    `imported ${r.files.join(', ')}: ${counts('sources')} source(s), ${counts('transforms')} transform(s), ${counts('sinks')} sink(s)`,
  ];
  for (const k of order) {
    const ns = r.notes.filter((n) => n.kind === k);
    if (!ns.length) continue;
    lines.push(`${title[k]} (${ns.length}):`);
    for (const n of ns) lines.push(`  - ${n.where}: ${n.message}`);
  }
  return `${lines.join('\n')}\n`;
}
