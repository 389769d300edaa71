import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controlMessage, type DataMessage, encodeCloudWatchPayload } from '../aws/cloudwatch-payload.js';
import { resetConfigCache } from '../config/env.js';
import type { DeadLetter, DeadLetterSink } from '../core/dead-letter.js';
import { silentLogger } from '../core/logger.js';
import type { LogRecord } from '../core/record.js';
import type { Encoded, SendResult, Sink } from '../core/sink.js';
import { subscriptionLambdaHandler } from '../lambda/subscription.js';
import { DemoGenerator } from './demo.js';
import {
  handleSubscriptionEvent,
  processSubscriptionEvent,
  type SubscriptionEvent,
} from './subscription-handler.js';

const fast = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 };
const ev = (m: object | string): SubscriptionEvent => ({
  awslogs: { data: encodeCloudWatchPayload(m).toString('base64') },
});

/** Stores records by id; rejects messages containing `reject`; fails (retriable) while `down`. */
class MemorySink implements Sink<LogRecord> {
  readonly type = 'memory';
  readonly name = 'mem';
  readonly limits = { maxRecords: 7, maxBytes: 1 << 20, maxRecordBytes: 1 << 18, maxAgeMs: 1000 };
  readonly stored = new Map<string, string>();
  sends = 0;
  down = false;
  encode(r: LogRecord): Encoded<LogRecord> {
    return { record: r, data: r, bytes: r.message.length };
  }
  async send(batch: readonly Encoded<LogRecord>[]): Promise<SendResult> {
    this.sends += batch.length;
    const problems: SendResult['problems'] = [];
    batch.forEach((e, index) => {
      if (e.data.message.includes('reject'))
        problems.push({ index, action: 'reject', code: 'mapper_parsing_exception', reason: 'bad field' });
      else if (this.down && e.data.message.includes('ERROR'))
        problems.push({ index, action: 'retry', code: 'SINK_UNAVAILABLE', reason: '503' });
      // Keyed like OpenSearch's _id: a redelivered record overwrites itself.
      else
        this.stored.set(
          `${e.data.meta.logGroup}\0${e.data.meta.logStream}\0${e.data.meta.id}`,
          e.data.message,
        );
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

function deps(sink: MemorySink, dlq?: DeadLetterSink) {
  return { transforms: [], sinks: [sink], deadLetter: dlq, log: silentLogger, retry: fast };
}

describe('CloudWatch Logs subscription handler', () => {
  it('delivers realistic payloads (EKS, Lambda, ECS) with the CloudWatch event ids and provenance', async () => {
    const gen = new DemoGenerator({ seed: 3, eventsPerEnvelope: 30, controlEvery: 0 });
    const sink = new MemorySink();
    let events = 0;
    for (let i = 0; i < 12; i++) {
      const m = gen.nextMessage() as DataMessage;
      events += m.logEvents.length;
      const res = await handleSubscriptionEvent(ev(m), undefined, deps(sink, new MemoryDlq()));
      expect(res.envelopes.map((o) => o.kind)).toEqual(['delivered']);
      for (const e of m.logEvents)
        expect(sink.stored.get(`${m.logGroup}\0${m.logStream}\0${e.id}`)).toBe(e.message);
    }
    expect(sink.stored.size).toBe(events);
  });

  it('resolves when a sink rejects (the record is dead-lettered, final) and counts a control message', async () => {
    const sink = new MemorySink();
    const dlq = new MemoryDlq();
    const msg: DataMessage = {
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup: '/aws/lambda/orders',
      logStream: '2026/12/05/[$LATEST]abc',
      subscriptionFilters: ['to-lambda'],
      logEvents: [
        { id: '1', timestamp: 1_764_950_000_000, message: 'ok one' },
        { id: '2', timestamp: 1_764_950_000_001, message: 'please reject me' },
      ],
    };
    const res = await handleSubscriptionEvent(ev(msg), undefined, deps(sink, dlq));
    expect(res.envelopes[0].kind).toBe('rejected');
    expect([...sink.stored.values()]).toEqual(['ok one']);
    expect(dlq.entries).toHaveLength(1);
    expect(dlq.entries[0]).toMatchObject({
      code: 'mapper_parsing_exception',
      logGroup: '/aws/lambda/orders',
      id: '2',
    });
    expect(res.tally.balanced()).toBe(true);

    const ctl = await handleSubscriptionEvent(
      ev(controlMessage(1_764_950_000_000, 'Lambda')),
      undefined,
      deps(sink, dlq),
    );
    expect(ctl.envelopes[0]).toMatchObject({ kind: 'dropped', code: 'CONTROL_MESSAGE' });
    expect(ctl.tally.total).toMatchObject({ received: 1, dropped: 1 });
    expect(ctl.tally.byGroup.get('(control)')).toMatchObject({ received: 1, dropped: 1 });
  });

  it('throws while a sink keeps failing; the retried event completes without duplicates', async () => {
    const sink = new MemorySink();
    sink.down = true;
    const msg: DataMessage = {
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup: '/ecs/checkout',
      logStream: 'ecs/app/0f1e2d',
      subscriptionFilters: ['f'],
      logEvents: [
        { id: '38000000000000000000000000000000000000000000000001', timestamp: 1, message: 'INFO fine' },
        { id: '38000000000000000000000000000000000000000000000002', timestamp: 2, message: 'ERROR boom' },
      ],
    };
    const d = deps(sink, new MemoryDlq());
    await expect(handleSubscriptionEvent(ev(msg), undefined, d)).rejects.toThrow(
      /1 of 2 records were not delivered \(SINK_UNAVAILABLE\).*Lambda retries/,
    );
    // Partial failure: the delivered record is already stored …
    expect([...sink.stored.values()]).toEqual(['INFO fine']);
    sink.down = false;
    // … and Lambda's retry sends both again: same ids, so the store still holds each once.
    const res = await handleSubscriptionEvent(ev(msg), undefined, d);
    expect(res.envelopes[0].kind).toBe('delivered');
    expect(sink.stored.size).toBe(2);
    expect(sink.sends).toBeGreaterThanOrEqual(4);
  });

  it('dead-letters malformed data with its code and resolves; without a dead-letter store it throws', async () => {
    const good = encodeCloudWatchPayload({
      messageType: 'DATA_MESSAGE',
      logGroup: 'g',
      logStream: 's',
      logEvents: [],
    });
    const cases: [SubscriptionEvent, string][] = [
      [{ awslogs: { data: '@@not base64@@' } }, 'ENVELOPE_BAD_BASE64'],
      [
        { awslogs: { data: good.subarray(0, good.length - 6).toString('base64') } },
        'ENVELOPE_GZIP_TRUNCATED',
      ],
      [{ awslogs: { data: Buffer.from('plain text').toString('base64') } }, 'ENVELOPE_NOT_GZIP'],
      [ev('not json'), 'ENVELOPE_NOT_JSON'],
      [{ hello: 'world' } as SubscriptionEvent, 'ENVELOPE_EMPTY'],
    ];
    for (const [event, code] of cases) {
      const sink = new MemorySink();
      const dlq = new MemoryDlq();
      const res = await handleSubscriptionEvent(event, undefined, deps(sink, dlq));
      expect(res.envelopes[0]).toMatchObject({ kind: 'rejected', code });
      expect(dlq.entries).toHaveLength(1);
      expect(dlq.entries[0]).toMatchObject({ code, source: 'subscription' });
      expect(dlq.entries[0].payload).toBeTruthy();
      expect(res.tally.byGroup.get('(malformed)')).toMatchObject({ received: 1, rejected: 1 });
      const unstored = await processSubscriptionEvent(event, undefined, deps(sink, new MemoryDlq(false)));
      expect(unstored.answer.failed).toBe(1);
      await expect(
        handleSubscriptionEvent(event, undefined, deps(sink, new MemoryDlq(false))),
      ).rejects.toThrow(/not delivered/);
    }
  });

  it('the Lambda export builds sinks from the environment and writes one summary line', async () => {
    resetConfigCache();
    const dir = mkdtempSync(join(tmpdir(), 'lf-sub-'));
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((c: string) => lines.push(String(c)) > 0) as typeof process.stdout.write;
    try {
      const handler = subscriptionLambdaHandler({
        env: {
          LOGFERRY_CONFIG: 'sinks:\n  - type: blackhole\n',
          LOGFERRY_DLQ: `file://${dir}/dlq.ndjson`,
        },
      });
      const gen = new DemoGenerator({ seed: 9, eventsPerEnvelope: 5, controlEvery: 0 });
      await handler(ev(gen.nextMessage()), { getRemainingTimeInMillis: () => 60_000 });
      await handler({ awslogs: { data: 'bm90IGd6aXA=' } }, { getRemainingTimeInMillis: () => 60_000 });
    } finally {
      process.stdout.write = write;
      resetConfigCache();
    }
    expect(JSON.parse(readFileSync(join(dir, 'dlq.ndjson'), 'utf8'))).toMatchObject({
      code: 'ENVELOPE_NOT_GZIP',
    });
    const summaries = lines.filter((l) => l.includes('"msg":"subscription batch"')).map((l) => JSON.parse(l));
    expect(summaries).toHaveLength(2);
    expect(summaries[0]).toMatchObject({ records: { received: 5, delivered: 5 }, handler: 'subscription' });
    expect(summaries[1]).toMatchObject({ records: { received: 1, rejected: 1 } });
  });
});
