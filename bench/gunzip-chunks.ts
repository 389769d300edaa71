/**
 * Benchmark of the two gzip readers of scan-object.ts: `gunzipChunksExact` (the sqs-s3 source and
 * sqs handler: zlib fed in bounded slices with a second decoder one slice behind, so no text before a
 * gzip damage is lost) and `gunzipChunksFast` (`logferry query`: one stream, large writes). Baseline in
 * the same run: a plain `createGunzip()` stream over the same chunks. Reports the CPU time of each
 * (process.cpuUsage, user+system) and the ratios.
 *
 *   npx tsx bench/gunzip-chunks.ts [--mb 64] [--rounds 3]
 */
import { createGunzip, gzipSync } from 'node:zlib';
import { gunzipChunksExact, gunzipChunksFast } from '../src/query/backends/scan-object.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const mb = arg('mb', 64);
const rounds = arg('rounds', 3);

const lines: string[] = [];
let size = 0;
for (let i = 0; size < mb * 1024 * 1024; i++) {
  const l = `{"ts":${1_700_000_000_000 + i},"level":"${i % 7 === 0 ? 'error' : 'info'}","msg":"request ${i} served","user":"u${i % 977}","ms":${i % 1000}}`;
  lines.push(l);
  size += l.length + 1;
}
const gz = gzipSync(`${lines.join('\n')}\n`);
const CHUNK = 64 * 1024; // about what an S3 GetObject body hands over per read
const chunks = function* () {
  for (let i = 0; i < gz.length; i += CHUNK) yield gz.subarray(i, i + CHUNK);
};

async function viaReader(read: typeof gunzipChunksExact): Promise<number> {
  const it = (async function* () {
    yield* chunks();
  })();
  const first = await it.next();
  let n = 0;
  for await (const c of read(first.value as Buffer, it)) n += c.length;
  return n;
}

async function viaPlainGunzip(): Promise<number> {
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  const feed = (async () => {
    for (const c of chunks()) if (!gunzip.write(c)) await new Promise((r) => gunzip.once('drain', r));
    gunzip.end();
  })();
  let n = 0;
  for await (const c of gunzip) n += (c as Buffer).length;
  await feed;
  return n;
}

const cpu = async (f: () => Promise<number>) => {
  const t = process.cpuUsage();
  const n = await f();
  const d = process.cpuUsage(t);
  return { n, ms: (d.user + d.system) / 1000 };
};

let base = 0;
let exact = 0;
let fast = 0;
for (let r = 0; r < rounds; r++) {
  const a = await cpu(viaPlainGunzip);
  const b = await cpu(() => viaReader(gunzipChunksExact));
  const c = await cpu(() => viaReader(gunzipChunksFast));
  if (a.n !== b.n || a.n !== c.n) throw new Error(`text differs: ${a.n} vs ${b.n} vs ${c.n}`);
  base += a.ms;
  exact += b.ms;
  fast += c.ms;
}
process.stderr.write(
  `gunzip ${mb} MB text (${(gz.length / 1048576).toFixed(1)} MB gzip), ${rounds} rounds, CPU ms: plain createGunzip ${base.toFixed(0)}, exact ${exact.toFixed(0)} (${(exact / base).toFixed(2)}x), fast ${fast.toFixed(0)} (${(fast / base).toFixed(2)}x)\n`,
);
