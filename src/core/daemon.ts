/**
 * The daemon home (`logferry run`): long-running sources read concurrently through the one runner
 * (`runner.ts`), then sinks are closed. This file only adapts the daemon's options to the runner;
 * batching, bounds, settling, the dead-letter hand-off, acknowledgements and the tally live there.
 *
 * Shutdown on `signal`: stop reading, flush every batch, close sinks and sources; `abortDelivery` (a
 * second Ctrl-C, or the drain timeout) makes deliveries still retrying give up, their records
 * counted `failed` and not acknowledged.
 *
 * Buffers (a sink's `buffer`, buffer/config.ts): every sink holds at most its memory bound of
 * records/bytes before the sources are paused (backpressure); a `disk` buffer puts the sink behind
 * a write-ahead buffer in `<dataDir>/state/<sink>/buffer` (buffer/buffered-sink.ts), replayed on start.
 */
import type { Logger } from './component.js';
import type { DeadLetterSink } from './dead-letter.js';
import type { DeliverOptions } from './deliver.js';
import { describeError, LogferryError } from './errors.js';
import type { PlannedTransform } from './graph.js';
import type { Transform } from './pipeline.js';
import type { LogRecord } from './record.js';
import { createRunner, type RunProgress, type RunResult, type SinkNode } from './runner.js';
import type { Sink } from './sink.js';
import type { Source } from './source.js';
import { join, resolve } from 'node:path';
import { BufferedSink } from './buffer/buffered-sink.js';
import { type BufferConfig, DEFAULT_MEMORY_MAX_BYTES, DEFAULT_MEMORY_MAX_RECORDS } from './buffer/config.js';
import { stateDir } from './data-dir.js';

/** A sink of the daemon's graph, with its `buffer` setting. */
export interface DaemonSinkNode extends SinkNode {
  buffer?: BufferConfig;
}

export { CONTROL_GROUP, MALFORMED_GROUP, type SinkProgress } from './runner.js';

export interface DaemonOptions {
  sources: readonly Source[];
  /** Stages every record goes through before routing (list form: one chain). */
  transforms: readonly Transform[];
  /** Named transforms of the graph (with `inputs`/`match`); run after `transforms`. */
  graphTransforms?: readonly PlannedTransform[];
  /** Plain sinks (each takes every record) or named graph sinks. */
  // biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
  sinks: readonly (Sink<any> | DaemonSinkNode)[];
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
function isNode(s: Sink<any> | DaemonSinkNode): s is DaemonSinkNode {
  return (s as SinkNode).sink !== undefined && typeof (s as Sink).send !== 'function';
}

/** Puts each sink behind its buffer: memory bounds for every sink, a disk buffer where configured. */
async function bufferSinks(nodes: readonly DaemonSinkNode[], opts: DaemonOptions): Promise<SinkNode[]> {
  const out: SinkNode[] = [];
  try {
    for (const n of nodes) {
      const b = n.buffer;
      const node: SinkNode = {
        ...n,
        maxInFlightRecords: b?.type === 'memory' ? b.maxRecords : DEFAULT_MEMORY_MAX_RECORDS,
        maxInFlightBytes: b?.type === 'memory' ? b.maxBytes : DEFAULT_MEMORY_MAX_BYTES,
      };
      const dir =
        b?.type === 'disk' && b.path !== undefined
          ? resolve(b.path)
          : join(stateDir({ dataDir: opts.dataDir }, n.name), 'buffer');
      if (b?.type === 'disk')
        node.sink = await BufferedSink.open(n.sink, {
          dir,
          config: b,
          deadLetter: opts.deadLetter,
          deliver: opts.deliver,
          concurrency: opts.flushConcurrency,
          abort: opts.abortDelivery,
          log: opts.log,
        }).catch((e) => {
          throw new LogferryError(
            'CONFIG_INVALID',
            `sinks.${n.name}.buffer: cannot open the disk buffer in ${dir}: ${describeError(e)}`,
          );
        });
      out.push(node);
    }
  } catch (e) {
    for (const n of out) if (n.sink instanceof BufferedSink) await n.sink.close().catch(() => {});
    throw e;
  }
  return out;
}

export async function runDaemon(opts: DaemonOptions): Promise<DaemonResult> {
  const sinks = await bufferSinks(
    opts.sinks.map((s) => (isNode(s) ? s : { name: s.name, sink: s })),
    opts,
  );
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
