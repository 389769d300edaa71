import { describe, expect, it } from 'vitest';
import { buildTransforms } from '../config/build-pipeline.js';
import { loadConfigText } from '../config/load.js';
import { runTransforms } from '../core/pipeline.js';
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
    const [a, b] = runTransforms([t], [rec('/web/nginx', NGINX), rec('/other', NGINX)]).records;
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
    const [a, b] = runTransforms(
      [t],
      [rec('/g', 'x', { detail: 'a=1 b=two' }), rec('/g', 'y', { detail: 'no pairs' })],
    ).records;
    expect(a.fields.kv).toEqual({ a: '1', b: 'two' });
    expect(b.fields['@parseError']).toBe('logfmt: no key=value pairs');
  });

  it('validates the nested parser options and the selectors', () => {
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
    const [r] = runTransforms(stages, [rec('/web/nginx', NGINX)]).records;
    expect(r.fields).toMatchObject({ method: 'GET', status: '200' });
  });
});
