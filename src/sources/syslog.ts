/**
 * The `syslog` source: RFC 5424 and RFC 3164 messages over UDP (one message per datagram,
 * RFC 5426) and TCP (RFC 6587: octet counting `LEN SP MSG`, or newline-terminated — told apart per
 * message with `framing: auto`), optionally TLS on TCP. Each message is parsed by the `syslog`
 * parser (src/parsers/syslog.ts): its fields (`pri`, `facility`, `severity`, `host`, `ident`, `pid`,
 * `msgid`, `extradata`, `message`) become the record's fields and its header time the event time;
 * `message` keeps the line as received. A line that is not syslog is kept as is (its receipt time,
 * no fields) and counted in `stats.unparsed`.
 *
 * Delivery: syslog has no acknowledgement. Over TCP, reading stops while the pipeline is at its
 * pending bound (`maxPendingRecords`/`maxPendingBytes`), so senders are slowed by TCP flow control
 * and nothing is dropped here; records that fail after receipt are counted `failed` and cannot be
 * redriven (the sender never hears of it). Over UDP there is neither acknowledgement nor flow
 * control: datagrams that arrive while the pipeline is at its bound are counted
 * (`stats.udp.overflow`) and dropped, with a warning at most every 10 s; everything that arrives is
 * counted (`stats.udp.datagrams`). Use TCP (or the `forward`/`http` sources) where loss matters.
 *
 * Limits: a message over `maxMessageBytes` is cut to that size and marked `truncated: true`
 * (newline framing) or ends its connection (octet counting announcing more). Listens on 127.0.0.1
 * unless `address` says otherwise.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { type AddressInfo, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { BuildContext, ComponentSpec } from '../core/component.js';
import type { Parser } from '../core/pipeline.js';
import { isParseFailure } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import type { Source } from '../core/source.js';
import { createSyslogParser } from '../parsers/syslog.js';
import { parsedTime } from '../parsers/time.js';
import { formatAddress, listenError, loadTls } from './listen.js';
import type { PushStats } from './push-queue.js';
import { ListenerSource } from './listener-source.js';
import { type SyslogSourceConfig, syslogSourceMeta } from './syslog-config.js';

/** Records gathered from UDP datagrams before they are handed over as one envelope. */
const UDP_BATCH_RECORDS = 1000;
const OVERFLOW_WARN_MS = 10_000;

export { type SyslogSourceConfig, syslogSourceConfig } from './syslog-config.js';

export interface SyslogSourceStats extends PushStats {
  tcp: { connections: number; messages: number; framingErrors: number };
  udp: { datagrams: number; overflow: number };
  /** Messages that are not syslog (kept as plain lines). */
  unparsed: number;
  truncated: number;
}

interface Conn {
  sock: Socket;
  peer: string;
  pending: Buffer;
  paused: boolean;
  closed: boolean;
}

export class SyslogSource extends ListenerSource<{ tcp?: AddressInfo; udp?: AddressInfo }> {
  readonly type = 'syslog';
  private readonly cfg: SyslogSourceConfig;
  private readonly parser: Parser;
  private server: Server | undefined;
  private udp: UdpSocket | undefined;
  private readonly conns = new Set<Conn>();
  private seq = 0;
  private readonly boot = Date.now().toString(36);
  private udpBatch: LogRecord[] = [];
  private udpBytes = 0;
  private udpFlushScheduled = false;
  private lastOverflowWarn = 0;
  private readonly counters = {
    tcp: { connections: 0, messages: 0, framingErrors: 0 },
    udp: { datagrams: 0, overflow: 0 },
    unparsed: 0,
    truncated: 0,
  };

  constructor(cfg: SyslogSourceConfig, ctx: BuildContext = {}) {
    super(cfg.name ?? 'syslog', cfg, ctx);
    this.cfg = cfg;
    this.parser = createSyslogParser({ mode: cfg.format, timeOffset: cfg.timeOffset });
  }

  get stats(): SyslogSourceStats {
    const c = this.counters;
    return {
      ...this.queue.stats,
      tcp: { ...c.tcp },
      udp: { ...c.udp },
      unparsed: c.unparsed,
      truncated: c.truncated,
    };
  }

  async close(): Promise<void> {
    this.queue.end();
    this.queue.failOutstanding();
    this.stopListening();
    for (const c of this.conns) c.sock.destroy();
    this.conns.clear();
  }

  protected async listen(): Promise<{ tcp?: AddressInfo; udp?: AddressInfo }> {
    const c = this.cfg;
    const out: { tcp?: AddressInfo; udp?: AddressInfo } = {};
    let port = c.port;
    if (c.mode !== 'udp') {
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
        const onError = (e: unknown) => reject(listenError(`${this.name} (TCP)`, c.address, port, e));
        server.once('error', onError);
        server.listen(port, c.address, () => {
          server.off('error', onError);
          resolve();
        });
      });
      server.on('error', (e) => this.log?.error(`${this.name}: server error`, { error: e.message }));
      out.tcp = server.address() as AddressInfo;
      port = out.tcp.port;
    }
    if (c.mode !== 'tcp') {
      const udp = createSocket(c.address.includes(':') ? 'udp6' : 'udp4');
      udp.on('message', (msg, rinfo) => this.datagram(msg, rinfo.address));
      await new Promise<void>((resolve, reject) => {
        udp.once('error', (e) => reject(listenError(`${this.name} (UDP)`, c.address, port, e)));
        udp.bind(port, c.address, () => resolve());
      });
      udp.on('error', (e) => this.log?.warn(`${this.name}: UDP socket error`, { error: e.message }));
      this.udp = udp;
      out.udp = udp.address();
    }
    this.log?.info(`${this.name}: listening`, {
      tcp: out.tcp ? formatAddress(out.tcp.address, out.tcp.port) : undefined,
      udp: out.udp ? formatAddress(out.udp.address, out.udp.port) : undefined,
    });
    return out;
  }

  protected stopListening(): void {
    this.server?.close();
    this.server = undefined;
    this.flushUdp();
    this.udp?.close();
    this.udp = undefined;
  }

  /** One record from one message (parsed; a non-syslog line kept as is). */
  private record(text: string, peer: string, ackId: string, id: string, now: number): LogRecord {
    let message = text;
    let truncated = false;
    if (message.length > this.cfg.maxMessageBytes) {
      message = message.slice(0, this.cfg.maxMessageBytes);
      truncated = true;
      this.counters.truncated++;
    }
    const r: LogRecord = {
      timestamp: now,
      message,
      fields: {},
      meta: {
        owner: '',
        logGroup: this.cfg.logGroup ?? this.name,
        logStream: peer,
        id,
        source: 'syslog',
        ackId,
      },
    };
    const parsed = this.parser.parse(message, r);
    if (isParseFailure(parsed)) this.counters.unparsed++;
    else {
      r.fields = parsed;
      const t = parsedTime(parsed);
      if (t !== undefined) r.timestamp = t;
      if (typeof parsed.host === 'string') r.meta.logStream = parsed.host;
    }
    if (this.cfg.tag !== undefined) r.fields.tag = this.cfg.tag;
    if (truncated) r.fields.truncated = true;
    return r;
  }

  // ------------------------------------------------------------------ UDP

  private datagram(msg: Buffer, from: string): void {
    this.counters.udp.datagrams++;
    if (this.queue.full || this.queue.closed) {
      this.counters.udp.overflow++;
      const now = Date.now();
      if (now - this.lastOverflowWarn >= OVERFLOW_WARN_MS) {
        this.lastOverflowWarn = now;
        this.log?.warn(`${this.name}: UDP datagrams dropped while the pipeline is at its pending bound`, {
          overflow: this.counters.udp.overflow,
        });
      }
      return;
    }
    let text = msg.toString('utf8');
    // RFC 5426: one message per datagram; some senders still end it with a newline.
    while (text.endsWith('\n') || text.endsWith('\0')) text = text.slice(0, -1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text === '') return;
    const n = this.udpBatch.length;
    const ackId = `${this.name}:udp:${this.boot}:${this.seq + 1}`;
    this.udpBatch.push(this.record(text, from, ackId, `${ackId}:${n}`, Date.now()));
    this.udpBytes += msg.length;
    if (this.udpBatch.length >= UDP_BATCH_RECORDS) this.flushUdp();
    else if (!this.udpFlushScheduled) {
      this.udpFlushScheduled = true;
      setImmediate(() => this.flushUdp());
    }
  }

  private flushUdp(): void {
    this.udpFlushScheduled = false;
    if (this.udpBatch.length === 0) return;
    const records = this.udpBatch;
    const ackId = records[0].meta.ackId;
    this.seq++;
    this.udpBatch = [];
    const bytes = this.udpBytes;
    this.udpBytes = 0;
    // No one to answer: the outcome is counted by the runner.
    this.queue.push({ ackId, records, bytes }, () => {});
  }

  // ------------------------------------------------------------------ TCP

  private accept(sock: Socket): void {
    this.counters.tcp.connections++;
    if (this.queue.closed) {
      sock.destroy();
      return;
    }
    const c: Conn = {
      sock,
      peer: sock.remoteAddress ?? 'unknown',
      pending: Buffer.alloc(0),
      paused: false,
      closed: false,
    };
    this.conns.add(c);
    sock.on('data', (d: Buffer) => {
      c.pending = c.pending.length === 0 ? d : Buffer.concat([c.pending, d]);
      this.consume(c, false);
    });
    sock.on('end', () => this.consume(c, true));
    sock.on('error', () => {});
    sock.on('close', () => {
      c.closed = true;
      this.conns.delete(c);
    });
  }

  /** Cuts complete messages from the connection's bytes into one envelope; `end`: flush the rest. */
  private consume(c: Conn, end: boolean) {
    if (c.closed && !end) return;
    const buf = c.pending;
    const max = this.cfg.maxMessageBytes;
    const framing = this.cfg.framing;
    const texts: string[] = [];
    let pos = 0;
    while (pos < buf.length) {
      const b = buf[pos];
      if (
        framing !== 'newline' &&
        b >= 0x31 &&
        b <= 0x39 &&
        this.octetCounted(buf, pos, framing === 'auto')
      ) {
        const sp = buf.indexOf(0x20, pos);
        if (sp < 0 || sp - pos > 10) {
          if (buf.length - pos <= 10 && !end) break; // the length is still arriving
          return this.failFraming(c, texts, pos, 'octet-counting length without a space');
        }
        const n = Number(buf.toString('latin1', pos, sp));
        if (n > max) {
          return this.failFraming(
            c,
            texts,
            pos,
            `octet-counted message of ${n} bytes exceeds maxMessageBytes ${max}`,
          );
        }
        if (sp + 1 + n > buf.length) {
          if (end) return this.failFraming(c, texts, pos, 'connection ended inside an octet-counted message');
          break;
        }
        texts.push(buf.toString('utf8', sp + 1, sp + 1 + n));
        pos = sp + 1 + n;
        continue;
      }
      if (framing === 'octet-counting') {
        return this.failFraming(c, texts, pos, 'expected an octet-counting length');
      }
      let nl = buf.indexOf(0x0a, pos);
      if (nl < 0) {
        if (buf.length - pos > max)
          nl = pos + max; // cut an endless line; counted as truncated
        else if (end) nl = buf.length;
        else break;
      }
      let stop = nl;
      if (stop > pos && buf[stop - 1] === 0x0d) stop--;
      if (stop > pos) texts.push(buf.toString('utf8', pos, stop));
      pos = nl + 1;
    }
    c.pending = pos >= buf.length ? Buffer.alloc(0) : buf.subarray(pos);
    if (texts.length > 0) this.pushTexts(c, texts, pos);
  }

  private failFraming(c: Conn, texts: string[], pos: number, reason: string): void {
    const rest = c.pending.subarray(pos);
    if (texts.length > 0) this.pushTexts(c, texts, pos);
    this.framingError(c, reason, Buffer.from(rest));
  }

  /** Octet counting at `pos`: `LEN SP` and (in auto mode) a `<PRI>` after it. */
  private octetCounted(buf: Buffer, pos: number, auto: boolean): boolean {
    let i = pos;
    while (i < buf.length && i - pos <= 10 && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
    if (i >= buf.length) return !auto || i - pos <= 10; // incomplete: decide when more arrives
    if (buf[i] !== 0x20) return false;
    if (!auto) return true;
    return i + 1 >= buf.length || buf[i + 1] === 0x3c;
  }

  private pushTexts(c: Conn, texts: string[], bytes: number): void {
    const ackId = `${this.name}:tcp:${this.boot}:${++this.seq}`;
    const now = Date.now();
    const records: LogRecord[] = new Array(texts.length);
    for (let i = 0; i < texts.length; i++)
      records[i] = this.record(texts[i], c.peer, ackId, `${ackId}:${i}`, now);
    this.counters.tcp.messages += texts.length;
    this.queue.push({ ackId, records, bytes }, () => {});
    if (this.queue.full && !c.paused && !c.closed) {
      c.paused = true;
      c.sock.pause();
      this.queue.throttled();
      void this.queue.whenRoom().then(() => {
        c.paused = false;
        if (!c.closed) c.sock.resume();
      });
    }
  }

  /** Ends a connection whose framing cannot be followed; its unread bytes go to the dead-letter sink. */
  private framingError(c: Conn, reason: string, rest: Buffer): void {
    this.counters.tcp.framingErrors++;
    this.log?.warn(`${this.name}: closing a connection`, { peer: c.peer, reason });
    if (rest.length > 0)
      this.queue.push(
        {
          ackId: `${this.name}:tcp:${this.boot}:${++this.seq}`,
          records: [],
          bytes: rest.length,
          malformed: { code: 'SYSLOG_FRAMING', reason, payload: rest.toString('base64') },
        },
        () => {},
      );
    c.closed = true;
    c.pending = Buffer.alloc(0);
    c.sock.destroy();
  }
}

export const syslogSourceSpec: ComponentSpec<SyslogSourceConfig, Source> = {
  ...syslogSourceMeta,
  create: (cfg, ctx) => new SyslogSource(cfg, ctx),
};
