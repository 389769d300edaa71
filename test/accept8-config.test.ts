/**
 * Issue #8 §1 hostile configs (session 5, accept8): a config nested thousands of levels deep was
 * refused with `Maximum call stack size exceeded at line 3, column 785` — exit 2, but the engine's
 * error instead of a sentence. Now it says what is wrong; alias bombs keep their own sentence.
 */
import { describe, expect, it } from 'vitest';
import type { LogferryError } from '../src/core/errors.js';
import { parseConfigText, readConfigFile } from '../src/config/load.js';

function problemsOf(text: string): { path: string; message: string }[] {
  try {
    parseConfigText(text, 'cfg.yaml');
  } catch (e) {
    expect((e as LogferryError).code).toBe('CONFIG_INVALID');
    return (e as LogferryError).details!.problems as { path: string; message: string }[];
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('configs nested too deeply', () => {
  it.each([
    ['YAML flow lists', `sources:\n  - type: stdin\nx: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`],
    ['JSON', `{"sources":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
    ['YAML flow maps', `x: ${'{a: '.repeat(50_000)}1${'}'.repeat(50_000)}\n`],
  ])('%s: a sentence, not the engine error', (_kind, text) => {
    const problems = problemsOf(text);
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p.message).not.toMatch(/call stack/i);
    expect(problems.some((p) => /nested too deeply/.test(p.message))).toBe(true);
  });

  it('an alias bomb keeps its own sentence', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const problems = problemsOf(`${lines.join('\n')}\n`);
    expect(problems[0].message).toMatch(/too many alias expansions/);
  });
});

describe('config paths that are not files', () => {
  it.each([
    ['/dev/zero', /character device, not a file/],
    ['/', /directory, not a file/],
    ['/nonexistent/logferry.yaml', /ENOENT/],
  ])('%s is refused with a sentence before reading', (path, why) => {
    try {
      readConfigFile(path);
    } catch (e) {
      expect((e as LogferryError).code).toBe('CONFIG_INVALID');
      expect((e as Error).message).toMatch(why);
      return;
    }
    throw new Error('expected CONFIG_INVALID');
  });
});

describe('a lookup table that is a device', () => {
  it('--lookup u=/dev/zero is refused at once (it was read until memory ran out)', async () => {
    const { loadLookupTables } = await import('../src/query/lookup/table.js');
    await expect(loadLookupTables(['u=/dev/zero'])).rejects.toThrow(/character device, not a file/);
  });
});

describe('a Fluent Bit config path that is a device', () => {
  it('import fluent-bit /dev/zero reports it unread (it was read until memory ran out)', async () => {
    const { readTree } = await import('../src/import/fluent-bit/read-tree.js');
    const { problems, config } = readTree('/dev/zero', {}, undefined, '@INCLUDE', () => {
      throw new Error('must not parse');
    });
    expect(config.files).toEqual([]);
    expect(problems.map((p) => p.message)).toEqual(['cannot read: it is a character device, not a file']);
  });
});

describe('the nesting pre-check reads quotes and comments as YAML does', () => {
  it('brackets inside quoted strings, comments and plain scalars do not count', () => {
    const many = (s: string) => Array.from({ length: 300 }, () => s).join('\n');
    const text = `sources:\n  s: { type: stdin }\nnotes:\n${many(`  - "${'['.repeat(5)}"  # ${'{'.repeat(5)}`)}\n${many("  - it's [fine]")}\n`;
    expect(() => parseConfigText(text, 'cfg.yaml')).not.toThrow();
  });
});
