/**
 * Worker thread of the Firehose transformation (src/lambda/firehose-workers.ts): builds the same
 * FirehoseTransformer as the handler from the validated config it is given, then answers slices of
 * invocations with `transformParts` (the one runner; no budget, no summary line: the main thread
 * merges). Bundled as dist/lambda/firehose/firehose-worker.mjs (scripts/lambda-build.mjs).
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { secretContext, sharedSecretResolver } from '../aws/secrets.js';
import type { Config } from '../config/schema.js';
import { jsonLogger } from '../core/logger.js';
import type { FirehoseTransformer } from '../sources/firehose.js';
import { buildFirehoseTransformer } from './firehose.js';
import type { SliceTask, WorkerReply } from './firehose-workers.js';

const port = parentPort!;
const reply = (m: WorkerReply, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

let transformer: FirehoseTransformer;
try {
  const env = process.env;
  const log = jsonLogger({ source: 'firehose', thread: threadId });
  ({ transformer } = await buildFirehoseTransformer((workerData as { config: Config }).config, {
    log,
    env,
    ...secretContext(sharedSecretResolver(env)),
  }));
  reply({ ready: true });
} catch (e) {
  reply({ ready: false, error: message(e) });
}

port.on('message', async (task: SliceTask) => {
  const end = Date.now() + task.remainingMs;
  try {
    const parts = await transformer.transformParts(task.event, { remainingMs: () => end - Date.now() });
    reply({ id: task.id, parts }, [
      parts.okCost.buffer as ArrayBuffer,
      parts.smallCost.buffer as ArrayBuffer,
      parts.generation.buffer as ArrayBuffer,
    ]);
  } catch (e) {
    reply({ id: task.id, error: message(e) });
  }
});
