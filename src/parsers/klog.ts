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

// Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg — what `scanHeader` reads, as a regular expression
// (the tests hold the scanner to it):
export const KLOG_HEADER = /^([IWEF])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) +(\d+) ([^ :\]]+):(\d+)\] ?/;
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

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** Where `scanHeader` found the thread id, file and line: [start, end) each. */
let threadAt = 0;
let threadEnd = 0;
let fileAt = 0;
let fileEnd = 0;
let lineEnd = 0;

/**
 * Reads a klog header as KLOG_HEADER matches it, by character codes (no match array, no capture
 * strings): the end of the header, or -1. Sets threadAt…lineEnd.
 */
function scanHeader(text: string): number {
  const n = text.length;
  if (n < 28) return -1;
  const c0 = text.charCodeAt(0);
  if (c0 !== 73 && c0 !== 87 && c0 !== 69 && c0 !== 70) return -1; // I W E F
  // `mmdd hh:mm:ss.uuuuuu`: digits but at 5 (space), 8 and 11 (colons), 14 (dot).
  if (text.charCodeAt(5) !== 32 || text.charCodeAt(8) !== 58 || text.charCodeAt(11) !== 58) return -1;
  if (text.charCodeAt(14) !== 46) return -1;
  for (let i = 1; i <= 20; i++) {
    if (i !== 5 && i !== 8 && i !== 11 && i !== 14 && !isDigit(text.charCodeAt(i))) return -1;
  }
  let i = 21;
  if (text.charCodeAt(i) !== 32) return -1;
  while (text.charCodeAt(i) === 32) i++;
  threadAt = i;
  while (isDigit(text.charCodeAt(i))) i++;
  if (i === threadAt || text.charCodeAt(i) !== 32) return -1;
  threadEnd = i++;
  fileAt = i;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 58 || c === 93) break; // space : ]
  }
  if (i === fileAt || text.charCodeAt(i) !== 58) return -1;
  fileEnd = i++;
  const lineAt = i;
  while (isDigit(text.charCodeAt(i))) i++;
  if (i === lineAt || text.charCodeAt(i) !== 93) return -1;
  lineEnd = i++;
  return text.charCodeAt(i) === 32 ? i + 1 : i;
}

/** A run of ASCII digits as a number: by arithmetic when exact (≤ 15 digits), else as Number() reads it. */
function digits(text: string, from: number, to: number): number {
  if (to - from > 15) return Number(text.slice(from, to));
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (text.charCodeAt(i) - 48);
  return v;
}

export function parseKlog(
  text: string,
  eventMs: number,
  structured = true,
): Record<string, unknown> | ParseFailure {
  const start = scanHeader(text);
  if (start < 0) return NOT_KLOG;
  const month = (text.charCodeAt(1) - 48) * 10 + text.charCodeAt(2) - 48;
  const year = klogYear(month, eventMs);
  const fields: Record<string, unknown> = {
    level: LEVELS[text[0]],
    // `mmdd hh:mm:ss.uuuuuu` as `yyyy-mm-ddThh:mm:ss.uuuuuuZ`.
    time: `${year}-${text.slice(1, 3)}-${text.slice(3, 5)}T${text.slice(6, 21)}Z`,
    threadId: digits(text, threadAt, threadEnd),
    file: text.slice(fileAt, fileEnd),
    line: digits(text, fileEnd + 1, lineEnd),
  };
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
