/**
 * Object bytes → numbered lines, streamed: gzip is detected by its magic bytes (else the bytes are
 * text), decompression and the damage report reuse the archive scanner's (query/backends/
 * scan-object.ts), and lines leave in chunks so memory is bounded by one chunk plus one held line,
 * whatever the object's size. Splitting is linear: the text is cut into pieces of at most
 * `maxLineBytes`, the complete lines of a piece are split in one pass, and a line that spans pieces
 * is held as a list of parts joined once when its newline arrives. A line longer than
 * `maxLineBytes` is never held: its bytes are counted up to the next newline and it is reported as
 * `tooLong` (with its first bytes, for the dead-letter entry). A damaged gzip stream (truncated or
 * corrupt) ends with `damage` after every line decoded before it; the line cut by the damage is
 * not delivered (it is incomplete) and is covered by the damage report.
 *
 * Line numbers are 1-based and count every line, blank ones too, so a line's number is a pure
 * function of the object: it is half of each record's deterministic id and the unit of the resume
 * position (`skipThrough`: lines up to and including it are read past, not emitted).
 */
import { GzipDamage, gunzipChunksExact, isGzip } from '../../query/backends/scan-object.js';

/** Default cap on one line: a CloudWatch event is ≤ 1 MB and an ndjson document of one stays well under 4 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;
/** Bytes of a too-long line kept for the dead-letter entry. */
export const TOO_LONG_HEAD_BYTES = 1024;

export interface LineChunk {
  type: 'lines';
  /** Non-blank lines and their numbers. */
  lines: string[];
  numbers: number[];
  /** Number of the last line this chunk covers (blank lines included): the resume position after it. */
  through: number;
  /** Bytes of text in the chunk. */
  bytes: number;
}

export interface TooLongLine {
  type: 'tooLong';
  line: number;
  bytes: number;
  /** The line's first bytes (text, possibly cut inside a character). */
  head: string;
}

export interface Damage {
  type: 'damage';
  code: 'S3_OBJECT_GZIP_TRUNCATED' | 'S3_OBJECT_GZIP_CORRUPT';
  /** Lines 1..afterLine were read; the rest could not be decoded. */
  afterLine: number;
  message: string;
}

export type LineEvent = LineChunk | TooLongLine | Damage;

export interface LineOptions {
  /** Lines up to and including this number are read past and not emitted (resume). */
  skipThrough?: number;
  chunkLines?: number;
  chunkBytes?: number;
  maxLineBytes?: number;
}

export interface LineStats {
  /** Bytes read from storage (compressed for gzip). */
  bytesIn: number;
  /** Bytes of text. */
  bytesText: number;
  lines: number;
  linesSkipped: number;
  linesTooLong: number;
  gzip: boolean;
}

export function emptyLineStats(): LineStats {
  return { bytesIn: 0, bytesText: 0, lines: 0, linesSkipped: 0, linesTooLong: 0, gzip: false };
}

/** Streams `source` as line events. `stats` is updated as it goes. */
export async function* objectLines(
  source: AsyncIterable<Uint8Array>,
  opts: LineOptions = {},
  stats: LineStats = emptyLineStats(),
): AsyncGenerator<LineEvent> {
  const skipThrough = opts.skipThrough ?? 0;
  const chunkLines = Math.max(1, opts.chunkLines ?? 1_000);
  const chunkBytes = Math.max(1, opts.chunkBytes ?? 1024 * 1024);
  const maxLine = Math.max(1, opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  const piece = Math.min(1024 * 1024, maxLine);

  const counted = (async function* () {
    for await (const c of source) {
      const b = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      stats.bytesIn += b.length;
      yield b;
    }
  })();
  const first = await counted.next();
  if (first.done) return;
  stats.gzip = isGzip(first.value);
  const text: AsyncIterable<Buffer> = stats.gzip
    ? gunzipChunksExact(first.value, counted)
    : (async function* () {
        yield first.value;
        for (;;) {
          const n = await counted.next();
          if (n.done) return;
          yield n.value;
        }
      })();

  let lineNo = 0;
  let lines: string[] = [];
  let numbers: number[] = [];
  let bytes = 0;
  const out: LineEvent[] = [];
  const cut = () => {
    out.push({ type: 'lines', lines, numbers, through: lineNo, bytes });
    lines = [];
    numbers = [];
    bytes = 0;
  };
  const addLine = (line: string, len: number) => {
    lineNo++;
    stats.lines++;
    if (lineNo <= skipThrough) {
      stats.linesSkipped++;
      return;
    }
    if (line.length > 0 && !(line.length === 1 && line.charCodeAt(0) === 13)) {
      lines.push(line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line);
      numbers.push(lineNo);
      bytes += len;
    }
    if (lines.length >= chunkLines || bytes >= chunkBytes) cut();
  };
  let parts: Buffer[] = [];
  let held = 0;
  let skipping = false;
  let skipped = 0;
  let head = '';
  const hold = (b: Buffer) => {
    if (b.length === 0) return;
    if (skipping) {
      skipped += b.length;
      return;
    }
    if (held + b.length > maxLine) {
      skipping = true;
      skipped = held + b.length;
      const all = Buffer.concat([...parts, b.subarray(0, TOO_LONG_HEAD_BYTES)]);
      head = all.toString('utf8', 0, Math.min(all.length, TOO_LONG_HEAD_BYTES));
      parts = [];
      held = 0;
      return;
    }
    parts.push(b);
    held += b.length;
  };
  const flushHeld = () => {
    if (skipping) {
      lineNo++;
      stats.lines++;
      if (lineNo <= skipThrough) stats.linesSkipped++;
      else {
        stats.linesTooLong++;
        if (lines.length > 0 || bytes > 0) cut();
        out.push({ type: 'tooLong', line: lineNo, bytes: skipped, head });
      }
      skipping = false;
      skipped = 0;
      head = '';
      return;
    }
    const line = parts.length === 1 ? parts[0].toString('utf8') : Buffer.concat(parts, held).toString('utf8');
    const len = held;
    parts = [];
    held = 0;
    addLine(line, len);
  };
  const splitPiece = (c: Buffer, from: number, last: number) => {
    // [from, last) holds complete lines separated by \n (last is the final newline's index).
    const s = c.toString('utf8', from, last);
    let at = 0;
    for (;;) {
      const nl = s.indexOf('\n', at);
      if (nl === -1) {
        addLine(s.slice(at), s.length - at);
        return;
      }
      addLine(s.slice(at, nl), nl - at);
      at = nl + 1;
    }
  };
  const feedPiece = (c: Buffer) => {
    let from = 0;
    if (held > 0 || skipping) {
      const nl = c.indexOf(10);
      if (nl === -1) {
        hold(c);
        return;
      }
      hold(c.subarray(0, nl));
      flushHeld();
      from = nl + 1;
    }
    const last = c.lastIndexOf(10);
    if (last >= from) {
      splitPiece(c, from, last);
      from = last + 1;
    }
    if (from < c.length) hold(c.subarray(from));
  };

  try {
    for await (const chunk of text) {
      stats.bytesText += chunk.length;
      if (chunk.length <= piece) feedPiece(chunk);
      else for (let o = 0; o < chunk.length; o += piece) feedPiece(chunk.subarray(o, o + piece));
      if (out.length > 0) {
        yield* out;
        out.length = 0;
      }
    }
  } catch (e) {
    if (!(e instanceof GzipDamage)) throw e;
    const partial = skipping ? skipped : held;
    parts = [];
    held = 0;
    skipping = false;
    if (lines.length > 0) cut();
    yield* out;
    out.length = 0;
    const what =
      e.code === 'Z_BUF_ERROR'
        ? 'gzip data ends early (truncated object)'
        : `gzip data is corrupt (${e.message})`;
    yield {
      type: 'damage',
      code: e.code === 'Z_BUF_ERROR' ? 'S3_OBJECT_GZIP_TRUNCATED' : 'S3_OBJECT_GZIP_CORRUPT',
      afterLine: lineNo,
      message: `${what}: lines 1–${lineNo} (${stats.bytesText - partial} bytes of text) were read; everything after line ${lineNo}${partial > 0 ? `, starting with an incomplete line of ${partial} bytes,` : ''} could not be decoded`,
    };
    return;
  }
  if (held > 0 || skipping) flushHeld();
  if (lines.length > 0) cut();
  yield* out;
}
