/**
 * `lambda-platform` parser: what the Lambda service and runtimes write to `/aws/lambda/*` groups →
 * the fields CloudWatch Logs Insights discovers for Lambda logs, with its names and units:
 *   - `START RequestId: … Version: …`, `END RequestId: …` → `@type`, `@requestId`;
 *   - `REPORT RequestId: …\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\t
 *     Max Memory Used: 70 MB\tInit Duration: 150.1 ms` (+ `XRAY TraceId: …\tSegmentId: …`) →
 *     `@type`, `@requestId`, `@duration`, `@billedDuration`, `@initDuration` (numbers, ms),
 *     `@memorySize`, `@maxMemoryUsed` (numbers, bytes: Logs Insights reports 128 MB as 128000000),
 *     `@xrayTraceId`, `@xraySegmentId`;
 *   - the JSON log format (`{"time":…,"type":"platform.report","record":{…}}`): the same @-fields
 *     (platform.start → START, platform.runtimeDone → END, platform.report → REPORT) plus the JSON;
 *   - runtime application lines, text format (`2024-…Z\t<requestId>\tINFO\tmessage`, Python's
 *     `[INFO]\t2024-…Z\t<requestId>\tmessage`) → `@requestId`, `level` (lower case) and the fields of
 *     a JSON object payload if the message is one; JSON format (`{"level":"INFO","requestId":…}`) →
 *     its fields plus `@requestId`.
 * Each message is parsed once. Pure, never throws; other lines (INIT_START, plain prints) are
 * failures. Docs: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html
 */
import { isParseFailure, type ParseFailure, type Parser } from '../core/pipeline.js';
import { firstNonSpace, lastNonSpace, parseJsonObject } from './json.js';

export interface LambdaPlatformOptions {
  type: 'lambda-platform';
}

/** Logs Insights reports Lambda memory in bytes, counting 1 MB as 10^6 bytes. */
export const LAMBDA_MB_BYTES = 1_000_000;

const NOT_LAMBDA: ParseFailure = Object.freeze({
  error: 'not a Lambda platform or runtime line',
}) as ParseFailure;

const REPORT_FIELDS: Record<string, { field: string; mb?: boolean; text?: boolean }> = {
  Duration: { field: '@duration' },
  'Billed Duration': { field: '@billedDuration' },
  'Memory Size': { field: '@memorySize', mb: true },
  'Max Memory Used': { field: '@maxMemoryUsed', mb: true },
  'Init Duration': { field: '@initDuration' },
  'XRAY TraceId': { field: '@xrayTraceId', text: true },
  SegmentId: { field: '@xraySegmentId', text: true },
};
// Longest names first so `Billed Duration` is not read as `Duration`; tabs or spaces between parts.
const REPORT_PART =
  /(Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Max Memory Used|Memory Size|Duration|XRAY TraceId|SegmentId): (\S+)/g;

/** Reads the request id after `RequestId: ` at `from`, up to a tab, space or newline. */
function readRequestId(text: string, from: number): { id: string; end: number } {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 9 || c === 32 || c === 10 || c === 13) break;
    i++;
  }
  return { id: text.slice(from, i), end: i };
}

function parseReport(text: string, from: number): Record<string, unknown> {
  const { id, end } = readRequestId(text, from);
  const fields: Record<string, unknown> = { '@type': 'REPORT', '@requestId': id };
  REPORT_PART.lastIndex = end;
  for (let m = REPORT_PART.exec(text); m !== null; m = REPORT_PART.exec(text)) {
    const spec = REPORT_FIELDS[m[1]];
    if (!spec) continue; // Restore durations: not a Logs Insights field
    if (spec.text) {
      fields[spec.field] = m[2];
    } else {
      const n = Number.parseFloat(m[2]);
      if (Number.isFinite(n)) fields[spec.field] = spec.mb ? n * LAMBDA_MB_BYTES : n;
    }
  }
  return fields;
}

const PLATFORM_TYPES: Record<string, string> = {
  'platform.start': 'START',
  'platform.runtimeDone': 'END',
  'platform.report': 'REPORT',
};

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Adds the @-fields of a JSON-format platform event (or a JSON-format application line). */
function fromJson(obj: Record<string, unknown>): Record<string, unknown> {
  const t = typeof obj.type === 'string' ? PLATFORM_TYPES[obj.type] : undefined;
  const record =
    obj.record && typeof obj.record === 'object' ? (obj.record as Record<string, unknown>) : undefined;
  if (t && record) {
    obj['@type'] = t;
    if (typeof record.requestId === 'string') obj['@requestId'] = record.requestId;
    const m =
      record.metrics && typeof record.metrics === 'object'
        ? (record.metrics as Record<string, unknown>)
        : undefined;
    if (t === 'REPORT' && m) {
      const set = (field: string, v: number | undefined, scale = 1) => {
        if (v !== undefined) obj[field] = v * scale;
      };
      set('@duration', num(m.durationMs));
      set('@billedDuration', num(m.billedDurationMs));
      set('@memorySize', num(m.memorySizeMB), LAMBDA_MB_BYTES);
      set('@maxMemoryUsed', num(m.maxMemoryUsedMB), LAMBDA_MB_BYTES);
      set('@initDuration', num(m.initDurationMs));
    }
    const tracing =
      record.tracing && typeof record.tracing === 'object'
        ? (record.tracing as Record<string, unknown>)
        : undefined;
    if (tracing && typeof tracing.value === 'string') {
      const root = /(?:^|;)Root=([^;]+)/.exec(tracing.value);
      if (root) obj['@xrayTraceId'] = root[1];
      if (typeof tracing.spanId === 'string') obj['@xraySegmentId'] = tracing.spanId;
    }
    return obj;
  }
  if (typeof obj.requestId === 'string') obj['@requestId'] = obj.requestId;
  return obj;
}

// Node runtime: ts \t requestId \t LEVEL \t msg ; Python: [LEVEL] \t ts \t requestId \t msg
const NODE_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)\t([0-9A-Za-z-]{8,}|undefined)\t([A-Z]+)\t/;
const PY_LINE = /^\[([A-Z]+)\]\t(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)\t([0-9A-Za-z-]{8,}|undefined)\t/;

function appLine(text: string, requestId: string, level: string, rest: number): Record<string, unknown> {
  let fields: Record<string, unknown> | undefined;
  let a = rest;
  while (a < text.length && (text.charCodeAt(a) === 32 || text.charCodeAt(a) === 9)) a++;
  if (text.charCodeAt(a) === 123 && text.charCodeAt(lastNonSpace(text)) === 125) {
    const p = parseJsonObject(text, a);
    if (!isParseFailure(p)) fields = p;
  }
  fields ??= {};
  if (requestId !== 'undefined') fields['@requestId'] = requestId;
  if (fields.level === undefined) fields.level = level.toLowerCase();
  return fields;
}

export function parseLambda(text: string): Record<string, unknown> | ParseFailure {
  const c = text.charCodeAt(0);
  if (c === 82 && text.startsWith('REPORT RequestId: ')) return parseReport(text, 18);
  if (c === 83 && text.startsWith('START RequestId: ')) {
    return { '@type': 'START', '@requestId': readRequestId(text, 17).id };
  }
  if (c === 69 && text.startsWith('END RequestId: ')) {
    return { '@type': 'END', '@requestId': readRequestId(text, 15).id };
  }
  if (c >= 48 && c <= 57) {
    const m = NODE_LINE.exec(text);
    if (m) return appLine(text, m[2], m[3], m[0].length);
    return NOT_LAMBDA;
  }
  if (c === 91) {
    const m = PY_LINE.exec(text);
    if (m) return appLine(text, m[3], m[1], m[0].length);
    return NOT_LAMBDA;
  }
  const a = firstNonSpace(text);
  if (text.charCodeAt(a) === 123) {
    const p = parseJsonObject(text);
    return isParseFailure(p) ? p : fromJson(p);
  }
  return NOT_LAMBDA;
}

export function createLambdaPlatformParser(_opts?: Partial<LambdaPlatformOptions>): Parser {
  return { type: 'lambda-platform', parse: (text) => parseLambda(text) };
}
