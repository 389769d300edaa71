import { describe, expect, it } from 'vitest';
import type { Expr, FilterCommand } from '../ast.js';
import { parseQuery } from '../index.js';
import { buildSearchQuery, indexMappings, translate } from './opensearch-dsl.js';

const text = { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } };
const MAPPINGS = indexMappings({
  'logs-2026.11.20': {
    mappings: {
      properties: {
        '@timestamp': { type: 'date' },
        '@message': text,
        '@logStream': text,
        '@log': text,
        verb: text,
        level: { type: 'keyword' },
        objectRef: { properties: { name: text } },
        responseStatus: { properties: { code: { type: 'long' } } },
        clash: { type: 'long' },
      },
    },
  },
  'logs-2026.11.21': { mappings: { properties: { clash: text, level: { type: 'keyword' } } } },
});

function f(q: string): Expr {
  return (parseQuery(`filter ${q}`).commands[0] as FilterCommand).expr;
}

describe('indexMappings', () => {
  it('flattens objects, finds keyword sub-fields and marks conflicts between indices', () => {
    expect(MAPPINGS.get('objectRef.name')).toEqual({
      type: 'text',
      keywordSub: 'objectRef.name.keyword',
      subIgnoreAbove: 256,
    });
    expect(MAPPINGS.get('clash')).toBe('conflict');
    expect(MAPPINGS.get('level')).toEqual({ type: 'keyword' });
  });
});

describe('translate', () => {
  it('stored fields: exact prefix for an anchored literal regex', () => {
    expect(translate(f('@logStream like /^kube-apiserver-audit/'), MAPPINGS)).toEqual({
      q: {
        bool: {
          should: [
            { prefix: { '@logStream.keyword': 'kube-apiserver-audit' } },
            { bool: { must_not: { exists: { field: '@logStream.keyword' } } } },
          ],
          minimum_should_match: 1,
        },
      },
      exact: false,
    });
    expect(translate(f('@logStream = "a-b"'), MAPPINGS)).toEqual({
      q: { term: { '@logStream.keyword': 'a-b' } },
      exact: true,
    });
  });
  it('parsed fields: positive leaves also keep documents without the value indexed', () => {
    expect(translate(f('objectRef.name == "aws-auth"'), MAPPINGS)).toEqual({
      q: {
        bool: {
          should: [
            { term: { 'objectRef.name.keyword': 'aws-auth' } },
            { bool: { must_not: { exists: { field: 'objectRef.name.keyword' } } } },
          ],
          minimum_should_match: 1,
        },
      },
      exact: false,
    });
    expect(translate(f('verb not in ["get", "list"]'), MAPPINGS)).toEqual({
      q: { bool: { must_not: { terms: { 'verb.keyword': ['get', 'list'] } } } },
      exact: false,
    });
    expect(translate(f('responseStatus.code >= 400'), MAPPINGS).q).toEqual({
      bool: {
        should: [
          { range: { 'responseStatus.code': { gte: 400 } } },
          { bool: { must_not: { exists: { field: 'responseStatus.code' } } } },
        ],
        minimum_should_match: 1,
      },
    });
  });
  it('never negates an over-approximation, and leaves what it cannot translate to local evaluation', () => {
    expect(translate(f('not (objectRef.name = "x")'), MAPPINGS).q).toEqual({ match_all: {} });
    expect(translate(f('@logStream not like /^ecs\\/nginx*/'), MAPPINGS).q).toEqual({ match_all: {} });
    expect(translate(f('responseStatus.code = "403"'), MAPPINGS).q).toEqual({ match_all: {} });
    expect(translate(f('clash = "x"'), MAPPINGS).q).toEqual({ match_all: {} });
    expect(translate(f('unknownField = "x"'), MAPPINGS).q).toEqual({ match_all: {} });
    expect(translate(f('@message like /error/i'), MAPPINGS).q).toEqual({ match_all: {} });
    expect(translate(f('verb = "a" or strlen(verb) > 3'), MAPPINGS).q).toEqual({ match_all: {} });
  });
  it('negates exact leaves on stored fields', () => {
    expect(translate(f('@logStream != "s"'), MAPPINGS)).toEqual({
      q: { bool: { must_not: { term: { '@logStream.keyword': 's' } } } },
      exact: true,
    });
    expect(translate(f('not (@logStream = "s" and level = "x")'), MAPPINGS).q).toEqual({ match_all: {} });
    expect(translate(f('level like "wa*rn"'), MAPPINGS).q).toEqual({
      bool: {
        should: [
          { wildcard: { level: { value: '*wa\\*rn*' } } },
          { bool: { must_not: { exists: { field: 'level' } } } },
        ],
        minimum_should_match: 1,
      },
    });
  });
});

describe('buildSearchQuery', () => {
  it('adds the time range and counts pushed filters', () => {
    const out = buildSearchQuery([f('@logStream = "s"'), f('strlen(@message) > 3')], MAPPINGS, {
      startMs: 1,
      endMs: 2,
    });
    expect(out.pushed).toBe(1);
    expect(out.exact).toBe(false);
    expect(out.query).toEqual({
      bool: {
        filter: [
          { range: { '@timestamp': { format: 'epoch_millis', gte: 1, lt: 2 } } },
          { term: { '@logStream.keyword': 's' } },
        ],
      },
    });
    expect(buildSearchQuery([], MAPPINGS, {}).query).toEqual({ match_all: {} });
  });
});
