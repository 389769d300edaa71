/**
 * Scenario `demo-to-s3`: the daemon path of `logferry run` — CloudWatch subscription payloads
 * decoded → (optionally the default transforms: parse auto + mask) → batched → the s3 sink writing
 * gzip NDJSON objects into a local directory — against a naive forwarder that writes one gzip object
 * per payload (gunzip, JSON.parse, one JSON line per event, gzipSync, writeFileSync), on the same
 * pre-generated payloads (DemoGenerator, fixed seed) in the same run. Each variant runs in its own
 * Node process so peak RSS is its own; the archive directory is removed after each run.
 *
 *   node --import tsx bench/demo-to-s3.ts          (or: npm run bench -- demo-to-s3)
 *   BENCH_ENVELOPES=2000 BENCH_EVENTS_PER_ENVELOPE=50 BENCH_SEED=7
 *
 * Reports records/s, MB/s of decoded payload, objects written and peak RSS; results go to stdout and
 * bench/results/demo-to-s3.json.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { buildTransforms } from '../src/config/build-pipeline.js';
import { validateConfig } from '../src/config/load.js';
import { runDaemon } from '../src/core/daemon.js';
import { S3Sink } from '../src/sinks/s3.js';
import {
  demoPayloads,
  lastJsonLine,
  peakRssMb,
  replaySource,
  runTsxChild,
  writeResults,
} from './lib/harness.js';

const env = process.env;
const ENVELOPES = Number(env.BENCH_ENVELOPES ?? 2000);
const PER = Number(env.BENCH_EVENTS_PER_ENVELOPE ?? 50);
const SEED = Number(env.BENCH_SEED ?? 7);
const VARIANTS = ['naive', 'daemon', 'daemon+transforms'] as const;
type Variant = (typeof VARIANTS)[number];

interface Result {
  variant: Variant;
  seconds: number;
  records: number;
  decodedMB: number;
  objects: number;
  gzipMB: number;
  maxRssMB: number;
}

const payloads = () => demoPayloads({ seed: SEED, eventsPerEnvelope: PER, envelopes: ENVELOPES });

function countFiles(dir: string): { n: number } {
  let n = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.gz')) n++;
    }
  };
  walk(dir);
  return { n };
}

async function child(variant: Variant): Promise<void> {
  const data = payloads();
  const decodedBytes = data.reduce((n, p) => n + gunzipSync(p.gzip).length, 0);
  const out = mkdtempSync(join(tmpdir(), `lf-bench-${variant.replace('+', '-')}-`));
  let records = 0;
  let objects = 0;
  let gzipBytes = 0;
  const t0 = process.hrtime.bigint();
  if (variant === 'naive') {
    // One object per payload, everything synchronous: what a simple forwarder does.
    for (const p of data) {
      const msg = JSON.parse(gunzipSync(p.gzip).toString('utf8'));
      let body = '';
      for (const ev of msg.logEvents) {
        body += `${JSON.stringify({ '@timestamp': ev.timestamp, '@message': ev.message, '@logStream': msg.logStream, '@log': `${msg.owner}:${msg.logGroup}`, '@id': ev.id })}\n`;
        records++;
      }
      const gz = gzipSync(body);
      const dir = join(out, msg.logGroup.replace(/\//g, '_'), msg.logStream.replace(/\//g, '_'));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${p.seq}.gz`), gz);
      objects++;
      gzipBytes += gz.length;
    }
  } else {
    const source = replaySource(data, SEED);
    const sink = new S3Sink({ url: out });
    const transforms = variant === 'daemon' ? [] : await buildTransforms(validateConfig({}, 'bench'));
    const res = await runDaemon({ sources: [source], transforms, sinks: [sink] });
    if (!res.balanced || res.tally.total.delivered !== data.length * PER)
      throw new Error(`unexpected outcome: ${JSON.stringify(res.tally.total)}`);
    records = res.tally.total.delivered;
    objects = sink.stats.objects;
    gzipBytes = sink.stats.bytes;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (countFiles(out).n !== objects) throw new Error('object count mismatch');
  rmSync(out, { recursive: true, force: true });
  const r: Result = {
    variant,
    seconds,
    records,
    decodedMB: decodedBytes / 1e6,
    objects,
    gzipMB: gzipBytes / 1e6,
    maxRssMB: peakRssMb(),
  };
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

async function main(): Promise<void> {
  const results: Result[] = [];
  for (const v of VARIANTS) {
    const out = runTsxChild(new URL(import.meta.url).pathname, ['--child', v], { env, label: v });
    results.push(lastJsonLine<Result>(out));
  }
  console.log(`demo-to-s3: ${ENVELOPES} payloads × ${PER} events (seed ${SEED}), local directory`);
  console.log('variant              records/s   MB/s (decoded)   objects   gzip MB   peak RSS MB');
  for (const r of results) {
    console.log(
      `${r.variant.padEnd(20)}${Math.round(r.records / r.seconds)
        .toLocaleString('en-US')
        .padStart(
          10,
        )}${(r.decodedMB / r.seconds).toFixed(1).padStart(17)}${String(r.objects).padStart(10)}${r.gzipMB.toFixed(1).padStart(10)}${r.maxRssMB.toFixed(0).padStart(14)}`,
    );
  }
  writeResults('demo-to-s3', {
    at: new Date().toISOString(),
    envelopes: ENVELOPES,
    eventsPerEnvelope: PER,
    seed: SEED,
    results,
  });
}

if (process.argv[2] === '--child') await child(process.argv[3] as Variant);
else await main();
