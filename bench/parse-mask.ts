/**
 * Parse + mask micro-benchmark: the default in-memory stages (auto parse by stream, then mask) over
 * a realistic mix of EKS control-plane, Lambda, ECS and generic records from the one data
 * generator (src/sources/log-generator.ts), with a few secrets planted (`secretsRate`), against
 * naive baselines in the same run:
 *   - naive-parse: `JSON.parse` every message in try/catch (exceptions on every non-JSON line);
 *   - naive-parse+mask: that, plus one `replace` per secret pattern over the message and every
 *     string field (what a straightforward implementation does);
 *   - mask-only with the pattern set before issue 8 (the cost of the patterns it added).
 * Reports records/s, MB/s (of message text) and peak RSS. Run: `npx tsx bench/parse-mask.ts [records]`.
 */
import { performance } from 'node:perf_hooks';
import { parseStage, type Transform } from '../src/core/pipeline.js';
import type { LogRecord } from '../src/core/record.js';
import { createAutoSelect } from '../src/parsers/auto.js';
import { createMaskTransform } from '../src/transforms/mask.js';
import { ALL_KINDS, LogGenerator, type LogKind as StreamKind } from '../src/sources/log-generator.js';

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = 5;

// Realistic mix: audit logs dominate EKS volume; Lambda and ECS app logs follow.
const WEIGHTS: Record<StreamKind, number> = {
  'kube-apiserver-audit': 35,
  'kube-apiserver': 8,
  authenticator: 5,
  'kube-controller-manager': 5,
  'cloud-controller-manager': 2,
  'kube-scheduler': 3,
  lambda: 20,
  ecs: 15,
  generic: 7,
};

interface Proto {
  message: string;
  meta: LogRecord['meta'];
  timestamp: number;
}

function corpus(): Proto[] {
  // The one generator, planting a credential in 2 % of the text lines (never inside JSON).
  const g = new LogGenerator({ seed: 42, cluster: 'prod', leaks: false, secretsRate: 0.02 });
  const out: Proto[] = [];
  const total = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
  for (const kind of ALL_KINDS) {
    const n = Math.round((N * WEIGHTS[kind]) / total);
    const stream = g.stream(kind);
    for (const e of g.events(kind, n)) {
      out.push({
        message: e.message,
        timestamp: e.timestamp,
        meta: {
          owner: stream.owner,
          logGroup: stream.logGroup,
          logStream: stream.logStream,
          id: e.id,
          source: 'bench',
          ackId: 'b',
        },
      });
    }
  }
  // Envelope-like runs of one stream, as they arrive.
  return out;
}

const fresh = (ps: Proto[]): LogRecord[] =>
  ps.map((p) => ({ timestamp: p.timestamp, message: p.message, fields: {}, meta: p.meta }));

// ---- baselines --------------------------------------------------------------------------------

const naiveParse: Transform = {
  type: 'naive-parse',
  apply(r) {
    try {
      const v = JSON.parse(r.message);
      if (v && typeof v === 'object') Object.assign(r.fields, v);
    } catch {
      // not JSON
    }
    return r;
  },
};

const NAIVE_PATTERNS: [RegExp, string][] = [
  [/(password|passwd|secret|token|api_?key|authorization)(["']?\s*[:=]\s*["']?)[^\s"'&]+/gi, '$1$2****'],
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, '****'],
  [/\bBearer\s+[A-Za-z0-9._~+/-]+=*/g, 'Bearer ****'],
  [/\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '****'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '****'],
  [/(:\/\/[^\s:/@]+:)[^\s/@]+@/g, '$1****@'],
];
const SENSITIVE = /password|passwd|secret|token|apikey|api_key|authorization|cookie/i;

function naiveMaskString(s: string): string {
  let out = s;
  for (const [re, rep] of NAIVE_PATTERNS) out = out.replace(re, rep);
  return out;
}
function naiveMaskObject(o: Record<string, unknown>): void {
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (SENSITIVE.test(k)) o[k] = '****';
    else if (typeof v === 'string') o[k] = naiveMaskString(v);
    else if (v && typeof v === 'object') naiveMaskObject(v as Record<string, unknown>);
  }
}
const naiveMask: Transform = {
  type: 'naive-mask',
  apply(r) {
    r.message = naiveMaskString(r.message);
    naiveMaskObject(r.fields);
    return r;
  },
};

// ---- run ----------------------------------------------------------------------------------------

/** Wall and CPU milliseconds of one pass (CPU time is the steadier figure on a shared machine). */
function runOnce(stages: Transform[], records: LogRecord[]): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const r of records) {
    let cur: LogRecord = r;
    for (const s of stages) cur = s.apply(cur) as LogRecord;
  }
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

interface Scenario {
  name: string;
  make: () => Transform[];
  times: number[];
  cpu: number[];
  sample: LogRecord[];
}

const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function report(sc: Scenario, total: number, bytes: number): void {
  const times = [...sc.times].sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  const leaked = sc.sample.filter((r) =>
    /hunter2hunter2|abcDEF123456ghiJKL789|AKIAIOSFODNN7EXAMPLE|s3cr3tpw/.test(r.message),
  ).length;
  const withFields = sc.sample.filter((r) => Object.keys(r.fields).length > 0).length;
  console.log(
    `${sc.name.padEnd(22)} ${((total / ms) * 1000).toFixed(0).padStart(9)} rec/s ${((bytes / 2 ** 20 / ms) * 1000).toFixed(1).padStart(7)} MB/s  median ${ms.toFixed(1).padStart(7)} ms (min ${times[0].toFixed(1)}, CPU ${med(sc.cpu).toFixed(1)})  parsed ${withFields}/${total}  secrets left ${leaked}`,
  );
}

const protos = corpus();
const bytes = protos.reduce((a, p) => a + Buffer.byteLength(p.message), 0);
console.log(
  `parse-mask: ${protos.length} records, ${(bytes / 2 ** 20).toFixed(1)} MB of messages, median of ${ROUNDS} rounds, node ${process.version}`,
);

const scenarios: Scenario[] = [
  { name: 'naive-parse', make: () => [naiveParse], times: [], cpu: [], sample: [] },
  {
    name: 'auto-parse',
    make: () => [parseStage({ select: createAutoSelect() })],
    times: [],
    cpu: [],
    sample: [],
  },
  { name: 'naive-parse+mask', make: () => [naiveParse, naiveMask], times: [], cpu: [], sample: [] },
  {
    name: 'auto-parse+mask',
    make: () => [parseStage({ select: createAutoSelect() }), createMaskTransform()],
    times: [],
    cpu: [],
    sample: [],
  },
  { name: 'mask-only (unparsed)', make: () => [createMaskTransform()], times: [], cpu: [], sample: [] },
  // The pattern set before issue 8 added GitHub/Slack/Stripe/Google keys, API-key headers and the
  // random-value rule: what those cost, measured in the same run.
  {
    name: 'mask-only, pre-#8 set',
    make: () => [
      createMaskTransform({
        type: 'mask',
        patterns: {
          github: false,
          slack: false,
          stripe: false,
          googleApiKey: false,
          apiKeyHeader: false,
          highEntropy: false,
        },
      }),
    ],
    times: [],
    cpu: [],
    sample: [],
  },
];
// Rounds interleave the scenarios so that load from other processes hits them alike.
for (let round = 0; round < ROUNDS; round++) {
  for (const sc of scenarios) {
    const records = fresh(protos);
    const t = runOnce(sc.make(), records);
    sc.times.push(t.wall);
    sc.cpu.push(t.cpu);
    sc.sample = round === ROUNDS - 1 ? records : [];
  }
}
for (const sc of scenarios) report(sc, protos.length, bytes);
// Ratios by median CPU time, in this run: how much faster than the naive baselines.
const cpuOf = (name: string) => med(scenarios.find((s) => s.name === name)!.cpu);
console.log(
  `CPU ratios: auto-parse = ${(cpuOf('naive-parse') / cpuOf('auto-parse')).toFixed(2)}x naive-parse, auto-parse+mask = ${(cpuOf('naive-parse+mask') / cpuOf('auto-parse+mask')).toFixed(2)}x naive-parse+mask`,
);
console.log(`peak rss ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
