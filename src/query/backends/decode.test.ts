import { describe, expect, it } from 'vitest';
import { decodeLine, toEpochMs } from './decode.js';
import { parseObjectKey } from './partition-path.js';

const AUDIT_KEY = parseObjectKey(
  '_aws_eks_prod_cluster/kube-apiserver-audit/kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329/x-2026-11-22-09-05-07-ab.gz',
);
const DEFAULT_KEY = parseObjectKey('default/x-2026-11-22-09-05-07-ab.gz');

describe('decodeLine (ndjson documents)', () => {
  it('keeps epoch ms, normalises ISO times, and parses a JSON message when the fields are absent', () => {
    const msg = JSON.stringify({
      verb: 'patch',
      objectRef: { resource: 'configmaps', name: 'aws-auth' },
      '@message': 'evil',
    });
    const row = decodeLine(
      JSON.stringify({
        '@timestamp': '2026-11-22T09:05:06.123Z',
        '@message': msg,
        '@logStream': 's',
        '@log': '1:/g',
      }),
      DEFAULT_KEY,
    );
    expect(row?.['@timestamp']).toBe(Date.UTC(2026, 10, 22, 9, 5, 6, 123));
    expect(row?.verb).toBe('patch');
    expect(row?.objectRef).toEqual({ resource: 'configmaps', name: 'aws-auth' });
    expect(row?.['@message']).toBe(msg); // a system field is never overridden
  });
  it('does not parse the message again when parsed fields are present', () => {
    const row = decodeLine(
      JSON.stringify({
        '@timestamp': 1,
        '@message': '{"verb":"get","extra":1}',
        verb: 'get',
        '@logStream': 's',
      }),
      DEFAULT_KEY,
    );
    expect(row?.extra).toBeUndefined();
  });
});

describe('decodeLine (raw lines)', () => {
  it('takes @logStream/@log from the partition path and the time from a JSON audit event', () => {
    const line = JSON.stringify({
      kind: 'Event',
      verb: 'delete',
      requestReceivedTimestamp: '2026-11-22T09:04:59.000001Z',
    });
    const row = decodeLine(line, AUDIT_KEY);
    expect(row).toMatchObject({
      '@message': line,
      '@logStream': 'kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329',
      '@log': '/aws/eks/prod/cluster',
      '@timestamp': Date.UTC(2026, 10, 22, 9, 4, 59),
      verb: 'delete',
    });
  });
  it('reads klog headers (year from the key) and leading ISO times, else the key time', () => {
    expect(
      decodeLine('I1122 09:01:02.345678       1 controller.go:42] synced', AUDIT_KEY)?.['@timestamp'],
    ).toBe(Date.UTC(2026, 10, 22, 9, 1, 2, 345));
    expect(decodeLine('2026-11-22T08:00:00.5Z level=info msg=hi', DEFAULT_KEY)?.['@timestamp']).toBe(
      Date.UTC(2026, 10, 22, 8, 0, 0, 500),
    );
    expect(decodeLine('time="x" level=info msg="access denied"', DEFAULT_KEY)?.['@timestamp']).toBe(
      Date.UTC(2026, 10, 22, 9, 5, 7),
    );
  });
  it('skips blank lines and treats broken JSON as a raw message', () => {
    expect(decodeLine('', DEFAULT_KEY)).toBeUndefined();
    expect(decodeLine('   ', DEFAULT_KEY)).toBeUndefined();
    expect(decodeLine('{"@message": broken', DEFAULT_KEY)?.['@message']).toBe('{"@message": broken');
  });
});

describe('toEpochMs', () => {
  it('accepts epoch seconds/ms, ISO with µs, and rejects junk', () => {
    expect(toEpochMs(1763802000)).toBe(1763802000000);
    expect(toEpochMs(1763802000123)).toBe(1763802000123);
    expect(toEpochMs('2026-11-22T09:04:59.123456Z')).toBe(Date.UTC(2026, 10, 22, 9, 4, 59, 123));
    expect(toEpochMs('2026-11-22 09:04:59Z')).toBe(Date.UTC(2026, 10, 22, 9, 4, 59));
    expect(Number.isNaN(toEpochMs('soon'))).toBe(true);
  });
});
