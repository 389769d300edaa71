/** Endpoints of the servers started by test/global-setup.ts, for use inside tests. */
import { inject } from 'vitest';

export function motoUrl(): string {
  const url = inject('motoUrl');
  if (!url) throw new Error('moto is not running (LOGFERRY_TEST_SERVICES=none?); this test needs it');
  return url;
}

export function kinesisUrl(): string {
  const url = inject('kinesisUrl');
  if (!url)
    throw new Error('kinesis-local is not running (LOGFERRY_TEST_SERVICES=none?); this test needs it');
  return url;
}

export function opensearchUrl(): string {
  const url = inject('opensearchUrl');
  if (!url)
    throw new Error(
      'OpenSearch is not running (LOGFERRY_TEST_SERVICES without opensearch?); this test needs it',
    );
  return url;
}
