/**
 * One error class for the whole project, with stable machine-readable codes. Components return
 * outcomes rather than throw on bad data; this class is for what must stop an operation (bad
 * config, bad query) and for carrying a reason code into outcomes and the dead-letter sink.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'ENVELOPE_MALFORMED'
  | 'ENVELOPE_EMPTY'
  | 'ENVELOPE_BAD_BASE64'
  | 'ENVELOPE_NOT_GZIP'
  | 'ENVELOPE_GZIP_TRUNCATED'
  | 'ENVELOPE_GZIP_CORRUPT'
  | 'ENVELOPE_INVALID_UTF8'
  | 'ENVELOPE_NOT_JSON'
  | 'ENVELOPE_UNKNOWN_TYPE'
  | 'ENVELOPE_BAD_SHAPE'
  | 'RECORD_TOO_LARGE'
  | 'SINK_THROTTLED'
  | 'SINK_UNAVAILABLE'
  | 'SINK_REJECTED'
  | 'SINK_AUTH'
  | 'DEADLINE'
  | 'SECRET_UNAVAILABLE'
  | 'QUERY_SYNTAX'
  | 'QUERY_RUNTIME'
  | 'SOURCE_FAILED'
  | 'ONBOARD_FAILED'
  | 'ONBOARD_DRIFT'
  | 'INTERNAL';

export class LogferryError extends Error {
  readonly code: ErrorCode;
  /** Extra structured facts (never secrets): problem lists, positions, limits. */
  readonly details?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LogferryError';
    this.code = code;
    this.details = options.details;
  }
}

export function isLogferryError(e: unknown, code?: ErrorCode): e is LogferryError {
  return e instanceof LogferryError && (code === undefined || e.code === code);
}

/** A short, log-safe description of any thrown value. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}
