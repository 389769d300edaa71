import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.js';
import { bufferConfig } from './config.js';

describe('sink buffer config', () => {
  it('parses sizes and defaults', () => {
    expect(bufferConfig.parse({ type: 'disk', maxBytes: '1GiB' })).toEqual({
      type: 'disk',
      maxBytes: 1024 ** 3,
      whenFull: 'block',
    });
    expect(bufferConfig.parse({ type: 'disk', path: '/mnt/fast/buf', maxBytes: 2 ** 30 })).toMatchObject({
      path: '/mnt/fast/buf',
    });
    expect(bufferConfig.safeParse({ type: 'disk', maxBytes: 1000 }).success).toBe(false); // below 1MiB
    expect(bufferConfig.parse({ type: 'memory', maxBytes: '10MB', maxRecords: 500 })).toEqual({
      type: 'memory',
      maxBytes: 10_000_000,
      maxRecords: 500,
    });
  });

  it('is validated with the config, every problem with its path; dataDir and shutdown are top-level keys', () => {
    const ok = validateConfig({
      dataDir: '/var/lib/logferry',
      shutdown: { drainTimeout: '45s' },
      sources: { d: { type: 'demo' } },
      sinks: {
        a: { type: 'blackhole', buffer: { type: 'disk', maxBytes: '64MiB', whenFull: 'drop_newest' } },
        b: { type: 'blackhole' },
      },
    });
    expect(ok.dataDir).toBe('/var/lib/logferry');
    expect(ok.shutdown?.drainTimeout).toBe(45_000);
    expect(ok.sinkBuffers).toEqual({
      a: { type: 'disk', maxBytes: 64 * 1024 ** 2, whenFull: 'drop_newest' },
    });
    expect(() =>
      validateConfig({
        shutdown: { drainTimeout: 'soon' },
        sources: { d: { type: 'demo', buffer: { type: 'disk' } } },
        sinks: {
          a: { type: 'blackhole', buffer: { type: 'tape' } },
          b: { type: 'blackhole', buffer: { type: 'disk', maxBytes: '12 parsecs', whenFull: 'panic' } },
        },
      }),
    ).toThrow(
      /shutdown\.drainTimeout: expected a duration[\s\S]*sources\.d\.buffer: only sinks have a buffer[\s\S]*sinks\.a\.buffer[\s\S]*sinks\.b\.buffer\.maxBytes: expected a size[\s\S]*sinks\.b\.buffer\.whenFull/,
    );
  });
});
