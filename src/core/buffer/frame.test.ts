import { describe, expect, it } from 'vitest';
import { crc32, encodeFrame, FRAME_HEADER_BYTES, scanFrames } from './frame.js';

const f = (s: string, t = 1) => encodeFrame(Buffer.from(s), t);

describe('disk buffer frames', () => {
  it('round-trips entries with their append time; the CRC is the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const buf = Buffer.concat([f('one', 10), f('two', 20)]);
    const r = scanFrames(buf, true);
    expect(r.frames.map((x) => [x.payload.toString(), x.time])).toEqual([
      ['one', 10],
      ['two', 20],
    ]);
    expect(r.skips).toEqual([]);
    expect(r.end).toBe(buf.length);
  });

  it('skips a corrupted entry (CRC) and garbage between entries, with reasons, and goes on', () => {
    const a = f('alpha');
    const b = f('bravo');
    b[FRAME_HEADER_BYTES + 1] ^= 0xff; // flip payload bits
    const c = f('charlie');
    const junk = Buffer.from('xxxxLFB1yyyy');
    const r = scanFrames(Buffer.concat([a, b, junk, c]), true);
    expect(r.frames.map((x) => x.payload.toString())).toEqual(['alpha', 'charlie']);
    expect(r.skips.map((s) => s.reason)).toEqual(['CRC_MISMATCH']);
    expect(r.skips[0].bytes).toBe(b.length + junk.length);
    const g = scanFrames(Buffer.concat([Buffer.from('garbage!'), c]), true);
    expect(g.skips).toEqual([{ at: 0, bytes: 8, reason: 'BAD_FRAME' }]);
    expect(g.frames[0].payload.toString()).toBe('charlie');
  });

  it('waits on an entry still being written; a final torn tail is skipped as TORN_WRITE', () => {
    const a = f('alpha');
    const b = f('bravo');
    const buf = Buffer.concat([a, b.subarray(0, b.length - 2)]);
    const open = scanFrames(buf, false);
    expect(open.frames).toHaveLength(1);
    expect(open.skips).toEqual([]);
    expect(open.end).toBe(a.length);
    const fin = scanFrames(buf, true);
    expect(fin.skips).toEqual([{ at: a.length, bytes: b.length - 2, reason: 'TORN_WRITE' }]);
  });

  it('stops at the entry and byte limits (at least one entry)', () => {
    const buf = Buffer.concat([f('a'), f('b'), f('c')]);
    expect(scanFrames(buf, true, 2).frames).toHaveLength(2);
    expect(scanFrames(buf, true, 10, 1).frames).toHaveLength(1);
  });
});
