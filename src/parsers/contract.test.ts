/**
 * Contract every registered parser passes: it never throws, whatever the text, and returns either
 * a fields object or a `{error}` failure; it never touches the record's time or message.
 */
import { describe, expect, it } from 'vitest';
import { isParseFailure, type Parser } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { genericAutoParser, lambdaAutoParser } from './auto.js';
import { parsers } from './index.js';

const SAMPLES = [
  '{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","objectRef":{"resource":"pods"}}',
  'I0613 10:42:07.123456      11 controller.go:611] "Starting" controller="x" key="unterminated',
  'time="2023-06-13T10:42:07Z" level=info msg="access granted" error="a \\"quoted\\" \\u00e9 \\x"',
  'REPORT RequestId: abc\tDuration: 1 ms\tBilled Duration: x ms\tMemory Size: MB\t\nXRAY TraceId: \tSegmentId:',
  '2024-03-05T10:11:12.345Z\tc6af9ac6-7b61-11e6-9a41-93e8deadbeef\tINFO\t{"a":',
  '[INFO]\t2024-03-05T10:11:12.345Z\tundefined\t{}',
  'a=b c="d e" f g= ="x" "y"=z \\ = "',
  'host:127.0.0.1\tident:-\ttime:[10/Oct/2000:13:55:36 -0700]\treq:GET / HTTP/1.1\tstatus:200\tbody:{"a":[',
  '203.0.113.7 - frank [10/Oct/2000:13:55:36 -0700] "GET /a\\"b HTTP/1.0" 200 2326 "http://x/" "Mozilla/4.08 [en]" 0.004',
  '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appli\\"cation"][x a="]"] \ufeffAn application event',
  "<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8",
];

function* inputs(): Generator<string> {
  yield '';
  yield ' ';
  yield '\u0000\u0001\uffff\ud800';
  yield '{'.repeat(10_000);
  yield `${'['.repeat(5000)}${']'.repeat(5000)}`;
  yield '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}';
  yield 'x'.repeat(300_000);
  for (const s of SAMPLES) {
    yield s;
    for (let cut = 1; cut < s.length; cut += 7) yield s.slice(0, cut);
  }
  // Deterministic garbage made of the characters parsers care about.
  const alphabet = '{}[]":=\\ \t\nIWEF0123456789abcAKIA-._/@';
  let seed = 7;
  for (let n = 0; n < 300; n++) {
    let s = '';
    const len = n % 60;
    for (let i = 0; i < len; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      s += alphabet[seed % alphabet.length];
    }
    yield s;
  }
}

const all: Parser[] = [
  ...parsers.map((spec) => {
    const cfg =
      spec.type === 'regex'
        ? {
            type: 'regex',
            pattern: '^(?<a>\\w+)=(?<time>.*)$',
            timeKey: 'time',
            timeFormat: '%Y-%m-%dT%H:%M:%S%z',
          }
        : spec.type === 'ltsv'
          ? { type: 'ltsv', timeKey: 'time', types: { status: 'integer', body: 'json' } }
          : { type: spec.type };
    return spec.create(spec.schema.parse(cfg), {}) as Parser;
  }),
  lambdaAutoParser,
  genericAutoParser,
];

describe('parser contract', () => {
  it.each(all.map((p, i) => [i < parsers.length ? p.type : `auto:${p.type}`, p] as const))(
    '%s never throws',
    (_name, p) => {
      for (const text of inputs()) {
        const record = {
          timestamp: 1_700_000_000_000,
          message: text,
          fields: {},
          meta: {},
        } as unknown as LogRecord;
        let res: unknown;
        expect(
          () => {
            res = p.parse(text, record);
          },
          JSON.stringify(text.slice(0, 80)),
        ).not.toThrow();
        expect(typeof res).toBe('object');
        expect(res).not.toBeNull();
        if (isParseFailure(res)) expect(typeof res.error).toBe('string');
        expect(record.timestamp).toBe(1_700_000_000_000);
        expect(record.message).toBe(text);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );
});
