/**
 * The one in-memory shape both Fluent Bit formats (classic `.conf` and YAML) are read into, so the
 * translation never cares which format a section came from. Keys are lower-cased (Fluent Bit keys are
 * case-insensitive); values are kept as written, `${VAR}` references unexpanded (the translation
 * decides: a secret written as `${VAR}` becomes the reference `env:VAR`, anything else is expanded
 * from `@SET`/`env:` variables, then the environment).
 */

export type SectionKind = 'service' | 'input' | 'filter' | 'output' | 'parser' | 'multiline_parser' | 'other';

export interface FbEntry {
  /** Lower-cased key (`key_name`). */
  key: string;
  /** The key as written (`Key_Name`), for messages and comments. */
  rawKey: string;
  value: string;
  file: string;
  line: number;
}

export interface FbSection {
  kind: SectionKind;
  /** The section header as written (`INPUT`, `pipeline.inputs`), for messages. */
  header: string;
  entries: FbEntry[];
  file: string;
  line: number;
  /** YAML-only: nested settings that have no classic equivalent (`processors`), as written. */
  nested?: { key: string; line: number }[];
}

export interface FbConfig {
  sections: FbSection[];
  /** `@SET` / YAML `env:` variables, by name. */
  variables: Map<string, string>;
  /** Every file read (main file first), for the summary. */
  files: string[];
}

/** A reason the configuration cannot be read at all (exit 2): listed together. */
export interface ReadProblem {
  file: string;
  line?: number;
  message: string;
}

/** Where something came from, as `file:line`. */
export function at(x: { file: string; line?: number }): string {
  return x.line === undefined ? x.file : `${x.file}:${x.line}`;
}

/** The last value of `key` (Fluent Bit: a later single-valued property overrides an earlier one). */
export function getEntry(s: FbSection, key: string): FbEntry | undefined {
  for (let i = s.entries.length - 1; i >= 0; i--) if (s.entries[i].key === key) return s.entries[i];
  return undefined;
}

export function getValue(s: FbSection, key: string): string | undefined {
  return getEntry(s, key)?.value;
}

/** Every value of a repeatable key (`Rename`, `Add`, `Regex`, `Rule`, `Record`, `Wildcard`, …), in order. */
export function getAll(s: FbSection, key: string): FbEntry[] {
  return s.entries.filter((e) => e.key === key);
}

/** The plugin (or parser) name: the `Name` entry, lower-cased. */
export function pluginName(s: FbSection): string {
  return (getValue(s, 'name') ?? '').trim().toLowerCase();
}
