/**
 * Shared by the listening sources' tests (http, forward, syslog): consume a source with chosen
 * acknowledgements, or run it through the real daemon runner into the real `http` sink (ndjson)
 * posting to a local NDJSON receiver, with a file dead-letter store. Test-only code.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNdjsonServer, type NdjsonServer } from './http-log-services.js';
import { runDaemon } from '../../src/core/daemon.js';
import { DELIVERED, type Outcome } from '../../src/core/outcome.js';
import type { RunResult } from '../../src/core/runner.js';
import type { Source, SourceEnvelope } from '../../src/core/source.js';
import { FileDeadLetterSink } from '../../src/sinks/file.js';
import { HttpSink, httpSinkConfig } from '../../src/sinks/http.js';

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Consumed {
  got: SourceEnvelope[];
  messages(): string[];
  /** Acknowledges envelope `i` (when `ack` left it pending). */
  settle(i: number, o?: Outcome): Promise<void>;
  stop(): Promise<void>;
}

/** Consumes a source; `ack` decides each envelope's outcome (undefined: leave it pending). */
export function consume(
  src: Source,
  ack: (env: SourceEnvelope, index: number) => Outcome | undefined = () => DELIVERED,
): Consumed {
  const ac = new AbortController();
  const got: SourceEnvelope[] = [];
  const done = (async () => {
    for await (const env of src.envelopes(ac.signal)) {
      got.push(env);
      const o = ack(env, got.length - 1);
      if (o) await src.ack(env, o);
    }
  })();
  done.catch(() => {});
  return {
    got,
    messages: () => got.flatMap((e) => e.records.map((r) => r.message)),
    settle: (i, o = DELIVERED) => src.ack(got[i], o),
    stop: async () => {
      ac.abort();
      await done.catch(() => {});
      await src.close?.();
    },
  };
}

export interface Pipeline {
  receiver: NdjsonServer;
  deadLetterPath: string;
  deadLetters(): Record<string, unknown>[];
  stop(): Promise<RunResult>;
}

/** Runs `src` through the daemon runner into an NDJSON receiver (real `http` sink). */
export async function pipeline(src: Source, opts: { maxAgeMs?: number } = {}): Promise<Pipeline> {
  const receiver = await startNdjsonServer();
  const dir = mkdtempSync(join(tmpdir(), 'logferry-net-'));
  const deadLetterPath = join(dir, 'dead.ndjson');
  const sink = new HttpSink(
    httpSinkConfig.parse({
      type: 'http',
      flavor: 'ndjson',
      url: receiver.url,
      maxAgeMs: opts.maxAgeMs ?? 50,
    }),
  );
  const ac = new AbortController();
  const run = runDaemon({
    sources: [src],
    transforms: [],
    sinks: [sink],
    deadLetter: new FileDeadLetterSink(deadLetterPath),
    signal: ac.signal,
    deliver: { retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 } },
  });
  return {
    receiver,
    deadLetterPath,
    deadLetters: () => {
      try {
        return readFileSync(deadLetterPath, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l));
      } catch {
        return [];
      }
    },
    stop: async () => {
      ac.abort();
      const r = await run;
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
      return r;
    },
  };
}
