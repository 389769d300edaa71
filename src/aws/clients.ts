/**
 * AWS SDK v3 client factory. Data-path clients run with SDK retries off (`maxAttempts: 1`) because
 * the core owns retries (one retry layer, bounded by the Lambda deadline). Endpoints can be
 * overridden for local emulators: `LOGFERRY_AWS_ENDPOINT` for every service, or
 * `LOGFERRY_<SERVICE>_ENDPOINT` (e.g. `LOGFERRY_S3_ENDPOINT`) for one. With an endpoint set, S3
 * uses path-style addressing and Kinesis an HTTP/1.1 handler (emulators do not speak HTTP/2).
 */
import { NodeHttpHandler } from '@smithy/node-http-handler';

export type AwsService = 's3' | 'firehose' | 'kinesis' | 'sqs' | 'ssm' | 'secretsmanager' | 'logs' | 'sts';

export interface ClientOptions {
  region?: string;
  endpoint?: string;
  /** Data paths: 1 (the core retries). Control-plane calls may keep SDK retries. */
  maxAttempts?: number;
  env?: NodeJS.ProcessEnv;
}

export function endpointFor(service: AwsService, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[`LOGFERRY_${service.toUpperCase()}_ENDPOINT`] || env.LOGFERRY_AWS_ENDPOINT || undefined;
}

/** Common constructor options for any SDK v3 client. */
export function clientConfig(service: AwsService, opts: ClientOptions = {}) {
  const env = opts.env ?? process.env;
  const endpoint = opts.endpoint ?? endpointFor(service, env);
  const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const cfg: Record<string, unknown> = { region, maxAttempts: opts.maxAttempts ?? 1 };
  if (endpoint) {
    cfg.endpoint = endpoint;
    if (service === 's3') {
      cfg.forcePathStyle = true;
      cfg.requestChecksumCalculation = 'WHEN_REQUIRED';
      cfg.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    if (service === 'kinesis') cfg.requestHandler = new NodeHttpHandler({ connectionTimeout: 5_000 });
  }
  return cfg;
}
