import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { expandVariables, resolveInclude } from './classic.js';
import type { FbConfig, FbEntry, FbSection, ReadProblem, SectionKind } from './model.js';
import { type ReadTreeOptions, readTree } from './read-tree.js';

export type YamlReadOptions = ReadTreeOptions;

function scalarText(v: unknown): string {
  if (v === true) return 'on';
  if (v === false) return 'off';
  if (v === null || v === undefined) return '';
  return String(v);
}

export function readYaml(
  file: string,
  opts: YamlReadOptions = {},
  into?: FbConfig,
): { config: FbConfig; problems: ReadProblem[] } {
  return readTree(file, opts, into, 'includes', (text, { config, problems, env, abs, file: f, include }) => {
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
    if (doc.errors.length > 0) {
      for (const e of doc.errors)
        problems.push({ file: f, line: e.linePos?.[0].line, message: e.message.split('\n')[0] });
      return;
    }
    const lineOf = (n: Node | null | undefined): number | undefined =>
      n?.range ? lc.linePos(n.range[0]).line : undefined;
    const root = doc.contents;
    if (root === null || root === undefined) return;
    if (!isMap(root)) {
      problems.push({
        file: f,
        line: lineOf(root),
        message: 'the document must be a mapping (service:, pipeline:, …)',
      });
      return;
    }

    const nested = (s: FbSection, key: string, line: number) => {
      if (!s.nested) s.nested = [];
      s.nested.push({ key, line });
    };
    const toSection = (kind: SectionKind, header: string, node: unknown): FbSection | undefined => {
      if (!isMap(node)) {
        problems.push({
          file: f,
          line: lineOf(node as Node),
          message: `${header}: each item must be a mapping`,
        });
        return undefined;
      }
      const section: FbSection = { kind, header, entries: [], file: f, line: lineOf(node) ?? 0 };
      for (const pair of (node as YAMLMap).items) {
        const keyNode = pair.key as Node;
        const rawKey = scalarText(isScalar(keyNode) ? keyNode.value : keyNode);
        const key = rawKey.toLowerCase();
        const line = lineOf(keyNode) ?? section.line;
        const v = pair.value as Node | null;
        const push = (value: string, l = line) => {
          const e: FbEntry = { key, rawKey, value, file: f, line: l };
          section.entries.push(e);
        };
        if (isScalar(v) || v === null) push(scalarText(isScalar(v) ? v.value : null));
        else if (isSeq(v)) {
          for (const item of v.items) {
            if (isScalar(item)) push(scalarText(item.value), lineOf(item) ?? line);
            else if (isMap(item) && key === 'rules') {
              const r = item.toJSON() as Record<string, unknown>;
              // Quoted as a classic `rule` line is, for the same tokenizer: only `"` is escaped
              // (JSON.stringify also doubled every backslash, so `\d` in a rule became `\\d`).
              const q = (x: unknown) => `"${scalarText(x).replace(/"/g, '\\"')}"`;
              section.entries.push({
                key: 'rule',
                rawKey: 'rule',
                value: `${q(r.state)} ${q(r.regex)} ${q(r.next_state)}`,
                file: f,
                line: lineOf(item) ?? line,
              });
            } else nested(section, rawKey, line);
          }
        } else nested(section, rawKey, line);
      }
      return section;
    };

    const list = (header: string, kind: SectionKind, node: unknown) => {
      if (node === undefined || node === null) return;
      if (!isSeq(node)) {
        problems.push({
          file: f,
          line: lineOf(node as Node),
          message: `${header} must be a list of mappings`,
        });
        return;
      }
      for (const item of node.items) {
        const s = toSection(kind, header, item);
        if (s) config.sections.push(s);
      }
    };

    const envNode = root.get('env', true);
    if (isMap(envNode))
      for (const pair of envNode.items) {
        const k = scalarText(isScalar(pair.key) ? pair.key.value : pair.key);
        const v = scalarText(isScalar(pair.value) ? pair.value.value : '');
        config.variables.set(k, expandVariables(v, config.variables, env));
      }
    const svc = root.get('service', true);
    if (svc !== undefined) {
      const s = toSection('service', 'service', svc);
      if (s) config.sections.push(s);
    }
    const pipeline = root.get('pipeline', true);
    if (pipeline !== undefined) {
      if (!isMap(pipeline))
        problems.push({ file: f, line: lineOf(pipeline as Node), message: 'pipeline must be a mapping' });
      else {
        list('pipeline.inputs', 'input', pipeline.get('inputs', true));
        list('pipeline.filters', 'filter', pipeline.get('filters', true));
        list('pipeline.outputs', 'output', pipeline.get('outputs', true));
        for (const pair of pipeline.items) {
          const k = scalarText(isScalar(pair.key) ? pair.key.value : pair.key);
          if (!['inputs', 'filters', 'outputs'].includes(k))
            problems.push({
              file: f,
              line: lineOf(pair.key as Node),
              message: `pipeline.${k}: unknown (inputs, filters, outputs)`,
            });
        }
      }
    }
    list('parsers', 'parser', root.get('parsers', true));
    list('multiline_parsers', 'multiline_parser', root.get('multiline_parsers', true));
    for (const pair of root.items) {
      const k = scalarText(isScalar(pair.key) ? pair.key.value : pair.key);
      if (['env', 'service', 'pipeline', 'parsers', 'multiline_parsers', 'includes'].includes(k)) continue;
      // plugins, upstream_servers, customs: kept as an "other" section so the summary lists them.
      config.sections.push({
        kind: 'other',
        header: k,
        entries: [],
        file: f,
        line: lineOf(pair.key as Node) ?? 0,
      });
    }
    const includes = root.get('includes', true);
    if (includes !== undefined) {
      if (!isSeq(includes))
        problems.push({
          file: f,
          line: lineOf(includes as Node),
          message: 'includes must be a list of file names',
        });
      else
        for (const item of includes.items) {
          const spec = expandVariables(scalarText(isScalar(item) ? item.value : ''), config.variables, env);
          const { files, problem } = resolveInclude(spec, abs);
          if (problem) problems.push({ file: f, line: lineOf(item as Node), message: problem });
          for (const inc of files) include(inc);
        }
    }
  });
}
