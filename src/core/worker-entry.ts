/**
 * Where a worker_threads script is: the bundled `.mjs` (dist/cli/query-worker.mjs,
 * dist/lambda/firehose/firehose-worker.mjs) found relative to the module asking, or — running from
 * source (tests, tsx) — the `.ts` file loaded through tsx's loader inside the worker.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** How to start the worker: `new Worker(url)` or `new Worker(code, { eval: true })`. */
export type WorkerEntry = { url: URL } | { code: string };

/**
 * `here`: the asking module's `import.meta.url`; `source`: the script's `.ts` path relative to it;
 * `bundled`: candidate paths of the bundled script relative to it (first that exists wins; a
 * bundler may put the asking code in a chunk one directory down). Undefined when none exists.
 */
export function workerEntry(
  here: string,
  source: string,
  bundled: readonly string[],
): WorkerEntry | undefined {
  if (here.endsWith('.ts')) {
    const url = new URL(source, here);
    if (!existsSync(fileURLToPath(url))) return undefined;
    let api: string;
    try {
      api = pathToFileURL(
        createRequire(here)
          .resolve('tsx/esm/api')
          .replace(/\.cjs$/, '.mjs'),
      ).href;
    } catch {
      return undefined;
    }
    return {
      code: `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`,
    };
  }
  for (const b of bundled) {
    const url = new URL(b, here);
    if (existsSync(fileURLToPath(url))) return { url };
  }
  return undefined;
}
