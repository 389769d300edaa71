/**
 * A parsed config value → validated Config (load.ts reads the text). Refuses bad config at once
 * with every problem listed (schema problems with their path), and never echoes values that could
 * be secrets. Apart from load.ts so the Lambda handlers, which parse text only when a config is
 * given, do not load the YAML parser at start (bench/lambda-bundles.ts).
 */
import type * as z from 'zod';
import type { Registry } from '../core/component.js';
import { type BufferConfig, bufferConfig } from '../core/buffer/config.js';
import { LogferryError } from '../core/errors.js';
import { checkGraph } from '../core/graph.js';
import { deadLetterSinks, sinks } from '../sinks/index.js';
import { sources } from '../sources/index.js';
import { transforms } from '../transforms/index.js';
import {
  type ComponentConfig,
  type Config,
  type Edges,
  firehoseSettings,
  type GraphTransformConfig,
  type TopLevel,
  topLevel,
} from './schema.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

function pathOf(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(top level)';
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys (short strings only). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** The known key closest to a misspelt one (case-insensitive, at most 2 edits), if any. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD && d < Math.max(2, k.length / 2)) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

interface SchemaLike {
  shape?: Record<string, unknown>;
  _zod?: { def?: { innerType?: unknown; in?: unknown; element?: unknown; shape?: Record<string, unknown> } };
}

/** Strips optional/default/prefault/pipe wrappers (best effort: unknown shapes give up quietly). */
function unwrap(schema: unknown): SchemaLike | undefined {
  let s = schema as SchemaLike | undefined;
  for (let i = 0; i < 8 && s; i++) {
    const def = s._zod?.def;
    const inner = def?.innerType ?? def?.in;
    if (!inner) break;
    s = inner as SchemaLike;
  }
  return s;
}

/** Keys of the object schema at `path` inside `schema`, for suggestions; empty when unknown. */
function keysOf(schema: unknown, path: readonly PropertyKey[] = []): string[] {
  let s = unwrap(schema);
  for (const p of path) {
    if (!s) return [];
    const next: unknown =
      typeof p === 'number' ? s._zod?.def?.element : (s.shape ?? s._zod?.def?.shape)?.[String(p)];
    s = unwrap(next);
  }
  const shape = s?.shape ?? s?._zod?.def?.shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : [];
}

function issuesToProblems(
  issues: readonly z.core.$ZodIssue[],
  prefix: (string | number)[] = [],
  schema?: unknown,
): ConfigProblem[] {
  return issues.map((i) => {
    let message = i.message;
    const missing = /^Invalid input: expected (\w+), received undefined$/.exec(message);
    if (missing) message = `missing (required ${missing[1]})`;
    if (i.code === 'unrecognized_keys') {
      message = `unknown key(s): ${i.keys.join(', ')}`;
      const hints: [string, string][] = [];
      const knownKeys = schema === undefined ? [] : keysOf(schema, i.path);
      for (const k of i.keys) {
        const s = suggestKey(k, knownKeys);
        if (s !== undefined) hints.push([k, s]);
      }
      if (hints.length === 1 && i.keys.length === 1) message += ` (did you mean "${hints[0][1]}"?)`;
      else if (hints.length > 0)
        message += ` (did you mean ${hints.map(([k, s]) => `"${s}" for "${k}"`).join(', ')}?)`;
    }
    return { path: pathOf([...prefix, ...i.path]), message };
  });
}

export function configError(origin: string, problems: ConfigProblem[]): LogferryError {
  const list = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n');
  return new LogferryError(
    'CONFIG_INVALID',
    `${origin} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${list}\n` +
      'Fix these and try again; docs/configuration.md documents every key.',
    { details: { problems } },
  );
}

function checkComponents<T>(
  kind: string,
  registry: Registry<T>,
  items: readonly ComponentConfig[],
  path: (string | number)[],
  problems: ConfigProblem[],
  indexed = true,
): ComponentConfig[] {
  const out: ComponentConfig[] = [];
  items.forEach((item, i) => {
    // An item without a string `type` was already reported by the top-level schema.
    if (typeof item !== 'object' || item === null || typeof item.type !== 'string') return;
    const spec = registry.find((s) => s.type === item.type);
    const at = indexed ? [...path, i] : path;
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
    else problems.push(...issuesToProblems(res.error.issues, at, spec.schema));
  });
  return out;
}

type Section = ComponentConfig[] | Record<string, ComponentConfig> | undefined;

interface NamedItem {
  name: string;
  edges: Edges;
  tag?: string;
  /** A sink's validated `buffer`. */
  buffer?: BufferConfig;
  config: ComponentConfig;
}

/**
 * Splits a section (list or map) into items with a name, their wiring (`inputs`, `match`, and
 * `tag` for sources) and their own options, reporting malformed wiring with its path. List items
 * are named by their own `name` or their type (made unique with `-2`, `-3`, …).
 */
function splitSection(
  plural: 'sources' | 'transforms' | 'sinks',
  section: Section,
  problems: ConfigProblem[],
): { named: boolean; items: NamedItem[]; paths: (string | number)[][] } {
  const items: NamedItem[] = [];
  const paths: (string | number)[][] = [];
  if (section === undefined) return { named: false, items, paths };
  const named = !Array.isArray(section);
  const entries: [string | number, ComponentConfig][] = named
    ? Object.entries(section)
    : (section as ComponentConfig[]).map((c, i) => [i, c]);
  const used = new Set<string>();
  for (const [key, raw] of entries) {
    if (typeof raw !== 'object' || raw === null || typeof raw.type !== 'string') continue;
    const { inputs, match, tag, buffer, ...rest } = raw as ComponentConfig & {
      inputs?: unknown;
      match?: unknown;
      tag?: unknown;
      buffer?: unknown;
    };
    const config = rest as ComponentConfig;
    const at = [plural, key];
    const edges: Edges = {};
    if (inputs !== undefined) {
      if (plural === 'sources')
        problems.push({ path: pathOf([...at, 'inputs']), message: 'sources have no inputs' });
      else if (!named)
        problems.push({
          path: pathOf([...at, 'inputs']),
          message: 'inputs need named components: write this section as a map (name: {type: …})',
        });
      else if (!Array.isArray(inputs) || inputs.some((x) => typeof x !== 'string' || x === ''))
        problems.push({ path: pathOf([...at, 'inputs']), message: 'expected a list of component names' });
      else edges.inputs = inputs as string[];
    }
    if (match !== undefined) {
      if (plural === 'sources')
        problems.push({ path: pathOf([...at, 'match']), message: 'sources have no match (set tag)' });
      else if (typeof match !== 'string' || match === '')
        problems.push({ path: pathOf([...at, 'match']), message: 'expected a tag pattern such as "kube.*"' });
      else edges.match = match;
    }
    let srcTag: string | undefined;
    if (tag !== undefined) {
      if (plural !== 'sources')
        problems.push({
          path: pathOf([...at, 'tag']),
          message: 'only sources have a tag (use match to select by it)',
        });
      else if (typeof tag !== 'string' || tag === '')
        problems.push({
          path: pathOf([...at, 'tag']),
          message: 'expected a tag string such as "kube.audit"',
        });
      else srcTag = tag;
    }
    let sinkBuffer: BufferConfig | undefined;
    if (buffer !== undefined) {
      if (plural !== 'sinks')
        problems.push({ path: pathOf([...at, 'buffer']), message: 'only sinks have a buffer' });
      else {
        const b = bufferConfig.safeParse(buffer);
        if (b.success) sinkBuffer = b.data;
        else problems.push(...issuesToProblems(b.error.issues, [...at, 'buffer'], bufferConfig));
      }
    }
    let name: string;
    if (named) {
      name = String(key);
      if (plural !== 'transforms') config.name = name;
      else delete config.name;
    } else {
      const base = typeof config.name === 'string' && config.name ? config.name : config.type;
      name = base;
      for (let k = 2; used.has(name); k++) name = `${base}-${k}`;
      if (plural !== 'transforms' && name !== base) config.name = name;
    }
    used.add(name);
    items.push({ name, edges, tag: srcTag, buffer: sinkBuffer, config });
    paths.push(at);
  }
  return { named, items, paths };
}

/** Validates a parsed config value. Throws CONFIG_INVALID listing every problem. */
export function validateConfig(value: unknown, origin = 'config'): Config {
  const problems: ConfigProblem[] = [];
  const top = topLevel.safeParse(value ?? {});
  let t: TopLevel;
  if (top.success) t = top.data;
  else {
    // Report the top-level problems, and go on checking the sections that are usable so one run
    // lists every problem (a misspelt top-level key must not hide a bad sink option).
    problems.push(...issuesToProblems(top.error.issues, [], topLevel));
    t = usableSections(value);
  }
  const src = splitSection('sources', t.sources as Section, problems);
  const tr = splitSection('transforms', t.transforms as Section, problems);
  const sk = splitSection('sinks', t.sinks as Section, problems);
  const check = <T>(kind: string, registry: Registry<T>, part: ReturnType<typeof splitSection>) => {
    const ok: (NamedItem & { config: ComponentConfig })[] = [];
    part.items.forEach((it, i) => {
      // A source whose own options have a `tag` (file, http, syslog: `fields.tag`, a file's `*`
      // expanded per path) gets it too: the graph routes by it, the source stamps it on records.
      if (it.tag !== undefined) {
        const spec = registry.find((s) => s.type === it.config.type);
        if (spec && keysOf(spec.schema).includes('tag')) it.config.tag = it.tag;
      }
      const [c] = checkComponents(kind, registry, [it.config], part.paths[i], problems, false);
      if (c) ok.push({ ...it, config: c });
    });
    return ok;
  };
  const srcOk = check('source', sources, src);
  const trOk = check('transform', transforms, tr);
  const skOk = check('sink', sinks, sk);
  const cfg: Config = {
    parse: t.parse,
    mask: t.mask,
    metricsAddress: t.metricsAddress,
    dataDir: t.dataDir,
    shutdown: t.shutdown,
    sources: srcOk.map((x) => x.config),
    transforms: tr.named ? [] : trOk.map((x) => x.config),
    sinks: skOk.map((x) => x.config),
    firehose: t.firehose ?? firehoseSettings.parse({}),
  };
  if (tr.named)
    cfg.graphTransforms = trOk.map(
      (x): GraphTransformConfig => ({ name: x.name, ...x.edges, config: x.config }),
    );
  const edges = Object.fromEntries(
    skOk.filter((x) => x.edges.inputs || x.edges.match).map((x) => [x.name, x.edges]),
  );
  if (Object.keys(edges).length > 0) cfg.sinkEdges = edges;
  const buffers = Object.fromEntries(
    skOk.filter((x) => x.buffer).map((x) => [x.name, x.buffer as BufferConfig]),
  );
  if (Object.keys(buffers).length > 0) cfg.sinkBuffers = buffers;
  const tags = Object.fromEntries(
    srcOk.filter((x) => x.tag !== undefined).map((x) => [x.name, x.tag as string]),
  );
  if (Object.keys(tags).length > 0) cfg.sourceTags = tags;
  // Wiring: names, dangling inputs, cycles — each with its path. Only named sections have edges.
  if (src.named || tr.named || sk.named) {
    const graphProblems = checkGraph({
      sources: src.items.map((x) => ({ name: x.name, tag: x.tag })),
      transforms: tr.named ? tr.items.map((x) => ({ name: x.name, ...x.edges })) : [],
      sinks: sk.items.map((x) => ({ name: x.name, ...x.edges })),
    });
    for (const gp of graphProblems) {
      const colon = gp.indexOf(': ');
      problems.push({ path: gp.slice(0, colon), message: gp.slice(colon + 2) });
    }
  }
  if (t.mask && typeof t.mask === 'object') {
    checkComponents('transform', transforms, [{ type: 'mask', ...t.mask }], ['mask'], problems, false);
  }
  if (t.deadLetter) {
    // A dead-letter store is one of the dead-letter sinks (file, sqs) or any ordinary sink.
    const type = (t.deadLetter as ComponentConfig).type;
    const asSink = !deadLetterSinks.some((d) => d.type === type) && sinks.some((d) => d.type === type);
    const [dl] = checkComponents(
      'dead-letter sink',
      (asSink ? sinks : [...deadLetterSinks, ...sinks]) as Registry<unknown>,
      [t.deadLetter as ComponentConfig],
      ['deadLetter'],
      problems,
      false,
    );
    cfg.deadLetter = dl;
  }
  if (problems.length > 0) throw configError(origin, problems);
  return cfg;
}

/** The sections of an invalid top level that can still be checked component by component. */
function usableSections(value: unknown): TopLevel {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const obj = (x: unknown) =>
    typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
  const arr = (x: unknown) => (Array.isArray(x) || obj(x) ? (x as TopLevel['transforms']) : undefined);
  const dl = obj(v.deadLetter);
  return {
    parse: 'auto',
    sources: arr(v.sources),
    transforms: arr(v.transforms) ?? [],
    sinks: arr(v.sinks),
    mask: obj(v.mask) as TopLevel['mask'],
    deadLetter: dl && typeof dl.type === 'string' ? (dl as TopLevel['deadLetter']) : undefined,
  };
}
