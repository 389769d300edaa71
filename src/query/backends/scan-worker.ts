/**
 * Scan worker (worker_threads): compiles the query once, then scans one object per task — a local
 * file it reads itself, or bytes the main thread fetched (S3) and transferred — running the row
 * stage per line and posting matched rows back in chunks. At most `MAX_UNACKED` chunks are in flight
 * per worker: the main thread acks a chunk when the query's stateful stage has taken it, so memory
 * stays bounded when the merge is slower than the scan. Bundled as dist/cli/query-worker.mjs.
 */
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { compileQuery } from '../index.js';
import type { Row } from '../types.js';
import type { ObjectInfo } from './partition-path.js';
import type { LineRequirement } from './prune.js';
import { type ObjectScanStats, scanObject } from './scan-object.js';
import type { TimeRange } from './time-range.js';

export interface WorkerInit {
  queryText: string;
  now: number;
  range: TimeRange;
  requirement: LineRequirement;
  keep?: string[];
  maxLineBytes?: number;
  pointers?: boolean;
}

export type WorkerTask = {
  type: 'task';
  id: number;
  info: ObjectInfo;
  size?: number;
  path?: string;
  bytes?: Uint8Array;
};

export type WorkerMessage =
  | { type: 'rows'; id: number; rows: Row[] }
  | {
      type: 'done';
      id: number;
      stats: ObjectScanStats;
      histogram: [number, number][];
    }
  | { type: 'failed'; id: number; message: string };

const MAX_UNACKED = 4;
const port = parentPort;
if (port) {
  const init = workerData as WorkerInit;
  const compiled = compileQuery(init.queryText, {
    now: init.now,
    start: init.range.startMs,
    end: init.range.endMs,
  });
  const keep = init.keep ? { names: new Set(init.keep) } : undefined;
  let unacked = 0;
  const waiters: (() => void)[] = [];
  port.on('message', (msg: WorkerTask | { type: 'ack' }) => {
    if (msg.type === 'ack') {
      unacked--;
      waiters.shift()?.();
      return;
    }
    void run(msg);
  });

  const run = async (task: WorkerTask) => {
    const histogram = new Map<number, number>();
    try {
      const source: AsyncIterable<Buffer | Uint8Array> = task.path
        ? createReadStream(task.path, { highWaterMark: 1 << 20 })
        : (async function* () {
            if (task.bytes) yield task.bytes;
          })();
      const stats = await scanObject(source, {
        info: task.info,
        range: init.range,
        requirement: init.requirement,
        rowStage: (r) => compiled.rowStage(r),
        keep,
        histogram,
        maxLineBytes: init.maxLineBytes,
        sizeBytes: task.size,
        pointers: init.pointers,
        emit: async (rows) => {
          port.postMessage({ type: 'rows', id: task.id, rows } satisfies WorkerMessage);
          unacked++;
          if (unacked >= MAX_UNACKED) await new Promise<void>((r) => waiters.push(r));
        },
      });
      port.postMessage({
        type: 'done',
        id: task.id,
        stats,
        histogram: [...histogram],
      } satisfies WorkerMessage);
    } catch (e) {
      port.postMessage({
        type: 'failed',
        id: task.id,
        message: (e as Error)?.message ?? String(e),
      } satisfies WorkerMessage);
    }
  };
}
