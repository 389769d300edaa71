import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileTailer, type TailedLine } from './tail.js';

const dir = mkdtempSync(join(tmpdir(), 'lf-tail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(path: string, readBufferBytes: number): Promise<TailedLine[]> {
  const t = new FileTailer({ include: [path], readFromHead: true, once: true, readBufferBytes });
  const lines: TailedLine[] = [];
  for await (const ev of t.read(new AbortController().signal))
    if (ev.kind === 'lines') lines.push(...ev.lines);
  return lines;
}

describe('FileTailer reads', () => {
  it('give the same text and byte offsets for ASCII reads (decoded once) and UTF-8 reads (per line)', async () => {
    const texts = ['plain ascii', 'héllo wörld ✓', '', 'x'.repeat(5000), '日本語のログ', 'tail'];
    const path = join(dir, 'mixed.log');
    writeFileSync(path, `${texts.join('\n')}\n`);
    let offset = 0;
    const want = texts.map((text) => {
      const end = offset + Buffer.byteLength(text) + 1;
      const l = { text, offset, end, truncated: false };
      offset = end;
      return l;
    });
    // Small reads: some are pure ASCII, some hold UTF-8, lines span reads.
    for (const size of [4096, 64 * 1024]) expect(await readAll(path, size)).toEqual(want);
  });
});
