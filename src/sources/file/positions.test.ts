import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PositionDb } from './positions.js';

const dir = mkdtempSync(join(tmpdir(), 'lf-positions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PositionDb', () => {
  it('reads the legacy database when the new one is missing, writes the new one and removes the old', async () => {
    const legacy = join(dir, 'old', 'file-nodes.positions.json');
    mkdirSync(join(dir, 'old'), { recursive: true });
    writeFileSync(legacy, JSON.stringify({ version: 1, files: { '1:2': { path: '/x.log', offset: 42 } } }));
    const fresh = join(dir, 'data', 'state', 'nodes', 'positions.json');
    const db = new PositionDb(fresh, legacy);
    await db.load();
    expect(db.get('1:2')).toEqual({ path: '/x.log', offset: 42 });
    expect(db.migratedFrom).toBe(legacy);
    await db.flush();
    expect(JSON.parse(readFileSync(fresh, 'utf8')).files['1:2'].offset).toBe(42);
    expect(existsSync(legacy)).toBe(false);
    // Next start: the new file wins.
    const again = new PositionDb(fresh, legacy);
    await again.load();
    expect(again.get('1:2')?.offset).toBe(42);
    expect(again.migratedFrom).toBeUndefined();
  });

  it('prefers the new database over a legacy one left behind', async () => {
    const legacy = join(dir, 'l2.json');
    const fresh = join(dir, 'n2.json');
    writeFileSync(legacy, JSON.stringify({ version: 1, files: { a: { path: 'p', offset: 1 } } }));
    writeFileSync(fresh, JSON.stringify({ version: 1, files: { a: { path: 'p', offset: 9 } } }));
    const db = new PositionDb(fresh, legacy);
    await db.load();
    expect(db.get('a')?.offset).toBe(9);
  });

  it('names the file it could not parse', async () => {
    const legacy = join(dir, 'bad.json');
    writeFileSync(legacy, '{oops');
    await expect(new PositionDb(join(dir, 'none.json'), legacy).load()).rejects.toThrow(
      /bad\.json is not valid JSON/,
    );
  });

  it('a flush during a write waits for that write and one more, not for every later change', async () => {
    const db = new PositionDb(join(dir, 'busy', 'positions.json'));
    db.set('1:1', '/a.log', 1);
    const first = db.flush();
    expect(db.writing).toBe(true);
    db.set('1:1', '/a.log', 2);
    const second = db.flush();
    db.set('1:1', '/a.log', 3);
    expect(db.flush()).toBe(second); // joins the queued write
    await second;
    expect(db.writes).toBe(2);
    await first;
    expect(JSON.parse(readFileSync(join(dir, 'busy', 'positions.json'), 'utf8')).files['1:1'].offset).toBe(3);
    await db.flush(); // nothing changed since
    expect(db.writes).toBe(2);
  });
});
