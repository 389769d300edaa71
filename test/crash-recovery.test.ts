/**
 * `kill -9` under load, twice, then a final `--once` run: container logs (CRI, with partial lines)
 * are appended and rotated (rename + create) the whole time, the daemon tails them with the `file`
 * source into an S3-layout archive behind a disk buffer. Every line written must be in the archive;
 * duplicates (re-read after a crash before the position was saved, or replayed from the buffer)
 * are counted and reported, never lost lines. Uses the built CLI (private bundle) as users run it.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archived, privateCli, sleep, summaryOf, walk } from './infra/cli-daemon.js';

const { root, run, start } = privateCli('crash');

/**
 * Appends lines `line <n>` to a few container logs in CRI or Docker JSON form, rotating each every
 * `rotateEvery` lines by rename + create. Every 7th line, and the last of each tick, is a long line
 * the runtime writes in two pieces (CRI `P` then `F`; Docker an entry without its `\n` then the
 * rest); the last one's second piece is written on the next tick, so a kill can fall between them.
 */
class Writer {
  next = 0;
  rotations = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly perFile = new Map<string, number>();
  /** The second piece of a split line, written first on the file's next tick. */
  private readonly pending = new Map<string, string>();
  constructor(
    private readonly dir: string,
    private readonly files: string[],
    private readonly rotateEvery: number,
    private readonly format: 'cri' | 'docker' = 'cri',
  ) {}
  start(linesPerTick: number, tickMs: number): void {
    this.timer = setInterval(() => this.write(linesPerTick), tickMs);
  }
  stop(): void {
    clearInterval(this.timer);
    for (const [f, rest] of this.pending) appendFileSync(join(this.dir, f), rest);
    this.pending.clear();
  }
  private piece(ts: string, text: string, last: boolean): string {
    if (this.format === 'cri') return `${ts} stdout ${last ? 'F' : 'P'} ${text}\n`;
    return `${JSON.stringify({ log: last ? `${text}\n` : text, stream: 'stdout', time: ts })}\n`;
  }
  private write(n: number): void {
    for (const f of this.files) {
      const path = join(this.dir, f);
      let text = this.pending.get(f) ?? '';
      this.pending.delete(f);
      const written = (this.perFile.get(f) ?? 0) + n;
      const rotate = written >= this.rotateEvery;
      for (let k = 0; k < n; k++) {
        const i = this.next++;
        const ts = new Date(Date.UTC(2026, 11, 5, 10) + i).toISOString();
        const line = `line ${i}`;
        if (k === n - 1 && !rotate) {
          text += this.piece(ts, line.slice(0, 3), false);
          this.pending.set(f, this.piece(ts, line.slice(3), true));
        } else if (i % 7 === 0)
          text += this.piece(ts, line.slice(0, 3), false) + this.piece(ts, line.slice(3), true);
        else text += this.piece(ts, line, true);
      }
      appendFileSync(path, text);
      if (rotate) {
        // logrotate's rename + create: the daemon must finish the old inode and pick up the new file.
        renameSync(path, `${path}.${++this.rotations}`);
        writeFileSync(path, '');
        this.perFile.set(f, 0);
      } else this.perFile.set(f, written);
    }
  }
}

/** A run dir with `containers/` and a config tailing it (`path`, `format`, extra source lines) into `./archive`. */
function setup(prefix: string, path: string, format: string, source: string[], sink: string[]) {
  const dir = mkdtempSync(join(root, prefix));
  const logs = join(dir, 'containers');
  mkdirSync(logs);
  writeFileSync(
    join(dir, 'logferry.yaml'),
    [
      'dataDir: ./data',
      'sources:',
      '  pods:',
      '    type: file',
      `    path: ${path}`,
      '    readFromHead: true',
      `    format: ${format}`,
      '    pollIntervalMs: 50',
      '    refreshIntervalMs: 100',
      ...source,
      'sinks:',
      '  archive:',
      '    type: s3',
      '    url: ./archive',
      ...sink,
      '',
    ].join('\n'),
  );
  return { dir, logs };
}

describe('crash recovery: kill -9 under load with a disk buffer', () => {
  it.each(['cri', 'docker'] as const)(
    'loses no line of rotated %s container logs (split lines included) across two kill -9 and restarts; duplicates are counted',
    async (format) => {
      const { dir, logs } = setup(
        'run-',
        '[./containers/*.log, ./containers/*.log.*]',
        format,
        ['    rotateWaitMs: 300'],
        // The docker run's buffer has its own path, outside the data directory (its journal too).
        [
          '    maxAgeMs: 300',
          `    buffer: { type: disk, maxBytes: 64MiB${format === 'docker' ? ', path: ./spool' : ''} }`,
        ],
      );
      const bufferDir =
        format === 'docker' ? join(dir, 'spool') : join(dir, 'data', 'state', 'archive', 'buffer');
      const files = ['web-7d9f_prod_app-0123456789ab.log', 'worker-55c8_prod_app-ba9876543210.log'];
      for (const f of files) writeFileSync(join(logs, f), '');
      const writer = new Writer(logs, files, 900, format);
      writer.start(40, 10); // ~8,000 lines/s across both files
      const crashes: string[] = [];
      try {
        for (let round = 0; round < 2; round++) {
          const d = start(['run', 'logferry.yaml', '--json'], dir);
          // Kill it mid-stream: once it has stored and acknowledged something (a loaded machine may
          // take seconds to start a process), then a little later.
          const positions = join(dir, 'data', 'state', 'pods', 'positions.json');
          const before = existsSync(positions) ? readFileSync(positions, 'utf8') : '';
          for (let t = 0; t < 600; t++) {
            if (existsSync(positions) && readFileSync(positions, 'utf8') !== before) break;
            await sleep(50);
          }
          await sleep(300 + round * 400);
          expect(d.child.exitCode).toBeNull(); // still running under load
          d.child.kill('SIGKILL');
          await d.exited();
          crashes.push(d.stderr());
        }
      } finally {
        writer.stop();
      }
      const total = writer.next;
      expect(writer.rotations).toBeGreaterThan(2);

      // Restart bounded: read every file to EOF, drain the buffer, exit.
      const archivedBefore = new Set(walk(join(dir, 'archive')));
      const last = run(['run', 'logferry.yaml', '--once', '--json'], dir);
      expect(last.stderr).not.toMatch(/"level":"error"/);
      expect(last.code).toBe(0);
      const summary = summaryOf(last.stderr);
      expect(summary.balanced).toBe(true);
      expect(summary.events.failed).toBe(0);
      expect(summary.sinks[0].buffer).toMatchObject({ pending: 0 });
      expect(last.stderr).toMatch(/took over a stale data directory lock/);

      const seen = new Map<number, number>();
      // Copies stored by the last run of lines already stored (before it, or earlier in it).
      let lastRunDuplicates = 0;
      const seenBefore = new Set<number>();
      const objects = walk(join(dir, 'archive')).filter((p) => p.endsWith('.gz'));
      const lineNumbers = (f: string) =>
        archived(f).map((doc) => {
          const m = /^line (\d+)$/.exec(doc['@message']);
          expect(m).not.toBeNull();
          return Number(m?.[1]);
        });
      for (const f of objects) if (archivedBefore.has(f)) for (const n of lineNumbers(f)) seenBefore.add(n);
      for (const f of objects)
        for (const n of lineNumbers(f)) {
          if (!archivedBefore.has(f)) {
            if (seenBefore.has(n)) lastRunDuplicates++;
            else seenBefore.add(n);
          }
          seen.set(n, (seen.get(n) ?? 0) + 1);
        }
      const missing: number[] = [];
      for (let i = 0; i < total; i++) if (!seen.has(i)) missing.push(i);
      const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0);
      console.log(
        `crash test (${format}): ${total} lines written, ${writer.rotations} rotations, 2 × kill -9; missing ${missing.length}, duplicates ${duplicates}; buffer at the last start: ${JSON.stringify(summary.sinks[0].buffer)}`,
      );
      // The daemon's own count for its last run: lines it re-read knowing they had been delivered
      // (acknowledged past the saved position) — each is a copy the archive holds twice; copies it
      // could not know of (acknowledged while the last position write was under way at the kill,
      // or replayed by the disk buffer) come on top.
      const counted = summary.redelivered.bySource.pods ?? 0;
      console.log(
        `crash test: the last run re-read ${counted} lines known delivered; it stored ${lastRunDuplicates} copies of lines already stored; disk-buffer replays possibly delivered: ${summary.sinks[0].buffer.possibleDuplicates}; summary possibleDuplicates ${summary.redelivered.possibleDuplicates}`,
      );
      expect(summary.sinks[0].redelivered).toBe(counted); // every one reached the (non-deduping) sink
      expect(counted).toBeLessThanOrEqual(lastRunDuplicates);
      // Across the three starts (two killed): the journal kept what the killed runs re-delivered.
      // Every counted line was acknowledged twice, so the archive holds at least that many copies.
      const since = summary.redelivered.sinceCleanStop;
      console.log(
        `crash test (${format}): since the last clean stop across ${since?.starts} starts: certain ${since?.records}, possible ${since?.possible} (${JSON.stringify(since?.possibleBy)}), skipped ${since?.skipped}; observed duplicates ${duplicates}`,
      );
      expect(since).toMatchObject({ starts: 3 });
      expect(since.records).toBeGreaterThanOrEqual(counted);
      // The buffer's replays are in the journal wherever the buffer lives (the last run's at least).
      expect(since.possibleBy['archive/buffer'] ?? 0).toBeGreaterThanOrEqual(
        summary.sinks[0].buffer.possibleDuplicates,
      );
      // Every duplicate is counted: the certain ones (re-sent knowing they were delivered) at most,
      // and no more than those plus the possible ones (in flight at a crash: the source's intents,
      // the disk buffer's replays of what it was delivering), summed over every start.
      expect(since.records).toBeLessThanOrEqual(duplicates);
      expect(duplicates).toBeLessThanOrEqual(since.records + since.possible);
      // The clean stop reported it: the next start counts afresh.
      expect(existsSync(join(dir, 'data', 'state', 'pods', 'redelivered.journal'))).toBe(false);
      expect(existsSync(join(bufferDir, 'cursor.json'))).toBe(true); // the buffer lived there
      expect(existsSync(join(bufferDir, 'redelivered.journal'))).toBe(false);
      expect(missing).toEqual([]);
      expect(seen.size).toBe(total);
      // Duplicates are the bounded re-reads around each crash, never a whole replay.
      expect(duplicates).toBeLessThan(total / 2);
    },
    180_000,
  );
});

describe('crash recovery: copytruncate, truncation and a split line across kill -9', () => {
  it('delivers every line when the file is copy-truncated, truncated in place and killed mid-line', async () => {
    // Copies (`*.log.1`) are logrotate's, not read: the daemon follows the live file only.
    const { dir, logs } = setup('trunc-', './containers/*.log', 'cri', [], ['    maxAgeMs: 200']);
    const path = join(logs, 'api-6f7c_prod_app-0123456789ab.log');
    writeFileSync(path, '');
    let next = 0;
    const ts = (i: number) => new Date(Date.UTC(2026, 11, 5, 10) + i).toISOString();
    const append = (n: number) => {
      let text = '';
      for (let k = 0; k < n; k++, next++) text += `${ts(next)} stdout F line ${next}\n`;
      appendFileSync(path, text);
    };
    const positions = join(dir, 'data', 'state', 'pods', 'positions.json');
    // Waits until the daemon acknowledged the live file up to its end.
    const caughtUp = async () => {
      for (let t = 0; t < 1200; t++) {
        const st = statSync(path);
        if (existsSync(positions)) {
          const db = JSON.parse(readFileSync(positions, 'utf8'));
          if (db.files?.[`${st.dev}:${st.ino}`]?.offset === st.size) return;
        }
        await sleep(50);
      }
      throw new Error('the daemon did not catch up with the file');
    };
    let copies = 0;
    const copytruncate = () => {
      copyFileSync(path, `${path}.${++copies}`);
      truncateSync(path, 0);
    };

    append(2_000);
    let d = start(['run', 'logferry.yaml', '--json'], dir);
    await caughtUp();
    copytruncate(); // logrotate copytruncate while the daemon runs
    append(500);
    await caughtUp();
    append(300);
    d.child.kill('SIGKILL'); // kill -9 #1 with unread lines
    await d.exited();
    append(200); // written while it is down

    d = start(['run', 'logferry.yaml', '--json'], dir);
    await caughtUp();
    truncateSync(path, 0); // `> file`
    append(100);
    await caughtUp();
    // A long line in two CRI pieces: the kill falls between them.
    const split = next++;
    appendFileSync(path, `${ts(split)} stdout P line\n`);
    await sleep(400);
    d.child.kill('SIGKILL'); // kill -9 #2 mid-line
    await d.exited();
    appendFileSync(path, `${ts(split)} stdout F  ${split}\n`);
    append(100);

    const last = run(['run', 'logferry.yaml', '--once', '--json'], dir);
    expect(last.code, last.stderr.slice(-2000)).toBe(0);
    const summary = summaryOf(last.stderr);
    expect(summary.balanced).toBe(true);
    const seen = new Map<string, number>();
    for (const f of walk(join(dir, 'archive')).filter((p) => p.endsWith('.gz')))
      for (const doc of archived(f)) seen.set(doc['@message'], (seen.get(doc['@message']) ?? 0) + 1);
    const missing: number[] = [];
    for (let i = 0; i < next; i++) if (!seen.has(`line ${i}`)) missing.push(i);
    const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0);
    const since = summary.redelivered.sinceCleanStop;
    console.log(
      `truncation crash test: ${next} lines, 2 truncations, 2 × kill -9; missing ${missing.length}, duplicates ${duplicates}; since the last clean stop: certain ${since.records}, possible ${since.possible}, skipped ${since.skipped}`,
    );
    expect(since).toMatchObject({ starts: 3 });
    expect(since.records).toBeLessThanOrEqual(duplicates);
    expect(duplicates).toBeLessThanOrEqual(since.records + since.possible);
    expect(missing).toEqual([]);
    expect(seen.size).toBe(next);
    expect(duplicates).toBeLessThan(next / 4);
  }, 180_000);
});
