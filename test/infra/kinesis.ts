/**
 * A local Kinesis Data Streams emulator for tests: `kinesis-local` (npm; kinesis-mock compiled to
 * JavaScript) on loopback, plain HTTP. It needs `KINESIS_MOCK_CERT_PATH` pointing at its bundled
 * `server.json` or it fails to start from another directory; the SDK v3 Kinesis client must use an
 * HTTP/1.1 handler against it (`clientConfig('kinesis')` does that when an endpoint is set).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  type KinesisClientConfig,
} from '@aws-sdk/client-kinesis';
import { clientConfig } from '../../src/aws/clients.js';
import { freePort, type Running, startProcess, waitFor } from './process.js';

export async function startKinesis(): Promise<Running> {
  const main = createRequire(import.meta.url).resolve('kinesis-local/main.js');
  const [plain, tls] = await Promise.all([freePort(), freePort()]);
  const p = startProcess(process.execPath, [main], {
    KINESIS_MOCK_CERT_PATH: join(dirname(main), 'server.json'),
    KINESIS_MOCK_PLAIN_PORT: String(plain),
    KINESIS_MOCK_TLS_PORT: String(tls),
    SHOULD_PERSIST_DATA: 'false',
    LOG_LEVEL: 'WARN',
  });
  const url = `http://127.0.0.1:${plain}`;
  try {
    // Any HTTP answer (even a signature error) means the server is listening.
    await waitFor(
      'kinesis-local',
      async () => (await fetch(url, { method: 'POST', body: '{}' })).status > 0,
      60_000,
      p.proc,
    );
  } catch (e) {
    console.error(p.output());
    await p.stop();
    throw e;
  }
  return { url, stop: p.stop };
}

/** A Kinesis client for kinesis-local at `url` (HTTP/1.1, as `clientConfig` sets for an endpoint). */
export function kinesisTestClient(url: string): KinesisClient {
  return new KinesisClient(clientConfig('kinesis', { endpoint: url, maxAttempts: 3 }) as KinesisClientConfig);
}

let streams = 0;
/** Creates a stream named `<prefix>-<pid>-<n>-<time>` of `shards` shards, ACTIVE; returns its name. */
export async function createTestStream(
  client: KinesisClient,
  prefix: string,
  shards: number,
): Promise<string> {
  const name = `${prefix}-${process.pid}-${++streams}-${Date.now()}`;
  await createActiveStream(client, name, shards);
  return name;
}

/** Creates a data stream of `shards` shards (on kinesis-local) and waits until it is ACTIVE. */
export async function createActiveStream(client: KinesisClient, name: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitStreamActive(client, name);
}

/** Waits until a stream is ACTIVE (after creating, splitting or merging shards). */
export async function waitStreamActive(client: KinesisClient, name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const d = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`stream ${name} did not become ACTIVE`);
}
