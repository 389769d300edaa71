/**
 * Scenario `forward-to-blackhole`: what logferry's `forward` source costs end to end over real TCP
 * on loopback — a client sends PackedForward messages of `BENCH_ENTRIES` Fluent Bit-style records
 * (`{log, stream, kubernetes: {...}}`, EventTime), each with a `chunk` id, keeping
 * `BENCH_WINDOW` chunks unacknowledged at most (as Fluent Bit with `Require_ack_response` does), and
 * waits for every ack. logferry: forward source → the daemon runner (parse `auto`, mask) → the
 * blackhole sink; acks only after the outcome. Baseline in the same run: a naive forward server
 * that decodes each message's entries with @msgpack/msgpack and acks at once (no records, no
 * pipeline, no outcome); and the forward source alone (records built, acked at once, no runner),
 * which says how much of the gap is the source and how much the pipeline. Each run is a child process (clean peak RSS); phases alternate; the median
 * run is reported with logferry's throughput as a ratio of the baseline.
 *
 *   node --import tsx bench/forward-to-blackhole.ts     (or: node scripts/bench.mjs forward-to-blackhole)
 *   BENCH_CHUNKS=200 BENCH_ENTRIES=1000 BENCH_WINDOW=8 BENCH_RUNS=3
 *
 * Results go to stdout and bench/results/forward-to-blackhole.json.
 */
import { cpus, loadavg } from 'node:os';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { Decoder, encode } from '@msgpack/msgpack';
import { buildTransforms } from '../src/config/build-pipeline.js';
import { validateConfig } from '../src/config/load.js';
import { runDaemon } from '../src/core/daemon.js';
import { BlackholeSink } from '../src/sinks/blackhole.js';
import { EventTime, forwardCodec } from '../src/sources/forward/decode.js';
import { ForwardSource, forwardSourceConfig } from '../src/sources/forward/forward-source.js';
import { median, runTsxChild, silentLogger as silent, writeResults } from './lib/harness.js';

const env = process.env;
const CHUNKS = Number(env.BENCH_CHUNKS ?? 200);
const ENTRIES = Number(env.BENCH_ENTRIES ?? 1000);
const WINDOW = Number(env.BENCH_WINDOW ?? 8);
const RUNS = Number(env.BENCH_RUNS ?? 3);

type Phase = 'naive' | 'source' | 'logferry';

interface PhaseResult {
  phase: Phase;
  events: number;
  bytes: number;
  wallMs: number;
  peakRssMb: number;
}

/** The messages, built once per process (deterministic). */
function messages(): Buffer[] {
  const out: Buffer[] = [];
  let n = 0;
  for (let c = 0; c < CHUNKS; c++) {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < ENTRIES; i++, n++) {
      const pod = `web-${n % 17}`;
      const log =
        n % 3 === 0
          ? `{"level":"info","msg":"request served","path":"/api/v1/items/${n}","status":200,"ms":${n % 97}}`
          : `2026-11-22T12:00:00.${String(n % 1000).padStart(3, '0')}Z INFO handled request id=${n} path=/api/v1/items user=u${n % 101}`;
      parts.push(
        encode(
          [
            new EventTime(1_795_000_000 + (n >> 10), (n % 1000) * 1_000_000),
            {
              log,
              stream: 'stdout',
              kubernetes: {
                pod_name: pod,
                namespace_name: 'shop',
                container_name: 'app',
                host: `node-${n % 5}`,
              },
            },
          ],
          { extensionCodec: forwardCodec },
        ),
      );
    }
    const stream = Buffer.concat(parts);
    out.push(Buffer.from(encode(['kube.shop.app', stream, { chunk: `chunk-${c}`, size: ENTRIES }])));
  }
  return out;
}

/** Sends every message, at most WINDOW unacknowledged, and waits for all acks. */
async function send(port: number, msgs: Buffer[]): Promise<void> {
  const s: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => {
    s.once('connect', () => r());
    s.once('error', j);
  });
  const dec = new Decoder();
  let acked = 0;
  let sent = 0;
  let pending: Buffer = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (sent < msgs.length && sent - acked < WINDOW) s.write(msgs[sent++]);
    };
    s.on('data', (d: Buffer) => {
      pending = pending.length === 0 ? d : Buffer.concat([pending, d]);
      try {
        for (const _ of dec.decodeMulti(pending)) acked++;
        pending = Buffer.alloc(0);
      } catch {
        // an ack split across segments: wait for the rest
      }
      if (acked === msgs.length) resolve();
      else pump();
    });
    s.on('error', reject);
    s.on('close', () => (acked < msgs.length ? reject(new Error(`closed after ${acked} acks`)) : resolve()));
    pump();
  });
  s.destroy();
}

/** The naive server: decode entries, count them, ack at once. */
async function naiveServer(): Promise<{ port: number; events: () => number; close: () => void }> {
  let events = 0;
  const server = createServer((sock) => {
    const dec = new Decoder({ extensionCodec: forwardCodec });
    (async () => {
      for await (const m of dec.decodeStream(sock as AsyncIterable<Uint8Array>)) {
        const [, entries, opt] = m as [string, Uint8Array, { chunk: string }];
        for (const e of new Decoder({ extensionCodec: forwardCodec }).decodeMulti(entries)) if (e) events++;
        sock.write(encode({ ack: opt.chunk }));
      }
    })().catch(() => sock.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as AddressInfo).port, events: () => events, close: () => server.close() };
}

async function child(phase: Phase): Promise<PhaseResult> {
  const msgs = messages();
  const bytes = msgs.reduce((n, m) => n + m.length, 0);
  let events = 0;
  let wallMs = 0;
  if (phase === 'naive') {
    const srv = await naiveServer();
    const t0 = performance.now();
    await send(srv.port, msgs);
    wallMs = performance.now() - t0;
    events = srv.events();
    srv.close();
  } else if (phase === 'source') {
    // The forward source alone: records built and acked at once (no runner, no sink).
    const src = new ForwardSource(forwardSourceConfig.parse({ type: 'forward', port: 0, heartbeat: false }), {
      log: silent,
    });
    const ac = new AbortController();
    const reading = (async () => {
      for await (const e of src.envelopes(ac.signal)) {
        events += e.records.length;
        await src.ack(e, { kind: 'delivered' });
      }
    })();
    const port = (await src.ready).port;
    const t0 = performance.now();
    await send(port, msgs);
    wallMs = performance.now() - t0;
    ac.abort();
    await reading;
    await src.close();
  } else {
    const src = new ForwardSource(forwardSourceConfig.parse({ type: 'forward', port: 0, heartbeat: false }), {
      log: silent,
    });
    const sink = new BlackholeSink({
      type: 'blackhole',
      encode: 'json',
      maxRecords: 5_000,
      maxBytes: 10 * 1024 * 1024,
      maxAgeMs: 50,
    });
    const transforms = await buildTransforms(validateConfig({}), { log: silent });
    const ac = new AbortController();
    const run = runDaemon({ sources: [src], transforms, sinks: [sink], signal: ac.signal, log: silent });
    const port = (await src.ready).port;
    const t0 = performance.now();
    await send(port, msgs);
    wallMs = performance.now() - t0;
    ac.abort();
    const r = await run;
    events = r.tally.total.delivered;
  }
  if (events !== CHUNKS * ENTRIES) throw new Error(`${phase}: ${events} events out of ${CHUNKS * ENTRIES}`);
  return { phase, events, bytes, wallMs, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) };
}

async function main() {
  const arg = process.argv.find((a) => a.startsWith('--phase='));
  if (arg) {
    process.stdout.write(`${JSON.stringify(await child(arg.slice(8) as Phase))}\n`);
    return;
  }
  const runs: Record<Phase, PhaseResult[]> = { naive: [], source: [], logferry: [] };
  for (let i = 0; i < RUNS; i++)
    for (const phase of ['naive', 'source', 'logferry'] as const) {
      const out = runTsxChild(new URL(import.meta.url).pathname, [`--phase=${phase}`], { label: phase });
      runs[phase].push(JSON.parse(out.trim().split('\n').at(-1) as string));
    }
  const summary = (['naive', 'source', 'logferry'] as const).map((phase) => {
    const ms = median(runs[phase].map((r) => r.wallMs));
    const r = runs[phase][0];
    return {
      phase,
      events: r.events,
      wallMs: Math.round(ms),
      eventsPerSec: Math.round(r.events / (ms / 1000)),
      mibPerSec: Number((r.bytes / 1048576 / (ms / 1000)).toFixed(1)),
      peakRssMb: median(runs[phase].map((x) => x.peakRssMb)),
      runsMs: runs[phase].map((x) => Math.round(x.wallMs)),
    };
  });
  const [naive, source, logferry] = summary;
  const doc = {
    scenario: 'forward-to-blackhole',
    at: new Date().toISOString(),
    cpus: cpus().length,
    loadAverage: loadavg().map((x) => Number(x.toFixed(1))),
    shape: {
      chunks: CHUNKS,
      entriesPerChunk: ENTRIES,
      window: WINDOW,
      inputMiB: Number((runs.naive[0].bytes / 1048576).toFixed(1)),
    },
    phases: summary,
    ratio: {
      logferryVsNaiveThroughput: Number((naive.wallMs / logferry.wallMs).toFixed(2)),
      sourceOnlyVsNaiveThroughput: Number((naive.wallMs / source.wallMs).toFixed(2)),
    },
  };
  console.log(JSON.stringify(doc, null, 2));
  writeResults('forward-to-blackhole', doc);
}

await main();
