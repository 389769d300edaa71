/**
 * Finds where one MessagePack object ends in a byte stream without decoding it, so the forward
 * source can cut a TCP stream into messages, bound their size before holding them, and slice a
 * PackedForward's entries out of a message without copying them. The scan is resumable: a message
 * arriving in many TCP segments is scanned once, not once per segment.
 */

/** Thrown for bytes that are not MessagePack (0xc1, never used). */
export class FrameError extends Error {}

/** Scan state: where the scan stands and how many objects are still to be skipped. */
export interface ScanState {
  pos: number;
  need: number;
}

/**
 * Continues scanning `buf[0..len)` from `st`; returns the end offset of the object that started at
 * the scan's origin, or -1 when more bytes are needed (`st` then holds where to resume).
 */
export function scan(buf: Uint8Array, len: number, st: ScanState): number {
  let pos = st.pos;
  let need = st.need;
  while (need > 0) {
    if (pos >= len) break;
    const b = buf[pos];
    let head = 1;
    let body = 0;
    let items = 0;
    if (b <= 0x7f || b >= 0xe0) {
      // fixint
    } else if (b <= 0x8f) items = (b & 0x0f) * 2;
    else if (b <= 0x9f) items = b & 0x0f;
    else if (b <= 0xbf) body = b & 0x1f;
    else {
      switch (b) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
          break;
        case 0xc4:
        case 0xd9:
          head = 2;
          if (pos + 2 > len) return save(st, pos, need);
          body = buf[pos + 1];
          break;
        case 0xc5:
        case 0xda:
          head = 3;
          if (pos + 3 > len) return save(st, pos, need);
          body = (buf[pos + 1] << 8) | buf[pos + 2];
          break;
        case 0xc6:
        case 0xdb:
          head = 5;
          if (pos + 5 > len) return save(st, pos, need);
          body = u32(buf, pos + 1);
          break;
        case 0xc7:
          head = 3;
          if (pos + 2 > len) return save(st, pos, need);
          body = buf[pos + 1];
          break;
        case 0xc8:
          head = 4;
          if (pos + 3 > len) return save(st, pos, need);
          body = (buf[pos + 1] << 8) | buf[pos + 2];
          break;
        case 0xc9:
          head = 6;
          if (pos + 5 > len) return save(st, pos, need);
          body = u32(buf, pos + 1);
          break;
        case 0xca:
          head = 5;
          break;
        case 0xcb:
          head = 9;
          break;
        case 0xcc:
        case 0xd0:
          head = 2;
          break;
        case 0xcd:
        case 0xd1:
          head = 3;
          break;
        case 0xce:
        case 0xd2:
          head = 5;
          break;
        case 0xcf:
        case 0xd3:
          head = 9;
          break;
        case 0xd4:
          head = 3;
          break;
        case 0xd5:
          head = 4;
          break;
        case 0xd6:
          head = 6;
          break;
        case 0xd7:
          head = 10;
          break;
        case 0xd8:
          head = 18;
          break;
        case 0xdc:
          head = 3;
          if (pos + 3 > len) return save(st, pos, need);
          items = (buf[pos + 1] << 8) | buf[pos + 2];
          break;
        case 0xdd:
          head = 5;
          if (pos + 5 > len) return save(st, pos, need);
          items = u32(buf, pos + 1);
          break;
        case 0xde:
          head = 3;
          if (pos + 3 > len) return save(st, pos, need);
          items = ((buf[pos + 1] << 8) | buf[pos + 2]) * 2;
          break;
        case 0xdf:
          head = 5;
          if (pos + 5 > len) return save(st, pos, need);
          items = u32(buf, pos + 1) * 2;
          break;
        default:
          throw new FrameError(`byte 0x${b.toString(16)} at offset ${pos} is not MessagePack`);
      }
    }
    const end = pos + head + body;
    if (end > len) return save(st, pos, need);
    pos = end;
    need += items - 1;
  }
  st.pos = pos;
  st.need = need;
  return need === 0 ? pos : -1;
}

function save(st: ScanState, pos: number, need: number): number {
  st.pos = pos;
  st.need = need;
  return -1;
}

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) >>> 0) + (buf[at + 1] << 16) + (buf[at + 2] << 8) + buf[at + 3];
}

/** End of the complete object at `from` in `buf`, or -1 when it is incomplete. */
export function objectEnd(buf: Uint8Array, from: number, len = buf.length): number {
  return scan(buf, len, { pos: from, need: 1 });
}

/** Array header at `pos`: [element count, offset of the first element], or undefined if not an array. */
export function arrayHeader(buf: Uint8Array, pos: number): [number, number] | undefined {
  const b = buf[pos];
  if (b >= 0x90 && b <= 0x9f) return [b & 0x0f, pos + 1];
  if (b === 0xdc) return [(buf[pos + 1] << 8) | buf[pos + 2], pos + 3];
  if (b === 0xdd) return [u32(buf, pos + 1), pos + 5];
  return undefined;
}

/** The payload of a str or bin object at `pos` (no copy), or undefined for other types. */
export function rawBytes(buf: Uint8Array, pos: number): Uint8Array | undefined {
  const b = buf[pos];
  let head: number;
  let n: number;
  if (b >= 0xa0 && b <= 0xbf) {
    head = 1;
    n = b & 0x1f;
  } else if (b === 0xc4 || b === 0xd9) {
    head = 2;
    n = buf[pos + 1];
  } else if (b === 0xc5 || b === 0xda) {
    head = 3;
    n = (buf[pos + 1] << 8) | buf[pos + 2];
  } else if (b === 0xc6 || b === 0xdb) {
    head = 5;
    n = u32(buf, pos + 1);
  } else return undefined;
  return buf.subarray(pos + head, pos + head + n);
}
