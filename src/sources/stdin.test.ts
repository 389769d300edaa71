import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { SourceEnvelope } from '../core/source.js';
import { StdinSource, stdinSourceConfig } from './stdin.js';

async function read(chunks: (string | Buffer)[], extra: Record<string, unknown> = {}) {
  const src = new StdinSource(
    stdinSourceConfig.parse({ type: 'stdin', ...extra }),
    {},
    { input: Readable.from(chunks.map((c) => Buffer.from(c))), session: 's1' },
  );
  const envs: SourceEnvelope[] = [];
  for await (const e of src.envelopes(new AbortController().signal)) envs.push(e);
  return { envs, records: envs.flatMap((e) => e.records), src };
}

describe('stdin source', () => {
  it('auto: JSON object lines become fields, other lines text; lines split across chunks and UTF-8 sequences', async () => {
    const euro = Buffer.from('€');
    const { records, envs } = await read([
      '{"message":"started","level":"info","time":"2026-12-05T10:00:00Z"}\nplain te',
      Buffer.concat([Buffer.from('xt '), euro.subarray(0, 1)]),
      Buffer.concat([euro.subarray(1), Buffer.from('\r\n\n{not json\nlast line without newline')]),
    ]);
    expect(records.map((r) => r.message)).toEqual([
      'started',
      'plain text €',
      '{not json',
      'last line without newline',
    ]);
    expect(records[0].fields).toEqual({ level: 'info', time: '2026-12-05T10:00:00Z' });
    expect(records[0].timestamp).toBe(Date.UTC(2026, 11, 5, 10));
    // ids: session + line number (the empty line 3 is counted, not shipped)
    expect(records.map((r) => r.meta.id)).toEqual(['s1:1', 's1:2', 's1:4', 's1:5']);
    expect(records[1].meta).toMatchObject({ logGroup: 'stdin', logStream: 'stdin', source: 'stdin' });
    for (const e of envs) for (const r of e.records) expect(r.meta.ackId).toBe(e.ackId);
  });

  it('lines: JSON stays text; ndjson: a line that is not an object is a malformed envelope naming its line', async () => {
    const text = '{"a":1}\nhello\n[1,2]\n{"log":"from fluent bit","stream":"stderr"}\n';
    const lines = await read([text], { format: 'lines' });
    expect(lines.records.map((r) => r.message)).toEqual([
      '{"a":1}',
      'hello',
      '[1,2]',
      '{"log":"from fluent bit","stream":"stderr"}',
    ]);
    expect(lines.records.every((r) => Object.keys(r.fields).length === 0)).toBe(true);
    const nd = await read([text], { format: 'ndjson' });
    expect(nd.records.map((r) => r.message)).toEqual(['{"a":1}', 'from fluent bit']);
    expect(nd.envs.filter((e) => e.malformed).map((e) => e.malformed?.reason)).toEqual([
      'line 2 of standard input is not a JSON object (format: ndjson)',
      'line 3 of standard input is not a JSON object (format: ndjson)',
    ]);
    expect(nd.src.stats.malformed).toBe(2);
  });

  it('cuts envelopes at batchLines and very long lines at maxLineBytes', async () => {
    const many = Array.from({ length: 2_500 }, (_, i) => `line ${i}`).join('\n');
    const { envs } = await read([many], { batchLines: 1_000 });
    // The last line has no newline: it is known to be complete only at EOF.
    expect(envs.map((e) => e.records.length)).toEqual([1_000, 1_000, 499, 1]);
    const long = await read(['x'.repeat(5_000)], { maxLineBytes: 2_048 });
    expect(long.records.map((r) => r.message.length)).toEqual([2_048, 2_048, 904]);
    expect(long.src.stats.splitLines).toBe(2);
  });
});
