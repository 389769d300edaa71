import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskBuffer } from './disk-buffer.js';
import { encodeFrame, FRAME_HEADER_BYTES } from './frame.js';

const root = mkdtempSync(join(tmpdir(), 'lf-diskbuf-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `b${++n}`);
const frames = (from: number, count: number, pad = 0) =>
  Array.from({ length: count }, (_, i) =>
    encodeFrame(Buffer.from(`rec-${from + i}${'.'.repeat(pad)}`), Date.now()),
  );
const texts = (r: { entries: { payload: Buffer }[] }) =>
  r.entries.map((e) => e.payload.toString().replace(/\.+$/, ''));

describe('DiskBuffer', () => {
  it('stores, reads back in order, and replays what was not committed after a restart', async () => {
    const dir = fresh();
    const b = await DiskBuffer.open(dir, { maxBytes: 1 << 20 });
    expect(await b.append(frames(0, 5), 'block')).toBe(5);
    const r1 = await b.read(3, 1 << 20);
    expect(texts(r1)).toEqual(['rec-0', 'rec-1', 'rec-2']);
    await b.commit(r1.end, 3);
    const r2 = await b.read(10, 1 << 20);
    expect(texts(r2)).toEqual(['rec-3', 'rec-4']);
    await b.markInflight(r2.end); // "crash" while delivering rec-3, rec-4
    await b.close();

    const again = await DiskBuffer.open(dir, { maxBytes: 1 << 20 });
    expect(again.stats.replayed).toBe(2);
    expect(again.stats.possibleDuplicates).toBe(2);
    expect(texts(await again.read(10, 1 << 20))).toEqual(['rec-3', 'rec-4']);
    await again.close();
  });

  it('cuts a torn tail at recovery and counts it; appends after it read cleanly', async () => {
    const dir = fresh();
    const b = await DiskBuffer.open(dir, { maxBytes: 1 << 20 });
    await b.append(frames(0, 2), 'block');
    await b.close();
    const seg = join(dir, readdirSync(dir).find((f) => f.endsWith('.seg')) as string);
    const half = encodeFrame(Buffer.from('torn'), 1).subarray(0, FRAME_HEADER_BYTES + 2);
    appendFileSync(seg, half);
    const r = await DiskBuffer.open(dir, { maxBytes: 1 << 20 });
    expect(r.stats.corrupt).toEqual({ TORN_WRITE: 1 });
    expect(r.stats.replayed).toBe(2);
    await r.append(frames(2, 1), 'block');
    expect(texts(await r.read(10, 1 << 20))).toEqual(['rec-0', 'rec-1', 'rec-2']);
    await r.close();
  });

  it('skips an entry corrupted on disk, counting the reason', async () => {
    const dir = fresh();
    const b = await DiskBuffer.open(dir, { maxBytes: 1 << 20 });
    await b.append(frames(0, 3), 'block');
    await b.close();
    const seg = join(dir, readdirSync(dir).find((f) => f.endsWith('.seg')) as string);
    const bytes = readFileSync(seg);
    const one = frames(0, 1)[0].length;
    bytes[one + FRAME_HEADER_BYTES + 1] ^= 0x55; // inside rec-1's payload
    writeFileSync(seg, bytes);
    const r = await DiskBuffer.open(dir, { maxBytes: 1 << 20 });
    expect(texts(await r.read(10, 1 << 20))).toEqual(['rec-0', 'rec-2']);
    expect(r.stats.corrupt).toEqual({ CRC_MISMATCH: 1 });
    await r.close();
  });

  it('rotates segments and deletes them once committed; disk use stays under the cap', async () => {
    const dir = fresh();
    const b = await DiskBuffer.open(dir, { maxBytes: 1 << 20, maxSegmentBytes: 4096 });
    for (let i = 0; i < 20; i++) await b.append(frames(i * 10, 10, 40), 'block');
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg')).length).toBeGreaterThanOrEqual(3);
    let got = 0;
    for (;;) {
      const r = await b.read(25, 1 << 20);
      if (r.entries.length === 0) break;
      got += r.entries.length;
      await b.commit(r.end, r.entries.length);
    }
    expect(got).toBe(200);
    const segs = readdirSync(dir).filter((f) => f.endsWith('.seg'));
    expect(segs).toHaveLength(1);
    expect(statSync(join(dir, segs[0])).size).toBe(0);
    expect(b.stats.diskBytes).toBe(0);
    expect(b.pending).toBe(0);
    await b.close();
  });

  it('when full: drop_newest stores what fits and counts the rest; block waits for a commit', async () => {
    const dir = fresh();
    const size = frames(0, 1, 1000)[0].length;
    const b = await DiskBuffer.open(dir, { maxBytes: size * 4 + 10, maxSegmentBytes: size * 2 });
    expect(await b.append(frames(0, 3, 1000), 'drop_newest')).toBe(3);
    expect(await b.append(frames(3, 3, 1000), 'drop_newest')).toBe(1);
    expect(b.stats.droppedFull).toBe(2);
    let stored = false;
    const blocked = b.append(frames(4, 1, 1000), 'block').then((k) => {
      stored = true;
      return k;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(stored).toBe(false);
    const r = await b.read(3, 1 << 20);
    await b.commit(r.end, 3); // frees the first segment (three entries)
    expect(await blocked).toBe(1);
    const ac = new AbortController();
    const never = b.append(frames(9, 4, 1000), 'block', ac.signal);
    ac.abort();
    await expect(never).rejects.toThrow(/disk buffer is full/);
    await b.close();
  });
});
