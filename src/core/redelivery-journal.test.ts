import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bufferJournalPath,
  parseJournal,
  REDELIVERY_JOURNAL,
  RedeliveryJournal,
  readJournals,
  resetJournals,
} from './redelivery-journal.js';

describe('re-delivery journal', () => {
  it('counts starts and acknowledged re-deliveries across instances (restarts) until reset', () => {
    const data = mkdtempSync(join(tmpdir(), 'lf-journal-'));
    const path = join(data, 'state', 'pods', REDELIVERY_JOURNAL);
    const a = new RedeliveryJournal(path);
    a.start();
    a.add(10);
    a.add(0); // nothing written
    const b = new RedeliveryJournal(path); // the next start after a kill -9
    b.start();
    b.add(7);
    expect(readFileSync(path, 'utf8')).toBe('start\n10\nstart\n7\n');
    expect(readJournals(data)).toEqual({ pods: { starts: 2, records: 17 } });
    resetJournals(data, ['pods']);
    expect(readJournals(data)).toEqual({});
  });

  it('skips a torn last line and anything that is not a count', () => {
    expect(parseJournal('start\n12\nstart\n3\n4')).toEqual({ starts: 2, records: 19 });
    expect(parseJournal('start\n12\nsta')).toEqual({ starts: 1, records: 12 });
    expect(parseJournal('start\n-3\n1e9\n\n')).toEqual({ starts: 1, records: 0 });
  });

  it('ignores state directories without a journal, and a missing state directory', () => {
    const data = mkdtempSync(join(tmpdir(), 'lf-journal-'));
    expect(readJournals(data)).toEqual({});
    mkdirSync(join(data, 'state', 'other'), { recursive: true });
    mkdirSync(join(data, 'state', 'q'), { recursive: true });
    appendFileSync(join(data, 'state', 'q', REDELIVERY_JOURNAL), 'start\n');
    expect(readJournals(data)).toEqual({ q: { starts: 1, records: 0 } });
  });

  it("reads and resets a disk buffer journal kept in the buffer's own path, outside the data directory", () => {
    const data = mkdtempSync(join(tmpdir(), 'lf-journal-'));
    const spool = mkdtempSync(join(tmpdir(), 'lf-spool-'));
    new RedeliveryJournal(bufferJournalPath(spool)).possible(4);
    new RedeliveryJournal(join(data, 'state', 'pods', REDELIVERY_JOURNAL)).start();
    expect(readJournals(data)).toEqual({ pods: { starts: 1, records: 0 } });
    const dirs = { archive: spool };
    const all = readJournals(data, dirs);
    expect(all).toEqual({
      pods: { starts: 1, records: 0 },
      'archive/buffer': { starts: 0, records: 0, possible: 4 },
    });
    resetJournals(data, Object.keys(all), dirs);
    expect(existsSync(bufferJournalPath(spool))).toBe(false);
    expect(readJournals(data, dirs)).toEqual({});
  });

  it('reports a write failure once and keeps going (counting never stops delivery)', () => {
    const data = mkdtempSync(join(tmpdir(), 'lf-journal-'));
    appendFileSync(join(data, 'file'), '');
    const errors: string[] = [];
    const j = new RedeliveryJournal(join(data, 'file', 'x', REDELIVERY_JOURNAL), (e) =>
      errors.push(e.message),
    );
    j.start();
    j.add(3);
    expect(errors).toHaveLength(1);
  });
});
