/**
 * How a parser hands an event time to the parse transform: a non-enumerable symbol property on the
 * fields object it returns (never copied into the record). The parse transform sets the record's
 * time from it (Fluent Bit's `Time_Key`), unless told not to.
 */
import * as z from 'zod';
import { compileStrptime, parseAnyTime, parseOffset, type TimeParser } from './strptime.js';

export const PARSED_TIME: unique symbol = Symbol.for('logferry.parsedTime');

export function withTime(fields: Record<string, unknown>, ms: number): Record<string, unknown> {
  Object.defineProperty(fields, PARSED_TIME, { value: ms, enumerable: false });
  return fields;
}

export function parsedTime(fields: Record<string, unknown>): number | undefined {
  const v = (fields as { [PARSED_TIME]?: number })[PARSED_TIME];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

// ------------------------------------------------------------------ shared time / type options

const TYPES = ['string', 'integer', 'float', 'bool', 'json'] as const;
type FieldType = (typeof TYPES)[number];

/** Options every field-producing parser accepts (Fluent Bit's Time_Key, Time_Format, Time_Keep, Time_Offset, Types). */
export const timeOptionsShape = {
  /** The parsed field holding the event time. */
  timeKey: z.string().min(1).optional(),
  /** strptime format of that field (`%d/%b/%Y:%H:%M:%S %z`); without it ISO 8601 or epoch numbers. */
  timeFormat: z.string().min(1).optional(),
  /** Keep the time field among the parsed fields after using it (default: removed, as Fluent Bit). */
  timeKeep: z.boolean().default(false),
  /** Fixed UTC offset for times without a zone: `+0200`, `-06:00`. */
  timeOffset: z.string().optional(),
  /** Convert parsed fields: `{status: integer, latency: float, ok: bool, body: json}`. */
  types: z.record(z.string().min(1), z.enum(TYPES)).optional(),
};

export interface TimeOptions {
  timeKey?: string;
  timeFormat?: string;
  timeKeep?: boolean;
  timeOffset?: string;
  types?: Record<string, FieldType>;
}

export function checkTimeOptions(o: TimeOptions, ctx: z.RefinementCtx): void {
  let offset = 0;
  if (o.timeOffset !== undefined) {
    const off = parseOffset(o.timeOffset);
    if (off === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['timeOffset'],
        message: 'timeOffset is a fixed offset such as +0200 or -06:00',
      });
    else offset = off;
  }
  if (o.timeFormat !== undefined) {
    if (o.timeKey === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['timeKey'],
        message: 'timeFormat needs timeKey (the field holding the time)',
      });
    const c = compileStrptime(o.timeFormat, offset);
    if (typeof c !== 'function') ctx.addIssue({ code: 'custom', path: ['timeFormat'], message: c.error });
  }
}

function convert(v: unknown, t: FieldType): unknown {
  if (typeof v !== 'string') return v;
  switch (t) {
    case 'integer': {
      const n = /^\s*[-+]?\d+\s*$/.test(v) ? Number.parseInt(v, 10) : Number.NaN;
      return Number.isSafeInteger(n) ? n : v;
    }
    case 'float': {
      const n = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v) ? Number(v) : Number.NaN;
      return Number.isFinite(n) ? n : v;
    }
    case 'bool':
      return v === 'true' ? true : v === 'false' ? false : v;
    case 'json':
      try {
        return JSON.parse(v);
      } catch {
        return v;
      }
    default:
      return v;
  }
}

/**
 * Builds the step a parser runs on its fields: type conversions, then the time key (parsed with
 * `timeFormat` or as ISO 8601 / epoch; on success handed over with `withTime` and removed unless
 * `timeKeep`; a time that does not parse stays as a field and the record keeps its own time).
 * Returns undefined when there is nothing to do.
 */
export function createFieldPost(
  o: TimeOptions,
  defaults: { timeKey?: string; timeFormat?: string } = {},
): ((fields: Record<string, unknown>) => Record<string, unknown>) | undefined {
  const offset = o.timeOffset === undefined ? 0 : (parseOffset(o.timeOffset) ?? 0);
  const key = o.timeKey ?? defaults.timeKey;
  const format = o.timeFormat ?? (o.timeKey === undefined ? defaults.timeFormat : undefined);
  let parse: TimeParser | undefined;
  if (format !== undefined) {
    const c = compileStrptime(format, offset);
    if (typeof c === 'function') parse = c;
  }
  const types = o.types ? Object.entries(o.types) : [];
  const keep = o.timeKeep === true;
  if (key === undefined && types.length === 0) return undefined;
  return (fields) => {
    for (const [k, t] of types) if (Object.hasOwn(fields, k)) fields[k] = convert(fields[k], t);
    if (key !== undefined && Object.hasOwn(fields, key)) {
      const v = fields[key];
      const ms = parse ? (typeof v === 'string' ? parse(v) : undefined) : parseAnyTime(v, offset);
      if (ms !== undefined && Number.isFinite(ms)) {
        withTime(fields, ms);
        if (!keep) delete fields[key];
      }
    }
    return fields;
  };
}
