/**
 * Picks a parser per record from the stream it came from (`classifyStream(logGroup, logStream)`):
 * EKS `kube-apiserver-audit` → k8s-audit; `authenticator` → eks-authenticator; other EKS
 * components → klog; Lambda → lambda-platform, then json (a JSON object after a prefix), else the
 * message alone; ECS and anything else → json when the line opens with `{` (or ends with `}` and
 * holds a JSON object after a prefix), else logfmt
 * only when the whole line is clearly logfmt (≥ 2 pairs, no bare words), else the message alone
 * (no fields, not a failure). The classification is cached per (logGroup, logStream) in a bounded
 * map, and the last one is kept at hand since the records of one envelope share it. Never changes
 * the record's event time.
 */
import { classifyStream, type StreamClass } from '../aws/classify.js';
import { isParseFailure, type ParseFailure, type Parser } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { createEksAuthenticatorParser } from './eks-authenticator.js';
import { firstNonSpace, lastNonSpace, parseJsonMessage, parseJsonObject } from './json.js';
import { createK8sAuditParser } from './k8s-audit.js';
import { createKlogParser } from './klog.js';
import { parseLambda } from './lambda-platform.js';
import { isClearlyLogfmt, scanLogfmt } from './logfmt.js';

/** Streams whose classification is remembered; past it the oldest entry is evicted. */
export const AUTO_CACHE_MAX_STREAMS = 4096;

/** Success with no fields: the message stays as it is, and `onError: annotate` adds nothing. */
const NO_FIELDS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** Lambda: platform/runtime lines, then a JSON object after any other prefix, else nothing. */
export const lambdaAutoParser: Parser = {
  type: 'lambda-platform',
  parse(text): Record<string, unknown> | ParseFailure {
    const res = parseLambda(text);
    if (!isParseFailure(res)) return res;
    // parseLambda already tried (and failed) JSON when the line starts with `{`: do not parse twice.
    if (text.charCodeAt(firstNonSpace(text)) === 123) return res;
    const j = parseJsonMessage(text, true);
    return isParseFailure(j) ? NO_FIELDS : j;
  },
};

/** ECS / generic: JSON if it looks like JSON, logfmt if clearly logfmt, else nothing. */
export const genericAutoParser: Parser = {
  type: 'json',
  parse(text): Record<string, unknown> | ParseFailure {
    // A line opening with `{` is meant as JSON: a truncated or broken one is a real failure.
    if (text.charCodeAt(firstNonSpace(text)) === 123) return parseJsonObject(text);
    // `2024-01-01T00:00:00Z INFO {"a":1}`: a JSON object after a prefix (a guess: no failure).
    if (text.charCodeAt(lastNonSpace(text)) === 125) {
      const j = parseJsonMessage(text, true);
      if (!isParseFailure(j)) return j;
    }
    if (text.indexOf('=') < 0) return NO_FIELDS;
    const fields: Record<string, unknown> = {};
    return isClearlyLogfmt(scanLogfmt(text, fields, 0, true, true)) ? fields : NO_FIELDS;
  },
};

const k8sAudit = createK8sAuditParser();
const authenticator = createEksAuthenticatorParser();
const klog = createKlogParser();

export function parserForStream(c: StreamClass): Parser {
  switch (c.kind) {
    case 'eks':
      if (c.component === 'kube-apiserver-audit') return k8sAudit;
      if (c.component === 'authenticator') return authenticator;
      return klog;
    case 'lambda':
      return lambdaAutoParser;
    default:
      return genericAutoParser;
  }
}

export interface AutoSelectOptions {
  maxStreams?: number;
}

/** A `select` function for `parseStage`, with its own bounded classification cache. */
export function createAutoSelect(
  opts: AutoSelectOptions = {},
): ((record: LogRecord) => Parser) & { cacheSize(): number } {
  const max = opts.maxStreams ?? AUTO_CACHE_MAX_STREAMS;
  const cache = new Map<string, Parser>();
  let lastGroup: string | undefined;
  let lastStream: string | undefined;
  let lastParser: Parser = genericAutoParser;
  const select = (record: LogRecord): Parser => {
    const { logGroup, logStream } = record.meta;
    if (logGroup === lastGroup && logStream === lastStream) return lastParser;
    const key = `${logGroup}\u0000${logStream}`;
    let p = cache.get(key);
    if (p === undefined) {
      p = parserForStream(classifyStream(logGroup, logStream));
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(key, p);
    }
    lastGroup = logGroup;
    lastStream = logStream;
    lastParser = p;
    return p;
  };
  return Object.assign(select, { cacheSize: () => cache.size });
}
