import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { compileQuery } from './compile.js';
import { toJsRegex, V8_LINEAR, v8FallbackWorks } from './regex.js';

const EVIL = `${'a'.repeat(40)}b`;

describe('toJsRegex', () => {
  it('lifts a leading (?i) into case-insensitive matching and lists named groups', () => {
    const r = toJsRegex('(?i)user=(?<user>\\w+) \\(?<notAGroup>', '');
    expect(r.names).toEqual(['user']);
    expect(r.groups).toEqual(['user']);
    expect(r.re.exec('USER=bob (<NOTAGROUP>')?.groups?.user).toBe('bob');
  });

  it('accepts parse fields starting with @ as group names, backreferences too', () => {
    // Regression: `(?<@transId>…)` (as in `parse … as @user`) was refused as an invalid regex.
    const r = toJsRegex('(?<@transId>[a-z]+)-\\k<@transId>', '');
    expect(r.names).toEqual(['@transId']);
    expect(r.re.exec('ab-ab')?.groups?.[r.groups[0]]).toBe('ab');
    expect(r.re.test('ab-cd')).toBe(false);
  });

  it('accepts inline flags after a leading ^, as AWS examples write them', () => {
    // Regression: /^(?i)x/ was refused as an invalid regular expression.
    const r = toJsRegex('^(?i)error', '');
    expect(r.re.test('ERROR: x')).toBe(true);
    expect(r.re.test('an error')).toBe(false);
  });

  it('applies Java-style inline flags where they stand: (?i) to the end of its group, (?i:…) scoped', () => {
    expect(toJsRegex('ab(?i)cd', '').re.test('abCD')).toBe(true);
    expect(toJsRegex('ab(?i)cd', '').re.test('ABcd')).toBe(false);
    expect(toJsRegex('(?i:ab)cd', '').re.test('ABcd')).toBe(true);
    expect(toJsRegex('(?i:ab)cd', '').re.test('abCD')).toBe(false);
    expect(toJsRegex('(x(?i)y)z', '').re.test('xYz')).toBe(true);
    expect(toJsRegex('(x(?i)y)z', '').re.test('xYZ')).toBe(false);
    expect(toJsRegex('(?i)a(?-i)b', '').re.test('Ab')).toBe(true);
    expect(toJsRegex('(?i)a(?-i)b', '').re.test('AB')).toBe(false);
    expect(toJsRegex('a(?s).b', '').re.test('a\nb')).toBe(true);
    expect(toJsRegex('a.b', '').re.test('a\nb')).toBe(false);
  });

  it('rewrites case-insensitivity with the same answers as the i flag (classes, ranges, escapes, non-ASCII)', () => {
    const patterns = [
      'error|warn',
      '[a-f0-9]{4}',
      '[^a-z]+x',
      '\\x41b\\u0063',
      'straße',
      'ÉTÉ[à-ÿ]',
      '[\\w-]+@[A-Z]+\\.com',
      'k8s\\.io/[a-z]+',
      '[_-z]',
    ];
    const texts = [
      'ERROR here',
      'Warning',
      'DeadBeef',
      '1234 X',
      '..x',
      'ABC',
      'abc',
      'STRASSE',
      'Straße',
      'été',
      'ÉTÉÀ',
      'Bob-1@EXAMPLE.com',
      'K8S.IO/Pods',
      '`',
      'Z',
      '^',
    ];
    for (const p of patterns) {
      const native = new RegExp(p, 'i');
      const r = toJsRegex(p, 'i');
      expect(r.engine).toBe(V8_LINEAR ? 'v8' : 're2');
      for (const t of texts) expect([p, t, r.re.test(t)]).toEqual([p, t, native.test(t)]);
    }
  });

  it('refuses what no engine can run safely, with a sentence', () => {
    expect(() => toJsRegex('(a+)+\\1', '')).toThrow(/exponential time.*backreference/);
    expect(() => toJsRegex('(?=a)(a|aa)*$', '')).toThrow(/lookaround/);
    expect(() => toJsRegex('a{1001}', '')).toThrow(/linear time/);
    expect(() => toJsRegex('(?x)a', '')).toThrow(/unsupported inline regex flag 'x'/);
    expect(() => toJsRegex('a(?m)b', '')).toThrow(/only supported at the start/);
    expect(() => toJsRegex('a(b', '')).toThrow(/invalid regular expression|unterminated/);
    expect(() => toJsRegex('[a-', '')).toThrow(/unterminated character class/);
  });

  it('runs u-mode patterns on the RE2 engine with named groups', () => {
    const r = toJsRegex('(?<w>\\p{L}+) (?<n>\\d+)', 'u');
    expect(r.engine).toBe('re2');
    const m = r.re.exec('-- Grüße 42 --');
    expect(m?.groups).toEqual({ w: 'Grüße', n: '42' });
    expect(m?.index).toBe(3);
    expect(m?.[0]).toBe('Grüße 42');
    expect(r.re.test('42')).toBe(false);
  });
});

// Each of these backtracks exponentially on V8's default engine: 2^40 steps would never finish.
// The timeout turns a regression into a failure instead of a hung run.
describe('catastrophic regexes run in linear time (issue 8)', () => {
  const rows = [
    { '@timestamp': 1, '@message': EVIL },
    { '@timestamp': 2, '@message': 'aaaa' },
  ];
  const cases: [string, number][] = [
    ['filter @message like /(a+)+$/', 1],
    ['filter @message like /(a|aa)+$/', 1],
    ['filter @message =~ /(a+)+$/', 1],
    ['filter @message =~ "(a+)+$"', 1],
    ['filter @message like /(?i)(A+)+$/', 1],
    ['filter @message like /^(?i)(a|aa)+$/', 1],
    ['filter @message like /(a+)+$/i', 1],
    ['filter @message not like /(a+)+$/', 1],
    ['filter @message like /(?<x>a+)+$/u', 1],
    ['filter @message like /(a*)*(a+)+$/', 1],
  ];
  for (const [q, n] of cases) {
    it(q, { timeout: 10_000 }, async () => {
      const r = await compileQuery(q).execute(rows);
      expect(r.rows.length).toBe(n);
    });
  }

  it('parse with a catastrophic regex extracts from the rows that match and skips the rest', {
    timeout: 10_000,
  }, async () => {
    const r = await compileQuery('parse @message /^(?<run>(a|aa)+)$/ | display run').execute(rows);
    expect(r.rows.map((x) => x.run ?? null).sort()).toEqual(['aaaa', null]);
  });

  it("V8's linear fallback is on in this Node (a Node that drops it makes this fail, not hang)", () => {
    expect(V8_LINEAR).toBe(true);
    expect(v8FallbackWorks()).toBe(true);
    expect(toJsRegex('(a+)+$', '').engine).toBe('v8');
  });

  it('parse globs (regexes built by the engine) are covered too', { timeout: 10_000 }, async () => {
    // Ten lazy captures over 3,000 characters that never end in b: polynomial backtracking without the
    // linear fallback (minutes), milliseconds with it.
    const q = compileQuery(
      'parse @message "*a*a*a*a*a*a*a*a*b*" as a1,a2,a3,a4,a5,a6,a7,a8,a9,a10 | display a1',
    );
    const r = await q.execute([{ '@timestamp': 1, '@message': 'a'.repeat(3000) }]);
    expect(r.rows).toEqual([{ a1: null }]);
  });

  it('stays linear in a worker thread (the flags are process-wide)', { timeout: 15_000 }, async () => {
    const code = `
      const { parentPort } = require('node:worker_threads');
      const s = 'a'.repeat(40) + 'b';
      const t = Date.now();
      const r = /(a+)+$/.test(s);
      parentPort.postMessage({ r, ms: Date.now() - t });
    `;
    // The worker shares this process's V8 flags, set when regex.ts was loaded.
    const w = new Worker(code, { eval: true });
    const msg = await new Promise<{ r: boolean }>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    await w.terminate();
    expect(msg.r).toBe(false);
  });
});

describe('parse with @ field names in a regex', () => {
  it('extracts into @-named fields that later commands can use', async () => {
    const q = compileQuery(
      'parse @message /(transactionId:[ ]?)(?<@transId>[a-zA-Z0-9]+)/ | filter @transId = "a4c4755" | display @transId, n',
    );
    const r = await q.execute([
      { '@timestamp': 1, '@message': 'ok transactionId: a4c4755 done', n: 1 },
      { '@timestamp': 2, '@message': 'ok transactionId:zz9 done', n: 2 },
      { '@timestamp': 3, '@message': 'nothing', n: 3 },
    ]);
    expect(r.rows).toEqual([{ '@transId': 'a4c4755', n: 1 }]);
  });

  it('extracts @-named fields through the RE2 engine too', async () => {
    const r = await compileQuery('parse @message /(?<@w>\\p{Lu}+)/u | display @w').execute([
      { '@timestamp': 1, '@message': 'x ÄBC y' },
    ]);
    expect(r.rows).toEqual([{ '@w': 'ÄBC' }]);
  });
});
