/**
 * Issue #8 §1 in the web console (session 5, accept8): `jsonParse(@message)` of a log line nested
 * thousands of levels deep made the console API's JSON.stringify throw, so a query over such an
 * archive answered an error (or broke its stream) instead of its rows. Rows now carry the value
 * capped (query/values.ts jsonText), like the CLI's json/csv/table output.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningConsole, startConsole } from '../src/console/server.js';

const T0 = Date.UTC(2026, 11, 6, 4, 0, 0);
const DEEP = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
let dir: string;
let c: RunningConsole;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lf-a8-console-'));
  const archive = join(dir, 'archive');
  const lines = [
    { '@timestamp': T0, '@message': DEEP, '@log': 'g', '@logStream': 's' },
    { '@timestamp': T0 + 1, '@message': '{"a":{"b":1}}', '@log': 'g', '@logStream': 's' },
  ].map((l) => JSON.stringify(l));
  const { mkdirSync } = await import('node:fs');
  mkdirSync(archive, { recursive: true });
  writeFileSync(join(archive, 'x.ndjson'), `${lines.join('\n')}\n`);
  c = await startConsole({
    from: archive,
    queriesDir: join(dir, 'queries'),
    threads: 0,
    now: () => T0 + 3_600_000,
  });
});
afterAll(async () => {
  await c?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('console API over a value nested deeper than the stack', () => {
  it('answers the rows, the deep one capped', async () => {
    const res = await fetch(new URL('/api/query', c.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'fields jsonParse(@message) as j | sort @timestamp asc',
        start: '2026-12-06T00:00:00Z',
        end: '2026-12-07T00:00:00Z',
      }),
    });
    expect(res.status).toBe(200);
    const events = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; rows?: Record<string, unknown>[]; error?: string });
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    const result = events.find((e) => e.type === 'result');
    expect(result?.rows).toHaveLength(2);
    expect(JSON.stringify(result?.rows?.[0].j)).toContain('nested deeper than');
    expect(result?.rows?.[1].j).toEqual({ a: { b: 1 } });
  });
});
