/**
 * The `sqs-s3` source's resume positions on disk: one JSON file per source under the data
 * directory, `{ version: 1, queueUrl, objects: { "<s3://bucket/key?v=…>": { through, at } } }`,
 * written atomically (temp file + rename) at most every `intervalMs` and on `flush()`. `through` is
 * the last line of the object such that it and every earlier line have an outcome; MAX_SAFE_INTEGER
 * marks an object read completely (kept `rememberDoneMs`, so a duplicate notification reads nothing).
 * Unfinished entries older than 14 days (SQS's longest retention) are dropped on load.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeError, LogferryError } from '../../core/errors.js';
import { DONE, type ObjectProgress, type ProgressStore } from './message-source.js';

/** SQS keeps a message at most 14 days (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html). */
const SQS_MAX_RETENTION_MS = 14 * 86_400_000;

interface ProgressDoc {
  version: 1;
  queueUrl: string;
  objects: Record<string, ObjectProgress>;
}

export class FileProgress implements ProgressStore {
  private readonly map = new Map<string, ObjectProgress>();
  private dirty = false;
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  writes = 0;

  constructor(
    readonly path: string,
    private readonly queueUrl: string,
    private readonly intervalMs: number,
    private readonly rememberDoneMs: number,
  ) {}

  async load(now = Date.now()): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new LogferryError(
        'SOURCE_FAILED',
        `progress file ${this.path} is unreadable: ${describeError(e)}`,
        { cause: e },
      );
    }
    let doc: ProgressDoc;
    try {
      doc = JSON.parse(text) as ProgressDoc;
    } catch (e) {
      throw new LogferryError(
        'SOURCE_FAILED',
        `progress file ${this.path} is not valid JSON (${describeError(e)}); move it away to start over (objects in flight are then read again from their first line)`,
      );
    }
    if (doc.queueUrl !== this.queueUrl)
      throw new LogferryError(
        'SOURCE_FAILED',
        `progress file ${this.path} belongs to queue ${doc.queueUrl}, not ${this.queueUrl}; give each source its own name`,
      );
    for (const [k, v] of Object.entries(doc.objects ?? {})) {
      if (typeof v?.through !== 'number' || typeof v.at !== 'number') continue;
      const age = now - v.at;
      if (v.through === DONE ? age > this.rememberDoneMs : age > SQS_MAX_RETENTION_MS) continue;
      this.map.set(k, v);
    }
  }

  get(o: string) {
    return this.map.get(o);
  }
  set(o: string, p: ObjectProgress) {
    this.map.set(o, p);
    this.schedule();
  }
  delete(o: string) {
    if (this.map.delete(o)) this.schedule();
  }
  get size(): number {
    return this.map.size;
  }

  private schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.intervalMs);
  }

  /** Writes pending changes (serialised: one write at a time). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const now = Date.now();
      const objects: Record<string, ObjectProgress> = {};
      for (const [k, v] of this.map) {
        if (v.through === DONE && now - v.at > this.rememberDoneMs) {
          this.map.delete(k);
          continue;
        }
        objects[k] = v;
      }
      const doc: ProgressDoc = { version: 1, queueUrl: this.queueUrl, objects };
      const tmp = `${this.path}.${process.pid}.tmp`;
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(tmp, JSON.stringify(doc));
      await rename(tmp, this.path);
      this.writes++;
    });
    return this.writing;
  }
}
