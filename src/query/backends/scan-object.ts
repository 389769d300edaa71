/**
 * Scans one archive object (a byte stream, gzip detected by its magic bytes) line by line into rows
 * that passed the query's row stage. The hot loop does, per line: a substring pre-check (prune.ts)
 * that skips most non-matching lines before `JSON.parse`, one parse, the time-range check and the
 * compiled row stage. Rows leave in chunks through `emit`, so memory stays bounded by the chunk size
 * whatever the object's size. Runs the same inline and in scan workers.
 */
import { createGunzip } from 'node:zlib';
import type { Row } from '../types.js';
import { decodeLine } from './decode.js';
import type { ObjectInfo } from './partition-path.js';
import { type LineRequirement, linePasses } from './prune.js';
import type { TimeRange } from './time-range.js';

export const EMIT_CHUNK_ROWS = 1_000;
/** Histogram resolution: matched events are counted per minute (bounded by time span, not count). */
export const HISTOGRAM_RESOLUTION_MS = 60_000;

export interface ObjectScanStats {
  /** Bytes read from storage (compressed size for gzip objects). */
  bytesIn: number;
  /** Bytes of text after decompression. */
  bytesText: number;
  recordsScanned: number;
  recordsMatched: number;
}

export interface ObjectScanSpec {
  info: ObjectInfo;
  range: TimeRange;
  requirement: LineRequirement;
  rowStage(row: Row): Row | null;
  /** Keys to keep in emitted rows (for transfer between threads); undefined keeps all. */
  keep?: Projection;
  /** Matched-event counts per minute, for the histogram. */
  histogram: Map<number, number>;
  emit(rows: Row[]): void | Promise<void>;
}

export interface Projection {
  names: Set<string>;
}

/** Every dotted prefix of each referenced name, plus `@timestamp`. */
export function projectionFor(referenced: Set<string> | '*'): Projection | undefined {
  if (referenced === '*') return undefined;
  const names = new Set<string>(['@timestamp']);
  for (const n of referenced) {
    const parts = n.split('.');
    for (let i = 1; i <= parts.length; i++) names.add(parts.slice(0, i).join('.'));
  }
  return { names };
}

function project(out: Row, input: Row, keep: Projection): Row {
  const r: Row = {};
  for (const k in out) if (keep.names.has(k) || !(k in input) || out[k] !== input[k]) r[k] = out[k];
  return r;
}

function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

async function* gunzipChunks(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  const gz = createGunzip({ chunkSize: 256 * 1024 });
  const feed = (async () => {
    try {
      if (!gz.write(first)) await new Promise((r) => gz.once('drain', r));
      for (;;) {
        const n = await rest.next();
        if (n.done) break;
        if (!gz.write(n.value)) await new Promise((r) => gz.once('drain', r));
      }
      gz.end();
    } catch (e) {
      gz.destroy(e as Error);
    }
  })();
  for await (const c of gz) yield c as Buffer;
  await feed;
}

export async function scanObject(
  source: AsyncIterable<Buffer | Uint8Array>,
  spec: ObjectScanSpec,
): Promise<ObjectScanStats> {
  const stats: ObjectScanStats = { bytesIn: 0, bytesText: 0, recordsScanned: 0, recordsMatched: 0 };
  const it = (async function* () {
    for await (const c of source) {
      const b = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      stats.bytesIn += b.length;
      yield b;
    }
  })();
  const first = await it.next();
  if (first.done) return stats;
  const text: AsyncIterable<Buffer> = isGzip(first.value)
    ? gunzipChunks(first.value, it)
    : (async function* () {
        yield first.value;
        for (;;) {
          const n = await it.next();
          if (n.done) return;
          yield n.value;
        }
      })();

  const { info, range, requirement, rowStage, keep, histogram } = spec;
  const hasReq = requirement.length > 0;
  const start = range.startMs ?? Number.NEGATIVE_INFINITY;
  const end = range.endMs ?? Number.POSITIVE_INFINITY;
  const timed = range.startMs !== undefined || range.endMs !== undefined;
  let pending: Row[] = [];
  let carry: Buffer | undefined;

  const processLine = async (line: string) => {
    const row = decodeLine(line, info);
    if (row === undefined) return;
    const ts = row['@timestamp'] as number;
    if (timed && !(ts >= start && ts < end)) return;
    const out = rowStage(row);
    if (out === null) return;
    stats.recordsMatched++;
    if (Number.isFinite(ts)) {
      const m = ts - (ts % HISTOGRAM_RESOLUTION_MS);
      histogram.set(m, (histogram.get(m) ?? 0) + 1);
    }
    pending.push(keep ? project(out, row, keep) : out);
    if (pending.length >= EMIT_CHUNK_ROWS) {
      const rows = pending;
      pending = [];
      await spec.emit(rows);
    }
  };

  // Grep-style fast path: when a chunk has no JSON escape that could hide a literal, jump straight
  // to the lines holding the first required literal instead of visiting every line.
  // The anchor is the rarest single-literal requirement, measured on the object's first chunk.
  const singles = requirement.filter((c) => c.length === 1).map((c) => c[0]);
  let anchor: string | undefined = singles[0];
  let anchorChosen = singles.length <= 1;
  const chooseAnchor = (s: string) => {
    anchorChosen = true;
    let best = Number.POSITIVE_INFINITY;
    for (const lit of singles) {
      let n = 0;
      for (let i = s.indexOf(lit); i !== -1 && n < best; i = s.indexOf(lit, i + lit.length)) n++;
      if (n < best) {
        best = n;
        anchor = lit;
      }
    }
  };
  const grep = async (s: string) => {
    // Records scanned: non-empty lines.
    let prev = -1;
    for (let nl = s.indexOf('\n'); nl !== -1; nl = s.indexOf('\n', nl + 1)) {
      if (nl > prev + 1 && !(nl === prev + 2 && s.charCodeAt(nl - 1) === 13)) stats.recordsScanned++;
      prev = nl;
    }
    if (prev < s.length - 1) stats.recordsScanned++;
    let at = s.indexOf(anchor as string);
    while (at !== -1) {
      const ls = s.lastIndexOf('\n', at) + 1;
      let le = s.indexOf('\n', at);
      if (le === -1) le = s.length;
      let line = s.slice(ls, le);
      if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      if (linePasses(line, requirement)) await processLine(line);
      at = le >= s.length ? -1 : s.indexOf(anchor as string, le + 1);
    }
  };

  const handle = async (s: string) => {
    if (!anchorChosen) chooseAnchor(s);
    if (anchor !== undefined && !s.includes('\\u') && !s.includes('\\/')) return grep(s);
    let from = 0;
    for (;;) {
      let nl = s.indexOf('\n', from);
      const last = nl === -1;
      if (last) nl = s.length;
      let line = s.slice(from, nl);
      from = nl + 1;
      if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      if (line.length > 0) {
        stats.recordsScanned++;
        if (!hasReq || linePasses(line, requirement)) await processLine(line);
      }
      if (last) return;
    }
  };

  for await (const chunk of text) {
    stats.bytesText += chunk.length;
    const nl = chunk.lastIndexOf(10);
    if (nl === -1) {
      carry = carry ? Buffer.concat([carry, chunk]) : chunk;
      continue;
    }
    const head = carry ? Buffer.concat([carry, chunk.subarray(0, nl)]) : chunk.subarray(0, nl);
    carry = nl + 1 < chunk.length ? Buffer.from(chunk.subarray(nl + 1)) : undefined;
    await handle(head.toString('utf8'));
  }
  if (carry?.length) await handle(carry.toString('utf8'));
  if (pending.length) await spec.emit(pending);
  return stats;
}
