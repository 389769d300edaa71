import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { consume, pipeline, waitFor } from '../../test/infra/net-sources.js';
import { SyslogSource, syslogSourceConfig } from './syslog.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function source(cfg: Record<string, unknown> = {}): SyslogSource {
  return new SyslogSource(syslogSourceConfig.parse({ type: 'syslog', port: 0, ...cfg }));
}

async function started(src: SyslogSource, ack?: Parameters<typeof consume>[1]) {
  const c = consume(src, ack);
  cleanup.push(() => c.stop());
  const a = await src.ready;
  return { c, tcp: a.tcp?.port ?? 0, udp: a.udp?.port ?? 0 };
}

async function tcp(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => {
    s.once('connect', () => r());
    s.once('error', j);
  });
  s.on('error', () => {});
  cleanup.push(async () => void s.destroy());
  return s;
}

const R5424 =
  '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event';
const R3164 = "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8";

describe('syslog source: TCP', () => {
  it('newline framing and octet counting (auto-detected per message), split across segments; fields and event time from the parser', async () => {
    const src = source({ mode: 'tcp' });
    const { c, tcp: port } = await started(src);
    const s = await tcp(port);
    const octet = `${Buffer.byteLength(R5424)} ${R5424}`;
    const bytes = Buffer.from(`${R3164}\r\n${octet}not syslog at all\n`);
    for (let i = 0; i < bytes.length; i += 7) {
      s.write(bytes.subarray(i, i + 7));
      await new Promise((r) => setTimeout(r, 1));
    }
    await waitFor(() => c.messages().length === 3, 'three messages');
    const [a, b, x] = c.got.flatMap((e) => e.records);
    expect(a.message).toBe(R3164);
    expect(a.fields).toMatchObject({
      pri: 34,
      facility: 'auth',
      severity: 'crit',
      host: 'mymachine',
      ident: 'su',
      pid: '230',
    });
    expect(new Date(a.timestamp).getUTCMonth()).toBe(9);
    expect(a.meta.logStream).toBe('mymachine');
    expect(b.message).toBe(R5424);
    expect(b.timestamp).toBe(Date.UTC(2003, 9, 11, 22, 14, 15, 3));
    expect(b.fields).toMatchObject({
      facility: 'local4',
      severity: 'notice',
      host: 'mymachine.example.com',
      ident: 'evntslog',
      msgid: 'ID47',
      extradata: { 'exampleSDID@32473': { iut: '3' } },
      message: 'An application event',
    });
    expect(x.message).toBe('not syslog at all');
    expect(x.fields).toEqual({});
    expect(src.stats.unparsed).toBe(1);
  });

  it('an octet-counted length over maxMessageBytes closes the connection and dead-letters the unread bytes', async () => {
    const src = source({ mode: 'tcp', framing: 'octet-counting', maxMessageBytes: 512 });
    const { c, tcp: port } = await started(src);
    const s = await tcp(port);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.write(`5 <1>1 9999 <1>1 - - - - - x`);
    await closed;
    await waitFor(() => c.got.length === 2, 'message and dead letter');
    expect(c.got[0].records[0].message).toBe('<1>1 ');
    expect(c.got[1].malformed?.code).toBe('SYSLOG_FRAMING');
    expect(Buffer.from(c.got[1].malformed?.payload ?? '', 'base64').toString()).toBe('9999 <1>1 - - - - - x');
    expect(src.stats.tcp.framingErrors).toBe(1);
  });

  it('stops reading at the pending bound and resumes when records settle (nothing dropped)', async () => {
    const src = source({ mode: 'tcp', maxPendingRecords: 3 });
    const { c, tcp: port } = await started(src, () => undefined);
    const s = await tcp(port);
    s.write(`${Array.from({ length: 3 }, (_, i) => `<13>1 - h app - - - first ${i}`).join('\n')}\n`);
    await waitFor(() => c.got.length === 1, 'first batch');
    s.write('<13>1 - h app - - - later\n');
    await new Promise((r) => setTimeout(r, 50));
    expect(c.got).toHaveLength(1);
    expect(src.stats.throttled).toBe(1);
    await c.settle(0);
    await waitFor(() => c.got.length === 2, 'read again');
    expect(c.got[1].records[0].fields.message).toBe('later');
  });

  it('receives from util-linux logger over TCP (octet counting, RFC 5424) and UDP (RFC 3164)', async () => {
    const src = source();
    const { c, tcp: tport, udp: uport } = await started(src);
    expect(uport).toBe(tport);
    const run = (args: string[]) => {
      try {
        execFileSync('logger', args, { stdio: 'pipe' });
      } catch (e) {
        throw new Error(`util-linux logger is needed for this test: ${(e as Error).message}`);
      }
    };
    run([
      '-n',
      '127.0.0.1',
      '-P',
      String(tport),
      '-T',
      '--octet-count',
      '--rfc5424',
      '-t',
      'tcpapp',
      '-p',
      'local0.warning',
      'hello over tcp',
    ]);
    run([
      '-n',
      '127.0.0.1',
      '-P',
      String(uport),
      '-d',
      '--rfc3164',
      '-t',
      'udpapp',
      '-p',
      'user.err',
      'hello over udp',
    ]);
    await waitFor(() => c.messages().length === 2, 'two messages');
    const recs = c.got.flatMap((e) => e.records);
    const t = recs.find((r) => r.fields.ident === 'tcpapp');
    const u = recs.find((r) => r.fields.ident === 'udpapp');
    expect(t?.fields).toMatchObject({ facility: 'local0', severity: 'warning', message: 'hello over tcp' });
    expect(u?.fields).toMatchObject({ facility: 'user', severity: 'err', message: 'hello over udp' });
    expect(src.stats.udp.datagrams).toBe(1);
  });
});

describe('syslog source: UDP', () => {
  it('one message per datagram; at the pending bound datagrams are counted as overflow, not queued', async () => {
    const src = source({ mode: 'udp', maxPendingRecords: 2 });
    const { c, udp: port } = await started(src, () => undefined);
    const u = createSocket('udp4');
    cleanup.push(async () => {
      u.close();
    });
    const send = (m: string) => new Promise<void>((r) => u.send(m, port, '127.0.0.1', () => r()));
    await send('<13>1 - h a - - - one\n');
    await send('<13>1 - h a - - - two');
    await waitFor(() => c.messages().length === 2, 'two');
    await send('<13>1 - h a - - - three');
    await waitFor(() => src.stats.udp.datagrams === 3, 'third datagram');
    expect(src.stats.udp.overflow).toBe(1);
    expect(c.messages()).toEqual(['<13>1 - h a - - - one', '<13>1 - h a - - - two']);
  });

  it('refuses tls with mode udp and a bad timeOffset, listing both', () => {
    const r = syslogSourceConfig.safeParse({
      type: 'syslog',
      mode: 'udp',
      tls: { cert: 'c', key: 'k' },
      timeOffset: 'EST',
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['timeOffset', 'tls']);
  });
});

describe('syslog source through the runner', () => {
  it('delivers parsed records; the tally balances', async () => {
    const src = source({ mode: 'tcp', tag: 'syslog.net' });
    const p = await pipeline(src);
    const port = (await src.ready).tcp?.port ?? 0;
    const s = await tcp(port);
    s.write(`${R5424}\n${R3164}\n`);
    await waitFor(() => p.receiver.docs.length === 2, 'two documents');
    expect(p.receiver.docs.map((d) => d.ident)).toEqual(['evntslog', 'su']);
    expect(p.receiver.docs[0].tag).toBe('syslog.net');
    const r = await p.stop();
    expect(r.balanced).toBe(true);
    expect(r.tally.total).toMatchObject({ received: 2, delivered: 2 });
  });
});

describe('listening sources are registered', () => {
  it('http, forward and syslog are in the source registry with their schemas', async () => {
    const { sources } = await import('./index.js');
    for (const type of ['http', 'forward', 'syslog'])
      expect(sources.find((s) => s.type === type)?.schema.safeParse({ type }).success).toBe(true);
  });
});
