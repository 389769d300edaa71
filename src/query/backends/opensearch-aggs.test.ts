import { describe, expect, it } from 'vitest';
import { compileQuery } from '../index.js';
import { planAggregation } from './opensearch-aggs.js';
import { indexMappings } from './opensearch-dsl.js';

const text = { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } };
const M = indexMappings({
  i: {
    mappings: {
      properties: {
        '@timestamp': { type: 'date' },
        '@logStream': text,
        verb: text,
        '@duration': { type: 'double' },
        user: { properties: { username: text } },
      },
    },
  },
});
const plan = (q: string) => planAggregation(compileQuery(q), M);

describe('planAggregation', () => {
  it('leaves stats … by bin() offset to the local engine (date_histogram has no offset here)', () => {
    expect(plan('stats count(*) by bin(1h) offset 30m')).toBeUndefined();
  });

  it('plans filters, composite sources, metrics and the fields to verify', () => {
    const p = plan(
      'filter @logStream like /^kube-apiserver-audit/ and verb != "get" | stats count(*) as n, avg(@duration) by verb, bin(5m) | sort n desc',
    );
    expect(p).toBeDefined();
    expect(p?.sources).toEqual([
      { g0: { terms: { field: 'verb.keyword' } } },
      { g1: { date_histogram: { field: '@timestamp', fixed_interval: '300000ms' } } },
    ]);
    expect(p?.metrics).toEqual([
      { name: '__lf_m0' },
      { name: '__lf_m1', agg: { avg: { field: '@duration' } } },
    ]);
    expect(p?.verifyFields.sort()).toEqual(['@duration', '@logStream.keyword', 'verb.keyword']);
    expect(p?.rest.commands.map((c) => c.kind)).toEqual(['stats', 'sort']);
    const stats = p?.rest.commands[0];
    expect(stats?.kind === 'stats' && stats.aggregates.map((a) => a.name)).toEqual(['n', 'avg(@duration)']);
  });
  it('refuses what it cannot answer exactly', () => {
    expect(plan('fields verb | stats count(*) by verb')).toBeUndefined(); // a command before stats
    expect(plan('filter verb like /get/i | stats count(*)')).toBeUndefined(); // untranslatable filter
    expect(plan('stats pct(@duration, 99)')).toBeUndefined(); // no exact aggregation
    expect(plan('stats sum(verb)')).toBeUndefined(); // sum of a string field
    expect(plan('stats count(*) by bin(1mo)')).toBeUndefined(); // calendar period
    expect(plan('stats count(*) by strlen(verb)')).toBeUndefined(); // computed group
    expect(plan('stats count(*) by missing')).toBeUndefined(); // unmapped field
    expect(plan('filter verb = "get"')).toBeUndefined(); // no stats at all
  });
  it('plans stats without groups', () => {
    expect(plan('stats count(*), count(user.username), max(@duration)')?.sources).toEqual([]);
  });
});
