/**
 * `kill -9` of the built CLI under load, twice, reading a two-shard Kinesis stream (kinesis-local)
 * that a writer keeps filling with CloudWatch subscription payloads (five events per record), into
 * an NDJSON HTTP receiver that stores what it is sent at once and answers 150 ms later (a sink that
 * cannot dedupe: a kill while answers are on their way leaves copies the daemon never saw
 * acknowledged), then a final `--once` run. Every event written
 * must be in the archive; the copies it holds more than once must be counted: between the
 * re-deliveries known certain and those plus the possible ones (records in flight at a kill),
 * summed over the three starts. The checkpoint is written once a second (the default), so without
 * the acknowledgement journal the records acknowledged in the last second before each kill would
 * come back uncounted.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCloudWatchPayload } from '../src/aws/cloudwatch-payload.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { privateCli, sleep, summaryOf } from './infra/cli-daemon.js';
import { createActiveStream, kinesisTestClient } from './infra/kinesis.js';
import { kinesisUrl } from './infra/services.js';

process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
process.env.AWS_REGION ??= 'us-east-1';
const { root, start } = privateCli('kinesis-crash');

let url: string;
let kinesis: KinesisClient;
/** The messages the receiver stored, in order (copies included). */
const stored: string[] = [];
let server: Server;
let receiverUrl: string;
beforeAll(async () => {
  url = kinesisUrl();
  kinesis = kinesisTestClient(url);
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      for (const l of Buffer.concat(parts).toString('utf8').split('\n'))
        if (l !== '') stored.push(String(JSON.parse(l)['@message']));
      setTimeout(() => res.writeHead(202).end(), 150);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  kinesis?.destroy();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

const EVENTS = 5;

/** Record `i`: a CloudWatch payload with events `event <i>/<k>`. */
function payload(i: number): Uint8Array {
  return encodeCloudWatchPayload({
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: '/aws/lambda/orders',
    logStream: '2026/12/06/[$LATEST]abc',
    subscriptionFilters: ['to-kinesis'],
    logEvents: Array.from({ length: EVENTS }, (_, k) => ({
      id: `${i}-${k}`,
      timestamp: 1_765_000_000_000 + i,
      message: `event ${i}/${k}`,
    })),
  });
}

/** Puts `perTick` records every `tickMs` over both shards until stopped; `next` records written. */
class Writer {
  next = 0;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  constructor(private readonly stream: string) {}
  start(perTick: number, tickMs: number): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const from = this.next;
        const res = await kinesis.send(
          new PutRecordsCommand({
            StreamName: this.stream,
            Records: Array.from({ length: perTick }, (_, k) => ({
              Data: payload(from + k),
              PartitionKey: `pk-${from + k}`,
            })),
          }),
        );
        expect(res.FailedRecordCount ?? 0).toBe(0);
        this.next += perTick;
        await sleep(tickMs);
      }
    })();
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

describe('kinesis source: kill -9 under load', () => {
  it('loses no event across two kill -9 and restarts; every duplicate in a sink that cannot dedupe is counted', async () => {
    const stream = `crash-${process.pid}-${Date.now()}`;
    await createActiveStream(kinesis, stream, 2);
    const dir = mkdtempSync(join(root, 'k-'));
    writeFileSync(
      join(dir, 'k.yaml'),
      [
        'dataDir: ./data',
        'sources:',
        `  stream: { type: kinesis, stream: ${stream}, endpoint: "${url}", pollIntervalMs: 200, maxRecords: 200 }`,
        'sinks:',
        `  out: { type: http, flavor: ndjson, url: "${receiverUrl}", maxAgeMs: 100 }`,
        '',
      ].join('\n'),
    );
    const state = join(dir, 'data', 'state', 'stream');
    const checkpoint = join(state, 'checkpoint.json');
    const writer = new Writer(stream);
    writer.start(20, 20); // ~500 records (2,500 events) a second
    try {
      for (let round = 0; round < 2; round++) {
        const d = start(['run', 'k.yaml', '--json'], dir);
        // Kill it mid-stream: once it has delivered and checkpointed something, then a little later
        // (between two checkpoint writes, a second apart).
        const before = existsSync(checkpoint) ? readFileSync(checkpoint, 'utf8') : '';
        for (let t = 0; t < 600; t++) {
          if (existsSync(checkpoint) && readFileSync(checkpoint, 'utf8') !== before) break;
          await sleep(50);
        }
        await sleep(500 + round * 300);
        expect(d.child.exitCode, d.stderr().slice(-2000)).toBeNull(); // still running under load
        d.child.kill('SIGKILL');
        await d.exited();
        // The journal holds what the checkpoint had no time to say.
        expect(readdirSync(state).some((f) => /^acked\.\d+\.journal$/.test(f))).toBe(true);
      }
    } finally {
      await writer.stop();
    }
    const total = writer.next;

    // Restart bounded: read every shard to its tip, exit.
    // In the background: the receiver answers from this process.
    const last = start(['run', 'k.yaml', '--once', '--json'], dir);
    const code = await last.exited();
    expect(last.stderr()).not.toMatch(/"level":"error"/);
    expect(code, last.stderr().slice(-2000)).toBe(0);
    const summary = summaryOf(last.stderr());
    expect(summary.balanced).toBe(true);
    expect(summary.events.failed).toBe(0);

    const seen = new Map<string, number>();
    for (const m of stored) seen.set(m, (seen.get(m) ?? 0) + 1);
    const missing: string[] = [];
    for (let i = 0; i < total; i++)
      for (let k = 0; k < EVENTS; k++) if (!seen.has(`event ${i}/${k}`)) missing.push(`${i}/${k}`);
    const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0);
    const since = summary.redelivered.sinceCleanStop;
    console.log(
      `kinesis crash test: ${total * EVENTS} events in ${total} records, 2 × kill -9; missing ${missing.length}, observed duplicates ${duplicates}; since the last clean stop across ${since?.starts} starts: certain ${since?.records}, possible ${since?.possible}, skipped ${since?.skipped}`,
    );
    expect(missing).toEqual([]);
    expect(seen.size).toBe(total * EVENTS);
    expect(since).toMatchObject({ starts: 3 });
    // Every duplicate is counted: at least the certain ones, at most those plus the possible ones.
    expect(since.records).toBeLessThanOrEqual(duplicates);
    expect(duplicates).toBeLessThanOrEqual(since.records + since.possible);
    // The clean stop reported it: the next start counts afresh.
    expect(existsSync(join(state, 'redelivered.journal'))).toBe(false);
    expect(duplicates).toBeLessThan((total * EVENTS) / 4);
  }, 120_000);
});
