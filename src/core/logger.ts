/**
 * The one logger: one JSON object per line (Lambda ships stdout to CloudWatch Logs as is; the
 * daemon writes to stderr so stdout carries records only). Small on purpose so the Lambda bundles
 * stay lean. `LOGFERRY_LOG_LEVEL` sets the threshold (default info). Never log record contents
 * above debug, never secrets.
 */
import type { Logger } from './component.js';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

export function jsonLogger(
  base: Record<string, unknown> = {},
  level: string = process.env.LOGFERRY_LOG_LEVEL ?? 'info',
  write: (line: string) => void = (l) => process.stdout.write(l),
): Logger {
  const min = LEVELS[(level as Level) in LEVELS ? (level as Level) : 'info'];
  const emit = (lvl: Level) => (msg: string, data?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    write(`${JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...base, ...data })}\n`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** A logger that discards everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
