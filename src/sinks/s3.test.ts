import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliver } from '../core/deliver.js';
import type { LogRecord } from '../core/record.js';
import type { Encoded } from '../core/sink.js';
import { classifyS3Error, nameTime, parseTarget, S3Sink, s3Config } from './s3.js';

const T = Date.UTC(2026, 10, 22, 13, 5, 9);

function rec(i: number, over: Partial<LogRecord['meta']> = {}, ts = T + i): LogRecord {
  return {
    timestamp: ts,
    message: `line ${i}`,
    fields: { n: i, '@message': 'must not override' },
    meta: {
      owner: '123456789012',
      logGroup: '/aws/eks/prod/cluster',
      logStream: 'kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329',
      id: String(1000 + i),
      source: 'test',
      ackId: 'a1',
      ...over,
    },
  };
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  walk(dir);
  return out.sort();
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lf-s3-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('parseTarget', () => {
  it('understands s3 urls, file urls and plain paths', () => {
    expect(parseTarget('s3://my-bucket/logs/eks/')).toEqual({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: 'logs/eks',
    });
    expect(parseTarget('s3://my-bucket')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: '' });
    expect(parseTarget('file:///var/lib/lf')).toEqual({ kind: 'dir', dir: '/var/lib/lf' });
    expect(parseTarget('file://./data', '/home/x')).toEqual({ kind: 'dir', dir: '/home/x/data' });
    expect(parseTarget('data', '/home/x')).toEqual({ kind: 'dir', dir: '/home/x/data' });
    expect(() => parseTarget('s3://Bad_Bucket/x')).toThrow(/not a valid S3 bucket name/);
    expect(() => parseTarget('gs://bucket/x')).toThrow(/unsupported url scheme/);
  });
});

describe('S3Sink (local directory)', () => {
  it('writes one gzip NDJSON object per partition in the Firehose layout', async () => {
    const sink = new S3Sink({ url: dir });
    const lambda = { logGroup: '/aws/lambda/orders', logStream: '2026/11/22/[$LATEST]abc' };
    const records = [rec(1), rec(2), rec(3, lambda), rec(4)];
    const outcomes = await deliver(sink, records);
    expect(outcomes.every((o) => o.kind === 'delivered')).toBe(true);
    const list = files(dir);
    expect(list).toHaveLength(2);
    expect(list[0]).toMatch(
      /^_aws_eks_prod_cluster\/kube-apiserver-audit\/kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329\/logferry-2026-11-22-13-05-09-[0-9a-f]{16}\.gz$/,
    );
    expect(list[1]).toMatch(
      /^_aws_lambda_orders\/lambda\/2026_11_22_\[\$LATEST\]abc\/logferry-2026-11-22-13-05-09-[0-9a-f]{16}\.gz$/,
    );
    const lines = gunzipSync(readFileSync(join(dir, list[0])))
      .toString('utf8')
      .trimEnd()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(
      [1, 2, 4].map((i) => ({
        '@timestamp': T + i,
        '@message': `line ${i}`,
        '@logStream': 'kube-apiserver-audit-4e9f9d6f9d15381d05d77c5df3f7d329',
        '@log': '123456789012:/aws/eks/prod/cluster',
        '@id': String(1000 + i),
        n: i,
      })),
    );
    expect(sink.stats).toMatchObject({ objects: 2, records: 4 });
    expect(sink.stats.bytes).toBe(list.reduce((n, f) => n + readFileSync(join(dir, f)).length, 0));
  });

  it('renders a Hive-style key template and writes raw lines', async () => {
    const sink = new S3Sink({
      url: `file://${dir}`,
      format: 'raw',
      objectName: 'eks-archive',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the sink's own placeholders
      keyTemplate: 'cluster=${cluster}/component=${component}/dt=${year}-${month}-${day}/hour=${hour}',
    });
    const a = rec(1);
    a.message = 'with newline\n';
    await deliver(sink, [a, rec(2), rec(3, {}, T + 3_600_000)]);
    const list = files(dir);
    expect(list.map((f) => f.replace(/-[0-9a-f]{16}\.gz$/, ''))).toEqual([
      'cluster=prod/component=kube-apiserver-audit/dt=2026-11-22/hour=13/eks-archive-2026-11-22-13-05-09',
      'cluster=prod/component=kube-apiserver-audit/dt=2026-11-22/hour=14/eks-archive-2026-11-22-14-05-09',
    ]);
    expect(gunzipSync(readFileSync(join(dir, list[0]))).toString('utf8')).toBe('with newline\nline 2\n');
  });

  it('derives keys from the batch only, so a retry overwrites instead of duplicating', async () => {
    const sink = new S3Sink({ url: dir });
    const batch = [rec(1), rec(2), rec(3)].map((r) => sink.encode(r) as Encoded<string>);
    const again = [rec(1), rec(2), rec(3)].map((r) => sink.encode(r) as Encoded<string>);
    expect(sink.keyFor(batch[0].partition!, batch)).toBe(sink.keyFor(again[0].partition!, again));
    expect(sink.keyFor(batch[0].partition!, batch)).not.toBe(
      sink.keyFor(batch[0].partition!, batch.slice(0, 2)),
    );
    await sink.send(batch, { attempt: 1 });
    await sink.send(again, { attempt: 2 });
    const list = files(dir);
    expect(list).toHaveLength(1);
    expect(list.some((f) => f.endsWith('.tmp'))).toBe(false);
  });

  it('rejects when a path component is a file', async () => {
    writeFileSync(join(dir, 'file'), 'x');
    const out = await deliver(new S3Sink({ url: join(dir, 'file') }), [rec(1)]);
    expect(out[0]).toMatchObject({ kind: 'rejected', code: 'SINK_REJECTED' });
  });

  it('archives a 1 MB event whose parsed fields double its document; refuses only records larger than an object', async () => {
    const big = rec(1);
    big.message = 'x'.repeat(1_000_000);
    big.fields.parsed = big.message;
    expect((await deliver(new S3Sink({ url: dir }), [big, rec(2), rec(3)])).map((o) => o.kind)).toEqual([
      'delivered',
      'delivered',
      'delivered',
    ]);
    // Larger than one gzip piece (1 Mi chars): the object still reads back line for line.
    const lines = gunzipSync(readFileSync(join(dir, files(dir)[0])))
      .toString('utf8')
      .trimEnd()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l)['@id'])).toEqual(['1001', '1002', '1003']);
    expect(JSON.parse(lines[0]).parsed).toHaveLength(1_000_000);
    rmSync(dir, { recursive: true, force: true });
    const small = await deliver(new S3Sink({ url: dir, maxBytes: 500_000 }), [big, rec(2)]);
    expect(small.map((o) => o.code ?? o.kind)).toEqual(['RECORD_TOO_LARGE', 'delivered']);
  });

  it('rejects records that cannot be serialised and keeps the rest', async () => {
    const sink = new S3Sink({ url: dir });
    const bad = rec(2);
    bad.fields.big = 10n;
    const out = await deliver(sink, [rec(1), bad]);
    expect(out.map((o) => o.kind)).toEqual(['delivered', 'rejected']);
    expect(out[1].code).toBe('RECORD_UNENCODABLE');
  });
});

describe('classifyS3Error', () => {
  const s3err = (name: string, status?: number) =>
    Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
  it.each([
    ['SlowDown', 503, 'retry', 'SINK_THROTTLED'],
    ['ServiceUnavailable', 503, 'retry', 'SINK_THROTTLED'],
    ['InternalError', 500, 'retry', 'SINK_UNAVAILABLE'],
    ['AccessDenied', 403, 'reject', 'SINK_REJECTED'],
    ['NoSuchBucket', 404, 'reject', 'SINK_REJECTED'],
    ['InvalidArgument', 400, 'reject', 'SINK_REJECTED'],
    ['ExpiredToken', 400, 'retry', 'SINK_AUTH'],
    ['ThrottlingException', 400, 'retry', 'SINK_THROTTLED'],
    ['PermanentRedirect', 301, 'reject', 'SINK_REJECTED'],
    ['InvalidAccessKeyId', 403, 'reject', 'SINK_REJECTED'],
  ])('%s (%s) → %s %s', (name, status, action, code) => {
    expect(classifyS3Error(s3err(name, status), 's3://b/k')).toMatchObject({ action, code });
  });
  it('rejects unwritable directories with what to fix, retries a full disk', () => {
    const fsErr = (code: string) => Object.assign(new Error(code), { code });
    expect(classifyS3Error(fsErr('EACCES'), '/data/k')).toMatchObject({
      action: 'reject',
      code: 'SINK_REJECTED',
    });
    expect(classifyS3Error(fsErr('EACCES'), '/data/k').reason).toMatch(/make the directory writable/);
    expect(classifyS3Error(fsErr('ENOSPC'), '/data/k')).toMatchObject({
      action: 'retry',
      code: 'SINK_UNAVAILABLE',
    });
  });
  it('retries network errors', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifyS3Error(e, 's3://b/k')).toMatchObject({ action: 'retry', code: 'SINK_UNAVAILABLE' });
  });
  it('says what to fix', () => {
    expect(classifyS3Error(s3err('AccessDenied', 403), 's3://b/k').reason).toMatch(/s3:PutObject/);
    expect(classifyS3Error(s3err('NoSuchBucket', 404), 's3://b/k').reason).toMatch(
      /create it or fix the sink url/,
    );
  });
});

describe('s3Config', () => {
  it('refuses unknown placeholders and keys', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the sink's own placeholders
    const r = s3Config.safeParse({ type: 's3', url: 'x', keyTemplate: 'a=${nope}', extra: 1 });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.code)).toEqual(
      expect.arrayContaining(['unrecognized_keys', 'custom']),
    );
  });
  it('names objects like Firehose does', () => {
    expect(nameTime(T)).toBe('2026-11-22-13-05-09');
  });
});
