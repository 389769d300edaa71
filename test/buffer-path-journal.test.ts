/**
 * A disk buffer with its own `path` (outside the data directory) keeps its journal of replayed
 * possible duplicates there; the run summary reads it like the others (`redelivered.sinceCleanStop`,
 * `possibleBy['<sink>/buffer']`) and removes it after a clean stop. Built CLI, a sink that hangs
 * (so a delivery is in flight at each `kill -9`), then a sink that works.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJournal } from '../src/core/redelivery-journal.js';
import { archived, hungEndpoint, privateCli, summaryOf, waitUntil } from './infra/cli-daemon.js';

const { root, run, start } = privateCli('buffer-path');

describe('disk buffer with its own path', () => {
  it('counts its replays across two kill -9 in the summary since the last clean stop, and removes its journal after it', async () => {
    const hung = await hungEndpoint();
    const dir = mkdtempSync(join(root, 'spool-'));
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'a.log'), Array.from({ length: 300 }, (_, i) => `kept ${i}\n`).join(''));
    const cfg = (sink: string) =>
      [
        'dataDir: ./data',
        'sources:',
        '  logs: { type: file, path: ./logs/*.log, readFromHead: true }',
        'sinks:',
        `  out: { ${sink}, buffer: { type: disk, maxBytes: 8MiB, path: ./spool } }`,
        '',
      ].join('\n');
    writeFileSync(
      join(dir, 'down.yaml'),
      cfg(`type: http, flavor: ndjson, url: "http://127.0.0.1:${hung.port}/", maxAgeMs: 50`),
    );
    writeFileSync(join(dir, 'up.yaml'), cfg('type: s3, url: ./archive, maxAgeMs: 50'));
    const journal = join(dir, 'spool', 'redelivered.journal');
    try {
      for (let round = 1; round <= 2; round++) {
        const sends = hung.sockets.length;
        const d = start(['run', 'down.yaml', '--json'], dir);
        // A delivery from the buffer is in flight (the hung sink holds it), then kill -9.
        await waitUntil('a send to the hung sink', () => hung.sockets.length > sends);
        d.child.kill('SIGKILL');
        await d.exited();
      }
    } finally {
      hung.close();
    }
    // The second start replayed what the first was delivering at its kill: counted there.
    const before = parseJournal(readFileSync(journal, 'utf8'));
    expect(before.possible ?? 0).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'data', 'state', 'out', 'buffer'))).toBe(false);

    const up = run(['run', 'up.yaml', '--once', '--json'], dir);
    expect(up.code, up.stderr.slice(-2000)).toBe(0);
    const s = summaryOf(up.stderr);
    expect(s.sinks[0].buffer).toMatchObject({ pending: 0 });
    const last = s.sinks[0].buffer.possibleDuplicates;
    expect(last).toBeGreaterThan(0);
    expect(s.redelivered.sinceCleanStop.possibleBy).toEqual({ 'out/buffer': (before.possible ?? 0) + last });
    expect(s.redelivered.sinceCleanStop.possible).toBe((before.possible ?? 0) + last);
    const msgs = archived(join(dir, 'archive')).map((x) => x['@message']);
    expect(new Set(msgs).size).toBe(300);
    // The clean stop reported it: removed, the next start counts afresh.
    expect(existsSync(journal)).toBe(false);
  }, 120_000);
});
