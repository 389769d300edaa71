import { describe, expect, it } from 'vitest';
import { toDocument } from '../core/document.js';
import type { LogRecord } from '../core/record.js';
import { compileCondition, type CompiledCondition, type ConditionError } from './condition.js';
import { compileQuery } from './index.js';

function rec(
  fields: Record<string, unknown>,
  over: Partial<LogRecord> = {},
  meta: Partial<LogRecord['meta']> = {},
): LogRecord {
  return {
    timestamp: 1_700_000_000_000,
    message: 'hello world',
    fields,
    meta: {
      owner: '123456789012',
      logGroup: '/aws/eks/prod/cluster',
      logStream: 'kube-apiserver-audit-abc',
      id: 'e1',
      source: 'test',
      ackId: 'a',
      ...meta,
    },
    ...over,
  };
}

function ok(text: string, opts = {}): CompiledCondition {
  const c = compileCondition(text, opts);
  if (!c.ok) throw new Error(c.message);
  return c;
}

function bad(text: string): ConditionError {
  const c = compileCondition(text);
  if (c.ok) throw new Error(`expected ${text} to be refused`);
  return c;
}

describe('compileCondition', () => {
  it('the examples of the issue', () => {
    const reads = ok('verb in ["get", "list", "watch"]').test;
    expect(reads(rec({ verb: 'get' }))).toBe(true);
    expect(reads(rec({ verb: 'watch' }))).toBe(true);
    expect(reads(rec({ verb: 'create' }))).toBe(false);
    expect(reads(rec({}))).toBe(false);

    const kube = ok('@logStream like /^kube-/').test;
    expect(kube(rec({}))).toBe(true);
    expect(kube(rec({}, {}, { logStream: 'authenticator-1' }))).toBe(false);

    const errors = ok('responseObject.code >= 400').test;
    expect(errors(rec({ responseObject: { code: 404 } }))).toBe(true);
    expect(errors(rec({ responseObject: { code: 200 } }))).toBe(false);
    expect(errors(rec({ responseObject: { code: '500' } }))).toBe(true);
    expect(errors(rec({ responseObject: {} }))).toBe(false);
    expect(errors(rec({}))).toBe(false);

    const anon = ok('isblank(user.username)').test;
    expect(anon(rec({ user: { username: '' } }))).toBe(true);
    expect(anon(rec({}))).toBe(true);
    expect(anon(rec({ user: { username: 'alice' } }))).toBe(false);
  });

  it('reads system fields from the record, not from parsed fields', () => {
    const r = rec({ '@message': 'spoof', '@logStream': 'spoof' }, { message: 'real text' });
    expect(ok('@message like "real"').test(r)).toBe(true);
    expect(ok('@message like "spoof"').test(r)).toBe(false);
    expect(ok('@logStream = "spoof"').test(r)).toBe(false);
    expect(ok('@log = "123456789012:/aws/eks/prod/cluster"').test(r)).toBe(true);
    expect(ok('@logGroup = "/aws/eks/prod/cluster"').test(r)).toBe(true);
    expect(ok('@id = "e1"').test(r)).toBe(true);
    expect(ok('@timestamp >= 1700000000000').test(r)).toBe(true);
    expect(ok('@log = "/g"').test(rec({}, {}, { owner: '', logGroup: '/g' }))).toBe(true);
  });

  it('dotted names: exact key first, nested walk, keys that contain dots', () => {
    const r = rec({
      'a.b': 'flat',
      objectRef: { resource: 'pods' },
      annotations: { 'authorization.k8s.io/decision': 'allow' },
      list: [{ x: 1 }],
    });
    expect(ok('a.b = "flat"').test(r)).toBe(true);
    expect(ok('objectRef.resource = "pods"').test(r)).toBe(true);
    expect(ok('annotations.authorization.k8s.io/decision = "allow"').test(r)).toBe(false); // `/` is division
    expect(ok('`annotations.authorization.k8s.io/decision` = "allow"').test(r)).toBe(true);
    expect(ok('list.0.x = 1').test(r)).toBe(true);
    expect(ok('toString = "x" or constructor = "x"').test(r)).toBe(false);
  });

  it('null semantics are the query engine’s', () => {
    const none = rec({});
    const cases: [string, boolean][] = [
      ['missing = "a"', false],
      ['missing != "a"', false],
      ['not (missing = "a")', true],
      ['missing like "a"', false],
      ['missing not like "a"', false],
      ['missing in ["a"]', false],
      ['missing not in ["a"]', false],
      ['missing > 1', false],
      ['missing < 1', false],
      ['ispresent(missing)', false],
      ['not ispresent(missing)', true],
      ['isempty(missing)', true],
      ['missing + 1 > 0', false],
      ['coalesce(missing, "x") = "x"', true],
      ['missing', false],
      ['1', true],
      ['0', false],
    ];
    for (const [text, want] of cases) expect([text, ok(text).test(none)]).toEqual([text, want]);
  });

  it('agrees with the query engine filter on the shipped document', async () => {
    const rows: LogRecord[] = [
      rec({ verb: 'get', code: 200 }, {}, { id: 'r0' }),
      rec({ verb: 'delete', code: 403, user: { username: 'bob' } }, {}, { id: 'r1' }),
      rec({ verb: 'create' }, { message: 'ERROR boom' }, { id: 'r2' }),
      rec({ verb: 'GET', code: '500' }, {}, { logStream: 'authenticator-x', id: 'r3' }),
      rec({}, {}, { id: 'r4' }),
    ];
    const conds = [
      'verb in ["get", "list", "watch"]',
      'code >= 400 and @logStream like /^kube-/',
      '@message like /(?i)error/',
      'not (verb = "get")',
      'strlen(verb) > 3 or isblank(user.username)',
      'tolower(verb) = "get"',
      'code != 200',
    ];
    for (const text of conds) {
      const c = ok(text);
      const got = rows.filter((r) => c.test(r)).map((r) => r.meta.id);
      const res = await compileQuery(`filter ${text} | fields @id`).execute(rows.map((r) => toDocument(r)));
      const want = res.rows.map((r) => r['@id']).sort();
      expect([text, got]).toEqual([text, want]);
    }
  });

  it('now() is the clock at evaluation time', () => {
    let t = 1_000_000;
    const c = ok('@timestamp / 1000 > now() - 60', { now: () => t });
    const r = rec({}, { timestamp: 990_000 });
    expect(c.test(r)).toBe(true);
    t = 1_000_000 + 120_000;
    expect(c.test(r)).toBe(false);
  });

  it('reports every problem with line, column and caret, relative to the condition text', () => {
    const e = bad('verb in ["get"');
    expect(e.problems.length).toBeGreaterThan(0);
    expect(e.problems[0].line).toBe(1);
    expect(e.message).toMatch(/line 1, column \d+/);
    expect(e.message).toContain('verb in ["get"\n');

    const f = bad('nosuchfn(verb) = 1 and count(*) > 2');
    expect(f.problems.length).toBe(2);
    expect(f.problems[0]).toMatchObject({ line: 1, column: 1 });
    expect(f.message).toContain('nosuchfn');
    expect(f.message).toMatch(/\n {2}\^/);

    const g = bad('verb = "get" | stats count(*)');
    expect(g.problems[0].column).toBe(14);
    expect(g.problems[0].message).toMatch(/one expression/);

    const m = bad('verb = "get" and\n  code >= ');
    expect(m.problems[0].line).toBe(2);

    expect(bad('').problems[0].message).toMatch(/empty/);
    expect(bad('   ').problems[0].message).toMatch(/empty/);
    expect(bad('@message like /[/').problems[0].message).toMatch(/regular expression|regex/i);
  });

  it('reports which fields it reads', () => {
    expect([...ok('a = 1 and isblank(b.c) or @message like "x"').fields].sort()).toEqual([
      '@message',
      'a',
      'b.c',
    ]);
  });
});
