/**
 * The packed path (one PackedRecord per CloudWatch record, src/sources/firehose.ts) answers exactly
 * what the per-event path answers: the same response bytes, the same summary and tally (every event
 * counted once, by the same outcome and reason), the same re-ingested payloads. Data: generated
 * streams of every kind with leaked credentials on and planted secrets, plus edge cases (every
 * secret kind, secrets split across two events, unicode, escapes, lone surrogates, newlines inside
 * messages, empty messages, numeric ids, out-of-range timestamps, deep JSON text, control messages,
 * malformed records). The real default config (mask on), real zlib, the real runner.
 */
import { gzipSync } from 'node:zlib';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { afterEach, describe, expect, it } from 'vitest';
import { type CallAnswer, type FirehoseApi, startFirehoseApi } from '../../test/infra/firehose-api.js';
import { clientConfig } from '../aws/clients.js';
import { validateConfig } from '../config/load.js';
import { silentLogger } from '../core/logger.js';
import { mulberry32 } from '../core/prng.js';
import { buildFirehoseTransforms } from '../lambda/firehose.js';
import {
  ALL_KINDS,
  controlPayload,
  cwPayload,
  firehoseEvent,
  type LogEvent,
  LogGenerator,
  PLANTED_SECRETS,
} from './log-generator.js';
import { FirehoseTransformer, type FirehoseTransformationEvent, GENERATION_FIELD } from './firehose.js';

let apis: FirehoseApi[] = [];
afterEach(async () => {
  await Promise.all(apis.map((a) => a.close()));
  apis = [];
});

async function pair(firehose: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
  const cfg = validateConfig({ ...config, firehose: { reingest: false, ...firehose } }, 'test');
  const transforms = await buildFirehoseTransforms(cfg, { log: silentLogger });
  const make = async (packed: boolean) => {
    const api = await startFirehoseApi((): CallAnswer => ({ kind: 'ok' }));
    apis.push(api);
    const client = new FirehoseClient({
      ...clientConfig('firehose', { endpoint: api.url, region: 'us-east-1' }),
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const t = new FirehoseTransformer(cfg.firehose, {
      transforms,
      log: silentLogger,
      packed,
      firehoseClient: () => client,
    });
    return { t, api };
  };
  return { packed: await make(true), perEvent: await make(false) };
}

async function expectSame(
  p: Awaited<ReturnType<typeof pair>>,
  event: ReturnType<typeof firehoseEvent>,
): Promise<{ records: { result: string; data: string }[] }> {
  const e = event as FirehoseTransformationEvent;
  expect(p.packed.t.packed).toBe(true);
  expect(p.perEvent.t.packed).toBe(false);
  const a = await p.packed.t.transform(e);
  const b = await p.perEvent.t.transform(e);
  expect(JSON.stringify(a.response)).toBe(JSON.stringify(b.response));
  const { tally: ta, ...sa } = a.summary;
  const { tally: tb, ...sb } = b.summary;
  expect(sa).toEqual(sb);
  expect(ta.total).toEqual(tb.total);
  expect([...ta.byGroup]).toEqual([...tb.byGroup]);
  expect([...ta.byReason].sort()).toEqual([...tb.byReason].sort());
  expect(ta.balanced()).toBe(true);
  expect(p.packed.api.accepted.map((x) => x.toString('base64'))).toEqual(
    p.perEvent.api.accepted.map((x) => x.toString('base64')),
  );
  return a.response;
}

const STREAM = { owner: '123456789012', logGroup: '/aws/eks/prod/cluster', logStream: 'kube-apiserver-1' };
const at = (i: number) => 1_763_800_000_000 + i * 1000;
const evs = (messages: string[], base = 0): LogEvent[] =>
  messages.map((message, i) => ({
    id: String(10n ** 55n + BigInt(base + i)),
    timestamp: at(base + i),
    message,
  }));

/** Every secret kind the default mask knows, in the shapes logs carry them. */
const SECRETS = [
  'password=hunter2hunter2',
  '{"password": "s3cr3t-value"}',
  'Authorization: Bearer abcDEF123456ghiJKL789',
  'Basic dXNlcjpwYXNzd29yZA==',
  'key=AKIAIOSFODNN7EXAMPLE',
  'session ASIAY34FZKBOKMUTVV7A used',
  'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig-nature_x',
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
  'url=postgres://app:s3cr3tpw@db:5432/x',
  'ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT',
  `github_pat_11ABCDEFG0123456789abc_${'Zz9'.repeat(20)}`,
  'xoxb-1234567890-abcdefghij',
  'hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdefghijklmnop1234',
  'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLSTC',
  'AIzaSyD-1234567890abcdefghijklmnopqrstu',
  'x-api-key: k1k1k1k1',
  'tokenValue=Zm9vYmFyMTIzNDU2Nzg5MGFi',
  'clientSecret: "9f86d081884c7d659a2feaa0c55ad015"',
  ...PLANTED_SECRETS,
];

/** Messages that are not secrets but stress the text: unicode, escapes, surrogates, newlines. */
const ODD = [
  '',
  'é ü 日本語 🎉',
  'lone \ud800 high and \udc00 low surrogates',
  'tab\tquote"backslash\\ slash/ \u0000 nul \u2028 sep',
  'line one\nline two\r\nline three',
  '{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":[[[[[[[["deep"]]]]]]]]}}}}}}}}',
  `${'{"x":'.repeat(200)}1${'}'.repeat(200)}`,
  'tokenizer=fast maxTokens=5 sessionName=alice',
  'I0613 10:42:07.123456 11 controller.go:611] "Finished syncing" kind="ReplicaSet"',
];

describe('Firehose packed path', () => {
  it('answers generated streams of every kind, with leaked and planted credentials, as the per-event path', async () => {
    const r = mulberry32(11);
    const g = new LogGenerator({ rnd: r, cluster: 'prod', leaks: true, secretsRate: 0.3 });
    const p = await pair();
    const payloads = ALL_KINDS.flatMap((k) => [
      g.payloadOfSize(k, 8_000).gzip,
      g.payloadOfSize(k, 2_000).gzip,
    ]);
    const res = await expectSame(p, firehoseEvent(payloads));
    // The data really had secrets to mask.
    const text = res.records.map((x) => Buffer.from(x.data, 'base64').toString()).join('');
    expect(text).toContain('****');
  });

  it('masks every secret kind, alone and next to others, identically', async () => {
    const p = await pair();
    const payloads = [
      ...SECRETS.map((s, i) => cwPayload({ ...STREAM }, evs([`before ${s} after`, 'plain'], i * 2))),
      cwPayload({ ...STREAM }, evs(SECRETS)),
      cwPayload({ ...STREAM }, evs([...ODD, ...SECRETS, ...ODD])),
    ];
    await expectSame(p, firehoseEvent(payloads));
  });

  it('never joins a secret across two events (a key in one, its value in the next)', async () => {
    const p = await pair();
    const split = [
      ['password', '=hunter2hunter2'],
      ['aws_secret_access_key', ': wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
      ['Authorization: Bearer', 'abcDEF123456ghiJKL789'],
      ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEA', '-----END RSA PRIVATE KEY-----'],
      ['tokenValue', '=Zm9vYmFyMTIzNDU2Nzg5MGFi'],
      ['clientSecret "', ': "9f86d081884c7d659a2feaa0c55ad015"'],
      ['x-api-key', ': k1k1k1k1'],
      ['postgres://app:', 's3cr3tpw@db'],
    ];
    const res = await expectSame(
      p,
      firehoseEvent(split.map((m, i) => cwPayload({ ...STREAM }, evs(m, i * 4)))),
    );
    expect(res.records.every((x) => x.result === 'Ok')).toBe(true);
  });

  it('answers odd text, numeric ids, out-of-range times, control and malformed records identically', async () => {
    const p = await pair();
    const numericIds = gzipSync(
      JSON.stringify({
        messageType: 'DATA_MESSAGE',
        ...STREAM,
        subscriptionFilters: ['f'],
        logEvents: [
          { id: 123, timestamp: at(1), message: 'numeric id' },
          { id: '456', timestamp: at(0), message: 'earlier event second' },
        ],
      }),
    );
    const badTime = cwPayload({ ...STREAM }, [
      ...evs(['ok one']),
      { id: '9', timestamp: 1e20, message: 'password=hunter2hunter2 at an impossible time' },
      ...evs(['ok two'], 5),
    ]);
    const payloads: (Buffer | string)[] = [
      cwPayload({ ...STREAM }, evs(ODD)),
      numericIds,
      badTime,
      controlPayload(),
      cwPayload({ ...STREAM }, []),
      cwPayload({ ...STREAM }, evs(['re-ingested once']), { extra: { [GENERATION_FIELD]: 1 } }),
      gzipSync('not json at all'),
      gzipSync(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
      gzipSync(JSON.stringify({ messageType: 'DATA_MESSAGE', ...STREAM, logEvents: [{ id: 'x' }] })),
      '!!!not base64!!!',
      Buffer.from('{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"s","logEvents":[]}'),
      Buffer.from(JSON.stringify({ messageType: 'DATA_MESSAGE', ...STREAM, logEvents: evs(['plain json']) })),
      Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]),
    ];
    const res = await expectSame(p, firehoseEvent(payloads));
    expect(new Set(res.records.map((x) => x.result))).toEqual(new Set(['Ok', 'Dropped', 'ProcessingFailed']));
  });

  it('re-ingests what does not fit the budget, split by event, with the same payloads', async () => {
    const r = mulberry32(12);
    const g = new LogGenerator({ rnd: r, cluster: 'prod', leaks: true, secretsRate: 0.5 });
    const p = await pair({ reingest: true, maxResponseBytes: 60_000 });
    const payloads = [
      g.payloadOfSize('kube-apiserver-audit', 30_000).gzip,
      g.payloadOfSize('lambda', 6_000).gzip,
      g.payloadOfSize('kube-scheduler', 6_000).gzip,
      g.payloadOfSize('generic', 4_000).gzip,
    ];
    const res = await expectSame(p, firehoseEvent(payloads));
    expect(res.records.some((x) => x.result === 'Dropped')).toBe(true);
    expect(p.packed.api.accepted.length).toBeGreaterThan(1);
  });

  it('keeps the per-event path for configs that need events one by one', async () => {
    const cfg = (c: Record<string, unknown>) =>
      validateConfig({ ...c, firehose: { reingest: false } }, 'test');
    const build = async (c: Record<string, unknown>, format: 'raw' | 'ndjson' = 'raw') => {
      const v = cfg(c);
      return new FirehoseTransformer(
        { ...v.firehose, format },
        { transforms: await buildFirehoseTransforms(v, { log: silentLogger }), log: silentLogger },
      );
    };
    expect((await build({})).packed).toBe(true);
    expect((await build({ mask: false })).packed).toBe(true);
    expect((await build({}, 'ndjson')).packed).toBe(false);
    expect(
      (await build({ parse: 'auto', transforms: [{ type: 'filter', exclude: 'level = "debug"' }] })).packed,
    ).toBe(false);
  });
});
