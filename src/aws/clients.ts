/**
 * AWS SDK v3 client factory. Data-path clients run with SDK retries off (`maxAttempts: 1`) because
 * the core owns retries (one retry layer, bounded by the Lambda deadline). Endpoints can be
 * overridden for local emulators: `LOGFERRY_AWS_ENDPOINT` for every service, or
 * `LOGFERRY_<SERVICE>_ENDPOINT` (e.g. `LOGFERRY_S3_ENDPOINT`) for one. With an endpoint set, S3
 * uses path-style addressing and Kinesis an HTTP/1.1 handler (emulators do not speak HTTP/2).
 */
import type { NodeHttpHandler, NodeHttpHandlerOptions } from '@smithy/node-http-handler';

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
    if (service === 'kinesis') cfg.requestHandler = new LazyHttp1Handler({ connectionTimeout: 5_000 });
  }
  return cfg;
}

/**
 * The exports of a dynamically imported SDK package: in a bundle, a CommonJS package imported with
 * `import()` may come back as `{ default: exports }`; `key` is one export it must have.
 */
export function cjsNamespace<M extends object>(m: M, key: keyof M): M {
  return key in m ? m : (m as unknown as { default: M }).default;
}

/**
 * An HTTP/1.1 request handler that imports @smithy/node-http-handler (and the Smithy core it
 * requires) on its first request: this module is on every Lambda handler's start path (through the
 * secret resolver), the handler only on the emulator path. The SDK takes any object with `handle`.
 */
class LazyHttp1Handler {
  private loaded?: NodeHttpHandler;
  private loading?: Promise<NodeHttpHandler>;
  private readonly updates: [keyof NodeHttpHandlerOptions, unknown][] = [];
  readonly metadata = { handlerProtocol: 'http/1.1' };

  constructor(private readonly options: NodeHttpHandlerOptions) {}

  private handler(): Promise<NodeHttpHandler> {
    this.loading ??= import('@smithy/node-http-handler').then((ns) => {
      const m = cjsNamespace(ns, 'NodeHttpHandler');
      const h = new m.NodeHttpHandler(this.options);
      for (const [k, v] of this.updates) h.updateHttpClientConfig(k, v as never);
      this.loaded = h;
      return h;
    });
    return this.loading;
  }

  async handle(...args: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
    return (await this.handler()).handle(...args);
  }

  updateHttpClientConfig(key: keyof NodeHttpHandlerOptions, value: unknown): void {
    if (this.loaded) this.loaded.updateHttpClientConfig(key, value as never);
    else this.updates.push([key, value]);
  }

  httpHandlerConfigs(): NodeHttpHandlerOptions {
    if (this.loaded) return this.loaded.httpHandlerConfigs();
    const cfg: Record<string, unknown> = { ...this.options };
    for (const [k, v] of this.updates) cfg[k] = v;
    return cfg as NodeHttpHandlerOptions;
  }

  destroy(): void {
    this.loaded?.destroy();
  }
}
