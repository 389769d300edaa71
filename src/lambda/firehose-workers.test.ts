/**
 * The Firehose transformation on worker threads answers exactly what the single-threaded
 * transformer answers for the same event (bench-like data, poison input, over budget), logs one
 * merged summary line with the same counts, fails the invocation (throws) when a worker dies
 * mid-invocation and rebuilds the pool for the next one. Real worker threads (the source loaded
 * through tsx), real zlib, the real runner.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  controlPayload,
  cwPayload,
  events,
  firehoseEvent,
  payloadOfSize,
  rng,
  streamFor,
} from '../../bench/data.js';
import { validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../core/component.js';
import { NO_DEADLINE } from '../core/retry.js';
import { jsonLogger } from '../core/logger.js';
import { type FirehoseTransformationEvent, FirehoseTransformer } from '../sources/firehose.js';
import { buildFirehoseTransformer } from './firehose.js';
import { FirehoseWorkerPool, firehoseWorkerThreads } from './firehose-workers.js';

interface Line {
  msg: string;
  [k: string]: unknown;
}

function capture(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  return { lines, log: jsonLogger({}, 'debug', (l) => lines.push(JSON.parse(l))) };
}

const ev = (e: unknown) => e as FirehoseTransformationEvent;

async function setup(firehose: Record<string, unknown> = {}) {
  const cfg = validateConfig({ firehose: { reingest: false, workers: 2, ...firehose } }, 'test');
  const single = capture();
  const pooled = capture();
  const one = (await buildFirehoseTransformer(cfg, { log: single.log })).transformer;
  const t = (await buildFirehoseTransformer(cfg, { log: pooled.log })).transformer;
  const pool = new FirehoseWorkerPool(t, { threads: 2, config: cfg, log: pooled.log, minBytes: 1 });
  return { cfg, one, pool, single, pooled };
}

/** Bench-like invocation: ~60 KB gzip payloads of the mixed stream kinds, plus poison records. */
function bigEvent(seed: number, poison: boolean): FirehoseTransformationEvent {
  const r = rng(seed);
  const kinds = ['kube-apiserver-audit', 'kube-apiserver', 'lambda', 'ecs', 'generic'] as const;
  const payloads: (Buffer | string)[] = [];
  for (let i = 0; i < 14; i++) payloads.push(payloadOfSize(kinds[i % kinds.length], 60_000, r).gzip);
  if (poison) {
    const stream = streamFor('lambda', r);
    const good = cwPayload(stream, events('lambda', 4, r));
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    payloads.splice(
      3,
      0,
      good.subarray(0, good.length - 10).toString('base64'), // truncated gzip
      gzipSync('not json').toString('base64'),
      cwPayload(stream, [{ id: 'far', timestamp: 1e20, message: 'far future' }]),
      cwPayload(stream, [{ id: 'deep', timestamp: 1, message: deep }]),
      controlPayload(),
      '@@not base64@@',
      '',
    );
    payloads.push(
      controlPayload(),
      cwPayload(stream, [{ id: 'k', timestamp: 2, message: 'password=hunter2 ok' }]),
    );
  }
  return ev(firehoseEvent(payloads, { invocationId: `inv-${seed}` }));
}

const summaryLine = (lines: Line[]) => {
  const l = lines.filter((x) => x.msg === 'firehose transformation').pop()!;
  const { durationMs, time, _aws, workers, ...rest } = l as Record<string, unknown>;
  return rest;
};

describe('Firehose worker threads', () => {
  let s: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    s = await setup();
    await s.pool.start();
  }, 60_000);
  afterAll(async () => {
    await s?.pool.close();
  });

  it('answers byte-identically to the single-threaded transformer (bench data and poison input)', async () => {
    for (const [seed, poison] of [
      [7, false],
      [8, true],
    ] as const) {
      const event = bigEvent(seed, poison);
      const a = await s.one.transform(event, NO_DEADLINE);
      const b = await s.pool.transform(event, NO_DEADLINE);
      expect(JSON.stringify(b.response)).toBe(JSON.stringify(a.response));
      const { tally: ta, ...sa } = a.summary;
      const { tally: tb, ...sb } = b.summary;
      expect(sb).toEqual(sa);
      expect(tb.toJSON()).toEqual(ta.toJSON());
      expect(summaryLine(s.pooled.lines)).toEqual(summaryLine(s.single.lines));
      const failed = (lines: Line[]) =>
        lines.filter((l) => l.msg === 'record ProcessingFailed').map(({ time, ...l }) => l);
      const failedA = failed(s.single.lines);
      const failedB = failed(s.pooled.lines);
      expect(failedB).toEqual(failedA);
      if (poison) {
        const results = b.response.records.map((r) => r.result);
        expect(results).toContain('ProcessingFailed');
        expect(results).toContain('Dropped');
      }
    }
    expect(s.pool.stats.invocations).toBe(2);
    expect(s.pool.stats.fallbacks).toBe(0);
  }, 120_000);

  it('answers an over-budget invocation as the main thread does (it answers it again)', async () => {
    const o = await setup({ maxResponseBytes: 200_000 });
    try {
      await o.pool.start();
      const event = bigEvent(9, true);
      const a = await o.one.transform(event, NO_DEADLINE);
      const b = await o.pool.transform(event, NO_DEADLINE);
      expect(a.response.records.some((r) => r.result === 'ProcessingFailed')).toBe(true);
      expect(JSON.stringify(b.response)).toBe(JSON.stringify(a.response));
      expect(b.summary.responseBytes).toBe(a.summary.responseBytes);
      expect(o.pool.stats.fallbacks).toBe(1);
    } finally {
      await o.pool.close();
    }
  }, 120_000);

  it('fails the invocation when a worker dies mid-invocation, then rebuilds the pool', async () => {
    const event = bigEvent(10, false);
    const expected = JSON.stringify((await s.one.transform(event, NO_DEADLINE)).response);
    await s.pool.start();
    const pools = s.pool.stats.pools;
    const running = s.pool.transform(event, NO_DEADLINE);
    // The slices are posted; one worker goes away before answering its slice.
    await new Promise((r) => setImmediate(r));
    await s.pool.workers()[0].terminate();
    await expect(running).rejects.toThrow(/firehose worker exited/);
    // The next big invocation is answered by the main thread while a new pool starts.
    const meanwhile = await s.pool.transform(event, NO_DEADLINE);
    expect(JSON.stringify(meanwhile.response)).toBe(expected);
    await s.pool.start();
    const invocations = s.pool.stats.invocations;
    const again = await s.pool.transform(event, NO_DEADLINE);
    expect(s.pool.stats.pools).toBe(pools + 1);
    expect(s.pool.stats.invocations).toBe(invocations + 1);
    expect(JSON.stringify(again.response)).toBe(expected);
  }, 120_000);

  it('keeps small invocations on the main thread', async () => {
    const cfg = validateConfig({ firehose: { workers: 2 } }, 'test');
    const t = new FirehoseTransformer(cfg.firehose, { transforms: [], log: capture().log });
    const pool = new FirehoseWorkerPool(t, { threads: 2, config: cfg, log: capture().log });
    await pool.start();
    const r = await pool.transform(bigEvent(11, false), NO_DEADLINE);
    const small = await pool.transform(
      ev(firehoseEvent([cwPayload(streamFor('lambda', rng(1)), events('lambda', 3, rng(2)))])),
      NO_DEADLINE,
    );
    expect(small.response.records[0].result).toBe('Ok');
    expect(r.response.records.length).toBe(14);
    // The big one went to workers, the small one did not.
    expect(pool.stats.invocations).toBe(1);
    await pool.close();
  }, 120_000);

  it('is off by default; `auto` is on only when the answer is the only output and there are 2+ CPUs', () => {
    expect(firehoseWorkerThreads(validateConfig({}, 'test') as Config, 2).count).toBe(0);
    const auto = validateConfig({ firehose: { workers: 'auto' } }, 'test');
    // The main thread answers slices too: one worker per further CPU.
    expect(firehoseWorkerThreads(auto, 2)).toEqual({ count: 1 });
    expect(firehoseWorkerThreads(auto, 4)).toEqual({ count: 3 });
    expect(firehoseWorkerThreads(auto, 1).count).toBe(0);
    expect(firehoseWorkerThreads(validateConfig({ firehose: { workers: 'off' } }, 'test'), 4).count).toBe(0);
    expect(firehoseWorkerThreads(validateConfig({ firehose: { workers: 3 } }, 'test'), 1).count).toBe(3);
    const withSink = validateConfig({ sinks: [{ type: 'stdout' }], firehose: { workers: 'auto' } }, 'test');
    expect(firehoseWorkerThreads(withSink, 2).count).toBe(0);
    expect(() => validateConfig({ firehose: { workers: 'many' } }, 'test')).toThrow();
  });
});
