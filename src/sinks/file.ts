/**
 * The `file` dead-letter sink: appends each entry as one JSON line (NDJSON) to a local file and
 * fsyncs before reporting it stored, so an entry acknowledged as dead-lettered survives a crash.
 * `path` is a directory (entries go to `dead-letter-YYYY-MM-DD.ndjson` by UTC day of writing) or a
 * file ending in `.ndjson`/`.jsonl`. Writes from one process are serialised; a failed write reports
 * every entry of that call unstored (the caller then fails the records so they are redriven).
 * Limits: local disk only — on Lambda use the `sqs` dead-letter sink (`/tmp` does not outlive the
 * container).
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import * as z from 'zod';
import type { ComponentSpec } from '../core/component.js';
import { type DeadLetter, type DeadLetterSink, serializeDeadLetter } from '../core/dead-letter.js';

export const fileDeadLetterConfig = z.strictObject({
  type: z.literal('file'),
  /** Directory (one file per UTC day) or a `.ndjson`/`.jsonl` file; relative to the config's directory. */
  path: z.string().min(1),
});

export type FileDeadLetterConfig = z.infer<typeof fileDeadLetterConfig>;

export class FileDeadLetterSink implements DeadLetterSink {
  readonly type = 'file';
  /** Why the last write failed (`EACCES: permission denied, open '…'`), until one succeeds. */
  lastError: string | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  /** The file entries written now go to. */
  target(now = new Date()): string {
    if (/\.(nd)?jsonl?$/.test(this.path)) return this.path;
    return join(this.path, `dead-letter-${now.toISOString().slice(0, 10)}.ndjson`);
  }

  put(entries: readonly DeadLetter[]): Promise<boolean[]> {
    if (entries.length === 0) return Promise.resolve([]);
    const run = this.chain.then(() => this.write(entries));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async write(entries: readonly DeadLetter[]): Promise<boolean[]> {
    let text = '';
    for (const e of entries) text += `${serializeDeadLetter(e)}\n`;
    const file = this.target();
    try {
      await mkdir(dirname(file), { recursive: true });
      const fh = await open(file, 'a');
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      this.lastError = undefined;
      return entries.map(() => true);
    } catch (e) {
      // The OS error says what to fix (permissions, a full disk, a path that is a file).
      this.lastError = `writing ${file} failed: ${e instanceof Error ? e.message : String(e)}`;
      return entries.map(() => false);
    }
  }

  async close(): Promise<void> {
    await this.chain;
  }
}

export const fileDeadLetterSpec: ComponentSpec<FileDeadLetterConfig, DeadLetterSink> = {
  type: 'file',
  iam: [],
  summary: 'Appends dead-letter entries as NDJSON to a local file, fsynced.',
  schema: fileDeadLetterConfig,
  create: (cfg, ctx) =>
    new FileDeadLetterSink(isAbsolute(cfg.path) ? cfg.path : resolve(ctx.cwd ?? process.cwd(), cfg.path)),
};
