/**
 * Saved queries: the built-in recipes (read-only, with their parameters as form fields) and the
 * user's own queries, one file each in a folder (`<name>.insights`: `#` comment lines with the
 * description, then the query — valid Logs Insights text, so a team keeps them in git and can paste
 * them into CloudWatch). Writes are atomic (temp file + rename).
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LogferryError } from '../core/errors.js';
import { RECIPES } from '../query/recipes/index.js';

export const SAVED_EXTENSION = '.insights';
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/;
const MAX_QUERY_CHARS = 100_000;

export interface SavedQuery {
  name: string;
  description: string;
  query: string;
}

export interface RecipeInfo {
  name: string;
  description: string;
  query: string;
  params: { name: string; description: string; default?: string; pattern: string; expect: string }[];
}

export function recipeList(): RecipeInfo[] {
  return RECIPES.map((r) => ({
    name: r.name,
    description: r.description,
    query: r.query,
    params: r.params.map((p) => ({
      name: p.name,
      description: p.description,
      default: p.default,
      pattern: p.pattern.source,
      expect: p.expect,
    })),
  }));
}

function checkName(name: string): void {
  if (!NAME.test(name) || name.endsWith('.') || name.includes('..'))
    throw new LogferryError(
      'CONFIG_INVALID',
      `'${name}' is not a usable query name: use letters, digits, space, '.', '_' or '-' (at most 100), starting with a letter or digit`,
    );
}

/**
 * `# description` lines, a blank line, then the query. Comment lines not followed by a blank line
 * belong to the query (Logs Insights accepts `#` comments).
 */
export function parseSavedFile(name: string, text: string): SavedQuery {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length && /^#/.test(lines[i] as string)) i++;
  if (i === 0 || i >= lines.length || (lines[i] as string).trim() !== '')
    return { name, description: '', query: text.trim() };
  const description = lines
    .slice(0, i)
    .map((l) => l.replace(/^#\s?/, ''))
    .join('\n')
    .trim();
  return {
    name,
    description,
    query: lines
      .slice(i + 1)
      .join('\n')
      .trim(),
  };
}

export function formatSavedFile(q: SavedQuery): string {
  const head = q.description
    ? `${q.description
        .split('\n')
        .map((l) => `# ${l}`)
        .join('\n')}\n\n`
    : '';
  return `${head}${q.query.trim()}\n`;
}

export class SavedQueries {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async list(): Promise<SavedQuery[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: SavedQuery[] = [];
    for (const f of names.sort()) {
      if (!f.endsWith(SAVED_EXTENSION) || f.startsWith('.')) continue;
      const name = f.slice(0, -SAVED_EXTENSION.length);
      try {
        out.push(parseSavedFile(name, await readFile(join(this.dir, f), 'utf8')));
      } catch {
        // unreadable file: leave it out of the list rather than fail the whole panel
      }
    }
    return out;
  }

  async get(name: string): Promise<SavedQuery> {
    checkName(name);
    try {
      return parseSavedFile(name, await readFile(join(this.dir, name + SAVED_EXTENSION), 'utf8'));
    } catch {
      throw new LogferryError('CONFIG_INVALID', `no saved query named '${name}' in ${this.dir}`);
    }
  }

  async put(name: string, query: string, description: string): Promise<SavedQuery> {
    checkName(name);
    if (!query.trim()) throw new LogferryError('CONFIG_INVALID', 'an empty query cannot be saved');
    if (query.length > MAX_QUERY_CHARS)
      throw new LogferryError(
        'CONFIG_INVALID',
        `a saved query may have at most ${MAX_QUERY_CHARS} characters`,
      );
    const q: SavedQuery = { name, description: description.trim(), query: query.trim() };
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, name + SAVED_EXTENSION);
    const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
    await writeFile(tmp, formatSavedFile(q), 'utf8');
    await rename(tmp, file);
    return q;
  }

  async remove(name: string): Promise<void> {
    checkName(name);
    await rm(join(this.dir, name + SAVED_EXTENSION), { force: true });
  }
}
