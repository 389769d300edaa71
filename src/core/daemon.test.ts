import { describe, expect, it } from 'vitest';
import { CONTROL_GROUP, MALFORMED_GROUP, runDaemon } from './daemon.js';
import type { DeadLetter, DeadLetterSink } from './dead-letter.js';
import type { Outcome } from './outcome.js';
import type { Transform } from './pipeline.js';
import type { LogRecord } from './record.js';
import { sleep } from './retry.js';
import type { Encoded, SendResult, Sink, SinkLimits } from './sink.js';
import type { Source, SourceEnvelope } from './source.js';

function records(env: number, n: number, group = '/aws/lambda/fn'): LogRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    timestamp: 1_700_000_000_000 + env * 1000 + i,
    message: `env ${env} line ${i}`,
    fields: {},
    meta: {
      owner: '1',
      logGroup: group,
      logStream: 's',
      id: `${env}-${i}`,
      source: 'test',
      ackId: `e${env}`,
    },
  }));
}

/** A scripted source: yields the given envelopes (optionally waiting between them) and records acks. */
class ListSource implements Source {
  readonly type = 'list';
  readonly name = 'list';
  readonly acks: { ackId: string; outcome: Outcome }[] = [];
  maxUnacked = 0;
  readonly yieldTimes: number[] = [];
  private yielded = 0;
  closed = false;
  constructor(
    private readonly envs: SourceEnvelope[],
    private readonly gapMs = 0,
    private readonly follow = false,
  ) {}
  get expected() {
    return this.follow ? undefined : this.envs.length;
  }
  async *envelopes(signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    for (let i = 0; this.follow || i < this.envs.length; i++) {
      if (signal.aborted) return;
      if (i > 0 && this.gapMs > 0) await sleep(this.gapMs, signal);
      if (signal.aborted) return;
      const env = this.envs[i % this.envs.length];
      this.yielded++;
      this.yieldTimes.push(Date.now());
      this.maxUnacked = Math.max(this.maxUnacked, this.yielded - this.acks.length);
      yield this.follow ? { ...env, ackId: `${env.ackId}#${i}` } : env;
    }
  }
  async ack(envelope: SourceEnvelope, outcome: Outcome): Promise<void> {
    this.acks.push({ ackId: envelope.ackId, outcome });
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A sink that keeps what it was sent; ids in `reject` are refused, ids in `flaky` fail their first send. */
class MemorySink implements Sink<string> {
  readonly type = 'memory';
  readonly name = 'memory';
  readonly batches: string[][] = [];
  readonly sendTimes: number[] = [];
  closed = false;
  private readonly seenFlaky = new Set<string>();
  constructor(
    readonly limits: SinkLimits = {
      maxRecords: 10_000,
      maxBytes: 10_000_000,
      maxRecordBytes: 100_000,
      maxAgeMs: 60_000,
    },
    private readonly reject = new Set<string>(),
    private readonly flaky = new Set<string>(),
  ) {}
  encode(r: LogRecord): Encoded<string> {
    return { record: r, data: r.meta.id, bytes: r.message.length };
  }
  async send(batch: readonly Encoded<string>[]): Promise<SendResult> {
    this.sendTimes.push(Date.now());
    const problems: SendResult['problems'] = [];
    const ok: string[] = [];
    batch.forEach((e, index) => {
      if (this.reject.has(e.data))
        problems.push({ index, action: 'reject', code: 'BAD_DOC', reason: 'mapping error' });
      else if (this.flaky.has(e.data) && !this.seenFlaky.has(e.data)) {
        this.seenFlaky.add(e.data);
        problems.push({ index, action: 'retry', code: 'SINK_THROTTLED', reason: 'slow down' });
      } else ok.push(e.data);
    });
    this.batches.push(ok);
    return { problems };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  get delivered(): string[] {
    return this.batches.flat();
  }
}

class MemoryDeadLetter implements DeadLetterSink {
  readonly type = 'memory';
  readonly entries: DeadLetter[] = [];
  constructor(private readonly works = true) {}
  async put(entries: readonly DeadLetter[]): Promise<boolean[]> {
    if (!this.works) return entries.map(() => false);
    this.entries.push(...entries);
    return entries.map(() => true);
  }
}

const fast = { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } };

describe('runDaemon', () => {
  it('delivers, drops, dead-letters and acknowledges every envelope with its worst outcome; the tally balances', async () => {
    const src = new ListSource([
      { ackId: 'e0', records: records(0, 5), bytes: 100 },
      { ackId: 'c', records: [], control: true, bytes: 10 },
      {
        ackId: 'm',
        records: [],
        malformed: { code: 'ENVELOPE_NOT_GZIP', reason: 'not gzip', payload: 'aGVsbG8=' },
        bytes: 5,
      },
      { ackId: 'e1', records: records(1, 5), bytes: 100 },
      { ackId: 'e2', records: records(2, 4, '/aws/eks/x/cluster'), bytes: 100 },
    ]);
    const sink = new MemorySink(undefined, new Set(['1-2']), new Set(['0-1']));
    const dlq = new MemoryDeadLetter();
    const dropNoisy: Transform = {
      type: 'filter',
      dropCode: 'FILTERED',
      apply: (r) => (r.message.endsWith('line 3') ? null : r),
    };
    const res = await runDaemon({
      sources: [src],
      transforms: [dropNoisy],
      sinks: [sink],
      deadLetter: dlq,
      deliver: fast,
      componentOf: (r) => (r.meta.logGroup.includes('eks') ? 'eks' : 'lambda'),
    });

    expect(res.balanced).toBe(true);
    expect(res.tally.total).toEqual({ received: 16, delivered: 10, dropped: 4, rejected: 2, failed: 0 });
    expect(res.tally.byGroup.get(CONTROL_GROUP)).toMatchObject({ received: 1, dropped: 1 });
    expect(res.tally.byGroup.get(MALFORMED_GROUP)).toMatchObject({ received: 1, rejected: 1 });
    expect(Object.fromEntries(res.tally.byReason)).toEqual({
      'dropped:CONTROL_MESSAGE': 1,
      'dropped:FILTERED': 3,
      'rejected:ENVELOPE_NOT_GZIP': 1,
      'rejected:BAD_DOC': 1,
    });
    expect(res.components.byGroup.get('eks')).toMatchObject({ received: 4, delivered: 3, dropped: 1 });
    expect(res.components.total).toEqual(res.tally.total);

    const acks = Object.fromEntries(src.acks.map((a) => [a.ackId, a.outcome.kind]));
    expect(acks).toEqual({ e0: 'dropped', c: 'dropped', m: 'rejected', e1: 'rejected', e2: 'dropped' });
    // Records of several envelopes share one batch; the retried one is sent again on its own.
    expect(sink.batches[0].length).toBeGreaterThan(5);
    expect(sink.delivered.sort()).toEqual(
      ['0-0', '0-1', '0-2', '0-4', '1-0', '1-1', '1-4', '2-0', '2-1', '2-2'].sort(),
    );
    expect(dlq.entries.map((e) => [e.code, e.ackId, e.id ?? e.payload])).toEqual([
      ['ENVELOPE_NOT_GZIP', 'm', 'aGVsbG8='],
      ['BAD_DOC', 'e1', '1-2'],
    ]);
    expect(res.envelopes).toMatchObject({ read: 5, acked: 5, inFlight: 0, expected: 5 });
    expect(res.bytesIn).toBe(315);
    expect(sink.closed && src.closed).toBe(true);
  });

  it('fails (for redrive) what the dead-letter sink cannot store', async () => {
    const src = new ListSource([
      { ackId: 'm', records: [], malformed: { code: 'ENVELOPE_NOT_JSON', reason: 'x' }, bytes: 1 },
      { ackId: 'e', records: records(0, 2), bytes: 1 },
    ]);
    const res = await runDaemon({
      sources: [src],
      transforms: [],
      sinks: [new MemorySink(undefined, new Set(['0-0']))],
      deadLetter: new MemoryDeadLetter(false),
    });
    expect(res.tally.total).toEqual({ received: 3, delivered: 1, dropped: 0, rejected: 0, failed: 2 });
    expect(src.acks.map((a) => a.outcome.kind)).toEqual(['failed', 'failed']);
    expect(res.tally.byReason.get('failed:DEAD_LETTER_UNAVAILABLE')).toBe(2);
  });

  it('flushes a partial batch once its oldest record is maxAgeMs old', async () => {
    const limits = { maxRecords: 1_000_000, maxBytes: 1e9, maxRecordBytes: 1e6, maxAgeMs: 100 };
    const sink = new MemorySink(limits);
    const src = new ListSource(
      [
        { ackId: 'a', records: records(0, 3), bytes: 1 },
        { ackId: 'b', records: records(1, 3), bytes: 1 },
      ],
      600,
    );
    const res = await runDaemon({ sources: [src], transforms: [], sinks: [sink] });
    expect(res.tally.total.delivered).toBe(6);
    // The first envelope went out on age, before the source even read the second one (600 ms later).
    expect(sink.batches).toEqual([
      ['0-0', '0-1', '0-2'],
      ['1-0', '1-1', '1-2'],
    ]);
    expect(sink.sendTimes[0]).toBeLessThan(src.yieldTimes[1]);
  });

  it('cuts batches at the sink maxRecords and bounds envelopes in flight', async () => {
    const sink = new MemorySink({ maxRecords: 7, maxBytes: 1e9, maxRecordBytes: 1e6, maxAgeMs: 3_600_000 });
    const envs = Array.from({ length: 20 }, (_, i) => ({ ackId: `e${i}`, records: records(i, 3), bytes: 1 }));
    const src = new ListSource(envs);
    const res = await runDaemon({ sources: [src], transforms: [], sinks: [sink], maxInFlightEnvelopes: 4 });
    expect(res.tally.total).toMatchObject({ received: 60, delivered: 60 });
    expect(sink.batches.every((b) => b.length <= 7)).toBe(true);
    expect(src.maxUnacked).toBeLessThanOrEqual(5); // the bound, plus the one being read
    expect(src.acks).toHaveLength(20);
  });

  it('stops reading on abort, flushes what was read, closes sinks and reports progress', async () => {
    const sink = new MemorySink({
      maxRecords: 1_000_000,
      maxBytes: 1e9,
      maxRecordBytes: 1e6,
      maxAgeMs: 3_600_000,
    });
    const src = new ListSource([{ ackId: 'e', records: records(0, 10), bytes: 50 }], 20, true);
    const ac = new AbortController();
    const phases: string[] = [];
    setTimeout(() => ac.abort(), 250);
    const res = await runDaemon({
      sources: [src],
      transforms: [],
      sinks: [sink],
      signal: ac.signal,
      onProgress: (p) => phases.push(p.phase),
      progressIntervalMs: 50,
    });
    expect(res.envelopes.read).toBeGreaterThan(2);
    expect(res.envelopes.acked).toBe(res.envelopes.read);
    expect(res.tally.total.delivered).toBe(res.envelopes.read * 10);
    expect(sink.delivered).toHaveLength(res.envelopes.read * 10);
    expect(sink.closed).toBe(true);
    expect(phases).toContain('running');
    expect(phases.at(-1)).toBe('done');
    expect(res.sinks[0]).toMatchObject({
      name: 'memory',
      sends: 1,
      records: res.envelopes.read * 10,
      buffered: 0,
    });
  });

  it('lets timers run while a source never waits (progress, age flushes and Ctrl-C keep working)', async () => {
    const sink = new MemorySink({ maxRecords: 1_000_000, maxBytes: 1e12, maxRecordBytes: 1e6, maxAgeMs: 50 });
    const src = new ListSource([{ ackId: 'e', records: records(0, 2), bytes: 1 }], 0, true);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    let ticks = 0;
    const res = await runDaemon({
      sources: [src],
      transforms: [],
      sinks: [sink],
      signal: ac.signal,
      maxInFlightEnvelopes: 1e9,
      maxInFlightRecords: 1e12,
      onProgress: () => ticks++,
      progressIntervalMs: 20,
    });
    expect(ticks).toBeGreaterThan(2);
    expect(sink.batches.length).toBeGreaterThan(1);
    expect(res.tally.total.delivered).toBe(res.envelopes.read * 2);
  });

  it('fans out to several sinks; a record rejected by one is rejected overall', async () => {
    const a = new MemorySink();
    const b = new MemorySink(undefined, new Set(['0-1']));
    const src = new ListSource([{ ackId: 'e', records: records(0, 3), bytes: 1 }]);
    const res = await runDaemon({
      sources: [src],
      transforms: [],
      sinks: [a, b],
      deadLetter: new MemoryDeadLetter(),
    });
    expect(a.delivered).toHaveLength(3);
    expect(b.delivered).toHaveLength(2);
    expect(res.tally.total).toEqual({ received: 3, delivered: 2, dropped: 0, rejected: 1, failed: 0 });
    expect(src.acks[0].outcome.kind).toBe('rejected');
  });

  it('keeps going when a source throws, and reports it', async () => {
    const bad: Source = {
      type: 'bad',
      name: 'bad',
      // biome-ignore lint/correctness/useYield: it fails before yielding, on purpose
      async *envelopes() {
        throw new Error('stream deleted');
      },
      ack: async () => {},
    };
    const src = new ListSource([{ ackId: 'e', records: records(0, 2), bytes: 1 }]);
    const res = await runDaemon({ sources: [bad, src], transforms: [], sinks: [new MemorySink()] });
    expect(res.sourceErrors).toEqual([{ source: 'bad', error: 'stream deleted' }]);
    expect(res.tally.total.delivered).toBe(2);
  });
});
