import { describe, expect, it } from 'vitest';
import { describeGraph } from './graph.js';

const nodes = (prefix: string, k: number) => Array.from({ length: k }, (_, i) => ({ name: `${prefix}${i}` }));

describe('describeGraph', () => {
  it('names every component of a small graph and counts the edges', () => {
    expect(
      describeGraph({
        sources: nodes('s', 2),
        transforms: [{ name: 'mask', inputs: ['s0', 's1'] }],
        sinks: [{ name: 'out', inputs: ['mask'] }],
      }),
    ).toBe('2 sources (s0, s1), 1 transform (mask), 1 sink (out), 3 edges');
  });

  it('keeps one line readable for thousands of components: the first names, then a count', () => {
    const sources = nodes('s', 10_000);
    const line = describeGraph({
      sources,
      transforms: [],
      sinks: [{ name: 'out', inputs: sources.map((s) => s.name) }],
    });
    expect(line).toBe(
      '10000 sources (s0, s1, s2, s3, s4, s5, s6, s7, … 9992 more), 0 transforms, 1 sink (out), 10000 edges',
    );
    expect(describeGraph({ sources: nodes('s', 10), transforms: [], sinks: nodes('k', 1) })).toContain('s9)');
  });
});
