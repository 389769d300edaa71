import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../config/load.js';
import { runStages } from '../core/stages.js';
import { createFilterTransform, filterSchema } from './filter.js';
import { issues, testRecord as rec } from './test-records.js';

const make = (o: Record<string, unknown>) =>
  createFilterTransform(filterSchema.parse({ type: 'filter', ...o }));

describe('filter transform', () => {
  it('exclude drops EKS read verbs, counted as FILTERED', async () => {
    const t = make({ exclude: 'verb in ["get", "list", "watch"]' });
    const input = ['get', 'create', 'list', 'delete', 'watch', undefined].map((verb, i) =>
      rec(verb === undefined ? {} : { verb }, {}, { id: String(i) }),
    );
    const out = await runStages([t], input);
    expect(out.records.map((r) => r.fields.verb)).toEqual(['create', 'delete', undefined]);
    expect(out.dropped.map((d) => d.outcome.code)).toEqual(['FILTERED', 'FILTERED', 'FILTERED']);
    expect(t.dropCode).toBe('FILTERED');
    expect(out.result.tally.byReason.get('dropped:FILTERED')).toBe(3);
  });

  it('condition keeps only matching records; missing fields do not match', async () => {
    const t = make({ condition: 'responseObject.code >= 400' });
    expect(t.apply(rec({ responseObject: { code: 403 } }))).not.toBeNull();
    expect(t.apply(rec({ responseObject: { code: 200 } }))).toBeNull();
    expect(t.apply(rec({}))).toBeNull();
  });

  it('condition and exclude together: keep only when both say keep', async () => {
    const t = make({
      condition: '@logStream like /^kube-apiserver-audit/',
      exclude: 'isblank(user.username)',
    });
    expect(t.apply(rec({ user: { username: 'a' } }))).not.toBeNull();
    expect(t.apply(rec({}))).toBeNull();
    expect(t.apply(rec({ user: { username: 'a' } }, {}, { logStream: 'authenticator-1' }))).toBeNull();
  });

  it('regex on a field, on the message by default, negated, on non-string values', async () => {
    expect(make({ regex: { pattern: '^ERROR' } }).apply(rec({}, { message: 'ERROR x' }))).not.toBeNull();
    expect(make({ regex: { pattern: '^ERROR' } }).apply(rec({}, { message: 'INFO x' }))).toBeNull();
    const neg = make({ regex: { field: 'path', pattern: '^/healthz', negate: true } });
    expect(neg.apply(rec({ path: '/healthz' }))).toBeNull();
    expect(neg.apply(rec({ path: '/api' }))).not.toBeNull();
    expect(neg.apply(rec({}))).not.toBeNull();
    const pos = make({ regex: { field: 'status', pattern: '^5\\d\\d$' } });
    expect(pos.apply(rec({ status: 503 }))).not.toBeNull();
    expect(pos.apply(rec({}))).toBeNull();
    expect(
      make({ regex: { field: 'req.ua', pattern: 'bot', flags: 'i' } }).apply(
        rec({ req: { ua: 'GoogleBot' } }),
      ),
    ).not.toBeNull();
  });

  it('refuses bad config with clear messages', async () => {
    expect(issues(filterSchema.safeParse({ type: 'filter' }))).toEqual([
      ': filter needs at least one of condition, exclude or regex',
    ]);
    const r = issues(filterSchema.safeParse({ type: 'filter', condition: 'verb = ', exlude: 'x' }));
    expect(r.join('\n')).toMatch(/exlude/);
    expect(r.join('\n')).toMatch(/condition: expression has a problem:\nline 1, column/);
    expect(issues(filterSchema.safeParse({ type: 'filter', regex: { pattern: '(' } })).join()).toMatch(
      /regex.pattern: invalid regular expression/,
    );
    expect(
      issues(filterSchema.safeParse({ type: 'filter', regex: { pattern: 'a', flags: 'g' } })).join(),
    ).toMatch(/flags may only contain/);
  });

  it('through the config loader: conditions are checked at load, every problem listed with its position', async () => {
    expect(() =>
      loadConfigText('transforms:\n  - type: filter\n    exclude: \'verb in ["get", "list", "watch"]\'\n'),
    ).not.toThrow();
    let msg = '';
    try {
      loadConfigText(
        "transforms:\n  - type: filter\n    exclude: 'verb in [\"get\"'\n  - type: filter\n    condition: 'nosuch(x) = 1'\n",
      );
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/transforms\[0\]\.exclude: .*\n.*line 1, column \d+/);
    expect(msg).toMatch(/transforms\[1\]\.condition: .*\n.*unknown function 'nosuch'/);
  });
});
