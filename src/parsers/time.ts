/**
 * How a parser hands an event time to the parse transform: a non-enumerable symbol property on the
 * fields object it returns (never copied into the record). The parse transform sets the record's
 * time from it (Fluent Bit's `Time_Key`), unless told not to.
 */
export const PARSED_TIME: unique symbol = Symbol.for('logferry.parsedTime');

export function withTime(fields: Record<string, unknown>, ms: number): Record<string, unknown> {
  Object.defineProperty(fields, PARSED_TIME, { value: ms, enumerable: false });
  return fields;
}

export function parsedTime(fields: Record<string, unknown>): number | undefined {
  const v = (fields as { [PARSED_TIME]?: number })[PARSED_TIME];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
