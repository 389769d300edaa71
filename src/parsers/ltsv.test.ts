import { describe, expect, it } from 'vitest';
import { isParseFailure } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { createLtsvParser, ltsvOptionsSchema } from './ltsv.js';
import { parsedTime } from './time.js';

const rec = { timestamp: 0, message: '', fields: {}, meta: {} } as unknown as LogRecord;

describe('ltsv parser', () => {
  it('label:value columns; values may contain colons; empty values kept', () => {
    const p = createLtsvParser();
    expect(p.parse('host:127.0.0.1\tident:-\treq:GET /a?b=c:d HTTP/1.1\tstatus:200\tsize:\r', rec)).toEqual({
      host: '127.0.0.1',
      ident: '-',
      req: 'GET /a?b=c:d HTTP/1.1',
      status: '200',
      size: '',
    });
  });

  it('time key with a format, types', () => {
    const p = createLtsvParser(
      ltsvOptionsSchema.parse({
        type: 'ltsv',
        timeKey: 'time',
        timeFormat: '[%d/%b/%Y:%H:%M:%S %z]',
        types: { status: 'integer', took: 'float', cached: 'bool' },
      }),
    );
    const f = p.parse(
      'time:[10/Oct/2000:13:55:36 -0700]\tstatus:404\ttook:0.25\tcached:false',
      rec,
    ) as Record<string, unknown>;
    expect(f).toEqual({ status: 404, took: 0.25, cached: false });
    expect(new Date(parsedTime(f)!).toISOString()).toBe('2000-10-10T20:55:36.000Z');
  });

  it('what is not LTSV is a failure', () => {
    const p = createLtsvParser();
    for (const s of ['', 'plain text', 'a:1\tb', 'a:1\t:2', ':x', 'a:1\t'])
      expect([s, isParseFailure(p.parse(s, rec))]).toEqual([s, true]);
  });

  it('never sets __proto__', () => {
    const f = createLtsvParser().parse('__proto__:x\ta:1', rec) as Record<string, unknown>;
    expect(Object.getPrototypeOf(f)).toBe(Object.prototype);
    expect(f).toEqual({ a: '1' });
  });

  it('refuses unknown options', () => {
    expect(ltsvOptionsSchema.safeParse({ type: 'ltsv', delimiter: ',' }).success).toBe(false);
  });
});
