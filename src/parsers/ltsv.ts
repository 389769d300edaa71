/**
 * `ltsv` parser (Labeled Tab-separated Values, http://ltsv.org): `host:127.0.0.1<TAB>req:GET /
 * HTTP/1.1<TAB>status:200` → `{host, req, status}`, values as strings (`types` converts them). The
 * label is everything before the first `:` of a column; a column without `:` or with an empty label
 * makes the line a failure (it is not LTSV), as does a line with no columns. Empty values are kept
 * as empty strings. A trailing `\r` is ignored. Time options as the regex parser (`timeKey: time`,
 * `timeFormat: '[%d/%b/%Y:%H:%M:%S %z]'`).
 */
import * as z from 'zod';
import { PARSED_FIELDS, type ParseFailure, type Parser } from '../core/pipeline.js';
import { checkTimeOptions, createFieldPost, type TimeOptions, timeOptionsShape } from './time.js';

export const ltsvOptionsSchema = z
  .strictObject({ type: z.literal('ltsv'), ...timeOptionsShape })
  .superRefine((o, ctx) => checkTimeOptions(o, ctx));

const NOT_LTSV: ParseFailure = Object.freeze({ error: 'not LTSV (label:value columns separated by tabs)' });

export function createLtsvParser(opts: TimeOptions = {}): Parser {
  const post = createFieldPost(opts);
  return {
    type: 'ltsv',
    parse(text) {
      const line = text.endsWith('\r') ? text.slice(0, -1) : text;
      if (line.length === 0 || !line.includes(':')) return NOT_LTSV;
      const fields: Record<string, unknown> = {};
      let start = 0;
      while (start <= line.length) {
        let end = line.indexOf('\t', start);
        if (end < 0) end = line.length;
        const colon = line.indexOf(':', start);
        if (colon < 0 || colon >= end || colon === start) return NOT_LTSV;
        const label = line.slice(start, colon);
        if (label !== '__proto__') fields[label] = line.slice(colon + 1, end);
        start = end + 1;
      }
      if (fields.error !== undefined) Object.defineProperty(fields, PARSED_FIELDS, { value: true });
      return post ? post(fields) : fields;
    },
  };
}
