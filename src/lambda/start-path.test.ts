/**
 * What each built handler evaluates at start: dist/lambda/<name>/index.mjs and every chunk it
 * imports statically, read through their source maps. On the default path (no LOGFERRY_CONFIG)
 * the YAML reader, the Smithy HTTP handler and (firehose) the Firehose client are not needed, so
 * they must stay in chunks loaded on demand. bench/lambda-bundles.ts measures bytes and times.
 * dist/ is built once by test/global-setup.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const { staticClosure } = (await import(pathToFileURL(join(root, 'scripts', 'lambda-build.mjs')).href)) as {
  staticClosure: (entry: string) => string[];
};

/** The source files bundled into what `name` evaluates at start. */
function startSources(name: string): string[] {
  const out: string[] = [];
  for (const file of staticClosure(join(root, 'dist', 'lambda', name, 'index.mjs'))) {
    const map = `${file}.map`;
    if (!existsSync(map)) throw new Error(`${map} is missing: the Lambda build writes linked source maps`);
    out.push(...(JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }).sources);
  }
  return out;
}

const onDemand: Record<string, RegExp[]> = {
  firehose: [/node_modules\/yaml\//, /@smithy\/node-http-handler\//, /@aws-sdk\/client-firehose\//],
  kinesis: [/node_modules\/yaml\//, /@smithy\/node-http-handler\//],
  subscription: [/node_modules\/yaml\//, /@smithy\/node-http-handler\//],
  sqs: [/node_modules\/yaml\//],
};

describe('Lambda handler start path', () => {
  for (const [name, lazy] of Object.entries(onDemand)) {
    it(`${name} loads the config reader and unused clients on demand only`, () => {
      const sources = startSources(name);
      expect(sources.some((s) => s.endsWith(`src/lambda/${name}.ts`))).toBe(true);
      for (const re of lazy) expect(sources.filter((s) => re.test(s))).toEqual([]);
    });
  }
});
