import { describe, expect, it } from 'vitest';
import { compileQuery } from './compile.js';
import { toJsRegex } from './regex.js';

describe('toJsRegex', () => {
  it('lifts a leading (?i) into flags and lists named groups', () => {
    const r = toJsRegex('(?i)user=(?<user>\\w+) \\(?<notAGroup>', '');
    expect(r.re.flags).toContain('i');
    expect(r.names).toEqual(['user']);
    expect(r.groups).toEqual(['user']);
  });

  it('accepts parse fields starting with @ as group names, backreferences too', () => {
    // Regression: `(?<@transId>…)` (as in `parse … as @user`) was refused as an invalid regex.
    const r = toJsRegex('(?<@transId>[a-z]+)-\\k<@transId>', '');
    expect(r.names).toEqual(['@transId']);
    expect(r.re.exec('ab-ab')?.groups?.[r.groups[0]]).toBe('ab');
    expect(r.re.test('ab-cd')).toBe(false);
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
});
