/** src/aws/secrets.ts against moto's SSM Parameter Store and Secrets Manager. */
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetSsmClient } from '../src/aws/ssm.js';
import { SecretResolver } from '../src/aws/secrets.js';
import { redactSecrets, registeredSecrets } from '../src/core/secrets-registry.js';
import { motoUrl } from './infra/services.js';

const unique = `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
let env: NodeJS.ProcessEnv;
let ssm: SSMClient;
let sm: SecretsManagerClient;

beforeAll(() => {
  const endpoint = motoUrl();
  env = { ...process.env, LOGFERRY_AWS_ENDPOINT: endpoint, AWS_REGION: 'us-east-1' };
  resetSsmClient();
  const base = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  ssm = new SSMClient(base);
  sm = new SecretsManagerClient(base);
});

describe('SecretResolver against moto', () => {
  it('reads an SSM SecureString, caches it, and refresh picks up a rotation', async () => {
    const name = `/logferry/${unique}/token`;
    await ssm.send(
      new PutParameterCommand({ Name: name, Value: 'ssm-token-v1-abcdef', Type: 'SecureString' }),
    );
    const r = new SecretResolver({ env, ttlMs: 60_000 });
    expect(await r.resolve(`ssm:${name}`)).toBe('ssm-token-v1-abcdef');
    await ssm.send(
      new PutParameterCommand({
        Name: name,
        Value: 'ssm-token-v2-ghijkl',
        Type: 'SecureString',
        Overwrite: true,
      }),
    );
    expect(await r.resolve(`ssm:${name}`)).toBe('ssm-token-v1-abcdef');
    expect(await r.refresh(`ssm:${name}`)).toBe('ssm-token-v2-ghijkl');
    expect(registeredSecrets()).toEqual(
      expect.arrayContaining(['ssm-token-v1-abcdef', 'ssm-token-v2-ghijkl']),
    );
    expect(redactSecrets('Authorization: Bearer ssm-token-v2-ghijkl')).toBe('Authorization: Bearer ****');
  });

  it('reads a Secrets Manager secret whole and by JSON key, registering every leaf', async () => {
    const id = `logferry/${unique}/opensearch`;
    const secret = JSON.stringify({ username: 'ferry-user', password: 'Sm-Pa55word-xyz', port: 9200 });
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: secret }));
    const r = new SecretResolver({ env });
    expect(await r.resolve(`secretsmanager:${id}#password`)).toBe('Sm-Pa55word-xyz');
    expect(await r.resolve(`secretsmanager:${id}#port`)).toBe('9200');
    expect(JSON.parse(await r.resolve(`secretsmanager:${id}`))).toMatchObject({ username: 'ferry-user' });
    expect(registeredSecrets()).toEqual(expect.arrayContaining(['Sm-Pa55word-xyz', 'ferry-user', secret]));
    await expect(r.resolve(`secretsmanager:${id}#nokey`)).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
    });

    await sm.send(
      new PutSecretValueCommand({
        SecretId: id,
        SecretString: JSON.stringify({ password: 'Rotated-Pa55-123' }),
      }),
    );
    expect(await r.resolve(`secretsmanager:${id}#password`)).toBe('Sm-Pa55word-xyz');
    expect(await r.refresh(`secretsmanager:${id}#password`)).toBe('Rotated-Pa55-123');
  });

  it('reports a missing parameter or secret as SECRET_UNAVAILABLE naming the reference only', async () => {
    const r = new SecretResolver({ env });
    await expect(r.resolve(`ssm:/logferry/${unique}/absent`)).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
    });
    await expect(r.resolve(`secretsmanager:logferry/${unique}/absent`)).rejects.toThrow(/cannot read secret/);
  });
});
