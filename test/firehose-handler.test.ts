/**
 * The Firehose transformation Lambda as deployed: `node scripts/build.mjs` builds
 * dist/lambda/firehose/ (index.mjs + chunks), and each scenario imports that bundle in a fresh Node process (a cold
 * container; several events in a row = warm invocations) with a Lambda-like context. Re-ingest goes
 * to moto's Firehose (delivering to an HTTP endpoint destination on 127.0.0.1, so every re-ingested
 * record can be read back one by one) or, for failure paths, to a local PutRecordBatch endpoint
 * that throttles and fails entries on purpose.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_KINDS,
  controlPayload,
  cwPayload,
  events,
  firehoseEvent,
  type LogEvent,
  payloadOfSize,
  rng,
  type StreamSpec,
  streamFor,
} from '../bench/data.js';
import { startFirehoseApi } from './infra/firehose-api.js';
import { motoUrl } from './infra/services.js';
import { objectPrefix } from '../src/aws/partition.js';

const root = new URL('..', import.meta.url).pathname;
let work: string;
let bundle: string;

interface Out {
  recordId: string;
  result: 'Ok' | 'Dropped' | 'ProcessingFailed';
  data: string;
  metadata?: { partitionKeys: Record<string, string> };
}
interface Line {
  level: string;
  msg: string;
  [k: string]: unknown;
}
type Ev = ReturnType<typeof firehoseEvent>;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'logferry-firehose-'));
  bundle = join(work, 'firehose', 'index.mjs');
  // dist/ is built once by test/global-setup.ts.
  cpSync(join(root, 'dist', 'lambda', 'firehose'), join(work, 'firehose'), { recursive: true });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const RUNNER = `
import { readFileSync, writeFileSync } from 'node:fs';
const { handler } = await import(process.env.LF_BUNDLE);
const evs = JSON.parse(readFileSync(process.env.LF_EVENTS, 'utf8'));
const out = [];
for (const ev of evs) {
  const end = Date.now() + Number(process.env.LF_REMAINING_MS);
  out.push(await handler(ev, { awsRequestId: 'req', getRemainingTimeInMillis: () => end - Date.now() }));
}
writeFileSync(process.env.LF_OUT, JSON.stringify(out));
`;

let runs = 0;
/** Invokes the bundle with `events` in one container; returns the answers and the JSON log lines. */
async function invoke(
  evs: Ev[],
  env: Record<string, string> = {},
  remainingMs = 60_000,
): Promise<{ responses: { records: Out[] }[]; lines: Line[] }> {
  const n = runs++;
  const evFile = join(work, `events-${n}.json`);
  const outFile = join(work, `out-${n}.json`);
  writeFileSync(evFile, JSON.stringify(evs));
  const child = spawn(process.execPath, ['--input-type=module', '-e', RUNNER], {
    env: {
      PATH: process.env.PATH,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      LF_BUNDLE: bundle,
      LF_EVENTS: evFile,
      LF_OUT: outFile,
      LF_REMAINING_MS: String(remainingMs),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`handler process failed (${code}):\n${stderr}\n${stdout}`);
  const lines = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
  return { responses: JSON.parse(readFileSync(outFile, 'utf8')), lines };
}

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

/** Every recordId answered exactly once, in input order. */
function expectAnsweredOnce(ev: Ev, res: { records: Out[] }): void {
  expect(res.records.map((r) => r.recordId)).toEqual(ev.records.map((r) => r.recordId));
  expect(new Set(res.records.map((r) => r.recordId)).size).toBe(ev.records.length);
}

/**
 * Reads what moto's Firehose delivered to S3 since the last call. moto writes one object per
 * PutRecordBatch call holding the records' bytes back to back (gzip members); gunzip reads them
 * all, and each member is one CloudWatch JSON document.
 */
function landing(s3: S3Client, bucket: string) {
  const seen = new Set<string>();
  return async (): Promise<Record<string, unknown>[]> => {
    const docs: Record<string, unknown>[] = [];
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (list.Contents ?? []).map((o) => o.Key!).filter((k) => !seen.has(k));
    for (const key of keys.sort()) {
      seen.add(key);
      const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = gunzipSync(Buffer.from(await obj.Body!.transformToByteArray())).toString('utf8');
      // A raw `"` never occurs inside a JSON string, so this boundary only splits documents.
      for (const part of text.split('}{"messageType":')) {
        const json = part.startsWith('{') ? part : `{"messageType":${part}`;
        docs.push(JSON.parse(json.endsWith('}') ? json : `${json}}`));
      }
    }
    return docs;
  };
}

describe('firehose Lambda bundle', () => {
  it('answers Ok with the seed format and partition keys for EKS (all six components), Lambda, ECS and generic', async () => {
    const r = rng(11);
    const inputs = ALL_KINDS.map((k) => ({
      kind: k,
      stream: streamFor(k, r, 'blue'),
      evs: events(k, 20, r),
    }));
    const ev = firehoseEvent(inputs.map((i) => cwPayload(i.stream, i.evs)));
    const { responses, lines } = await invoke([ev], { LOGFERRY_CONFIG: 'firehose:\n  format: raw\n' });
    const res = responses[0];
    expectAnsweredOnce(ev, res);
    res.records.forEach((out, i) => {
      const { kind, stream, evs } = inputs[i];
      expect(out.result).toBe('Ok');
      expect(decode(out.data)).toBe(evs.map((e) => `${e.message}\n`).join(''));
      const keys = out.metadata!.partitionKeys;
      const seedPrefix = kind.startsWith('kube') || kind.endsWith('manager') || kind === 'authenticator';
      expect(keys.object_prefix).toBe(
        seedPrefix
          ? `_aws_eks_blue_cluster/${kind}/${stream.logStream.replace(/\//g, '_')}`
          : objectPrefix(stream.logGroup, stream.logStream),
      );
      expect(keys.component).toBe(seedPrefix ? kind : kind === 'generic' ? 'default' : kind);
      expect(keys.cluster).toBe(seedPrefix ? 'blue' : 'none');
      expect(Object.keys(keys).sort()).toEqual([
        'cluster',
        'component',
        'day',
        'hour',
        'log_group',
        'log_stream',
        'month',
        'object_prefix',
        'year',
      ]);
    });
    const summary = lines.filter((l) => l.msg === 'firehose transformation');
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ records: 9, ok: 9, dropped: 0, failed: 0 });
    expect((summary[0].events as { received: number; delivered: number }).delivered).toBe(9 * 20);
  });

  it('answers ndjson documents when configured', async () => {
    const r = rng(12);
    const stream = streamFor('kube-apiserver-audit', r);
    const evs = events('kube-apiserver-audit', 10, r);
    const ev = firehoseEvent([cwPayload(stream, evs)]);
    const { responses } = await invoke([ev], {
      LOGFERRY_CONFIG: JSON.stringify({ firehose: { format: 'ndjson' } }),
    });
    const docs = decode(responses[0].records[0].data)
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(docs).toHaveLength(10);
    docs.forEach((d, i) => {
      expect(d).toMatchObject({
        '@timestamp': evs[i].timestamp,
        '@logStream': stream.logStream,
        '@log': `123456789012:${stream.logGroup}`,
        '@id': evs[i].id,
      });
      expect(typeof d['@message']).toBe('string');
    });
  });

  it('reads its config from an SSM parameter (moto)', async () => {
    const name = '/logferry/firehose-test/config';
    await new SSMClient({
      endpoint: motoUrl(),
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    }).send(
      new PutParameterCommand({
        Name: name,
        Type: 'SecureString',
        Value: 'firehose:\n  format: ndjson\nmask: false\n',
        Overwrite: true,
      }),
    );
    const r = rng(18);
    const stream = streamFor('ecs', r);
    const evs = events('ecs', 4, r);
    const ev = firehoseEvent([cwPayload(stream, evs)]);
    const { responses, lines } = await invoke([ev], {
      LOGFERRY_CONFIG_PARAMETER: name,
      LOGFERRY_SSM_ENDPOINT: motoUrl(),
    });
    const docs = decode(responses[0].records[0].data)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(docs.map((d) => d['@message'])).toEqual(evs.map((e) => e.message));
    expect(lines.find((l) => l.msg === 'firehose transformer ready')).toMatchObject({
      format: 'ndjson',
      transforms: ['parse'],
    });
  });

  it('drops control messages and fails every malformed kind, logging codes but never contents', async () => {
    const r = rng(13);
    const stream = streamFor('generic', r);
    const good = cwPayload(stream, events('generic', 3, r));
    const marker = 'SENSITIVE-PAYLOAD-TEXT';
    const malformed: [string, string][] = [
      ['', 'ENVELOPE_EMPTY'],
      ['%%%not-base64%%%', 'ENVELOPE_BAD_BASE64'],
      [Buffer.from(`plain ${marker}`).toString('base64'), 'ENVELOPE_NOT_GZIP'],
      [good.subarray(0, good.length - 9).toString('base64'), 'ENVELOPE_GZIP_TRUNCATED'],
      [gzipSync(`{"oops": ${marker}`).toString('base64'), 'ENVELOPE_NOT_JSON'],
      [
        gzipSync(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])).toString('base64'),
        'ENVELOPE_INVALID_UTF8',
      ],
      [
        cwPayload(stream, events('generic', 1, r), { messageType: 'HEARTBEAT' }).toString('base64'),
        'ENVELOPE_UNKNOWN_TYPE',
      ],
    ];
    const ev = firehoseEvent([controlPayload(), good, ...malformed.map((m) => m[0])]);
    const { responses, lines } = await invoke([ev]);
    const res = responses[0];
    expectAnsweredOnce(ev, res);
    expect(res.records.map((o) => o.result)).toEqual([
      'Dropped',
      'Ok',
      ...malformed.map(() => 'ProcessingFailed'),
    ]);
    const failed = lines.filter((l) => l.msg === 'record ProcessingFailed');
    expect(failed.map((l) => [l.recordId, l.code])).toEqual(
      malformed.map((m, i) => [ev.records[2 + i].recordId, m[1]]),
    );
    expect(lines.filter((l) => l.msg === 'firehose transformation')).toHaveLength(1);
    expect(lines.find((l) => l.msg === 'firehose transformation')).toMatchObject({
      ok: 1,
      dropped: 1,
      failed: 7,
      reasons: { 'dropped:CONTROL_MESSAGE': 1 },
    });
    expect(JSON.stringify(lines)).not.toContain(marker);
  });

  describe('oversize batches against moto Firehose', () => {
    const streamName = 'logferry-reingest';
    const bucket = 'logferry-reingest-landing';
    let landed: () => Promise<Record<string, unknown>[]>;

    beforeAll(async () => {
      const aws = {
        endpoint: motoUrl(),
        region: 'us-east-1',
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      };
      const s3 = new S3Client({ ...aws, forcePathStyle: true });
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await new FirehoseClient(aws).send(
        new CreateDeliveryStreamCommand({
          DeliveryStreamName: streamName,
          DeliveryStreamType: 'DirectPut',
          ExtendedS3DestinationConfiguration: {
            RoleARN: 'arn:aws:iam::123456789012:role/firehose',
            BucketARN: `arn:aws:s3:::${bucket}`,
            Prefix: 'landed/',
          },
        }),
      );
      landed = landing(s3, bucket);
    });

    it('keeps the response within budget, re-ingests the rest (splitting what can never fit) and loses or duplicates nothing', async () => {
      const r = rng(14);
      // 14 records of ~60 KB gzip (~300-550 KB each decoded) plus one ~700 KB gzip record (~6 MB decoded).
      const parts: { stream: StreamSpec; events: LogEvent[]; gzip: Buffer }[] = [];
      for (let i = 0; i < 14; i++)
        parts.push(payloadOfSize(i % 2 ? 'kube-apiserver-audit' : 'kube-scheduler', 60_000, r));
      parts.push(payloadOfSize('kube-apiserver-audit', 700_000, r));
      const arn = `arn:aws:firehose:us-east-1:123456789012:deliverystream/${streamName}`;
      const ev = firehoseEvent(
        parts.map((p) => p.gzip),
        { streamArn: arn },
      );
      const env = { LOGFERRY_FIREHOSE_ENDPOINT: motoUrl() };
      const { responses, lines } = await invoke([ev], env);
      const res = responses[0];
      expectAnsweredOnce(ev, res);
      expect(Buffer.byteLength(JSON.stringify(res))).toBeLessThanOrEqual(5_500_000);
      const results = res.records.map((o) => o.result);
      expect(results).toContain('Ok');
      expect(results).toContain('Dropped');
      expect(results).not.toContain('ProcessingFailed');
      expect(results[14]).toBe('Dropped'); // ~6 MB decoded can never be answered: split
      const summary = lines.find((l) => l.msg === 'firehose transformation')!;
      expect(summary.splitRecords).toBe(1);

      // Messages delivered now (Ok) + events in what landed in the stream = every input event, once.
      const all = parts.flatMap((p) => p.events);
      const delivered: string[] = res.records
        .filter((o) => o.result === 'Ok')
        .flatMap((o) => decode(o.data).split('\n').slice(0, -1));
      const back = await landed();
      expect(back.length).toBeGreaterThan(results.filter((x) => x === 'Dropped').length);
      const landedEvents: LogEvent[] = [];
      for (const doc of back) {
        expect(doc.logferryGeneration).toBe(1);
        expect(doc.messageType).toBe('DATA_MESSAGE');
        landedEvents.push(...(doc.logEvents as LogEvent[]));
      }
      expect(delivered.length + landedEvents.length).toBe(all.length);
      expect([...delivered, ...landedEvents.map((e) => e.message)].sort()).toEqual(
        all.map((e) => e.message).sort(),
      );
      const byId = new Map(all.map((e) => [e.id, e]));
      for (const e of landedEvents) expect(e).toEqual(byId.get(e.id));

      // Feed what landed back, as Firehose would, until nothing is re-ingested: it converges well
      // before the generation guard and every event ends up answered Ok exactly once.
      let pending = back.map((d) => gzipSync(JSON.stringify(d)));
      let okMessages = delivered.length;
      let rounds = 0;
      while (pending.length > 0) {
        rounds++;
        expect(rounds).toBeLessThanOrEqual(4);
        // Firehose invokes with at most 6 MB; group pieces as its buffering would.
        const batches: Buffer[][] = [[]];
        let size = 0;
        for (const p of pending) {
          if (size + p.length * 1.34 > 1_000_000) {
            batches.push([]);
            size = 0;
          }
          batches[batches.length - 1].push(p);
          size += p.length * 1.34;
        }
        const evs = batches.map((b, i) =>
          firehoseEvent(b, { streamArn: arn, invocationId: `round-${rounds}-${i}` }),
        );
        const again = await invoke(evs, env);
        again.responses.forEach((rr, i) => {
          expectAnsweredOnce(evs[i], rr);
          for (const o of rr.records) {
            expect(o.result).not.toBe('ProcessingFailed');
            if (o.result === 'Ok') okMessages += decode(o.data).split('\n').length - 1;
          }
        });
        pending = (await landed()).map((d) => gzipSync(JSON.stringify(d)));
      }
      expect(okMessages).toBe(all.length);
    });

    it('a missing delivery stream makes overflow records ProcessingFailed (not lost)', async () => {
      const r = rng(15);
      const parts = Array.from({ length: 12 }, () => payloadOfSize('kube-apiserver-audit', 60_000, r).gzip);
      const ev = firehoseEvent(parts, {
        streamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/no-such-stream',
      });
      const { responses, lines } = await invoke([ev], { LOGFERRY_FIREHOSE_ENDPOINT: motoUrl() });
      const results = responses[0].records.map((o) => o.result);
      expectAnsweredOnce(ev, responses[0]);
      expect(results).toContain('Ok');
      expect(results).toContain('ProcessingFailed');
      expect(results).not.toContain('Dropped');
      expect(
        lines.filter((l) => l.msg === 'record ProcessingFailed').every((l) => l.code === 'REINGEST_FAILED'),
      ).toBe(true);
    });
  });

  it('re-sends only failed entries to a throttling, partially failing endpoint and answers Dropped after success', async () => {
    const r = rng(16);
    const parts = Array.from({ length: 12 }, () => payloadOfSize('kube-apiserver-audit', 60_000, r).gzip);
    const api = await startFirehoseApi((call) => {
      if (call === 0) return { kind: 'error', type: 'ThrottlingException', status: 400 };
      if (call === 1) return { kind: 'partial', fail: (i) => i % 2 === 1 };
      if (call === 2) return { kind: 'partial', fail: (i) => i === 0 };
      return { kind: 'ok' };
    });
    try {
      const ev = firehoseEvent(parts);
      const { responses, lines } = await invoke([ev], { LOGFERRY_FIREHOSE_ENDPOINT: api.url });
      const res = responses[0];
      expectAnsweredOnce(ev, res);
      const dropped = res.records.filter((o) => o.result === 'Dropped').length;
      expect(dropped).toBeGreaterThan(2);
      expect(res.records.every((o) => o.result !== 'ProcessingFailed')).toBe(true);
      const sizes = api.calls.map((c) => c.entries.length);
      expect(sizes[0]).toBe(dropped);
      expect(sizes[1]).toBe(dropped);
      expect(api.calls[2].entries).toEqual(api.calls[1].entries.filter((_, i) => i % 2 === 1));
      expect(api.calls[3].entries).toEqual(api.calls[2].entries.slice(0, 1));
      expect(api.calls).toHaveLength(4);
      expect(api.calls.every((c) => c.stream === 'logs')).toBe(true);
      // Each payload accepted exactly once.
      expect(api.accepted).toHaveLength(dropped);
      expect(new Set(api.accepted.map((b) => b.toString('base64'))).size).toBe(dropped);
      expect(lines.find((l) => l.msg === 'firehose transformation')).toMatchObject({
        reingest: { calls: 4 },
      });
    } finally {
      await api.close();
    }
  });

  it('answers ProcessingFailed when the Lambda deadline ends the retries', async () => {
    const r = rng(17);
    const parts = Array.from({ length: 12 }, () => payloadOfSize('kube-apiserver-audit', 60_000, r).gzip);
    const api = await startFirehoseApi(() => ({
      kind: 'error',
      type: 'ServiceUnavailableException',
      status: 503,
    }));
    try {
      const ev = firehoseEvent(parts);
      // 3 s safety margin in lambdaDeadline: 6.5 s left leaves ~3.5 s, of which decoding and masking
      // the 12 payloads take 1–2 s on a loaded machine; the rest goes to retries.
      const t0 = Date.now();
      const { responses } = await invoke([ev], { LOGFERRY_FIREHOSE_ENDPOINT: api.url }, 6_500);
      expect(Date.now() - t0).toBeLessThan(15_000);
      const results = responses[0].records.map((o) => o.result);
      expect(results).toContain('Ok');
      expect(results).toContain('ProcessingFailed');
      expect(results).not.toContain('Dropped');
      expect(api.calls.length).toBeGreaterThan(1);
    } finally {
      await api.close();
    }
  });
});
