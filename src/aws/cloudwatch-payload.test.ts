import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  controlMessage,
  decodeBase64Payload,
  decodeGzipPayload,
  encodeCloudWatchPayload,
  gunzipOptions,
  toRecords,
} from './cloudwatch-payload.js';

const data = {
  messageType: 'DATA_MESSAGE',
  owner: '123456789012',
  logGroup: '/aws/eks/prod/cluster',
  logStream: 'kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329',
  subscriptionFilters: ['to-firehose'],
  logEvents: [{ id: '3719', timestamp: 1700000000123, message: '{"verb":"get"}' }],
  policyLevel: 'ACCOUNT_LEVEL_POLICY',
};
const b64 = (v: object | string) => encodeCloudWatchPayload(v).toString('base64');

describe('encodeCloudWatchPayload', () => {
  it('gzips the JSON text as CloudWatch sends it, and the decoder reads it back', () => {
    const gz = encodeCloudWatchPayload(data);
    expect(gz.equals(gzipSync(Buffer.from(JSON.stringify(data))))).toBe(true);
    expect(gunzipSync(gz).toString('utf8')).toBe(JSON.stringify(data));
    const r = decodeGzipPayload(gz);
    expect(r.ok && r.message).toEqual(data);
    // A string is the JSON text itself (so tests can build malformed payloads).
    expect(gunzipSync(encodeCloudWatchPayload('not json')).toString('utf8')).toBe('not json');
  });

  it('builds the health-check CONTROL_MESSAGE CloudWatch sends to a destination', () => {
    expect(controlMessage(1)).toEqual({
      messageType: 'CONTROL_MESSAGE',
      owner: 'CloudwatchLogs',
      logGroup: '',
      logStream: '',
      subscriptionFilters: [],
      logEvents: [
        { id: '', timestamp: 1, message: 'CWL CONTROL MESSAGE: Checking health of destination Firehose.' },
      ],
    });
    expect(controlMessage(7, 'Kinesis stream').logEvents).toEqual([
      {
        id: '',
        timestamp: 7,
        message: 'CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.',
      },
    ]);
  });
});

describe('decodeBase64Payload', () => {
  it('decodes a DATA_MESSAGE and tolerates extra fields', () => {
    const r = decodeBase64Payload(b64(data));
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.messageType !== 'DATA_MESSAGE') throw new Error('not data');
    expect(r.message.policyLevel).toBe('ACCOUNT_LEVEL_POLICY');
    const recs = toRecords(r.message, 'test', 'ack-1');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      timestamp: 1700000000123,
      message: '{"verb":"get"}',
      meta: { id: '3719', ackId: 'ack-1' },
    });
  });

  it('accepts base64 wrapped over lines', () => {
    expect(decodeBase64Payload(b64(data).replace(/(.{76})/g, '$1\n')).ok).toBe(true);
  });

  it('recognises control messages', () => {
    const r = decodeBase64Payload(b64(controlMessage(1)));
    expect(r.ok && r.message.messageType).toBe('CONTROL_MESSAGE');
  });

  const full = encodeCloudWatchPayload(data);
  const cases: [string, string | undefined, string][] = [
    ['empty', '', 'ENVELOPE_EMPTY'],
    ['missing', undefined, 'ENVELOPE_EMPTY'],
    ['bad base64', 'not*base64!', 'ENVELOPE_BAD_BASE64'],
    ['bad base64, length a multiple of 4', `${b64(data).slice(0, -4)}!!!!`, 'ENVELOPE_BAD_BASE64'],
    ['base64url alphabet', b64(data).replace(/\+/g, '-').replace(/\//g, '_'), 'ENVELOPE_BAD_BASE64'],
    ['not gzip', Buffer.from('hello world').toString('base64'), 'ENVELOPE_NOT_GZIP'],
    ['truncated gzip', full.subarray(0, full.length - 12).toString('base64'), 'ENVELOPE_GZIP_TRUNCATED'],
    [
      'corrupt gzip',
      Buffer.concat([full.subarray(0, 10), Buffer.alloc(40, 0xff)]).toString('base64'),
      'ENVELOPE_GZIP_CORRUPT',
    ],
    ['gzip of non-JSON', b64('this is not json'), 'ENVELOPE_NOT_JSON'],
    [
      'invalid UTF-8',
      gzipSync(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])).toString('base64'),
      'ENVELOPE_INVALID_UTF8',
    ],
    ['unknown messageType', b64({ ...data, messageType: 'SURPRISE' }), 'ENVELOPE_UNKNOWN_TYPE'],
    ['no logEvents', b64({ ...data, logEvents: undefined }), 'ENVELOPE_BAD_SHAPE'],
    ['event without message', b64({ ...data, logEvents: [{ id: '1', timestamp: 1 }] }), 'ENVELOPE_BAD_SHAPE'],
    ['JSON array', b64([1, 2]), 'ENVELOPE_BAD_SHAPE'],
    ['gzip of nothing', gzipSync(Buffer.alloc(0)).toString('base64'), 'ENVELOPE_EMPTY'],
  ];
  it.each(cases)('refuses %s with a stable code', (_name, input, code) => {
    const r = decodeBase64Payload(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.reason.length).toBeGreaterThan(5);
    }
  });

  it('refuses gzip bombs past the decoded limit', () => {
    const r = decodeBase64Payload(gzipSync(Buffer.alloc(5_000_000, 0x20)).toString('base64'), {
      maxDecodedBytes: 1_000_000,
    });
    expect(r.ok ? 'ok' : r.code).toBe('ENVELOPE_TOO_LARGE');
  });
});

describe('gunzip size hint (gzip trailer ISIZE)', () => {
  const big = {
    ...data,
    logEvents: Array.from({ length: 400 }, (_, i) => ({
      id: String(i),
      timestamp: 1700000000000 + i,
      message: `line ${i} ${'x'.repeat(i % 50)}`,
    })),
  };
  const withTrailer = (gz: Buffer, isize: number) => {
    const b = Buffer.from(gz);
    b.writeUInt32LE(isize >>> 0, b.length - 4);
    return b;
  };

  it('sizes the one output chunk from the trailer, bounded by maxDecodedBytes', () => {
    const gz = encodeCloudWatchPayload(big);
    const n = gunzipSync(gz).length;
    expect(gunzipOptions(gz, {}).chunkSize).toBe(n + 1);
    expect(gunzipOptions(gz, { maxDecodedBytes: n - 1 }).chunkSize).toBe(256 * 1024);
    expect(gunzipOptions(Buffer.from([0x1f, 0x8b]), {}).chunkSize).toBe(256 * 1024);
  });

  it('decodes the same message whatever the trailer claims (a hint, never trusted)', () => {
    const gz = encodeCloudWatchPayload(big);
    // A lying trailer fails zlib's own length check: refused as corrupt, never mis-decoded.
    for (const isize of [0, 1, 100, 0xffffffff]) {
      const r = decodeGzipPayload(withTrailer(gz, isize));
      expect(r.ok).toBe(false);
    }
    // Concatenated gzip members (the trailer is the last member's): decoded whole.
    const half = Math.floor(JSON.stringify(big).length / 2);
    const text = JSON.stringify(big);
    const multi = Buffer.concat([gzipSync(text.slice(0, half)), gzipSync(text.slice(half))]);
    const r = decodeGzipPayload(multi);
    expect(r.ok && r.message).toEqual(big);
    // A trailer under maxDecodedBytes does not lift the bound on the real output.
    const bounded = decodeGzipPayload(gz, { maxDecodedBytes: 1000 });
    expect(bounded.ok === false && bounded.code).toBe('ENVELOPE_TOO_LARGE');
  });
});
