/**
 * Firehose worker threads A/B in one process: the `raw` transformation (masking on) on the main
 * thread, on 1 worker and on 2 workers, taking turns per invocation over 24 generated invocations
 * of two ~100 KB gzip payloads (as bench/firehose-transform.ts cuts them), one warm-up pass and two
 * timed ones. Prints process CPU and main-thread CPU per pass for each; on an idle 2-core host a
 * pass takes about max(main-thread CPU, process CPU / 2).
 *
 *   node --import tsx bench/firehose-workers-ab.ts
 */
import { validateConfig } from '../src/config/load.js';
import { NO_DEADLINE } from '../src/core/retry.js';
import { buildFirehoseTransforms } from '../src/lambda/firehose.js';
import { FirehoseTransformer, type FirehoseTransformationEvent } from '../src/sources/firehose.js';
import { FirehoseWorkerPool } from '../src/lambda/firehose-workers.js';
import { firehoseEvent, payloadOfSize, rng } from './data.js';
import { BusyMeter, silentLogger } from './lib/harness.js';
const r = rng(42);
const kinds = [
  'kube-apiserver-audit',
  'kube-apiserver-audit',
  'kube-apiserver',
  'lambda',
  'ecs',
  'generic',
] as const;
const evs: FirehoseTransformationEvent[] = [];
for (let i = 0; i < 24; i++)
  evs.push(
    firehoseEvent(
      [payloadOfSize(kinds[i % 6], 100_000, r).gzip, payloadOfSize(kinds[(i + 1) % 6], 100_000, r).gzip],
      {},
    ) as FirehoseTransformationEvent,
  );
const cfg = validateConfig({ firehose: { reingest: false } }, 'b');
const transforms = await buildFirehoseTransforms(cfg, { log: silentLogger });
const t = new FirehoseTransformer(cfg.firehose, { transforms, log: silentLogger });
const p1 = new FirehoseWorkerPool(t, { threads: 1, config: cfg, log: silentLogger });
const p2 = new FirehoseWorkerPool(t, { threads: 2, config: cfg, log: silentLogger });
await Promise.all([p1.start(), p2.start()]);
const hs = [t, p1, p2];
const names = ['main', '1 worker', '2 workers'];
let meters = hs.map(() => new BusyMeter());
for (let pass = 0; pass < 3; pass++) {
  if (pass === 1) meters = hs.map(() => new BusyMeter());
  for (let i = 0; i < evs.length; i++)
    for (let k = 0; k < 3; k++) {
      const v = (i + k) % 3;
      meters[v].start();
      JSON.stringify((await hs[v].transform(evs[i], NO_DEADLINE)).response);
      meters[v].stop();
    }
}
for (let k = 0; k < 3; k++)
  console.log(
    names[k].padEnd(10),
    'process cpu',
    (meters[k].cpuSeconds / 2).toFixed(3),
    's  main-thread cpu',
    (meters[k].mainCpuSeconds / 2).toFixed(3),
    's  projected idle 2-core',
    Math.max(meters[k].mainCpuSeconds / 2, meters[k].cpuSeconds / 4).toFixed(3),
    's',
  );
await Promise.all([p1.close(), p2.close()]);
