import { appendFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ObjectEnvelope } from './s3-object/read-object.js';
import { FileProgress } from './s3-object/progress-file.js';
import { JournaledProgress } from './sqs-s3-journal.js';

const envelope = (object: string, fromLine: number, through: number, redelivered: number[] = []) =>
  ({
    ackId: `${object}:${fromLine}`,
    object,
    fromLine,
    through,
    bytes: 0,
    records: Array.from({ length: through - fromLine + 1 }, (_, i) => ({
      timestamp: 0,
      message: '',
      fields: {},
      meta: {
        owner: '',
        logGroup: '',
        logStream: '',
        id: `${object}#${fromLine + i}`,
        ...(redelivered.includes(fromLine + i) ? { redelivered: true as const } : {}),
      },
    })),
  }) as unknown as ObjectEnvelope;

/** A journal over a progress file whose interval outlives the test (written only on `flush`). */
const open = (dir: string, fp = new FileProgress(join(dir, 'progress.json'), 'q', 3_600_000, 86_400_000)) =>
  new JournaledProgress(fp, dir, 86_400_000, () => []);

describe('sqs-s3 progress journal', () => {
  it('restores progress the progress file never got, and counts lines in flight at the stop as possible duplicates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-sqsj-'));
    // The progress file is never written (its interval outlives the "crash").
    const j = open(dir);
    await j.load();
    j.intent({ object: 'o', fromLine: 1, through: 10 });
    j.intent({ object: 'o', fromLine: 11, through: 20 });
    j.intent({ object: 'o', fromLine: 21, through: 30 });
    j.set('o', { through: 10, at: 1_000 });
    j.set('o', { through: 10, at: 1_001, acked: [[21, 30]] });
    j.close();
    appendFileSync(join(dir, readdirSync(dir).find((n) => n.endsWith('.journal')) as string), 's ["o",{"thr');

    const j2 = open(dir);
    await j2.load();
    expect(j2.get('o')).toEqual({ through: 10, at: 1_001, acked: [[21, 30]] });
    // 11..20 were in flight and not acknowledged: possible duplicates; 21..30 certain (marked by
    // the message source as redelivered), not counted twice.
    expect(j2.possibleOf(envelope('o', 11, 20))).toBe(10);
    expect(j2.possibleOf(envelope('o', 21, 30, [21, 22, 23, 24, 25, 26, 27, 28, 29, 30]))).toBe(0);
    expect(j2.possibleOf(envelope('other', 1, 5))).toBe(0);
    // The load compacted the journal into one generation that still knows all of it.
    expect(readdirSync(dir).filter((n) => n.endsWith('.journal'))).toHaveLength(1);
    j2.close();
    const j3 = open(dir);
    await j3.load();
    expect(j3.get('o')).toEqual({ through: 10, at: 1_001, acked: [[21, 30]] });
    expect(j3.possibleOf(envelope('o', 11, 20))).toBe(10);
    j3.close();
  });

  it('a newer progress file wins over older journal lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-sqsj-'));
    const fp = new FileProgress(join(dir, 'progress.json'), 'q', 3_600_000, 86_400_000);
    const j = open(dir, fp);
    await j.load();
    // (the progress file forgets entries older than SQS keeps a message: times are recent)
    const now = Date.now();
    j.set('o', { through: 5, at: now - 1_000 });
    fp.set('o', { through: 50, at: now });
    await fp.flush();
    j.close();
    const j2 = open(dir);
    await j2.load();
    expect(j2.get('o')).toEqual({ through: 50, at: now });
    j2.close();
  });
});
