import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compileQuery } from '../index.js';
import type { Row } from '../types.js';
import { parseObjectKey } from './partition-path.js';
import { lineRequirement } from './prune.js';
import { scanObject } from './scan-object.js';

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
});
