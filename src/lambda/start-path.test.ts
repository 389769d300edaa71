/**
 * What each built handler evaluates at start: dist/lambda/<name>/index.mjs (the extension:
 * dist/lambda/extension/logferry-extension/index.mjs) and every chunk it imports statically, read
 * through their source maps. Guards of issue #8 §3 (under 1 MB read at start): the bytes of that
 * closure stay under the budget for every handler; the YAML reader, the Smithy HTTP handler, SDK
 * clients a handler creates only on use (the S3 client of `sqs`, the Firehose client), zod's locales
 * and JSON-Schema converters, and daemon-only sources stay in chunks loaded on demand; and a bad
 * config is still refused by the built bundle with every problem listed. bench/lambda-bundles.ts
 * measures bytes and times against the former build. dist/ is built once by test/global-setup.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const { staticClosure } = (await import(pathToFileURL(join(root, 'scripts', 'lambda-build.mjs')).href)) as {
  staticClosure: (entry: string) => string[];
};

/** Bytes a handler may read at start (issue #8 §3: under 1 MB each). */
const START_BUDGET_BYTES = 1_000_000;

function entryOf(name: string): string {
  return name === 'extension'
    ? join(root, 'dist', 'lambda', 'extension', 'logferry-extension', 'index.mjs')
    : join(root, 'dist', 'lambda', name, 'index.mjs');
}

/** The source files bundled into what `name` evaluates at start. */
function startSources(name: string): string[] {
  const out: string[] = [];
  for (const file of staticClosure(entryOf(name))) {
    const map = `${file}.map`;
    if (!existsSync(map)) throw new Error(`${map} is missing: the Lambda build writes linked source maps`);
    out.push(...(JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }).sources);
  }
  return out;
}

/** Never needed before a handler's first record (whatever the config). */
const everywhere = [
  /node_modules\/yaml\//,
  /node_modules\/zod\/v4\/locales\/(?!en\.js)/,
  /node_modules\/zod\/v4\/classic\/from-json-schema\.js/,
  /node_modules\/@msgpack\//,
  /src\/sources\/(demo|stdin|http|syslog|log-generator)\.ts$/,
  /src\/sources\/forward\/forward-source\.ts$/,
];
const onDemand: Record<string, RegExp[]> = {
  firehose: [...everywhere, /@smithy\/node-http-handler\//, /@aws-sdk\/client-firehose\//],
  kinesis: [...everywhere, /@smithy\/node-http-handler\//],
  subscription: [...everywhere, /@smithy\/node-http-handler\//],
  sqs: [...everywhere, /@aws-sdk\/client-s3\//, /@smithy\/core\//],
  extension: [...everywhere, /@smithy\/node-http-handler\//],
};

describe('Lambda handler start path', () => {
  for (const [name, lazy] of Object.entries(onDemand)) {
    it(`${name} loads the config reader and unused clients on demand only`, () => {
      const sources = startSources(name);
      expect(sources.some((s) => s.endsWith(`src/lambda/${name}.ts`))).toBe(true);
      for (const re of lazy) expect(sources.filter((s) => re.test(s))).toEqual([]);
    });

    it(`${name} reads under ${START_BUDGET_BYTES} bytes at start`, () => {
      const bytes = staticClosure(entryOf(name)).reduce((n, f) => n + statSync(f).size, 0);
      expect(bytes).toBeLessThan(START_BUDGET_BYTES);
    });
  }

  it('the built sqs handler still refuses a bad config with every problem listed', () => {
    const child = `
const m = await import(process.argv[1]);
try {
  await m.handler({ Records: [] }, { getRemainingTimeInMillis: () => 60000 });
  process.stdout.write('accepted');
} catch (e) {
  process.stdout.write(String(e && e.message));
}`;
    const config = [
      'sinks:',
      '  - type: opensearch',
      '    url: 7',
      '  - type: s3',
      '    url: s3://bucket/prefix',
      '    compresion: gzip',
      'transforms:',
      '  - type: filter',
      '    condition: "status >>= 5"',
      '',
    ].join('\n');
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', child, pathToFileURL(entryOf('sqs')).href],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH ?? '',
          AWS_REGION: 'us-east-1',
          LOGFERRY_LOG_LEVEL: 'error',
          LOGFERRY_CONFIG: config,
        },
      },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).not.toBe('accepted');
    expect(r.stdout).toMatch(/sinks\[0\]\.url/);
    expect(r.stdout).toMatch(/compresion/);
    expect(r.stdout).toMatch(/transforms\[0\]/);
  });
});
