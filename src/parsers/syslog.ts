/**
 * `syslog` parser: RFC 5424 (`<34>1 2003-10-11T22:14:15.003Z host app 1234 ID47 [sd@1 k="v"] msg`)
 * and RFC 3164 / BSD (`<34>Oct 11 22:14:15 host su[123]: msg`), told apart per line (`mode: auto`,
 * the default) or required (`rfc5424`, `rfc3164`). The `<PRI>` part is optional (files written by
 * rsyslog/journald drop it). Fields, named as Fluent Bit's syslog parsers do: `pri`, plus
 * `facility` and `severity` names (`auth`, `err`, …) when a PRI is present; `host`, `ident` (app
 * name / tag), `pid`, `msgid` and `extradata` (5424 structured data as `{id: {param: value}}`),
 * `message`. Nil values (`-`) are left out. The header time becomes the event time (`timeKeep:
 * true` also keeps `time`); RFC 3164 times have no year or zone: the year is the one that puts the
 * time nearest the record's own (CloudWatch) time, the zone `timeOffset` (UTC by default).
 */
import * as z from 'zod';
import type { ParseFailure, Parser } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { parseAnyTime, parseOffset } from './strptime.js';
import { parsedTime, timeOptionsShape, withTime } from './time.js';

export const syslogOptionsSchema = z
  .strictObject({
    type: z.literal('syslog'),
    mode: z.enum(['auto', 'rfc5424', 'rfc3164']).default('auto'),
    timeKeep: timeOptionsShape.timeKeep,
    timeOffset: timeOptionsShape.timeOffset,
  })
  .superRefine((o, ctx) => {
    if (o.timeOffset !== undefined && parseOffset(o.timeOffset) === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['timeOffset'],
        message: 'timeOffset is a fixed offset such as +0200 or -06:00',
      });
  });

export const FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
];
export const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

const PRI = /^<(\d{1,3})>/;
// VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
const RFC5424 = /^(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+)(?: |$)/;
// Mmm dd hh:mm:ss[.fff] then HOST, then TAG[PID]: (host or tag may be missing on local logs)
const RFC3164 = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?: |$)/;
const TAG = /^([^\s:[\]]+)(?:\[([^\]]*)\])?:(?: |$)/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const NOT_SYSLOG: ParseFailure = Object.freeze({ error: 'not a syslog line (RFC 5424 or RFC 3164)' });
const BAD_PRI: ParseFailure = Object.freeze({ error: 'syslog PRI out of range (0-191)' });

/** Parses RFC 5424 structured data at `s[i]`; returns the object and the index after it, or undefined. */
function structuredData(
  s: string,
  start: number,
): [Record<string, Record<string, string>>, number] | undefined {
  const out: Record<string, Record<string, string>> = {};
  let i = start;
  while (s[i] === '[') {
    i++;
    let j = i;
    while (j < s.length && s[j] !== ' ' && s[j] !== ']' && s[j] !== '=') j++;
    const id = s.slice(i, j);
    if (id === '' || id === '__proto__') return undefined;
    const params: Record<string, string> = {};
    i = j;
    while (s[i] === ' ') {
      i++;
      let k = i;
      while (k < s.length && s[k] !== '=' && s[k] !== ' ' && s[k] !== ']') k++;
      const name = s.slice(i, k);
      if (name === '' || s[k] !== '=' || s[k + 1] !== '"') return undefined;
      i = k + 2;
      let v = '';
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === ']')) i++;
        v += s[i];
        i++;
      }
      if (s[i] !== '"') return undefined;
      i++;
      if (name !== '__proto__') params[name] = v;
    }
    if (s[i] !== ']') return undefined;
    i++;
    out[id] = params;
  }
  return [out, i];
}

export function createSyslogParser(
  opts: { mode?: 'auto' | 'rfc5424' | 'rfc3164'; timeKeep?: boolean; timeOffset?: string } = {},
): Parser {
  const mode = opts.mode ?? 'auto';
  const keep = opts.timeKeep === true;
  const offset = opts.timeOffset === undefined ? 0 : (parseOffset(opts.timeOffset) ?? 0);

  const parse5424 = (s: string): Record<string, unknown> | undefined => {
    const m = RFC5424.exec(s);
    if (!m) return undefined;
    const t = m[2] === '-' || !/^\d{4}-\d{2}-\d{2}T/i.test(m[2]) ? undefined : parseAnyTime(m[2], 0);
    if (m[2] !== '-' && t === undefined) return undefined;
    const f: Record<string, unknown> = { version: Number(m[1]) };
    if (m[2] !== '-') f.time = m[2];
    if (m[3] !== '-') f.host = m[3];
    if (m[4] !== '-') f.ident = m[4];
    if (m[5] !== '-') f.pid = m[5];
    if (m[6] !== '-') f.msgid = m[6];
    let i = m[0].length;
    if (s[i] === '-') i++;
    else if (s[i] === '[') {
      const sd = structuredData(s, i);
      if (!sd) return undefined;
      f.extradata = sd[0];
      i = sd[1];
    } else if (i < s.length) return undefined;
    if (i < s.length && s[i] !== ' ') return undefined;
    let msg = s.slice(i + 1);
    if (msg.startsWith('\ufeff')) msg = msg.slice(1);
    if (msg !== '') f.message = msg;
    if (t !== undefined) {
      withTime(f, t);
      if (!keep) delete f.time;
    }
    return f;
  };

  const parse3164 = (s: string, record: LogRecord | undefined): Record<string, unknown> | undefined => {
    const m = RFC3164.exec(s);
    if (!m) return undefined;
    const mo = MONTHS.indexOf(m[1]);
    const d = Number(m[2]);
    const H = Number(m[3]);
    const Mi = Number(m[4]);
    const S = Number(m[5]);
    if (mo < 0 || d < 1 || d > 31 || H > 23 || Mi > 59 || S > 60) return undefined;
    const f: Record<string, unknown> = { time: m[0].trimEnd() };
    let rest = s.slice(m[0].length);
    // The first word is the host unless it is already the tag (`su:`), as Fluent Bit's rfc3164 reads it.
    let tag = TAG.exec(rest);
    if (!tag) {
      const sp = rest.indexOf(' ');
      const host = sp < 0 ? rest : rest.slice(0, sp);
      if (host !== '') f.host = host;
      rest = sp < 0 ? '' : rest.slice(sp + 1);
      tag = TAG.exec(rest);
    }
    if (tag) {
      f.ident = tag[1];
      if (tag[2] !== undefined && tag[2] !== '') f.pid = tag[2];
      rest = rest.slice(tag[0].length);
    }
    if (rest !== '') f.message = rest;
    const ref = record && Number.isFinite(record.timestamp) ? record.timestamp : Date.now();
    const refYear = new Date(ref).getUTCFullYear();
    const ms = m[6] === undefined ? 0 : Math.floor(Number(`0.${m[6]}`) * 1000);
    let best: number | undefined;
    for (const y of [refYear - 1, refYear, refYear + 1]) {
      const local = Date.UTC(y, mo, d, H, Mi, Math.min(S, 59));
      if (new Date(local).getUTCDate() !== d) continue; // Feb 29 outside leap years
      const t = local + ms - offset * 60_000;
      if (best === undefined || Math.abs(t - ref) < Math.abs(best - ref)) best = t;
    }
    if (best !== undefined) {
      withTime(f, best);
      if (!keep) delete f.time;
    }
    return f;
  };

  return {
    type: 'syslog',
    parse(text, record) {
      const f: Record<string, unknown> = {};
      let s = text.endsWith('\n') ? text.slice(0, -1) : text;
      const p = PRI.exec(s);
      if (p) {
        const pri = Number(p[1]);
        if (pri > 191) return BAD_PRI;
        f.pri = pri;
        f.facility = FACILITIES[pri >> 3];
        f.severity = SEVERITIES[pri & 7];
        s = s.slice(p[0].length);
      }
      const body =
        (mode !== 'rfc3164' ? parse5424(s) : undefined) ??
        (mode !== 'rfc5424' ? parse3164(s, record) : undefined);
      if (!body) return NOT_SYSLOG;
      if (!p) return body;
      // PRI first for readability; the time travels with the body object.
      const t = parsedTime(body);
      const out = Object.assign(f, body);
      return t === undefined ? out : withTime(out, t);
    },
  };
}
