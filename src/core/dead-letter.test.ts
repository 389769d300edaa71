import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileDeadLetterSink } from '../sinks/file.js';
import { runDaemon } from './daemon.js';
import { type DeadLetter, SinkDeadLetter, serializeDeadLetter } from './dead-letter.js';
import type { Outcome } from './outcome.js';
import type { LogRecord } from './record.js';
import type { Encoded, SendResult, Sink } from './sink.js';
import type { Source, SourceEnvelope } from './source.js';

const rec = (i: number, message: string, fields: Record<string, unknown> = {}): LogRecord => ({
  timestamp: 1_700_000_000_000 + i,
  message,
  fields,
  meta: { owner: '1', logGroup: '/g', logStream: 's', id: `id-${i}`, source: 't', ackId: 'e1' },
});

class Src implements Source {
  readonly type = 'list';
  readonly name = 'src';
  readonly acks: Outcome[] = [];
  constructor(private readonly envs: SourceEnvelope[]) {}
  async *envelopes() {
    yield* this.envs;
  }
  async ack(_e: SourceEnvelope, o: Outcome) {
    this.acks.push(o);
  }
}

/** Rejects every record. */
class Refuser implements Sink<string> {
  readonly type = 'refuser';
  readonly name = 'out';
  readonly limits = { maxRecords: 100, maxBytes: 1 << 20, maxRecordBytes: 1 << 20, maxAgeMs: 60_000 };
  encode(r: LogRecord): Encoded<string> {
    return { record: r, data: r.message, bytes: r.message.length };
  }
  async send(batch: readonly Encoded<string>[]): Promise<SendResult> {
    return {
      problems: batch.map((_, index) => ({ index, action: 'reject' as const, code: 'BAD', reason: 'no' })),
    };
  }
}

/** Keeps what it is sent; the first send of each batch is throttled. */
class Keeper implements Sink<string> {
  readonly type = 'keeper';
  readonly name = 'dlq';
  readonly limits = { maxRecords: 100, maxBytes: 1 << 20, maxRecordBytes: 1 << 20, maxAgeMs: 60_000 };
  readonly kept: string[] = [];
  private throttled = false;
  encode(r: LogRecord): Encoded<string> {
    return { record: r, data: r.message, bytes: r.message.length };
  }
  async send(batch: readonly Encoded<string>[]): Promise<SendResult> {
    if (!this.throttled) {
      this.throttled = true;
      return {
        problems: batch.map((_, index) => ({
          index,
          action: 'retry' as const,
          code: 'SLOW',
          reason: 'slow',
        })),
      };
    }
    this.kept.push(...batch.map((b) => b.data));
    return { problems: [] };
  }
}

const fast = { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } };

describe('dead-letter stores', () => {
  it('store an entry that cannot be serialised as its provenance, reason and base64 message', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 20_000; i++) deep = { a: deep };
    const entry: DeadLetter = {
      code: 'mapper_parsing_exception',
      reason: 'too deep',
      attempts: 1,
      source: 'kinesis-event',
      ackId: '42',
      logGroup: '/g',
      id: 'ev-1',
      record: { timestamp: 1, message: 'héllo {"a":', fields: deep },
      at: '2026-01-01T00:00:00.000Z',
    };
    const line = serializeDeadLetter(entry);
    const doc = JSON.parse(line);
    expect(doc).toMatchObject({ code: 'mapper_parsing_exception', ackId: '42', id: 'ev-1', logGroup: '/g' });
    expect(doc.unserializable).toMatch(/could not be written as JSON/);
    expect(Buffer.from(doc.messageBase64, 'base64').toString('utf8')).toBe('héllo {"a":');
  });

  it('a file store that cannot write fails the records with the OS error, and says so in the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-dl-'));
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    const warnings: Record<string, unknown>[] = [];
    const log = {
      debug() {},
      info() {},
      error() {},
      warn: (_m: string, d?: Record<string, unknown>) => warnings.push(d ?? {}),
    };
    const res = await runDaemon({
      sources: [new Src([{ ackId: 'e1', bytes: 1, records: [rec(0, 'a')] }])],
      transforms: [],
      sinks: [new Refuser()],
      deadLetter: new FileDeadLetterSink(join(dir, 'not-a-dir', 'dlq.ndjson')),
      log,
    });
    expect(res.tally.total.failed).toBe(1);
    const [reason] = [...res.tally.failureExamples.values()];
    expect(reason).toMatch(/ENOTDIR|EEXIST/);
    expect(JSON.stringify(warnings)).toMatch(/ENOTDIR|EEXIST/);
  });

  it('any sink can be the dead-letter store, driven by the delivery engine (retries included)', async () => {
    const keeper = new Keeper();
    const src = new Src([{ ackId: 'e1', bytes: 1, records: [rec(0, 'a'), rec(1, 'b')] }]);
    const res = await runDaemon({
      sources: [src],
      transforms: [],
      sinks: [new Refuser()],
      deadLetter: new SinkDeadLetter(keeper, fast),
    });
    expect(res.tally.total).toMatchObject({ received: 2, rejected: 2, failed: 0 });
    expect(src.acks.map((o) => o.kind)).toEqual(['rejected']);
    expect(keeper.kept.map((l) => JSON.parse(l))).toMatchObject([
      { code: 'BAD', id: 'id-0', record: { message: 'a' } },
      { code: 'BAD', id: 'id-1', record: { message: 'b' } },
    ]);
  });

  it('the file store writes the safe form for a record it cannot serialise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-dl-'));
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) deep = { a: deep };
    const res = await runDaemon({
      sources: [new Src([{ ackId: 'e1', bytes: 1, records: [rec(0, 'deep one', { deep })] }])],
      transforms: [],
      sinks: [new Refuser()],
      deadLetter: new FileDeadLetterSink(join(dir, 'dlq.ndjson')),
    });
    expect(res.tally.total).toMatchObject({ rejected: 1, failed: 0 });
    const doc = JSON.parse(readFileSync(join(dir, 'dlq.ndjson'), 'utf8'));
    expect(Buffer.from(doc.messageBase64, 'base64').toString()).toBe('deep one');
  });
});
