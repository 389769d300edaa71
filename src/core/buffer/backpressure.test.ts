/**
 * Per-sink memory bounds: while a sink holds its bound of records (or bytes), the runner pulls no
 * more envelopes from the sources; a fast sink next to it does not lift the bound.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDaemon } from '../daemon.js';
import type { Outcome } from '../outcome.js';
import type { LogRecord } from '../record.js';
import type { Encoded, SendResult, Sink } from '../sink.js';
import type { Source, SourceEnvelope } from '../source.js';

const root = mkdtempSync(join(tmpdir(), 'lf-backpressure-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PER_ENVELOPE = 10;

/** Counts how far reading ran ahead of delivery. */
class Counting implements Source {
  readonly type = 'counting';
  readonly name = 'counting';
  pulled = 0;
  acked = 0;
  maxAhead = 0;
  constructor(
    private readonly envelopesTotal: number,
    private readonly sinkGot: () => number,
    private readonly message = 'x',
  ) {}
  async *envelopes(): AsyncIterable<SourceEnvelope> {
    for (let e = 0; e < this.envelopesTotal; e++) {
      this.pulled++;
      this.maxAhead = Math.max(this.maxAhead, this.pulled * PER_ENVELOPE - this.sinkGot());
      const records: LogRecord[] = Array.from({ length: PER_ENVELOPE }, (_, i) => ({
        timestamp: 1,
        message: this.message,
        fields: {},
        meta: {
          owner: '',
          logGroup: '/g',
          logStream: 's',
          id: `${e}-${i}`,
          source: 'counting',
          ackId: `${e}`,
        },
      }));
      yield { ackId: `${e}`, records, bytes: 10 };
    }
  }
  async ack(_e: SourceEnvelope, _o: Outcome): Promise<void> {
    this.acked++;
  }
}

/** A sink that takes `delayMs` per send. */
class Slow implements Sink<string> {
  readonly type = 'slow';
  got = 0;
  readonly limits = { maxRecords: 20, maxBytes: 1 << 30, maxRecordBytes: 1 << 20, maxAgeMs: 10 };
  constructor(
    readonly name: string,
    private readonly delayMs: number,
  ) {}
  encode(r: LogRecord): Encoded<string> {
    return { record: r, data: r.message, bytes: r.message.length };
  }
  async send(batch: readonly Encoded<string>[]): Promise<SendResult> {
    await new Promise((r) => setTimeout(r, this.delayMs));
    this.got += batch.length;
    return { problems: [] };
  }
}

describe('per-sink memory bounds (backpressure)', () => {
  it('stops pulling sources while a slow sink holds its record bound, even beside a fast sink', async () => {
    const slow = new Slow('slow', 5);
    const fast = new Slow('fast', 0);
    const src = new Counting(300, () => slow.got);
    const r = await runDaemon({
      sources: [src],
      transforms: [],
      sinks: [
        { name: 'slow', sink: slow, buffer: { type: 'memory', maxRecords: 100, maxBytes: 1 << 30 } },
        { name: 'fast', sink: fast },
      ],
      dataDir: root,
    });
    expect(r.tally.total.delivered).toBe(3000);
    expect(slow.got).toBe(3000);
    // Read ahead of the slow sink by at most its bound plus one envelope.
    expect(src.maxAhead).toBeLessThanOrEqual(100 + PER_ENVELOPE);
    expect(src.maxAhead).toBeGreaterThan(0);
  });

  it('bounds by bytes too', async () => {
    const slow = new Slow('slow', 5);
    const src = new Counting(100, () => slow.got, 'y'.repeat(10_000));
    await runDaemon({
      sources: [src],
      transforms: [],
      sinks: [
        { name: 'slow', sink: slow, buffer: { type: 'memory', maxRecords: 1_000_000, maxBytes: 200_000 } },
      ],
      dataDir: root,
    });
    expect(slow.got).toBe(1000);
    // ~10 KiB per record: about 20 records fit in 200 KB (plus one envelope over).
    expect(src.maxAhead).toBeLessThanOrEqual(20 + PER_ENVELOPE);
  });
});
