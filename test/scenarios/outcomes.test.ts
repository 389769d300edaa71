/**
 * One outcome semantics in every home. The same scenarios — a throwing transform, a record no route
 * takes, a control message, each malformed envelope kind, a transform that splits one record into
 * three, a sink that rejects, a sink that times out — run through the daemon runner, the Kinesis
 * handler and the Firehose handler, with the same payloads, transforms, sink and dead-letter store.
 * Each home must settle every record the same way (the table in docs/architecture.md), keep
 * received = delivered + dropped + rejected + failed per log group, and answer its upstream
 * accordingly (ack outcome, batchItemFailures, Firehose result).
 *
 * Pure in-process: no services needed (the Firehose scenarios never overflow the response, so no
 * re-ingest call is made).
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeCloudWatchPayload } from '../../src/aws/cloudwatch-payload.js';
import { runDaemon } from '../../src/core/daemon.js';
import type { DeadLetter, DeadLetterSink } from '../../src/core/dead-letter.js';
import type { PlannedTransform } from '../../src/core/graph.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Outcome, Tally } from '../../src/core/outcome.js';
import type { Transform } from '../../src/core/pipeline.js';
import type { LogRecord } from '../../src/core/record.js';
import { deadlineIn } from '../../src/core/retry.js';
import type { SinkNode } from '../../src/core/runner.js';
import type { Encoded, SendContext, SendResult, Sink } from '../../src/core/sink.js';
import type { Source, SourceEnvelope } from '../../src/core/source.js';
import { FirehoseTransformer } from '../../src/sources/firehose.js';
import { decodeKinesisEvent, type KinesisEvent } from '../../src/sources/kinesis-event.js';
import { processKinesisEvent } from '../../src/sources/kinesis-handler.js';

const ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/logs';
const seq = (n: number) => `4959${String(n).padStart(52, '0')}`;
const fast = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
/** Time a home gets before giving up on a hanging sink (Lambda deadline, daemon second Ctrl-C). */
const GIVE_UP_MS = 600;

function payload(n: number, messages: string[], group = '/aws/lambda/orders'): string {
  return encodeCloudWatchPayload({
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: group,
    logStream: '2024/01/01/[$LATEST]abc',
    subscriptionFilters: ['f'],
    logEvents: messages.map((m, i) => ({ id: `${n}-${i}`, timestamp: 1_700_000_000_000 + i, message: m })),
  }).toString('base64');
}
const control = encodeCloudWatchPayload({
  messageType: 'CONTROL_MESSAGE',
  owner: 'CloudwatchLogs',
  logGroup: '',
  logStream: '',
  subscriptionFilters: [],
  logEvents: [{ id: '', timestamp: 1_700_000_000_000, message: 'CWL CONTROL MESSAGE: Checking health' }],
}).toString('base64');

const full = Buffer.from(payload(99, ['x', 'y']), 'base64');
/** Every malformed envelope kind the decoder names, with the payload that produces it. */
const MALFORMED: [string, string][] = [
  ['ENVELOPE_EMPTY', ''],
  ['ENVELOPE_BAD_BASE64', '@@not base64@@'],
  ['ENVELOPE_NOT_GZIP', Buffer.from('plain text, not a payload').toString('base64')],
  ['ENVELOPE_GZIP_TRUNCATED', full.subarray(0, full.length - 10).toString('base64')],
  ['ENVELOPE_GZIP_CORRUPT', Buffer.concat([full.subarray(0, 12), Buffer.alloc(40, 0x55)]).toString('base64')],
  ['ENVELOPE_NOT_JSON', gzipSync('not json').toString('base64')],
  ['ENVELOPE_INVALID_UTF8', gzipSync(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])).toString('base64')],
  [
    'ENVELOPE_UNKNOWN_TYPE',
    gzipSync(JSON.stringify({ messageType: 'SURPRISE', logEvents: [] })).toString('base64'),
  ],
  [
    'ENVELOPE_BAD_SHAPE',
    gzipSync(JSON.stringify({ messageType: 'DATA_MESSAGE', logGroup: 'g', logStream: 's' })).toString(
      'base64',
    ),
  ],
];

/** A sink that rejects messages containing `reject` and never answers for those containing `hang`. */
class ScriptedSink implements Sink<string> {
  readonly type = 'scripted';
  readonly name = 'out';
  readonly limits = { maxRecords: 100, maxBytes: 1 << 20, maxRecordBytes: 1 << 16, maxAgeMs: 60_000 };
  readonly seen: string[] = [];
  encode(r: LogRecord): Encoded<string> {
    return { record: r, data: r.message, bytes: r.message.length };
  }
  send(batch: readonly Encoded<string>[], _ctx: SendContext): Promise<SendResult> {
    // Hangs and ignores the abort signal: the home must give up on its own.
    if (batch.some((e) => e.data.includes('hang'))) return new Promise(() => {});
    const problems: SendResult['problems'] = [];
    batch.forEach((e, index) => {
      if (e.data.includes('reject'))
        problems.push({ index, action: 'reject', code: 'mapper_parsing_exception', reason: 'bad field' });
      else this.seen.push(e.data);
    });
    return Promise.resolve({ problems });
  }
}

class MemoryDlq implements DeadLetterSink {
  readonly type = 'memory';
  readonly entries: DeadLetter[] = [];
  async put(entries: readonly DeadLetter[]) {
    this.entries.push(...entries);
    return entries.map(() => true);
  }
}

interface Scenario {
  name: string;
  /** Payloads (base64), one envelope each. */
  payloads: string[];
  pre?: Transform[];
  graphTransforms?: PlannedTransform[];
  /** Wiring of the sink (and of the Firehose answer). */
  sinkEdges?: { inputs?: string[]; match?: string };
  sourceTag?: string;
  expect: {
    envelopes: Outcome['kind'][];
    /** Per log group: [received, delivered, dropped, rejected, failed]. */
    groups: Record<string, [number, number, number, number, number]>;
    reasons: Record<string, number>;
    /** Messages the sink stored (sorted). */
    delivered: string[];
    deadLetters: string[];
  };
}

const thrower: Transform = {
  type: 'explode',
  apply(r) {
    if (r.message.includes('boom')) throw new Error('cannot handle this record');
    return r;
  },
};
const splitter: Transform = {
  type: 'split',
  apply(r) {
    if (!r.message.startsWith('split')) return r;
    return [1, 2, 3].map((k) => ({ ...r, message: `${r.message}#${k}`, fields: { ...r.fields } }));
  },
};
const identity = (name: string, inputs?: string[]): PlannedTransform => ({
  name,
  inputs,
  transform: { type: 'identity', apply: (r) => r },
});

const G = '/aws/lambda/orders';
/** An envelope whose second event carries a time no date can hold (`timestamp: 1e20`). */
const badTime = encodeCloudWatchPayload({
  messageType: 'DATA_MESSAGE',
  owner: '123456789012',
  logGroup: G,
  logStream: '2024/01/01/[$LATEST]abc',
  subscriptionFilters: ['f'],
  logEvents: [
    { id: 't-0', timestamp: 1_700_000_000_000, message: 'on time' },
    { id: 't-1', timestamp: 1e20, message: 'from the far future' },
    { id: 't-2', timestamp: -1e20, message: 'from the far past' },
  ],
}).toString('base64');
const SCENARIOS: Scenario[] = [
  {
    name: 'a transform that throws rejects only its record, to the dead-letter store',
    payloads: [payload(1, ['ok 1', 'boom', 'ok 2'])],
    pre: [thrower],
    expect: {
      envelopes: ['rejected'],
      groups: { [G]: [3, 2, 0, 1, 0] },
      reasons: { 'rejected:TRANSFORM_FAILED': 1 },
      delivered: ['ok 1', 'ok 2'],
      deadLetters: ['TRANSFORM_FAILED'],
    },
  },
  {
    name: 'a record no route takes is dropped NO_ROUTE',
    payloads: [payload(1, ['a', 'b'])],
    sourceTag: 'kube.audit',
    sinkEdges: { match: 'app.*' },
    expect: {
      envelopes: ['dropped'],
      groups: { [G]: [2, 0, 2, 0, 0] },
      reasons: { 'dropped:NO_ROUTE': 2 },
      delivered: [],
      deadLetters: [],
    },
  },
  {
    name: 'a control message is one counted drop',
    payloads: [control, payload(1, ['a'])],
    expect: {
      envelopes: ['dropped', 'delivered'],
      groups: { '(control)': [1, 0, 1, 0, 0], [G]: [1, 1, 0, 0, 0] },
      reasons: { 'dropped:CONTROL_MESSAGE': 1 },
      delivered: ['a'],
      deadLetters: [],
    },
  },
  {
    name: 'each malformed envelope kind goes to the dead-letter store whole, with its code',
    payloads: [...MALFORMED.map((m) => m[1]), payload(1, ['good'])],
    expect: {
      envelopes: [...MALFORMED.map(() => 'rejected' as const), 'delivered'],
      groups: { '(malformed)': [MALFORMED.length, 0, 0, MALFORMED.length, 0], [G]: [1, 1, 0, 0, 0] },
      reasons: Object.fromEntries(MALFORMED.map((m) => [`rejected:${m[0]}`, 1])),
      delivered: ['good'],
      deadLetters: MALFORMED.map((m) => m[0]),
    },
  },
  {
    name: 'a transform that splits one record into three counts two more received',
    payloads: [payload(1, ['split', 'plain'])],
    pre: [splitter],
    expect: {
      envelopes: ['delivered'],
      groups: { [G]: [4, 4, 0, 0, 0] },
      reasons: {},
      delivered: ['plain', 'split#1', 'split#2', 'split#3'],
      deadLetters: [],
    },
  },
  {
    name: 'a split inside a named graph branch is counted too',
    payloads: [payload(1, ['split', 'plain'])],
    graphTransforms: [{ name: 'fan', transform: splitter }, identity('after', ['fan'])],
    sinkEdges: { inputs: ['after'] },
    expect: {
      envelopes: ['delivered'],
      groups: { [G]: [4, 4, 0, 0, 0] },
      reasons: {},
      delivered: ['plain', 'split#1', 'split#2', 'split#3'],
      deadLetters: [],
    },
  },
  {
    name: 'a sink that rejects sends the record to the dead-letter store',
    payloads: [payload(1, ['fine', 'please reject me']), payload(2, ['fine too'])],
    expect: {
      envelopes: ['rejected', 'delivered'],
      groups: { [G]: [3, 2, 0, 1, 0] },
      reasons: { 'rejected:mapper_parsing_exception': 1 },
      delivered: ['fine', 'fine too'],
      deadLetters: ['mapper_parsing_exception'],
    },
  },
  {
    name: 'an event time outside the representable range is rejected TIMESTAMP_OUT_OF_RANGE',
    payloads: [badTime, payload(2, ['fine'])],
    expect: {
      envelopes: ['rejected', 'delivered'],
      groups: { [G]: [4, 2, 0, 2, 0] },
      reasons: { 'rejected:TIMESTAMP_OUT_OF_RANGE': 2 },
      delivered: ['fine', 'on time'],
      deadLetters: ['TIMESTAMP_OUT_OF_RANGE', 'TIMESTAMP_OUT_OF_RANGE'],
    },
  },
  {
    name: 'a sink that times out fails its records for redrive, within the time limit',
    payloads: [payload(1, ['hang on', 'me too'])],
    expect: {
      envelopes: ['failed'],
      groups: { [G]: [2, 0, 0, 0, 2] },
      reasons: { 'failed:DEADLINE': 2 },
      delivered: [],
      deadLetters: [],
    },
  },
];

interface HomeRun {
  envelopes: Outcome['kind'][];
  tally: Tally;
  delivered: string[];
  deadLetters: DeadLetter[];
  /** The home's answer agrees with the outcomes (checked per home). */
  answerOk: boolean;
}

type Home = (sc: Scenario) => Promise<HomeRun>;

function kinesisEvent(payloads: string[]): KinesisEvent {
  return {
    Records: payloads.map((data, i) => ({
      eventID: `shardId-000000000000:${seq(i + 1)}`,
      eventSourceARN: ARN,
      kinesis: { sequenceNumber: seq(i + 1), partitionKey: 'p', data },
    })),
  };
}

function sinkNode(sink: Sink<string>, sc: Scenario): SinkNode {
  return { name: 'out', sink, ...sc.sinkEdges };
}

class ListSource implements Source {
  readonly type = 'kinesis-event';
  readonly acks = new Map<string, Outcome>();
  constructor(
    readonly name: string,
    private readonly envs: SourceEnvelope[],
  ) {}
  async *envelopes(): AsyncIterable<SourceEnvelope> {
    yield* this.envs;
  }
  async ack(env: SourceEnvelope, o: Outcome) {
    this.acks.set(env.ackId, o);
  }
}

const daemon: Home = async (sc) => {
  const sink = new ScriptedSink();
  const dlq = new MemoryDlq();
  // CloudWatch-only decoding: in `auto` (the default) plain text and gzip text are records, not
  // the ENVELOPE_NOT_GZIP / ENVELOPE_NOT_JSON rows of this table.
  const envs = decodeKinesisEvent(kinesisEvent(sc.payloads), { format: 'cloudwatch' });
  const source = new ListSource('src', envs);
  const give = new AbortController();
  const t = setTimeout(() => give.abort(), GIVE_UP_MS);
  const res = await runDaemon({
    sources: [source],
    sourceTags: { src: sc.sourceTag },
    transforms: sc.pre ?? [],
    graphTransforms: sc.graphTransforms,
    sinks: [sinkNode(sink, sc)],
    deadLetter: dlq,
    abortDelivery: give.signal,
    deliver: { retry: fast },
  });
  clearTimeout(t);
  const envelopes = envs.map((e) => source.acks.get(e.ackId)?.kind ?? ('missing' as Outcome['kind']));
  return { envelopes, tally: res.tally, delivered: sink.seen, deadLetters: dlq.entries, answerOk: true };
};

const kinesis: Home = async (sc) => {
  const sink = new ScriptedSink();
  const dlq = new MemoryDlq();
  const event = kinesisEvent(sc.payloads);
  const started = Date.now();
  // A quarter of the invocation is kept back: the deadline falls GIVE_UP_MS after the start.
  const context = { getRemainingTimeInMillis: () => (GIVE_UP_MS * 4) / 3 - (Date.now() - started) };
  const res = await processKinesisEvent(event, context, {
    transforms: sc.pre ?? [],
    sinks: [],
    graph: {
      sources: [{ name: 'kinesis', tag: sc.sourceTag }],
      transforms: sc.graphTransforms ?? [],
      sinks: [sinkNode(sink, sc)],
    },
    deadLetter: dlq,
    format: 'cloudwatch',
    log: silentLogger,
    retry: fast,
  });
  const envelopes = res.envelopes.map((o) => o.kind);
  const firstFailed = envelopes.indexOf('failed');
  const answerOk =
    firstFailed < 0
      ? res.response.batchItemFailures.length === 0
      : res.response.batchItemFailures[0]?.itemIdentifier === seq(firstFailed + 1);
  return { envelopes, tally: res.tally, delivered: sink.seen, deadLetters: dlq.entries, answerOk };
};

const firehose: Home = async (sc) => {
  const sink = new ScriptedSink();
  const dlq = new MemoryDlq();
  const t = new FirehoseTransformer(
    { format: 'raw', maxResponseBytes: 5_500_000, reingest: true, maxReingestGenerations: 5 },
    {
      transforms: sc.pre ?? [],
      graphTransforms: sc.graphTransforms,
      source: { name: 'firehose', tag: sc.sourceTag },
      sinks: [sinkNode(sink, sc)],
      responseInputs: sc.sinkEdges,
      deadLetter: dlq,
      log: silentLogger,
      retry: fast,
    },
  );
  const event = {
    invocationId: 'inv',
    deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/s',
    records: sc.payloads.map((data, i) => ({ recordId: `r${i}`, data })),
  };
  const { response, summary } = await t.transform(event, deadlineIn(GIVE_UP_MS));
  // The envelopes' outcomes as the answer states them: Ok = delivered (or rejected records
  // dead-lettered beside delivered ones), Dropped = dropped, ProcessingFailed = malformed or failed.
  const envelopes: Outcome['kind'][] = [];
  let answerOk = response.records.length === sc.payloads.length;
  sc.expect.envelopes.forEach((kind, i) => {
    const r = response.records[i];
    const malformed = i < sc.payloads.length && MALFORMED.some((m) => m[1] === sc.payloads[i]);
    const want = kind === 'failed' || malformed ? 'ProcessingFailed' : kind === 'dropped' ? 'Dropped' : 'Ok';
    if (r?.result !== want || r.recordId !== `r${i}`) answerOk = false;
    envelopes.push(kind);
  });
  // Ok answers carry every record the sink took (both read the same records; the answer is one
  // more branch of the fan-out, so a record the sink rejected is still in it).
  const okLines = new Set(
    response.records
      .filter((r) => r.result === 'Ok')
      .flatMap((r) => Buffer.from(r.data, 'base64').toString('utf8').split('\n').slice(0, -1)),
  );
  if (!sink.seen.every((m) => okLines.has(m))) answerOk = false;
  return { envelopes, tally: summary.tally, delivered: sink.seen, deadLetters: dlq.entries, answerOk };
};

const HOMES: [string, Home][] = [
  ['daemon', daemon],
  ['kinesis handler', kinesis],
  ['firehose handler', firehose],
];

describe.each(HOMES)('outcomes in the %s', (_home, run) => {
  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', async (_name, sc) => {
    const started = Date.now();
    const res = await run(sc);
    expect(Date.now() - started).toBeLessThan(GIVE_UP_MS + 5_000);
    expect(res.envelopes).toEqual(sc.expect.envelopes);
    const groups = Object.fromEntries(
      [...res.tally.byGroup].map(([g, c]) => [g, [c.received, c.delivered, c.dropped, c.rejected, c.failed]]),
    );
    expect(groups).toEqual(sc.expect.groups);
    for (const c of res.tally.byGroup.values())
      expect(c.received).toBe(c.delivered + c.dropped + c.rejected + c.failed);
    expect(res.tally.balanced()).toBe(true);
    expect(Object.fromEntries(res.tally.byReason)).toEqual(sc.expect.reasons);
    expect([...res.delivered].sort()).toEqual(sc.expect.delivered);
    expect(res.deadLetters.map((d) => d.code).sort()).toEqual([...sc.expect.deadLetters].sort());
    expect(res.answerOk).toBe(true);
  });
});
