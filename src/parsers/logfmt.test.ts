import { describe, expect, it } from 'vitest';
import { isParseFailure } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { createLogfmtParser, isClearlyLogfmt, readQuoted, scanLogfmt } from './logfmt.js';

const rec = { timestamp: 0, message: '', fields: {}, meta: {} } as unknown as LogRecord;

describe('logfmt tokenizer', () => {
  it('reads bare, quoted and escaped values; bare keys are true', () => {
    const f: Record<string, unknown> = {};
    const s = scanLogfmt('at=info method=GET path="/a b" msg="say \\"hi\\"\\n" fwd=10.0.0.1 tls', f);
    expect(f).toEqual({
      at: 'info',
      method: 'GET',
      path: '/a b',
      msg: 'say "hi"\n',
      fwd: '10.0.0.1',
      tls: true,
    });
    expect(s).toEqual({ pairs: 5, bare: 1 });
  });

  it('handles empty values, = inside values, unicode escapes and unterminated quotes', () => {
    const f: Record<string, unknown> = {};
    scanLogfmt('a= b=x=y c="\\u00e9t\\u00e9" d="never closed', f);
    expect(f).toEqual({ a: '', b: 'x=y', c: 'été', d: 'never closed' });
  });

  it('later duplicates win, unless overwrite is off', () => {
    const f: Record<string, unknown> = { level: 'keep' };
    scanLogfmt('level=a level=b x=1', f, 0, false);
    expect(f).toEqual({ level: 'keep', x: '1' });
    const g: Record<string, unknown> = {};
    scanLogfmt('level=a level=b', g);
    expect(g.level).toBe('b');
  });

  it('readQuoted fast path and escapes', () => {
    expect(readQuoted('"abc" tail', 0)).toEqual({ value: 'abc', end: 5 });
    expect(readQuoted('"a\\\\b\\/c\\q"', 0)).toEqual({ value: 'a\\b/c\\q', end: 11 });
  });

  it('tells clearly-logfmt lines from prose', () => {
    const scan = (t: string) => scanLogfmt(t, {});
    expect(isClearlyLogfmt(scan('level=info msg="started" port=8080'))).toBe(true);
    expect(isClearlyLogfmt(scan('Starting server with port=8080 and host=x'))).toBe(false);
    expect(isClearlyLogfmt(scan('a=b'))).toBe(false);
    expect(isClearlyLogfmt(scan('"quoted" a=b c=d'))).toBe(false);
    expect(isClearlyLogfmt(scan('=x a=b c=d'))).toBe(false);
  });
});

describe('logfmt parser', () => {
  const p = createLogfmtParser();
  it('parses a Heroku router line', () => {
    const msg =
      'at=info method=GET path="/" host=myapp.herokuapp.com request_id=8601b555-6a83-4c12-8269-97c8e32cdb22 fwd="204.204.204.204" dyno=web.1 connect=1ms service=18ms status=200 bytes=13';
    const r = p.parse(msg, rec);
    expect(r).toMatchObject({
      at: 'info',
      method: 'GET',
      path: '/',
      status: '200',
      service: '18ms',
      fwd: '204.204.204.204',
    });
  });
  it('fails on lines with no pairs', () => {
    expect(isParseFailure(p.parse('just words here', rec))).toBe(true);
    expect(isParseFailure(p.parse('', rec))).toBe(true);
  });
});

describe('logfmt detection mode', () => {
  it('stopOnBare returns at the first bare word without writing it', () => {
    const f: Record<string, unknown> = {};
    const s = scanLogfmt('a=1 Starting server b=2', f, 0, true, true);
    expect(s).toEqual({ pairs: 1, bare: 1 });
    expect(f).toEqual({ a: '1' });
    const g: Record<string, unknown> = {};
    expect(scanLogfmt('"q" a=1', g, 0, true, true)).toEqual({ pairs: 0, bare: 1 });
    expect(g).toEqual({});
  });
});
