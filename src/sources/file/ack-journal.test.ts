import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { merge, subtract } from '../journal-files.js';
import { AckJournal } from './ack-journal.js';

describe('file acknowledgement journal', () => {
  it('replays intents, acknowledgements and resets in order; ignores a torn last line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-acks-'));
    const a = new AckJournal(dir);
    a.load();
    a.inflight('1:2', 0, 10);
    a.inflight('1:2', 10, 20);
    a.acked('1:2', 10, 20, 0, '/var/log/a b.log');
    a.inflight('3:4', 0, 5);
    a.acked('3:4', 0, 5, 5, '/x');
    a.reset('3:4', 0);
    a.inflight('3:4', 0, 7);
    a.close();
    appendFileSync(join(dir, 'acked.1.journal'), 'a 1:2 20 3');
    const files = new AckJournal(dir).load();
    expect(files.get('1:2')).toEqual({
      base: 0,
      path: '/var/log/a b.log',
      reset: false,
      acked: [[10, 20]],
      inflight: [[0, 20]],
    });
    expect(files.get('3:4')).toEqual({ base: 0, path: '/x', reset: true, acked: [], inflight: [[0, 7]] });
  });

  it('rotates at a snapshot, copies outstanding intents, and drops older generations once it is durable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-acks-'));
    const a = new AckJournal(dir);
    a.load();
    a.inflight('k', 0, 10);
    a.inflight('k', 10, 20);
    a.acked('k', 0, 10, 10, '/p');
    const durable = a.rotate([{ key: 'k', from: 10, to: 20 }]);
    a.acked('k', 10, 20, 20, '/p');
    expect(readdirSync(dir).sort()).toEqual(['acked.1.journal', 'acked.2.journal']);
    durable();
    expect(readdirSync(dir)).toEqual(['acked.2.journal']);
    a.close();
    const k = new AckJournal(dir).load().get('k');
    expect(k).toMatchObject({ base: 20, acked: [[10, 20]], inflight: [[10, 20]] });
  });

  it('merges and subtracts ranges', () => {
    expect(
      merge([
        [5, 9],
        [0, 3],
        [3, 4],
        [8, 12],
      ]),
    ).toEqual([
      [0, 4],
      [5, 12],
    ]);
    expect(
      subtract(
        [
          [0, 10],
          [20, 30],
        ],
        [
          [2, 4],
          [6, 22],
          [25, 26],
        ],
        1,
      ),
    ).toEqual([
      [1, 2],
      [4, 6],
      [22, 25],
      [26, 30],
    ]);
    expect(subtract([[0, 10]], [], 10)).toEqual([]);
  });
});
