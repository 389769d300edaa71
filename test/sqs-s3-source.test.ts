/**
 * The `sqs-s3` daemon source against moto (S3, SNS, SQS) in seed 000's layout: objects announced by
 * the bucket through SNS with raw message delivery (the seed's setup), SNS-wrapped, and as
 * EventBridge `Object Created` events; every line delivered exactly once (no duplicates in a clean
 * run), a truncated gzip object delivered up to the damage and dead-lettered with its reason, test
 * events and garbage counted, messages deleted only after delivery.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDaemon } from '../src/config/build.js';
import { validateConfig } from '../src/config/load.js';
import { runDaemon } from '../src/core/daemon.js';
import type { SourceEnvelope } from '../src/core/source.js';
import {
  DONE,
  type FeedMessage,
  MemoryProgress,
  MessageSource,
} from '../src/sources/s3-object/message-source.js';
import type { SqsS3Source } from '../src/sources/sqs-s3.js';
import { motoUrl } from './infra/services.js';
import {
  type Clients,
  clients,
  createLayout,
  eksLines,
  eventBridgeBody,
  type Layout,
  objectKey,
  putLines,
  queueDepth,
  send,
} from './sqs-s3-fixtures.js';
import { walk } from './infra/cli-daemon.js';

process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';

let c: Clients;
let dir: string;
let layout: Layout;
const expected = new Map<string, number>(); // key → lines
const truncated: { key: string; lines: number } = { key: '', lines: 0 };

function readArchive(d: string): Record<string, unknown>[] {
  const docs: Record<string, unknown>[] = [];
  for (const f of walk(d).filter((p) => p.endsWith('.gz')))
    for (const l of gunzipSync(readFileSync(f)).toString('utf8').split('\n')) if (l) docs.push(JSON.parse(l));
  return docs;
}

function readDeadLetters(d: string): Record<string, unknown>[] {
  try {
    return walk(d)
      .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

async function drain(queueUrl: string, name: string) {
  const out = join(dir, name);
  const doc = {
    sources: [
      {
        type: 'sqs-s3',
        name,
        queueUrl,
        endpoint: motoUrl(),
        // The default 20 s long poll: bounded mode (`--once`) polls for at most onceWaitSeconds.
        dataDir: join(out, 'state'),
        maxLineBytes: 64 * 1024,
      },
    ],
    sinks: [{ type: 's3', url: join(out, 'archive'), format: 'ndjson' }],
    deadLetter: { type: 'file', path: join(out, 'dead-letter') },
  };
  const cfg = validateConfig(doc, 'test');
  const built = await buildDaemon(cfg, { cwd: dir, env: process.env });
  // What `logferry run --once` does to every source.
  expect(built.sources[0].bounded?.()).toBeUndefined();
  const result = await runDaemon({
    sources: built.sources,
    transforms: built.transforms,
    sinks: built.sinkNodes,
    deadLetter: built.deadLetter,
  });
  const st = (built.sources[0] as SqsS3Source).stats;
  // Bounded mode ended on the rule: empty receives in a row once nothing was in flight.
  expect(st.emptyReceives).toBeGreaterThanOrEqual(2);
  return {
    result,
    stats: st,
    docs: readArchive(join(out, 'archive')),
    dead: readDeadLetters(join(out, 'dead-letter')),
  };
}

beforeAll(async () => {
  c = clients(motoUrl());
  dir = mkdtempSync(join(tmpdir(), 'lf-sqs-s3-'));
  layout = await createLayout(c, `seed${Date.now().toString(36)}`);
  const objs: [string, string, number][] = [
    ['kube-apiserver', 'kube-apiserver-4f8a1c2d9e0b', 300],
    ['kube-apiserver-audit', 'kube-apiserver-audit-4f8a1c2d9e0b', 2_500],
    ['authenticator', 'authenticator-4f8a1c2d9e0b', 120],
    ['kube-scheduler', 'kube-scheduler-4f8a1c2d9e0b', 1],
  ];
  let seq = 0;
  for (const [comp, stream, n] of objs) {
    const key = objectKey(comp, stream, seq++);
    await putLines(c, layout.bucket, key, eksLines(comp, n, key));
    expected.set(key, n);
  }
  // A key that needs URL-decoding (space and a plus sign).
  const odd = `_aws_eks_prod-eu_cluster/kube-controller-manager/kube-controller-manager-1a/odd name+plus-2026-12-05-16-00-00-ab.gz`;
  await putLines(c, layout.bucket, odd, eksLines('kube-controller-manager', 50, 'odd'));
  expected.set(odd, 50);
  // A truncated gzip object: the first part decodes, the rest is gone.
  const tkey = objectKey('cloud-controller-manager', 'cloud-controller-manager-77', seq++);
  const full = gzipSync(`${eksLines('cloud-controller-manager', 20_000, 'trunc').join('\n')}\n`);
  await c.s3.send(
    new PutObjectCommand({
      Bucket: layout.bucket,
      Key: tkey,
      Body: full.subarray(0, Math.floor(full.length / 2)),
    }),
  );
  truncated.key = tkey;
  // Control and garbage on the raw queue.
  await send(
    c,
    layout.rawQueue,
    JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: layout.bucket }),
  );
  await send(c, layout.rawQueue, 'this is not a notification');
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function checkDelivery(docs: Record<string, unknown>[]) {
  const ids = docs.map((d) => d['@id'] as string);
  expect(new Set(ids).size).toBe(ids.length); // no duplicates
  for (const [key, n] of expected) {
    const mine = ids.filter((id) => id.startsWith(`s3://${layout.bucket}/${key}?v=`));
    expect(mine.length, key).toBe(n);
    const lines = new Set(mine.map((id) => Number(id.slice(id.lastIndexOf('#') + 1))));
    for (let i = 1; i <= n; i++) expect(lines.has(i)).toBe(true);
  }
  const t = ids.filter((id) => id.startsWith(`s3://${layout.bucket}/${truncated.key}?v=`));
  expect(t.length).toBeGreaterThan(0);
  expect(t.length).toBeLessThan(20_000);
  return t.length;
}

describe('sqs-s3 source against moto (S3 → SNS → SQS, seed 000 layout)', () => {
  it('drains the raw-delivery queue: every line once, truncated object dead-lettered, test event and garbage counted, queue empty', async () => {
    const { result, stats, docs, dead } = await drain(layout.rawQueue, 'apiserver');
    expect(result.balanced).toBe(true);
    expect(result.tally.total.failed).toBe(0);
    const truncatedLines = checkDelivery(docs);
    // Provenance from the key's layout and time from the klog header.
    const api = docs.find((d) => String(d['@id']).includes('kube-apiserver-4f8a1c2d9e0b'))!;
    expect(api['@log']).toBe(`/aws/eks/${'prod-eu'}/cluster`);
    expect(api['@logStream']).toBe('kube-apiserver-4f8a1c2d9e0b');
    expect(new Date(api['@timestamp'] as number).toISOString()).toMatch(/^2026-12-05T16:00:/);
    const audit = docs.find((d) => String(d['@id']).includes('kube-apiserver-audit-'))!;
    expect(audit.verb).toBeDefined();
    const damage = dead.find((d) => d.code === 'S3_OBJECT_GZIP_TRUNCATED');
    expect(damage?.reason).toMatch(/ends early/);
    expect(String(damage?.reason)).toContain(`lines 1–${truncatedLines}`);
    expect(dead.some((d) => d.code === 'SQS_MESSAGE_UNRECOGNIZED')).toBe(true);
    // Ours plus the one S3 sends when the notification configuration is saved (through SNS).
    expect(result.tally.byReason.get('dropped:CONTROL_MESSAGE')).toBe(2);
    expect(stats.testEvents).toBe(2);
    expect(stats.deletes).toBe(stats.messages);
    expect(await queueDepth(c, layout.rawQueue)).toBe(0);
  }, 120_000);

  it('drains the SNS-wrapped queue alike', async () => {
    const { result, stats, docs } = await drain(layout.snsQueue, 'wrapped');
    expect(result.balanced).toBe(true);
    checkDelivery(docs);
    // Every object, the truncated one and S3's test event, each in an SNS envelope.
    expect(stats.messages).toBe(expected.size + 2);
    expect(stats.testEvents).toBe(1);
    expect(await queueDepth(c, layout.snsQueue)).toBe(0);
  }, 120_000);

  it('drains EventBridge Object Created events (URL-encoded keys)', async () => {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    for (const key of [...expected.keys(), truncated.key]) {
      const h = await c.s3.send(new HeadObjectCommand({ Bucket: layout.bucket, Key: key }));
      await send(
        c,
        layout.ebQueue,
        eventBridgeBody(layout.bucket, key, (h.ETag ?? '').replace(/"/g, ''), h.ContentLength ?? 0),
      );
    }
    const { result, docs, dead } = await drain(layout.ebQueue, 'eventbridge');
    expect(result.balanced).toBe(true);
    checkDelivery(docs);
    expect(dead.some((d) => d.code === 'S3_OBJECT_GZIP_TRUNCATED')).toBe(true);
    expect(await queueDepth(c, layout.ebQueue)).toBe(0);
  }, 120_000);

  it('skips lines acknowledged out of order before a stop when the object is read again (not sent twice)', async () => {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const key = objectKey('kube-scheduler', 'kube-scheduler-redo', 7);
    await putLines(c, layout.bucket, key, eksLines('kube-scheduler', 1_500, 'redo'));
    const h = await c.s3.send(new HeadObjectCommand({ Bucket: layout.bucket, Key: key }));
    const body = eventBridgeBody(layout.bucket, key, (h.ETag ?? '').replace(/"/g, ''), h.ContentLength ?? 0);
    const progress = new MemoryProgress();
    const once = (receiveCount: number) => {
      let sent = false;
      return {
        next: async () => {
          if (sent) return null;
          sent = true;
          return [{ id: 'm1', body, receiveCount }];
        },
        settle: async (_m: FeedMessage, _ok: boolean) => {},
      };
    };
    const opts = {
      type: 'sqs-s3',
      name: 'redo',
      maxConcurrentObjects: 1,
      maxBufferedBytes: 64 * 1024 * 1024,
      chunkLines: 500,
      chunkBytes: 1024 * 1024,
      maxLineBytes: 64 * 1024,
      rememberDoneMs: 60_000,
    };
    // First reader: lines 501–1000 acknowledged, 1–500 never (a crash before their delivery).
    const first = new MessageSource(c.s3, once(1), progress, opts);
    const got: SourceEnvelope[] = [];
    for await (const env of first.envelopes(new AbortController().signal)) got.push(env);
    expect(got.map((e) => e.records.length)).toEqual([500, 500, 500]);
    await first.ack(got[1], { kind: 'delivered' });
    const entry = [...progress.map.values()][0];
    expect(entry).toMatchObject({ through: 0, acked: [[501, 1000]] });

    // The message comes back: every line is read again, and exactly 501–1000 are not sent.
    const skipped: number[] = [];
    const second = new MessageSource(c.s3, once(2), progress, { ...opts, onSkipped: (n) => skipped.push(n) });
    const again: SourceEnvelope[] = [];
    for await (const env of second.envelopes(new AbortController().signal)) again.push(env);
    const lineOf = (id: string) => Number(id.slice(id.lastIndexOf('#') + 1));
    const lines = again.flatMap((e) => e.records.map((r) => lineOf(r.meta.id)));
    expect(lines).toEqual([
      ...Array.from({ length: 500 }, (_, i) => i + 1),
      ...Array.from({ length: 500 }, (_, i) => i + 1001),
    ]);
    expect(again.every((e) => !e.redelivered && e.records.every((r) => !r.meta.redelivered))).toBe(true);
    expect(second.stats.skipped).toBe(500);
    expect(skipped).toEqual([500]);
    // Acknowledging what was sent completes the object: the skipped lines count as done.
    for (const e of again) await second.ack(e, { kind: 'delivered' });
    expect([...progress.map.values()][0]).toMatchObject({ through: DONE });
  }, 60_000);
});
