/**
 * Config text (YAML or JSON) → validated Config. Refuses bad config at once with every problem
 * listed (YAML syntax errors with line and column, schema problems with their path), and never
 * echoes values that could be secrets.
 */
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import type { Registry } from '../core/component.js';
import { LogferryError } from '../core/errors.js';
import { parsers } from '../parsers/index.js';
import { deadLetterSinks, sinks } from '../sinks/index.js';
import { sources } from '../sources/index.js';
import { transforms } from '../transforms/index.js';
import { type ComponentConfig, type Config, firehoseSettings, topLevel } from './schema.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

function pathOf(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(top level)';
}

function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  prefix: (string | number)[] = [],
): ConfigProblem[] {
  return issues.map((i) => {
    let message = i.message;
    if (i.code === 'unrecognized_keys') message = `unknown key(s): ${i.keys.join(', ')}`;
    return { path: pathOf([...prefix, ...i.path]), message };
  });
}

/** Parses YAML (JSON is YAML) into a plain value, or throws CONFIG_INVALID with positions. */
export function parseConfigText(text: string, origin = 'config'): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(syntax)',
      message: e.message.split('\n')[0],
    }));
    throw configError(origin, problems);
  }
  return doc.toJS() ?? {};
}

function configError(origin: string, problems: ConfigProblem[]): LogferryError {
  const list = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
  return new LogferryError(
    'CONFIG_INVALID',
    `${origin} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${list}\n` +
      'Fix these and try again; `logferry config --help` documents every key.',
    { details: { problems } },
  );
}

function checkComponents<T>(
  kind: string,
  registry: Registry<T>,
  items: readonly ComponentConfig[],
  path: (string | number)[],
  problems: ConfigProblem[],
): ComponentConfig[] {
  const out: ComponentConfig[] = [];
  items.forEach((item, i) => {
    const spec = registry.find((s) => s.type === item.type);
    const at = [...path, i];
    if (!spec) {
      const known = registry.map((s) => s.type).join(', ') || '(none)';
      problems.push({
        path: pathOf([...at, 'type']),
        message: `unknown ${kind} type "${item.type}"; known: ${known}`,
      });
      return;
    }
    const res = spec.schema.safeParse(item);
    if (res.success) out.push(res.data as ComponentConfig);
    else problems.push(...issuesToProblems(res.error.issues, at));
  });
  return out;
}

/** Validates a parsed config value. Throws CONFIG_INVALID listing every problem. */
export function validateConfig(value: unknown, origin = 'config'): Config {
  const problems: ConfigProblem[] = [];
  const top = topLevel.safeParse(value ?? {});
  if (!top.success) throw configError(origin, issuesToProblems(top.error.issues));
  const t = top.data;
  const cfg: Config = {
    parse: t.parse,
    mask: t.mask,
    sources: checkComponents(
      'source',
      sources,
      (t.sources ?? []) as ComponentConfig[],
      ['sources'],
      problems,
    ),
    transforms: checkComponents(
      'transform',
      transforms,
      t.transforms as ComponentConfig[],
      ['transforms'],
      problems,
    ),
    sinks: checkComponents('sink', sinks, (t.sinks ?? []) as ComponentConfig[], ['sinks'], problems),
    firehose: t.firehose ?? firehoseSettings.parse({}),
  };
  if (t.mask && typeof t.mask === 'object') {
    checkComponents('transform', transforms, [{ type: 'mask', ...t.mask }], ['mask'], problems);
  }
  if (t.deadLetter) {
    const [dl] = checkComponents(
      'dead-letter sink',
      deadLetterSinks,
      [t.deadLetter as ComponentConfig],
      ['deadLetter'],
      problems,
    );
    cfg.deadLetter = dl;
  }
  if (problems.length > 0) throw configError(origin, problems);
  return cfg;
}

export function loadConfigText(text: string, origin = 'config'): Config {
  return validateConfig(parseConfigText(text, origin), origin);
}

// Parsers are referenced by name from parse settings; export the registry for the CLI's listing.
export { parsers };
