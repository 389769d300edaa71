import { describe, expect, it } from 'vitest';
import { deliver } from '../core/deliver.js';
import type { LogRecord } from '../core/record.js';
import { BlackholeSink, blackholeSinkConfig } from './blackhole.js';

const rec = (i: number): LogRecord => ({
  timestamp: 1_700_000_000_000 + i,
  message: `m${i}`,
  fields: {},
  meta: { owner: '1', logGroup: 'g', logStream: 's', id: String(i), source: 't', ackId: 'a' },
});

describe('blackhole sink', () => {
  it('delivers everything and counts records, bytes and batches', async () => {
    const s = new BlackholeSink(blackholeSinkConfig.parse({ type: 'blackhole', maxRecords: 4 }));
    const out = await deliver(
      s,
      Array.from({ length: 10 }, (_, i) => rec(i)),
    );
    expect(out.every((o) => o.kind === 'delivered')).toBe(true);
    expect(s.stats).toEqual({ records: 10, bytes: 20, batches: 3 });
  });

  it('can encode like a real sink so benches include serialisation', async () => {
    const s = new BlackholeSink(blackholeSinkConfig.parse({ type: 'blackhole', encode: 'json' }));
    await deliver(s, [rec(1)]);
    expect(s.stats.bytes).toBe(
      Buffer.byteLength(
        JSON.stringify({
          '@timestamp': 1_700_000_000_001,
          '@message': 'm1',
          '@logStream': 's',
          '@log': '1:g',
          '@id': '1',
        }),
      ),
    );
  });
});
