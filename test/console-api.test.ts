/**
 * The console's HTTP/JSON API (docs/console.md) against a real archive: the same rows as
 * `logferry query --output json` for every recipe, structured query problems, scan estimates that
 * match what the scan reads, field discovery, saved queries as files, cancellation, and the
 * security rules (Host check on loopback, token elsewhere, no path traversal, capped bodies).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningConsole, startConsole } from '../src/console/server.js';
import { RECIPES } from '../src/query/recipes/index.js';
import {
  AUDIT_STREAM,
  AUTH_STREAM,
  CLUSTER,
  expectedAwsAuth,
  makeFixture,
  T0,
  TASK_ID,
  writeArchive,
} from './query-fixtures.js';

const root = new URL('..', import.meta.url).pathname;
let dir: string;
let build: string;
let archive: string;
let c: RunningConsole;
const fx = makeFixture();

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  base = c.url,
): Promise<Reply> {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(typeof body === 'string' ? body : JSON.stringify(body));
    req.end();
  });
}

const json = async (method: string, path: string, body?: unknown) => {
  const r = await call(method, path, body);
  return { status: r.status, body: JSON.parse(r.text) as Record<string, unknown> & unknown[] };
};

/** The NDJSON events of one /api/query call. */
async function query(q: string, range: { start?: string; end?: string } = {}) {
  const r = await call('POST', '/api/query', { query: q, ...range });
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toMatch(/application\/x-ndjson/);
  const events = r.text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const last = events[events.length - 1] as Record<string, unknown>;
  return { events, last };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lf-console-api-'));
  // A private build (other test files rebuild dist/ while this one runs), inside the repo so the
  // CLI bundle finds node_modules.
  build = mkdtempSync(join(root, 'build', 'console-api-'));
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, LOGFERRY_BUILD_OUT: build },
  });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
  archive = join(dir, 'archive');
  await writeArchive(archive, fx.records);
  c = await startConsole({
    from: archive,
    queriesDir: join(dir, 'queries'),
    assetsDir: join(build, 'console'),
    threads: 0,
    now: () => T0 + 4 * 3_600_000,
  });
}, 120_000);

afterAll(async () => {
  await c?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (build) rmSync(build, { recursive: true, force: true });
});

describe('console API: queries', () => {
  it('gives, for every recipe, exactly the rows `logferry query --output json` prints', async () => {
    const cli = join(build, 'cli', 'logferry.mjs');
    for (const recipe of RECIPES) {
      const required = recipe.params.filter((p) => p.default === undefined);
      // Required parameters get the first fixture value their pattern accepts.
      const candidates = ['aws-auth', TASK_ID, CLUSTER, 'default', 'app'];
      const params = Object.fromEntries(
        required.map((p) => [p.name, candidates.find((v) => p.pattern.test(v)) ?? '']),
      );
      const expanded = await json('POST', '/api/recipes/expand', { name: recipe.name, params });
      expect(expanded.status, recipe.name).toBe(200);
      const text = expanded.body.query as unknown as string;
      const { last } = await query(text);
      expect(last.type, `${recipe.name}: ${JSON.stringify(last)}`).toBe('result');
      const r = spawnSync(
        process.execPath,
        [cli, 'query', text, '--from', archive, '-o', 'json', '--threads', '0'],
        { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
      );
      expect(r.status, `${recipe.name}: ${r.stderr}`).toBe(0);
      expect(last.rows, recipe.name).toEqual(JSON.parse(r.stdout));
    }
  }, 240_000);

  it('answers the seed aws-auth query with the hand-derived events, newest first', async () => {
    const recipe = RECIPES.find((r) => r.name === 'eks/aws-auth-changes');
    expect(recipe).toBeDefined();
    const expanded = await json('POST', '/api/recipes/expand', { name: 'eks/aws-auth-changes', params: {} });
    const { last } = await query(expanded.body.query as unknown as string);
    const rows = last.rows as Record<string, unknown>[];
    const want = expectedAwsAuth(fx);
    expect(rows.length).toBe(want.length);
    expect(rows.map((r) => r.verb)).toEqual(want.map((a) => a.verb));
  });

  it('streams progress, then one result with the histogram, epochs and scan figures', async () => {
    const { events, last } = await query(
      `filter @logStream = "${AUTH_STREAM}" | fields @timestamp, @message`,
    );
    expect(last.type).toBe('result');
    for (const e of events.slice(0, -1)) expect(['progress', 'partial']).toContain(e.type);
    const rows = last.rows as Record<string, unknown>[];
    expect(rows.length).toBeGreaterThan(0);
    const epochs = (last.epochs as Record<string, number[]>)['@timestamp'] as number[];
    expect(epochs).toHaveLength(rows.length);
    const hist = last.histogram as [number, number][];
    expect(hist.reduce((n, [, k]) => n + k, 0)).toBe(
      (last.stats as { recordsMatched: number }).recordsMatched,
    );
    for (const [t] of hist) expect(t % 60_000).toBe(0);
    expect((last.progress as { objectsDone: number }).objectsDone).toBeGreaterThan(0);
  });

  it('opens a row as the whole event by its @ptr, with the fields the query did not display', async () => {
    const { last } = await query(`filter @logStream = "${AUDIT_STREAM}" | fields verb | limit 3`);
    const ptrs = last.ptrs as string[];
    expect(ptrs).toHaveLength(3);
    expect((last.rows as Record<string, unknown>[])[0]).toEqual({ verb: expect.any(String) });
    const r = await json('POST', '/api/record', { ptr: ptrs[0] });
    expect(r.status).toBe(200);
    const rec = r.body.record as Record<string, unknown>;
    expect(rec['@logStream']).toBe(AUDIT_STREAM);
    expect(rec.verb).toBe((last.rows as Record<string, unknown>[])[0].verb);
    expect(String(rec['@message'])).toContain('"auditID"');
    const cli = await query(`filter @ptr = "${ptrs[0]}" | fields @logStream, verb`);
    expect((cli.last.rows as Record<string, unknown>[])[0]?.verb).toBe(rec.verb);

    expect((await json('POST', '/api/record', { ptr: 'no pointer' })).status).toBe(400);
    const missing = await json('POST', '/api/record', { ptr: `${ptrs[0].replace(/:\d+$/, '')}:99999999` });
    expect(missing.status).toBe(404);
    expect(String(missing.body.error)).toMatch(/no event at/);
    // Aggregates have no rows to open.
    expect((await query('stats count(*) by verb')).last.ptrs).toBeUndefined();
  });

  it('runs a stats by bin() query and says which column is the time axis', async () => {
    const { last } = await query('stats count(*) as n by bin(30m)');
    expect(last.aggregates).toBe(true);
    expect(last.binColumn).toBe('bin(30m)');
    expect(last.binMs).toBe(1_800_000);
    const rows = last.rows as { n: number }[];
    expect(rows.reduce((a, r) => a + r.n, 0)).toBe(fx.records.length);
    expect((last.epochs as Record<string, number[]>)['bin(30m)']?.every((e) => e % 1_800_000 === 0)).toBe(
      true,
    );
  });

  it('applies relative and absolute time ranges as `logferry query --start/--end` do', async () => {
    const start = new Date(T0 + 3_600_000).toISOString();
    const end = new Date(T0 + 7_200_000).toISOString();
    const { last } = await query('stats count(*) as n', { start, end });
    const inWindow = fx.records.filter(
      (r) => r.timestamp >= T0 + 3_600_000 && r.timestamp < T0 + 7_200_000,
    ).length;
    expect((last.rows as { n: number }[])[0]?.n).toBe(inWindow);
    const rel = await query('stats count(*) as n', { start: '2h' });
    const now = T0 + 4 * 3_600_000;
    expect((rel.last.rows as { n: number }[])[0]?.n ?? 0).toBe(
      fx.records.filter((r) => r.timestamp >= now - 7_200_000).length,
    );
  });

  it('reports every problem of a bad query with line and column, as the CLI does', async () => {
    const { last } = await query('fields @timestamp\n| filter verb = \n| stats count(* by x');
    expect(last.type).toBe('error');
    const problems = last.problems as { line: number; column: number; message: string }[];
    expect(problems.length).toBeGreaterThanOrEqual(2);
    expect(problems[0]).toMatchObject({ line: 2 });
    expect(problems.some((p) => p.line === 3)).toBe(true);
    const check = await json('POST', '/api/check', {
      query: 'fields @timestamp\n| filter verb = \n| stats count(* by x',
    });
    expect(check.body.ok).toBe(false);
    expect(check.body.problems).toEqual(problems);
    const good = await json('POST', '/api/check', { query: 'stats count(*) by bin(5m)' });
    expect(good.body).toEqual({ ok: true, problems: [] });
  });

  it('estimates the scan from the listing, with key pruning, before running', async () => {
    const all = await json('POST', '/api/estimate', { query: 'stats count(*)' });
    expect(all.body.source).toBe('local');
    const { last } = await query('stats count(*)');
    const p = last.progress as { objectsDone: number; bytesIn: number };
    expect(all.body.objects).toBe(p.objectsDone);
    expect(all.body.bytes).toBe(p.bytesIn);
    const narrow = await json('POST', '/api/estimate', {
      query: `filter @logStream = "${AUTH_STREAM}"`,
    });
    expect(narrow.body.objects as unknown as number).toBeLessThan(all.body.objects as unknown as number);
    expect(narrow.body.objectsPruned as unknown as number).toBeGreaterThan(0);
  });

  it('cancels a running query when the browser closes the request, and keeps serving', async () => {
    const u = new URL('/api/query', c.url);
    await new Promise<void>((resolve) => {
      const req = request(u, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
        res.once('end', () => resolve());
      });
      req.on('error', () => resolve());
      req.end(JSON.stringify({ query: 'stats count(*) by verb' }));
    });
    const after = await json('GET', '/api/info');
    expect(after.status).toBe(200);
  });
});

describe('console API: language, fields, recipes, saved queries', () => {
  it('lists the commands and functions the engine accepts', async () => {
    const { body } = await json('GET', '/api/language');
    const lang = body as unknown as { commands: string[]; functions: { name: string; kind: string }[] };
    for (const cmd of ['fields', 'filter', 'stats', 'sort', 'limit', 'parse', 'dedup'])
      expect(lang.commands).toContain(cmd);
    const names = lang.functions.map((f) => f.name);
    expect(names).toContain('bin');
    expect(lang.functions.find((f) => f.name === 'count')?.kind).toBe('aggregate');
  });

  it('discovers fields with types, presence counts and top values from a sample', async () => {
    const { body } = await json('POST', '/api/fields', {});
    const d = body as unknown as {
      sampled: number;
      fields: { name: string; type: string; count: number; top: { value: string; count: number }[] }[];
    };
    expect(d.sampled).toBe(fx.records.length);
    const ts = d.fields.find((f) => f.name === '@timestamp');
    expect(ts?.type).toBe('time');
    expect(ts?.count).toBe(fx.records.length);
    const verb = d.fields.find((f) => f.name === 'verb');
    expect(verb?.type).toBe('string');
    const verbCounts = new Map<string, number>();
    for (const a of fx.audit) verbCounts.set(a.verb, (verbCounts.get(a.verb) ?? 0) + 1);
    const top = [...verbCounts.entries()].sort((a, b) => b[1] - a[1])[0] as [string, number];
    expect(verb?.top[0]).toEqual({ value: top[0], count: top[1] });
  });

  it('lists recipes with their parameters and refuses a bad parameter with a sentence', async () => {
    const { body } = await json('GET', '/api/recipes');
    const list = body as unknown as { name: string; params: { name: string }[] }[];
    expect(list.length).toBe(RECIPES.length);
    const bad = await json('POST', '/api/recipes/expand', {
      name: 'eks/pod-deletes',
      params: { namespace: 'Bad"Name' },
    });
    expect(bad.status).toBe(400);
    expect(String(bad.body.error)).toMatch(/namespace/);
  });

  it('saves queries as .insights files, lists, reloads and deletes them', async () => {
    const q = 'filter verb = "delete"\n| stats count(*) by objectRef.resource';
    const put = await json('PUT', '/api/saved/deletes%20by%20resource', {
      query: q,
      description: 'who deleted what',
    });
    expect(put.status).toBe(200);
    const file = join(dir, 'queries', 'deletes by resource.insights');
    expect(readFileSync(file, 'utf8')).toBe(`# who deleted what\n\n${q}\n`);
    const list = await json('GET', '/api/saved');
    expect(list.body).toEqual([{ name: 'deletes by resource', description: 'who deleted what', query: q }]);
    const got = await json('GET', '/api/saved/deletes%20by%20resource');
    expect(got.body.query).toBe(q);
    const bad = await json('PUT', '/api/saved/..%2Fescape', { query: q });
    expect(bad.status).toBe(400);
    expect(existsSync(join(dir, 'escape.insights'))).toBe(false);
    await json('DELETE', '/api/saved/deletes%20by%20resource');
    expect(existsSync(file)).toBe(false);
  });
});

describe('console API: serving and security', () => {
  it('serves the built app and refuses paths outside it', async () => {
    const index = await call('GET', '/');
    expect(index.status).toBe(200);
    expect(index.text).toMatch(/assets\/app\.js/);
    expect(index.headers['content-security-policy']).toMatch(/default-src 'self'/);
    const js = await call('GET', '/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    const trav = await call('GET', '/..%2f..%2fpackage.json');
    expect(trav.status).toBe(404);
  });

  it('refuses a foreign Host header on loopback (DNS rebinding)', async () => {
    const r = await call('GET', '/api/info', undefined, { host: 'attacker.example:80' });
    expect(r.status).toBe(403);
  });

  it('refuses an oversized body and a body that is not a JSON object', async () => {
    const big = await call('POST', '/api/check', JSON.stringify({ query: 'x'.repeat(2 << 20) }));
    expect(big.status).toBe(413);
    const notObj = await call('POST', '/api/check', '[1,2]');
    expect(notObj.status).toBe(400);
    expect(JSON.parse(notObj.text).error).toMatch(/JSON object/);
  });

  it('requires the token when one is set, and puts it in the URL fragment', async () => {
    const t = await startConsole({
      from: archive,
      queriesDir: join(dir, 'q2'),
      assetsDir: join(build, 'console'),
      token: 'sesame-0123456789',
      threads: 0,
    });
    try {
      expect(t.url).toMatch(/#token=sesame-0123456789$/);
      const no = await call('GET', '/api/info', undefined, {}, t.url);
      expect(no.status).toBe(401);
      const wrong = await call('GET', '/api/info', undefined, { authorization: 'Bearer nope' }, t.url);
      expect(wrong.status).toBe(401);
      const yes = await call(
        'GET',
        '/api/info',
        undefined,
        { authorization: 'Bearer sesame-0123456789' },
        t.url,
      );
      expect(yes.status).toBe(200);
      const page = await call('GET', '/', undefined, {}, t.url);
      expect(page.status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
