import { describe, expect, it } from 'vitest';
import { LogferryError } from '../core/errors.js';
import { loadConfigText, suggestKey } from './load.js';

function problemsOf(yaml: string): string[] {
  try {
    loadConfigText(yaml);
  } catch (e) {
    expect(e).toBeInstanceOf(LogferryError);
    const problems = (e as LogferryError & { details?: { problems: { path: string; message: string }[] } })
      .details?.problems;
    return (problems ?? []).map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('config was accepted');
}

describe('loadConfigText problem listing', () => {
  it('lists component problems even when the top level has its own (misspelt section)', () => {
    const problems = problemsOf(
      [
        'source: [{type: demo}]',
        'sinks:',
        '  - {type: s3, url: file:///tmp/x, fromat: raw, maxRecords: "100"}',
        '  - {type: opensearhc, url: "http://x"}',
        'deadLetter: {type: file}',
      ].join('\n'),
    );
    expect(problems).toEqual([
      '(top level): unknown key(s): source (did you mean "sources"?)',
      'sinks[0].maxRecords: Invalid input: expected number, received string',
      'sinks[0]: unknown key(s): fromat (did you mean "format"?)',
      expect.stringMatching(/^sinks\[1\]\.type: unknown sink type "opensearhc"; known: .*opensearch/),
      'deadLetter.path: missing (required string)',
    ]);
  });

  it('points at docs that exist, not at a command that does not', () => {
    expect(() => loadConfigText('sinkz: []')).toThrow(/docs\/configuration\.md/);
    expect(() => loadConfigText('sinkz: []')).not.toThrow(/logferry config/);
  });

  it('accepts mask: true as the defaults and explains a wrong mask value', () => {
    expect(loadConfigText('mask: true').mask).toBeUndefined();
    expect(loadConfigText('mask: false').mask).toBe(false);
    expect(problemsOf('mask: "on"')).toEqual([
      expect.stringMatching(/^mask: expected false .*true .*object of mask options/),
    ]);
  });

  it('suggests keys for typos in nested sections too', () => {
    expect(problemsOf('firehose: {fromat: raw}\nmask: {keys: {ad: [pin]}, patterns: {emial: true}}')).toEqual(
      [
        'firehose: unknown key(s): fromat (did you mean "format"?)',
        'mask.keys: unknown key(s): ad (did you mean "add"?)',
        'mask.patterns: unknown key(s): emial (did you mean "email"?)',
      ],
    );
  });

  it('suggests close keys only', () => {
    expect(suggestKey('keyTemplat', ['keyTemplate', 'url'])).toBe('keyTemplate');
    expect(suggestKey('SINKS', ['sinks', 'sources'])).toBe('sinks');
    expect(suggestKey('bucket', ['url', 'format'])).toBeUndefined();
  });
});
