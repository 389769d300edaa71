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

/** The lines a file of `texts` joined by newlines yields: text, byte offsets, none cut. */
function expectedLines(texts: string[]): TailedLine[] {
  let offset = 0;
  return texts.map((text) => {
    const end = offset + Buffer.byteLength(text) + 1;
    const l = { text, offset, end, truncated: false };
    offset = end;
    return l;
  });
}

describe('FileTailer reads', () => {
  it('give the same text and byte offsets for ASCII reads (decoded once) and UTF-8 reads (per line)', async () => {
    const texts = ['plain ascii', 'héllo wörld ✓', '', 'x'.repeat(5000), '日本語のログ', 'tail'];
    const path = join(dir, 'mixed.log');
    writeFileSync(path, `${texts.join('\n')}\n`);
    const want = expectedLines(texts);
    // Small reads: some are pure ASCII, some hold UTF-8, lines span reads.
    for (const size of [4096, 64 * 1024]) expect(await readAll(path, size)).toEqual(want);
  });

  it('cut reads larger than one decoded piece (64 KiB) at newlines without losing or moving a line', async () => {
    // ~600 KiB: runs of short lines, lines just under and over 64 KiB, UTF-8 lines among ASCII ones.
    const texts: string[] = [];
    for (let i = 0; i < 3000; i++) texts.push(`line ${i} ${'a'.repeat(i % 97)}`);
    texts.push('b'.repeat(64 * 1024 - 1), 'c'.repeat(64 * 1024), 'd'.repeat(64 * 1024 + 1), '');
    for (let i = 0; i < 2000; i++)
      texts.push(i % 50 === 0 ? `ünïcode ${i} ✓` : `${i}:${'e'.repeat(i % 211)}`);
    texts.push('f'.repeat(150_000));
    const path = join(dir, 'pieces.log');
    writeFileSync(path, `${texts.join('\n')}\n`);
    const want = expectedLines(texts);
    for (const size of [4096, 64 * 1024, 100_000, 256 * 1024, 1024 * 1024])
      expect(await readAll(path, size)).toEqual(want);
  });
});
