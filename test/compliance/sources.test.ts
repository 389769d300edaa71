/**
 * The source compliance suite: every source that runs without a service here (built from the
 * registry, as `logferry run` builds it) acknowledges its upstream only after delivery:
 *
 * - an envelope is acknowledged only once every record of it was stored by the sink;
 * - when delivery fails (retries exhausted), a new instance of the source reads those records again
 *   (nothing checkpointed past undelivered records, nothing lost);
 * - after a successful run, a checkpointing source does not read delivered records again.
 *
 * The Kinesis source runs against kinesis-local (started by the test setup; without it that case
 * fails with a clear message rather than passing).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  type KinesisClientConfig,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { clientConfig } from '../../src/aws/clients.js';
import { encodeCloudWatchPayload } from '../../src/aws/cloudwatch-payload.js';
import type { Outcome } from '../../src/core/outcome.js';
import type { LogRecord } from '../../src/core/record.js';
import { createRunner } from '../../src/core/runner.js';
import { ALL_DELIVERED, type Encoded, type SendResult, type Sink } from '../../src/core/sink.js';
import type { Source, SourceEnvelope } from '../../src/core/source.js';
import { sources as registry } from '../../src/sources/index.js';
import { kinesisUrl } from '../infra/services.js';

const dir = mkdtempSync(join(tmpdir(), 'lf-source-compliance-'));
const streams = new Set<string>();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface SourceHarness {
  type: string;
  /** Unbounded (tails): the run is stopped after `stopAfterMs`. */
  stopAfterMs?: number;
  /** Record ids are stable across instances (the upstream redelivers the same records). */
  stableIds: boolean;
  /** Keeps a checkpoint across instances (a second run after success reads nothing). */
  checkpoints: boolean;
  /** Config of the source; the same config for every instance of one scenario. */
  config(scenario: string): Record<string, unknown> | Promise<Record<string, unknown>>;
}

const harnesses: SourceHarness[] = [
  {
    type: 'demo',
    checkpoints: false,
    // Generated again by a new instance, with new ids and times: compared by count.
    stableIds: false,
    config: () => ({ envelopes: 6, eventsPerEnvelope: 5, seed: 4, controlEvery: 0 }),
  },
  {
    type: 'file',
    checkpoints: true,
    stableIds: true,
    stopAfterMs: 1_500,
    config(scenario) {
      const d = join(dir, `file-${scenario}`);
      const path = join(d, 'app.log');
      try {
        writeFileSync(
          path,
          Array.from(
            { length: 40 },
            (_, i) => `2026-12-05T10:00:${String(i).padStart(2, '0')}Z line ${i}`,
          ).join('\n') + '\n',
          { flag: 'wx' },
        );
      } catch {
        // Written by the first instance of this scenario.
      }
      // Not `once`: a file read to its end in `once` mode is forgotten with its position (so the
      // checkpoint is only observable while tailing); the run is stopped with the signal instead.
      return {
        path,
        dataDir: join(d, 'state'),
        readFromHead: true,
        format: 'plain',
        pollIntervalMs: 10,
      };
    },
  },
  {
    type: 'kinesis',
    checkpoints: true,
    stableIds: true,
    stopAfterMs: 4_000,
    async config(scenario) {
      const stream = `compliance-${scenario}-${process.pid}`;
      const checkpointPath = join(dir, `kinesis-${scenario}.json`);
      if (!streams.has(stream)) {
        streams.add(stream);
        const kinesis = new KinesisClient(
          clientConfig('kinesis', { endpoint: kinesisUrl(), maxAttempts: 3 }) as KinesisClientConfig,
        );
        try {
          await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
          for (let i = 0; ; i++) {
            const d = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
            if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
            if (i > 200) throw new Error(`stream ${stream} did not become ACTIVE`);
            await new Promise((r) => setTimeout(r, 100));
          }
          await kinesis.send(
            new PutRecordsCommand({
              StreamName: stream,
              Records: Array.from({ length: 5 }, (_, i) => ({
                PartitionKey: `pk-${i}`,
                Data: encodeCloudWatchPayload({
                  messageType: 'DATA_MESSAGE',
                  owner: '123456789012',
                  logGroup: '/aws/lambda/compliance',
                  logStream: 's',
                  subscriptionFilters: ['f'],
                  logEvents: Array.from({ length: 4 }, (_, k) => ({
                    id: `${scenario}-${i}-${k}`,
                    timestamp: 1_764_928_800_000 + i * 10 + k,
                    message: `event ${i}/${k}`,
                  })),
                }),
              })),
            }),
          );
        } finally {
          kinesis.destroy();
        }
      }
      return {
        stream,
        endpoint: kinesisUrl(),
        checkpointPath,
        pollIntervalMs: 200,
        checkpointIntervalMs: 0,
        shardSyncIntervalMs: 1_000,
      };
    },
  },
];

async function build(h: SourceHarness, scenario: string): Promise<Source> {
  const spec = registry.find((s) => s.type === h.type);
  if (!spec) throw new Error(`no source ${h.type}`);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, `file-${scenario}`), { recursive: true });
  return spec.create(spec.schema.parse({ type: h.type, ...(await h.config(scenario)) }), { cwd: dir });
}

/** An in-memory sink: stores messages (after a short delay), or fails every send when told. */
class MemorySink implements Sink<string> {
  readonly type = 'memory';
  readonly name = 'memory';
  readonly limits = { maxRecords: 7, maxBytes: 1_000_000, maxRecordBytes: 100_000, maxAgeMs: 50 };
  stored: string[] = [];
  constructor(private readonly failing = false) {}
  encode(record: LogRecord): Encoded<string> {
    const key = `${record.meta.logGroup}|${record.meta.id}`;
    return { record, data: key, bytes: key.length };
  }
  async send(batch: readonly Encoded<string>[]): Promise<SendResult> {
    await new Promise((r) => setTimeout(r, 5));
    if (this.failing)
      return {
        problems: batch.map((_, index) => ({
          index,
          action: 'retry',
          code: 'SINK_UNAVAILABLE',
          reason: 'down',
        })),
      };
    for (const e of batch) this.stored.push(e.data);
    return ALL_DELIVERED;
  }
}

async function runOnce(source: Source, sink: MemorySink, stopAfterMs?: number) {
  const acks: { env: SourceEnvelope; outcome: Outcome; keys: string[]; storedAtAck: Set<string> }[] = [];
  const ack = source.ack.bind(source);
  source.ack = async (env, outcome) => {
    acks.push({
      env,
      outcome,
      keys: env.records.map((r) => `${r.meta.logGroup}|${r.meta.id}`),
      storedAtAck: new Set(sink.stored),
    });
    await ack(env, outcome);
  };
  const runner = createRunner(
    { sources: [{ name: source.name }], transforms: [], sinks: [{ name: sink.name, sink }] },
    { deliver: { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } } },
  );
  const signal = stopAfterMs === undefined ? undefined : AbortSignal.timeout(stopAfterMs);
  const result = await runner.run([source], { signal });
  await source.close?.();
  return { result, acks };
}

describe.each(harnesses.map((h) => [h.type, h] as const))('%s source compliance', (_t, h) => {
  it('acknowledges an envelope only after every record of it was stored', async () => {
    const sink = new MemorySink();
    const { result, acks } = await runOnce(await build(h, 'ack'), sink, h.stopAfterMs);
    expect(result.tally.total.delivered).toBeGreaterThan(0);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.outcome.kind).toBe('delivered');
      for (const k of a.keys) expect(a.storedAtAck.has(k)).toBe(true);
    }
  });

  it('after failed delivery a new instance reads the records again; after success a checkpointing source does not', async () => {
    const failing = new MemorySink(true);
    const first = await runOnce(await build(h, 'redrive'), failing, h.stopAfterMs);
    expect(first.result.tally.total.failed).toBeGreaterThan(0);
    expect(first.acks.every((a) => a.outcome.kind === 'failed')).toBe(true);
    const failedKeys = new Set(first.acks.flatMap((a) => a.keys));

    const good = new MemorySink();
    const second = await runOnce(await build(h, 'redrive'), good, h.stopAfterMs);
    const stored = new Set(good.stored);
    if (h.stableIds) for (const k of failedKeys) expect(stored.has(k), `record ${k} was lost`).toBe(true);
    else expect(stored.size).toBe(failedKeys.size);

    if (h.checkpoints) {
      const again = new MemorySink();
      const third = await runOnce(await build(h, 'redrive'), again, h.stopAfterMs);
      expect(third.result.tally.total.received).toBe(0);
      expect(again.stored).toEqual([]);
      expect(second.result.tally.total.delivered).toBe(failedKeys.size);
    }
  });
});
