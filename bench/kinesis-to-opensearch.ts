/**
 * Scenario `kinesis-to-opensearch`: logferry's Kinesis Lambda path (decode → parse `auto` → mask →
 * `_bulk` through the opensearch sink, i.e. `processKinesisEvent` with `buildTransforms` and the
 * real sink) against a **direct bulk load of the same documents** (pre-encoded NDJSON POSTed with
 * plain node:http keep-alive, the backend's own ceiling), into the same local OpenSearch node in the
 * same run. Both sides process the same invocations in alternating blocks (order flipped each block)
 * so load from elsewhere on the machine falls on both alike; indexes are created before the clock
 * starts; both results are checked (all envelopes delivered, document counts exact and equal). Reported per phase: records/s, MB/s (of
 * NDJSON sent), p50/p99 batch latency (one batch = one Kinesis invocation), peak RSS and client CPU;
 * and logferry's overhead ratio = logferry wall time / direct wall time − 1 (target ≤ 10 %).
 *
 *   node --import tsx bench/kinesis-to-opensearch.ts          (or: npm run bench -- kinesis-to-opensearch)
 *   BENCH_INVOCATIONS=60 BENCH_RECORDS=10 BENCH_EVENTS=100 BENCH_SHARDS=2 BENCH_SEED=7
 *   LOGFERRY_OPENSEARCH_URL=http://… uses a running node instead of starting one.
 *
 * Results go to stdout and bench/results/kinesis-to-opensearch.json.
 */
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { buildTransforms } from '../src/config/build-pipeline.js';
import { validateConfig } from '../src/config/load.js';
import type { LogRecord } from '../src/core/record.js';
import { runStages } from '../src/core/stages.js';
import { decodeKinesisEvent, type KinesisEvent } from '../src/sources/kinesis-event.js';
import { processKinesisEvent } from '../src/sources/kinesis-handler.js';
import { createOpenSearchSink, opensearchSinkConfig } from '../src/sinks/opensearch.js';
import { startOpenSearch } from '../test/infra/opensearch.js';
import { kinesisEvents, silentLogger as silent, writeResults } from './lib/harness.js';

const env = process.env;
const INVOCATIONS = Number(env.BENCH_INVOCATIONS ?? 60);
const RECORDS = Number(env.BENCH_RECORDS ?? 10); // Kinesis records per invocation
const EVENTS = Number(env.BENCH_EVENTS ?? 100); // log events per Kinesis record
const SHARDS = Number(env.BENCH_SHARDS ?? 2); // invocations in flight
const SEED = Number(env.BENCH_SEED ?? 7);

const makeEvents = (): KinesisEvent[] =>
  kinesisEvents({ seed: SEED, invocations: INVOCATIONS, records: RECORDS, eventsPerRecord: EVENTS }).events;

interface Side {
  name: 'direct' | 'logferry';
  records: number;
  bytes: number;
  wallMs: number;
  cpuUs: number;
  peakRss: number;
  lat: number[];
}

interface PhaseResult {
  phase: string;
  records: number;
  bytes: number;
  wallMs: number;
  recordsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  peakRssMb: number;
  cpuMs: number;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

function side(name: Side['name']): Side {
  return { name, records: 0, bytes: 0, wallMs: 0, cpuUs: 0, peakRss: 0, lat: [] };
}

function result(s: Side): PhaseResult {
  return {
    phase: s.name,
    records: s.records,
    bytes: s.bytes,
    wallMs: Math.round(s.wallMs),
    recordsPerSec: Math.round((s.records / s.wallMs) * 1000),
    mbPerSec: Number((s.bytes / 1e6 / (s.wallMs / 1000)).toFixed(2)),
    p50Ms: Math.round(quantile(s.lat, 0.5)),
    p99Ms: Math.round(quantile(s.lat, 0.99)),
    peakRssMb: Math.round(s.peakRss / 1024 / 1024),
    cpuMs: Math.round(s.cpuUs / 1000),
  };
}

let current: Side | undefined;
setInterval(() => {
  if (current) current.peakRss = Math.max(current.peakRss, process.memoryUsage.rss());
}, 10).unref();

/** Runs invocations `idx` with SHARDS in flight, adding wall time, CPU, latency and RSS to `acc`. */
async function block(
  acc: Side,
  idx: number[],
  one: (i: number) => Promise<{ records: number; bytes: number }>,
) {
  current = acc;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: SHARDS }, async () => {
      for (let k = next++; k < idx.length; k = next++) {
        const s = performance.now();
        const r = await one(idx[k]);
        acc.lat.push(performance.now() - s);
        acc.records += r.records;
        acc.bytes += r.bytes;
      }
    }),
  );
  acc.wallMs += performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  acc.cpuUs += cpu.user + cpu.system;
  acc.peakRss = Math.max(acc.peakRss, process.memoryUsage.rss());
  current = undefined;
}

async function main(): Promise<void> {
  console.log(
    `kinesis-to-opensearch: ${INVOCATIONS} invocations × ${RECORDS} Kinesis records × ${EVENTS} events, ${SHARDS} in flight`,
  );
  const node = await startOpenSearch({ heapMb: Number(env.BENCH_OPENSEARCH_HEAP_MB ?? 1024) });
  const base = node.url;
  const agent = new Agent({ keepAlive: true, maxSockets: SHARDS });
  const post = (path: string, body: string | Buffer) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${base}${path}`,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/x-ndjson', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let b = '';
          res.setEncoding('utf8');
          res.on('data', (d) => {
            b += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const count = async (pattern: string) => {
    await post(`/${pattern}/_refresh`, '');
    const res = await fetch(`${base}/${pattern}/_count`);
    return ((await res.json()) as { count: number }).count;
  };
  const drop = (pattern: string) => fetch(`${base}/${pattern}`, { method: 'DELETE' });

  try {
    const kinesisEvents = makeEvents();
    const cfg = validateConfig({});
    const transforms = await buildTransforms(cfg, { log: silent });
    console.log(`transforms: ${transforms.map((t) => t.type).join(' → ')} → opensearch`);

    // The direct load's input: the very documents logferry produces, encoded ahead of time.
    const prepare = async (prefix: string) => {
      const enc = await createOpenSearchSink(
        opensearchSinkConfig.parse({
          type: 'opensearch',
          url: base,
          index: `${prefix}-{component}-YYYY.MM.dd`,
        }),
      );
      const bodies: { body: Buffer; records: number }[] = [];
      const indexes = new Set<string>();
      for (const ev of kinesisEvents) {
        const recs: LogRecord[] = [];
        for (const e of decodeKinesisEvent(ev))
          recs.push(...(await runStages(transforms, e.records)).records);
        let body = '';
        for (const r of recs) {
          const x = enc.encode(r);
          if ('reject' in x) continue;
          body += x.data;
          indexes.add(JSON.parse(x.data.slice(0, x.data.indexOf('\n'))).create._index);
        }
        bodies.push({ body: Buffer.from(body), records: recs.length });
      }
      await enc.close();
      // Index creation is the same fixed cost on both sides and noisy: do it before the clock starts.
      for (const ix of indexes) await fetch(`${base}/${ix}`, { method: 'PUT' });
      return bodies;
    };

    // Warm-up (not reported): JIT on both sides, first-use costs in the node.
    {
      const warm = await prepare('bench-warm');
      await Promise.all(warm.slice(0, Math.min(warm.length, 6)).map((b) => post('/_bulk', b.body)));
      const wSink = await createOpenSearchSink(
        opensearchSinkConfig.parse({
          type: 'opensearch',
          url: base,
          index: 'bench-warm-{component}-YYYY.MM.dd',
        }),
        { log: silent },
      );
      for (const ev of kinesisEvents.slice(0, 6))
        await processKinesisEvent(ev, undefined, { transforms, sinks: [wSink], log: silent });
      await wSink.close();
      await drop('bench-warm-*');
    }

    // Both sides run the same invocations in alternating blocks (order flipped every block), so
    // load from anything else on the machine falls on both alike.
    const bodies = await prepare('bench-direct');
    await prepare('bench-logferry'); // creates the logferry indexes up front too
    const sink = await createOpenSearchSink(
      opensearchSinkConfig.parse({
        type: 'opensearch',
        url: base,
        index: 'bench-logferry-{component}-YYYY.MM.dd',
      }),
      { log: silent },
    );
    let sent = 0;
    let sends = 0;
    let itemProblems = 0;
    const counting = {
      type: sink.type,
      name: sink.name,
      limits: sink.limits,
      encode: (r: LogRecord) => {
        const e = sink.encode(r);
        if (!('reject' in e)) sent += e.bytes;
        return e;
      },
      send: async (batch: Parameters<typeof sink.send>[0], ctx: Parameters<typeof sink.send>[1]) => {
        sends++;
        const res = await sink.send(batch, ctx);
        itemProblems += res.problems.length;
        return res;
      },
    };
    const deps = { transforms, sinks: [counting], log: silent, concurrency: 1 };
    const direct = side('direct');
    const logferry = side('logferry');
    const runDirect = async (i: number) => {
      const res = await post('/_bulk?filter_path=errors,items.*.status,items.*.error', bodies[i].body);
      if (res.status !== 200 || res.body.includes('"errors":true'))
        throw new Error(`direct bulk failed: ${res.status}`);
      return { records: bodies[i].records, bytes: bodies[i].body.length };
    };
    const runLogferry = async (i: number) => {
      const res = await processKinesisEvent(kinesisEvents[i], undefined, deps);
      if (res.response.batchItemFailures.length > 0) throw new Error('logferry: batch item failures');
      return { records: res.tally.total.delivered, bytes: 0 };
    };
    const BLOCK = SHARDS * 2;
    for (let b = 0; b * BLOCK < kinesisEvents.length; b++) {
      const idx = Array.from(
        { length: Math.min(BLOCK, kinesisEvents.length - b * BLOCK) },
        (_, k) => b * BLOCK + k,
      );
      if (b % 2 === 0) {
        await block(direct, idx, runDirect);
        await block(logferry, idx, runLogferry);
      } else {
        await block(logferry, idx, runLogferry);
        await block(direct, idx, runDirect);
      }
    }
    logferry.bytes = sent; // counted at encode time: invocations overlap
    await sink.close();
    const dCount = await count('bench-direct-*');
    const lCount = await count('bench-logferry-*');
    if (dCount !== direct.records) throw new Error(`direct: ${dCount} documents, expected ${direct.records}`);
    if (lCount !== logferry.records || lCount !== dCount) {
      throw new Error(`logferry: ${lCount} documents, expected ${logferry.records} (direct ${dCount})`);
    }
    await drop('bench-direct-*');
    await drop('bench-logferry-*');

    const results = [result(direct), result(logferry)];
    const [d, l] = results;
    const overhead = l.wallMs / d.wallMs - 1;
    const summary = {
      scenario: 'kinesis-to-opensearch',
      at: new Date().toISOString(),
      node: `OpenSearch ${node.version} (single node, loopback, heap ${env.BENCH_OPENSEARCH_HEAP_MB ?? 1024} MB)`,
      cpus: cpus().length,
      loadAverage: loadavg().map((x) => Number(x.toFixed(1))),
      shape: {
        invocations: INVOCATIONS,
        recordsPerInvocation: RECORDS,
        eventsPerRecord: EVENTS,
        shards: SHARDS,
      },
      phases: results,
      overheadRatio: Number(overhead.toFixed(3)),
      logferryBulkRequests: sends,
      logferryItemProblems: itemProblems,
      logferryCpuMsPer1kRecords: Number(((l.cpuMs / l.records) * 1000).toFixed(2)),
      directCpuMsPer1kRecords: Number(((d.cpuMs / d.records) * 1000).toFixed(2)),
    };
    console.table(
      results.map((r) => ({
        phase: r.phase,
        'records/s': r.recordsPerSec,
        'MB/s': r.mbPerSec,
        'p50 ms': r.p50Ms,
        'p99 ms': r.p99Ms,
        'peak RSS MB': r.peakRssMb,
        'client CPU ms': r.cpuMs,
      })),
    );
    console.log(
      `logferry overhead vs direct bulk: ${(overhead * 100).toFixed(1)}% of wall time (target ≤ 10%); client CPU ${summary.logferryCpuMsPer1kRecords} vs ${summary.directCpuMsPer1kRecords} ms per 1k records`,
    );
    writeResults('kinesis-to-opensearch', summary);
  } finally {
    agent.destroy();
    await node.stop();
  }
}

await main();
