/**
 * The one classification of AWS SDK errors for every data path (sinks, re-ingest, dead-letter
 * stores, sources): is it worth retrying, is it throttling (back off harder, honour Retry-After),
 * is it a credential that expired (refresh, then retry) or a permanent refusal (access denied, no
 * such resource, invalid request: retrying cannot help). Per-entry error codes of batch APIs
 * (PutRecordBatch `ErrorCode`, PutRecords, SendMessageBatch) are classified by the same rules.
 */

export type AwsErrorKind =
  | 'throttled'
  | 'expired-credentials'
  | 'access-denied'
  | 'not-found'
  | 'invalid'
  | 'transient';

export interface AwsErrorClass {
  kind: AwsErrorKind;
  /** The error's name (`ThrottlingException`) or code, else `SINK_UNAVAILABLE`. */
  name: string;
  status?: number;
  /** Retrying may help (throttling, 5xx, network, expired credentials). */
  retry: boolean;
  /** Server hint from a Retry-After header, in ms (0 when none). */
  retryAfterMs: number;
}

const THROTTLE =
  /throttl|slow ?down|toomanyrequests|requestlimitexceeded|provisionedthroughputexceeded|limitexceeded|serviceunavailable|requesttimeout|timeout/i;
const EXPIRED = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'CredentialsProviderError',
  'RequestExpired',
]);
const ACCESS = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'UnrecognizedClientException',
  'KMSAccessDeniedException',
  'InvalidKMSResourceException',
  'KMSOptInRequired',
]);
const NOT_FOUND = new Set([
  'ResourceNotFoundException',
  'NoSuchBucket',
  'NoSuchKey',
  'AWS.SimpleQueueService.NonExistentQueue',
  'QueueDoesNotExist',
  'KMSNotFoundException',
]);
const INVALID = new Set([
  'InvalidArgumentException',
  'ValidationException',
  'InvalidSourceException',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'MalformedPolicyDocument',
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'EntityTooLarge',
  'BatchRequestTooLong',
  // The stream's KMS key is disabled or not usable (PutRecords per-entry codes): waiting will not help.
  'KMSDisabledException',
  'KMSInvalidStateException',
]);

export function awsErrorName(e: unknown): string {
  const err = e as { name?: string; code?: string; Code?: string };
  if (err?.name && err.name !== 'Error') return err.name;
  return err?.code ?? err?.Code ?? 'SINK_UNAVAILABLE';
}

export function awsStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** Retry-After (seconds) of a throttling response, in ms; 0 when absent. */
export function retryAfterMs(e: unknown): number {
  const h = (e as { $response?: { headers?: Record<string, string> } })?.$response?.headers?.['retry-after'];
  const s = h === undefined ? Number.NaN : Number(h);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 0;
}

/** Classifies a per-entry error code of a batch API (no status, no headers). */
export function classifyAwsCode(code: string): AwsErrorClass {
  return classifyAwsError({ name: code });
}

export function classifyAwsError(e: unknown): AwsErrorClass {
  const name = awsErrorName(e);
  const status = awsStatus(e);
  const base = { name, status, retryAfterMs: retryAfterMs(e) };
  if (THROTTLE.test(name) || status === 429 || status === 503)
    return { ...base, kind: 'throttled', retry: true };
  if (EXPIRED.has(name)) return { ...base, kind: 'expired-credentials', retry: true };
  if (ACCESS.has(name) || status === 403) return { ...base, kind: 'access-denied', retry: false };
  if (NOT_FOUND.has(name) || status === 404) return { ...base, kind: 'not-found', retry: false };
  if (INVALID.has(name) || (status !== undefined && status >= 400 && status < 500 && status !== 408))
    return { ...base, kind: 'invalid', retry: false };
  // 5xx, 408, network errors (ECONNRESET, ETIMEDOUT, …) and anything unknown: transient.
  return { ...base, kind: 'transient', retry: true };
}
