import { describe, expect, it } from 'vitest';
import { isParseFailure } from '../core/pipeline.js';
import type { LogRecord } from '../core/record.js';
import { createEksAuthenticatorParser } from './eks-authenticator.js';

const rec = { timestamp: 0, message: '', fields: {}, meta: {} } as unknown as LogRecord;

describe('eks-authenticator parser', () => {
  const p = createEksAuthenticatorParser();

  it('parses an access granted line', () => {
    const msg =
      'time="2023-06-13T10:42:07Z" level=info msg="access granted" arn="arn:aws:iam::123456789012:role/eks-admin" client="127.0.0.1:44322" groups="[system:masters]" method=POST path=/authenticate sts=sts.us-east-1.amazonaws.com uid="aws-iam-authenticator:123456789012:AROAEXAMPLEROLEID" username="kubernetes-admin"';
    expect(p.parse(msg, rec)).toEqual({
      time: '2023-06-13T10:42:07Z',
      level: 'info',
      msg: 'access granted',
      arn: 'arn:aws:iam::123456789012:role/eks-admin',
      client: '127.0.0.1:44322',
      groups: '[system:masters]',
      method: 'POST',
      path: '/authenticate',
      sts: 'sts.us-east-1.amazonaws.com',
      uid: 'aws-iam-authenticator:123456789012:AROAEXAMPLEROLEID',
      username: 'kubernetes-admin',
      accountId: '123456789012',
    });
  });

  it('parses an access denied line with an escaped error value', () => {
    const msg =
      'time="2023-06-13T10:43:01Z" level=warning msg="access denied" client="127.0.0.1:51400" error="sts getCallerIdentity failed: error from AWS (expected 200, got 403). Body: {\\"Error\\":{\\"Code\\":\\"InvalidClientTokenId\\",\\"Message\\":\\"The security token included in the request is invalid.\\"}}" method=POST path=/authenticate';
    const r = p.parse(msg, rec) as Record<string, string>;
    expect(r.msg).toBe('access denied');
    expect(r.level).toBe('warning');
    expect(r.error).toContain('"Code":"InvalidClientTokenId"');
    expect(r.error.endsWith('invalid."}}')).toBe(true);
    expect(r.method).toBe('POST');
  });

  it('parses the mapper and start-up lines', () => {
    const msg =
      'time="2023-06-13T10:00:00Z" level=info msg="mapping IAM role" groups="[system:bootstrappers system:nodes]" role="arn:aws:iam::123456789012:role/node" username="system:node:{{EC2PrivateDNSName}}"';
    expect(p.parse(msg, rec)).toMatchObject({
      msg: 'mapping IAM role',
      username: 'system:node:{{EC2PrivateDNSName}}',
    });
  });

  it('fails on lines that are not authenticator log lines', () => {
    expect(isParseFailure(p.parse('panic: runtime error', rec))).toBe(true);
    expect(isParseFailure(p.parse('a=b c=d', rec))).toBe(true);
    expect(isParseFailure(p.parse('', rec))).toBe(true);
  });
});
