import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('public query API', () => {
  it('exports the names readers and the CLI build on', async () => {
    expect(typeof api.parseQuery).toBe('function');
    expect(typeof api.compileQuery).toBe('function');
    expect(typeof api.formatProblem).toBe('function');
    expect(api.DEFAULT_RESULT_LIMIT).toBe(10_000);
    const q = api.compileQuery('filter verb = "get" | stats count(*) by bin(1m)', { now: 0 });
    expect(Object.keys(q).sort()).toEqual(
      [
        'aggregates',
        'ast',
        'binMs',
        'execute',
        'finish',
        'pushdownFilters',
        'referencedFields',
        'rowStage',
        'subqueries',
      ].sort(),
    );
    expect(q.ast.commands.map((c) => c.kind)).toEqual(['filter', 'stats']);
    const r = await q.finish([]);
    expect(r).toEqual({
      fields: ['bin(1m)', 'count(*)'],
      rows: [],
      stats: { recordsScanned: 0, recordsMatched: 0 },
      timeFields: ['bin(1m)'],
    });
  });
});
