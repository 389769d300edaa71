// esbuild options of one Lambda entry point, shared by scripts/build.mjs and bench/lambda-bundles.ts.
// src/lambda/<name>.ts → <outdir>/index.mjs (handler `index.handler`) + <outdir>/chunks/: code
// splitting puts what is reached only through `import()` (sinks and sources a config does not use,
// their SDK clients, the SSM / Secrets Manager clients) in chunks evaluated on demand.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// ESM bundles that still contain CommonJS dependencies need `require`.
export const requireBanner = {
  js: "import { createRequire as __lfCreateRequire } from 'node:module'; const require = __lfCreateRequire(import.meta.url);",
};

export function lambdaBuildOptions(root, name, outdir) {
  return {
    entryPoints: {
      index: join(root, 'src', 'lambda', `${name}.ts`),
      // The Firehose transformation runs big invocations on worker threads running this entry.
      ...(name === 'firehose'
        ? { 'firehose-worker': join(root, 'src', 'lambda', 'firehose-worker.ts') }
        : {}),
    },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    sourcemap: 'linked',
    banner: requireBanner,
    legalComments: 'none',
    logLevel: 'warning',
  };
}

/** The entry and every chunk it imports statically (what is evaluated before the handler exists). */
export function staticClosure(entry) {
  const seen = new Set();
  const stack = [entry];
  while (stack.length > 0) {
    const f = stack.pop();
    if (seen.has(f)) continue;
    seen.add(f);
    const text = readFileSync(f, 'utf8');
    // `import"./x.mjs"` / `from"./x.mjs"` are static; `import("./x.mjs")` is not matched.
    for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*["'](\.{1,2}\/[^"']+\.mjs)["']/g))
      stack.push(join(dirname(f), m[1]));
  }
  return [...seen];
}
