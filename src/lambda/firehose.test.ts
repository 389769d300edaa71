/**
 * The Firehose Lambda bootstrap honours the configured `sinks` and `deadLetter` of LOGFERRY_CONFIG
 * as the Kinesis handler does: records fan out to the configured sinks beside the answer, a record
 * a configured sink rejects goes to the configured dead-letter sink (its recordId is still answered
 * Ok), malformed records are stored there too (and answered ProcessingFailed); without a
 * dead-letter sink the error prefix is the store. Real HTTP server on loopback, real file DLQ.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfigCache } from '../config/env.js';
import type { FirehoseTransformationEvent } from '../sources/firehose.js';
import { firehoseLambdaHandler } from './firehose.js';

let server: Server;
let url: string;
let received: string[] = [];
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lf-firehose-lambda-'));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      for (const l of Buffer.concat(chunks).toString('utf8').split('\n')) if (l) received.push(l);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  received = [];
  resetConfigCache();
});

function payload(group: string, events: { id: string; message: string }[]): string {
  return gzipSync(
    JSON.stringify({
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup: group,
      logStream: 'app/0001',
      subscriptionFilters: ['f'],
      logEvents: events.map((e, i) => ({ ...e, timestamp: 1_764_000_000_000 + i })),
    }),
  ).toString('base64');
}

const EVENT: FirehoseTransformationEvent = {
  invocationId: 'inv-1',
  deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/logs',
  records: [
    {
      recordId: 'r1',
      data: payload('/app/one', [
        { id: 'a1', message: 'first line' },
        { id: 'a2', message: 'second line' },
        { id: 'a3', message: 'third line' },
      ]),
    },
    {
      recordId: 'r2',
      data: payload('/app/two', [
        { id: 'b1', message: 'small neighbour' },
        { id: 'b2', message: `too large for the http sink ${'x'.repeat(2_000)}` },
      ]),
    },
    { recordId: 'r3', data: Buffer.from('not gzip at all').toString('base64') },
  ],
};

const context = () => {
  const end = Date.now() + 30_000;
  return { getRemainingTimeInMillis: () => end - Date.now(), awsRequestId: 'req' };
};

function deadLetters(path: string): Record<string, unknown>[] {
  return readdirSync(path).flatMap((f) =>
    readFileSync(join(path, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );
}

function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  return fn().finally(() => {
    process.stdout.write = write;
  });
}

describe('Firehose Lambda with configured sinks and dead-letter sink', () => {
  it('fans records out to the configured sinks and dead-letters what they reject and what is malformed', async () => {
    const dlq = join(dir, 'dlq-a');
    const env = {
      LOGFERRY_CONFIG: JSON.stringify({
        parse: 'none',
        mask: false,
        sinks: { copy: { type: 'http', flavor: 'ndjson', url, maxRecordBytes: 1_000 } },
        deadLetter: { type: 'file', path: dlq },
      }),
    };
    const handler = firehoseLambdaHandler({ env });
    const res = await quietly(() => handler(EVENT, context()));
    expect(res.records.map((r) => [r.recordId, r.result])).toEqual([
      ['r1', 'Ok'],
      ['r2', 'Ok'],
      ['r3', 'ProcessingFailed'],
    ]);
    const okData = Buffer.from(res.records[1].data, 'base64').toString('utf8');
    expect(okData).toContain('small neighbour');
    // The configured sink got every event it accepts, once.
    const ids = received.map((l) => (JSON.parse(l) as { '@id': string })['@id']).sort();
    expect(ids).toEqual(['a1', 'a2', 'a3', 'b1']);
    const dl = deadLetters(dlq);
    expect(dl.find((d) => d.id === 'b2')).toMatchObject({ code: 'RECORD_TOO_LARGE', ackId: 'r2' });
    expect(dl.find((d) => d.ackId === 'r3')).toMatchObject({
      code: 'ENVELOPE_NOT_GZIP',
      payload: EVENT.records[2].data,
    });
    expect(dl).toHaveLength(2);
  });

  it('without a dead-letter sink, a rejected record goes to the error prefix whole', async () => {
    const env = {
      LOGFERRY_CONFIG: JSON.stringify({
        parse: 'none',
        mask: false,
        sinks: { copy: { type: 'http', flavor: 'ndjson', url, maxRecordBytes: 1_000 } },
      }),
    };
    const handler = firehoseLambdaHandler({ env });
    const res = await quietly(() => handler(EVENT, context()));
    expect(res.records.map((r) => r.result)).toEqual(['Ok', 'ProcessingFailed', 'ProcessingFailed']);
    expect(received).toHaveLength(4);
  });

  it('refuses a config whose sinks cannot be built, listing the problem', async () => {
    const env = {
      LOGFERRY_CONFIG: JSON.stringify({ sinks: { copy: { type: 'http', flavor: 'ndjson', url: 'nope' } } }),
    };
    const handler = firehoseLambdaHandler({ env });
    await expect(quietly(() => handler(EVENT, context()))).rejects.toThrow(/copy|url/);
  });
});
