/**
 * The in-memory stages between decode and route (parse, then transforms) and their contract. Only
 * the runner (core/runner.ts) runs them, counting every drop with the stage's reason; callers that
 * want the records after the stages use core/stages.ts, which goes through that runner.
 *
 * Parsers never throw: they return fields or a failure reason. The shared parse options (which
 * field to parse, where to put the result, what to do on failure) live here, not in each parser.
 */
import type { LogRecord } from './record.js';

export interface ParseFailure {
  error: string;
}

export interface Parser {
  readonly type: string;
  /** Returns the fields found in `text`, or a failure reason. Must not throw. */
  parse(text: string, record: LogRecord): Record<string, unknown> | ParseFailure;
}

/**
 * Marks parsed fields that happen to have the shape of a failure (a JSON log line `{"error":"boom"}`)
 * so the parse stage does not mistake them for one. Set it non-enumerable (it is never copied).
 */
export const PARSED_FIELDS: unique symbol = Symbol.for('logferry.parsedFields');

export function isParseFailure(v: unknown): v is ParseFailure {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as ParseFailure).error === 'string' &&
    Object.keys(v).length === 1 &&
    (v as { [PARSED_FIELDS]?: boolean })[PARSED_FIELDS] !== true
  );
}

export interface ParseStageOptions {
  /** Which parser to use for a record; `undefined` leaves the record as a plain message. */
  select: (record: LogRecord) => Parser | undefined;
  /** Field whose string value is parsed; default the raw message. */
  from?: string;
  /** Put parsed fields under this key instead of at the top level. */
  into?: string;
  /** On failure: keep the record as is (default) or add `@parseError` with the reason. */
  onError?: 'keep' | 'annotate';
}

/** Transforms return the record, `null` to drop it (counted), or several records. */
export interface Transform {
  readonly type: string;
  apply(record: LogRecord): LogRecord | null | LogRecord[];
  /** Reason code counted when this transform drops a record. */
  readonly dropCode?: string;
  /**
   * Optional: the same transform over many messages joined by "\n" (message i ends at `ends[i]`),
   * as `apply` would change each message alone; undefined when nothing changes. A transform that
   * has it can run on packed records (src/sources/firehose.ts) instead of one record per event.
   */
  applyJoined?(text: string, ends: Int32Array): { text: string; ends: Int32Array } | undefined;
}

export function parseStage(opts: ParseStageOptions): Transform {
  const { select, from, into, onError = 'keep' } = opts;
  return {
    type: 'parse',
    apply(record) {
      const parser = select(record);
      if (!parser) return record;
      const src = from === undefined ? record.message : record.fields[from];
      if (typeof src !== 'string') return record;
      const res = parser.parse(src, record);
      if (isParseFailure(res)) {
        if (onError === 'annotate') record.fields['@parseError'] = `${parser.type}: ${res.error}`;
        return record;
      }
      if (into) record.fields[into] = res;
      else Object.assign(record.fields, res);
      return record;
    },
  };
}
