import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeCloudWatchPayload } from '../aws/cloudwatch-payload.js';
import type { Logger } from '../core/component.js';
import type { DeadLetter, DeadLetterSink } from '../core/dead-letter.js';
import type { Transform } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import type { Encoded, SendResult, Sink } from '../core/sink.js';
import { FileDeadLetterSink } from '../sinks/file.js';
import type { KinesisEventRecord } from './kinesis-event.js';
import { resetConfigCache } from '../config/env.js';
import { registerSecret } from '../core/secrets-registry.js';
import { kinesisLambdaHandler } from '../lambda/kinesis.js';
import { processKinesisEvent } from './kinesis-handler.js';

const ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/logs';
const seq = (n: number) => `4959${String(n).padStart(52, '0')}`;
const gz = (v: object) => encodeCloudWatchPayload(v).toString('base64');

function data(n: number, events: string[], group = '/aws/lambda/orders') {
  return gz({
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: group,
    logStream: '2024/01/01/[$LATEST]abc',
    subscriptionFilters: ['f'],
    logEvents: events.map((m, i) => ({ id: `${n}-${i}`, timestamp: 1700000000000 + i, message: m })),
  });
}
const control = gz({
  messageType: 'CONTROL_MESSAGE',
  owner: 'CloudwatchLogs',
  logGroup: '',
  logStream: '',
  subscriptionFilters: [],
  logEvents: [],
});

/** A gzip payload cut short: malformed in every format (plain text is a record in `auto`). */
const truncated = Buffer.from(data(0, ['plain']), 'base64')
  .subarray(0, 24)
  .toString('base64');

function rec(n: number, payload: string, shard = 'shardId-000000000000'): KinesisEventRecord {
  return {
    eventID: `${shard}:${seq(n)}`,
    eventSourceARN: ARN,
    kinesis: { sequenceNumber: seq(n), partitionKey: 'p', data: payload },
  };
}

/** A sink following the contract whose per-message behaviour is scripted by the message text. */
class ScriptedSink implements Sink<string> {
  readonly type = 'scripted';
  readonly limits = { maxRecords: 3, maxBytes: 1 << 20, maxRecordBytes: 1 << 16, maxAgeMs: 1000 };
  readonly seen: string[] = [];
  constructor(readonly name = 'scripted') {}
  encode(r: LogRecord): Encoded<string> {
    return { record: r, data: r.message, bytes: r.message.length };
  }
  async send(batch: readonly Encoded<string>[]): Promise<SendResult> {
    const problems: SendResult['problems'] = [];
    batch.forEach((e, index) => {
      if (e.data.includes(`fail:${this.name}`))
        problems.push({ index, action: 'retry', code: 'SINK_THROTTLED', reason: '429' });
      else if (e.data.includes('reject'))
        problems.push({ index, action: 'reject', code: 'mapper_parsing_exception', reason: 'bad field' });
      else this.seen.push(e.data);
    });
    return { problems };
  }
}

class MemoryDlq implements DeadLetterSink {
  readonly type = 'memory';
  readonly entries: DeadLetter[] = [];
  constructor(private readonly ok = true) {}
  async put(entries: readonly DeadLetter[]) {
    if (this.ok) this.entries.push(...entries);
    return entries.map(() => this.ok);
  }
}

function capture(): Logger & { lines: { level: string; msg: string; data?: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; data?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, data?: Record<string, unknown>) =>
    lines.push({ level, msg, data });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const fast = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

describe('processKinesisEvent', () => {
  it('delivers good records, drops control messages and dead-letters malformed ones (file DLQ)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-kh-'));
    const sink = new ScriptedSink();
    const dlq = new FileDeadLetterSink(join(dir, 'dlq.ndjson'));
    const log = capture();
    const notGzip = truncated;
    const event = {
      Records: [rec(1, data(1, ['a', 'b'])), rec(2, control), rec(3, notGzip), rec(4, data(4, ['c']))],
    };
    const res = await processKinesisEvent(event, undefined, {
      transforms: [],
      sinks: [sink],
      deadLetter: dlq,
      log,
      retry: fast,
    });
    expect(res.response).toEqual({ batchItemFailures: [] });
    expect(res.envelopes.map((o) => o.kind)).toEqual(['delivered', 'dropped', 'rejected', 'delivered']);
    expect(sink.seen.sort()).toEqual(['a', 'b', 'c']);
    const dl = JSON.parse(readFileSync(join(dir, 'dlq.ndjson'), 'utf8'));
    expect(dl).toMatchObject({
      code: 'ENVELOPE_GZIP_TRUNCATED',
      ackId: seq(3),
      payload: notGzip,
      attempts: 0,
      source: 'kinesis-event',
    });
    expect(res.tally.balanced()).toBe(true);
    // The control message and the malformed envelope count as one record each (same in every home).
    expect(res.tally.total).toMatchObject({ received: 5, delivered: 3, dropped: 1, rejected: 1 });
    expect(res.tally.byGroup.get('(control)')).toMatchObject({ received: 1, dropped: 1 });
    expect(res.tally.byGroup.get('(malformed)')).toMatchObject({ received: 1, rejected: 1 });
    const summary = log.lines.filter((l) => l.msg === 'kinesis batch');
    expect(summary).toHaveLength(1);
    expect(summary[0].data).toMatchObject({
      envelopes: { received: 4, delivered: 2, dropped: 1, rejected: 1, failed: 0 },
      envelopeReasons: { 'dropped:CONTROL_MESSAGE': 1, 'rejected:ENVELOPE_GZIP_TRUNCATED': 1 },
    });
    expect(JSON.stringify(log.lines)).not.toMatch(/"a"|plain/);
  });

  it('reports the earliest failed sequence number per shard when a sink keeps failing', async () => {
    const sink = new ScriptedSink();
    const event = {
      Records: [
        rec(1, data(1, ['ok'])),
        rec(2, data(2, ['ok', 'fail:scripted'])),
        rec(3, data(3, ['fail:scripted'])),
        rec(4, data(4, ['ok'])),
        rec(7, data(7, ['fail:scripted']), 'shardId-000000000001'),
      ],
    };
    const log = capture();
    const res = await processKinesisEvent(event, undefined, {
      transforms: [],
      sinks: [sink],
      log,
      retry: fast,
    });
    expect(res.envelopes.map((o) => o.kind)).toEqual([
      'delivered',
      'failed',
      'failed',
      'delivered',
      'failed',
    ]);
    expect(res.response.batchItemFailures).toEqual([{ itemIdentifier: seq(2) }, { itemIdentifier: seq(7) }]);
    expect(res.tally.total).toMatchObject({ received: 6, delivered: 3, failed: 3 });
    expect(log.lines.at(-1)).toMatchObject({
      level: 'warn',
      data: { recordReasons: { 'failed:SINK_THROTTLED': 3 } },
    });
  });

  it('says why records will be redriven (transport error, secrets redacted, no record contents)', async () => {
    registerSecret('hunter2-qa-secret');
    const down: Sink<string> = {
      type: 'down',
      name: 'down',
      limits: { maxRecords: 10, maxBytes: 1 << 20, maxRecordBytes: 1 << 16, maxAgeMs: 1000 },
      encode: (r) => ({ record: r, data: r.message, bytes: r.message.length }),
      send: async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:9200 as admin:hunter2-qa-secret');
      },
    };
    const throwing: Transform = {
      type: 'boom',
      apply: (r) => {
        if (r.message.includes('explode')) throw new Error(`cannot parse ${r.message}`);
        return r;
      },
    };
    const log = capture();
    await processKinesisEvent(
      { Records: [rec(1, data(1, ['private-line'])), rec(2, data(2, ['explode private-line']))] },
      undefined,
      { transforms: [throwing], sinks: [down], log, retry: fast },
    );
    const summary = log.lines.at(-1);
    expect(summary?.level).toBe('warn');
    const reasons = summary?.data?.failureReasons as Record<string, string>;
    expect(reasons['failed:SINK_UNAVAILABLE']).toMatch(/ECONNREFUSED 127\.0\.0\.1:9200/);
    expect(reasons['failed:TRANSFORM_ERROR']).toBeUndefined();
    expect(JSON.stringify(log.lines)).not.toMatch(/hunter2-qa-secret|private-line/);
  });

  it('does not quote a rejection reason (it may hold record contents) when dead-lettering failed', async () => {
    const log = capture();
    await processKinesisEvent({ Records: [rec(1, data(1, ['reject private-line']))] }, undefined, {
      transforms: [],
      sinks: [new ScriptedSink()],
      deadLetter: new MemoryDlq(false),
      log,
      retry: fast,
    });
    const reasons = log.lines.at(-1)?.data?.failureReasons as Record<string, string>;
    expect(reasons['failed:DEAD_LETTER_UNAVAILABLE']).toBe(
      'rejected (mapper_parsing_exception) and the dead-letter sink did not store it',
    );
  });

  it('sends rejected records to the dead-letter sink, and fails them when it cannot store them', async () => {
    const event = { Records: [rec(1, data(1, ['fine'])), rec(2, data(2, ['reject me']))] };
    const dlq = new MemoryDlq();
    const ok = await processKinesisEvent(event, undefined, {
      transforms: [],
      sinks: [new ScriptedSink()],
      deadLetter: dlq,
      log: capture(),
      retry: fast,
    });
    expect(ok.response.batchItemFailures).toEqual([]);
    expect(dlq.entries).toHaveLength(1);
    expect(dlq.entries[0]).toMatchObject({
      code: 'mapper_parsing_exception',
      id: '2-0',
      ackId: seq(2),
      record: { message: 'reject me' },
    });

    const broken = await processKinesisEvent(event, undefined, {
      transforms: [],
      sinks: [new ScriptedSink()],
      deadLetter: new MemoryDlq(false),
      log: capture(),
      retry: fast,
    });
    expect(broken.response.batchItemFailures).toEqual([{ itemIdentifier: seq(2) }]);
    const noDlq = await processKinesisEvent({ Records: [rec(5, truncated)] }, undefined, {
      transforms: [],
      sinks: [new ScriptedSink()],
      log: capture(),
    });
    expect(noDlq.response.batchItemFailures).toEqual([{ itemIdentifier: seq(5) }]);
    expect(noDlq.envelopes[0]).toMatchObject({ kind: 'failed', code: 'DEAD_LETTER_UNAVAILABLE' });
  });

  it('needs every sink to take a record; counts transform drops', async () => {
    const a = new ScriptedSink('a');
    const b = new ScriptedSink('b');
    const dropDebug: Transform = {
      type: 'filter',
      dropCode: 'FILTERED',
      apply: (r) => (r.message.startsWith('debug') ? null : r),
    };
    const event = {
      Records: [
        rec(1, data(1, ['x', 'debug y'])),
        rec(2, data(2, ['fail:b'])),
        rec(3, data(3, ['debug only'])),
      ],
    };
    const res = await processKinesisEvent(event, undefined, {
      transforms: [dropDebug],
      sinks: [a, b],
      log: capture(),
      retry: fast,
    });
    expect(a.seen).toEqual(expect.arrayContaining(['x', 'fail:b']));
    expect(res.envelopes.map((o) => [o.kind, o.code])).toEqual([
      ['dropped', 'FILTERED'],
      ['failed', 'SINK_THROTTLED'],
      ['dropped', 'FILTERED'],
    ]);
    expect(res.response.batchItemFailures).toEqual([{ itemIdentifier: seq(2) }]);
    expect(res.tally.total).toEqual({ received: 4, delivered: 1, dropped: 2, rejected: 0, failed: 1 });
  });

  it('stops retrying before the Lambda deadline and reports the rest failed', async () => {
    const end = Date.now() + 1_500;
    const context = { getRemainingTimeInMillis: () => end - Date.now(), awsRequestId: 'req-1' };
    const slow: Sink<string> = {
      type: 'slow',
      name: 'slow',
      limits: { maxRecords: 1, maxBytes: 1 << 20, maxRecordBytes: 1 << 16, maxAgeMs: 1000 },
      encode: (r) => ({ record: r, data: r.message, bytes: 1 }),
      send: async (_b, ctx) => {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 60_000);
          ctx.signal?.addEventListener('abort', () => {
            clearTimeout(t);
            resolve();
          });
        });
        throw new Error('socket hang up');
      },
    };
    const t0 = Date.now();
    const res = await processKinesisEvent({ Records: [rec(1, data(1, ['a', 'b']))] }, context, {
      transforms: [],
      sinks: [slow],
      log: capture(),
      safetyMs: 500,
      retry: { maxAttempts: 100, baseDelayMs: 50, maxDelayMs: 100 },
    });
    expect(Date.now() - t0).toBeLessThan(1_400);
    expect(res.response.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
    expect(res.envelopes[0].kind).toBe('failed');
  });
});

describe('kinesisLambdaHandler (start-up from the environment)', () => {
  it('runs a named graph from LOGFERRY_CONFIG: the event is the configured kinesis source', async () => {
    resetConfigCache();
    const dir = mkdtempSync(join(tmpdir(), 'lf-kh-'));
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string) => lines.push(String(c)) > 0) as typeof process.stdout.write;
    try {
      const handler = kinesisLambdaHandler({
        env: {
          LOGFERRY_CONFIG: [
            'sources:',
            `  eks: { type: kinesis, stream: cwl-eks, tag: kube.audit, checkpointPath: ${dir}/cp.json }`,
            'transforms:',
            '  fields: { type: parse, parser: { type: logfmt }, inputs: [eks] }',
            'sinks:',
            `  archive: { type: s3, url: "file://${dir}/archive", format: ndjson }`,
            `  parsed: { type: s3, url: "file://${dir}/parsed", format: ndjson, inputs: [fields] }`,
            `  kube: { type: s3, url: "file://${dir}/kube", format: ndjson, match: "kube.*" }`,
            `deadLetter: { type: file, path: ${dir}/dlq.ndjson }`,
          ].join('\n'),
          LOGFERRY_MASK: 'false',
        },
      });
      const res = await handler(
        { Records: [rec(1, data(1, ['level=info msg=a', 'level=warn msg=b']))] },
        { getRemainingTimeInMillis: () => 60_000 },
      );
      expect(res).toEqual({ batchItemFailures: [] });
    } finally {
      process.stdout.write = write;
      resetConfigCache();
    }
    const docs = (sub: string) => {
      const files = readdirSync(join(dir, sub), { recursive: true, withFileTypes: true }).filter((f) =>
        f.isFile(),
      );
      return files.flatMap((f) =>
        gunzipSync(readFileSync(join(f.parentPath, f.name)))
          .toString('utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      );
    };
    expect(docs('archive')).toHaveLength(2);
    expect(docs('kube')).toHaveLength(2);
    expect(
      docs('parsed')
        .map((d) => d.level)
        .sort(),
    ).toEqual(['info', 'warn']);
    expect(docs('archive').every((d) => d.level === undefined)).toBe(true);
    expect(existsSync(join(dir, 'cp.json'))).toBe(false);
    const summary = JSON.parse(lines.find((l) => l.includes('"msg":"kinesis batch"')) ?? '{}');
    expect(summary.records).toMatchObject({ received: 2, delivered: 2 });
  });

  it('refuses to start without a sink, and retries the start on the next invocation', async () => {
    resetConfigCache();
    const handler = kinesisLambdaHandler({ env: {} });
    await expect(handler({ Records: [rec(1, data(1, ['a']))] })).rejects.toThrow(/no sink configured/);
    await expect(handler({ Records: [] })).rejects.toThrow(/no sink configured/);
    resetConfigCache();
  });

  it('builds sinks and the dead-letter sink from LOGFERRY_CONFIG and shorthands, then answers batches', async () => {
    resetConfigCache();
    const dir = mkdtempSync(join(tmpdir(), 'lf-kh-'));
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string) => lines.push(String(c)) > 0) as typeof process.stdout.write;
    try {
      const handler = kinesisLambdaHandler({
        env: {
          LOGFERRY_CONFIG: 'sinks:\n  - type: blackhole\n',
          LOGFERRY_DLQ: `file://${dir}/dlq.ndjson`,
          LOGFERRY_MASK: 'false',
        },
      });
      const res = await handler(
        { Records: [rec(1, data(1, ['a', 'b'])), rec(2, truncated)] },
        { getRemainingTimeInMillis: () => 60_000 },
      );
      expect(res).toEqual({ batchItemFailures: [] });
    } finally {
      process.stdout.write = write;
      resetConfigCache();
    }
    expect(JSON.parse(readFileSync(join(dir, 'dlq.ndjson'), 'utf8'))).toMatchObject({
      code: 'ENVELOPE_GZIP_TRUNCATED',
      ackId: seq(2),
    });
    const ready = JSON.parse(lines.find((l) => l.includes('kinesis handler ready')) ?? '{}');
    expect(ready).toMatchObject({ sinks: ['blackhole'], deadLetter: 'file', transforms: ['parse'] });
    const summary = JSON.parse(lines.find((l) => l.includes('"msg":"kinesis batch"')) ?? '{}');
    expect(summary).toMatchObject({
      level: 'info',
      records: { received: 3, delivered: 2, rejected: 1 },
      envelopes: { rejected: 1 },
      // The same counters as CloudWatch EMF in the one summary line.
      records_received: 3,
      records_delivered: 2,
      records_rejected: 1,
      _aws: { CloudWatchMetrics: [{ Namespace: 'logferry', Dimensions: [['handler']] }] },
    });
  });
});

describe('deadline margin', () => {
  it('keeps back at most a quarter of a short invocation, so a 3 s function still delivers', async () => {
    const end = Date.now() + 3_000;
    const sink = new ScriptedSink();
    const res = await processKinesisEvent(
      { Records: [rec(1, data(1, ['a']))] },
      { getRemainingTimeInMillis: () => end - Date.now() },
      {
        transforms: [],
        sinks: [sink],
        log: capture(),
      },
    );
    expect(res.response.batchItemFailures).toEqual([]);
    expect(sink.seen).toEqual(['a']);
  });
});
