/**
 * The configuration examples in the docs are real: every fenced YAML block marked
 * `<!-- validate: name -->` in the pages listed here passes `logferry validate` (the same checks
 * `run` makes before starting: schema, names, routes, conditions).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateFile } from '../cli/commands/validate.js';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'docs-examples-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The fenced YAML block right after each `<!-- validate: name -->`. */
function validateBlocks(doc: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /<!-- validate: ([\w-]+) -->\n```yaml\n([\s\S]*?)\n```/g;
  for (const m of doc.matchAll(re)) out.set(m[1], m[2]);
  return out;
}

const pages: [string, string[]][] = [['docs/sources.md', ['sqs-s3-seed-000', 'sqs-lambda']]];

for (const [page, expected] of pages) {
  describe(page, () => {
    const found = validateBlocks(readFileSync(join(root, page), 'utf8'));
    it('has its marked examples', () => {
      expect([...found.keys()]).toEqual(expected);
    });
    for (const [name, yaml] of found) {
      it(`${name} passes logferry validate`, async () => {
        const file = join(tmp, `${name}.yaml`);
        writeFileSync(file, yaml);
        expect(await validateFile(file)).toContain('valid');
      });
    }
  });
}
