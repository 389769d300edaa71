/**
 * The pipeline as a graph of named components, in the style Vector users know: `sources`,
 * `transforms` and `sinks` each have a name; a transform or sink lists the sources or transforms it
 * reads in `inputs`. A component with neither `inputs` nor `match` reads every source. `match`
 * selects sources by their `tag` with Fluent Bit's wildcard semantics (`*` matches any run of
 * characters, everything else literally, the whole tag), so configs imported from Fluent Bit keep
 * their routing. A record may reach several sinks (fan-out); a record no sink takes is dropped with
 * `NO_ROUTE` and counted.
 *
 * `checkGraph` lists every dangling name and cycle with its path; `planGraph` compiles, per
 * source, the steps its records go through in topological order (which transforms, which sinks,
 * where a record must be copied because two branches may change it). This file only knows names and
 * edges: the runner (`runner.ts`) executes the plan.
 */
import type { Transform } from './pipeline.js';

export interface SourceNode {
  name: string;
  /** Fluent Bit style tag, matched by `match` patterns. */
  tag?: string;
}

export interface EdgeNode {
  name: string;
  /** Names of sources or transforms this component reads. */
  inputs?: readonly string[];
  /** Tag pattern selecting sources (Fluent Bit wildcards). */
  match?: string;
}

export interface GraphShape {
  sources: readonly SourceNode[];
  transforms: readonly EdgeNode[];
  sinks: readonly EdgeNode[];
}

/**
 * A source tag with `*` declares the shape of the tags its records carry (a forward source routes
 * by each sender's tag): a pattern may match them when their literal prefixes agree.
 */
function mayMatch(pattern: string, tag: string | undefined): boolean {
  const star = tag?.indexOf('*') ?? -1;
  if (tag === undefined || star < 0) return false;
  const a = tag.slice(0, star);
  const p = pattern.indexOf('*');
  const b = p < 0 ? pattern : pattern.slice(0, p);
  return a.startsWith(b) || b.startsWith(a);
}

/** Fluent Bit `Match`: `*` is any run of characters (also none); the pattern covers the whole tag. */
export function tagMatches(pattern: string, tag: string | undefined): boolean {
  if (tag === undefined) return pattern === '*';
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === tag;
  if (!tag.startsWith(parts[0])) return false;
  let at = parts[0].length;
  for (let i = 1; i < parts.length - 1; i++) {
    const k = tag.indexOf(parts[i], at);
    if (k < 0) return false;
    at = k + parts[i].length;
  }
  const last = parts[parts.length - 1];
  return tag.length - at >= last.length && tag.endsWith(last);
}

/**
 * Every problem with the graph's wiring, each with its path (`sinks.search.inputs[1]`): duplicate
 * names, inputs naming nothing (or a sink), a `match` no source's tag satisfies, cycles (with the
 * names around the loop).
 */
export function checkGraph(g: GraphShape): string[] {
  const problems: string[] = [];
  const kindOf = new Map<string, 'source' | 'transform' | 'sink'>();
  const add = (kind: 'source' | 'transform' | 'sink', plural: string, name: string) => {
    const had = kindOf.get(name);
    if (had) problems.push(`${plural}.${name}: the name "${name}" is already used by a ${had}`);
    else kindOf.set(name, kind);
  };
  for (const s of g.sources) add('source', 'sources', s.name);
  for (const t of g.transforms) add('transform', 'transforms', t.name);
  for (const s of g.sinks) add('sink', 'sinks', s.name);

  const checkInputs = (plural: string, n: EdgeNode) => {
    n.inputs?.forEach((input, i) => {
      const kind = kindOf.get(input);
      if (!kind) {
        const names = [...g.sources.map((s) => s.name), ...g.transforms.map((t) => t.name)];
        problems.push(
          `${plural}.${n.name}.inputs[${i}]: "${input}" names no source or transform (known: ${names.join(', ') || 'none'})`,
        );
      } else if (kind === 'sink') {
        problems.push(
          `${plural}.${n.name}.inputs[${i}]: "${input}" is a sink; inputs name sources or transforms`,
        );
      } else if (input === n.name) {
        problems.push(`${plural}.${n.name}.inputs[${i}]: a component cannot read its own output`);
      }
    });
    if (
      n.match !== undefined &&
      !g.sources.some((s) => tagMatches(n.match as string, s.tag) || mayMatch(n.match as string, s.tag))
    )
      problems.push(
        `${plural}.${n.name}.match: "${n.match}" matches no source's tag (tags: ${
          g.sources
            .map((s) => s.tag)
            .filter(Boolean)
            .join(', ') || 'none'
        })`,
      );
  };
  for (const t of g.transforms) checkInputs('transforms', t);
  for (const s of g.sinks) checkInputs('sinks', s);

  // Cycles among transforms: depth-first search, reporting each loop once with its path.
  const byName = new Map(g.transforms.map((t) => [t.name, t]));
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (name: string) => {
    state.set(name, 1);
    stack.push(name);
    for (const input of byName.get(name)?.inputs ?? []) {
      if (!byName.has(input) || input === name) continue;
      const st = state.get(input);
      if (st === 1) {
        const loop = stack.slice(stack.indexOf(input));
        problems.push(`transforms.${input}.inputs: cycle ${[...loop, input].join(' → ')}`);
      } else if (st === undefined) visit(input);
    }
    stack.pop();
    state.set(name, 2);
  };
  for (const t of g.transforms) if (!state.has(t.name)) visit(t.name);
  return problems;
}

/** One transform step of a source's plan. */
export interface TransformStep {
  /** Index into the graph's transforms. */
  index: number;
  name: string;
  transform: Transform;
  /** Slots read (0 = the source's records, 1 + i = output of transform i). */
  inputs: number[];
  /** Per input: copy each record first (another branch reads the same records). */
  copy: boolean[];
  out: number;
}

export interface SinkStep {
  /** Index into the graph's sinks. */
  index: number;
  name: string;
  inputs: number[];
}

export interface SourcePlan {
  source: string;
  transforms: TransformStep[];
  sinks: SinkStep[];
  /** Slots count (1 + transforms). */
  slots: number;
  /** No transform and one sink reading the source directly: records need no bookkeeping per step. */
  direct: boolean;
}

export interface PlannedTransform extends EdgeNode {
  transform: Transform;
}

/**
 * Compiles, for every source, the steps its records take. Call `checkGraph` first: names here are
 * assumed to resolve and the transforms to form no cycle.
 */
export function planGraph(g: {
  sources: readonly SourceNode[];
  transforms: readonly PlannedTransform[];
  sinks: readonly EdgeNode[];
}): Map<string, SourcePlan> {
  const tIndex = new Map(g.transforms.map((t, i) => [t.name, i]));
  const plans = new Map<string, SourcePlan>();
  for (const src of g.sources) {
    const reads = (n: EdgeNode): number[] => {
      const slots: number[] = [];
      if (n.inputs === undefined && n.match === undefined) slots.push(0);
      if (n.match !== undefined && tagMatches(n.match, src.tag)) slots.push(0);
      for (const input of n.inputs ?? []) {
        if (input === src.name) slots.push(0);
        const ti = tIndex.get(input);
        if (ti !== undefined) slots.push(1 + ti);
      }
      return [...new Set(slots)];
    };
    // Which transforms see this source's records: those reachable from slot 0.
    const tReads = g.transforms.map(reads);
    const liveT = new Set<number>();
    for (let changed = true; changed; ) {
      changed = false;
      for (let i = 0; i < g.transforms.length; i++) {
        if (!liveT.has(i) && tReads[i].some((s) => s === 0 || liveT.has(s - 1))) {
          liveT.add(i);
          changed = true;
        }
      }
    }
    // Topological order (inputs first); checkGraph has refused cycles.
    const order: number[] = [];
    const seen = new Set<number>();
    const visit = (i: number) => {
      if (seen.has(i)) return;
      seen.add(i);
      for (const s of tReads[i]) if (s > 0 && liveT.has(s - 1)) visit(s - 1);
      order.push(i);
    };
    for (let i = 0; i < g.transforms.length; i++) if (liveT.has(i)) visit(i);
    const live = { has: (slot: number) => slot === 0 || liveT.has(slot - 1) };
    const sinks: SinkStep[] = [];
    g.sinks.forEach((s, index) => {
      const ins = reads(s).filter((x) => live.has(x));
      if (ins.length > 0) sinks.push({ index, name: s.name, inputs: ins });
    });
    // Consumers per slot decide copying: a record read by two branches is copied for each
    // transform that reads it, unless that transform is its only reader besides nothing else.
    const consumers = new Map<number, { transforms: number[]; sinks: number }>();
    const entry = (slot: number) => {
      let c = consumers.get(slot);
      if (!c) {
        c = { transforms: [], sinks: 0 };
        consumers.set(slot, c);
      }
      return c;
    };
    for (const i of order) for (const s of tReads[i].filter((x) => live.has(x))) entry(s).transforms.push(i);
    for (const s of sinks) for (const slot of s.inputs) entry(slot).sinks++;
    const transforms: TransformStep[] = order.map((i) => {
      const inputs = tReads[i].filter((x) => live.has(x));
      const copy = inputs.map((slot) => {
        const c = consumers.get(slot)!;
        const readers = c.transforms.length + c.sinks;
        if (readers <= 1) return false;
        // With no sink reading the slot, the first transform may keep the originals.
        return c.sinks > 0 || c.transforms[0] !== i;
      });
      return {
        index: i,
        name: g.transforms[i].name,
        transform: g.transforms[i].transform,
        inputs,
        copy,
        out: 1 + i,
      };
    });
    plans.set(src.name, {
      source: src.name,
      transforms,
      sinks,
      slots: 1 + g.transforms.length,
      direct: transforms.length === 0 && sinks.length === 1,
    });
  }
  return plans;
}

/** At most this many names per kind in the one-line description; the rest are counted. */
const DESCRIBE_NAMES = 10;

/** A one-line description of the graph for `logferry validate` and start-up logs (long lists cut short). */
export function describeGraph(g: GraphShape): string {
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  const names = (list: readonly { name: string }[]) =>
    list.length <= DESCRIBE_NAMES
      ? list.map((x) => x.name).join(', ')
      : `${list
          .slice(0, DESCRIBE_NAMES - 2)
          .map((x) => x.name)
          .join(', ')}, … ${list.length - (DESCRIBE_NAMES - 2)} more`;
  const edges =
    g.transforms.reduce((k, t) => k + (t.inputs?.length ?? 1), 0) +
    g.sinks.reduce((k, s) => k + (s.inputs?.length ?? 1), 0);
  return `${n(g.sources.length, 'source')} (${names(g.sources)}), ${n(g.transforms.length, 'transform')}${
    g.transforms.length ? ` (${names(g.transforms)})` : ''
  }, ${n(g.sinks.length, 'sink')} (${names(g.sinks)}), ${n(edges, 'edge')}`;
}
