import { constants, gzipSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compileQuery } from '../index.js';
import type { Row } from '../types.js';
import { parseObjectKey } from './partition-path.js';
import { lineRequirement } from './prune.js';
import { DEFAULT_MAX_LINE_BYTES, GZ_SLICE, scanObject } from './scan-object.js';

function doc(i: number, name: string): string {
  return JSON.stringify({
    '@timestamp': 1_000_000 + i,
    '@message': JSON.stringify({ verb: 'patch', objectRef: { name } }),
    '@logStream': 's',
  });
}

async function scan(text: string, query: string, chunkBytes = 64) {
  const compiled = compileQuery(query);
  const buf = gzipSync(Buffer.from(text));
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunkBytes) chunks.push(buf.subarray(i, i + chunkBytes));
  const rows: Row[] = [];
  const stats = await scanObject(
    (async function* () {
      yield* chunks;
    })(),
    {
      info: parseObjectKey('default/x.gz'),
      range: {},
      requirement: lineRequirement(compiled.pushdownFilters),
      rowStage: (r) => compiled.rowStage(r),
      histogram: new Map(),
      emit: (r) => {
        rows.push(...r);
      },
    },
  );
  return { rows, stats };
}

describe('scanObject', () => {
  const lines = Array.from({ length: 50 }, (_, i) => doc(i, i % 7 === 0 ? 'aws-auth' : 'coredns'));
  const text = `${lines.join('\n')}\n\n${lines.slice(0, 3).join('\r\n')}\r\n`;

  it('finds the same rows and counts the same records with and without the literal fast path', async () => {
    const fast = await scan(text, 'filter objectRef.name = "aws-auth"');
    const slow = await scan(text, 'filter objectRef.name = "aws-auth" or strlen(verb) > 100');
    expect(fast.rows.map((r) => r['@timestamp'])).toEqual(slow.rows.map((r) => r['@timestamp']));
    expect(fast.rows.length).toBe(8 + 1);
    expect(fast.stats.recordsScanned).toBe(53);
    expect(slow.stats.recordsScanned).toBe(53);
    expect(fast.stats.recordsMatched).toBe(9);
  });

  it('falls back to every line when a chunk has escapes that could hide the literal', async () => {
    const escaped = `${lines.slice(1, 5).join('\n')}\n{"@timestamp":5,"@message":"{\\"objectRef\\":{\\"name\\":\\"aws\\\\u002dauth\\"}}","@logStream":"s"}\n`;
    const r = await scan(escaped, 'filter objectRef.name = "aws-auth"', 1 << 20);
    expect(r.rows.map((x) => x['@timestamp'])).toEqual([5]);
    expect(r.stats.recordsScanned).toBe(5);
  });

  it('reads plain (not gzip) objects and lines split across chunks', async () => {
    const compiled = compileQuery('stats count(*) as n');
    const rows: Row[] = [];
    const data = Buffer.from(`${lines.join('\n')}`);
    const stats = await scanObject(
      (async function* () {
        for (let i = 0; i < data.length; i += 7) yield data.subarray(i, i + 7);
      })(),
      {
        info: parseObjectKey('default/x'),
        range: { startMs: 1_000_010 },
        requirement: [],
        rowStage: (r) => compiled.rowStage(r),
        histogram: new Map(),
        emit: (r) => {
          rows.push(...r);
        },
      },
    );
    expect(stats.recordsScanned).toBe(50);
    expect(stats.recordsMatched).toBe(40);
    expect(stats.bytesText).toBe(data.length);
  });

  describe('long lines', () => {
    const MiB = 1024 * 1024;
    async function scanChunks(
      chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
      opts: { maxLineBytes?: number; sizeBytes?: number } = {},
    ) {
      const compiled = compileQuery('fields @message');
      const rows: Row[] = [];
      const stats = await scanObject(
        (async function* () {
          yield* chunks;
        })(),
        {
          info: parseObjectKey('default/x'),
          range: {},
          requirement: [],
          rowStage: (r) => compiled.rowStage(r),
          histogram: new Map(),
          ...opts,
          emit: (r) => {
            rows.push(...r);
          },
        },
      );
      return { rows, stats };
    }

    it('skips and counts a line over the cap without holding it (160 MiB line, constant memory)', async () => {
      // The same 1 MiB buffer is yielded 160 times: a reader that held the line would need 160 MiB
      // (and, appending each chunk to the held bytes again, copy ~12 GiB).
      const block = Buffer.alloc(MiB, 0x61);
      const base = process.memoryUsage().arrayBuffers;
      let peak = 0;
      const { rows, stats } = await scanChunks(
        (function* () {
          yield Buffer.from('first\n');
          for (let i = 0; i < 160; i++) {
            peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
            yield block;
          }
          yield Buffer.from('\nafter 1\nafter 2');
        })(),
        { maxLineBytes: 4 * MiB },
      );
      expect(rows.map((r) => r['@message'])).toEqual(['first', 'after 1', 'after 2']);
      expect(stats.linesTooLong).toBe(1);
      expect(stats.bytesTooLong).toBe(160 * MiB);
      expect(stats.recordsScanned).toBe(3);
      expect(peak).toBeLessThan(48 * MiB);
    });

    it('applies the default cap to a gzip object holding one line without a newline', async () => {
      const line = Buffer.alloc(DEFAULT_MAX_LINE_BYTES + 10, 0x62);
      const gz = gzipSync(line, { level: 1 });
      const { rows, stats } = await scanChunks([gz.subarray(0, 1000), gz.subarray(1000)]);
      expect(rows).toEqual([]);
      expect(stats.linesTooLong).toBe(1);
      expect(stats.bytesTooLong).toBe(line.length);
      expect(stats.bytesText).toBe(line.length);
    });

    it('keeps a line of exactly the cap, across chunk boundaries and inside one large chunk', async () => {
      const cap = 1000;
      const ok = 'x'.repeat(cap);
      const long = 'y'.repeat(cap + 1);
      const text = Buffer.from(`${ok}\n${long}\n${ok}\n${long}`);
      for (const step of [7, 999, 1001, text.length]) {
        const chunks: Buffer[] = [];
        for (let i = 0; i < text.length; i += step) chunks.push(text.subarray(i, i + step));
        const { rows, stats } = await scanChunks(chunks, { maxLineBytes: cap });
        expect(
          rows.map((r) => (r['@message'] as string).length),
          `step ${step}`,
        ).toEqual([cap, cap]);
        expect(stats.linesTooLong, `step ${step}`).toBe(2);
        expect(stats.bytesTooLong, `step ${step}`).toBe(2 * (cap + 1));
      }
    });
  });

  describe('damaged gzip', () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'z'.repeat(40)}`);
    const text = `${lines.join('\n')}\n`;
    const gz = gzipSync(Buffer.from(text));
    const read = async (bytes: Buffer, sizeBytes?: number, step = 4096, exactGzip = true) => {
      const compiled = compileQuery('fields @message');
      const rows: Row[] = [];
      const stats = await scanObject(
        (async function* () {
          for (let i = 0; i < bytes.length; i += step) yield bytes.subarray(i, i + step);
        })(),
        {
          info: parseObjectKey('default/x.gz'),
          range: {},
          requirement: [],
          rowStage: (r) => compiled.rowStage(r),
          histogram: new Map(),
          sizeBytes,
          exactGzip,
          emit: (r) => {
            rows.push(...r);
          },
        },
      );
      return { rows, stats };
    };

    it('yields the complete lines before a truncation and says what was dropped', async () => {
      const { rows, stats } = await read(gz.subarray(0, Math.floor(gz.length / 2)));
      const got = rows.map((r) => r['@message']);
      expect(got.length).toBeGreaterThan(1000);
      expect(got.length).toBeLessThan(lines.length);
      expect(got).toEqual(lines.slice(0, got.length));
      expect(stats.damage?.message).toMatch(/truncated/);
      // What was decoded = the kept lines with their newlines + the dropped partial line.
      const kept = got.reduce((n: number, l) => n + Buffer.byteLength(String(l)) + 1, 0);
      expect(stats.damage?.bytesLost).toBe(stats.bytesText - kept);
      expect(stats.damage?.bytesLost).toBeGreaterThan(0);
    });

    it('a cut exactly after a line loses no text but is still reported', async () => {
      const { rows, stats } = await read(gz.subarray(0, gz.length - 4));
      expect(rows).toHaveLength(lines.length);
      expect(stats.damage?.message).toMatch(/truncated/);
      expect(stats.damage?.bytesLost).toBe(0);
    });

    it('reports corrupt data with the compressed bytes it could not decode', async () => {
      const bad = Buffer.from(gz);
      bad[3] = 0xff; // reserved FLG bits: an invalid header
      const { rows, stats } = await read(bad, bad.length);
      expect(rows).toEqual([]);
      expect(stats.damage?.message).toMatch(/corrupt/);
      expect(stats.damage?.bytesLost).toBeGreaterThan(0);
    });

    // The complete lines `zcat` gets from `bytes` up to `at` (everything decodable before the damage).
    const zcatLines = (bytes: Buffer, at: number) => {
      const t = gunzipSync(bytes.subarray(0, at), { finishFlush: constants.Z_SYNC_FLUSH }).toString();
      return t
        .slice(0, t.lastIndexOf('\n') + 1)
        .split('\n')
        .slice(0, -1);
    };
    const junk = Buffer.from('this is not gzip at all\n'.repeat(40));

    it('a whole member followed by junk, in one write, delivers every line of the member', async () => {
      const bad = Buffer.concat([gz, junk]);
      for (const step of [bad.length, 4096]) {
        const { rows, stats } = await read(bad, bad.length, step);
        expect(rows.map((r) => r['@message'])).toEqual(lines);
        expect(stats.damage?.message).toMatch(/corrupt/);
        // What could not be decoded is the junk (the member was read whole).
        expect(stats.damage?.bytesLost).toBeGreaterThan(0);
        expect(stats.damage?.bytesLost).toBeLessThanOrEqual(junk.length);
      }
    });

    it('concatenated members then junk deliver both members', async () => {
      const bad = Buffer.concat([gz, gz, junk]);
      const { rows, stats } = await read(bad, bad.length, bad.length);
      expect(rows.map((r) => r['@message'])).toEqual([...lines, ...lines]);
      expect(stats.damage).toBeDefined();
    });

    it('a member truncated mid-way, in one write, keeps what zcat keeps', async () => {
      const cut = gz.subarray(0, Math.floor(gz.length * 0.7));
      const want = zcatLines(cut, cut.length);
      expect(want.length).toBeGreaterThan(1000);
      const { rows, stats } = await read(cut, undefined, cut.length);
      expect(rows.map((r) => r['@message'])).toEqual(want);
      expect(stats.damage?.message).toMatch(/truncated/);
    });

    it('damage just before, at and after a slice boundary keeps the lines decoded before it', async () => {
      for (const at of [GZ_SLICE - 1, GZ_SLICE, GZ_SLICE + 1, 3 * GZ_SLICE + 7]) {
        const bad = Buffer.concat([gz.subarray(0, at), Buffer.alloc(64, 0xff)]);
        const want = zcatLines(gz, at);
        expect(want.length).toBeGreaterThan(100);
        for (const step of [bad.length, 1000]) {
          const { rows, stats } = await read(bad, bad.length, step);
          const got = rows.map((r) => r['@message']);
          // zlib may decode a few garbage bits past `at` before it sees the damage; no line before it is lost.
          expect(got.slice(0, want.length)).toEqual(want);
          expect(stats.damage).toBeDefined();
        }
      }
    });

    it("the query's fast reader reports the same damage and yields only lines before it", async () => {
      for (const bad of [gz.subarray(0, Math.floor(gz.length / 2)), Buffer.concat([gz, junk])]) {
        const exact = await read(bad, bad.length, 65536, true);
        const fast = await read(bad, bad.length, 65536, false);
        const got = fast.rows.map((r) => r['@message']);
        expect(got).toEqual(exact.rows.map((r) => r['@message']).slice(0, got.length));
        expect(fast.stats.damage).toBeDefined();
        expect(fast.stats.damage?.bytesLost).toBeGreaterThan(0);
      }
      const intact = await read(gz, gz.length, 65536, false);
      expect(intact.rows).toHaveLength(lines.length);
      expect(intact.stats.damage).toBeUndefined();
    });

    it('an intact object reports no damage', async () => {
      const { rows, stats } = await read(gz, gz.length);
      expect(rows).toHaveLength(lines.length);
      expect(stats.damage).toBeUndefined();
    });
  });

  it('numbers lines on the grep fast path too (many matches per chunk, blank and CRLF lines)', async () => {
    const compiled = compileQuery('fields @ptr, @message | filter @message like "hit"');
    const lines: string[] = [];
    const want: [string, string][] = [];
    for (let i = 1; i <= 3000; i++) {
      const l = i % 7 === 0 ? `hit ${i}` : i % 11 === 0 ? '' : `miss ${i}`;
      lines.push(i % 5 === 0 ? `${l}\r` : l);
      if (i % 7 === 0) want.push([`app/y.gz:${i}`, l]);
    }
    const text = Buffer.from(lines.join('\n'));
    for (const step of [1 << 20, 4096, 13]) {
      const rows: Row[] = [];
      await scanObject(
        (async function* () {
          for (let i = 0; i < text.length; i += step) yield text.subarray(i, i + step);
        })(),
        {
          info: parseObjectKey('app/y.gz'),
          range: {},
          requirement: lineRequirement(compiled.pushdownFilters),
          rowStage: (r) => compiled.rowStage(r),
          histogram: new Map(),
          pointers: true,
          emit: (r) => {
            rows.push(...r);
          },
        },
      );
      expect(
        rows.map((r) => [r['@ptr'], r['@message']]),
        `step ${step}`,
      ).toEqual(want);
    }
  });

  it('gives each row a pointer <key>:<line> counting every physical line', async () => {
    const compiled = compileQuery('fields @ptr, @message | filter @message like "hit"');
    const text = Buffer.from(`miss\n\nhit one\r\n${'x'.repeat(50)}\nhit two\nmiss\nhit three`);
    for (const step of [3, 1 << 20]) {
      const rows: Row[] = [];
      await scanObject(
        (async function* () {
          for (let i = 0; i < text.length; i += step) yield text.subarray(i, i + step);
        })(),
        {
          info: parseObjectKey('app/x.gz'),
          range: {},
          requirement: lineRequirement(compiled.pushdownFilters),
          rowStage: (r) => compiled.rowStage(r),
          histogram: new Map(),
          maxLineBytes: 20,
          pointers: true,
          emit: (r) => {
            rows.push(...r);
          },
        },
      );
      expect(
        rows.map((r) => [r['@ptr'], r['@message']]),
        `step ${step}`,
      ).toEqual([
        ['app/x.gz:3', 'hit one'],
        ['app/x.gz:5', 'hit two'],
        ['app/x.gz:7', 'hit three'],
      ]);
    }
  });
});
