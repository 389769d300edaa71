import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Decoder, encode } from '@msgpack/msgpack';
import { EventTime as ClientEventTime, FluentClient } from '@fluent-org/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { startNdjsonServer } from '../../../test/infra/http-log-services.js';
import { consume, waitFor } from '../../../test/infra/net-sources.js';
import { runDaemon } from '../../core/daemon.js';
import { checkGraph } from '../../core/graph.js';
import { DELIVERED } from '../../core/outcome.js';
import { HttpSink, httpSinkConfig } from '../../sinks/http.js';
import { EventTime, forwardCodec } from './decode.js';
import { ForwardSource, forwardSourceConfig } from './forward-source.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function source(cfg: Record<string, unknown> = {}, env: Record<string, string> = {}): ForwardSource {
  return new ForwardSource(forwardSourceConfig.parse({ type: 'forward', port: 0, ...cfg }), {
    resolveSecret: async (ref) => env[ref.slice(4)] ?? Promise.reject(new Error(`no ${ref}`)),
  });
}

async function started(src: ForwardSource, ack?: Parameters<typeof consume>[1]) {
  const c = consume(src, ack);
  cleanup.push(() => c.stop());
  const a = await src.ready;
  return { c, port: a.port };
}

/**
 * A client written from the forward protocol v1 spec: raw TCP, msgpack messages, and every object
 * the server writes back (acks, HELO, PONG) decoded in order.
 */
class RawClient {
  readonly replies: unknown[] = [];
  closed = false;
  private readonly dec = new Decoder({ extensionCodec: forwardCodec });
  private pending = Buffer.alloc(0);
  private constructor(readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.pending = Buffer.concat([this.pending, d]);
      try {
        for (const o of this.dec.decodeMulti(this.pending)) this.replies.push(o);
        this.pending = Buffer.alloc(0);
      } catch {
        // incomplete: wait for more bytes
      }
    });
    sock.on('close', () => {
      this.closed = true;
    });
    sock.on('error', () => {});
  }
  static async open(port: number): Promise<RawClient> {
    const s = connect(port, '127.0.0.1');
    await new Promise<void>((r, j) => {
      s.once('connect', () => r());
      s.once('error', j);
    });
    const c = new RawClient(s);
    cleanup.push(async () => void s.destroy());
    return c;
  }
  send(msg: unknown): void {
    this.sock.write(encode(msg, { extensionCodec: forwardCodec }));
  }
  write(bytes: Uint8Array): void {
    this.sock.write(bytes);
  }
}

const packed = (entries: unknown[]) =>
  Buffer.concat(entries.map((e) => Buffer.from(encode(e, { extensionCodec: forwardCodec }))));

describe('forward source: carrier modes (protocol-exact client)', () => {
  it('Message mode with EventTime: the ack comes only after the outcome; nanoseconds become the ms time', async () => {
    const src = source();
    const { c, port } = await started(src, () => undefined);
    const cl = await RawClient.open(port);
    cl.send(['app.web', new EventTime(1_700_000_000, 123_456_789), { log: 'hello', n: 1 }, { chunk: 'c-1' }]);
    await waitFor(() => c.got.length === 1, 'message');
    const env = c.got[0];
    expect(env.tag).toBe('app.web');
    expect(env.ackId).toBe('c-1');
    const r = env.records[0];
    expect(r.timestamp).toBe(1_700_000_000_123);
    expect(r.message).toBe('hello');
    expect(r.fields).toMatchObject({ log: 'hello', n: 1, tag: 'app.web' });
    expect(r.meta).toMatchObject({ logGroup: 'app.web', id: 'c-1:0', source: 'forward' });
    await new Promise((res) => setTimeout(res, 30));
    expect(cl.replies).toEqual([]);
    await c.settle(0);
    await waitFor(() => cl.replies.length === 1, 'ack');
    expect(cl.replies[0]).toEqual({ ack: 'c-1' });
    expect(new EventTime(1_700_000_000, 123_456_789).ns).toBe(1_700_000_000_123_456_789n);
  });

  it('Forward, PackedForward (bin and str) and CompressedPackedForward (concatenated gzip members)', async () => {
    const src = source();
    const { c, port } = await started(src);
    const cl = await RawClient.open(port);
    cl.send([
      'fwd',
      [
        [1_700_000_001, { message: 'f1' }],
        [1_700_000_002, { message: 'f2' }],
      ],
      { chunk: 'a' },
    ]);
    const entries = [
      [new EventTime(1_700_000_003, 0), { msg: 'p1' }],
      [[new EventTime(1_700_000_004, 5_000_000), { host: 'n1' }], { msg: 'p2' }],
    ];
    cl.send(['packed', packed(entries), { chunk: 'b', size: 2 }]);
    // Fluentd's out_forward sends the stream as msgpack str: build that by hand (0xdb = str32).
    const stream = packed([[1_700_000_005, { log: 's1' }]]);
    const head = Buffer.from([0x93, 0xa3, ...Buffer.from('str'), 0xdb, 0, 0, 0, stream.length]);
    cl.write(Buffer.concat([head, stream, Buffer.from(encode({ chunk: 'c' }))]));
    const gz = Buffer.concat([
      gzipSync(packed([[1_700_000_006, { log: 'z1' }]])),
      gzipSync(packed([[1_700_000_007, { log: 'z2' }]])),
    ]);
    cl.send(['zip', gz, { chunk: 'd', compressed: 'gzip', size: 2 }]);
    await waitFor(() => cl.replies.length === 4, 'four acks');
    expect(cl.replies).toEqual([{ ack: 'a' }, { ack: 'b' }, { ack: 'c' }, { ack: 'd' }]);
    expect(c.messages()).toEqual(['f1', 'f2', 'p1', 'p2', 's1', 'z1', 'z2']);
    expect(c.got.map((e) => e.tag)).toEqual(['fwd', 'packed', 'str', 'zip']);
    expect(c.got[1].records[1].fields.metadata).toEqual({ host: 'n1' });
    expect(c.got[1].records[1].timestamp).toBe(1_700_000_004_005);
    expect(src.stats.modes).toEqual({ message: 0, forward: 1, packed: 2, compressed: 1 });
  });

  it('reassembles messages split anywhere across TCP segments and several in one segment', async () => {
    const src = source();
    const { c, port } = await started(src);
    const cl = await RawClient.open(port);
    const bytes = Buffer.concat([
      Buffer.from(encode(['t', [[1, { log: 'x'.repeat(70_000) }]], { chunk: 'big' }])),
      Buffer.from(encode(['t', 2, { log: 'small' }])),
      Buffer.from(encode(null)),
    ]);
    for (let i = 0; i < bytes.length; i += 997) {
      cl.write(bytes.subarray(i, i + 997));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => c.got.length === 2, 'two messages');
    expect(c.got[0].records[0].message).toHaveLength(70_000);
    expect(c.got[1].records[0].message).toBe('small');
    await waitFor(() => src.stats.heartbeats.tcp === 1, 'nil keep-alive');
  });

  it('a failed outcome closes the connection without an ack (the sender resends); a resent chunk has the same ids', async () => {
    const src = source();
    const { c, port } = await started(src, (_e, i) =>
      i === 0 ? { kind: 'failed', code: 'SINK_UNAVAILABLE' } : DELIVERED,
    );
    const cl = await RawClient.open(port);
    const msg = ['t', [[1, { log: 'a' }]], { chunk: 'same' }];
    cl.send(msg);
    await waitFor(() => cl.closed, 'connection closed');
    expect(cl.replies).toEqual([]);
    const again = await RawClient.open(port);
    again.send(msg);
    await waitFor(() => again.replies.length === 1, 'ack of the resend');
    expect(again.replies[0]).toEqual({ ack: 'same' });
    expect(c.got[0].records[0].meta.id).toBe(c.got[1].records[0].meta.id);
  });

  it('a message that cannot be decoded is dead-lettered and acked; bytes that are not MessagePack end the connection', async () => {
    const src = source();
    const { c, port } = await started(src);
    const cl = await RawClient.open(port);
    cl.send(['t', [[1, 'not a map']], { chunk: 'bad' }]);
    await waitFor(() => cl.replies.length === 1, 'ack of the malformed chunk');
    expect(c.got[0].malformed).toMatchObject({ code: 'FORWARD_BAD_ENTRY' });
    expect(c.got[0].malformed?.reason).toContain('not a map');
    cl.send('a string, not an array'); // ignored, as the spec says
    cl.write(Buffer.from([0xc1, 1, 2, 3]));
    await waitFor(() => cl.closed, 'closed');
    await waitFor(() => c.got.length === 2, 'dead-lettered bytes');
    expect(c.got[1].malformed?.code).toBe('FORWARD_NOT_MSGPACK');
    expect(Buffer.from(c.got[1].malformed?.payload ?? '', 'base64')).toEqual(Buffer.from([0xc1, 1, 2, 3]));
    expect(src.stats.ignored).toBe(1);
  });

  it('stops reading connections at the pending bound and resumes when records settle', async () => {
    const src = source({ maxPendingRecords: 2 });
    const { c, port } = await started(src, () => undefined);
    const cl = await RawClient.open(port);
    for (let i = 0; i < 5; i++)
      cl.send([
        't',
        [
          [1, { log: `a${i}` }],
          [1, { log: `b${i}` }],
        ],
        { chunk: `k${i}` },
      ]);
    await waitFor(() => c.got.length === 1, 'first message');
    await new Promise((r) => setTimeout(r, 50));
    expect(c.got).toHaveLength(1);
    expect(src.stats.throttled).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) {
      await waitFor(() => c.got.length === i + 1, `message ${i}`);
      await c.settle(i);
    }
    await waitFor(() => cl.replies.length === 5, 'all acks');
  });

  it('refuses connections beyond maxConnections', async () => {
    const src = source({ maxConnections: 1 });
    const { c, port } = await started(src);
    const first = await RawClient.open(port);
    const second = await RawClient.open(port);
    await waitFor(() => second.closed, 'second connection refused');
    first.send(['t', 1, { log: 'still served' }]);
    await waitFor(() => c.messages().length === 1, 'first connection served');
    expect(first.closed).toBe(false);
  });

  it('answers UDP heartbeats with 0x00 on the same port', async () => {
    const src = source();
    const { port } = await started(src);
    const udp = createSocket('udp4');
    cleanup.push(async () => {
      udp.close();
    });
    const reply = new Promise<Buffer>((r) => udp.once('message', (m) => r(m)));
    udp.send(Buffer.from([0]), port, '127.0.0.1');
    expect(await reply).toEqual(Buffer.from([0]));
  });
});

describe('forward source: shared-key handshake', () => {
  const sha = (...p: (string | Buffer)[]) =>
    createHash('sha512')
      .update(Buffer.concat(p.map((x) => (typeof x === 'string' ? Buffer.from(x) : x))))
      .digest('hex');

  it('HELO → PING → PONG with the right digests; a wrong key gets PONG false and the connection closes', async () => {
    const src = source({ sharedKey: 'env:FWD_KEY', selfHostname: 'agg.example' }, { FWD_KEY: 'k3y-secret' });
    const { c, port } = await started(src);
    const cl = await RawClient.open(port);
    await waitFor(() => cl.replies.length === 1, 'HELO');
    const [type, opts] = cl.replies[0] as [string, { nonce: Uint8Array; auth: string; keepalive: boolean }];
    expect(type).toBe('HELO');
    expect(opts.auth).toBe('');
    const nonce = Buffer.from(opts.nonce);
    const salt = randomBytes(16);
    cl.send(['PING', 'node-1', salt, sha(salt, 'node-1', nonce, 'k3y-secret'), '', '']);
    await waitFor(() => cl.replies.length === 2, 'PONG');
    expect(cl.replies[1]).toEqual([
      'PONG',
      true,
      '',
      'agg.example',
      sha(salt, 'agg.example', nonce, 'k3y-secret'),
    ]);
    cl.send(['t', 1, { log: 'authed' }, { chunk: 'x' }]);
    await waitFor(() => cl.replies.length === 3, 'ack');
    expect(c.messages()).toEqual(['authed']);

    // Fluent Bit packs its 16 random salt bytes as msgpack str (not valid UTF-8): they must be
    // hashed as bytes, not as decoded text.
    const fb = await RawClient.open(port);
    await waitFor(() => fb.replies.length === 1, 'HELO');
    const n3 = Buffer.from((fb.replies[0] as [string, { nonce: Uint8Array }])[1].nonce);
    const rawSalt = Buffer.from([0xff, 0xfe, 0x80, 0x00, 0xc3, 0x28, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const str = (b: Buffer) => Buffer.concat([Buffer.from([0xd9, b.length]), b]);
    const ping = Buffer.concat([
      Buffer.from([0x96]),
      Buffer.from(encode('PING')),
      Buffer.from(encode('node-3')),
      str(rawSalt),
      str(Buffer.from(sha(rawSalt, 'node-3', n3, 'k3y-secret'))),
      Buffer.from(encode('')),
      Buffer.from(encode('')),
    ]);
    fb.write(ping);
    await waitFor(() => fb.replies.length === 2, 'PONG to a str salt');
    expect(fb.replies[1]).toEqual([
      'PONG',
      true,
      '',
      'agg.example',
      sha(rawSalt, 'agg.example', n3, 'k3y-secret'),
    ]);

    const bad = await RawClient.open(port);
    await waitFor(() => bad.replies.length === 1, 'HELO');
    const n2 = Buffer.from((bad.replies[0] as [string, { nonce: Uint8Array }])[1].nonce);
    bad.send(['PING', 'node-2', salt, sha(salt, 'node-2', n2, 'wrong'), '', '']);
    await waitFor(() => bad.closed, 'closed');
    expect((bad.replies[1] as unknown[]).slice(0, 2)).toEqual(['PONG', false]);

    const skip = await RawClient.open(port);
    skip.send(['t', 1, { log: 'no handshake' }]);
    await waitFor(() => skip.closed, 'events before the handshake close the connection');
    expect(c.messages()).toEqual(['authed']);
    expect(src.stats.handshakes).toEqual({ ok: 2, failed: 2 });
  });
});

describe('forward source with @fluent-org/logger through the runner', () => {
  it('all four event modes with acks and a shared key; sinks are chosen by the sender tag (match)', async () => {
    const app = await startNdjsonServer();
    const sys = await startNdjsonServer();
    cleanup.push(
      () => app.close(),
      () => sys.close(),
    );
    const sink = (url: string, name: string) =>
      new HttpSink(httpSinkConfig.parse({ type: 'http', name, flavor: 'ndjson', url, maxAgeMs: 20 }));
    const src = source({ sharedKey: 'env:K' }, { K: 'shared-k3y' });
    const ac = new AbortController();
    const run = runDaemon({
      sources: [src],
      transforms: [],
      sinks: [
        { name: 'app', sink: sink(app.url, 'app'), match: 'app.*' },
        { name: 'sys', sink: sink(sys.url, 'sys'), match: 'sys.*' },
      ],
      sourceTags: { forward: '*' },
      signal: ac.signal,
    });
    const port = (await src.ready).port;
    const modes = ['Message', 'Forward', 'PackedForward', 'CompressedPackedForward'] as const;
    for (const eventMode of modes) {
      const client = new FluentClient(null, {
        eventMode,
        ack: { ackTimeout: 5000 },
        socket: { host: '127.0.0.1', port, timeout: 5000 },
        security: { clientHostname: `client-${eventMode}`, sharedKey: 'shared-k3y' },
      });
      await client.emit(
        'app.web',
        { log: `via ${eventMode}` },
        new ClientEventTime(1_700_000_100, 42_000_000),
      );
      await client.emit('sys.kernel', { log: `sys ${eventMode}` });
      await client.disconnect();
    }
    // The ack promise resolved only after delivery: both receivers already hold the records.
    expect(app.docs.map((d) => d['@message']).sort()).toEqual(modes.map((m) => `via ${m}`).sort());
    expect(app.docs.every((d) => d['@timestamp'] === '2023-11-14T22:15:00.042Z')).toBe(true);
    expect(sys.docs.map((d) => d['@message']).sort()).toEqual(modes.map((m) => `sys ${m}`).sort());
    ac.abort();
    const r = await run;
    expect(r.balanced).toBe(true);
    expect(r.tally.total).toMatchObject({ received: 8, delivered: 8 });
  });
});

describe('forward source: tag routing in the graph', () => {
  it('a source tag with `*` declares the tags its records carry: overlapping match patterns pass, others are refused', () => {
    const g = (match: string) =>
      checkGraph({
        sources: [{ name: 'agents', tag: 'kube.*' }],
        transforms: [],
        sinks: [{ name: 's', match }],
      });
    expect(g('kube.var.log.*')).toEqual([]);
    expect(g('*')).toEqual([]);
    expect(g('app.*')[0]).toMatch(/matches no source's tag/);
  });
});
