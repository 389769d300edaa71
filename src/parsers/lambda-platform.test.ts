import { describe, expect, it } from 'vitest';
import { isParseFailure } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { createLambdaPlatformParser, LAMBDA_MB_BYTES } from './lambda-platform.js';

const rec = { timestamp: 0, message: '', fields: {}, meta: {} } as unknown as LogRecord;
const RID = 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef';

describe('lambda-platform parser', () => {
  const p = createLambdaPlatformParser();

  it('START and END lines', () => {
    expect(p.parse(`START RequestId: ${RID} Version: $LATEST\n`, rec)).toEqual({
      '@type': 'START',
      '@requestId': RID,
    });
    expect(p.parse(`END RequestId: ${RID}\n`, rec)).toEqual({ '@type': 'END', '@requestId': RID });
  });

  it('REPORT line with cold start → Logs Insights fields and units', () => {
    const msg = `REPORT RequestId: ${RID}\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tInit Duration: 150.1 ms\t\n`;
    expect(p.parse(msg, rec)).toEqual({
      '@type': 'REPORT',
      '@requestId': RID,
      '@duration': 102.25,
      '@billedDuration': 103,
      '@memorySize': 128_000_000,
      '@maxMemoryUsed': 70_000_000,
      '@initDuration': 150.1,
    });
    expect(LAMBDA_MB_BYTES).toBe(1_000_000);
  });

  it('REPORT line with X-Ray, warm start, SnapStart and status extras', () => {
    const msg = `REPORT RequestId: ${RID}\tDuration: 2.16 ms\tBilled Duration: 3 ms\tMemory Size: 1024 MB\tMax Memory Used: 88 MB\tRestore Duration: 300.5 ms\tBilled Restore Duration: 120 ms\tStatus: timeout\t\nXRAY TraceId: 1-5e4f6f3e-a7b8c9d0e1f2a3b4c5d6e7f8\tSegmentId: 3f2e1d0c9b8a7f6e\tSampled: true\t\n`;
    expect(p.parse(msg, rec)).toEqual({
      '@type': 'REPORT',
      '@requestId': RID,
      '@duration': 2.16,
      '@billedDuration': 3,
      '@memorySize': 1_024_000_000,
      '@maxMemoryUsed': 88_000_000,
      '@xrayTraceId': '1-5e4f6f3e-a7b8c9d0e1f2a3b4c5d6e7f8',
      '@xraySegmentId': '3f2e1d0c9b8a7f6e',
    });
  });

  it('JSON log format platform events', () => {
    const start = `{"time":"2024-01-01T00:00:00.000Z","type":"platform.start","record":{"requestId":"${RID}","version":"$LATEST"}}`;
    expect(p.parse(start, rec)).toMatchObject({
      '@type': 'START',
      '@requestId': RID,
      type: 'platform.start',
    });
    const report = JSON.stringify({
      time: '2024-01-01T00:00:01.000Z',
      type: 'platform.report',
      record: {
        requestId: RID,
        metrics: {
          durationMs: 102.25,
          billedDurationMs: 103,
          memorySizeMB: 128,
          maxMemoryUsedMB: 70,
          initDurationMs: 150.1,
        },
        tracing: {
          spanId: '3f2e1d0c9b8a7f6e',
          type: 'X-Amzn-Trace-Id',
          value: 'Root=1-5e4f6f3e-a7b8c9d0e1f2a3b4c5d6e7f8;Parent=1111;Sampled=1',
        },
        status: 'success',
      },
    });
    expect(p.parse(report, rec)).toMatchObject({
      '@type': 'REPORT',
      '@requestId': RID,
      '@duration': 102.25,
      '@billedDuration': 103,
      '@memorySize': 128_000_000,
      '@maxMemoryUsed': 70_000_000,
      '@initDuration': 150.1,
      '@xrayTraceId': '1-5e4f6f3e-a7b8c9d0e1f2a3b4c5d6e7f8',
      '@xraySegmentId': '3f2e1d0c9b8a7f6e',
      record: { status: 'success' },
    });
    const done = `{"time":"2024-01-01T00:00:01.000Z","type":"platform.runtimeDone","record":{"requestId":"${RID}","status":"success"}}`;
    expect(p.parse(done, rec)).toMatchObject({ '@type': 'END', '@requestId': RID });
  });

  it('Node.js text runtime line, with a JSON payload', () => {
    const msg = `2024-03-05T10:11:12.345Z\t${RID}\tINFO\t{"orderId":"o-1","amount":42,"nested":{"a":[1,2]}}\n`;
    expect(p.parse(msg, rec)).toEqual({
      '@requestId': RID,
      level: 'info',
      orderId: 'o-1',
      amount: 42,
      nested: { a: [1, 2] },
    });
  });

  it('Node.js text runtime line, plain message; a payload level wins', () => {
    expect(
      p.parse(`2024-03-05T10:11:12.345Z\t${RID}\tERROR\tInvoke Error \t{"errorType":"Error"`, rec),
    ).toEqual({
      '@requestId': RID,
      level: 'error',
    });
    expect(p.parse(`2024-03-05T10:11:12.345Z\t${RID}\tWARN\t{"level":"custom"}`, rec)).toEqual({
      '@requestId': RID,
      level: 'custom',
    });
    expect(p.parse('2024-03-05T10:11:12.345Z\tundefined\tINFO\tLoading function', rec)).toEqual({
      level: 'info',
    });
  });

  it('Python runtime line', () => {
    const msg = `[WARNING]\t2024-03-05T10:11:12.345Z\t${RID}\tretrying call`;
    expect(p.parse(msg, rec)).toEqual({ '@requestId': RID, level: 'warning' });
  });

  it('JSON log format application line', () => {
    const msg = `{"timestamp":"2024-03-05T10:11:12.345Z","level":"INFO","requestId":"${RID}","message":"hello"}`;
    expect(p.parse(msg, rec)).toEqual({
      timestamp: '2024-03-05T10:11:12.345Z',
      level: 'INFO',
      requestId: RID,
      message: 'hello',
      '@requestId': RID,
    });
  });

  it('fails on other lines without throwing', () => {
    for (const m of [
      'INIT_START Runtime Version: nodejs:22.v10\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc',
      'hello from print()',
      '',
      '{"broken":',
      '2024-03-05 not a runtime line',
      '[INFO] not tabbed',
    ]) {
      expect(isParseFailure(p.parse(m, rec)), m).toBe(true);
    }
  });
});

describe('lambda-platform REPORT tolerance', () => {
  it('reads REPORT parts separated by spaces as well as tabs', () => {
    const msg = `REPORT RequestId: ${RID} Duration: 12.30 ms Billed Duration: 13 ms Memory Size: 512 MB Max Memory Used: 99 MB\n`;
    expect(createLambdaPlatformParser().parse(msg, rec)).toEqual({
      '@type': 'REPORT',
      '@requestId': RID,
      '@duration': 12.3,
      '@billedDuration': 13,
      '@memorySize': 512_000_000,
      '@maxMemoryUsed': 99_000_000,
    });
  });
});
