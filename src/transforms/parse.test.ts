import { describe, expect, it } from 'vitest';
import { buildTransforms } from '../config/build-pipeline.js';
import { loadConfigText } from '../config/load.js';
import { runStages } from '../core/stages.js';
import type { LogRecord } from '../core/record.js';
import { createParseTransform, parseTransformSchema } from './parse.js';

const rec = (logGroup: string, message: string, fields: Record<string, unknown> = {}): LogRecord => ({
  timestamp: 5,
  message,
  fields,
  meta: { owner: '1', logGroup, logStream: 'web-1', id: '1', source: 'test', ackId: 'a' },
});

const NGINX = '203.0.113.7 - - [13/Jun/2023:10:42:07 +0000] "GET /index.html HTTP/1.1" 200 612';
const PATTERN =
  '^(?<remote>\\S+) - (?<user>\\S+) \\[(?<time>[^\\]]+)\\] "(?<method>\\S+) (?<path>\\S+) [^"]*" (?<status>\\d{3})';

describe('parse transform', () => {
  it('runs a regex parser on the selected log groups only', async () => {
    const t = await createParseTransform(
      parseTransformSchema.parse({
        type: 'parse',
        parser: { type: 'regex', pattern: PATTERN },
        logGroup: '^/web/',
      }),
    );
    const [a, b] = (await runStages([t], [rec('/web/nginx', NGINX), rec('/other', NGINX)])).records;
    expect(a.fields).toMatchObject({
      remote: '203.0.113.7',
      method: 'GET',
      path: '/index.html',
      status: '200',
    });
    expect(b.fields).toEqual({});
    expect(a.timestamp).toBe(5);
  });

  it('from / into / onError', async () => {
    const t = await createParseTransform(
      parseTransformSchema.parse({
        type: 'parse',
        parser: { type: 'logfmt' },
        from: 'detail',
        into: 'kv',
        onError: 'annotate',
      }),
    );
    const [a, b] = (
      await runStages([t], [rec('/g', 'x', { detail: 'a=1 b=two' }), rec('/g', 'y', { detail: 'no pairs' })])
    ).records;
    expect(a.fields.kv).toEqual({ a: '1', b: 'two' });
    expect(b.fields['@parseError']).toBe('logfmt: no key=value pairs');
  });

  it('validates the nested parser options and the selectors', async () => {
    expect(parseTransformSchema.safeParse({ type: 'parse', parser: { type: 'nope' } }).success).toBe(false);
    expect(
      parseTransformSchema.safeParse({ type: 'parse', parser: { type: 'regex', pattern: '(x)' } }).success,
    ).toBe(false);
    expect(
      parseTransformSchema.safeParse({ type: 'parse', parser: { type: 'json', bogus: 1 } }).success,
    ).toBe(false);
    expect(
      parseTransformSchema.safeParse({ type: 'parse', parser: { type: 'json' }, logGroup: '(' }).success,
    ).toBe(false);
    expect(() =>
      loadConfigText('transforms: [{type: parse, parser: {type: regex, pattern: "(x)"}}]'),
    ).toThrow(/transforms\[0\]\.parser\.pattern/);
  });

  it('works from a config file, after auto parse and mask', async () => {
    const cfg = loadConfigText(
      [
        'transforms:',
        '  - type: parse',
        '    logGroup: ^/web/',
        '    parser:',
        '      type: regex',
        `      pattern: '${PATTERN}'`,
      ].join('\n'),
    );
    const stages = await buildTransforms(cfg);
    expect(stages.map((s) => s.type)).toEqual(['parse', 'mask', 'parse']);
    const [r] = (await runStages(stages, [rec('/web/nginx', NGINX)])).records;
    expect(r.fields).toMatchObject({ method: 'GET', status: '200' });
  });

  it('any field by dotted path, condition, keepSource, onError drop (PARSE_FAILED)', async () => {
    const t = await createParseTransform(
      parseTransformSchema.parse({
        type: 'parse',
        parser: { type: 'logfmt' },
        from: 'detail.line',
        condition: 'detail.kind = "kv"',
        keepSource: false,
        onError: 'drop',
      }),
    );
    const out = await runStages(
      [t],
      [
        rec('/g', 'a', { detail: { kind: 'kv', line: 'a=1 b=2' } }),
        rec('/g', 'b', { detail: { kind: 'kv', line: 'nothing here' } }),
        rec('/g', 'c', { detail: { kind: 'other', line: 'nothing here' } }),
        rec('/g', 'd', { detail: { kind: 'kv', line: 7 } }),
      ],
    );
    expect(out.records.map((r) => r.fields)).toEqual([
      { detail: { kind: 'kv' }, a: '1', b: '2' },
      { detail: { kind: 'other', line: 'nothing here' } },
      { detail: { kind: 'kv', line: 7 } },
    ]);
    expect(out.dropped.map((d) => [d.record.message, d.outcome.code])).toEqual([['b', 'PARSE_FAILED']]);
  });

  it('a parser time becomes the event time unless setTime is false', async () => {
    const mk = (setTime: boolean) =>
      createParseTransform(
        parseTransformSchema.parse({ type: 'parse', parser: { type: 'nginx' }, setTime, into: 'http' }),
      );
    const [a] = (await runStages([await mk(true)], [rec('/web', NGINX)])).records;
    expect(new Date(a.timestamp).toISOString()).toBe('2023-06-13T10:42:07.000Z');
    expect(a.fields.http).toMatchObject({ remote: '203.0.113.7', code: 200, size: 612 });
    const [b] = (await runStages([await mk(false)], [rec('/web', NGINX)])).records;
    expect(b.timestamp).toBe(5);
  });

  it('refuses bad options with clear messages', async () => {
    const r = parseTransformSchema.safeParse({
      type: 'parse',
      parser: { type: 'json' },
      from: '@logStream',
      condition: 'verb ==',
    });
    expect(r.success).toBe(false);
    const r2 = parseTransformSchema.safeParse({
      type: 'parse',
      parser: { type: 'json' },
      from: '@logStream',
    });
    expect(r2.success ? '' : r2.error.issues[0].message).toMatch(/only @message/);
    const r3 = parseTransformSchema.safeParse({
      type: 'parse',
      parser: { type: 'json' },
      onError: 'explode',
    });
    expect(r3.success ? '' : r3.error.issues[0].path.join('.')).toBe('onError');
    const r4 = parseTransformSchema.safeParse({ type: 'parse', parser: { type: 'json' }, into: '@message' });
    expect(r4.success ? '' : r4.error.issues[0].message).toMatch(/system fields/);
  });
});
