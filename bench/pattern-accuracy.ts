/**
 * Scenario `pattern-accuracy`: logferry's `pattern` clustering (src/query/pattern/) against Drain3
 * (PyPI `drain3==0.9.11`, default TemplateMiner: no masking, no per-dataset preprocessing) in the
 * same run.
 *
 * Quality: grouping accuracy (GA; Zhu et al., "Tools and Benchmarks for Automated Log Parsing",
 * ICSE-SEIP 2019): the share of events whose predicted group holds exactly the events of their
 * ground-truth template. Data:
 *   - Loghub-2k (He, Zhu et al., "Loghub: A Large Collection of System Log Datasets", ISSRE 2023;
 *     https://github.com/logpai/loghub): the 16 `*_2k.log_structured.csv` files, column `Content`
 *     parsed, column `EventId` as truth. Not in this repository: point LOGHUB_DIR at a folder with
 *     the CSV files, or LOGHUB_GIT at a git directory of logpai/loghub (read with `git show`).
 *   - our own fixtures (src/sources/log-generator.ts: EKS control plane, Lambda, ECS, generic); truth
 *     is the template id the generator reports for each line (`onTemplate`; what one template is, is
 *     written at `TEMPLATE_RULE` there: constant text same, variables differ, as Loghub labels).
 *     A confusion summary says which truth templates a tool merges or splits.
 * Speed: events per CPU second, best of the passes per tool (Loghub-2k cycled: BENCH_EVENTS, default
 * 500,000, BENCH_PASSES, default 3; fixtures: BENCH_FIXTURE_EVENTS, default 200,000,
 * BENCH_FIXTURE_PASSES, default 1, since Drain3's time grows with the square of the fixture count), timing only the mining (Drain3 inside Python, ours inside Node: no I/O
 * either side; CPU time because the machine is shared), on two inputs: fixture events of all kinds,
 * and the 32,000 Loghub-2k lines cycled. Both tools get the messages decoded from the same JSON lines.
 * Ours is timed through `clusters()` (the final patterns), Drain3 through its last `add_log_message`.
 *
 *   node --import tsx bench/pattern-accuracy.ts        (DRAIN3_PYTHON=path/to/python)
 *
 * The Drain3 venv: python3 -m venv ~/.cache/logferry-bench/venv &&
 *   ~/.cache/logferry-bench/venv/bin/pip install drain3==0.9.11
 * Results go to stdout and bench/results/pattern-accuracy.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatternClusterer } from '../src/query/pattern/cluster.js';
import { LogGenerator } from '../src/sources/log-generator.js';
import { ALL_KINDS, rng } from './data.js';
import { writeResults } from './lib/harness.js';

const env = process.env;
const EVENTS = Number(env.BENCH_EVENTS ?? 500_000);
const SEED = Number(env.BENCH_SEED ?? 42);
const PASSES = Number(env.BENCH_PASSES ?? 3);
// Drain3 is quadratic on our fixtures (see `clustersByKind`): 200,000 events in one pass take it
// about 1.5 CPU minutes here, 3 × 500,000 took more than 25.
const FIXTURE_EVENTS = Number(env.BENCH_FIXTURE_EVENTS ?? 200_000);
const FIXTURE_PASSES = Number(env.BENCH_FIXTURE_PASSES ?? 1);
const PYTHON = env.DRAIN3_PYTHON ?? join(homedir(), '.cache/logferry-bench/venv/bin/python');
const LOGHUB_GIT = env.LOGHUB_GIT ?? '/work/.mirror/logpai+loghub/repo';
const LOGHUB_DIR = env.LOGHUB_DIR;
const DRIVER = new URL('./pattern-drain3.py', import.meta.url).pathname;

export const LOGHUB_SETS = [
  'Android',
  'Apache',
  'BGL',
  'HDFS',
  'HPC',
  'Hadoop',
  'HealthApp',
  'Linux',
  'Mac',
  'OpenSSH',
  'OpenStack',
  'Proxifier',
  'Spark',
  'Thunderbird',
  'Windows',
  'Zookeeper',
];

/** RFC 4180 CSV (quoted fields with doubled quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          f += '"';
          i++;
        } else q = false;
      } else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(f);
      f = '';
    } else if (c === '\n') {
      row.push(f);
      rows.push(row);
      row = [];
      f = '';
    } else if (c !== '\r') f += c;
  }
  if (f || row.length) {
    row.push(f);
    rows.push(row);
  }
  return rows;
}

/** Grouping accuracy: events whose predicted group equals their truth group, over all events. */
export function groupingAccuracy(truth: readonly string[], pred: readonly string[]): number {
  const truthSize = new Map<string, number>();
  for (const t of truth) truthSize.set(t, (truthSize.get(t) ?? 0) + 1);
  const groups = new Map<string, number[]>();
  pred.forEach((p, i) => {
    let g = groups.get(p);
    if (!g) {
      g = [];
      groups.set(p, g);
    }
    g.push(i);
  });
  let ok = 0;
  for (const idx of groups.values()) {
    const t = truth[idx[0]];
    if (idx.every((i) => truth[i] === t) && truthSize.get(t) === idx.length) ok += idx.length;
  }
  return truth.length === 0 ? 1 : ok / truth.length;
}

function loghubCsv(set: string): string | undefined {
  const file = `${set}_2k.log_structured.csv`;
  if (LOGHUB_DIR) {
    const p = join(LOGHUB_DIR, file);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  }
  if (!existsSync(LOGHUB_GIT)) return undefined;
  const r = spawnSync('git', ['--git-dir', LOGHUB_GIT, 'show', `HEAD:${set}/${file}`], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return r.status === 0 ? r.stdout : undefined;
}

interface Labelled {
  messages: string[];
  truth: string[];
}

function loghub(set: string): Labelled | undefined {
  const text = loghubCsv(set);
  if (!text) return undefined;
  const rows = parseCsv(text);
  const head = rows[0];
  const ci = head.indexOf('Content');
  const ei = head.indexOf('EventId');
  const data = rows.slice(1).filter((r) => r.length === head.length);
  return { messages: data.map((r) => r[ci]), truth: data.map((r) => r[ei]) };
}

/**
 * Fixture events of every kind, in blocks, with their ground-truth template: the id the generator
 * reports for the template branch that made each line (`onTemplate`; the rule of what one template
 * is, is at `TEMPLATE_RULE` in src/sources/log-generator.ts). Same generator settings as bench/data.ts.
 */
export function fixtures(n: number, seed: number): Labelled {
  const truth: string[] = [];
  const gen = new LogGenerator({
    rnd: rng(seed),
    cluster: 'prod',
    leaks: false,
    onTemplate: (t) => truth.push(t),
  });
  const per = Math.ceil(n / ALL_KINDS.length);
  const messages: string[] = [];
  for (const kind of ALL_KINDS) for (const e of gen.events(kind, per)) messages.push(e.message);
  messages.length = Math.min(n, messages.length);
  truth.length = messages.length;
  return { messages, truth };
}

/**
 * Where a clustering disagrees with the truth: truth templates split over several predicted groups,
 * and predicted groups that merge several truth templates (largest first).
 */
export function confusion(
  truth: readonly string[],
  pred: readonly string[],
  top = 8,
): {
  split: { template: string; groups: number; events: number }[];
  merged: { templates: string[]; events: number }[];
} {
  const byTruth = new Map<string, Map<string, number>>();
  const byPred = new Map<string, Map<string, number>>();
  const bump = (m: Map<string, Map<string, number>>, a: string, b: string) => {
    let inner = m.get(a);
    if (!inner) {
      inner = new Map();
      m.set(a, inner);
    }
    inner.set(b, (inner.get(b) ?? 0) + 1);
  };
  truth.forEach((t, i) => {
    bump(byTruth, t, pred[i]);
    bump(byPred, pred[i], t);
  });
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const split = [...byTruth]
    .filter(([, g]) => g.size > 1)
    .map(([template, g]) => ({ template, groups: g.size, events: total(g) }))
    .sort((a, b) => b.events - a.events)
    .slice(0, top);
  const merged = [...byPred.values()]
    .filter((g) => g.size > 1)
    .map((g) => ({ templates: [...g.keys()].sort(), events: total(g) }))
    .sort((a, b) => b.events - a.events)
    .slice(0, top);
  return { split, merged };
}

/** Distinct predicted groups per truth kind (the part of a template id before the first `:`). */
function clustersByKind(truth: readonly string[], pred: readonly string[]): Record<string, number> {
  const sets = new Map<string, Set<string>>();
  truth.forEach((t, i) => {
    const k = t.slice(0, t.indexOf(':'));
    let s = sets.get(k);
    if (!s) {
      s = new Set();
      sets.set(k, s);
    }
    s.add(pred[i]);
  });
  return Object.fromEntries([...sets].map(([k, s]) => [k, s.size]));
}

interface Run {
  pred: string[];
  seconds: number;
  clusters: number;
}

/** CPU seconds of the best of `passes` passes, each with a fresh clusterer (the machine is shared). */
function runOurs(messages: readonly string[], passes = 1): Run {
  let best = Number.POSITIVE_INFINITY;
  let c = new PatternClusterer();
  let n = 0;
  for (let p = 0; p < passes; p++) {
    c = new PatternClusterer();
    const t0 = process.cpuUsage();
    for (const m of messages) c.add(m);
    n = c.clusters().length;
    const u = process.cpuUsage(t0);
    best = Math.min(best, (u.user + u.system) / 1e6);
  }
  const pred = messages.map((m) => c.patternOf(m) ?? '');
  return { pred, seconds: best, clusters: n };
}

/**
 * The messages as a log reader hands them over: decoded from JSON lines, as Drain3's driver decodes
 * the same lines (`json.loads`). The generator's template-literal strings are V8 rope (cons)
 * strings, which no reader produces and which cost an extra indirection per character read.
 */
function decoded(messages: readonly string[]): string[] {
  return messages.map((m) => JSON.parse(JSON.stringify(m)) as string);
}

function runDrain3(messages: readonly string[], dir: string, passes = 1): Run {
  const input = join(dir, 'in.jsonl');
  const output = join(dir, 'out.txt');
  writeFileSync(input, messages.map((m) => JSON.stringify(m)).join('\n'));
  const r = spawnSync(PYTHON, [DRIVER, input, output, String(passes)], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`Drain3 driver failed (${PYTHON}):\n${r.stderr}`);
  const stats = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as {
    seconds: number;
    clusters: number;
  };
  const pred = readFileSync(output, 'utf8').split('\n');
  return { pred, seconds: stats.seconds, clusters: stats.clusters };
}

function main(): void {
  if (!existsSync(PYTHON)) {
    console.error(`no Python with Drain3 at ${PYTHON}; see the header of bench/pattern-accuracy.ts`);
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'logferry-pattern-'));
  try {
    const sets: Record<string, { events: number; truthTemplates: number; ours: number; drain3: number }> = {};
    let sumOurs = 0;
    let sumDrain = 0;
    let counted = 0;
    const loghubLines: string[] = [];
    for (const set of LOGHUB_SETS) {
      const d = loghub(set);
      if (!d) {
        console.error(`${set}: Loghub file not found (set LOGHUB_DIR or LOGHUB_GIT)`);
        continue;
      }
      for (const m of d.messages) loghubLines.push(m);
      const ours = groupingAccuracy(d.truth, runOurs(d.messages).pred);
      const drain = groupingAccuracy(d.truth, runDrain3(d.messages, dir).pred);
      sets[set] = {
        events: d.messages.length,
        truthTemplates: new Set(d.truth).size,
        ours: Number(ours.toFixed(4)),
        drain3: Number(drain.toFixed(4)),
      };
      sumOurs += ours;
      sumDrain += drain;
      counted++;
      console.log(`${set.padEnd(12)} GA ours ${ours.toFixed(3)}  Drain3 ${drain.toFixed(3)}`);
    }
    const fx = fixtures(20_000, SEED);
    const fxOursPred = runOurs(fx.messages).pred;
    const fxDrainPred = runDrain3(fx.messages, dir).pred;
    const fxOurs = groupingAccuracy(fx.truth, fxOursPred);
    const fxDrain = groupingAccuracy(fx.truth, fxDrainPred);
    const fxConfusion = { ours: confusion(fx.truth, fxOursPred), drain3: confusion(fx.truth, fxDrainPred) };
    console.log(
      `fixtures     GA ours ${fxOurs.toFixed(3)}  Drain3 ${fxDrain.toFixed(3)}  (${new Set(fx.truth).size} truth templates)`,
    );
    for (const [tool, c] of Object.entries(fxConfusion)) {
      for (const s of c.split)
        console.error(`  ${tool} splits ${s.template} (${s.events} events) into ${s.groups} groups`);
      for (const m of c.merged)
        console.error(`  ${tool} merges ${m.templates.join(' + ')} (${m.events} events)`);
    }

    // Throughput on two inputs of EVENTS events each: our fixtures, and the Loghub-2k lines cycled
    // (the mix Drain3's usual speed figures come from).
    const throughput: Record<string, unknown> = {};
    const bigFx = fixtures(FIXTURE_EVENTS, SEED + 1);
    const inputs: [string, string[], number, string[] | undefined][] = [
      ['fixtures', decoded(bigFx.messages), FIXTURE_PASSES, bigFx.truth],
    ];
    if (loghubLines.length > 0)
      inputs.push([
        'loghub-cycled',
        decoded(Array.from({ length: EVENTS }, (_, i) => loghubLines[i % loghubLines.length])),
        PASSES,
        undefined,
      ]);
    for (const [name, big, passes, truth] of inputs) {
      const ours = runOurs(big, passes);
      const drain = runDrain3(big, dir, passes);
      const oursRate = big.length / ours.seconds;
      const drainRate = big.length / drain.seconds;
      console.log(
        `throughput ${name.padEnd(14)} ours ${Math.round(oursRate)}/s (${ours.clusters} patterns)  Drain3 ${Math.round(drainRate)}/s (${drain.clusters} clusters)  ratio ${(oursRate / drainRate).toFixed(2)}x`,
      );
      throughput[name] = {
        events: big.length,
        passes,
        clock: 'CPU time, best pass',
        oursEventsPerSec: Math.round(oursRate),
        drain3EventsPerSec: Math.round(drainRate),
        ratio: Number((oursRate / drainRate).toFixed(2)),
        oursPatterns: ours.clusters,
        drain3Clusters: drain.clusters,
        ...(truth
          ? {
              truthTemplates: new Set(truth).size,
              oursGroupsByKind: clustersByKind(truth, ours.pred),
              drain3ClustersByKind: clustersByKind(truth, drain.pred),
            }
          : {}),
      };
      if (truth)
        console.log(`  Drain3 clusters per kind: ${JSON.stringify(clustersByKind(truth, drain.pred))}`);
    }
    const doc = {
      scenario: 'pattern-accuracy',
      date: new Date().toISOString(),
      node: process.version,
      drain3: 'drain3==0.9.11, default TemplateMinerConfig (no masking)',
      metric: 'grouping accuracy (Zhu et al., 2019)',
      loghub: {
        source: 'https://github.com/logpai/loghub (*_2k.log_structured.csv, Content vs EventId)',
        sets,
        meanOurs: counted ? Number((sumOurs / counted).toFixed(4)) : null,
        meanDrain3: counted ? Number((sumDrain / counted).toFixed(4)) : null,
        setsCounted: counted,
      },
      fixtures: {
        events: fx.messages.length,
        ours: Number(fxOurs.toFixed(4)),
        drain3: Number(fxDrain.toFixed(4)),
        truth: 'generator template ids (onTemplate; rule at TEMPLATE_RULE in src/sources/log-generator.ts)',
        truthTemplates: new Set(fx.truth).size,
        confusion: fxConfusion,
      },
      throughput,
    };
    console.log(
      `mean GA over ${counted} Loghub sets: ours ${doc.loghub.meanOurs}  Drain3 ${doc.loghub.meanDrain3}`,
    );
    writeResults('pattern-accuracy', doc);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
