/**
 * How a logferry function reaches an external sink, shared by the stacks that deploy one (the
 * Kinesis consumer of `kinesis-search`, the component-queue consumers of `firehose-archive`): the
 * environment the shorthand variables read (secrets only as references, resolved by the function
 * at run time), and the least-privilege statements for the references, the SigV4 domain and the
 * keys that encrypt the secrets.
 */
import { ArnFormat, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { LogferryError } from '../../../src/core/errors.js';
import type { ExternalSinkConfig } from '../config.js';
import { acknowledgeWildcard } from './common.js';

/** The IAM resource a secret reference reads (`ssm:/name`, `secretsmanager:name-or-arn[#key]`). */
export function secretRefResource(stack: Stack, ref: string): { action: string; resource: string } {
  if (ref.startsWith('ssm:')) {
    const name = ref.slice(4);
    return {
      action: 'ssm:GetParameter',
      resource: stack.formatArn({
        service: 'ssm',
        resource: 'parameter',
        resourceName: name.replace(/^\//, ''),
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    };
  }
  const id = ref.slice('secretsmanager:'.length).split('#')[0];
  if (id.startsWith('arn:')) return { action: 'secretsmanager:GetSecretValue', resource: id };
  // A name: Secrets Manager appends `-` and six random characters to the ARN.
  return {
    action: 'secretsmanager:GetSecretValue',
    resource: stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${id}-??????`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
  };
}

export interface SinkAccess {
  /** Environment for the function (the shorthand variables or LOGFERRY_CONFIG_PARAMETER). */
  env: Record<string, string>;
  /** Secret references the function reads at run time. */
  refs: string[];
  /** `<domain ARN>/*` when the sink is an Amazon OpenSearch Service domain written with SigV4. */
  esResource?: string;
  endpoint?: string;
}

/** The environment and references for an existing OpenSearch endpoint or a config parameter. */
export function sinkAccess(sink: ExternalSinkConfig, field: string): SinkAccess {
  const env: Record<string, string> = {};
  const refs: string[] = [];
  if (sink.type === 'config') {
    env.LOGFERRY_CONFIG_PARAMETER = sink.parameter;
    refs.push(`ssm:${sink.parameter}`);
    return { env, refs };
  }
  env.LOGFERRY_OPENSEARCH_URL = sink.url;
  if (sink.auth) env.LOGFERRY_OPENSEARCH_AUTH = sink.auth;
  if (sink.username) env.LOGFERRY_OPENSEARCH_USERNAME = sink.username;
  if (sink.password) {
    env.LOGFERRY_OPENSEARCH_PASSWORD = sink.password;
    refs.push(sink.password);
  }
  if (sink.index) env.LOGFERRY_INDEX = sink.index;
  const sigv4 = sink.auth === 'sigv4' || (!sink.auth && /\.(es|aoss)\.amazonaws\.com/.test(sink.url));
  if (sigv4 && !sink.domainArn)
    throw new LogferryError(
      'CONFIG_INVALID',
      `${field}.domainArn is required for SigV4 to an Amazon OpenSearch Service domain (the role is granted es:ESHttp* on it)`,
    );
  if ((sink.auth === 'basic' || sink.username) && !sink.password)
    throw new LogferryError(
      'CONFIG_INVALID',
      `${field}.password: basic auth needs a password reference (ssm:/name or secretsmanager:name)`,
    );
  return {
    env,
    refs,
    endpoint: sink.url,
    ...(sigv4 && sink.domainArn ? { esResource: `${sink.domainArn}/*` } : {}),
  };
}

/** Grants `role` exactly what reaching the sink needs: the domain's paths, the references, the keys. */
export function grantSinkAccess(
  stack: Stack,
  role: iam.Role,
  access: { refs: string[]; esResource?: string },
  kmsKeyArns: string[],
): void {
  if (access.esResource) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SearchWrite',
        actions: ['es:ESHttpGet', 'es:ESHttpPost', 'es:ESHttpPut'],
        resources: [access.esResource],
      }),
    );
    acknowledgeWildcard(
      role,
      access.esResource,
      'es:ESHttp* is scoped to the one search domain; `<domain>/*` names its index paths (daily indexes are ' +
        'created at run time).',
    );
  }
  const byAction = new Map<string, string[]>();
  for (const r of access.refs) {
    const { action, resource } = secretRefResource(stack, r);
    byAction.set(action, [...(byAction.get(action) ?? []), resource]);
  }
  for (const [action, resources] of byAction)
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `${action.split(':')[0].replace(/[^a-z]/g, '')}Read`,
        actions: [action],
        resources,
      }),
    );
  if (kmsKeyArns.length)
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'SecretKeys', actions: ['kms:Decrypt'], resources: kmsKeyArns }),
    );
}
