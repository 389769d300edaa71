/**
 * `klog` parser: the glog/klog header lines of kube-apiserver, kube-controller-manager,
 * kube-scheduler and cloud-controller-manager
 * (`I0613 10:42:07.123456      11 controller.go:611] quota admission added evaluator for: leases`)
 * → `level` (I/W/E/F → info/warning/error/fatal), `time` (ISO 8601 with microseconds, UTC as EKS
 * runs it; the header has no year, so it is taken from the CloudWatch event timestamp, with the
 * December/January wrap handled), `threadId`, `file`, `line`, `msg`. Structured klog lines
 * (`"Starting controller" controller="endpoints"`) also yield their `key="value"` pairs (strings,
 * never overwriting the header fields); `FLAG: --name="value"` start-up lines yield `flag` and
 * `flagValue`. Pure, never throws; a line without a klog header is a failure. The record's event
 * time is never changed.
 */
import type { ParseFailure, Parser } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { readQuoted, scanLogfmt } from './logfmt.js';

export interface KlogOptions {
  type: 'klog';
  /** Extract `key="value"` pairs from structured messages (default true). */
  structured?: boolean;
}

const LEVELS: Record<string, string> = { I: 'info', W: 'warning', E: 'error', F: 'fatal' };

// Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg
const HEADER = /^([IWEF])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) +(\d+) ([^ :\]]+):(\d+)\] ?/;
const FLAG = /^FLAG: --([^=]+)=(.*)$/s;

const NOT_KLOG: ParseFailure = Object.freeze({ error: 'not a klog line' }) as ParseFailure;

/** The UTC month `klogYear` saw last: [monthStart, monthEnd) in epoch ms, its year and number. */
let monthStart = 0;
let monthEnd = -1;
let monthYear = 0;
let monthNumber = 0;

/** The year of a month/day seen at `eventMs`: a December line read in January is last year's. */
export function klogYear(month: number, eventMs: number): number {
  const ms = Number.isFinite(eventMs) ? eventMs : Date.now();
  // Events of a batch share a month: the UTC month of the last one is kept (no Date per line).
  if (!(ms >= monthStart && ms < monthEnd)) {
    const d = new Date(ms);
    monthYear = d.getUTCFullYear();
    monthNumber = d.getUTCMonth() + 1;
    monthStart = Date.UTC(monthYear, monthNumber - 1, 1);
    monthEnd = Date.UTC(monthYear, monthNumber, 1);
  }
  const year = monthYear;
  const eventMonth = monthNumber;
  if (month === 12 && eventMonth === 1) return year - 1;
  if (month === 1 && eventMonth === 12) return year + 1;
  return year;
}

export function parseKlog(
  text: string,
  eventMs: number,
  structured = true,
): Record<string, unknown> | ParseFailure {
  const m = HEADER.exec(text);
  if (!m) return NOT_KLOG;
  const month = Number(m[2]);
  const year = klogYear(month, eventMs);
  const fields: Record<string, unknown> = {
    level: LEVELS[m[1]],
    time: `${year}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`,
    threadId: Number(m[8]),
    file: m[9],
    line: Number(m[10]),
  };
  const start = m[0].length;
  if (structured && text.charCodeAt(start) === 34) {
    // Structured logging: "message" key="value" ...
    const q = readQuoted(text, start);
    fields.msg = q.value;
    if (q.end < text.length) scanLogfmt(text, fields, q.end, false);
    return fields;
  }
  const msg = text.slice(start);
  fields.msg = msg;
  if (msg.startsWith('FLAG: --')) {
    const f = FLAG.exec(msg);
    if (f) {
      fields.flag = f[1];
      const v = f[2];
      fields.flagValue = v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? readQuoted(v, 0).value : v;
    }
  }
  return fields;
}

export function createKlogParser(opts: Partial<KlogOptions> = {}): Parser {
  const structured = opts.structured ?? true;
  return {
    type: 'klog',
    parse: (text: string, record: LogRecord) => parseKlog(text, record.timestamp, structured),
  };
}
