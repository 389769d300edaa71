/**
 * Scans one archive object (a byte stream, gzip detected by its magic bytes) line by line into rows
 * that passed the query's row stage. The hot loop does, per line: a substring pre-check (prune.ts)
 * that skips most non-matching lines before `JSON.parse`, one parse, the time-range check and the
 * compiled row stage. Rows leave in chunks through `emit`, so memory stays bounded by the chunk size
 * whatever the object's size. Runs the same inline and in scan workers.
 *
 * Line splitting is linear: text is cut into pieces of at most `PIECE_BYTES`; the complete lines of a
 * piece are decoded in one go, and a line that spans pieces is held as a list of parts joined once
 * when its newline arrives. A line longer than `maxLineBytes` is not held at all: its bytes are
 * counted and skipped up to the next newline (`linesTooLong`, `bytesTooLong`), so a 200 MB line
 * without a newline costs one pass and constant memory. A damaged gzip object (truncated, corrupt)
 * keeps the lines decoded before the damage, as `zcat` does; the incomplete line at the damage is
 * dropped and what was lost is said in `damage`.
 */
import { constants, createGunzip } from 'node:zlib';
import type { Row } from '../types.js';
import { decodeLine } from './decode.js';
import type { ObjectInfo } from './partition-path.js';
import { type LineRequirement, linePasses } from './prune.js';
import type { TimeRange } from './time-range.js';

export const EMIT_CHUNK_ROWS = 1_000;
/**
 * Default cap on one line (bytes of text). A CloudWatch event is at most 1 MB
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/logs/cloudwatch_limits_cwl.html); an
 * ndjson document of one, with parsed fields and JSON escapes, stays well under this.
 */
export const DEFAULT_MAX_LINE_BYTES = 32 * 1024 * 1024;
/** Text is handled in pieces of at most this size (bounds the string built per step). */
const PIECE_BYTES = 1024 * 1024;
/** Histogram resolution: matched events are counted per minute (bounded by time span, not count). */
export const HISTOGRAM_RESOLUTION_MS = 60_000;

export interface ObjectScanStats {
  /** Bytes read from storage (compressed size for gzip objects). */
  bytesIn: number;
  /** Bytes of text after decompression. */
  bytesText: number;
  recordsScanned: number;
  recordsMatched: number;
  /** Lines longer than the cap, skipped. */
  linesTooLong: number;
  /** Bytes of text in those lines. */
  bytesTooLong: number;
  /** Set when the object is damaged (gzip truncated or corrupt): what was kept and lost. */
  damage?: ObjectDamage;
}

export interface ObjectDamage {
  /** One sentence for people: what is wrong and what was lost. */
  message: string;
  /** Bytes known lost: the dropped incomplete line's text plus compressed bytes that could not be decoded. */
  bytesLost: number;
}

export function emptyObjectStats(): ObjectScanStats {
  return { bytesIn: 0, bytesText: 0, recordsScanned: 0, recordsMatched: 0, linesTooLong: 0, bytesTooLong: 0 };
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
  /** Longest line read, bytes of text (default DEFAULT_MAX_LINE_BYTES); longer lines are skipped and counted. */
  maxLineBytes?: number;
  /** The object's stored size when known (says how much of a corrupt object could not be decoded). */
  sizeBytes?: number;
  /** Give each row `@ptr` = `<key>:<line number>` (set when the query references `@ptr`). */
  pointers?: boolean;
  /**
   * Recover every line decodable before gzip damage, as `zcat` does (`gunzipChunksExact`, ~2.3× the
   * gunzip CPU), instead of the fast reader that may lose the last ≤ 256 KiB decoded before it.
   */
  exactGzip?: boolean;
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

export function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** Bytes of an object's start sniffed to tell text from binary data. */
export const SNIFF_BYTES = 64 * 1024;

const MAGIC: [string, number[]][] = [
  ['zstd-compressed', [0x28, 0xb5, 0x2f, 0xfd]],
  ['Snappy-compressed (framed)', [0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]],
  ['bzip2-compressed', [0x42, 0x5a, 0x68]],
  ['xz-compressed', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['LZ4-compressed', [0x04, 0x22, 0x4d, 0x18]],
  ['a ZIP file', [0x50, 0x4b, 0x03, 0x04]],
  ['Parquet', [0x50, 0x41, 0x52, 0x31]],
];

/**
 * What an object is when it is neither gzip nor text (its first bytes hold a NUL, as text never
 * does): a named compression or file format (Firehose also writes ZIP, Snappy and Parquet), else
 * "binary data". Undefined for gzip and text, the objects an archive holds.
 */
export function binaryObjectKind(head: Buffer): string | undefined {
  if (isGzip(head)) return undefined;
  for (const [kind, m] of MAGIC) if (head.length >= m.length && m.every((x, i) => head[i] === x)) return kind;
  const sniff = head.length > SNIFF_BYTES ? head.subarray(0, SNIFF_BYTES) : head;
  return sniff.includes(0) ? 'binary data' : undefined;
}

/** A zlib failure while decompressing: the lines before it stand; `consumed` compressed bytes were read. */
export class GzipDamage extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
    readonly consumed: number,
  ) {
    super(message);
  }
}

/** Compressed bytes handed to zlib per write: zlib drops the output of a write that fails, so bounded. */
export const GZ_SLICE = 16 * 1024;

/** One gunzip stream driven a write at a time: `push` resolves with the text that write decoded. */
class GunzipStep {
  private readonly gz = createGunzip({ chunkSize: 256 * 1024 });
  private out: Buffer[] = [];
  private failure: NodeJS.ErrnoException | undefined;
  /** Whether decoded text is kept (a trailing decoder discards it until it must re-read a slice). */
  constructor(public keep: boolean) {
    this.gz.on('data', (c: Buffer) => {
      if (this.keep) this.out.push(c);
    });
    this.gz.on('error', (e) => {
      this.failure ??= e as NodeJS.ErrnoException;
    });
  }
  /** Text decoded by this write, or the zlib error (the output of the failing write is lost). */
  push(b: Buffer): Promise<Buffer[] | NodeJS.ErrnoException> {
    return this.settle((done) => this.gz.write(b, done));
  }
  /** Flushes then ends the stream (a truncated stream fails here, after its decodable text is out). */
  async end(): Promise<Buffer[] | NodeJS.ErrnoException> {
    const flushed = await this.settle((done) => this.gz.flush(constants.Z_SYNC_FLUSH, () => done()));
    if (!Array.isArray(flushed)) return flushed;
    const ended = await this.settle((done) => {
      this.gz.once('end', () => done());
      this.gz.end();
    });
    return Array.isArray(ended) ? [...flushed, ...ended] : ended;
  }
  destroy(): void {
    this.gz.destroy();
  }
  private settle(
    start: (done: (e?: Error | null) => void) => void,
  ): Promise<Buffer[] | NodeJS.ErrnoException> {
    return new Promise((resolve) => {
      const finish = () => {
        this.gz.off('error', finish);
        if (this.failure) return resolve(this.failure);
        const out = this.out;
        this.out = [];
        resolve(out);
      };
      if (this.failure) return finish();
      this.gz.once('error', finish);
      start(() => setImmediate(finish));
    });
  }
}

/**
 * Gunzips `first` and the rest of the stream, yielding text as it is decoded. A zlib failure
 * (corrupt data, junk after a member, truncation) ends it with `GzipDamage` after every byte of text
 * decoded before the damage was yielded, as `zcat` does. zlib drops the output of a failing write,
 * so the input goes in slices of `GZ_SLICE` bytes, and a second decoder (its output discarded) trails
 * one slice behind: when a slice fails, that decoder, in the state before the slice, re-reads it a
 * byte at a time and yields what it decodes up to the damage. Linear (two decodes of each byte, a
 * slice's text in memory), streaming; a read error of the source is rethrown as it is.
 */
export async function* gunzipChunksExact(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  const ahead = new GunzipStep(true);
  const behind = new GunzipStep(false);
  let consumed = 0;
  let finished = false;
  const damage = (e: NodeJS.ErrnoException, at: number) => new GzipDamage(e.code, e.message, at);
  try {
    let chunk: Buffer | undefined = first;
    while (chunk !== undefined) {
      for (let off = 0; off < chunk.length; off += GZ_SLICE) {
        const slice = chunk.subarray(off, off + GZ_SLICE);
        const r = await ahead.push(slice);
        if (!Array.isArray(r)) {
          // The trailing decoder re-reads the failing slice byte by byte, keeping its text this time.
          behind.keep = true;
          for (let i = 0; i < slice.length; i++) {
            const o = await behind.push(slice.subarray(i, i + 1));
            if (!Array.isArray(o)) throw damage(o, consumed + i);
            for (const c of o) yield c;
          }
          throw damage(r, consumed + slice.length);
        }
        for (const c of r) yield c;
        const b = await behind.push(slice);
        if (!Array.isArray(b)) throw damage(b, consumed);
        consumed += slice.length;
      }
      const n = await rest.next();
      chunk = n.done ? undefined : n.value;
    }
    finished = true;
    const r = await ahead.end();
    if (!Array.isArray(r)) throw damage(r, consumed);
    for (const c of r) yield c;
  } finally {
    ahead.destroy();
    behind.destroy();
    if (!finished) await rest.return?.();
  }
}

/**
 * Gunzips `first` and the rest of the stream with one zlib stream and large writes — the reader of
 * `logferry query`, where gzip decoding is a large share of the scan. On damage it ends with
 * `GzipDamage` (the query reports the object and the bytes lost, exit 3); text zlib decoded inside the
 * failing write but had not handed out yet (at most one 256 KiB output chunk) is not yielded. The
 * delivery paths, which must not lose a decodable line, use `gunzipChunksExact` (about 2.3× the CPU).
 */
export async function* gunzipChunksFast(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  const gz = createGunzip({ chunkSize: 256 * 1024 });
  let sourceFailed = false;
  // After a zlib error the stream is destroyed: waits end at 'close' instead of a 'drain' that never comes.
  const closed = new Promise<void>((r) => gz.once('close', () => r()));
  const drained = () => Promise.race([new Promise<void>((r) => gz.once('drain', () => r())), closed]);
  const feed = (async () => {
    try {
      if (!gz.write(first)) await drained();
      for (;;) {
        if (gz.destroyed) {
          await rest.return?.();
          return;
        }
        const n = await rest.next();
        if (n.done) break;
        if (!gz.write(n.value)) await drained();
      }
      if (gz.destroyed) return;
      // Flush what the input decodes to before ending: a truncated stream fails at the end, and
      // zlib drops the output of the failing call; flushed first, every decodable line gets out.
      await Promise.race([new Promise<void>((r) => gz.flush(constants.Z_SYNC_FLUSH, () => r())), closed]);
      if (!gz.destroyed) gz.end();
    } catch (e) {
      sourceFailed = true;
      gz.destroy(e as Error);
    }
  })();
  try {
    for await (const c of gz) yield c as Buffer;
  } catch (e) {
    // A read error of the source (not zlib's) stays an error: the object was not read.
    const err = e as NodeJS.ErrnoException;
    await feed;
    if (sourceFailed || typeof err?.code !== 'string' || !err.code.startsWith('Z_')) throw e;
    throw new GzipDamage(err.code, err.message, gz.bytesWritten);
  }
  await feed;
}

export async function scanObject(
  source: AsyncIterable<Buffer | Uint8Array>,
  spec: ObjectScanSpec,
): Promise<ObjectScanStats> {
  const stats = emptyObjectStats();
  const it = (async function* () {
    for await (const c of source) {
      const b = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      stats.bytesIn += b.length;
      yield b;
    }
  })();
  const first = await it.next();
  if (first.done) return stats;
  // A zstd/Snappy/Parquet/binary object read as text would give garbage rows: refused, so the scan
  // reports it as not read (exit 3) instead.
  const binary = binaryObjectKind(first.value);
  if (binary !== undefined)
    throw new Error(
      `not an archive object: ${binary}, neither gzip nor text (logferry reads gzip or plain-text objects)`,
    );
  const text: AsyncIterable<Buffer> = isGzip(first.value)
    ? (spec.exactGzip ? gunzipChunksExact : gunzipChunksFast)(first.value, it)
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

  const pointers = spec.pointers === true;
  // 1-based number of the line being handled (counted only when pointers are on).
  let lineNo = 0;
  const processLine = async (line: string) => {
    const row = decodeLine(line, info);
    if (row === undefined) return;
    if (pointers && row['@ptr'] === undefined) row['@ptr'] = `${info.key}:${lineNo}`;
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
    let newlines = 0;
    for (let nl = s.indexOf('\n'); nl !== -1; nl = s.indexOf('\n', nl + 1)) {
      if (nl > prev + 1 && !(nl === prev + 2 && s.charCodeAt(nl - 1) === 13)) stats.recordsScanned++;
      prev = nl;
      newlines++;
    }
    if (prev < s.length - 1) stats.recordsScanned++;
    // Line numbers for @ptr: newlines before each matched line, counted once, front to back.
    const base = lineNo;
    let counted = 0;
    let before = 0;
    let at = s.indexOf(anchor as string);
    while (at !== -1) {
      const ls = s.lastIndexOf('\n', at) + 1;
      if (pointers) {
        for (let i = s.indexOf('\n', counted); i !== -1 && i < ls; i = s.indexOf('\n', i + 1)) before++;
        counted = ls;
        lineNo = base + before + 1;
      }
      let le = s.indexOf('\n', at);
      if (le === -1) le = s.length;
      let line = s.slice(ls, le);
      if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
      if (linePasses(line, requirement)) await processLine(line);
      at = le >= s.length ? -1 : s.indexOf(anchor as string, le + 1);
    }
    lineNo = base + newlines + 1;
  };

  const handle = async (s: string) => {
    if (!anchorChosen) chooseAnchor(s);
    // The grep path jumps over lines but still numbers them (for @ptr).
    if (anchor !== undefined && !s.includes('\\u') && !s.includes('\\/')) return grep(s);
    let from = 0;
    for (;;) {
      let nl = s.indexOf('\n', from);
      const last = nl === -1;
      if (last) nl = s.length;
      lineNo++;
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

  // Linear line splitting with a length cap (see the file comment).
  const maxLine = Math.max(1, spec.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  const piece = Math.min(PIECE_BYTES, maxLine);
  let parts: Buffer[] = [];
  let held = 0;
  let skipping = false;
  let skipped = 0;
  const hold = (b: Buffer) => {
    if (b.length === 0) return;
    if (skipping) {
      skipped += b.length;
      return;
    }
    if (held + b.length > maxLine) {
      skipping = true;
      skipped = held + b.length;
      parts = [];
      held = 0;
      return;
    }
    parts.push(b);
    held += b.length;
  };
  const flushHeld = async () => {
    if (skipping) {
      stats.linesTooLong++;
      lineNo++;
      stats.bytesTooLong += skipped;
      skipping = false;
      skipped = 0;
      return;
    }
    if (held === 0) return;
    const line = parts.length === 1 ? parts[0].toString('utf8') : Buffer.concat(parts, held).toString('utf8');
    parts = [];
    held = 0;
    await handle(line);
  };
  const feedPiece = async (c: Buffer) => {
    let from = 0;
    if (held > 0 || skipping) {
      const nl = c.indexOf(10);
      if (nl === -1) {
        hold(c);
        return;
      }
      hold(c.subarray(0, nl));
      await flushHeld();
      from = nl + 1;
    }
    const last = c.lastIndexOf(10);
    if (last >= from) {
      // A piece is at most `maxLine` bytes, so every line inside it is within the cap.
      if (last > from || pointers) await handle(c.toString('utf8', from, last));
      from = last + 1;
    }
    if (from < c.length) hold(c.subarray(from));
  };

  try {
    for await (const chunk of text) {
      stats.bytesText += chunk.length;
      if (chunk.length <= piece) await feedPiece(chunk);
      else for (let o = 0; o < chunk.length; o += piece) await feedPiece(chunk.subarray(o, o + piece));
    }
  } catch (e) {
    if (!(e instanceof GzipDamage)) throw e;
    // Keep what was decoded before the damage; the line cut by it is incomplete: drop and count it.
    const partial = skipping ? skipped : held;
    parts = [];
    held = 0;
    skipping = false;
    const undecoded = spec.sizeBytes !== undefined ? Math.max(0, spec.sizeBytes - e.consumed) : 0;
    const what =
      e.code === 'Z_BUF_ERROR'
        ? 'gzip data ends early (truncated object)'
        : `gzip data is corrupt (${e.message})`;
    const lost: string[] = [];
    if (partial > 0) lost.push(`the incomplete line at the damage (${partial} bytes of text) was dropped`);
    if (undecoded > 0) lost.push(`${undecoded} of ${spec.sizeBytes} compressed bytes could not be decoded`);
    stats.damage = {
      message: `${what}: the ${stats.bytesText - partial} bytes of text before the damage were read${lost.length ? `; ${lost.join('; ')}` : ''}`,
      bytesLost: partial + undecoded,
    };
  }
  await flushHeld();
  if (pending.length) await spec.emit(pending);
  return stats;
}
