/**
 * The `http` source behind a real Firehose emulator: moto's Firehose with an HTTP endpoint
 * destination posts records put with PutRecordBatch to logferry, which ships them through the
 * runner into an NDJSON receiver. moto posts the documented body (`requestId`, `timestamp`,
 * `records[].data`) without the optional headers, so the source runs without an access key here.
 * moto 5.x cannot carry binary record data to an HTTP destination (it decodes the bytes as UTF-8)
 * and delivers CloudWatch Logs subscriptions only to S3 destinations, so gzip CloudWatch payloads,
 * the headers, gzip bodies and every answer shape are covered with spec-exact requests in
 * src/sources/http.test.ts.
 */
import { CreateDeliveryStreamCommand, FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSource, httpSourceConfig } from '../src/sources/http.js';
import { type Pipeline, pipeline, waitFor } from './infra/net-sources.js';
import { motoUrl } from './infra/services.js';

const cfg = () => ({
  endpoint: motoUrl(),
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
const ROLE = 'arn:aws:iam::123456789012:role/firehose-to-logferry';

let src: HttpSource;
let p: Pipeline;
let url: string;
beforeAll(async () => {
  src = new HttpSource(httpSourceConfig.parse({ type: 'http', port: 0, logGroup: 'direct-put' }));
  p = await pipeline(src);
  url = `http://127.0.0.1:${(await src.ready).port}/firehose`;
});
afterAll(async () => {
  await p.stop();
});

async function stream(name: string): Promise<string> {
  const out = await new FirehoseClient(cfg()).send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: name,
      DeliveryStreamType: 'DirectPut',
      HttpEndpointDestinationConfiguration: {
        EndpointConfiguration: { Url: url, Name: 'logferry' },
        RequestConfiguration: { ContentEncoding: 'NONE' },
        RoleARN: ROLE,
        S3Configuration: { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::firehose-backup' },
      },
    }),
  );
  return out.DeliveryStreamARN as string;
}

describe('http source fed by moto Firehose (HTTP endpoint destination)', () => {
  it('PutRecordBatch of plain NDJSON records → one record per line', async () => {
    const name = `direct-${Date.now()}`;
    await stream(name);
    await new FirehoseClient(cfg()).send(
      new PutRecordBatchCommand({
        DeliveryStreamName: name,
        Records: [
          { Data: Buffer.from('{"app":"a","n":1}\n{"app":"a","n":2}\n') },
          { Data: Buffer.from('plain text') },
        ],
      }),
    );
    await waitFor(
      () => p.receiver.docs.filter((d) => d['@log'] === 'direct-put').length === 3,
      'three lines',
    );
    const msgs = p.receiver.docs.filter((d) => d['@log'] === 'direct-put').map((d) => d['@message']);
    expect(msgs).toEqual(['{"app":"a","n":1}', '{"app":"a","n":2}', 'plain text']);
  });
});
