import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { deliver } from '../core/deliver.js';
import type { LogRecord } from '../core/record.js';
import { StdoutSink, stdoutSinkConfig } from './stdout.js';

const rec = (i: number, fields: Record<string, unknown> = {}): LogRecord => ({
  timestamp: Date.UTC(2026, 0, 2, 3, 4, 5, i),
  message: `hello ${i}\n`,
  fields,
  meta: { owner: '', logGroup: '/g', logStream: 's1', id: String(i), source: 't', ackId: 'a' },
});

async function collect(format: 'ndjson' | 'pretty', recs: LogRecord[]): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => {
    text += d.toString();
  });
  const s = new StdoutSink(stdoutSinkConfig.parse({ type: 'stdout', format }), out);
  const res = await deliver(s, recs);
  expect(res.every((o) => o.kind === 'delivered')).toBe(true);
  return text;
}

describe('stdout sink', () => {
  it('writes one JSON document per line with ISO timestamps', async () => {
    const text = await collect('ndjson', [rec(1), rec(2, { level: 'info' })]);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({
      '@timestamp': '2026-01-02T03:04:05.001Z',
      '@message': 'hello 1\n',
      '@logStream': 's1',
      '@log': '/g',
      '@id': '1',
    });
    expect(lines[1].level).toBe('info');
  });

  it('writes readable lines in pretty mode', async () => {
    const text = await collect('pretty', [rec(1, { level: 'warn', msg: 'a b' })]);
    expect(text).toBe('2026-01-02T03:04:05.001Z /g s1 hello 1 level=warn msg="a b"\n');
  });

  it('fails the batch as SINK_UNAVAILABLE when the stream errors', async () => {
    const broken = new Writable({
      write(_c, _e, cb) {
        cb(new Error('EPIPE'));
      },
    });
    broken.on('error', () => {});
    const s = new StdoutSink(stdoutSinkConfig.parse({ type: 'stdout' }), broken);
    const out = await deliver(s, [rec(1)], { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    expect(out[0]).toMatchObject({ kind: 'failed', code: 'SINK_UNAVAILABLE' });
  });
});
