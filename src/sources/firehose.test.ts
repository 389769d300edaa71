import { gunzipSync, gzipSync } from 'node:zlib';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ALL_KINDS,
  controlPayload,
  cwPayload,
  events,
  firehoseEvent,
  type LogEvent,
  payloadOfSize,
  rng,
  streamFor,
} from '../../bench/data.js';
import { type CallAnswer, type FirehoseApi, startFirehoseApi } from '../../test/infra/firehose-api.js';
import { clientConfig } from '../aws/clients.js';
import { partitionKeys } from '../aws/partition.js';
import type { Logger } from '../core/component.js';
import type { Transform } from '../core/pipeline.js';
import { deadlineIn } from '../core/retry.js';
import { firehoseSettings } from '../config/schema.js';
import { buildTransforms } from '../config/build-pipeline.js';
import { validateConfig } from '../config/load.js';
import { buildFirehoseTransforms } from '../lambda/firehose.js';
import {
  decodeFirehoseEvent,
  decodeFirehoseEventAhead,
  FirehoseTransformer,
  type FirehoseTransformationEvent,
  GENERATION_FIELD,
  jsonLogger,
  REINGEST_MAX_PAYLOAD_BYTES,
  streamFromArn,
} from './firehose.js';

interface Line {
  level: string;
  msg: string;
  [k: string]: unknown;
}

function capture(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  return { lines, log: jsonLogger({}, 'debug', (l) => lines.push(JSON.parse(l))) };
}

let api: FirehoseApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function withApi(plan: (call: number, entries: Buffer[]) => CallAnswer) {
  api = await startFirehoseApi(plan);
  const client = new FirehoseClient({
    ...clientConfig('firehose', { endpoint: api.url, region: 'us-east-1' }),
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return { api, firehoseClient: () => client };
}

function transformer(
  settings: Record<string, unknown> = {},
  extra: Partial<ConstructorParameters<typeof FirehoseTransformer>[1]> = {},
) {
  const cap = capture();
  const t = new FirehoseTransformer(firehoseSettings.parse(settings), {
    transforms: [],
    log: cap.log,
    retry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 20 },
    ...extra,
  });
  return { t, lines: cap.lines };
}

const decodeOut = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
const ev = (e: ReturnType<typeof firehoseEvent>) => e as FirehoseTransformationEvent;

/** Event ids in re-ingested payloads, with the generation each carries. */
function reingested(entries: Buffer[]): {
  ids: string[];
  generations: number[];
  docs: Record<string, unknown>[];
} {
  const ids: string[] = [];
  const generations: number[] = [];
  const docs: Record<string, unknown>[] = [];
  for (const e of entries) {
    const doc = JSON.parse(gunzipSync(e).toString('utf8'));
    docs.push(doc);
    generations.push(doc[GENERATION_FIELD]);
    for (const le of doc.logEvents as LogEvent[]) ids.push(le.id);
  }
  return { ids, generations, docs };
}

describe('FirehoseTransformer', () => {
  it('answers raw (seed format) with partition keys for every kind of stream', async () => {
    const r = rng(1);
    const inputs = ALL_KINDS.map((k) => {
      const stream = streamFor(k, r);
      return { stream, evs: events(k, 5, r) };
    });
    const { t, lines } = transformer();
    const { response, summary } = await t.transform(
      ev(firehoseEvent(inputs.map((i) => cwPayload(i.stream, i.evs)))),
    );
    expect(response.records).toHaveLength(inputs.length);
    response.records.forEach((out, i) => {
      const { stream, evs } = inputs[i];
      expect(out.result).toBe('Ok');
      expect(decodeOut(out.data)).toBe(evs.map((e) => `${e.message}\n`).join(''));
      expect(out.metadata?.partitionKeys).toEqual(
        partitionKeys(stream.logGroup, stream.logStream, evs[0].timestamp),
      );
    });
    // The seed's object_prefix for EKS streams.
    const audit = inputs[0].stream;
    expect(response.records[0].metadata?.partitionKeys.object_prefix).toBe(
      `_aws_eks_prod_cluster/kube-apiserver-audit/${audit.logStream}`,
    );
    expect(response.records[6].metadata?.partitionKeys.object_prefix).toMatch(
      /^_aws_lambda_orders-api\/lambda\//,
    );
    expect(summary.tally.balanced()).toBe(true);
    expect(summary.tally.total.delivered).toBe(inputs.length * 5);
    const info = lines.filter((l) => l.msg === 'firehose transformation');
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({ ok: inputs.length, failed: 0, dropped: 0 });
  });

  it("partitions by the earliest event when a payload's events are out of order across an hour", async () => {
    const r = rng(7);
    const stream = streamFor('kube-apiserver-audit', r);
    const [a, b] = events('kube-apiserver-audit', 2, r);
    const late = { ...a, timestamp: Date.UTC(2026, 10, 22, 14, 0, 5) };
    const early = { ...b, timestamp: Date.UTC(2026, 10, 22, 13, 59, 58) };
    const { t } = transformer();
    const { response } = await t.transform(ev(firehoseEvent([cwPayload(stream, [late, early])])));
    expect(response.records[0].metadata?.partitionKeys).toMatchObject({ day: '22', hour: '13' });
  });

  it('one event that cannot be formatted fails only its own record, never the invocation', async () => {
    const r = rng(21);
    const stream = streamFor('lambda', r);
    const good = events('lambda', 3, r);
    const deepMessage = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    // A parser that keeps the nesting (as JSON parsing does) and a transform that makes it deeper.
    const deepen: Transform = {
      type: 'deepen',
      apply: (rec) => {
        if (!rec.message.startsWith('{"a":')) return rec;
        let v: Record<string, unknown> = {};
        for (let i = 0; i < 20_000; i++) v = { a: v };
        rec.fields.deep = v;
        return rec;
      },
    };
    const { t, lines } = transformer({ format: 'ndjson' }, { transforms: [deepen] });
    const input = firehoseEvent([
      cwPayload(stream, good),
      cwPayload(stream, [{ ...good[0], id: 'deep-1', message: deepMessage }]),
      cwPayload(
        stream,
        good.map((e) => ({ ...e, id: `${e.id}-b` })),
      ),
    ]);
    const { response, summary } = await t.transform(ev(input));
    expect(response.records.map((o) => o.result)).toEqual(['Ok', 'ProcessingFailed', 'Ok']);
    expect(lines.find((l) => l.msg === 'record ProcessingFailed')?.code).toBe('FORMAT_FAILED');
    expect(summary.tally.balanced()).toBe(true);
    expect(summary.tally.total).toMatchObject({ received: 7, delivered: 6, failed: 1 });
  });

  it('decodes ahead on the thread pool into exactly the envelopes of the synchronous decoder', async () => {
    const r = rng(31);
    const stream = streamFor('lambda', r);
    const good = cwPayload(stream, events('lambda', 4, r));
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const plainJson = Buffer.from(gunzipSync(good)).toString('base64'); // Firehose-side decompression on
    const payloads: (Buffer | string)[] = [
      good,
      good.subarray(0, good.length - 10).toString('base64'),
      gzipSync('not json').toString('base64'),
      cwPayload(stream, [{ id: 'far', timestamp: 1e20, message: 'far future' }]),
      cwPayload(stream, [{ id: 'deep', timestamp: 1, message: deep }]),
      controlPayload(),
      plainJson,
      '@@not base64@@',
      '',
      ...Array.from({ length: 9 }, (_, i) => cwPayload(stream, events('lambda', i + 1, r))),
    ];
    const input = ev(firehoseEvent(payloads));
    const sync = decodeFirehoseEvent(input);
    const ahead = decodeFirehoseEventAhead(input);
    const out = [];
    for await (const e of ahead.envelopes) out.push(e);
    expect(ahead.count).toBe(payloads.length);
    expect(out).toEqual(sync);
    expect(sync.map((e) => e.malformed?.code ?? (e.control ? 'control' : e.records.length))).toEqual([
      4,
      'ENVELOPE_GZIP_TRUNCATED',
      'ENVELOPE_NOT_JSON',
      1,
      1,
      'control',
      4,
      'ENVELOPE_BAD_BASE64',
      'ENVELOPE_EMPTY',
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
    ]);
  });

  it('answers ndjson documents', async () => {
    const r = rng(2);
    const stream = streamFor('lambda', r);
    const evs = events('lambda', 3, r);
    const { t } = transformer({ format: 'ndjson' });
    const { response } = await t.transform(ev(firehoseEvent([cwPayload(stream, evs)])));
    const docs = decodeOut(response.records[0].data)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(docs).toEqual(
      evs.map((e) => ({
        '@timestamp': e.timestamp,
        '@message': e.message,
        '@logStream': stream.logStream,
        '@log': `123456789012:${stream.logGroup}`,
        '@id': e.id,
      })),
    );
  });

  it('drops control messages and records emptied by transforms; fails malformed ones with logged codes only', async () => {
    const r = rng(3);
    const good = cwPayload(streamFor('generic', r), events('generic', 2, r));
    const secret = 'hunter2-secret-content';
    const full = cwPayload(streamFor('ecs', r), events('ecs', 4, r));
    const malformed: [string, string][] = [
      ['', 'ENVELOPE_EMPTY'],
      ['@@not base64@@', 'ENVELOPE_BAD_BASE64'],
      [Buffer.from(secret).toString('base64'), 'ENVELOPE_NOT_GZIP'],
      [full.subarray(0, full.length - 10).toString('base64'), 'ENVELOPE_GZIP_TRUNCATED'],
      [gzipSync(`not json ${secret}`).toString('base64'), 'ENVELOPE_NOT_JSON'],
      [
        gzipSync(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])).toString('base64'),
        'ENVELOPE_INVALID_UTF8',
      ],
      [
        cwPayload(streamFor('ecs', r), [], { messageType: 'SURPRISE' }).toString('base64'),
        'ENVELOPE_UNKNOWN_TYPE',
      ],
    ];
    const dropAll: Transform = {
      type: 'drop-ecs',
      dropCode: 'TEST_DROP',
      apply: (rec) => (rec.meta.logGroup === '/ecs/checkout' ? null : rec),
    };
    const { t, lines } = transformer({}, { transforms: [dropAll] });
    const input = firehoseEvent([good, controlPayload(), full, ...malformed.map((m) => m[0])]);
    const { response, summary } = await t.transform(ev(input));
    expect(response.records.map((o) => o.recordId)).toEqual(input.records.map((i) => i.recordId));
    expect(response.records.map((o) => o.result)).toEqual([
      'Ok',
      'Dropped',
      'Dropped',
      ...malformed.map(() => 'ProcessingFailed'),
    ]);
    for (const o of response.records.slice(1)) expect(o.data).toBe('');
    const failures = lines.filter((l) => l.msg === 'record ProcessingFailed');
    expect(failures.map((f) => [f.recordId, f.code])).toEqual(
      malformed.map((m, i) => [input.records[3 + i].recordId, m[1]]),
    );
    expect(JSON.stringify(lines)).not.toContain(secret);
    expect(JSON.stringify(lines)).not.toContain('SURPRISE');
    expect(summary.tally.balanced()).toBe(true);
    expect(Object.fromEntries(summary.tally.byReason)).toMatchObject({
      'dropped:CONTROL_MESSAGE': 1,
      'dropped:TEST_DROP': 4,
    });
  });

  it('re-ingests records past the response budget, oldest generation first, and answers them Dropped', async () => {
    const r = rng(4);
    const payloads = Array.from({ length: 6 }, (_, i) =>
      payloadOfSize(i % 2 ? 'kube-apiserver-audit' : 'kube-scheduler', 3_000, r),
    );
    // Record 5 already went round once: it must be answered before fresh ones.
    const gen1 = cwPayload(payloads[5].stream, payloads[5].events, { extra: { [GENERATION_FIELD]: 1 } });
    const { api, firehoseClient } = await withApi(() => ({ kind: 'ok' }));
    const { t } = transformer({ maxResponseBytes: 70_000 }, { firehoseClient });
    const input = firehoseEvent([...payloads.slice(0, 5).map((p) => p.gzip), gen1]);
    const { response, summary } = await t.transform(ev(input));
    const results = response.records.map((o) => o.result);
    expect(results[5]).toBe('Ok');
    expect(results.filter((x) => x === 'Dropped').length).toBeGreaterThan(0);
    expect(new Set(results)).toEqual(new Set(['Ok', 'Dropped']));
    expect(JSON.stringify(response).length).toBeLessThanOrEqual(70_000);
    // Every event exactly once across Ok data and re-ingested payloads.
    const okMessages = response.records
      .filter((o) => o.result === 'Ok')
      .flatMap((o) => decodeOut(o.data).split('\n').filter(Boolean));
    const back = reingested(api.accepted);
    expect(back.generations.every((g) => g === 1)).toBe(true);
    const byId = new Map(payloads.flatMap((p) => p.events).map((e) => [e.id, e.message]));
    expect(okMessages.length + back.ids.length).toBe(byId.size);
    expect(new Set([...back.ids.map((id) => byId.get(id)), ...okMessages]).size).toBe(byId.size);
    expect(api.calls.every((c) => c.stream === 'logs')).toBe(true);
    expect(summary.tally.balanced()).toBe(true);
    // Each event is counted once: delivered in the answer, or dropped as re-ingested.
    expect(summary.tally.total.delivered).toBe(okMessages.length);
    expect(summary.tally.byReason.get('dropped:REINGESTED')).toBe(back.ids.length);
  });

  it('splits a record that alone exceeds the budget into payloads that each fit', async () => {
    const r = rng(5);
    const big = payloadOfSize('kube-apiserver-audit', 40_000, r);
    const { api, firehoseClient } = await withApi(() => ({ kind: 'ok' }));
    const budget = 100_000;
    const { t } = transformer({ maxResponseBytes: budget, format: 'ndjson' }, { firehoseClient });
    const { response, summary } = await t.transform(ev(firehoseEvent([big.gzip])));
    expect(response.records[0].result).toBe('Dropped');
    expect(summary.splitRecords).toBe(1);
    expect(api.accepted.length).toBeGreaterThan(4);
    const back = reingested(api.accepted);
    expect(back.ids).toEqual(big.events.map((e) => e.id));
    for (const p of api.accepted) expect(p.length).toBeLessThanOrEqual(REINGEST_MAX_PAYLOAD_BYTES);
    // Each piece now fits one later invocation on its own.
    for (const piece of api.accepted) {
      const { t: again } = transformer({ maxResponseBytes: budget, format: 'ndjson', reingest: false });
      const { response: next } = await again.transform(ev(firehoseEvent([piece])));
      expect(next.records[0].result).toBe('Ok');
    }
  });

  it('splits records that take more than half a response, so later invocations pack several', async () => {
    // Each record fits a response alone but no two fit together: unsplit, every later invocation
    // would answer one and re-ingest the others again, until the generation limit failed them.
    const r = rng(11);
    const recs = Array.from({ length: 3 }, () => payloadOfSize('kube-apiserver-audit', 6_000, r));
    const { t: probe } = transformer({ format: 'ndjson', reingest: false });
    const sizes = await Promise.all(
      recs.map(
        async (p) => JSON.stringify((await probe.transform(ev(firehoseEvent([p.gzip])))).response).length,
      ),
    );
    const budget = Math.ceil(Math.max(...sizes) / 0.6);
    expect(Math.min(...sizes) * 2).toBeGreaterThan(budget);
    const { api, firehoseClient } = await withApi(() => ({ kind: 'ok' }));
    const { t } = transformer({ maxResponseBytes: budget, format: 'ndjson' }, { firehoseClient });
    const first = await t.transform(ev(firehoseEvent(recs.map((p) => p.gzip))));
    expect(first.response.records.map((o) => o.result).sort()).toEqual(['Dropped', 'Dropped', 'Ok']);
    expect(first.summary.splitRecords).toBe(2);
    // The next invocation gets every piece back and answers more than one original record's worth.
    const second = await t.transform(ev(firehoseEvent(api.accepted)));
    expect(JSON.stringify(second.response).length).toBeLessThanOrEqual(budget);
    const delivered = second.response.records
      .filter((o) => o.result === 'Ok')
      .reduce((n, o) => n + decodeOut(o.data).split('\n').filter(Boolean).length, 0);
    expect(delivered).toBeGreaterThan(Math.max(...recs.map((p) => p.events.length)));
  });

  it('accepts subscription JSON that Firehose already decompressed; hints when records are not payloads', async () => {
    const r = rng(12);
    const gz = cwPayload(streamFor('kube-apiserver-audit', r), events('kube-apiserver-audit', 5, r));
    const plain = gunzipSync(gz);
    const { t, lines } = transformer();
    const { response } = await t.transform(
      ev(firehoseEvent([gz, plain, Buffer.from('an extracted message\n')])),
    );
    expect(response.records.map((o) => o.result)).toEqual(['Ok', 'Ok', 'ProcessingFailed']);
    expect(response.records[1].data).toBe(response.records[0].data);
    expect(response.records[1].metadata).toEqual(response.records[0].metadata);
    const failure = lines.find((l) => l.msg === 'record ProcessingFailed');
    expect(failure).toMatchObject({ code: 'ENVELOPE_NOT_GZIP' });
    expect(String(failure?.reason)).toMatch(/decompresses CloudWatch Logs .* turn that off/);
  });

  it('stops at maxReingestGenerations and fails when re-ingest is off', async () => {
    const r = rng(6);
    const p = payloadOfSize('kube-apiserver', 20_000, r);
    const looped = cwPayload(p.stream, p.events, { extra: { [GENERATION_FIELD]: 2 } });
    const { t, lines } = transformer({ maxResponseBytes: 10_000, maxReingestGenerations: 2 });
    const { response } = await t.transform(ev(firehoseEvent([looped])));
    expect(response.records[0].result).toBe('ProcessingFailed');
    expect(lines.find((l) => l.msg === 'record ProcessingFailed')?.code).toBe('REINGEST_LIMIT');
    const { t: kin, lines: kinLines } = transformer({ maxResponseBytes: 10_000 });
    const fromKinesis = {
      ...ev(firehoseEvent([p.gzip])),
      sourceKinesisStreamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/logs',
    };
    expect((await kin.transform(fromKinesis)).response.records[0].result).toBe('ProcessingFailed');
    expect(kinLines.find((l) => l.msg === 'record ProcessingFailed')?.code).toBe('REINGEST_UNSUPPORTED');
    const { t: off, lines: offLines } = transformer({ maxResponseBytes: 10_000, reingest: false });
    const { response: r2 } = await off.transform(ev(firehoseEvent([p.gzip])));
    expect(r2.records[0].result).toBe('ProcessingFailed');
    expect(offLines.find((l) => l.msg === 'record ProcessingFailed')?.code).toBe('RESPONSE_BUDGET');
  });

  it('fails a single event that cannot fit any response', async () => {
    const stream = streamFor('generic', rng(7));
    const huge: LogEvent = { id: '1', timestamp: 1_763_800_000_000, message: 'x'.repeat(60_000) };
    const { firehoseClient } = await withApi(() => ({ kind: 'ok' }));
    const { t, lines } = transformer({ maxResponseBytes: 50_000 }, { firehoseClient });
    const { response } = await t.transform(
      ev(firehoseEvent([cwPayload(stream, [huge, { ...huge, id: '2', message: 'small' }])])),
    );
    expect(response.records[0].result).toBe('ProcessingFailed');
    expect(lines.find((l) => l.msg === 'record ProcessingFailed')?.code).toBe('RECORD_TOO_LARGE');
  });

  it('re-sends only the entries that failed, after throttling', async () => {
    const r = rng(8);
    const stream = streamFor('authenticator', r);
    const payloads = Array.from({ length: 9 }, () => cwPayload(stream, events('authenticator', 5, r)));
    const { api, firehoseClient } = await withApi((call) => {
      if (call === 0) return { kind: 'error', type: 'ServiceUnavailableException', status: 503 };
      if (call === 1) return { kind: 'partial', fail: (i) => i % 3 === 0 };
      return { kind: 'ok' };
    });
    const { t } = transformer({ maxResponseBytes: 5_000 }, { firehoseClient, random: () => 0.5 });
    const { response, summary } = await t.transform(ev(firehoseEvent(payloads)));
    expect(response.records.map((o) => o.result)).toEqual(['Ok', ...Array(8).fill('Dropped')]);
    expect(api.calls.map((c) => c.entries.length)).toEqual([8, 8, 3]);
    expect(api.calls[2].entries).toEqual(api.calls[1].entries.filter((_, i) => i % 3 === 0));
    expect(api.accepted).toHaveLength(8);
    expect(summary.reingest).toMatchObject({ calls: 3, retriedEntries: 11, throttled: 4 });
  });

  it('answers ProcessingFailed when re-ingest cannot succeed (permanent error, deadline)', async () => {
    const r = rng(9);
    const payloads = Array.from({ length: 3 }, () => payloadOfSize('ecs', 3_000, r).gzip);
    const { api, firehoseClient } = await withApi(() => ({
      kind: 'error',
      type: 'ResourceNotFoundException',
      status: 400,
    }));
    const { t, lines } = transformer({ maxResponseBytes: 2_000 }, { firehoseClient });
    const { response } = await t.transform(ev(firehoseEvent(payloads)));
    expect(response.records.every((o) => o.result === 'ProcessingFailed')).toBe(true);
    expect(api.calls).toHaveLength(1);
    expect(
      lines.filter((l) => l.msg === 'record ProcessingFailed').every((l) => l.code === 'REINGEST_FAILED'),
    ).toBe(true);

    await api.close();
    const again = await withApi(() => ({ kind: 'error', type: 'ServiceUnavailableException', status: 503 }));
    const { t: t2 } = transformer(
      { maxResponseBytes: 2_000 },
      { firehoseClient: again.firehoseClient, retry: { maxAttempts: 50, baseDelayMs: 200, maxDelayMs: 400 } },
    );
    const started = Date.now();
    const { response: r2 } = await t2.transform(ev(firehoseEvent(payloads)), deadlineIn(1_500));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(r2.records.every((o) => o.result === 'ProcessingFailed')).toBe(true);
    expect(again.api.calls.length).toBeGreaterThan(1);
    expect(again.api.calls.length).toBeLessThan(50);
  });

  it('raw skips parsing (fields are not written) yet masks exactly as the full pipeline does', async () => {
    const r = rng(10);
    const stream = streamFor('kube-apiserver-audit', r);
    const secrets = [
      '{"user":"alice","password":"hunter2hunter2","note":"x"}',
      'GET /login?user=bob&token=abcdef123456789 HTTP/1.1 200',
      'using key AKIAIOSFODNN7EXAMPLE for upload',
    ];
    const evs = [
      ...events('kube-apiserver-audit', 20, r),
      ...secrets.map((m, i) => ({ id: `s${i}`, timestamp: 1_763_800_000_000 + i, message: m })),
    ];
    const input = ev(firehoseEvent([cwPayload(stream, evs)]));
    const cfg = validateConfig({});
    const lean = await buildFirehoseTransforms(cfg);
    const full = await buildTransforms(cfg);
    expect(lean.map((x) => x.type)).toEqual(['mask']);
    expect(full.map((x) => x.type)).toEqual(['parse', 'mask']);
    const settings = firehoseSettings.parse({});
    const a = await new FirehoseTransformer(settings, { transforms: lean, log: capture().log }).transform(
      input,
    );
    const b = await new FirehoseTransformer(settings, { transforms: full, log: capture().log }).transform(
      structuredClone(input),
    );
    const out = decodeOut(a.response.records[0].data);
    expect(out).toBe(decodeOut(b.response.records[0].data));
    for (const secret of ['hunter2hunter2', 'abcdef123456789', 'AKIAIOSFODNN7EXAMPLE'])
      expect(out).not.toContain(secret);
    // ndjson writes fields, so it keeps parsing.
    const nd = validateConfig({ firehose: { format: 'ndjson' } });
    expect((await buildFirehoseTransforms(nd)).map((x) => x.type)).toEqual(['parse', 'mask']);
  });

  it('reads stream name and region from the ARN', () => {
    expect(streamFromArn('arn:aws:firehose:eu-west-1:123456789012:deliverystream/my-stream')).toEqual({
      region: 'eu-west-1',
      name: 'my-stream',
    });
    expect(streamFromArn('nonsense')).toEqual({});
  });
});
