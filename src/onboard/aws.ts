/**
 * The only way onboarding talks to AWS. `AwsCaller.call(service, operation, input)` sends
 * `<operation>Command` with the service's SDK v3 client, and refuses any (service, operation) not
 * declared for the running command in `calls.ts` — so the generated IAM policy cannot fall behind
 * the code. Every client honours `AWS_REGION` and `AWS_ENDPOINT_URL` (and the per-service
 * `AWS_ENDPOINT_URL_<SERVICE>`), so all of it runs against a local emulator. Control-plane calls
 * keep the SDK's own retries (throttling backoff).
 */
import { LogferryError } from '../core/errors.js';
import { isDeclared, type OnboardCommand, type OnboardService } from './calls.js';

/** Loads each SDK package once, lazily: `onboard eks` never loads the Lambda client. */
const PACKAGES: Record<Exclude<OnboardService, 'iam'>, () => Promise<Record<string, unknown>>> = {
  lambda: () => import('@aws-sdk/client-lambda'),
  ecs: () => import('@aws-sdk/client-ecs'),
  eks: () => import('@aws-sdk/client-eks'),
  logs: () => import('@aws-sdk/client-cloudwatch-logs'),
  cloudformation: () => import('@aws-sdk/client-cloudformation'),
};

const CLIENT_CLASS: Record<Exclude<OnboardService, 'iam'>, string> = {
  lambda: 'LambdaClient',
  ecs: 'ECSClient',
  eks: 'EKSClient',
  logs: 'CloudWatchLogsClient',
  cloudformation: 'CloudFormationClient',
};

/** The suffix of `AWS_ENDPOINT_URL_<SERVICE>` for each service (the SDK's service id). */
const ENV_ID: Record<Exclude<OnboardService, 'iam'>, string> = {
  lambda: 'LAMBDA',
  ecs: 'ECS',
  eks: 'EKS',
  logs: 'CLOUDWATCH_LOGS',
  cloudformation: 'CLOUDFORMATION',
};

export type SendObserver = (service: OnboardService, operation: string, input: unknown) => void;

export interface CallerOptions {
  env?: NodeJS.ProcessEnv;
  /** Called from SDK middleware for every command actually sent (tests record them). */
  observe?: SendObserver;
  /** Poll interval for waits (tests shorten it). */
  pollMs?: number;
}

interface SdkClient {
  send(command: unknown): Promise<unknown>;
  middlewareStack: {
    add(
      mw: (next: (a: unknown) => Promise<unknown>, ctx: { commandName?: string }) => unknown,
      o: object,
    ): void;
  };
  destroy(): void;
}

export class AwsCaller {
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly pollMs: number;
  /** The environment the caller was made with (helm steps read LOGFERRY_HELM and PATH from it). */
  readonly env: NodeJS.ProcessEnv;
  private readonly clients = new Map<string, SdkClient>();
  private readonly modules = new Map<string, Record<string, unknown>>();

  constructor(
    readonly command: OnboardCommand,
    private readonly opts: CallerOptions = {},
  ) {
    const env = opts.env ?? process.env;
    this.env = env;
    this.region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
    this.endpoint = env.AWS_ENDPOINT_URL || env.LOGFERRY_AWS_ENDPOINT || undefined;
    this.pollMs = opts.pollMs ?? 5_000;
  }

  private endpointFor(service: Exclude<OnboardService, 'iam'>): string | undefined {
    const env = this.opts.env ?? process.env;
    return env[`AWS_ENDPOINT_URL_${ENV_ID[service]}`] || this.endpoint;
  }

  private async client(
    service: Exclude<OnboardService, 'iam'>,
  ): Promise<{ client: SdkClient; mod: Record<string, unknown> }> {
    let mod = this.modules.get(service);
    if (!mod) {
      mod = await PACKAGES[service]();
      this.modules.set(service, mod);
    }
    let client = this.clients.get(service);
    if (!client) {
      const Ctor = mod[CLIENT_CLASS[service]] as new (cfg: object) => SdkClient;
      const endpoint = this.endpointFor(service);
      client = new Ctor({ region: this.region, maxAttempts: 5, ...(endpoint ? { endpoint } : {}) });
      const observe = this.opts.observe;
      if (observe) {
        client.middlewareStack.add(
          (next, ctx) => async (args: unknown) => {
            observe(
              service,
              String(ctx.commandName ?? '').replace(/Command$/, ''),
              (args as { input?: unknown }).input,
            );
            return next(args);
          },
          { step: 'initialize', name: 'logferryObserve' },
        );
      }
      this.clients.set(service, client);
    }
    return { client, mod };
  }

  /** Sends one declared call; an undeclared call is a bug (the IAM policy would not allow it). */
  async call<T = Record<string, unknown>>(
    service: OnboardService,
    operation: string,
    input: Record<string, unknown>,
  ): Promise<T> {
    if (!isDeclared(this.command, service, operation) || service === 'iam')
      throw new LogferryError(
        'INTERNAL',
        `${this.command} tried to call ${service}:${operation}, which its declared call table does not list`,
      );
    const { client, mod } = await this.client(service);
    const Cmd = mod[`${operation}Command`] as (new (input: object) => unknown) | undefined;
    if (!Cmd) throw new LogferryError('INTERNAL', `no SDK command ${operation} in the ${service} client`);
    return (await client.send(new Cmd(input))) as T;
  }

  sleep(ms = this.pollMs): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }

  destroy(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}

/** The AWS error name (`ResourceNotFoundException`), whatever the SDK wrapped it in. */
export function awsErrorName(e: unknown): string {
  const x = e as { name?: string; Code?: string; __type?: string };
  return x?.name ?? x?.Code ?? x?.__type ?? '';
}

export function isNotFound(e: unknown): boolean {
  const n = awsErrorName(e);
  return (
    n === 'ResourceNotFoundException' ||
    n === 'ClusterNotFoundException' ||
    n === 'ServiceNotFoundException' ||
    n === 'NotFoundException'
  );
}
