/**
 * `json` parser: a JSON object in the message → its keys as fields, nested structure kept (as Logs
 * Insights discovers them: `a.b.c` addresses nested values). With `prefix` (default on) it also
 * finds an object after a text prefix — `2024-01-01T00:00:00Z INFO {...}` or Lambda's
 * `timestamp\trequestId\tLEVEL\t{...}` — starting at the first `{`. Pure, never throws. Cheap
 * pre-checks (first/last non-space characters) keep `JSON.parse` and its exceptions off plain-text
 * lines in the hot path. Limits: only objects (arrays and scalars are failures); one attempt per
 * line, at the first `{`.
 */
import * as z from 'zod';
import { isParseFailure, PARSED_FIELDS, type ParseFailure, type Parser } from '../core/pipeline.js';
import { checkTimeOptions, createFieldPost, type TimeOptions, timeOptionsShape } from './time.js';

/**
 * Options: `prefix`, and Fluent Bit's time and type options (`timeKey: time`, `timeFormat`,
 * `timeKeep`, `timeOffset`, `types`): a JSON log's own time field becomes the event time, as a
 * Fluent Bit json parser with `Time_Key` does (the standard `docker` parser of its parsers.conf).
 */
export const jsonOptionsSchema = z
  .strictObject({
    type: z.literal('json'),
    /** Accept a JSON object after a text prefix (default true). */
    prefix: z.boolean().default(true),
    ...timeOptionsShape,
  })
  .superRefine((o, ctx) => checkTimeOptions(o, ctx));

export interface JsonOptions extends TimeOptions {
  type: 'json';
  /** Accept a JSON object after a text prefix (default true). */
  prefix?: boolean;
}

const OPEN = 123; // {
const CLOSE = 125; // }

function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

export function firstNonSpace(text: string): number {
  let i = 0;
  while (i < text.length && isWs(text.charCodeAt(i))) i++;
  return i;
}

export function lastNonSpace(text: string): number {
  let i = text.length - 1;
  while (i >= 0 && isWs(text.charCodeAt(i))) i--;
  return i;
}

/** True when the text starts with `{` and ends with `}` (ignoring whitespace). */
export function looksLikeJsonObject(text: string): boolean {
  const a = firstNonSpace(text);
  return a < text.length && text.charCodeAt(a) === OPEN && text.charCodeAt(lastNonSpace(text)) === CLOSE;
}

/** Parses `text` (from `start`) as a JSON object; a failure reason otherwise. Never throws. */
export function parseJsonObject(text: string, start = 0): Record<string, unknown> | ParseFailure {
  let v: unknown;
  try {
    v = JSON.parse(start === 0 ? text : text.slice(start));
  } catch (e) {
    return { error: `invalid JSON: ${(e as Error).message}` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'not a JSON object' };
  const obj = v as Record<string, unknown>;
  // A log line `{"error":"boom"}` has the shape of a failure: mark it as fields.
  if (typeof obj.error === 'string' && Object.keys(obj).length === 1) {
    Object.defineProperty(obj, PARSED_FIELDS, { value: true, enumerable: false });
  }
  return obj;
}

const NOT_JSON: ParseFailure = Object.freeze({ error: 'not JSON' }) as ParseFailure;

/** The json parser's logic without the wrapper, for composite parsers (auto, lambda-platform). */
export function parseJsonMessage(text: string, prefix: boolean): Record<string, unknown> | ParseFailure {
  const end = lastNonSpace(text);
  if (end < 0 || text.charCodeAt(end) !== CLOSE) return NOT_JSON;
  const a = firstNonSpace(text);
  if (text.charCodeAt(a) === OPEN) return parseJsonObject(text);
  if (!prefix) return NOT_JSON;
  const brace = text.indexOf('{', a);
  if (brace < 0) return NOT_JSON;
  return parseJsonObject(text, brace);
}

export function createJsonParser(opts: Partial<JsonOptions> = {}): Parser {
  const prefix = opts.prefix ?? true;
  const post = createFieldPost(opts);
  if (!post) return { type: 'json', parse: (text) => parseJsonMessage(text, prefix) };
  return {
    type: 'json',
    parse(text) {
      const r = parseJsonMessage(text, prefix);
      return isParseFailure(r) ? r : post(r);
    },
  };
}
