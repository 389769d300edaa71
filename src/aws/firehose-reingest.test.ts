import { FirehoseClient } from '@aws-sdk/client-firehose';
import { afterEach, describe, expect, it } from 'vitest';
import { type FirehoseApi, startFirehoseApi } from '../../test/infra/firehose-api.js';
import { NO_DEADLINE } from '../core/retry.js';
import { clientConfig } from './clients.js';
import {
  FIREHOSE_MAX_RECORD_BYTES,
  PUT_RECORD_BATCH_MAX_BYTES,
  PUT_RECORD_BATCH_MAX_RECORDS,
  planBatches,
  reingest,
} from './firehose-reingest.js';

let api: FirehoseApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const client = (url: string) =>
  new FirehoseClient({
    ...clientConfig('firehose', { endpoint: url, region: 'us-east-1' }),
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });

describe('planBatches', () => {
  it('keeps each call within 500 records and 4 MiB, in order', () => {
    const small = Array.from({ length: 1200 }, () => 100);
    const idx = small.map((_, i) => i);
    expect(planBatches(small, idx).map((b) => b.length)).toEqual([500, 500, 200]);
    const big = Array.from({ length: 10 }, () => 900 * 1024);
    const batches = planBatches(
      big,
      big.map((_, i) => i),
    );
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(PUT_RECORD_BATCH_MAX_RECORDS);
      expect(b.reduce((a, i) => a + big[i], 0)).toBeLessThanOrEqual(PUT_RECORD_BATCH_MAX_BYTES);
    }
    expect(batches.flat()).toEqual(big.map((_, i) => i));
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
  });
});

describe('reingest', () => {
  it('splits into calls within the limits and refuses oversized payloads without sending them', async () => {
    api = await startFirehoseApi(() => ({ kind: 'ok' }));
    const payloads = [
      ...Array.from({ length: 1100 }, (_, i) => Buffer.from(`payload-${i}`)),
      Buffer.alloc(FIREHOSE_MAX_RECORD_BYTES + 1, 1),
    ];
    const report = await reingest(client(api.url), 'logs', payloads, { deadline: NO_DEADLINE });
    expect(api.calls.map((c) => c.entries.length).sort((a, b) => b - a)).toEqual([500, 500, 100]);
    expect(report.errors.slice(0, 1100).every((e) => e === undefined)).toBe(true);
    expect(report.errors[1100]).toBe('RECORD_TOO_LARGE');
    expect(api.accepted).toHaveLength(1100);
  });

  it('gives up after maxAttempts, keeping the last error code', async () => {
    api = await startFirehoseApi(() => ({ kind: 'partial', fail: () => true }));
    const report = await reingest(client(api.url), 'logs', [Buffer.from('a'), Buffer.from('b')], {
      deadline: NO_DEADLINE,
      policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    });
    expect(api.calls).toHaveLength(3);
    expect(report.errors).toEqual(['ServiceUnavailableException', 'ServiceUnavailableException']);
    expect(report.retriedEntries).toBe(4);
  });
});
