/**
 * A local stand-in of the two Lambda APIs an external extension talks to, written from the AWS
 * Lambda developer guide (runtimes-extensions-api, telemetry-api, telemetry-api-reference):
 *
 * Extensions API (2020-01-01), under `AWS_LAMBDA_RUNTIME_API`:
 *   POST /2020-01-01/extension/register   headers `Lambda-Extension-Name` (required),
 *        `Lambda-Extension-Accept-Feature: accountId` (optional); body `{"events": ["INVOKE",
 *        "SHUTDOWN"]}`. 200 with header `Lambda-Extension-Identifier` and body `{functionName,
 *        functionVersion, handler[, accountId]}`; 400 `{errorMessage, errorType}` on a bad request;
 *        403 after the init phase ended.
 *   GET  /2020-01-01/extension/event/next  header `Lambda-Extension-Identifier`; blocks until the
 *        next event: `{eventType: "INVOKE", deadlineMs, requestId, invokedFunctionArn, tracing}` or
 *        `{eventType: "SHUTDOWN", shutdownReason, deadlineMs}`; 403 for an unknown identifier.
 *   POST /2020-01-01/extension/init/error  header `Lambda-Extension-Function-Error-Type`; 202.
 *   POST /2020-01-01/extension/exit/error  header `Lambda-Extension-Function-Error-Type`; 202.
 * Telemetry API (2022-07-01):
 *   PUT  /2022-07-01/telemetry  header `Lambda-Extension-Identifier`; body `{schemaVersion
 *        ("2025-01-29" | "2022-12-13" | "2022-07-01"), destination {protocol "HTTP"|"TCP", URI},
 *        types ⊆ [platform, function, extension], buffering? {maxItems 1000–10000, maxBytes
 *        262144–1048576, timeoutMs 25–30000}}`. 200 "OK"; 400 on a bad body.
 *   Delivery: POST of a JSON array of `{time, type, record}` to the destination URI, only the
 *   subscribed types (`platform` covers every `platform.*` event).
 *
 * Re-sending: the guide says Lambda buffers telemetry in memory (bounded by the subscription's
 * buffering) and, when an extension cannot keep up, drops events and reports a
 * `platform.logsDropped` event; it does not publish an exact re-send schedule. This stand-in
 * re-sends a batch answered with a non-2xx status up to `maxSends` times (`resendDelayMs` apart)
 * and then drops it, counting the drop, and reports it with a `platform.logsDropped` event in the
 * next batch — the documented outcome of a destination that does not accept telemetry.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface TelemetryEvent {
  time: string;
  type: string;
  record: unknown;
}

export interface Subscription {
  extensionId: string;
  schemaVersion: string;
  destination: { protocol: string; URI: string };
  types: string[];
  buffering?: { maxItems?: number; maxBytes?: number; timeoutMs?: number };
}

export interface DeliveryResult {
  /** Statuses of each send, in order (0 = connection failed). */
  statuses: number[];
  delivered: boolean;
  /** Events the subscription filtered out (types not subscribed). */
  filtered: number;
}

interface Ext {
  id: string;
  name: string;
  events: string[];
  queue: Record<string, unknown>[];
  waiting: ((ev: Record<string, unknown>) => void) | undefined;
  nextCalls: number;
}

const SCHEMA_VERSIONS = new Set(['2025-01-29', '2022-12-13', '2022-07-01']);
const TYPES = new Set(['platform', 'function', 'extension']);
const RANGES = {
  maxItems: [1_000, 10_000],
  maxBytes: [262_144, 1_048_576],
  timeoutMs: [25, 30_000],
} as const;

export interface StandInOptions {
  functionName?: string;
  accountId?: string;
  maxSends?: number;
  resendDelayMs?: number;
}

export class LambdaExtensionsApi {
  readonly functionName: string;
  readonly accountId: string;
  readonly maxSends: number;
  readonly resendDelayMs: number;
  readonly extensions = new Map<string, Ext>();
  readonly subscriptions: Subscription[] = [];
  readonly initErrors: { type: string; body: unknown }[] = [];
  readonly exitErrors: { type: string; body: unknown }[] = [];
  /** Events dropped after `maxSends` failed sends (what Lambda reports as logsDropped). */
  droppedEvents = 0;
  private pendingDropped = { records: 0, bytes: 0 };
  private initDone = false;
  private server: Server | undefined;
  private port = 0;
  private subscribedWaiters: (() => void)[] = [];

  constructor(opts: StandInOptions = {}) {
    this.functionName = opts.functionName ?? 'orders';
    this.accountId = opts.accountId ?? '123456789012';
    this.maxSends = opts.maxSends ?? 3;
    this.resendDelayMs = opts.resendDelayMs ?? 50;
  }

  /** `host:port`, the value of AWS_LAMBDA_RUNTIME_API. */
  get runtimeApi(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.route(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }

  async stop(): Promise<void> {
    for (const e of this.extensions.values()) e.waiting = undefined;
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Resolves once an extension has subscribed to the Telemetry API. */
  subscribed(): Promise<Subscription> {
    if (this.subscriptions.length > 0) return Promise.resolve(this.subscriptions[0]);
    return new Promise((r) => this.subscribedWaiters.push(() => r(this.subscriptions[0])));
  }

  /** Number of `event/next` calls of all extensions (the extension is idle when it grows). */
  nextCalls(): number {
    let n = 0;
    for (const e of this.extensions.values()) n += e.nextCalls;
    return n;
  }

  /** Queues an INVOKE for every extension registered for it. */
  invoke(timeoutMs = 3_000): string {
    const requestId = randomUUID();
    this.initDone = true;
    this.push('INVOKE', {
      eventType: 'INVOKE',
      deadlineMs: Date.now() + timeoutMs,
      requestId,
      invokedFunctionArn: `arn:aws:lambda:us-east-1:${this.accountId}:function:${this.functionName}`,
      tracing: {
        type: 'X-Amzn-Trace-Id',
        value: `Root=1-${Date.now().toString(16)}-${randomUUID().slice(0, 24)}`,
      },
    });
    return requestId;
  }

  /** Queues SHUTDOWN; the extension has until `deadlineMs` (now + graceMs). */
  shutdown(reason: 'spindown' | 'timeout' | 'failure' = 'spindown', graceMs = 2_000): number {
    const deadlineMs = Date.now() + graceMs;
    this.initDone = true;
    this.push('SHUTDOWN', { eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs });
    return deadlineMs;
  }

  private push(kind: string, ev: Record<string, unknown>) {
    for (const e of this.extensions.values()) {
      if (!e.events.includes(kind)) continue;
      if (e.waiting) {
        const w = e.waiting;
        e.waiting = undefined;
        w(ev);
      } else e.queue.push(ev);
    }
  }

  /**
   * Delivers one batch to every subscription (its subscribed types only), re-sending on a non-2xx
   * answer as described above. `onSend` sees each answer (tests use it to heal a sink).
   */
  async deliver(
    events: TelemetryEvent[],
    onSend?: (status: number, attempt: number) => void | Promise<void>,
  ): Promise<DeliveryResult> {
    const sub = this.subscriptions[0];
    if (!sub) throw new Error('no telemetry subscription');
    const wanted = (t: string) =>
      sub.types.includes(t) || (t.startsWith('platform.') && sub.types.includes('platform'));
    const batch = events.filter((e) => wanted(e.type));
    if (this.pendingDropped.records > 0 && sub.types.includes('platform')) {
      batch.unshift({
        time: new Date().toISOString(),
        type: 'platform.logsDropped',
        record: {
          reason: 'Consumer seems to have fallen behind as it has not acknowledged receipt of logs.',
          droppedRecords: this.pendingDropped.records,
          droppedBytes: this.pendingDropped.bytes,
        },
      });
      this.pendingDropped = { records: 0, bytes: 0 };
    }
    const body = JSON.stringify(batch);
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= this.maxSends; attempt++) {
      let status = 0;
      try {
        const res = await fetch(sub.destination.URI, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
        });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 0;
      }
      statuses.push(status);
      await onSend?.(status, attempt);
      if (status >= 200 && status < 300)
        return { statuses, delivered: true, filtered: events.length - batch.length };
      if (attempt < this.maxSends) await new Promise((r) => setTimeout(r, this.resendDelayMs));
    }
    this.droppedEvents += batch.length;
    this.pendingDropped.records += batch.length;
    this.pendingDropped.bytes += Buffer.byteLength(body);
    return { statuses, delivered: false, filtered: events.length - batch.length };
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = req.url ?? '';
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const fail = (status: number, errorType: string, errorMessage: string): void =>
      json(status, { errorMessage, errorType });
    const ext = this.extensions.get(String(req.headers['lambda-extension-identifier'] ?? ''));

    if (req.method === 'POST' && url === '/2020-01-01/extension/register') {
      if (this.initDone)
        return fail(403, 'Extension.RegistrationPhaseEnded', 'registration is allowed during init only');
      const name = req.headers['lambda-extension-name'];
      if (typeof name !== 'string' || !name)
        return fail(400, 'InvalidRequest', 'Lambda-Extension-Name is required');
      let body: { events?: unknown };
      try {
        body = JSON.parse(text);
      } catch {
        return fail(400, 'InvalidRequestFormat', 'body is not JSON');
      }
      const events = body.events;
      if (!Array.isArray(events) || events.some((e) => e !== 'INVOKE' && e !== 'SHUTDOWN'))
        return fail(400, 'InvalidRequest', 'events must be a list of INVOKE and SHUTDOWN');
      const id = randomUUID();
      this.extensions.set(id, {
        id,
        name,
        events: events as string[],
        queue: [],
        waiting: undefined,
        nextCalls: 0,
      });
      const out: Record<string, unknown> = {
        functionName: this.functionName,
        functionVersion: '$LATEST',
        handler: 'index.handler',
      };
      if (String(req.headers['lambda-extension-accept-feature'] ?? '').includes('accountId'))
        out.accountId = this.accountId;
      return json(200, out, { 'Lambda-Extension-Identifier': id });
    }
    if (req.method === 'GET' && url === '/2020-01-01/extension/event/next') {
      if (!ext)
        return fail(403, 'Extension.InvalidExtensionIdentifier', 'unknown Lambda-Extension-Identifier');
      ext.nextCalls++;
      const ev = ext.queue.shift() ?? (await new Promise<Record<string, unknown>>((r) => (ext.waiting = r)));
      return json(200, ev, { 'Lambda-Extension-Event-Identifier': randomUUID() });
    }
    if (
      req.method === 'POST' &&
      (url === '/2020-01-01/extension/init/error' || url === '/2020-01-01/extension/exit/error')
    ) {
      if (!ext)
        return fail(403, 'Extension.InvalidExtensionIdentifier', 'unknown Lambda-Extension-Identifier');
      const type = String(req.headers['lambda-extension-function-error-type'] ?? '');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text
      }
      (url.endsWith('init/error') ? this.initErrors : this.exitErrors).push({ type, body });
      return json(202, { status: 'OK' });
    }
    if (req.method === 'PUT' && (url === '/2022-07-01/telemetry' || url === '/2022-07-01/telemetry/')) {
      if (!ext)
        return fail(403, 'Extension.InvalidExtensionIdentifier', 'unknown Lambda-Extension-Identifier');
      let body: Partial<Subscription>;
      try {
        body = JSON.parse(text);
      } catch {
        return fail(400, 'InvalidRequestFormat', 'body is not JSON');
      }
      const problems: string[] = [];
      if (!body.schemaVersion || !SCHEMA_VERSIONS.has(body.schemaVersion)) problems.push('schemaVersion');
      const d = body.destination;
      if (!d || (d.protocol !== 'HTTP' && d.protocol !== 'TCP') || typeof d.URI !== 'string')
        problems.push('destination');
      if (!Array.isArray(body.types) || body.types.length === 0 || body.types.some((t) => !TYPES.has(t)))
        problems.push('types');
      for (const [k, [min, max]] of Object.entries(RANGES)) {
        const v = (body.buffering as Record<string, unknown> | undefined)?.[k];
        if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max))
          problems.push(`buffering.${k}`);
      }
      if (problems.length > 0) return fail(400, 'ValidationError', `invalid ${problems.join(', ')}`);
      this.subscriptions.push({ ...(body as Subscription), extensionId: ext.id });
      for (const w of this.subscribedWaiters.splice(0)) w();
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('OK');
      return undefined;
    }
    return fail(404, 'NotFound', `${req.method} ${url}`);
  }
}
