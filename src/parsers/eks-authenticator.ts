/**
 * `eks-authenticator` parser: aws-iam-authenticator lines from the EKS `authenticator-*` streams,
 * logrus key=value format (`time="2023-06-13T10:42:07Z" level=info msg="access granted"
 * arn="arn:aws:iam::1234:role/x" username="kubernetes-admin" ...`, and the `access denied` variants
 * with quoted, escaped `error` values) → one string field per key (`time`, `level`, `msg`, `arn`,
 * `username`, `uid`, `groups`, `client`, `method`, `path`, `sts`, `error`, …) plus `accountId` taken
 * from `arn`. Uses the shared logfmt tokenizer. Pure, never throws; a line without `msg` or `level`
 * is a failure. `time` is a field only: the event time stays the CloudWatch timestamp.
 */
import type { ParseFailure, Parser } from '../core/pipeline.js';
import { scanLogfmt } from './logfmt.js';

export interface EksAuthenticatorOptions {
  type: 'eks-authenticator';
}

const ARN_ACCOUNT = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}|\d+):/;

export function parseAuthenticator(text: string): Record<string, unknown> | ParseFailure {
  const fields: Record<string, unknown> = {};
  const scan = scanLogfmt(text, fields);
  if (scan.pairs === 0 || (fields.msg === undefined && fields.level === undefined)) {
    return { error: 'not an aws-iam-authenticator line' };
  }
  if (typeof fields.arn === 'string') {
    const a = ARN_ACCOUNT.exec(fields.arn);
    if (a) fields.accountId = a[1];
  }
  return fields;
}

export function createEksAuthenticatorParser(_opts?: Partial<EksAuthenticatorOptions>): Parser {
  return { type: 'eks-authenticator', parse: (text) => parseAuthenticator(text) };
}
