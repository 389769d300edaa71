import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DELIVERED } from '../../core/outcome.js';
import { readJournals } from '../../core/redelivery-journal.js';
import { fileSourceConfig } from './file-source.js';
import { fileSource, run, waitFor } from './test-helpers.js';
import { FileTailer } from './tail.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'logferry-file-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const lines = (prefix: string, n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${from + i}`);

function positions(
  path: string,
): Record<string, { path: string; offset: number; head?: { len: number; hash: string } }> {
  return JSON.parse(readFileSync(path, 'utf8')).files;
}

describe('file source: tailing', () => {
  it('reads a file from the head, then lines appended while tailing, a line written in two parts once', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, `${lines('a', 3).join('\n')}\n`);
    const src = fileSource({ path: join(dir, '*.log'), readFromHead: true, dataDir: join(dir, 'state') });
    const r = run(src);
    await waitFor(() => r.messages().length === 3, '3 lines');
    appendFileSync(f, 'b-0\nb-1 first half');
    await waitFor(() => r.messages().length === 4, 'b-0');
    appendFileSync(f, ' second half\n');
    await waitFor(() => r.messages().length === 5, 'joined line');
    await r.stop();
    expect(r.messages()).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1 first half second half']);
    const rec = r.got[0].records[0];
    expect(rec.meta.logGroup).toBe(f);
    expect(rec.meta.logStream).toBe('app.log');
    expect(rec.meta.source).toBe('file');
    expect(rec.meta.id).toMatch(/^\d+:\d+:0$/);
    // the position database holds the end of the last acknowledged line
    expect(Object.values(positions(src.positionsPath))[0].offset).toBe(readFileSync(f).length);
  });

  it('starts at the end of files found at startup unless readFromHead; new files are read from the head', async () => {
    writeFileSync(join(dir, 'old.log'), 'old-0\nold-1\n');
    const src = fileSource({ path: join(dir, '*.log'), dataDir: join(dir, 'state') });
    const r = run(src);
    await waitFor(() => src.stats.tail.filesOpened === 1, 'old.log opened');
    appendFileSync(join(dir, 'old.log'), 'old-2\n');
    writeFileSync(join(dir, 'new.log'), 'new-0\nnew-1\n');
    await waitFor(() => r.messages().length === 3, 'three lines');
    await r.stop();
    expect(r.messages().sort()).toEqual(['new-0', 'new-1', 'old-2']);
  });

  it('a resumed run reads what was written while it was down: lines appended to a file it started at the end of, and files that appeared', async () => {
    writeFileSync(join(dir, 'old.log'), 'history-0\nhistory-1\n');
    const state = join(dir, 'state');
    const first = fileSource({ path: join(dir, '*.log'), dataDir: state });
    const r1 = run(first);
    await waitFor(() => first.stats.tail.filesOpened === 1, 'old.log opened');
    // Started at its end, the file has a position before any line of it is read.
    await waitFor(
      () =>
        existsSync(first.positionsPath) &&
        Object.values(positions(first.positionsPath)).some((p) => p.offset === 20),
      'a position at the end of old.log',
    );
    await r1.stop();
    expect(r1.messages()).toEqual([]);
    // While logferry is down: more lines, and a new file.
    appendFileSync(join(dir, 'old.log'), 'down-0\n');
    writeFileSync(join(dir, 'later.log'), 'later-0\nlater-1\n');
    const second = fileSource({ path: join(dir, '*.log'), dataDir: state, readFromHead: false });
    const r2 = run(second);
    await waitFor(() => r2.messages().length === 3, 'three lines');
    await r2.stop();
    expect(r2.messages().sort()).toEqual(['down-0', 'later-0', 'later-1']);
  });

  it('follows several patterns and skips excluded files', async () => {
    writeFileSync(join(dir, 'a.log'), 'a\n');
    writeFileSync(join(dir, 'b.txt'), 'b\n');
    writeFileSync(join(dir, 'skip.log'), 'skip\n');
    const src = fileSource({
      path: [join(dir, '*.log'), join(dir, '*.txt')],
      exclude: join(dir, 'skip*'),
      readFromHead: true,
      dataDir: join(dir, 'state'),
      once: true,
    });
    const r = run(src);
    await r.done;
    expect(r.messages().sort()).toEqual(['a', 'b']);
  });

  it('rotation by rename+create: reads the old inode to EOF (late writes too), then the new file', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, '');
    const src = fileSource({ path: f, readFromHead: true, dataDir: join(dir, 'state'), rotateWaitMs: 300 });
    const r = run(src);
    await waitFor(() => src.stats.tail.filesOpened === 1, 'opened');
    appendFileSync(f, `${lines('a', 3).join('\n')}\n`);
    await waitFor(() => r.messages().length === 3, 'a lines');
    renameSync(f, `${f}.1`);
    appendFileSync(`${f}.1`, 'a-3\n'); // the writer has not reopened yet
    writeFileSync(f, `${lines('b', 2).join('\n')}\n`);
    await waitFor(() => r.messages().length === 6, 'all lines');
    await waitFor(() => src.stats.tail.filesClosed === 1, 'old file closed');
    await r.stop();
    const m = r.messages();
    expect(m.filter((x) => x.startsWith('a'))).toEqual(lines('a', 4));
    expect(m.filter((x) => x.startsWith('b'))).toEqual(lines('b', 2));
    expect(src.stats.tail.rotations).toBe(1);
    // the rotated file's position is forgotten once it is closed and acknowledged
    expect(Object.keys(positions(src.positionsPath))).toHaveLength(1);
  });

  it('copytruncate and truncation restart at 0 and are counted', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, '');
    const src = fileSource({ path: f, readFromHead: true, dataDir: join(dir, 'state') });
    const r = run(src);
    await waitFor(() => src.stats.tail.filesOpened === 1, 'opened');
    appendFileSync(f, `${lines('long-line-before-truncation', 5).join('\n')}\n`);
    await waitFor(() => r.messages().length === 5, 'before');
    // copytruncate: copy, then truncate in place; the writer continues at the start
    writeFileSync(`${f}.1`, readFileSync(f));
    truncateSync(f, 0);
    await waitFor(() => src.stats.tail.truncations === 1, 'truncation noticed');
    appendFileSync(f, 'x-0\nx-1\n');
    await waitFor(() => r.messages().length === 7, 'after');
    await r.stop();
    expect(r.messages().slice(5)).toEqual(['x-0', 'x-1']);
    expect(Object.values(positions(src.positionsPath))[0].offset).toBe(8);
    // the fingerprint is taken again from the new content (the old one was of the lost lines)
    expect(Object.values(positions(src.positionsPath))[0].head?.len).toBe(8);
  });

  it('files appearing and disappearing', async () => {
    const src = fileSource({ path: join(dir, '*.log'), dataDir: join(dir, 'state') });
    const r = run(src);
    await waitFor(() => src.stats.tail.scans > 0, 'first scan');
    writeFileSync(join(dir, 'one.log'), 'one\n');
    await waitFor(() => r.messages().includes('one'), 'one');
    writeFileSync(join(dir, 'two.log'), 'two\n');
    await waitFor(() => r.messages().includes('two'), 'two');
    unlinkSync(join(dir, 'one.log'));
    await waitFor(() => src.stats.tail.filesClosed === 1, 'one.log closed');
    writeFileSync(join(dir, 'three.log'), 'three\n');
    await waitFor(() => r.messages().includes('three'), 'three');
    await r.stop();
    expect(r.messages().sort()).toEqual(['one', 'three', 'two']);
    const saved = Object.values(positions(src.positionsPath))
      .map((p) => p.path)
      .sort();
    expect(saved).toEqual([join(dir, 'three.log'), join(dir, 'two.log')]);
  });

  it('restarts from the position database after a crash: nothing lost, duplicates only of unacknowledged lines', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, '');
    const state = join(dir, 'state');
    const acked: string[] = [];
    // Acknowledge envelopes 0 and 2 but not 1: the position may only move past envelope 0.
    const src = fileSource({ path: f, readFromHead: true, dataDir: state });
    const r = run(src, () => undefined);
    await waitFor(() => src.stats.tail.filesOpened === 1, 'opened');
    for (let i = 0; i < 4; i++) {
      appendFileSync(f, `${lines(`e${i}`, 3).join('\n')}\n`);
      await waitFor(() => r.got.length === i + 1, `envelope ${i}`);
    }
    const offsetOf = (env: (typeof r.got)[number]) => Number(env.records[0].meta.id.split(':')[2]);
    await src.ack(r.got[2], DELIVERED);
    // Nothing contiguous acknowledged yet: the position stays at the start, and envelope 2's bytes
    // are recorded as delivered past it (re-read after a crash, they are re-deliveries).
    expect(Object.values(positions(src.positionsPath))[0]).toMatchObject({
      offset: 0,
      acked: [[offsetOf(r.got[2]), offsetOf(r.got[3])]],
    });
    await src.ack(r.got[0], DELIVERED);
    acked.push(...r.got[0].records.map((x) => x.message), ...r.got[2].records.map((x) => x.message));
    const saved = Object.values(positions(src.positionsPath))[0].offset;
    expect(saved).toBe(r.got[1].records[0].meta.id.split(':').map(Number)[2]);
    await r.stop(); // crash: envelopes 1 and 3 were never acknowledged
    appendFileSync(f, 'after-crash\n');

    const src2 = fileSource({ path: f, readFromHead: false, dataDir: state });
    const r2 = run(src2);
    await waitFor(() => r2.messages().includes('after-crash'), 'after-crash');
    await r2.stop();
    const all = [...lines('e0', 3), ...lines('e1', 3), ...lines('e2', 3), ...lines('e3', 3), 'after-crash'];
    const seen = new Set([...acked, ...r2.messages()]);
    expect([...seen].sort()).toEqual([...all].sort()); // nothing lost
    // re-read: everything after the last contiguous acknowledgement (e1.. onwards), in order,
    // but envelope 2's lines (delivered before the crash) are skipped: no duplicate
    expect(r2.messages()).toEqual([...lines('e1', 3), ...lines('e3', 3), 'after-crash']);
    // same record ids for the same lines across runs (sinks dedupe)
    expect(r2.got[0].records[0].meta.id).toBe(r.got[1].records[0].meta.id);
    expect(r2.got.some((e) => e.records.some((x) => x.meta.redelivered))).toBe(false);
    expect(src2.stats).toMatchObject({ skipped: 3, possibleDuplicates: 0 });
  });

  it('after a kill -9 that lost the position writes, skips what was acknowledged and counts what was in flight (acknowledgement journal)', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, '');
    const data = join(dir, 'data');
    const src = fileSource({ path: f, readFromHead: true }, undefined, data);
    const r = run(src, () => undefined);
    await waitFor(() => src.stats.tail.filesOpened === 1, 'opened');
    appendFileSync(f, `${lines('e0', 3).join('\n')}\n`);
    await waitFor(() => r.got.length === 1, 'envelope 0');
    await src.ack(r.got[0], DELIVERED);
    const before = readFileSync(src.positionsPath, 'utf8');
    // From here every position write fails, as if the kill -9 came before any of them landed.
    const blocker = `${src.positionsPath}.tmp-${process.pid}`;
    mkdirSync(blocker);
    for (let i = 1; i <= 4; i++) {
      appendFileSync(f, `${lines(`e${i}`, 3).join('\n')}\n`);
      await waitFor(() => r.got.length === i + 1, `envelope ${i}`);
    }
    await src.ack(r.got[1], DELIVERED);
    await src.ack(r.got[3], DELIVERED);
    await expect(r.stop()).rejects.toThrow(/EISDIR/); // envelopes 2 and 4 were in flight
    expect(readFileSync(src.positionsPath, 'utf8')).toBe(before);
    rmSync(blocker, { recursive: true });
    appendFileSync(f, 'after-crash\n');

    const src2 = fileSource({ path: f, readFromHead: false }, undefined, data);
    const r2 = run(src2);
    await waitFor(() => r2.messages().includes('after-crash'), 'after-crash');
    await r2.stop();
    // e1 (contiguous) is resumed past, e3 is skipped; e2 and e4 are sent again as possible duplicates.
    expect(r2.messages()).toEqual([...lines('e2', 3), ...lines('e4', 3), 'after-crash']);
    expect(r2.got.some((e) => e.records.some((x) => x.meta.redelivered))).toBe(false);
    expect(src2.stats).toMatchObject({ skipped: 3, possibleDuplicates: 6 });
    expect(readJournals(data)).toEqual({ file: { starts: 2, records: 0, possible: 6, skipped: 3 } });
    // The position written after the restart compacted the journal: one generation, intents only
    // of what is still in flight (nothing).
    const gens = readdirSync(join(data, 'state', 'file')).filter((n) => n.startsWith('acked.'));
    expect(gens.length).toBeLessThanOrEqual(1);
    const src3 = fileSource({ path: f, readFromHead: false }, undefined, data);
    const r3 = run(src3);
    appendFileSync(f, 'third\n');
    await waitFor(() => r3.messages().includes('third'), 'third');
    await r3.stop();
    expect(r3.messages()).toEqual(['third']);
  });

  it('counts a possible duplicate each time it is handed out again: a re-send in flight at a second crash is counted again, also for a file never acknowledged', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, `${lines('n', 3).join('\n')}\n`);
    const data = join(dir, 'data');
    // Three starts; the first two end with the envelope handed out and never acknowledged.
    for (let start = 1; start <= 3; start++) {
      const src = fileSource({ path: f, readFromHead: true }, undefined, data);
      const r = run(src, () => (start === 3 ? DELIVERED : undefined));
      await waitFor(() => r.got.length === 1, `start ${start}`);
      await r.stop();
      expect(r.messages()).toEqual(lines('n', 3));
      // Counted when handed out (a copy sent now may reach the sink even if this run dies).
      expect(src.stats.possibleDuplicates).toBe(start === 1 ? 0 : 3);
      expect(readJournals(data).file?.starts).toBe(start);
      expect(readJournals(data).file?.possible ?? 0).toBe(3 * (start - 1));
    }
    const src4 = fileSource({ path: f, readFromHead: true }, undefined, data);
    const r4 = run(src4);
    appendFileSync(f, 'more\n');
    await waitFor(() => r4.messages().includes('more'), 'more');
    await r4.stop();
    expect(r4.messages()).toEqual(['more']);
    expect(src4.stats.possibleDuplicates).toBe(0);
  });

  it('a failed acknowledgement re-reads that envelope and what followed', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, 'x-0\nx-1\n');
    let failOnce = true;
    const src = fileSource({ path: f, readFromHead: true, dataDir: join(dir, 'state') });
    const r = run(src, () => {
      if (failOnce) {
        failOnce = false;
        return { kind: 'failed', code: 'SINK_DOWN' };
      }
      return DELIVERED;
    });
    await waitFor(() => r.messages().length === 4, 'redelivery');
    await r.stop();
    expect(r.messages()).toEqual(['x-0', 'x-1', 'x-0', 'x-1']);
    expect(src.stats.rewinds).toBe(1);
    expect(Object.values(positions(src.positionsPath))[0].offset).toBe(8);
  });

  it('once: reads to EOF and ends, keeping an unterminated last line for the next run', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, 'l-0\nl-1\npartial');
    const state = join(dir, 'state');
    const r = run(fileSource({ path: f, readFromHead: true, dataDir: state, once: true }));
    await r.done;
    expect(r.messages()).toEqual(['l-0', 'l-1']);
    appendFileSync(f, ' line\n');
    const r2 = run(fileSource({ path: f, dataDir: state, once: true }));
    await r2.done;
    expect(r2.messages()).toEqual(['partial line']);
  });

  it('once: a file without a saved position is read from the head unless readFromHead is false', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, 'h-0\nh-1\n');
    const r = run(fileSource({ path: f, dataDir: join(dir, 'state-default'), once: true }));
    await r.done;
    expect(r.messages()).toEqual(['h-0', 'h-1']);
    const tailOnly = run(
      fileSource({ path: f, readFromHead: false, dataDir: join(dir, 'state-tail'), once: true }),
    );
    await tailOnly.done;
    expect(tailOnly.messages()).toEqual([]);
  });

  it('cuts lines longer than maxLineBytes, counts and marks them, within one read and across reads', async () => {
    const f = join(dir, 'app.log');
    const huge = 'y'.repeat(50_000);
    writeFileSync(f, `short\n${'x'.repeat(300)}\n${huge}\nafter\n`);
    const src = fileSource({
      path: f,
      readFromHead: true,
      dataDir: join(dir, 'state'),
      once: true,
      maxLineBytes: 100,
      readBufferBytes: 4096,
    });
    const r = run(src);
    await r.done;
    const recs = r.got.flatMap((e) => e.records);
    expect(recs.map((x) => x.message)).toEqual(['short', 'x'.repeat(100), 'y'.repeat(100), 'after']);
    expect(recs.map((x) => x.fields.truncated === true)).toEqual([false, true, true, false]);
    expect(src.stats.tail.linesTruncated).toBe(2);
  });

  it('refuses bad configuration with every problem listed', () => {
    const res = fileSourceConfig.safeParse({
      type: 'file',
      path: [],
      format: 'xml',
      multiline: { firstLine: '(' },
      bogus: 1,
    });
    expect(res.success).toBe(false);
    const paths = res.error?.issues.map((i) => i.path.join('.') || i.message) ?? [];
    expect(paths.join(' ')).toContain('path');
    expect(paths.join(' ')).toContain('format');
    expect(paths.join(' ')).toContain('multiline.firstLine');
  });
});

describe('file source: files changed while logferry is down (head fingerprint)', () => {
  /** One `once` run over `f` with the position database in `state`. */
  async function onceRun(f: string, state: string) {
    const src = fileSource({ path: f, readFromHead: true, dataDir: state, once: true });
    const r = run(src);
    await r.done;
    return { src, messages: r.messages() };
  }
  const body = (prefix: string, n: number) => `${lines(prefix, n).join('\n')}\n`;

  it('a file truncated and refilled longer in place (same inode): every new line is delivered', async () => {
    const f = join(dir, 'app.log');
    const state = join(dir, 'state');
    writeFileSync(f, body('old', 1000));
    const ino = statSync(f).ino;
    const first = await onceRun(f, state);
    expect(first.messages).toHaveLength(1000);
    const saved = Object.values(positions(first.src.positionsPath));
    expect(saved).toHaveLength(1);
    expect(saved[0].head).toEqual({ len: 1024, hash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    writeFileSync(f, body('new', 2000)); // O_TRUNC: same inode, longer than the saved offset
    expect(statSync(f).ino).toBe(ino);
    const second = await onceRun(f, state);
    expect(second.messages).toEqual(lines('new', 2000));
    expect(second.src.stats.tail.truncations).toBe(1);
    // the new content's fingerprint is saved: a third run has nothing left to read
    const third = await onceRun(f, state);
    expect(third.messages).toEqual([]);
    expect(third.src.stats.tail.truncations).toBe(0);
  });

  it('copytruncate while stopped, then more written than before: the new content is read from 0', async () => {
    const f = join(dir, 'app.log');
    const state = join(dir, 'state');
    writeFileSync(f, body('a', 50));
    expect((await onceRun(f, state)).messages).toHaveLength(50);
    writeFileSync(`${f}.1`, readFileSync(f));
    truncateSync(f, 0);
    appendFileSync(f, body('b', 80));
    const second = await onceRun(f, state);
    expect(second.messages).toEqual(lines('b', 80));
    expect(second.src.stats.tail.truncations).toBe(1);
  });

  it('a file that only grew resumes at its offset (no duplicates); a short head grows with the file', async () => {
    const f = join(dir, 'app.log');
    const state = join(dir, 'state');
    writeFileSync(f, body('a', 3)); // 12 bytes: the fingerprint covers them all
    const first = await onceRun(f, state);
    expect(first.messages).toEqual(lines('a', 3));
    const db = first.src.positionsPath;
    expect(Object.values(positions(db))[0].head?.len).toBe(12);
    appendFileSync(f, body('b', 500));
    const second = await onceRun(f, state);
    expect(second.messages).toEqual(lines('b', 500));
    expect(second.src.stats.tail.truncations).toBe(0);
    expect(Object.values(positions(db))[0].head?.len).toBe(1024);
    appendFileSync(f, body('c', 2));
    const third = await onceRun(f, state);
    expect(third.messages).toEqual(lines('c', 2));
    expect(third.src.stats.tail.truncations).toBe(0);
  });

  it('a position database without fingerprints (older versions) resumes at the saved offset as before', async () => {
    const f = join(dir, 'app.log');
    const state = join(dir, 'state');
    writeFileSync(f, body('a', 10));
    const first = await onceRun(f, state);
    expect(first.messages).toHaveLength(10);
    const db = first.src.positionsPath;
    const files = positions(db);
    for (const p of Object.values(files)) delete p.head;
    writeFileSync(db, JSON.stringify({ version: 1, files }));
    appendFileSync(f, body('b', 3));
    const second = await onceRun(f, state);
    expect(second.messages).toEqual(lines('b', 3));
    expect(second.src.stats.tail.truncations).toBe(0);
    // the next write adds the fingerprint
    expect(Object.values(positions(db))[0].head?.len).toBe(Math.min(1024, statSync(f).size));
  });

  it('the tailer warns once with the path when a saved head no longer matches', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, 'same length A\n');
    const head = new FileTailer({ include: [f], once: true });
    let first: { len: number; hash: string } | undefined;
    for await (const ev of head.read(new AbortController().signal))
      if (ev.kind === 'closed') first = ev.file.head;
    expect(first?.len).toBe(14);
    writeFileSync(f, 'same length B\n');
    const warnings: { msg: string; path: unknown }[] = [];
    const t = new FileTailer({
      include: [f],
      once: true,
      savedPosition: () => ({ offset: 14, head: first }),
      onWarning: (msg, data) => warnings.push({ msg, path: data?.path }),
    });
    const got: string[] = [];
    for await (const ev of t.read(new AbortController().signal))
      if (ev.kind === 'lines') got.push(...ev.lines.map((l) => l.text));
    expect(got).toEqual(['same length B']);
    expect(t.stats.truncations).toBe(1);
    expect(warnings).toEqual([{ msg: expect.stringContaining('truncated or replaced'), path: f }]);
  });
});
