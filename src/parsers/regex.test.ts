import { describe, expect, it } from 'vitest';
import { isParseFailure } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { createRegexParser, regexOptionsSchema } from './regex.js';

const rec = { timestamp: 0, message: '', fields: {}, meta: {} } as unknown as LogRecord;

describe('regex parser', () => {
  it('returns named groups of an nginx access log line', () => {
    const p = createRegexParser({
      pattern:
        '^(?<remote>\\S+) - (?<user>\\S+) \\[(?<time>[^\\]]+)\\] "(?<method>\\S+) (?<path>\\S+) (?<proto>[^"]+)" (?<status>\\d{3}) (?<bytes>\\d+)(?: "(?<referer>[^"]*)")?',
    });
    const msg = '203.0.113.7 - - [13/Jun/2023:10:42:07 +0000] "GET /index.html HTTP/1.1" 200 612';
    expect(p.parse(msg, rec)).toEqual({
      remote: '203.0.113.7',
      user: '-',
      time: '13/Jun/2023:10:42:07 +0000',
      method: 'GET',
      path: '/index.html',
      proto: 'HTTP/1.1',
      status: '200',
      bytes: '612',
    });
    expect(isParseFailure(p.parse('garbage', rec))).toBe(true);
  });

  it('honours flags', () => {
    const p = createRegexParser({ pattern: 'level=(?<level>warn|error)', flags: 'i' });
    expect(p.parse('LEVEL=ERROR x', rec)).toEqual({ level: 'ERROR' });
  });

  it('validates options strictly', () => {
    expect(regexOptionsSchema.safeParse({ type: 'regex', pattern: '(?<a>x)' }).success).toBe(true);
    expect(regexOptionsSchema.safeParse({ type: 'regex', pattern: '(x)' }).success).toBe(false);
    expect(regexOptionsSchema.safeParse({ type: 'regex', pattern: '(?<a>x' }).success).toBe(false);
    expect(regexOptionsSchema.safeParse({ type: 'regex', pattern: '(?<a>x)', flags: 'g' }).success).toBe(
      false,
    );
    expect(regexOptionsSchema.safeParse({ type: 'regex', pattern: '(?<a>x)', extra: 1 }).success).toBe(false);
  });
});
