/**
 * The `forward` source: a Fluent forward protocol v1 server
 * (https://github.com/fluent/fluentd/wiki/Forward-Protocol-Specification-v1) — what Fluent Bit's and
 * Fluentd's `forward` outputs, FireLens and the Docker fluentd log driver speak — so agents on nodes
 * ship to a logferry aggregator. All four carrier modes (Message, Forward, PackedForward,
 * CompressedPackedForward), EventTime (ext type 0), Fluent Bit's `[[time, metadata], record]`
 * entries, `nil` keep-alives and UDP heartbeats (a `0x00` byte answered with `0x00` on the same
 * port), optional TLS, and the optional shared-key handshake (HELO → PING → PONG; user/password
 * authorisation is not offered: HELO says `auth: ""`).
 *
 * Records: the sender's tag routes them (`match`) and is `fields.tag`; the record map becomes the
 * fields; `message` is its `log`, `message` or `msg` string, else the map as JSON; the event time
 * its time (EventTime to the millisecond: records carry ms). `meta.logGroup` is the tag (or
 * `logGroup`), `meta.logStream` the sender's address, ids `<chunk>:<n>` — a resent chunk yields the
 * same ids, so sinks that dedupe store it once.
 *
 * Delivery: with the `chunk` option (Fluent Bit `Require_ack_response on`, Fluentd
 * `require_ack_response`) the `{ack: chunk}` answer is written only once every record of the
 * message has an outcome (delivered, dropped on purpose or dead-lettered); when any failed, the
 * connection is closed without an ack and the sender sends the chunk again: lossless. Without
 * `chunk` the protocol has no answer and a failure cannot be reported (at most once for that
 * sender): turn acks on. A message that cannot be decoded goes whole to the dead-letter sink (and is
 * acked once stored); bytes that are not MessagePack at all end the connection after what was
 * buffered is dead-lettered.
 *
 * Push-back: while records and bytes handed to the pipeline and not acknowledged are at
 * `maxPendingRecords`/`maxPendingBytes`, connections stop being read (TCP flow control slows the
 * senders). A message over `maxMessageBytes` (or decompressing past `maxDecodedBytes`) ends its
 * connection with a warning. Listens on 127.0.0.1 unless `address` says otherwise.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { encode } from '@msgpack/msgpack';
import type { BuildContext, ComponentSpec } from '../../core/component.js';
import type { Outcome } from '../../core/outcome.js';
import type { LogRecord } from '../../core/record.js';
import type { Source, SourceEnvelope } from '../../core/source.js';
import { formatAddress, listenError, loadTls, resolveSecretRef } from '../listen.js';
import type { PushStats } from '../push-queue.js';
import { ListenerSource } from '../listener-source.js';
import { decodeForwardMessage, type ForwardEntry, forwardCodec } from './decode.js';
import { FrameError, type ScanState, scan } from './frame.js';
import { type ForwardSourceConfig, forwardSourceMeta } from './forward-config.js';

export { forwardSourceConfig, type ForwardSourceConfig } from './forward-config.js';

export interface ForwardSourceStats extends PushStats {
  connections: number;
  messages: number;
  /** Messages by carrier mode. */
  modes: { message: number; forward: number; packed: number; compressed: number };
  acksSent: number;
  heartbeats: { tcp: number; udp: number };
  handshakes: { ok: number; failed: number };
  /** Messages that were not arrays (ignored, as the protocol says). */
  ignored: number;
  /** Connections closed for bytes that are not MessagePack or oversized messages. */
  protocolErrors: number;
}

const MESSAGE_KEYS = ['log', 'message', 'msg'] as const;

interface Conn {
  id: string;
  sock: Socket;
  peer: string;
  /** The sender's address (`meta.logStream`). */
  host: string;
  buf: Buffer;
  len: number;
  start: number;
  st: ScanState;
  paused: boolean;
  authed: boolean;
  nonce: Buffer | undefined;
  seq: number;
  closed: boolean;
}

export class ForwardSource extends ListenerSource<AddressInfo> {
  readonly type = 'forward';
  private readonly cfg: ForwardSourceConfig;
  private server: Server | undefined;
  private udp: UdpSocket | undefined;
  private key: string | undefined;
  private readonly conns = new Set<Conn>();
  private connSeq = 0;
  private readonly boot = Date.now().toString(36);
  private readonly counters = {
    connections: 0,
    messages: 0,
    modes: { message: 0, forward: 0, packed: 0, compressed: 0 },
    acksSent: 0,
    heartbeats: { tcp: 0, udp: 0 },
    handshakes: { ok: 0, failed: 0 },
    ignored: 0,
    protocolErrors: 0,
  };

  constructor(cfg: ForwardSourceConfig, ctx: BuildContext = {}) {
    super(cfg.name ?? 'forward', cfg, ctx);
    this.cfg = cfg;
  }

  get stats(): ForwardSourceStats {
    const c = this.counters;
    return {
      ...this.queue.stats,
      ...c,
      modes: { ...c.modes },
      heartbeats: { ...c.heartbeats },
      handshakes: { ...c.handshakes },
    };
  }

  async close(): Promise<void> {
    this.queue.end();
    this.queue.failOutstanding();
    this.stopListening();
    for (const c of this.conns) c.sock.destroy();
    this.conns.clear();
  }

  protected async listen(): Promise<AddressInfo> {
    const c = this.cfg;
    if (c.sharedKey) this.key = await resolveSecretRef(c.sharedKey, this.ctx);
    const tls = await loadTls(c.tls, this.ctx.cwd ?? process.cwd());
    const onConn = (s: Socket) => this.accept(s);
    const server = tls
      ? createTlsServer(
          { ...tls, requestCert: tls.ca !== undefined, rejectUnauthorized: tls.ca !== undefined },
          onConn,
        )
      : createTcpServer(onConn);
    server.maxConnections = c.maxConnections;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: unknown) => reject(listenError(this.name, c.address, c.port, e));
      server.once('error', onError);
      server.listen(c.port, c.address, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (e) => this.log?.error(`${this.name}: server error`, { error: e.message }));
    const addr = server.address() as AddressInfo;
    if (c.heartbeat) await this.startHeartbeat(addr);
    this.log?.info(`${this.name}: listening`, {
      address: formatAddress(addr.address, addr.port),
      tls: tls !== undefined,
      handshake: this.key !== undefined,
    });
    return addr;
  }

  private async startHeartbeat(addr: AddressInfo): Promise<void> {
    const udp = createSocket(addr.family === 'IPv6' ? 'udp6' : 'udp4');
    udp.on('message', (_msg, rinfo) => {
      this.counters.heartbeats.udp++;
      udp.send(Buffer.from([0]), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', (e) =>
        reject(listenError(`${this.name} (UDP heartbeat)`, addr.address, addr.port, e)),
      );
      udp.bind(addr.port, addr.address, () => resolve());
    });
    udp.on('error', (e) => this.log?.warn(`${this.name}: heartbeat socket error`, { error: e.message }));
    this.udp = udp;
  }

  protected stopListening(): void {
    this.server?.close();
    this.server = undefined;
    this.udp?.close();
    this.udp = undefined;
  }

  private accept(sock: Socket): void {
    this.counters.connections++;
    if (this.queue.closed) {
      sock.destroy();
      return;
    }
    const conn: Conn = {
      id: `${this.boot}.${++this.connSeq}`,
      sock,
      peer: formatAddress(sock.remoteAddress ?? 'unknown', sock.remotePort ?? 0),
      host: sock.remoteAddress ?? 'unknown',
      buf: Buffer.alloc(0),
      len: 0,
      start: 0,
      st: { pos: 0, need: 1 },
      paused: false,
      authed: this.key === undefined,
      nonce: undefined,
      seq: 0,
      closed: false,
    };
    this.conns.add(conn);
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => {
      this.append(conn, chunk);
      this.process(conn);
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      conn.closed = true;
      this.conns.delete(conn);
    });
    if (this.key !== undefined) {
      conn.nonce = randomBytes(16);
      sock.write(encode(['HELO', { nonce: conn.nonce, auth: '', keepalive: true }]));
    }
  }

  private append(c: Conn, chunk: Buffer): void {
    if (c.start === c.len) {
      // Nothing pending: scan the chunk in place.
      c.buf = chunk;
      c.len = chunk.length;
      c.start = 0;
      c.st = { pos: 0, need: 1 };
      return;
    }
    const pending = c.len - c.start;
    const needed = pending + chunk.length;
    if (c.start > 0 || needed > c.buf.length) {
      // A new buffer (the old one may be a socket's chunk), doubling so a long message is copied O(n).
      const next = Buffer.allocUnsafe(
        Math.max(needed, Math.min(c.buf.length * 2, this.cfg.maxMessageBytes + 1)),
      );
      c.buf.copy(next, 0, c.start, c.len);
      c.st.pos -= c.start;
      c.buf = next;
      c.len = pending;
      c.start = 0;
    }
    chunk.copy(c.buf, c.len);
    c.len += chunk.length;
  }

  private process(c: Conn): void {
    while (!c.paused && !c.closed && c.start < c.len) {
      let end: number;
      try {
        end = scan(c.buf, c.len, c.st);
      } catch (e) {
        if (!(e instanceof FrameError)) throw e;
        this.protocolError(c, `bytes that are not MessagePack: ${e.message}`, c.buf.subarray(c.start, c.len));
        return;
      }
      if (end < 0) {
        if (c.len - c.start > this.cfg.maxMessageBytes)
          this.protocolError(c, `a message exceeds maxMessageBytes ${this.cfg.maxMessageBytes}`);
        return;
      }
      const msg = c.buf.subarray(c.start, end);
      c.start = end;
      c.st = { pos: end, need: 1 };
      if (msg.length > this.cfg.maxMessageBytes) {
        this.protocolError(
          c,
          `a message of ${msg.length} bytes exceeds maxMessageBytes ${this.cfg.maxMessageBytes}`,
        );
        return;
      }
      this.message(c, msg);
      if (this.queue.full && !c.closed) {
        c.paused = true;
        c.sock.pause();
        this.queue.throttled();
        void this.queue.whenRoom().then(() => {
          c.paused = false;
          if (c.closed) return;
          c.sock.resume();
          this.process(c);
        });
      }
    }
    if (c.start === c.len) {
      // All consumed: let the next chunk be scanned in place.
      c.start = 0;
      c.len = 0;
      c.st = { pos: 0, need: 1 };
    }
  }

  /** Ends a connection whose stream cannot be read; what it held goes to the dead-letter sink. */
  private protocolError(c: Conn, reason: string, payload?: Uint8Array): void {
    this.counters.protocolErrors++;
    this.log?.warn(`${this.name}: closing a connection`, { peer: c.peer, reason });
    if (payload && payload.length > 0)
      this.queue.push(
        {
          ackId: `${c.id}:${++c.seq}`,
          records: [],
          bytes: payload.length,
          malformed: {
            code: 'FORWARD_NOT_MSGPACK',
            reason,
            payload: Buffer.from(payload).toString('base64'),
          },
        },
        () => {},
      );
    c.closed = true;
    c.sock.destroy();
  }

  private message(c: Conn, msg: Buffer): void {
    const d = decodeForwardMessage(msg, { maxDecodedBytes: this.cfg.maxDecodedBytes });
    if (d.kind === 'heartbeat') {
      this.counters.heartbeats.tcp++;
      return;
    }
    if (d.kind === 'ignored') {
      this.counters.ignored++;
      return;
    }
    if (d.kind === 'handshake') {
      this.ping(c, d.message);
      return;
    }
    if (!c.authed) {
      this.counters.handshakes.failed++;
      this.protocolError(c, 'events before the shared-key handshake');
      return;
    }
    this.counters.messages++;
    const seq = ++c.seq;
    if (d.kind === 'error') {
      const ackId = d.chunk ?? `${c.id}:${seq}`;
      const env: SourceEnvelope = {
        ackId,
        records: [],
        bytes: msg.length,
        malformed: { code: d.code, reason: d.reason, payload: msg.toString('base64') },
      };
      this.queue.push(env, (o) => this.answer(c, d.chunk, o));
      return;
    }
    this.counters.modes[d.mode]++;
    const tag = this.cfg.tagPrefix === undefined ? d.tag : this.cfg.tagPrefix + d.tag;
    const ackId = d.options.chunk ?? `${c.id}:${seq}`;
    const records = this.records(d.entries, tag, ackId, c.host);
    const env: SourceEnvelope = { ackId, records, tag, bytes: msg.length };
    this.queue.push(env, (o) => this.answer(c, d.options.chunk, o));
  }

  private records(entries: ForwardEntry[], tag: string, ackId: string, host: string): LogRecord[] {
    const logGroup = this.cfg.logGroup ?? tag;
    const out: LogRecord[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const fields = e.record;
      let message: string | undefined;
      for (const k of MESSAGE_KEYS) {
        const v = fields[k];
        if (typeof v === 'string') {
          message = v;
          break;
        }
      }
      if (message === undefined) message = safeJson(fields);
      fields.tag = tag;
      if (e.metadata) fields.metadata = e.metadata;
      out[i] = {
        timestamp: e.time,
        message,
        fields,
        meta: { owner: '', logGroup, logStream: host, id: `${ackId}:${i}`, source: 'forward', ackId },
      };
    }
    return out;
  }

  /** After the outcome: `{ack: chunk}` when asked for; a failure closes the connection unacked. */
  private answer(c: Conn, chunk: string | undefined, o: Outcome): void {
    if (c.closed) return;
    if (o.kind === 'failed') {
      this.log?.warn(`${this.name}: records failed; closing the connection so the sender sends them again`, {
        peer: c.peer,
        code: o.code,
      });
      c.closed = true;
      c.sock.destroy();
      return;
    }
    if (chunk === undefined) return;
    this.counters.acksSent++;
    c.sock.write(encode({ ack: chunk }));
  }

  /** PING → PONG (shared-key check); a failed check answers PONG false and closes. */
  private ping(c: Conn, m: unknown[]): void {
    if (this.key === undefined || c.nonce === undefined) return;
    const self = this.cfg.selfHostname ?? hostname();
    const bytes = (v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(typeof v === 'string' ? v : '', 'utf8');
    const [, clientHost, salt, digest] = m;
    const sha = (...parts: Buffer[]) => createHash('sha512').update(Buffer.concat(parts)).digest('hex');
    const key = Buffer.from(this.key, 'utf8');
    const expected = sha(bytes(salt), bytes(clientHost), c.nonce, key);
    const presented = bytes(digest).toString('latin1');
    const ok = presented.length === expected.length && presented === expected;
    if (!ok) {
      this.counters.handshakes.failed++;
      c.sock.end(encode(['PONG', false, 'shared key mismatch', self, '']));
      c.closed = true;
      this.log?.warn(`${this.name}: handshake failed (shared key mismatch)`, { peer: c.peer });
      return;
    }
    this.counters.handshakes.ok++;
    c.authed = true;
    c.sock.write(encode(['PONG', true, '', self, sha(bytes(salt), Buffer.from(self, 'utf8'), c.nonce, key)]));
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  } catch {
    return String(v);
  }
}

/** The codec (EventTime ext type 0) for clients and tests. */
export { forwardCodec };

export const forwardSourceSpec: ComponentSpec<ForwardSourceConfig, Source> = {
  ...forwardSourceMeta,
  create: (cfg, ctx) => new ForwardSource(cfg, ctx),
};
