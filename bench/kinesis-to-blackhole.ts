/**
 * Scenario `kinesis-to-blackhole`: the CPU cost of logferry's Kinesis Lambda path without any
 * network — decode (base64 → gunzip → JSON) → parse `auto` → mask → OpenSearch `_bulk` encoding
 * (the real opensearch sink's `encode`) → a blackhole that counts and discards — run through
 * `processKinesisEvent` exactly as the handler does (outcomes, tally, answer). Baseline in the same
 * run: a naive decode-and-ship (decode, `JSON.parse`, `JSON.stringify` each event into bulk lines;
 * no parsing of messages, no masking, no accounting). Each run is a child process (clean peak RSS);
 * phases alternate (naive, logferry, …) so background load falls on both; the median run is
 * reported. A last process runs both taking turns per invocation ("paired"): its CPU-time ratio is
 * the steadier one on a loaded machine (the separate runs' wall time is not). Figures: events/s, MB/s of compressed input and of decoded JSON, bulk bytes out, peak
 * RSS, and logferry's throughput as a ratio of the baseline.
 *
 *   node --import tsx bench/kinesis-to-blackhole.ts        (or: node scripts/bench.mjs kinesis-to-blackhole)
 *   BENCH_INVOCATIONS=100 BENCH_RECORDS=10 BENCH_EVENTS=100 BENCH_RUNS=3 BENCH_SEED=11 BENCH_PAIRED_PASSES=2
 *
 * Results go to stdout and bench/results/kinesis-to-blackhole.json.
 */
import { cpus, loadavg } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { buildTransforms } from '../src/config/build-pipeline.js';
import { validateConfig } from '../src/config/load.js';
import type { LogRecord } from '../src/core/record.js';
import type { Sink } from '../src/core/sink.js';
import { BlackholeSink } from '../src/sinks/blackhole.js';
import { createOpenSearchSink, opensearchSinkConfig } from '../src/sinks/opensearch.js';
import type { KinesisEvent } from '../src/sources/kinesis-event.js';
import { processKinesisEvent } from '../src/sources/kinesis-handler.js';
import {
  BusyMeter,
  kinesisEvents,
  median,
  runTsxChild,
  silentLogger as silent,
  writeResults,
} from './lib/harness.js';

const env = process.env;
const INVOCATIONS = Number(env.BENCH_INVOCATIONS ?? 100);
const RECORDS = Number(env.BENCH_RECORDS ?? 10);
const EVENTS = Number(env.BENCH_EVENTS ?? 100);
const RUNS = Number(env.BENCH_RUNS ?? 3);
const SEED = Number(env.BENCH_SEED ?? 11);
const PAIRED_PASSES = Number(env.BENCH_PAIRED_PASSES ?? 2);

interface PhaseResult {
  phase: 'naive' | 'logferry';
  events: number;
  inBytes: number;
  decodedBytes: number;
  outBytes: number;
  wallMs: number;
  /** Busy time over the timed run: event-loop active, main-thread CPU, process CPU (ms). */
  activeMs: number;
  mainCpuMs: number;
  cpuMs: number;
  peakRssMb: number;
  rssAfterDataMb: number;
}

const makeEvents = () =>
  kinesisEvents({ seed: SEED, invocations: INVOCATIONS, records: RECORDS, eventsPerRecord: EVENTS });

/** The naive forwarder: decode, parse the payload JSON, emit bulk lines. Nothing else. */
function naive(evs: KinesisEvent[]): { events: number; outBytes: number } {
  let n = 0;
  let outBytes = 0;
  for (const e of evs) {
    let body = '';
    for (const rec of e.Records ?? []) {
      const msg = JSON.parse(gunzipSync(Buffer.from(rec.kinesis?.data ?? '', 'base64')).toString('utf8'));
      if (msg.messageType !== 'DATA_MESSAGE') continue;
      for (const ev of msg.logEvents) {
        const ts = new Date(ev.timestamp).toISOString();
        body += `${JSON.stringify({ create: { _index: `logs-${ts.slice(0, 10).replace(/-/g, '.')}`, _id: ev.id } })}\n`;
        body += `${JSON.stringify({ '@timestamp': ts, '@message': ev.message, '@logStream': msg.logStream, '@log': `${msg.owner}:${msg.logGroup}`, '@id': ev.id })}\n`;
        n++;
      }
    }
    outBytes += Buffer.byteLength(body);
  }
  return { events: n, outBytes };
}

/** Bulk-encodes with the real opensearch sink and discards like the blackhole sink. */
async function bulkBlackhole(): Promise<{ sink: Sink<string | null>; bytes: () => number }> {
  const os = await createOpenSearchSink(
    opensearchSinkConfig.parse({ type: 'opensearch', url: 'http://127.0.0.1:9' }),
  );
  const hole = new BlackholeSink({
    type: 'blackhole',
    encode: 'none',
    maxRecords: 5_000,
    maxBytes: 10 * 1024 * 1024,
    maxAgeMs: 1_000,
  });
  let bytes = 0;
  const sink: Sink<string | null> = {
    type: 'blackhole',
    name: 'bulk-blackhole',
    limits: os.limits,
    encode(r: LogRecord) {
      const enc = os.encode(r);
      if ('reject' in enc) return enc;
      bytes += enc.bytes;
      return enc;
    },
    send: (batch) => hole.send(batch),
  };
  return { sink, bytes: () => bytes };
}

async function child(phase: 'naive' | 'logferry'): Promise<PhaseResult> {
  const data = makeEvents();
  global.gc?.();
  const rssAfterDataMb = Math.round(process.memoryUsage().rss / 1048576);
  let count = 0;
  let outBytes = 0;
  let wallMs = 0;
  let busy = new BusyMeter();
  if (phase === 'naive') {
    const t0 = performance.now();
    busy = new BusyMeter();
    const r = naive(data.events);
    wallMs = performance.now() - t0;
    busy.stop();
    count = r.events;
    outBytes = r.outBytes;
  } else {
    const transforms = await buildTransforms(validateConfig({}), { log: silent });
    const { sink, bytes } = await bulkBlackhole();
    const t0 = performance.now();
    busy = new BusyMeter();
    for (const e of data.events) {
      const res = await processKinesisEvent(e, undefined, { transforms, sinks: [sink], log: silent });
      if (res.response.batchItemFailures.length > 0) throw new Error('a batch failed in the blackhole run');
      count += res.tally.total.delivered;
    }
    wallMs = performance.now() - t0;
    busy.stop();
    outBytes = bytes();
  }
  if (count !== data.total) throw new Error(`${phase}: ${count} events out of ${data.total}`);
  return {
    phase,
    events: count,
    inBytes: data.inBytes,
    decodedBytes: data.decodedBytes,
    outBytes,
    wallMs,
    activeMs: busy.activeSeconds * 1000,
    mainCpuMs: busy.mainCpuSeconds * 1000,
    cpuMs: busy.cpuSeconds * 1000,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    rssAfterDataMb,
  };
}

/**
 * Both phases in one process, taking turns invocation by invocation (order alternating), so load
 * on a shared machine hits them alike: CPU seconds each, over passes after a warm-up pass.
 */
interface PairedBusy {
  /** Process CPU seconds per pass. */
  naive: number;
  logferry: number;
  /** Event-loop active and main-thread CPU seconds per pass. */
  active: { naive: number; logferry: number };
  mainCpu: { naive: number; logferry: number };
}

async function paired(): Promise<PairedBusy> {
  const data = makeEvents();
  const transforms = await buildTransforms(validateConfig({}), { log: silent });
  const { sink } = await bulkBlackhole();
  let meters = { naive: new BusyMeter(), logferry: new BusyMeter() };
  for (let pass = 0; pass <= PAIRED_PASSES; pass++) {
    if (pass === 1) meters = { naive: new BusyMeter(), logferry: new BusyMeter() }; // pass 0 warms up
    for (let i = 0; i < data.events.length; i++) {
      for (const phase of i % 2 === 0 ? (['naive', 'logferry'] as const) : (['logferry', 'naive'] as const)) {
        meters[phase].start();
        if (phase === 'naive') naive([data.events[i]]);
        else await processKinesisEvent(data.events[i], undefined, { transforms, sinks: [sink], log: silent });
        meters[phase].stop();
      }
    }
  }
  const per = (f: (m: BusyMeter) => number) => ({
    naive: f(meters.naive) / PAIRED_PASSES,
    logferry: f(meters.logferry) / PAIRED_PASSES,
  });
  return {
    ...per((m) => m.cpuSeconds),
    active: per((m) => m.activeSeconds),
    mainCpu: per((m) => m.mainCpuSeconds),
  };
}

async function main() {
  if (process.argv.includes('--paired')) {
    process.stdout.write(`PAIRED ${JSON.stringify(await paired())}\n`);
    return;
  }
  const arg = process.argv.find((a) => a.startsWith('--phase='));
  if (arg) {
    const res = await child(arg.slice('--phase='.length) as 'naive' | 'logferry');
    process.stdout.write(`RESULT ${JSON.stringify(res)}\n`);
    return;
  }
  const runs: PhaseResult[] = [];
  for (let i = 0; i < RUNS; i++) {
    for (const phase of i % 2 === 0 ? (['naive', 'logferry'] as const) : (['logferry', 'naive'] as const)) {
      const stdout = runTsxChild(new URL(import.meta.url).pathname, [`--phase=${phase}`], {
        env: { ...env, LOGFERRY_LOG_LEVEL: 'error' },
        label: `${phase} run`,
      });
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) throw new Error(`${phase} run printed no RESULT line:\n${stdout}`);
      runs.push(JSON.parse(line.slice(7)));
    }
  }
  const pairedOut = runTsxChild(new URL(import.meta.url).pathname, ['--paired'], {
    env: { ...env, LOGFERRY_LOG_LEVEL: 'error' },
    label: 'paired run',
  });
  const pairedLine = pairedOut.split('\n').find((l) => l.startsWith('PAIRED '));
  if (!pairedLine) throw new Error(`paired run printed no PAIRED line:\n${pairedOut}`);
  const pairedCpu = JSON.parse(pairedLine.slice(7)) as PairedBusy;
  const summary = (phase: 'naive' | 'logferry') => {
    const mine = runs.filter((r) => r.phase === phase);
    const wallMs = median(mine.map((r) => r.wallMs));
    const r = mine[0];
    return {
      phase,
      events: r.events,
      wallMs: Math.round(wallMs),
      eventsPerSec: Math.round(r.events / (wallMs / 1000)),
      inMBPerSec: +(r.inBytes / 1048576 / (wallMs / 1000)).toFixed(1),
      decodedMBPerSec: +(r.decodedBytes / 1048576 / (wallMs / 1000)).toFixed(1),
      bulkOutMB: +(median(mine.map((x) => x.outBytes)) / 1048576).toFixed(1),
      activeMs: Math.round(median(mine.map((x) => x.activeMs))),
      mainCpuMs: Math.round(median(mine.map((x) => x.mainCpuMs))),
      cpuMs: Math.round(median(mine.map((x) => x.cpuMs))),
      /** Wall an idle 2-core host would take: max(main-thread busy, CPU / 2), by active time and by main CPU. */
      projectedIdle2CoreMsByActive: Math.round(median(mine.map((x) => Math.max(x.activeMs, x.cpuMs / 2)))),
      projectedIdle2CoreMsByMainCpu: Math.round(median(mine.map((x) => Math.max(x.mainCpuMs, x.cpuMs / 2)))),
      peakRssMb: Math.max(...mine.map((x) => x.peakRssMb)),
      rssAfterDataMb: Math.max(...mine.map((x) => x.rssAfterDataMb)),
      runsMs: mine.map((x) => Math.round(x.wallMs)),
    };
  };
  const naiveS = summary('naive');
  const lf = summary('logferry');
  const result = {
    scenario: 'kinesis-to-blackhole',
    at: new Date().toISOString(),
    cpus: cpus().length,
    loadAverage: loadavg().map((x) => +x.toFixed(1)),
    shape: {
      invocations: INVOCATIONS,
      recordsPerInvocation: RECORDS,
      eventsPerRecord: EVENTS,
      inputMB: +(runs[0].inBytes / 1048576).toFixed(1),
      decodedMB: +(runs[0].decodedBytes / 1048576).toFixed(1),
    },
    phases: [naiveS, lf],
    logferryThroughputVsNaive: +(lf.eventsPerSec / naiveS.eventsPerSec).toFixed(2),
    /** CPU seconds per pass with both taking turns per invocation in one process: the steadier ratio. */
    paired: {
      naiveCpuSeconds: +pairedCpu.naive.toFixed(3),
      logferryCpuSeconds: +pairedCpu.logferry.toFixed(3),
      logferryThroughputVsNaive: +(pairedCpu.naive / pairedCpu.logferry).toFixed(3),
      naiveMainThreadActiveSeconds: +pairedCpu.active.naive.toFixed(3),
      logferryMainThreadActiveSeconds: +pairedCpu.active.logferry.toFixed(3),
      naiveMainThreadCpuSeconds: +pairedCpu.mainCpu.naive.toFixed(3),
      logferryMainThreadCpuSeconds: +pairedCpu.mainCpu.logferry.toFixed(3),
      /** max(main-thread busy, CPU / 2) of naive over logferry's: the idle-2-core wall ratio. */
      projectedIdle2CoreVsNaiveByActive: +(
        Math.max(pairedCpu.active.naive, pairedCpu.naive / 2) /
        Math.max(pairedCpu.active.logferry, pairedCpu.logferry / 2)
      ).toFixed(3),
      projectedIdle2CoreVsNaiveByMainCpu: +(
        Math.max(pairedCpu.mainCpu.naive, pairedCpu.naive / 2) /
        Math.max(pairedCpu.mainCpu.logferry, pairedCpu.logferry / 2)
      ).toFixed(3),
    },
    /**
     * Separate runs, median: on an idle 2-core host the wall time is about max(main-thread busy,
     * CPU / 2). Event-loop active time includes waiting for a core (meaningful on a quiet host);
     * main-thread CPU (/proc) does not.
     */
    projectedIdle2CoreVsNaiveByActive: +(
      naiveS.projectedIdle2CoreMsByActive / lf.projectedIdle2CoreMsByActive
    ).toFixed(3),
    projectedIdle2CoreVsNaiveByMainCpu: +(
      naiveS.projectedIdle2CoreMsByMainCpu / lf.projectedIdle2CoreMsByMainCpu
    ).toFixed(3),
  };
  for (const p of result.phases) {
    console.log(
      `${p.phase.padEnd(9)} ${String(p.eventsPerSec).padStart(8)} events/s  ${String(p.inMBPerSec).padStart(6)} MB/s gzip in  ${String(p.decodedMBPerSec).padStart(6)} MB/s decoded  ${p.bulkOutMB} MB bulk out  peak RSS ${p.peakRssMb} MB (data ${p.rssAfterDataMb} MB)  runs ${p.runsMs.join('/')} ms`,
    );
  }
  for (const p of result.phases)
    console.log(
      `${p.phase.padEnd(9)} main thread active ${p.activeMs} ms, main-thread CPU ${p.mainCpuMs} ms, process CPU ${p.cpuMs} ms → projected idle 2-core ${p.projectedIdle2CoreMsByActive} ms (by active) / ${p.projectedIdle2CoreMsByMainCpu} ms (by main CPU)`,
    );
  console.log(
    `projected idle-2-core throughput vs naive: ${result.projectedIdle2CoreVsNaiveByActive}× by active, ${result.projectedIdle2CoreVsNaiveByMainCpu}× by main CPU; paired: ${result.paired.projectedIdle2CoreVsNaiveByActive}× / ${result.paired.projectedIdle2CoreVsNaiveByMainCpu}×`,
  );
  console.log(
    `logferry throughput = ${result.logferryThroughputVsNaive} × naive (load average ${result.loadAverage.join(' ')}); paired in one process (CPU time): ${result.paired.logferryThroughputVsNaive} × naive`,
  );
  writeResults('kinesis-to-blackhole', result);
}

await main();
