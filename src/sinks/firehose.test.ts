import { FirehoseClient } from '@aws-sdk/client-firehose';
import { afterEach, describe, expect, it } from 'vitest';
import { type FirehoseApi, startFirehoseApi } from '../../test/infra/firehose-api.js';
import { clientConfig } from '../aws/clients.js';
import {
  FIREHOSE_MAX_RECORD_BYTES,
  PUT_RECORD_BATCH_MAX_BYTES,
  PUT_RECORD_BATCH_MAX_RECORDS,
} from '../aws/firehose-reingest.js';
import { deliver } from '../core/deliver.js';
import type { LogRecord } from '../core/record.js';
import { FirehoseSink, withPayload } from './firehose.js';

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

const rec = (i: number, message = `line ${i}`): LogRecord => ({
  timestamp: i,
  message,
  fields: {},
  meta: { owner: '1', logGroup: '/g', logStream: 's', id: String(i), source: 't', ackId: 'a' },
});
const fast = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

describe('firehose sink through deliver', () => {
  it('keeps calls within 500 records and 4 MiB; refuses an oversized record without sending it', async () => {
    api = await startFirehoseApi(() => ({ kind: 'ok' }));
    const sink = new FirehoseSink('logs', client(api.url));
    const records = [
      ...Array.from({ length: 1100 }, (_, i) => rec(i)),
      withPayload(rec(9999), Buffer.alloc(FIREHOSE_MAX_RECORD_BYTES + 1, 1)),
    ];
    const outs = await deliver(sink, records, { retry: fast });
    expect(api.calls.map((c) => c.entries.length)).toEqual([500, 500, 100]);
    for (const c of api.calls) {
      expect(c.entries.length).toBeLessThanOrEqual(PUT_RECORD_BATCH_MAX_RECORDS);
      expect(c.entries.reduce((n, e) => n + e.length, 0)).toBeLessThanOrEqual(PUT_RECORD_BATCH_MAX_BYTES);
    }
    expect(outs.slice(0, 1100).every((o) => o.kind === 'delivered')).toBe(true);
    expect(outs[1100]).toMatchObject({ kind: 'rejected', code: 'RECORD_TOO_LARGE' });
    expect(api.accepted.map(String)).toEqual(records.slice(0, 1100).map((r) => `${r.message}\n`));
  });

  it('re-sends only the entries that failed, and gives up after maxAttempts with their error code', async () => {
    api = await startFirehoseApi((call) => ({ kind: 'partial', fail: (i) => call > 0 || i % 2 === 0 }));
    const sink = new FirehoseSink('logs', client(api.url));
    const outs = await deliver(sink, [rec(0), rec(1), rec(2), rec(3)], { retry: fast });
    expect(api.calls.map((c) => c.entries.length)).toEqual([4, 2, 2]);
    expect(outs.map((o) => o.kind)).toEqual(['failed', 'delivered', 'failed', 'delivered']);
    expect(outs[0].code).toBe('ServiceUnavailableException');
    expect(sink.stats).toMatchObject({ calls: 3, retriedEntries: 4 });
  });

  it('rejects on a permanent error without retrying; retries a throttled call', async () => {
    api = await startFirehoseApi(() => ({ kind: 'error', type: 'ResourceNotFoundException', status: 400 }));
    const gone = await deliver(new FirehoseSink('nope', client(api.url)), [rec(0)], { retry: fast });
    expect(gone[0]).toMatchObject({ kind: 'rejected', code: 'SINK_REJECTED' });
    expect(api.calls).toHaveLength(1);
    await api.close();
    api = await startFirehoseApi((call) =>
      call === 0 ? { kind: 'error', type: 'ThrottlingException', status: 400 } : { kind: 'ok' },
    );
    const sink = new FirehoseSink('logs', client(api.url));
    const ok = await deliver(sink, [rec(0)], { retry: fast });
    expect(ok[0].kind).toBe('delivered');
    expect(sink.stats).toMatchObject({ calls: 2, throttled: 1 });
  });
});
