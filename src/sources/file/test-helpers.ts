/** Shared helpers for the file source tests: run a source in the background, wait for conditions. */
import { DELIVERED, type Outcome } from '../../core/outcome.js';
import type { SourceEnvelope } from '../../core/source.js';
import type * as z from 'zod';
import { FileSource, fileSourceConfig } from './file-source.js';

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function fileSource(
  cfg: Partial<z.input<typeof fileSourceConfig>> & { path: string | string[] },
  cwd?: string,
  /** The daemon's data directory (enables the acknowledgement and re-delivery journals). */
  dataDir?: string,
): FileSource {
  return new FileSource(
    fileSourceConfig.parse({
      type: 'file',
      pollIntervalMs: 20,
      refreshIntervalMs: 20,
      rotateWaitMs: 30,
      ...cfg,
    }),
    { cwd, dataDir },
  );
}

export interface Running {
  got: SourceEnvelope[];
  messages(): string[];
  /** Abort the source (like a crash when acks are withheld: nothing more is acknowledged). */
  stop(): Promise<void>;
  done: Promise<void>;
}

/** Consumes a source; `ack` decides each envelope's outcome (undefined: leave unacknowledged). */
export function run(
  src: FileSource,
  ack: (env: SourceEnvelope, index: number) => Outcome | undefined = () => DELIVERED,
): Running {
  const ac = new AbortController();
  const got: SourceEnvelope[] = [];
  const done = (async () => {
    for await (const env of src.envelopes(ac.signal)) {
      got.push(env);
      const o = ack(env, got.length - 1);
      if (o) await src.ack(env, o);
    }
  })();
  return {
    got,
    messages: () => got.flatMap((e) => e.records.map((r) => r.message)),
    stop: async () => {
      ac.abort();
      await done;
    },
    done,
  };
}
