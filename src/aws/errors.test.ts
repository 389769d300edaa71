import { describe, expect, it } from 'vitest';
import { classifyAwsCode, classifyAwsError } from './errors.js';

const err = (name: string, status?: number, retryAfter?: string) =>
  Object.assign(new Error(name), {
    name,
    $metadata: { httpStatusCode: status },
    $response: retryAfter ? { headers: { 'retry-after': retryAfter } } : undefined,
  });

describe('classifyAwsError', () => {
  it('retries throttling (with the Retry-After hint), 5xx, network errors and expired credentials', () => {
    expect(classifyAwsError(err('ThrottlingException', 400, '2'))).toMatchObject({
      kind: 'throttled',
      retry: true,
      retryAfterMs: 2000,
    });
    expect(classifyAwsError(err('SlowDown', 503)).kind).toBe('throttled');
    expect(classifyAwsCode('ServiceUnavailableException')).toMatchObject({ kind: 'throttled', retry: true });
    expect(classifyAwsError(err('InternalFailure', 500))).toMatchObject({ kind: 'transient', retry: true });
    expect(classifyAwsError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toMatchObject({
      name: 'ECONNRESET',
      retry: true,
    });
    expect(classifyAwsError(err('ExpiredTokenException', 400))).toMatchObject({
      kind: 'expired-credentials',
      retry: true,
    });
  });

  it('never retries refusals: access denied, missing resources, invalid requests', () => {
    expect(classifyAwsError(err('AccessDeniedException', 400))).toMatchObject({
      kind: 'access-denied',
      retry: false,
    });
    expect(classifyAwsError(err('Whatever', 403)).retry).toBe(false);
    expect(classifyAwsError(err('ResourceNotFoundException', 400))).toMatchObject({
      kind: 'not-found',
      retry: false,
    });
    expect(classifyAwsCode('InvalidArgumentException')).toMatchObject({ kind: 'invalid', retry: false });
    expect(classifyAwsError(err('SomeClientFault', 400)).retry).toBe(false);
  });
});
