/**
 * Scenario `demo-to-http`: the daemon path of `logferry run` — CloudWatch subscription payloads
 * decoded → batched → the `http` sink (logzio with gzip, splunk-hec, loki) → a local receiver on
 * 127.0.0.1 — against the seed project's way of shipping (one HTTP POST of NDJSON per Kinesis record:
 * gunzip, JSON.parse, one line per event, await fetch), on the same pre-generated payloads
 * (DemoGenerator, fixed seed) in the same run. The receiver runs in this (parent) process and counts
 * every event it is sent; each variant runs in its own Node process so its peak RSS is its own.
 *
 *   node --import tsx bench/demo-to-http.ts          (or: npm run bench -- demo-to-http)
 *   BENCH_ENVELOPES=2000 BENCH_EVENTS_PER_ENVELOPE=50 BENCH_SEED=7
 *
 * Reports records/s, MB/s of decoded payload, HTTP requests and peak RSS; results go to stdout and
 * bench/results/demo-to-http.json.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { runDaemon } from '../src/core/daemon.js';
import { HttpSink, httpSinkConfig } from '../src/sinks/http.js';
import { demoPayloads, lastJsonLine, peakRssMb, replaySource, writeResults } from './lib/harness.js';

const env = process.env;
const ENVELOPES = Number(env.BENCH_ENVELOPES ?? 2000);
const PER = Number(env.BENCH_EVENTS_PER_ENVELOPE ?? 50);
const SEED = Number(env.BENCH_SEED ?? 7);
const VARIANTS = ['naive', 'logzio', 'splunk-hec', 'loki'] as const;
type Variant = (typeof VARIANTS)[number];

interface Result {
  variant: Variant;
  seconds: number;
  records: number;
  decodedMB: number;
  requests: number;
  maxRssMB: number;
}

const payloads = () => demoPayloads({ seed: SEED, eventsPerEnvelope: PER, envelopes: ENVELOPES });

async function child(variant: Variant, url: string): Promise<void> {
  const data = payloads();
  const decodedBytes = data.reduce((n, p) => n + gunzipSync(p.gzip).length, 0);
  let records = 0;
  let requests = 0;
  const t0 = process.hrtime.bigint();
  if (variant === 'naive') {
    // The seed's Lambda: per Kinesis record, decode and POST its events to the listener, in turn.
    for (const p of data) {
      const msg = JSON.parse(gunzipSync(p.gzip).toString('utf8'));
      let body = '';
      for (const ev of msg.logEvents) {
        body += `${JSON.stringify({ message: ev.message, '@timestamp': new Date(ev.timestamp).toISOString(), logGroup: msg.logGroup, logStream: msg.logStream })}\n`;
        records++;
      }
      const res = await fetch(`${url}/?token=bench&type=cloudwatch`, { method: 'POST', body });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`naive: HTTP ${res.status}`);
      requests++;
    }
  } else {
    const source = replaySource(data, SEED);
    const cfg = httpSinkConfig.parse({
      type: 'http',
      flavor: variant,
      url,
      token: variant === 'loki' ? undefined : 'env:BENCH_TOKEN',
      labels: ['logGroup', 'component'],
    });
    const sink = new HttpSink(cfg, { resolveSecret: async () => 'bench' });
    const res = await runDaemon({ sources: [source], transforms: [], sinks: [sink], flushConcurrency: 2 });
    if (!res.balanced || res.tally.total.delivered !== data.length * PER)
      throw new Error(`unexpected outcome: ${JSON.stringify(res.tally.total)}`);
    records = res.tally.total.delivered;
    requests = sink.stats.requests;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const r: Result = {
    variant,
    seconds,
    records,
    decodedMB: decodedBytes / 1e6,
    requests,
    maxRssMB: peakRssMb(),
  };
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

/** One receiver for every protocol; counts the events it accepts. */
async function receiver(): Promise<{ url: string; events: () => number; close: () => void }> {
  let events = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (req.url?.startsWith('/loki/')) {
        const doc = JSON.parse(body.toString('utf8')) as { streams: { values: unknown[] }[] };
        for (const s of doc.streams) events += s.values.length;
        res.writeHead(204).end();
        return;
      }
      for (let i = body.indexOf(10); i >= 0; i = body.indexOf(10, i + 1)) events++;
      if (req.url?.startsWith('/services/collector')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}');
      } else res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    events: () => events,
    close: () => server.close(),
  };
}

function runChild(v: Variant, url: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', v, url],
      {
        env: { ...env, BENCH_TOKEN: 'bench' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${v} failed: ${err}`));
      else resolve(lastJsonLine<Result>(out));
    });
  });
}

async function main(): Promise<void> {
  const rx = await receiver();
  const results: Result[] = [];
  try {
    for (const v of VARIANTS) {
      const before = rx.events();
      const r = await runChild(v, rx.url);
      if (rx.events() - before !== r.records)
        throw new Error(`${v}: receiver counted ${rx.events() - before} of ${r.records} events`);
      results.push(r);
    }
  } finally {
    rx.close();
  }
  console.log(`demo-to-http: ${ENVELOPES} payloads × ${PER} events (seed ${SEED}), receiver on 127.0.0.1`);
  console.log('variant          records/s   MB/s (decoded)   requests   peak RSS MB');
  for (const r of results) {
    console.log(
      `${r.variant.padEnd(14)}${Math.round(r.records / r.seconds)
        .toLocaleString('en-US')
        .padStart(
          12,
        )}${(r.decodedMB / r.seconds).toFixed(1).padStart(17)}${String(r.requests).padStart(11)}${r.maxRssMB.toFixed(0).padStart(14)}`,
    );
  }
  writeResults('demo-to-http', {
    at: new Date().toISOString(),
    envelopes: ENVELOPES,
    eventsPerEnvelope: PER,
    seed: SEED,
    results,
  });
}

if (process.argv[2] === '--child') await child(process.argv[3] as Variant, process.argv[4] as string);
else await main();
