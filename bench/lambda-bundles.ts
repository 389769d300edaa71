/**
 * Lambda bundles: bytes and cold-start time of each handler as built today (scripts/build.mjs: one
 * code-split directory per handler, `dist/lambda/<name>/index.mjs` + `chunks/`) against the former
 * self-contained build, in the same run on the same machine.
 *
 * Variants, each built by this bench into a temporary directory:
 *   - `split`      scripts/lambda-build.mjs's options on the current source (what ships);
 *   - `single`     the former options (one self-contained minified file, no splitting) on the current
 *                  source: isolates what splitting buys;
 *   - `baseline`   the former options on the source at LOGFERRY_BENCH_BASE_REF (default 4b51e2d,
 *                  the last commit before lazy registries): the build as it was.
 * Per handler: `bytes` (what a cold start reads: the entry and every chunk it imports statically,
 * i.e. evaluated before the handler exists) and `totalBytes` (the whole zip-ready directory without
 * source maps). Per configuration, fresh `node` processes (median of LOGFERRY_BENCH_RUNS, default
 * 7, variants interleaved): `importMs` (the `import()` of the handler module, what Lambda's init
 * does), `importCpuMs` (the CPU time of that import, user + system, less sensitive to a loaded
 * machine than wall time) and `firstAnswerMs` (import + the first invocation with an empty batch,
 * which loads the config and builds the sinks: the whole cold start before any record).
 * Configurations:
 *   - `default`: firehose with no config; kinesis, subscription and sqs with LOGFERRY_OPENSEARCH_URL
 *     (their documented minimal setup);
 *   - `opensearch+s3`: LOGFERRY_CONFIG (YAML) with an OpenSearch and an S3 sink and an SQS dead-letter
 *     queue (endpoints point at a closed local port: nothing is sent by an empty batch).
 * The extension (its own process, no handler) is measured by bytes and `import` only.
 * Writes bench/results/lambda-bundles.json. Run: `npx tsx bench/lambda-bundles.ts`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { controlMessage, encodeCloudWatchPayload } from '../src/aws/cloudwatch-payload.js';
import { median, writeResults } from './lib/harness.js';

const root = new URL('..', import.meta.url).pathname;
const RUNS = Number(process.env.LOGFERRY_BENCH_RUNS ?? 7);
const BASE_REF = process.env.LOGFERRY_BENCH_BASE_REF ?? '4b51e2d';
const HANDLERS = ['firehose', 'kinesis', 'subscription', 'sqs', 'extension'] as const;
type Handler = (typeof HANDLERS)[number];
/** Handlers that answer an event; the extension (a process of its own) is measured by its import only. */
const INVOKED = new Set<Handler>(['firehose', 'kinesis', 'subscription', 'sqs']);
const VARIANTS = ['baseline', 'single', 'split'] as const;
type Variant = (typeof VARIANTS)[number];

const { lambdaBuildOptions, requireBanner, staticClosure } = (await import(
  pathToFileURL(join(root, 'scripts', 'lambda-build.mjs')).href
)) as {
  lambdaBuildOptions: (root: string, name: string, outdir: string) => BuildOptions;
  requireBanner: { js: string };
  staticClosure: (entry: string) => string[];
};

/** The former settings: one self-contained file per handler. */
function singleFileOptions(srcRoot: string, name: string, outdir: string): BuildOptions {
  return {
    entryPoints: { index: join(srcRoot, 'src', 'lambda', `${name}.ts`) },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    banner: requireBanner,
    legalComments: 'none',
    logLevel: 'error',
  };
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (!e.name.endsWith('.map')) n += statSync(p).size;
  }
  return n;
}

const work = mkdtempSync(join(tmpdir(), 'logferry-bench-bundles-'));
try {
  // The source as it was, with this checkout's node_modules.
  const baseSrc = join(work, 'base-src');
  mkdirSync(baseSrc);
  execFileSync('sh', [
    '-c',
    `git -C "${root}" archive ${BASE_REF} src infra package.json | tar -x -C "${baseSrc}"`,
  ]);
  symlinkSync(join(root, 'node_modules'), join(baseSrc, 'node_modules'));
  const dirOf = (v: Variant, h: Handler) => join(work, v, h);
  await Promise.all(
    HANDLERS.flatMap((h) => [
      build(singleFileOptions(baseSrc, h, dirOf('baseline', h))),
      build(singleFileOptions(root, h, dirOf('single', h))),
      build({ ...lambdaBuildOptions(root, h, dirOf('split', h)), sourcemap: false, logLevel: 'error' }),
    ]),
  );

  const control = encodeCloudWatchPayload(controlMessage(1_700_000_000_000)).toString('base64');
  const emptyEvent: Partial<Record<Handler, unknown>> = {
    firehose: {
      invocationId: 'bench',
      deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/bench',
      region: 'us-east-1',
      records: [],
    },
    kinesis: { Records: [] },
    subscription: { awslogs: { data: control } },
    sqs: { Records: [] },
  };
  const closed = 'http://127.0.0.1:9';
  const configs: Record<string, (h: Handler) => Record<string, string>> = {
    default: (h): Record<string, string> => (h === 'firehose' ? {} : { LOGFERRY_OPENSEARCH_URL: closed }),
    'opensearch+s3': () => ({
      LOGFERRY_CONFIG: [
        'sinks:',
        '  - type: opensearch',
        `    url: ${closed}`,
        '  - type: s3',
        '    url: s3://bench-bucket/archive',
        `    endpoint: ${closed}`,
        'deadLetter:',
        '  type: sqs',
        '  queueUrl: https://sqs.us-east-1.amazonaws.com/123456789012/bench-dlq',
        '',
      ].join('\n'),
    }),
  };

  const child = `
const c0 = process.cpuUsage();
const t0 = performance.now();
const m = await import(process.argv[1]);
const t1 = performance.now();
const c1 = process.cpuUsage(c0);
let t2 = t1;
if (process.env.BENCH_EVENT) {
  await m.handler(JSON.parse(process.env.BENCH_EVENT), { getRemainingTimeInMillis: () => 60000 });
  t2 = performance.now();
}
process.stdout.write(JSON.stringify({ importMs: t1 - t0, importCpuMs: (c1.user + c1.system) / 1000, firstAnswerMs: t2 - t0 }));
`;
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    LOGFERRY_LOG_LEVEL: 'error',
  };
  const once = (v: Variant, h: Handler, env: Record<string, string>, event: boolean) => {
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', child, pathToFileURL(join(dirOf(v, h), 'index.mjs')).href],
      {
        encoding: 'utf8',
        env: { ...baseEnv, ...env, ...(event ? { BENCH_EVENT: JSON.stringify(emptyEvent[h]) } : {}) },
      },
    );
    if (r.status !== 0) throw new Error(`${v}/${h}: exit ${r.status}\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop() as string) as Sample;
  };

  type Sample = { importMs: number; importCpuMs: number; firstAnswerMs: number };
  const handlers: Record<string, unknown> = {};
  for (const h of HANDLERS) {
    const sizes = Object.fromEntries(
      VARIANTS.map((v) => {
        const files = staticClosure(join(dirOf(v, h), 'index.mjs'));
        return [
          v,
          {
            bytes: files.reduce((n, f) => n + statSync(f).size, 0),
            files: files.length,
            totalBytes: dirBytes(dirOf(v, h)),
          },
        ];
      }),
    );
    const times: Record<string, Record<Variant, Sample>> = {};
    // Module import alone (no config involved), then the first answer per configuration.
    for (const [label, env, event] of [
      ['import', {}, false] as const,
      ...(INVOKED.has(h) ? Object.entries(configs).map(([k, f]) => [k, f(h), true] as const) : []),
    ]) {
      const samples = Object.fromEntries(
        VARIANTS.map((v) => [v, { importMs: [], importCpuMs: [], firstAnswerMs: [] }]),
      ) as unknown as Record<Variant, Record<keyof Sample, number[]>>;
      for (let i = 0; i < RUNS; i++)
        for (const v of VARIANTS) {
          const r = once(v, h, env, event);
          samples[v].importMs.push(r.importMs);
          samples[v].importCpuMs.push(r.importCpuMs);
          samples[v].firstAnswerMs.push(r.firstAnswerMs);
        }
      times[label] = Object.fromEntries(
        VARIANTS.map((v) => [
          v,
          {
            importMs: Math.round(median(samples[v].importMs) * 10) / 10,
            importCpuMs: Math.round(median(samples[v].importCpuMs) * 10) / 10,
            firstAnswerMs: Math.round(median(samples[v].firstAnswerMs) * 10) / 10,
          },
        ]),
      ) as Record<Variant, Sample>;
    }
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const answered = INVOKED.has(h);
    const entry = {
      sizes,
      times,
      ratios: {
        bytesSplitVsBaseline: ratio(sizes.split.bytes, sizes.baseline.bytes),
        importSplitVsBaseline: ratio(times.import.split.importMs, times.import.baseline.importMs),
        importCpuSplitVsBaseline: ratio(times.import.split.importCpuMs, times.import.baseline.importCpuMs),
        ...(answered
          ? {
              firstAnswerDefaultSplitVsBaseline: ratio(
                times.default.split.firstAnswerMs,
                times.default.baseline.firstAnswerMs,
              ),
              firstAnswerFullSplitVsBaseline: ratio(
                times['opensearch+s3'].split.firstAnswerMs,
                times['opensearch+s3'].baseline.firstAnswerMs,
              ),
            }
          : {}),
      },
    };
    handlers[h] = entry;
    process.stderr.write(
      `${h}: bytes ${sizes.baseline.bytes} → ${sizes.split.bytes} (${entry.ratios.bytesSplitVsBaseline}×), ` +
        `import ${times.import.baseline.importMs} → ${times.import.split.importMs} ms ` +
        `(CPU ${times.import.baseline.importCpuMs} → ${times.import.split.importCpuMs} ms)` +
        (answered
          ? `, first answer (default) ${times.default.baseline.firstAnswerMs} → ${times.default.split.firstAnswerMs} ms, ` +
            `(opensearch+s3) ${times['opensearch+s3'].baseline.firstAnswerMs} → ${times['opensearch+s3'].split.firstAnswerMs} ms\n`
          : '\n'),
    );
  }
  const doc = {
    scenario: 'lambda-bundles',
    date: new Date().toISOString(),
    node: process.version,
    runs: RUNS,
    baseRef: BASE_REF,
    variants: {
      baseline: `former single-file build of ${BASE_REF}`,
      single: 'former single-file build of the current source',
      split: 'scripts/lambda-build.mjs (code-split directory) of the current source',
    },
    handlers,
  };
  writeResults('lambda-bundles', doc);
  if (!existsSync(join(root, 'bench', 'results', 'lambda-bundles.json')))
    throw new Error('results not written');
} finally {
  rmSync(work, { recursive: true, force: true });
}
