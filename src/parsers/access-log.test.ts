import { describe, expect, it } from 'vitest';
import { isParseFailure } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { apacheOptionsSchema, createAccessLogParser, nginxOptionsSchema } from './access-log.js';
import { parsedTime } from './time.js';

const rec = { timestamp: 0, message: '', fields: {}, meta: {} } as unknown as LogRecord;
const COMMON = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326';
const COMBINED = `${COMMON} "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`;
const NGINX =
  '203.0.113.7 - - [13/Jun/2023:10:42:07 +0000] "POST /api/v1/items?id=3 HTTP/2.0" 201 15 "-" "curl/8.0.1" "10.0.0.1, 10.0.0.2"';

describe('apache / nginx access-log parsers', () => {
  it('apache common and combined', () => {
    const p = createAccessLogParser('apache');
    const c = p.parse(COMMON, rec) as Record<string, unknown>;
    expect(c).toEqual({
      host: '127.0.0.1',
      user: 'frank',
      method: 'GET',
      path: '/apache_pb.gif',
      protocol: 'HTTP/1.0',
      code: 200,
      size: 2326,
    });
    expect(new Date(parsedTime(c)!).toISOString()).toBe('2000-10-10T20:55:36.000Z');
    expect(p.parse(COMBINED, rec)).toEqual({
      host: '127.0.0.1',
      user: 'frank',
      method: 'GET',
      path: '/apache_pb.gif',
      protocol: 'HTTP/1.0',
      code: 200,
      size: 2326,
      referer: 'http://www.example.com/start.html',
      agent: 'Mozilla/4.08 [en] (Win98; I ;Nav)',
    });
  });

  it('nginx combined with extra fields, "-" left out, escaped quotes', () => {
    const p = createAccessLogParser('nginx');
    expect(p.parse(NGINX, rec)).toEqual({
      remote: '203.0.113.7',
      method: 'POST',
      path: '/api/v1/items?id=3',
      protocol: 'HTTP/2.0',
      code: 201,
      size: 15,
      agent: 'curl/8.0.1',
      extra: '"10.0.0.1, 10.0.0.2"',
    });
    const q = p.parse(
      '1.2.3.4 - - [13/Jun/2023:10:42:07 +0000] "GET /a\\"b HTTP/1.1" 404 - "-" "x \\"y\\""',
      rec,
    );
    expect(q).toMatchObject({ path: '/a"b', code: 404, agent: 'x "y"' });
    expect(q).not.toHaveProperty('size');
  });

  it('malformed request lines keep the text as request', () => {
    const p = createAccessLogParser('nginx');
    expect(
      p.parse('1.2.3.4 - - [13/Jun/2023:10:42:07 +0000] "\\x16\\x03\\x01" 400 157 "-" "-"', rec),
    ).toMatchObject({
      request: '\\x16\\x03\\x01',
      code: 400,
    });
    expect(p.parse('1.2.3.4 - - [13/Jun/2023:10:42:07 +0000] "" 408 0 "-" "-"', rec)).toMatchObject({
      request: '',
      code: 408,
    });
  });

  it('format: common / combined are enforced; timeKeep; types', () => {
    const common = createAccessLogParser(
      'apache',
      apacheOptionsSchema.parse({ type: 'apache', format: 'common' }),
    );
    expect(isParseFailure(common.parse(COMBINED, rec))).toBe(true);
    expect(isParseFailure(common.parse(COMMON, rec))).toBe(false);
    const combined = createAccessLogParser(
      'nginx',
      nginxOptionsSchema.parse({ type: 'nginx', format: 'combined', timeKeep: true }),
    );
    expect(isParseFailure(combined.parse(COMMON, rec))).toBe(true);
    expect((combined.parse(COMBINED, rec) as Record<string, unknown>).time).toBe(
      '10/Oct/2000:13:55:36 -0700',
    );
    const typed = createAccessLogParser(
      'nginx',
      nginxOptionsSchema.parse({ type: 'nginx', types: { user: 'integer' } }),
    );
    expect((typed.parse(COMMON.replace('frank', '42'), rec) as Record<string, unknown>).user).toBe(42);
  });

  it('other lines are failures; a bad time keeps the field', () => {
    const p = createAccessLogParser('apache');
    for (const s of ['', 'GET / HTTP/1.1', '{"a":1}', '1.2.3.4 - - [x] "GET /" abc 1'])
      expect([s, isParseFailure(p.parse(s, rec))]).toEqual([s, true]);
    const f = p.parse('1.2.3.4 - - [not a time] "GET / HTTP/1.1" 200 1', rec) as Record<string, unknown>;
    expect(f.time).toBe('not a time');
    expect(parsedTime(f)).toBeUndefined();
  });

  it('refuses bad options', () => {
    expect(apacheOptionsSchema.safeParse({ type: 'apache', format: 'json' }).success).toBe(false);
    expect(nginxOptionsSchema.safeParse({ type: 'nginx', pattern: 'x' }).success).toBe(false);
  });
});
