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

describe('regex parser time options (Fluent Bit Time_Key / Time_Format / Time_Keep / Types)', () => {
  const pattern = '^\\[(?<time>[^\\]]+)\\] (?<level>\\w+) (?<code>\\d+) (?<msg>.*)$';
  const line = '[05/Mar/2024:10:11:12 +0100] WARN 404 not found';

  it('sets the event time from the time key and removes the key', async () => {
    const { parsedTime } = await import('./time.js');
    const p = createRegexParser(
      regexOptionsSchema.parse({
        type: 'regex',
        pattern,
        timeKey: 'time',
        timeFormat: '%d/%b/%Y:%H:%M:%S %z',
        types: { code: 'integer' },
      }),
    );
    const f = p.parse(line, rec) as Record<string, unknown>;
    expect(f).toEqual({ level: 'WARN', code: 404, msg: 'not found' });
    expect(new Date(parsedTime(f)!).toISOString()).toBe('2024-03-05T09:11:12.000Z');
  });

  it('timeKeep keeps the key; an unparsable time leaves the field and sets no time', async () => {
    const { parsedTime } = await import('./time.js');
    const keep = createRegexParser(
      regexOptionsSchema.parse({
        type: 'regex',
        pattern,
        timeKey: 'time',
        timeFormat: '%d/%b/%Y:%H:%M:%S %z',
        timeKeep: true,
      }),
    );
    expect((keep.parse(line, rec) as Record<string, unknown>).time).toBe('05/Mar/2024:10:11:12 +0100');
    const bad = keep.parse('[yesterday] WARN 1 x', rec) as Record<string, unknown>;
    expect(bad.time).toBe('yesterday');
    expect(parsedTime(bad)).toBeUndefined();
    const isoLine = createRegexParser(
      regexOptionsSchema.parse({ type: 'regex', pattern, timeKey: 'time', timeOffset: '+0200' }),
    );
    const f = isoLine.parse('[2024-03-05 10:11:12] INFO 1 x', rec) as Record<string, unknown>;
    expect(new Date(parsedTime(f)!).toISOString()).toBe('2024-03-05T08:11:12.000Z');
  });

  it('a single group named error is fields, not a failure', () => {
    const p = createRegexParser({ pattern: '^E (?<error>.*)$' });
    expect(isParseFailure(p.parse('E boom', rec))).toBe(false);
  });

  it('refuses bad time options', () => {
    const r = regexOptionsSchema.safeParse({ type: 'regex', pattern, timeFormat: '%Q', timeOffset: 'CET' });
    const msgs = r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(msgs).toEqual(
      expect.arrayContaining([
        'timeOffset: timeOffset is a fixed offset such as +0200 or -06:00',
        'timeKey: timeFormat needs timeKey (the field holding the time)',
        'timeFormat: unsupported directive %Q',
      ]),
    );
    const t = regexOptionsSchema.safeParse({ type: 'regex', pattern, types: { code: 'int' } });
    expect(t.success ? '' : t.error.issues[0].path.join('.')).toBe('types.code');
  });
});
