/**
 * The daemon home (`logferry run`): long-running sources read concurrently through the one runner
 * (`runner.ts`), then sinks are closed. This file only adapts the daemon's options to the runner;
 * batching, bounds, settling, the dead-letter hand-off, acknowledgements and the tally live there.
 *
 * Shutdown on `signal`: stop reading, flush every batch, close sinks and sources; `abortDelivery` (a
 * second Ctrl-C) makes deliveries still retrying give up, their records counted `failed`.
 */
import type { Logger } from './component.js';
import type { DeadLetterSink } from './dead-letter.js';
import type { DeliverOptions } from './deliver.js';
import { describeError } from './errors.js';
import type { PlannedTransform } from './graph.js';
import type { Transform } from './pipeline.js';
import type { LogRecord } from './record.js';
import { createRunner, type RunProgress, type RunResult, type SinkNode } from './runner.js';
import type { Sink } from './sink.js';
import type { Source } from './source.js';

export { CONTROL_GROUP, MALFORMED_GROUP, type SinkProgress } from './runner.js';

export interface DaemonOptions {
  sources: readonly Source[];
  /** Stages every record goes through before routing (list form: one chain). */
  transforms: readonly Transform[];
  /** Named transforms of the graph (with `inputs`/`match`); run after `transforms`. */
  graphTransforms?: readonly PlannedTransform[];
  /** Plain sinks (each takes every record) or named graph sinks. */
  // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
  sinks: readonly (Sink<any> | SinkNode)[];
  /** Source names and tags of the graph (defaults: each source's name, no tag). */
  sourceTags?: Readonly<Record<string, string | undefined>>;
  deadLetter?: DeadLetterSink;
  signal?: AbortSignal;
  abortDelivery?: AbortSignal;
  maxInFlightEnvelopes?: number;
  maxInFlightRecords?: number;
  flushConcurrency?: number;
  deliver?: Omit<DeliverOptions, 'signal' | 'onSend' | 'deadline'>;
  componentOf?: (record: LogRecord) => string;
  onProgress?: (p: DaemonProgress) => void;
  progressIntervalMs?: number;
  log?: Logger;
  tap?: (component: string, record: LogRecord) => void;
  /** The data directory (absolute): disk buffers live in its state directory. */
  dataDir?: string;
}

export type DaemonProgress = RunProgress;
export type DaemonResult = RunResult;

// biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
function isNode(s: Sink<any> | SinkNode): s is SinkNode {
  return (s as SinkNode).sink !== undefined && typeof (s as Sink).send !== 'function';
}

export async function runDaemon(opts: DaemonOptions): Promise<DaemonResult> {
  const sinks: SinkNode[] = opts.sinks.map((s) => (isNode(s) ? s : { name: s.name, sink: s }));
  const runner = createRunner(
    {
      pre: opts.transforms,
      sources: opts.sources.map((s) => ({ name: s.name, tag: opts.sourceTags?.[s.name] })),
      transforms: opts.graphTransforms ?? [],
      sinks,
      deadLetter: opts.deadLetter,
    },
    {
      maxInFlightEnvelopes: opts.maxInFlightEnvelopes,
      maxInFlightRecords: opts.maxInFlightRecords,
      flushConcurrency: opts.flushConcurrency,
      deliver: opts.deliver,
      componentOf: opts.componentOf,
      log: opts.log,
      tap: opts.tap,
    },
  );
  try {
    return await runner.run(opts.sources, {
      signal: opts.signal,
      abortDelivery: opts.abortDelivery,
      onProgress: opts.onProgress,
      progressIntervalMs: opts.progressIntervalMs,
      beforeDone: async () => {
        await runner.close();
        for (const s of opts.sources)
          await s
            .close?.()
            .catch((e) => opts.log?.warn('source close failed', { source: s.name, error: describeError(e) }));
      },
    });
  } catch (e) {
    await runner.close();
    throw e;
  }
}
