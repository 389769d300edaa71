/**
 * The `cloudwatch` source in live mode. moto has no StartLiveTail, so this runs the real SDK client
 * against a local stand-in written from the API reference: StartLiveTail (JSON 1.1, target
 * `Logs_20140328.StartLiveTail`) answered with an `application/vnd.amazon.eventstream` body of
 * binary event-stream frames — `sessionStart`, `sessionUpdate` (with `sessionMetadata.sampled` and
 * `sessionResults`), and the `SessionTimeoutException` that ends a session after 3 hours — while
 * every other call (DescribeLogGroups) is proxied to moto's CloudWatch Logs, so group selection is
 * real. Asserts the request (ARNs without `:*`, at most 10, the filter pattern), records with
 * group, stream, owner and stable ids, a reconnect after the session timeout, the sampling warning.
 */
import {
  createServer,
  type IncomingMessage,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  type CloudWatchLogsClientConfig,
  CreateLogGroupCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import type { MessageHeaders } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig } from '../src/aws/clients.js';
import type { Logger } from '../src/core/component.js';
import { runDaemon } from '../src/core/daemon.js';
import type { LogRecord } from '../src/core/record.js';
import type { Encoded, SendResult, Sink } from '../src/core/sink.js';
import { CloudWatchSource, cloudwatchSourceConfig } from '../src/sources/cloudwatch.js';
import { motoUrl } from './infra/services.js';

const run = `lt${Date.now().toString(36)}`;
const ACCOUNT = '123456789012';
const codec = new EventStreamCodec(toUtf8, fromUtf8);

function frame(kind: 'event' | 'exception', type: string, body: object): Uint8Array {
  const headers: MessageHeaders =
    kind === 'event'
      ? {
          ':message-type': { type: 'string' as const, value: 'event' },
          ':event-type': { type: 'string' as const, value: type },
          ':content-type': { type: 'string' as const, value: 'application/json' },
        }
      : {
          ':message-type': { type: 'string' as const, value: 'exception' },
          ':exception-type': { type: 'string' as const, value: type },
          ':content-type': { type: 'string' as const, value: 'application/json' },
        };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify(body)) });
}

interface Session {
  request: { logGroupIdentifiers: string[]; logEventFilterPattern?: string };
}

/**
 * StartLiveTail stand-in; everything else goes to moto. `script(n)` gives session n's frames; a
 * trailing `null` keeps the stream open (a quiet session) instead of ending it.
 */
function standIn(moto: string, script: (n: number, req: Session['request']) => (Uint8Array | null)[]) {
  const sessions: Session[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (String(req.headers['x-amz-target']) === 'Logs_20140328.StartLiveTail') {
        const request = JSON.parse(body.toString('utf8'));
        const bad = (request.logGroupIdentifiers ?? []).find(
          (a: string) => !/^arn:aws:logs:[^:]+:\d{12}:log-group:[^*]+$/.test(a),
        );
        if (bad || !request.logGroupIdentifiers?.length || request.logGroupIdentifiers.length > 10) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(
            JSON.stringify({
              __type: 'InvalidParameterException',
              message: `bad logGroupIdentifiers ${bad ?? ''}`,
            }),
          );
          return;
        }
        sessions.push({ request });
        res.writeHead(200, {
          'content-type': 'application/vnd.amazon.eventstream',
          'x-amzn-requestid': `req-${sessions.length}`,
        });
        const frames = script(sessions.length, request);
        let i = 0;
        const next = () => {
          if (i >= frames.length) return res.end();
          const f = frames[i++];
          if (f === null) return; // held open until the client goes away
          res.write(f);
          setTimeout(next, 5);
        };
        next();
        return;
      }
      const u = new URL(moto);
      const up = httpRequest(
        { host: u.hostname, port: u.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.end(body);
    });
  });
  return { server, sessions };
}

class MemorySink implements Sink<LogRecord> {
  readonly type = 'memory';
  readonly name = 'mem';
  readonly limits = { maxRecords: 100, maxBytes: 1 << 20, maxRecordBytes: 1 << 18, maxAgeMs: 20 };
  readonly got: LogRecord[] = [];
  onRecord?: (n: number) => void;
  encode(r: LogRecord): Encoded<LogRecord> {
    return { record: r, data: r, bytes: r.message.length };
  }
  async send(batch: readonly Encoded<LogRecord>[]): Promise<SendResult> {
    for (const e of batch) this.got.push(e.data);
    this.onRecord?.(this.got.length);
    return { problems: [] };
  }
}

let moto: string;
let logs: CloudWatchLogsClient;
const groups = [`/aws/lambda/${run}-orders`, `/aws/lambda/${run}-payments`];

beforeAll(async () => {
  moto = motoUrl();
  logs = new CloudWatchLogsClient(
    clientConfig('logs', { endpoint: moto, maxAttempts: 3 }) as CloudWatchLogsClientConfig,
  );
  for (const g of groups) await logs.send(new CreateLogGroupCommand({ logGroupName: g }));
});
afterAll(() => logs?.destroy());

describe('cloudwatch source: live tail (StartLiveTail stand-in)', () => {
  it('follows the groups through the SDK event stream, reconnects after a session timeout, warns when sampled', async () => {
    const arn = (g: string) => `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:${g}`;
    const event = (g: string, ident: string, stream: string, ts: number, message: string) => ({
      logStreamName: stream,
      logGroupIdentifier: ident,
      message,
      timestamp: ts,
      ingestionTime: ts + 40,
    });
    const t = 1_764_928_800_000;
    const { server, sessions } = standIn(moto, (n) =>
      n === 1
        ? [
            frame('event', 'sessionStart', {
              requestId: 'r1',
              sessionId: 's1',
              logGroupIdentifiers: groups.map(arn),
            }),
            frame('event', 'sessionUpdate', {
              sessionMetadata: { sampled: false },
              sessionResults: [
                event(groups[0], arn(groups[0]), '2026/12/05/[$LATEST]a', t, 'START RequestId: 1'),
                event(
                  groups[1],
                  `${ACCOUNT}:${groups[1]}`,
                  '2026/12/05/[$LATEST]b',
                  t + 1,
                  'charged order 7',
                ),
              ],
            }),
            frame('event', 'sessionUpdate', { sessionMetadata: { sampled: false }, sessionResults: [] }),
            frame('exception', 'SessionTimeoutException', { message: 'Session timed out after 3 hours' }),
          ]
        : [
            frame('event', 'sessionStart', {
              requestId: 'r2',
              sessionId: 's2',
              logGroupIdentifiers: groups.map(arn),
            }),
            frame('event', 'sessionUpdate', {
              sessionMetadata: { sampled: true },
              sessionResults: [
                event(groups[0], arn(groups[0]), '2026/12/05/[$LATEST]a', t + 5, 'END RequestId: 1'),
              ],
            }),
          ],
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const warnings: string[] = [];
    const log: Logger = { debug() {}, info() {}, error() {}, warn: (m) => warnings.push(m) };
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const src = new CloudWatchSource(
        cloudwatchSourceConfig.parse({
          type: 'cloudwatch',
          mode: 'live',
          prefix: `/aws/lambda/${run}-`,
          filterPattern: 'RequestId',
          endpoint,
          dataDir: mkdtempSync(join(tmpdir(), 'lf-lt-')),
        }),
        { log },
        { random: () => 0 },
      );
      const sink = new MemorySink();
      const stop = new AbortController();
      sink.onRecord = (n) => {
        if (n >= 3) stop.abort();
      };
      const res = await runDaemon({
        sources: [src],
        transforms: [],
        sinks: [{ name: 'mem', sink }],
        signal: stop.signal,
        log,
      });
      expect(res.sourceErrors).toEqual([]);
      expect(sessions).toHaveLength(2); // reconnected after SessionTimeoutException
      expect(sessions[0].request.logGroupIdentifiers.sort()).toEqual(groups.map(arn).sort());
      expect(sessions[0].request.logEventFilterPattern).toBe('RequestId');
      expect(
        sink.got.map((r) => [r.meta.logGroup, r.meta.logStream, r.meta.owner, r.timestamp, r.message]),
      ).toEqual([
        [groups[0], '2026/12/05/[$LATEST]a', ACCOUNT, t, 'START RequestId: 1'],
        [groups[1], '2026/12/05/[$LATEST]b', ACCOUNT, t + 1, 'charged order 7'],
        [groups[0], '2026/12/05/[$LATEST]a', ACCOUNT, t + 5, 'END RequestId: 1'],
      ]);
      const ids = sink.got.map((r) => r.meta.id);
      expect(new Set(ids).size).toBe(3);
      expect(ids.every((id) => /^[A-Za-z0-9_-]{32}$/.test(id))).toBe(true);
      expect(src.stats).toMatchObject({ liveSessions: 2, sampledUpdates: 1, events: 3 });
      expect(warnings.some((w) => w.includes('sampled'))).toBe(true);
      expect(res.tally.balanced()).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  }, 60_000);

  it('refuses more than 10 groups per session with a sentence', async () => {
    const many = Array.from({ length: 11 }, (_, i) => `/aws/ecs/${run}-svc-${i}`);
    for (const g of many) await logs.send(new CreateLogGroupCommand({ logGroupName: g }));
    const src = new CloudWatchSource(
      cloudwatchSourceConfig.parse({
        type: 'cloudwatch',
        mode: 'live',
        prefix: `/aws/ecs/${run}-`,
        endpoint: moto,
      }),
    );
    const res = await runDaemon({
      sources: [src],
      transforms: [],
      sinks: [{ name: 'mem', sink: new MemorySink() }],
    });
    expect(res.sourceErrors[0]?.error).toMatch(/at most 10 log groups per session; the selection has 11/);
  });
});
