/**
 * Issue #9 acceptance, sqs-s3 under chaos: objects in seed 000's layout (gzip raw text, gzip
 * ndjson, plain text, one ≈ 20 MB of text, one plain text named `.gz`, one empty, one truncated
 * gzip), announced on one queue in every shape the source reads (raw S3 event, SNS envelope,
 * EventBridge `Object Created`) plus an `s3:TestEvent`. The built CLI (`logferry run`) is killed with
 * `kill -9` mid-queue twice, then drains the queue with `--once`. Afterwards every good line is in
 * the archive (ids are stable: `<key>:<line>`), each exactly once apart from bounded re-sends after
 * the kills, the truncated object is dead-lettered with its reason after its decodable lines were
 * delivered, and at each kill no message of an object still missing lines had been deleted.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle } from './infra/cli-bundle.js';
import { motoUrl } from './infra/services.js';
import {
  archivedIds as ids,
  type Clients,
  clients,
  createLayout,
  eksLines,
  filesUnder,
  eventBridgeBody,
  type Layout,
  objectKey,
  startRun,
  writeCrashConfig,
  queueDepth,
  send,
} from './sqs-s3-fixtures.js';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'node_modules', '.cache', `logferry-sqs-chaos-${process.pid}`);
let dir: string;
let cli: string;
let c: Clients;
let layout: Layout;
/** Good lines each object must deliver (by key), and the object that must be dead-lettered. */
const good = new Map<string, number>();
let truncatedKey = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const s3Record = (bucket: string, key: string, size: number, etag: string) => ({
  Records: [
    {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2026-12-05T16:00:00.000Z',
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
        object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size, eTag: etag, sequencer: '0064' },
      },
    },
  ],
});

/** Complete lines a reader gets from a (possibly truncated) gzip body, as `zcat` does. */
const zcatLines = (body: Buffer) => {
  const t = gunzipSync(body, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
  return t
    .slice(0, t.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean).length;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lf-sqs-chaos-'));
  await buildCliBundle(outDir);
  cli = join(outDir, 'cli', 'logferry.mjs');
  c = clients(motoUrl());
  layout = await createLayout(c, `chaos${Date.now().toString(36)}`);
  const bodies: { key: string; body: Buffer; lines: number }[] = [];
  const text = (lines: string[]) => Buffer.from(`${lines.join('\n')}\n`);
  for (let i = 0; i < 6; i++) {
    const comp = i % 2 ? 'kube-apiserver-audit' : 'kube-apiserver';
    const lines = eksLines(comp, 8_000, `m${i}`);
    bodies.push({
      key: objectKey(comp, `${comp}-m${i}`, i),
      body: gzipSync(text(lines)),
      lines: lines.length,
    });
  }
  // ≈ 20 MB of text in one gzip object.
  const big = eksLines('kube-apiserver-audit', 60_000, 'big');
  bodies.push({
    key: objectKey('kube-apiserver-audit', 'kube-apiserver-audit-big', 7),
    body: gzipSync(text(big)),
    lines: big.length,
  });
  const plain = eksLines('kube-apiserver', 3_000, 'plain');
  bodies.push({
    key: objectKey('kube-apiserver', 'kube-apiserver-plain', 8).replace(/\.gz$/, '.log'),
    body: text(plain),
    lines: plain.length,
  });
  const named = eksLines('kube-apiserver', 3_000, 'named');
  bodies.push({
    key: objectKey('kube-apiserver', 'kube-apiserver-named', 9),
    body: text(named),
    lines: named.length,
  });
  bodies.push({
    key: objectKey('kube-apiserver', 'kube-apiserver-empty', 10),
    body: Buffer.alloc(0),
    lines: 0,
  });
  const full = gzipSync(text(eksLines('kube-apiserver-audit', 8_000, 'trunc')));
  const cut = full.subarray(0, Math.floor(full.length * 0.6));
  truncatedKey = objectKey('kube-apiserver-audit', 'kube-apiserver-audit-trunc', 11);
  bodies.push({ key: truncatedKey, body: cut, lines: zcatLines(cut) });

  let n = 0;
  for (const b of bodies) {
    const r = await c.s3.send(new PutObjectCommand({ Bucket: layout.bucket, Key: b.key, Body: b.body }));
    const etag = (r.ETag ?? '').replace(/"/g, '');
    good.set(b.key, b.lines);
    // Announce in turn as a raw S3 event, an SNS envelope and an EventBridge event.
    const raw = s3Record(layout.bucket, b.key, b.body.length, etag);
    const shape = n++ % 3;
    if (shape === 0) await send(c, layout.ebQueue, JSON.stringify(raw));
    else if (shape === 1)
      await send(
        c,
        layout.ebQueue,
        JSON.stringify({
          Type: 'Notification',
          MessageId: `m${n}`,
          TopicArn: layout.topicArn,
          Message: JSON.stringify(raw),
        }),
      );
    else await send(c, layout.ebQueue, eventBridgeBody(layout.bucket, b.key, etag, b.body.length));
  }
  await send(
    c,
    layout.ebQueue,
    JSON.stringify({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '2026-12-05T16:00:00Z',
      Bucket: layout.bucket,
      RequestId: 'R',
      HostId: 'H',
    }),
  );
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});

describe('accept #9: sqs-s3 with mixed, corrupt objects and two kill -9s', () => {
  it('delivers every good line, dead-letters the corrupt object, deletes no message early', async () => {
    const archive = join(dir, 'archive');
    const deadLetter = join(dir, 'dead-letter');
    const config = writeCrashConfig({
      dir,
      name: 'chaos',
      queueUrl: layout.ebQueue,
      endpoint: motoUrl(),
      archive,
      deadLetter: deadLetter,
    });
    const total = [...good.values()].reduce((a, b) => a + b, 0);
    const perKey = (all: string[]) => {
      const m = new Map<string, Set<string>>();
      for (const id of all) {
        const key = [...good.keys()].find((k) => id.startsWith(`${k}:`) || id.includes(k));
        if (key === undefined) continue;
        const s = m.get(key) ?? new Set<string>();
        s.add(id);
        m.set(key, s);
      }
      return m;
    };
    // At a kill: each object still missing lines has its message in the queue (visible or in flight).
    const checkNothingDeletedEarly = async () => {
      const got = perKey(ids(archive));
      const incomplete = [...good].filter(([k, n]) => n > 0 && (got.get(k)?.size ?? 0) < n).length;
      expect(await queueDepth(c, layout.ebQueue)).toBeGreaterThanOrEqual(incomplete);
      return incomplete;
    };
    for (const [round, until] of [
      [1, total * 0.2],
      [2, total * 0.5],
    ] as const) {
      const run = startRun(cli, dir, config);
      const t0 = Date.now();
      let exited = false;
      void run.done.then(() => {
        exited = true;
      });
      while (!exited && ids(archive).length < until && Date.now() - t0 < 60_000) await sleep(100);
      run.proc.kill('SIGKILL');
      const r = await run.done;
      expect(r.code, r.stderr.slice(-3000)).toBe(null);
      const incomplete = await checkNothingDeletedEarly();
      console.log(
        `sqs chaos: kill -9 #${round} with ${ids(archive).length} ids archived, ${incomplete} objects incomplete`,
      );
      // In-flight messages come back after the visibility timeout.
      await sleep(6_500);
    }
    const last = startRun(cli, dir, config, ['--once']);
    const r3 = await last.done;
    expect(r3.code, r3.stderr.slice(-3000)).toBe(0);
    const summary = JSON.parse(r3.stderr.trim().split('\n').pop() as string);
    expect(summary.balanced).toBe(true);

    const all = ids(archive);
    const got = perKey(all);
    for (const [key, n] of good) expect(got.get(key)?.size ?? 0, key).toBe(n);
    const unique = new Set(all).size;
    expect(unique).toBe(total);
    const duplicates = all.length - unique;
    console.log(
      `sqs chaos: ${total} good lines, ${duplicates} re-sent after the kills, final run counted ${summary.redelivered.possibleDuplicates}`,
    );
    // Re-sends are bounded by what was in flight at each kill (2 objects × their unsaved lines + a sink batch).
    expect(duplicates).toBeLessThan(total / 2);
    expect(summary.redelivered.possibleDuplicates).toBeLessThanOrEqual(duplicates);
    // Across the three starts: the journal keeps what the killed runs re-sent knowing it was delivered.
    const since = summary.redelivered.sinceCleanStop;
    console.log(
      `sqs chaos: since the last clean stop across ${since?.starts} starts: certain ${since?.records} (last run ${summary.redelivered.records}), possible ${since?.possible} (${JSON.stringify(since?.possibleBy)}); observed ${duplicates}`,
    );
    expect(since).toMatchObject({ starts: 3 });
    expect(since.records).toBeGreaterThanOrEqual(summary.redelivered.records);
    // Every copy is counted: re-sent knowing it was delivered (certain) at most, and no more than
    // those plus the lines in flight at each kill (the progress journal's intents).
    expect(since.records).toBeLessThanOrEqual(duplicates);
    expect(duplicates).toBeLessThanOrEqual(since.records + since.possible);

    const dead = filesUnder(deadLetter).flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean));
    const truncated = dead.filter((l) => l.includes(truncatedKey.split('/').pop() as string));
    expect(truncated.length, dead.join('\n').slice(0, 2000)).toBeGreaterThan(0);
    expect(truncated.join('\n')).toMatch(/TRUNCATED|truncat/i);
    expect(await queueDepth(c, layout.ebQueue)).toBe(0);
  }, 180_000);
});
