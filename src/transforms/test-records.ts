/** Test helper: a record with sensible provenance (used by the transforms' unit tests only). */
import type { LogRecord } from '../core/record.js';

export function testRecord(
  fields: Record<string, unknown> = {},
  over: Partial<Omit<LogRecord, 'meta'>> = {},
  meta: Partial<LogRecord['meta']> = {},
): LogRecord {
  return {
    timestamp: 1_700_000_000_000,
    message: 'line',
    ...over,
    fields,
    meta: {
      owner: '123456789012',
      logGroup: '/aws/eks/prod/cluster',
      logStream: 'kube-apiserver-audit-0123',
      id: '1',
      source: 'test',
      ackId: 'a',
      ...meta,
    },
  };
}

/** Issues of a failed safeParse as `path: message` lines. */
export function issues(res: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}): string[] {
  return (res.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
}
