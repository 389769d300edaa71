import { describe, expect, it } from 'vitest';
import { isParseFailure, parseStage } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { createJsonParser, jsonOptionsSchema, looksLikeJsonObject, parseJsonMessage } from './json.js';

const rec = (message: string): LogRecord => ({
  timestamp: 1_718_275_327_123,
  message,
  fields: {},
  meta: {
    owner: '123456789012',
    logGroup: '/ecs/app',
    logStream: 'ecs/app/0123456789abcdef0123456789abcdef',
    id: '1',
    source: 'test',
    ackId: 'a',
  },
});

describe('json parser', () => {
  const p = createJsonParser();

  it('parses a JSON object with nested structure kept', () => {
    const msg =
      '{"level":"info","msg":"request done","http":{"status":200,"path":"/health"},"tags":["a","b"],"latency_ms":12.5}';
    expect(p.parse(msg, rec(msg))).toEqual({
      level: 'info',
      msg: 'request done',
      http: { status: 200, path: '/health' },
      tags: ['a', 'b'],
      latency_ms: 12.5,
    });
  });

  it('finds a JSON object after a timestamp/level prefix', () => {
    const msg = '2024-01-01T12:00:00.000Z INFO {"user":"alice","action":"login","ok":true}';
    expect(p.parse(msg, rec(msg))).toEqual({ user: 'alice', action: 'login', ok: true });
  });

  it("finds a JSON object in Lambda's tab-separated runtime line", () => {
    const msg =
      '2024-03-05T10:11:12.345Z\t6f7f3b2c-1d2e-4c5b-9a8f-0e1d2c3b4a59\tINFO\t{"orderId":"o-1","amount":42}\n';
    expect(p.parse(msg, rec(msg))).toEqual({ orderId: 'o-1', amount: 42 });
  });

  it('refuses a prefixed object when prefix is off', () => {
    const msg = 'INFO {"a":1}';
    expect(isParseFailure(createJsonParser({ prefix: false }).parse(msg, rec(msg)))).toBe(true);
    expect(createJsonParser({ prefix: false }).parse('  {"a":1}  ', rec(''))).toEqual({ a: 1 });
  });

  it('fails (without throwing) on plain text, arrays, scalars and broken JSON', () => {
    for (const msg of [
      'hello world',
      '',
      '   ',
      '[1,2,3]',
      '42',
      '{"a":',
      '{not json}',
      'x {"a":1',
      '{"a":1} trailing',
    ]) {
      const r = p.parse(msg, rec(msg));
      expect(isParseFailure(r), msg).toBe(true);
    }
  });

  it('pre-check rejects non-JSON lines before JSON.parse', () => {
    expect(looksLikeJsonObject('I0613 10:42:07.123456 1 a.go:1] x')).toBe(false);
    expect(looksLikeJsonObject(' {"a":1}\n')).toBe(true);
    expect(parseJsonMessage('no braces at all', true)).toEqual({ error: 'not JSON' });
  });

  it('a log line {"error":"..."} is fields, not a parse failure', () => {
    const msg = '{"error":"connection refused"}';
    const r = rec(msg);
    parseStage({ select: () => p, onError: 'annotate' }).apply(r);
    expect(r.fields).toEqual({ error: 'connection refused' });
    expect(r.fields['@parseError']).toBeUndefined();
  });

  it('the parse stage keeps the CloudWatch event time and the raw message', () => {
    const msg = '{"timestamp":"1999-01-01T00:00:00Z","msg":"x"}';
    const r = rec(msg);
    parseStage({ select: () => p }).apply(r);
    expect(r.timestamp).toBe(1_718_275_327_123);
    expect(r.message).toBe(msg);
    expect(r.fields.timestamp).toBe('1999-01-01T00:00:00Z');
  });
});

describe('json parser time options (Fluent Bit Time_Key / Time_Format / Time_Keep)', () => {
  const line = '{"log":"GET /healthz 200\\n","stream":"stdout","time":"2026-12-06T10:00:00.123456789Z"}';

  it('makes the time field the event time through the parse transform, and removes it unless timeKeep', async () => {
    const { createParseTransform, parseTransformSchema } = await import('../transforms/parse.js');
    const t = await createParseTransform(
      parseTransformSchema.parse({
        type: 'parse',
        parser: { type: 'json', timeKey: 'time', timeFormat: '%Y-%m-%dT%H:%M:%S.%L%z' },
      }),
    );
    const r = rec(line);
    await t.apply(r);
    expect(new Date(r.timestamp).toISOString()).toBe('2026-12-06T10:00:00.123Z');
    expect(r.fields).toEqual({ log: 'GET /healthz 200\n', stream: 'stdout' });

    const keep = await createParseTransform(
      parseTransformSchema.parse({
        type: 'parse',
        parser: { type: 'json', timeKey: 'time', timeKeep: true },
      }),
    );
    const k = rec(line);
    await keep.apply(k);
    // Without timeFormat: ISO 8601 (or epoch numbers).
    expect(new Date(k.timestamp).toISOString()).toBe('2026-12-06T10:00:00.123Z');
    expect(k.fields.time).toBe('2026-12-06T10:00:00.123456789Z');
  });

  it('a time that does not parse stays a field and the record keeps its time; types convert', async () => {
    const { parsedTime } = await import('./time.js');
    const p = createJsonParser(
      jsonOptionsSchema.parse({
        type: 'json',
        timeKey: 'ts',
        timeFormat: '%d/%b/%Y:%H:%M:%S %z',
        types: { status: 'integer' },
      }),
    );
    const bad = p.parse('{"ts":"yesterday","status":"404"}', rec('')) as Record<string, unknown>;
    expect(bad).toEqual({ ts: 'yesterday', status: 404 });
    expect(parsedTime(bad)).toBeUndefined();
    const good = p.parse('{"ts":"05/Mar/2024:10:11:12 +0100"}', rec('')) as Record<string, unknown>;
    expect(new Date(parsedTime(good)!).toISOString()).toBe('2024-03-05T09:11:12.000Z');
    // Failures stay failures; a JSON {"error": …} line stays fields.
    expect(isParseFailure(p.parse('not json', rec('')))).toBe(true);
    expect(isParseFailure(p.parse('{"error":"boom"}', rec('')))).toBe(false);
  });

  it('refuses bad time options with every problem', () => {
    const r = jsonOptionsSchema.safeParse({ type: 'json', timeFormat: '%Q', timeOffset: 'CET' });
    const msgs = r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(msgs).toEqual(
      expect.arrayContaining([
        'timeOffset: timeOffset is a fixed offset such as +0200 or -06:00',
        'timeKey: timeFormat needs timeKey (the field holding the time)',
      ]),
    );
  });
});
