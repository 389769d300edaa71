import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../core/dead-letter.js';
import { FileDeadLetterSink, fileDeadLetterSpec } from './file.js';

const entry = (n: number): DeadLetter => ({
  code: 'ENVELOPE_NOT_GZIP',
  reason: 'record data is not gzip',
  attempts: 0,
  source: 'kinesis-event',
  ackId: `seq-${n}`,
  payload: Buffer.from(`payload ${n}`).toString('base64'),
  at: '2024-05-06T07:08:09.000Z',
});

describe('file dead-letter sink', () => {
  it('appends NDJSON lines to a per-day file in a directory, across calls and concurrent puts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-dlq-'));
    const sink = await fileDeadLetterSpec.create({ type: 'file', path: join(dir, 'dead') }, {});
    const [a, b] = await Promise.all([sink.put([entry(1), entry(2)]), sink.put([entry(3)])]);
    expect([...a, ...b]).toEqual([true, true, true]);
    await sink.close?.();
    const file = (sink as FileDeadLetterSink).target();
    expect(file).toMatch(/dead-letter-\d{4}-\d{2}-\d{2}\.ndjson$/);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.ackId)).toEqual(['seq-1', 'seq-2', 'seq-3']);
    expect(lines[0]).toEqual(entry(1));
  });

  it('writes to a named .ndjson file and resolves relative paths against cwd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-dlq-'));
    const sink = await fileDeadLetterSpec.create({ type: 'file', path: 'out/dlq.ndjson' }, { cwd: dir });
    expect(await sink.put([entry(7)])).toEqual([true]);
    expect(JSON.parse(readFileSync(join(dir, 'out/dlq.ndjson'), 'utf8')).ackId).toBe('seq-7');
  });

  it('reports entries unstored when the file cannot be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-dlq-'));
    writeFileSync(join(dir, 'blocker'), 'a file where a directory should be');
    const sink = new FileDeadLetterSink(join(dir, 'blocker', 'sub'));
    expect(await sink.put([entry(1), entry(2)])).toEqual([false, false]);
    expect(await sink.put([])).toEqual([]);
  });

  it('refuses unknown keys', () => {
    expect(fileDeadLetterSpec.schema.safeParse({ type: 'file', path: '/x', extra: 1 }).success).toBe(false);
  });
});
