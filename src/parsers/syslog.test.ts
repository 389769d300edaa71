import { describe, expect, it } from 'vitest';
import { isParseFailure } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { createSyslogParser, syslogOptionsSchema } from './syslog.js';
import { parsedTime } from './time.js';

const at = (iso: string) =>
  ({ timestamp: Date.parse(iso), message: '', fields: {}, meta: {} }) as unknown as LogRecord;
const rec = at('2024-06-01T00:00:00Z');
const time = (f: unknown) => new Date(parsedTime(f as Record<string, unknown>)!).toISOString();

describe('syslog parser', () => {
  const p = createSyslogParser();

  it('RFC 5424 with structured data (RFC examples)', () => {
    const f = p.parse(
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] \ufeffAn application event log entry...',
      rec,
    );
    expect(f).toEqual({
      pri: 165,
      facility: 'local4',
      severity: 'notice',
      version: 1,
      host: 'mymachine.example.com',
      ident: 'evntslog',
      msgid: 'ID47',
      extradata: {
        'exampleSDID@32473': { iut: '3', eventSource: 'Application', eventID: '1011' },
        'examplePriority@32473': { class: 'high' },
      },
      message: 'An application event log entry...',
    });
    expect(time(f)).toBe('2003-10-11T22:14:15.003Z');
    const g = p.parse(
      "<34>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
      rec,
    );
    expect(g).toMatchObject({
      pri: 34,
      facility: 'auth',
      severity: 'crit',
      host: '192.0.2.1',
      ident: 'myproc',
      pid: '8710',
    });
    expect((g as Record<string, unknown>).message).toBe("%% It's time to make the do-nuts.");
    expect(time(g)).toBe('2003-08-24T12:14:15.000Z');
  });

  it('RFC 5424 edge cases: nil time, escaped SD values, no message', () => {
    const f = p.parse('<13>1 - - - - - [a@1 x="q\\"uote\\]d" y=""]', rec) as Record<string, unknown>;
    expect(f).toEqual({
      pri: 13,
      facility: 'user',
      severity: 'notice',
      version: 1,
      extradata: { 'a@1': { x: 'q"uote]d', y: '' } },
    });
    expect(parsedTime(f)).toBeUndefined();
    expect(
      isParseFailure(createSyslogParser({ mode: 'rfc5424' }).parse('<13>1 - - - - - [broken', rec)),
    ).toBe(true);
  });

  it('RFC 3164 (RFC examples), with and without PRI, host and tag', () => {
    const f = p.parse(
      "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
      at('2024-10-12T00:00:00Z'),
    );
    expect(f).toEqual({
      pri: 34,
      facility: 'auth',
      severity: 'crit',
      host: 'mymachine',
      ident: 'su',
      message: "'su root' failed for lonvick on /dev/pts/8",
    });
    expect(time(f)).toBe('2024-10-11T22:14:15.000Z');
    expect(p.parse('Jun  1 08:00:01 ip-10-0-0-1 sshd[4242]: Accepted publickey for ec2-user', rec)).toEqual({
      host: 'ip-10-0-0-1',
      ident: 'sshd',
      pid: '4242',
      message: 'Accepted publickey for ec2-user',
    });
    expect(p.parse('Jun  1 08:00:01 CRON[7]: job', rec)).toEqual({ ident: 'CRON', pid: '7', message: 'job' });
    expect(p.parse('Jun  1 08:00:01 host just text', rec)).toEqual({ host: 'host', message: 'just text' });
  });

  it('RFC 3164 year from the record time, across new year; time offset; timeKeep', () => {
    expect(time(p.parse('Dec 31 23:59:59 h a: x', at('2025-01-01T00:00:10Z')))).toBe(
      '2024-12-31T23:59:59.000Z',
    );
    expect(time(p.parse('Jan  1 00:00:05 h a: x', at('2024-12-31T23:59:50Z')))).toBe(
      '2025-01-01T00:00:05.000Z',
    );
    const local = createSyslogParser(
      syslogOptionsSchema.parse({ type: 'syslog', timeOffset: '+0200', timeKeep: true }),
    );
    const f = local.parse('Jun  1 08:00:01 h a: x', rec) as Record<string, unknown>;
    expect(time(f)).toBe('2024-06-01T06:00:01.000Z');
    expect(f.time).toBe('Jun  1 08:00:01');
  });

  it('mode is enforced; other lines and bad PRI are failures', () => {
    expect(
      isParseFailure(
        createSyslogParser({ mode: 'rfc3164' }).parse('<13>1 2003-10-11T22:14:15Z h a - - - m', rec),
      ),
    ).toBe(true);
    expect(
      isParseFailure(createSyslogParser({ mode: 'rfc5424' }).parse('<34>Oct 11 22:14:15 h su: x', rec)),
    ).toBe(true);
    for (const s of [
      '',
      'hello',
      '<999>1 2003-10-11T22:14:15Z h a - - -',
      '<34>Foo 11 22:14:15 h x',
      '1 2 3 4 5 6 7',
      '{"a":1}',
    ])
      expect([s, isParseFailure(p.parse(s, rec))]).toEqual([s, true]);
  });

  it('refuses bad options', () => {
    expect(syslogOptionsSchema.safeParse({ type: 'syslog', mode: 'rfc3339' }).success).toBe(false);
    expect(syslogOptionsSchema.safeParse({ type: 'syslog', timeOffset: 'CET' }).success).toBe(false);
  });
});
