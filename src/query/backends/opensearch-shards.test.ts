import { describe, expect, it } from 'vitest';
import { noteShardFailures } from './opensearch.js';
import { incompleteReasons, newProgress } from './scan.js';

describe('noteShardFailures', () => {
  it('counts failed shards and timeouts as skipped data with the reason', () => {
    const p = newProgress();
    noteShardFailures({ _shards: { total: 5, successful: 5, failed: 0 } }, p);
    expect(incompleteReasons(p)).toEqual([]);
    noteShardFailures(
      {
        timed_out: true,
        _shards: {
          total: 5,
          successful: 3,
          failed: 2,
          failures: [{ index: 'logs-2026.11.22', reason: { type: 'x', reason: 'too_many_clauses' } }],
        },
      },
      p,
    );
    expect(p.objectsFailed).toBe(3);
    const why = incompleteReasons(p);
    expect(why).toHaveLength(1);
    expect(why[0]).toMatch(/2 shard\(s\) of logs-2026\.11\.22 failed: too_many_clauses/);
    expect(why[0]).toMatch(/timed out/);
  });
});
