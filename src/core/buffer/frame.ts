/**
 * The entry format of disk buffer segments. Each entry is
 *
 *   magic "LFB1" (4) | payload length u32 LE (4) | CRC-32 u32 LE (4) | append time f64 LE (8) | payload
 *
 * where the CRC-32 (the zlib/IEEE polynomial) covers the append time and the payload. A reader that
 * meets a bad magic, an impossible length or a CRC mismatch skips forward to the next offset where
 * a whole valid entry starts (`scanFrames`), and reports what it skipped with a reason.
 */
import * as zlib from 'node:zlib';

export const FRAME_MAGIC = 0x3142464c; // "LFB1" read as u32 LE
export const FRAME_HEADER_BYTES = 20;
/** Largest payload accepted (a record of a 64 MiB line plus its fields). */
export const MAX_FRAME_PAYLOAD = 128 * 1024 * 1024;

const nativeCrc = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let TABLE: Uint32Array | undefined;
function tableCrc(data: Uint8Array, value = 0): number {
  if (!TABLE) {
    TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      TABLE[n] = c >>> 0;
    }
  }
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 (IEEE), zlib's where Node has it (20.15+), a table otherwise. */
export const crc32: (data: Uint8Array, value?: number) => number = nativeCrc ?? tableCrc;

/** One entry holding `text` as UTF-8, ready to append (one allocation, no intermediate copy). */
export function encodeTextFrame(text: string, time: number): Buffer {
  const len = Buffer.byteLength(text, 'utf8');
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + len);
  out.writeUInt32LE(FRAME_MAGIC, 0);
  out.writeUInt32LE(len, 4);
  out.writeDoubleLE(time, 12);
  out.write(text, FRAME_HEADER_BYTES, 'utf8');
  out.writeUInt32LE(crc32(out.subarray(12)), 8);
  return out;
}

/** One entry ready to append. */
export function encodeFrame(payload: Buffer, time: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32LE(FRAME_MAGIC, 0);
  out.writeUInt32LE(payload.length, 4);
  out.writeDoubleLE(time, 12);
  payload.copy(out, FRAME_HEADER_BYTES);
  out.writeUInt32LE(crc32(out.subarray(12)), 8);
  return out;
}

export interface Frame {
  /** Offset of the entry in the scanned buffer. */
  at: number;
  /** Bytes the entry takes (header + payload). */
  size: number;
  time: number;
  payload: Buffer;
}

export interface Skip {
  at: number;
  bytes: number;
  reason: 'BAD_FRAME' | 'CRC_MISMATCH' | 'TORN_WRITE';
}

/** Whether a whole valid entry starts at `at` (undefined: not enough bytes to tell). */
function validAt(buf: Buffer, at: number): Frame | false | undefined {
  if (buf.length - at < FRAME_HEADER_BYTES) return undefined;
  if (buf.readUInt32LE(at) !== FRAME_MAGIC) return false;
  const len = buf.readUInt32LE(at + 4);
  if (len > MAX_FRAME_PAYLOAD) return false;
  if (buf.length - at < FRAME_HEADER_BYTES + len) return undefined;
  const crc = buf.readUInt32LE(at + 8);
  if (crc32(buf.subarray(at + 12, at + FRAME_HEADER_BYTES + len)) !== crc) return false;
  return {
    at,
    size: FRAME_HEADER_BYTES + len,
    time: buf.readDoubleLE(at + 12),
    payload: buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + len),
  };
}

/**
 * Scans `buf` (bytes of a segment from some offset) for entries. Stops at the first incomplete
 * entry and returns where (`end`): more bytes may complete it. With `final` (nothing more will be
 * written there) an incomplete tail is a torn write, skipped with that reason. Limits: at most
 * `maxFrames` entries / `maxBytes` payload bytes (at least one entry).
 */
export function scanFrames(
  buf: Buffer,
  final: boolean,
  maxFrames = Number.POSITIVE_INFINITY,
  maxBytes = Number.POSITIVE_INFINITY,
): { frames: Frame[]; skips: Skip[]; end: number } {
  const frames: Frame[] = [];
  const skips: Skip[] = [];
  let at = 0;
  let bytes = 0;
  while (at < buf.length && frames.length < maxFrames) {
    const f = validAt(buf, at);
    if (f) {
      if (frames.length > 0 && bytes + f.size > maxBytes) break;
      frames.push(f);
      bytes += f.size;
      at += f.size;
      continue;
    }
    if (f === undefined && !final) break; // may still be being written
    // Corrupt (or torn, at the end): find the next offset where a whole valid entry starts.
    const reason: Skip['reason'] =
      f === undefined
        ? 'TORN_WRITE'
        : buf.readUInt32LE(at) === FRAME_MAGIC && buf.readUInt32LE(at + 4) <= MAX_FRAME_PAYLOAD
          ? 'CRC_MISMATCH'
          : 'BAD_FRAME';
    let next = at + 1;
    for (;;) {
      next = buf.indexOf('LFB1', next, 'latin1');
      if (next < 0) {
        next = buf.length;
        break;
      }
      const g = validAt(buf, next);
      if (g) break;
      if (g === undefined && !final) break;
      next++;
    }
    if (next >= buf.length && !final) {
      // The rest might be an entry still being written after the corrupt one: keep it for later.
      break;
    }
    skips.push({
      at,
      bytes: next - at,
      reason: next >= buf.length && f === undefined ? 'TORN_WRITE' : reason,
    });
    at = next;
  }
  return { frames, skips, end: at };
}
