/**
 * Scenario `kinesis-decode`: what per-record format detection costs the CloudWatch path. The same
 * Kinesis events (realistic CloudWatch subscription payloads) are decoded by `decodeKinesisEvent`
 * with `format: 'cloudwatch'` (the strict decoder: gunzip + JSON.parse + validate — the path before
 * detection existed) and with `format: 'auto'` (magic-byte detection, then the same work), in
 * alternating rounds in one process so background load falls on both; medians are reported, and
 * auto's throughput as a ratio of cloudwatch-only. A third phase decodes Fluent Bit-shaped NDJSON
 * records (gzip) for scale.
 *
 *   node --import tsx bench/kinesis-decode.ts      (BENCH_ROUNDS=7 BENCH_INVOCATIONS=100)
 *
 * Results go to stdout and bench/results/kinesis-decode.json.
 */
import { gzipSync } from 'node:zlib';
import type { KinesisEvent } from '../src/sources/kinesis-event.js';
import { decodeKinesisEvent } from '../src/sources/kinesis-event.js';
import { kinesisEvents, median, writeResults } from './lib/harness.js';

const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 7);
const input = kinesisEvents({
  seed: 11,
  invocations: Number(env.BENCH_INVOCATIONS ?? 100),
  records: 10,
  eventsPerRecord: 100,
});

function fluentBitEvents(like: KinesisEvent[]): KinesisEvent[] {
  let n = 0;
  return like.map((e) => ({
    Records: (e.Records ?? []).map((r) => {
      const lines = Array.from({ length: 100 }, () =>
        JSON.stringify({
          log: `GET /api/orders/${n++} 200 12ms`,
          stream: 'stdout',
          kubernetes: { pod_name: 'web-1', namespace_name: 'shop' },
        }),
      );
      return { ...r, kinesis: { ...r.kinesis, data: gzipSync(`${lines.join('\n')}\n`).toString('base64') } };
    }),
  }));
}
const fb = fluentBitEvents(input.events);

function time(evs: KinesisEvent[], format: 'auto' | 'cloudwatch'): { ms: number; records: number } {
  const t0 = process.hrtime.bigint();
  let records = 0;
  for (const e of evs) for (const env of decodeKinesisEvent(e, { format })) records += env.records.length;
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, records };
}

const phases = { cloudwatch: [] as number[], auto: [] as number[], fluentBit: [] as number[] };
let events = 0;
time(input.events, 'auto'); // warm-up
for (let i = 0; i < ROUNDS; i++) {
  const a = i % 2 === 0 ? (['cloudwatch', 'auto'] as const) : (['auto', 'cloudwatch'] as const);
  for (const f of a) {
    const r = time(input.events, f);
    phases[f].push(r.ms);
    events = r.records;
  }
  phases.fluentBit.push(time(fb, 'auto').ms);
}
const rate = (ms: number) => Math.round((events / ms) * 1000);
const out = {
  events,
  rounds: ROUNDS,
  cloudwatchOnly: { medianMs: median(phases.cloudwatch), eventsPerSecond: rate(median(phases.cloudwatch)) },
  auto: { medianMs: median(phases.auto), eventsPerSecond: rate(median(phases.auto)) },
  fluentBitNdjsonAuto: {
    medianMs: median(phases.fluentBit),
    eventsPerSecond: rate(median(phases.fluentBit)),
  },
  autoVsCloudwatchOnly: Number((median(phases.cloudwatch) / median(phases.auto)).toFixed(3)),
};
console.log(
  `cloudwatch-only ${out.cloudwatchOnly.eventsPerSecond} ev/s, auto ${out.auto.eventsPerSecond} ev/s → auto = ${out.autoVsCloudwatchOnly} × cloudwatch-only; Fluent Bit NDJSON (gzip) ${out.fluentBitNdjsonAuto.eventsPerSecond} ev/s`,
);
writeResults('kinesis-decode', out);
