import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type LineEvent, emptyLineStats, objectLines } from './lines.js';

async function collect(src: AsyncIterable<Uint8Array>, opts = {}) {
  const events: LineEvent[] = [];
  const stats = emptyLineStats();
  for await (const e of objectLines(src, opts, stats)) events.push(e);
  return { events, stats };
}

/** Yields the buffer in small pieces (lines cross chunk boundaries). */
async function* pieces(b: Buffer, size = 7) {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

const allLines = (events: LineEvent[]) =>
  events.flatMap((e) => (e.type === 'lines' ? e.lines.map((l, i) => [e.numbers[i], l] as const) : []));

describe('objectLines', () => {
  it('splits plain and gzip text alike, numbering every line (blank and CRLF included)', async () => {
    const text = 'one\r\n\ntwo\nthree é\nlast-without-newline';
    for (const body of [Buffer.from(text), gzipSync(text)]) {
      const { events, stats } = await collect(pieces(body), { chunkLines: 2 });
      expect(allLines(events)).toEqual([
        [1, 'one'],
        [3, 'two'],
        [4, 'three é'],
        [5, 'last-without-newline'],
      ]);
      expect(stats.lines).toBe(5);
      const last = events[events.length - 1];
      expect(last.type === 'lines' && last.through).toBe(5);
    }
  });
  it('skips lines up to a resume position', async () => {
    const { events, stats } = await collect(pieces(Buffer.from('a\nb\nc\nd\n')), { skipThrough: 2 });
    expect(allLines(events)).toEqual([
      [3, 'c'],
      [4, 'd'],
    ]);
    expect(stats.linesSkipped).toBe(2);
  });
  it('reports a line over the cap with its first bytes, without holding it, and goes on', async () => {
    const long = 'x'.repeat(5000);
    const { events, stats } = await collect(pieces(Buffer.from(`a\n${long}\nb\n`), 100), {
      maxLineBytes: 1000,
    });
    expect(allLines(events)).toEqual([
      [1, 'a'],
      [3, 'b'],
    ]);
    const tl = events.find((e) => e.type === 'tooLong');
    expect(tl).toMatchObject({ type: 'tooLong', line: 2, bytes: 5000 });
    expect(tl?.type === 'tooLong' && tl.head.length).toBe(1024);
    expect(stats.linesTooLong).toBe(1);
  });
  it('corrupt objects of the acceptance run: empty is nothing (no damage), a gzip header alone is truncated, concatenated gzip members are read whole', async () => {
    const empty = await collect(pieces(Buffer.alloc(0)));
    expect(empty.events).toEqual([]);
    expect(empty.stats.lines).toBe(0);
    for (const body of [Buffer.from([0x1f, 0x8b]), gzipSync('abc\n').subarray(0, 10)]) {
      const { events } = await collect(pieces(body));
      expect(events).toEqual([
        expect.objectContaining({ type: 'damage', code: 'S3_OBJECT_GZIP_TRUNCATED', afterLine: 0 }),
      ]);
    }
    const members = await collect(pieces(Buffer.concat([gzipSync('a\nb\n'), gzipSync('c\n')])));
    expect(allLines(members.events)).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
  });
  it('delivers the lines before gzip damage, then says what was lost', async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i + 1} ${'y'.repeat(i % 50)}`);
    const gz = gzipSync(`${lines.join('\n')}\n`);
    const { events } = await collect(pieces(gz.subarray(0, Math.floor(gz.length / 2)), 4096));
    const got = allLines(events);
    expect(got.length).toBeGreaterThan(1000);
    expect(got.length).toBeLessThan(50_000);
    for (const [n, l] of got) expect(l).toBe(lines[n - 1]);
    const dmg = events[events.length - 1];
    expect(dmg).toMatchObject({ type: 'damage', code: 'S3_OBJECT_GZIP_TRUNCATED' });
    expect(dmg.type === 'damage' && dmg.afterLine).toBeGreaterThanOrEqual(got[got.length - 1][0]);
  });
  it('a gzip member followed by junk in one piece (as S3 hands it over): every line of the member, then damage', async () => {
    const lines = Array.from({ length: 5_000 }, (_, i) => `line ${i + 1}`);
    const body = Buffer.concat([gzipSync(`${lines.join('\n')}\n`), Buffer.from('not gzip\n'.repeat(10))]);
    const { events } = await collect(pieces(body, body.length));
    expect(allLines(events).map(([, l]) => l)).toEqual(lines);
    expect(events[events.length - 1]).toMatchObject({ type: 'damage', afterLine: 5_000 });
  });
  it('streams a large gzip object in bounded memory (≈ 400 MB of text, heap growth well under it)', async () => {
    const line = `I1205 16:00:00.000000      10 httplog.go:132] "HTTP" verb="GET" URI="/readyz" latency="1.2ms" ${'z'.repeat(300)}\n`;
    const total = 400 * 1024 * 1024;
    const n = Math.ceil(total / line.length);
    const chunk = line.repeat(1000);
    const src = Readable.from(
      (function* () {
        for (let i = 0; i < n; i += 1000) yield chunk;
      })(),
    ).pipe(createGzip({ level: 1 }));
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let count = 0;
    for await (const e of objectLines(src)) {
      if (e.type === 'lines') count += e.lines.length;
      const h = process.memoryUsage().heapUsed;
      if (h > peak) peak = h;
    }
    expect(count).toBe(Math.ceil(n / 1000) * 1000);
    // Nothing per object is kept: the heap grows by a few chunks at most, not by the object's size.
    expect(peak - before).toBeLessThan(96 * 1024 * 1024);
  }, 120_000);
});
