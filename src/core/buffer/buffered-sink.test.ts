import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeadLetter, DeadLetterSink } from '../dead-letter.js';
import { deliver } from '../deliver.js';
import type { LogRecord } from '../record.js';
import type { Encoded, SendResult, Sink } from '../sink.js';
import { BufferedSink } from './buffered-sink.js';
import { diskBufferConfig } from './config.js';

const root = mkdtempSync(join(tmpdir(), 'lf-bufsink-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const rec = (i: number): LogRecord => ({
  timestamp: 1_700_000_000_000 + i,
  message: `message ${i}`,
  fields: { i, nested: { ok: true } },
  meta: { owner: '1', logGroup: '/g', logStream: 's', id: `id-${i}`, source: 'test', ackId: `a-${i}` },
});

/** A sink that stores what it gets; `down` makes it fail every send, `poison` rejects one message. */
class Memory implements Sink<string> {
  readonly type = 'memory';
  readonly name = 'mem';
  readonly limits = { maxRecords: 50, maxBytes: 1 << 20, maxRecordBytes: 1 << 16, maxAgeMs: 50 };
  got: LogRecord[] = [];
  down = false;
  poison = '';
  encode(r: LogRecord): Encoded<string> {
    return { record: r, data: r.message, bytes: r.message.length };
  }
  async send(batch: readonly Encoded<string>[]): Promise<SendResult> {
    if (this.down) throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    const problems: SendResult['problems'] = [];
    batch.forEach((e, index) => {
      if (e.data === this.poison) problems.push({ index, action: 'reject', code: 'BAD', reason: 'poison' });
      else this.got.push(e.record);
    });
    return { problems };
  }
}

const dlq = (): DeadLetterSink & { entries: DeadLetter[] } => {
  const entries: DeadLetter[] = [];
  return {
    type: 'mem',
    entries,
    async put(e) {
      entries.push(...e);
      return e.map(() => true);
    },
  };
};

const fast = { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } };

describe('BufferedSink', () => {
  it('stores records durably, delivers them to the real sink intact, dead-letters rejections', async () => {
    const inner = new Memory();
    inner.poison = 'message 7';
    const dl = dlq();
    const dir = join(root, 'a');
    const s = await BufferedSink.open(inner, {
      dir,
      config: diskBufferConfig.parse({ type: 'disk' }),
      deadLetter: dl,
      deliver: fast,
    });
    const records = Array.from({ length: 120 }, (_, i) => rec(i));
    const outs = await deliver(s, records);
    expect(outs.every((o) => o.kind === 'delivered')).toBe(true); // stored in the buffer
    await s.close();
    expect(inner.got).toHaveLength(119);
    expect(inner.got[3]).toEqual(rec(3));
    expect(dl.entries.map((e) => e.id)).toEqual(['id-7']);
    const st = s.stats.buffer as Record<string, number>;
    expect(st).toMatchObject({ written: 120, delivered: 119, rejected: 1, pending: 0 });
  });

  it('keeps records while the sink is down, and a restart delivers them (replayed)', async () => {
    const inner = new Memory();
    inner.down = true;
    const dir = join(root, 'b');
    const abort = new AbortController();
    const s = await BufferedSink.open(inner, {
      dir,
      config: diskBufferConfig.parse({ type: 'disk' }),
      deliver: fast,
      abort: abort.signal,
    });
    await deliver(
      s,
      Array.from({ length: 30 }, (_, i) => rec(i)),
    );
    await new Promise((r) => setTimeout(r, 200));
    abort.abort(); // shutdown deadline: stop draining
    await s.close();
    expect(inner.got).toHaveLength(0);
    expect((s.stats.buffer as Record<string, number>).pending).toBe(30);

    const up = new Memory();
    const s2 = await BufferedSink.open(up, {
      dir,
      config: diskBufferConfig.parse({ type: 'disk' }),
      deliver: fast,
    });
    await s2.close();
    expect(up.got.map((r) => r.meta.id)).toEqual(Array.from({ length: 30 }, (_, i) => `id-${i}`));
    const st = s2.stats.buffer as Record<string, number>;
    expect(st.replayed).toBe(30);
    expect(st.possibleDuplicates).toBe(30); // they were being delivered (and failing) when it stopped
    expect(st.pending).toBe(0);
  });

  it('drop_newest: what does not fit is reported dropped (BUFFER_FULL)', async () => {
    const inner = new Memory();
    inner.down = true;
    const abort = new AbortController();
    const s = await BufferedSink.open(inner, {
      dir: join(root, 'c'),
      config: diskBufferConfig.parse({ type: 'disk', maxBytes: '1MiB', whenFull: 'drop_newest' }),
      deliver: fast,
      abort: abort.signal,
    });
    const big = (i: number) => ({ ...rec(i), message: 'x'.repeat(100_000) });
    const outs = await deliver(
      s,
      Array.from({ length: 15 }, (_, i) => big(i)),
    );
    const dropped = outs.filter((o) => o.kind === 'dropped');
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped[0].code).toBe('BUFFER_FULL');
    expect(outs.filter((o) => o.kind === 'delivered').length).toBeLessThanOrEqual(10);
    abort.abort();
    await s.close();
  });
});
