/**
 * Which log groups a subscription or retention rule applies to. The same functions run at synth
 * time (to prove no pipeline group is selected) and in the subscriber Lambda (to decide), so the
 * check and the behaviour cannot drift apart.
 */

export interface SelectionSpec {
  prefixes: string[];
  patterns: string[];
  tags: Record<string, string>;
  exclude: { names: string[]; prefixes: string[]; patterns: string[] };
}

/** `*` any run of characters (including `/`), `?` exactly one; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`${re}$`, 's');
}

export interface CompiledSelection {
  /** True when the name is excluded (explicitly or as a pipeline group). */
  excluded(name: string): boolean;
  /** True when the name is selected by prefix/pattern and not excluded (tags are checked apart). */
  selectsName(name: string): boolean;
  /** True when tags are part of the selection (the caller must then fetch the group's tags). */
  needsTags: boolean;
  selectsTags(tags: Record<string, string> | undefined): boolean;
}

export function compileSelection(spec: SelectionSpec): CompiledSelection {
  const patterns = spec.patterns.map(globToRegExp);
  const exPatterns = spec.exclude.patterns.map(globToRegExp);
  const exNames = new Set(spec.exclude.names);
  const all = spec.prefixes.length === 0 && spec.patterns.length === 0;
  const tagEntries = Object.entries(spec.tags);
  const excluded = (n: string): boolean =>
    exNames.has(n) || spec.exclude.prefixes.some((p) => n.startsWith(p)) || exPatterns.some((r) => r.test(n));
  return {
    excluded,
    selectsName: (n) =>
      !excluded(n) && (all || spec.prefixes.some((p) => n.startsWith(p)) || patterns.some((r) => r.test(n))),
    needsTags: tagEntries.length > 0,
    selectsTags: (tags) =>
      tagEntries.every(([k, v]) => tags !== undefined && k in tags && (v === '*' || tags[k] === v)),
  };
}

/** The selection with the pipeline's own groups added to its exclusions. */
export function withPipelineExclusions(
  spec: SelectionSpec,
  pipeline: { names: string[]; prefixes: string[] },
): SelectionSpec {
  return {
    ...spec,
    exclude: {
      names: [...new Set([...spec.exclude.names, ...pipeline.names])],
      prefixes: [...new Set([...spec.exclude.prefixes, ...pipeline.prefixes])],
      patterns: spec.exclude.patterns,
    },
  };
}
