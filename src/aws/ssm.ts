/**
 * Reads SSM parameters (decrypted) for configuration and secrets. Control-plane call: SDK retries
 * stay on here (this is not a data path).
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { LogferryError } from '../core/errors.js';
import { clientConfig } from './clients.js';

let client: SSMClient | undefined;

export function ssmClient(env: NodeJS.ProcessEnv = process.env): SSMClient {
  client ??= new SSMClient(clientConfig('ssm', { maxAttempts: 3, env }));
  return client;
}

export async function getParameter(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const out = await ssmClient(env).send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    const v = out.Parameter?.Value;
    if (v === undefined) throw new Error('parameter has no value');
    return v;
  } catch (e) {
    throw new LogferryError(
      'SECRET_UNAVAILABLE',
      `cannot read SSM parameter ${name}: ${(e as Error).name}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

/** For tests: forget the cached client (e.g. after changing the endpoint). */
export function resetSsmClient(): void {
  client = undefined;
}
