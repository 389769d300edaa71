import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../core/record.js';
import { decodeEscaped, decodeJsonString } from '../parsers/decoders.js';
import { createDecodeTransform, decodeSchema } from './decode.js';
import { issues, testRecord as rec } from './test-records.js';

const make = (o: Record<string, unknown>) =>
  createDecodeTransform(decodeSchema.parse({ type: 'decode', ...o }));
const fields = (r: unknown) => (r as LogRecord).fields;

describe('decoders', () => {
  it('escaped', () => {
    expect(decodeEscaped('a\\nb\\tc\\"d\\\\e\\u00e9\\/\\q')).toBe('a\nb\tc"d\\eé/q');
    expect(decodeEscaped('\\ud83d\\ude00')).toBe('😀');
    expect(decodeEscaped('\\x41\\xc3\\xa9')).toBe('AÃ©');
    expect(decodeEscaped('\\x41\\xc3\\xa9', true)).toBe('Aé');
    expect(decodeEscaped('\\xff\\xfe!', true)).toBe('\ufffd\ufffd!');
    expect(decodeEscaped('trailing\\')).toBe('trailing\\');
    expect(decodeEscaped('\\u12')).toBe('u12');
    expect(decodeEscaped('plain')).toBe('plain');
  });

  it('json', () => {
    expect(decodeJsonString(' {"a":[1]}')).toEqual({ a: [1] });
    expect(decodeJsonString('[1,2]')).toEqual([1, 2]);
    expect(decodeJsonString('"x"')).toBeUndefined();
    expect(decodeJsonString('{bad')).toBeUndefined();
    expect(decodeJsonString('')).toBeUndefined();
  });
});

describe('decode transform', () => {
  it('json in place, into another field, merged at the top level', () => {
    expect(fields(make({ field: 'log', as: 'json' }).apply(rec({ log: '{"level":"info","n":1}' })))).toEqual({
      log: { level: 'info', n: 1 },
    });
    expect(
      fields(make({ field: 'a.payload', as: 'json', into: 'p' }).apply(rec({ a: { payload: '[1]' } }))),
    ).toEqual({
      a: { payload: '[1]' },
      p: [1],
    });
    expect(
      fields(make({ field: 'log', as: 'json', merge: true }).apply(rec({ log: '{"level":"info"}', x: 1 }))),
    ).toEqual({
      x: 1,
      level: 'info',
    });
    expect(
      fields(make({ field: '@message', as: 'json', merge: true }).apply(rec({}, { message: '{"a":1}' }))),
    ).toEqual({ a: 1 });
  });

  it('escaped fields', () => {
    expect(fields(make({ field: 'stack', as: 'escaped' }).apply(rec({ stack: 'at a\\n\\tat b' })))).toEqual({
      stack: 'at a\n\tat b',
    });
    expect(fields(make({ field: 'm', as: 'escaped-utf8' }).apply(rec({ m: 'caf\\xc3\\xa9' })))).toEqual({
      m: 'café',
    });
  });

  it('leaves what does not decode, annotating on request', () => {
    expect(fields(make({ field: 'log', as: 'json' }).apply(rec({ log: 'not json' })))).toEqual({
      log: 'not json',
    });
    expect(fields(make({ field: 'log', as: 'json' }).apply(rec({ log: 5 })))).toEqual({ log: 5 });
    expect(
      fields(make({ field: 'log', as: 'json', merge: true, onError: 'annotate' }).apply(rec({ log: '[1]' }))),
    ).toEqual({
      log: '[1]',
      '@decodeError': 'json: log does not hold a JSON object',
    });
    expect(
      fields(
        make({ field: 'log', as: 'json', merge: true }).apply(
          rec(JSON.parse('{"log":"{\\"__proto__\\":{\\"p\\":1}}"}')),
        ),
      ),
    ).toEqual({});
    expect(({} as { p?: number }).p).toBeUndefined();
  });

  it('refuses bad config', () => {
    expect(issues(decodeSchema.safeParse({ type: 'decode', field: 'x', as: 'base64' })).join()).toMatch(/as/);
    expect(
      issues(decodeSchema.safeParse({ type: 'decode', field: 'x', as: 'escaped', merge: true })),
    ).toEqual(['merge: merge works with as: json only']);
    expect(
      issues(decodeSchema.safeParse({ type: 'decode', field: '@message', as: 'escaped' })).join(),
    ).toMatch(/never rewritten/);
    expect(
      issues(decodeSchema.safeParse({ type: 'decode', field: '@logStream', as: 'json', into: 'x' })).join(),
    ).toMatch(/only @message/);
  });
});
