/**
 * The migration pages show real behaviour: the Fluent Bit page's output block is exactly what the
 * import writes for the seed configuration, and every block marked `<!-- validate: … -->` (the
 * Logstash replacements) passes `logferry validate`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateFile } from '../../cli/commands/validate.js';
import { importFluentBit } from './index.js';

const root = join(import.meta.dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'fbimport-docs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The fenced block right after `<!-- marker: name -->`. */
function blocks(doc: string, marker: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = new RegExp(`<!-- ${marker}: ([\\w-]+) -->\\n\`\`\`yaml\\n([\\s\\S]*?)\\n\`\`\``, 'g');
  for (const m of doc.matchAll(re)) out.set(m[1], m[2]);
  return out;
}

describe('docs/migrate-from-fluent-bit.md', () => {
  it("shows exactly what the import writes for the seed's configuration", () => {
    const doc = readFileSync(join(root, 'docs/migrate-from-fluent-bit.md'), 'utf8');
    const shown = blocks(doc, 'import-output').get('seed-003');
    expect(shown).toBeDefined();
    const dir = join(import.meta.dirname, 'testdata/seed-003');
    const r = importFluentBit(join(dir, 'fluent-bit.conf'), { cwd: dir });
    expect(`${shown}\n`).toBe(r.yaml);
  });
});

describe('docs/migrate-from-logstash.md', () => {
  const doc = readFileSync(join(root, 'docs/migrate-from-logstash.md'), 'utf8');
  const found = blocks(doc, 'validate');
  it('has both configurations', () => {
    expect([...found.keys()]).toEqual(['logstash-replacement', 'one-process']);
  });
  for (const [name, yaml] of found) {
    it(`${name} passes logferry validate`, async () => {
      const file = join(tmp, `${name}.yaml`);
      writeFileSync(file, yaml);
      expect(await validateFile(file)).toContain('valid');
    });
  }
});
