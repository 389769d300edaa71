/**
 * The logferry Lambda extension (docs/onboard.md, "Ship without CloudWatch: the logferry
 * extension"): an external extension, shipped as a layer (`extensions/logferry` starts this
 * bundle), that takes the function's logs from the Lambda Telemetry API and ships them through the
 * one runner (src/core/runner.ts) — configured like the handlers, from LOGFERRY_CONFIG /
 * LOGFERRY_CONFIG_PARAMETER and the shorthand variables — without a CloudWatch subscription.
 *
 * Lifecycle (Extensions API 2020-01-01, Telemetry API 2022-07-01, event schema 2022-12-13):
 *   1. `POST /2020-01-01/extension/register` (`Lambda-Extension-Name: logferry`, events INVOKE and
 *      SHUTDOWN; `Lambda-Extension-Accept-Feature: accountId` so records carry the owner account).
 *   2. Build the runner; a bad config is reported with `POST /2020-01-01/extension/init/error`
 *      (every problem listed) and the process exits, so the init fails loudly.
 *   3. Listen on LOGFERRY_EXTENSION_HOST:LOGFERRY_EXTENSION_PORT (default 127.0.0.1 and an ephemeral
 *      port; the layer's launcher sets `sandbox.localdomain`, the host AWS documents for telemetry
 *      listeners) and `PUT /2022-07-01/telemetry` with that URI, the types and the buffering.
 *   4. Loop `GET /2020-01-01/extension/event/next`. INVOKE: wait (bounded) until the batches in
 *      flight have an outcome, then ask for the next event, so the sandbox is not frozen mid-send.
 *      SHUTDOWN: keep accepting the last telemetry batches until they stop coming or the shutdown
 *      deadline nears, drain, close the sinks, exit 0.
 *
 * Each telemetry POST (a JSON array of `{time, type, record}`) is one envelope: `function` and
 * `extension` events become records (log group `/aws/lambda/<function>` or
 * AWS_LAMBDA_LOG_GROUP_NAME, stream AWS_LAMBDA_LOG_STREAM_NAME, time from `time`, message the
 * record text — or the JSON object as JSON text when the function uses the JSON log format);
 * `platform.*` events, when subscribed, are shipped as JSON records too and counted by type. The
 * POST is answered 200 only after every record has an outcome (delivered, dropped or
 * dead-lettered); when any failed, the answer is 500 so the batch is not acknowledged. Record ids
 * are derived from the event (time, type, text, occurrence), so a re-sent batch dedupes in sinks
 * that dedupe by id.
 *
 * What Lambda does with an unacknowledged batch: it keeps telemetry in a bounded in-memory buffer
 * (the subscription's `buffering`) and, when the extension does not keep up, drops events and says
 * so with a `platform.logsDropped` event — which this extension logs as a warning with the counts.
 * Delivery through the extension is therefore best effort across a failing sink; the CloudWatch
 * path (a subscription filter) is the one to use when every line must survive a long sink outage.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { secretContext, sharedSecretResolver } from '../aws/secrets.js';
import { buildSinks, handlerSource } from '../config/build.js';
import { buildGraphTransforms, buildTransforms } from '../config/build-pipeline.js';
import { loadConfigFromEnv } from '../config/env.js';
import type { BuildContext, Logger } from '../core/component.js';
import { describeError, LogferryError } from '../core/errors.js';
import { jsonLogger } from '../core/logger.js';
import type { LogRecord } from '../core/record.js';
import { deadlineIn } from '../core/retry.js';
import { createRunner, type Runner, runEnvelopes } from '../core/runner.js';
import type { SourceEnvelope } from '../core/source.js';

export const EXTENSION_NAME = 'logferry';
export const EXTENSIONS_API_VERSION = '2020-01-01';
export const TELEMETRY_API_VERSION = '2022-07-01';
export const TELEMETRY_SCHEMA_VERSION = '2022-12-13';
/** `meta.source` of the records this extension ships. */
export const EXTENSION_SOURCE_TYPE = 'lambda-telemetry';
/** Marks this extension's own log lines, so they are not shipped back to it as `extension` events. */
const OWN_LOG_MARK = '"component":"logferry-extension"';
/** Largest telemetry POST body accepted (Lambda's maxBytes is at most 1 MiB of events). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Documented ranges of the Telemetry API's `buffering` (telemetry-api-reference). */
const BUFFERING_LIMITS = {
  maxItems: { env: 'LOGFERRY_EXTENSION_MAX_ITEMS', min: 1_000, max: 10_000, def: 1_000 },
  maxBytes: { env: 'LOGFERRY_EXTENSION_MAX_BYTES', min: 262_144, max: 1_048_576, def: 262_144 },
  timeoutMs: { env: 'LOGFERRY_EXTENSION_TIMEOUT_MS', min: 25, max: 30_000, def: 1_000 },
} as const;
const TELEMETRY_TYPES = ['platform', 'function', 'extension'] as const;
type TelemetryType = (typeof TELEMETRY_TYPES)[number];

export interface ExtensionSettings {
  runtimeApi: string;
  name: string;
  host: string;
  port: number;
  types: TelemetryType[];
  buffering: { maxItems: number; maxBytes: number; timeoutMs: number };
  /** Time one telemetry batch may take to reach an outcome (retries included). */
  batchTimeoutMs: number;
  logGroup: string;
  logStream: string;
}

/** Reads the extension's settings from the environment; every problem is listed. */
export function extensionSettings(env: NodeJS.ProcessEnv): ExtensionSettings {
  const problems: string[] = [];
  const runtimeApi = env.AWS_LAMBDA_RUNTIME_API ?? '';
  if (!runtimeApi)
    problems.push('AWS_LAMBDA_RUNTIME_API is not set: the extension runs only inside Lambda (or a stand-in)');
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
      return def;
    }
    return n;
  };
  const b = BUFFERING_LIMITS;
  const buffering = {
    maxItems: int(b.maxItems.env, b.maxItems.def, b.maxItems.min, b.maxItems.max),
    maxBytes: int(b.maxBytes.env, b.maxBytes.def, b.maxBytes.min, b.maxBytes.max),
    timeoutMs: int(b.timeoutMs.env, b.timeoutMs.def, b.timeoutMs.min, b.timeoutMs.max),
  };
  const types: TelemetryType[] = [];
  for (const t of (env.LOGFERRY_EXTENSION_TYPES ?? 'function,extension').split(',')) {
    const v = t.trim();
    if (!v) continue;
    if ((TELEMETRY_TYPES as readonly string[]).includes(v)) {
      if (!types.includes(v as TelemetryType)) types.push(v as TelemetryType);
    } else problems.push(`LOGFERRY_EXTENSION_TYPES: unknown type "${v}" (use ${TELEMETRY_TYPES.join(', ')})`);
  }
  if (types.length === 0 && !problems.some((p) => p.startsWith('LOGFERRY_EXTENSION_TYPES')))
    problems.push('LOGFERRY_EXTENSION_TYPES: name at least one of platform, function, extension');
  const port = int('LOGFERRY_EXTENSION_PORT', 0, 0, 65_535);
  const batchTimeoutMs = int('LOGFERRY_EXTENSION_BATCH_TIMEOUT_MS', 5_000, 100, 600_000);
  const fn = env.AWS_LAMBDA_FUNCTION_NAME ?? '';
  if (!fn && !env.AWS_LAMBDA_LOG_GROUP_NAME)
    problems.push('AWS_LAMBDA_FUNCTION_NAME is not set: cannot name the log group of the records');
  if (problems.length > 0)
    throw new LogferryError(
      'CONFIG_INVALID',
      `the logferry extension cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  return {
    runtimeApi,
    name: env.LOGFERRY_EXTENSION_NAME || EXTENSION_NAME,
    host: env.LOGFERRY_EXTENSION_HOST || '127.0.0.1',
    port,
    types,
    buffering,
    batchTimeoutMs,
    logGroup: env.AWS_LAMBDA_LOG_GROUP_NAME || `/aws/lambda/${fn}`,
    logStream: env.AWS_LAMBDA_LOG_STREAM_NAME || 'unknown',
  };
}

/** One Telemetry API event (schema 2022-12-13). */
export interface TelemetryEvent {
  time: string;
  type: string;
  record: unknown;
}

/** Counts by what arrived, for the shutdown summary and tests. */
export interface TelemetryCounts {
  batches: number;
  events: number;
  function: number;
  extension: number;
  platform: number;
  /** Events that were not objects with a `type` (counted, shipped as malformed). */
  malformed: number;
  /** This extension's own log lines seen as `extension` events (not shipped again). */
  ownLogs: number;
  /** Sum of `droppedRecords` in `platform.logsDropped` events: lines Lambda could not deliver. */
  lambdaDroppedRecords: number;
}

export function emptyCounts(): TelemetryCounts {
  return {
    batches: 0,
    events: 0,
    function: 0,
    extension: 0,
    platform: 0,
    malformed: 0,
    ownLogs: 0,
    lambdaDroppedRecords: 0,
  };
}

/** FNV-1a (32 bit) of a string, as 8 hex digits: a cheap, stable part of a record id. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export interface DecodeContext {
  owner: string;
  logGroup: string;
  logStream: string;
  ackId: string;
}

/**
 * Turns one telemetry POST body (already parsed) into one envelope. Never throws: a body that is
 * not an array becomes a malformed envelope (dead-lettered with the payload).
 */
export function telemetryEnvelope(
  body: unknown,
  ctx: DecodeContext,
  counts: TelemetryCounts,
  rawBytes: number,
): SourceEnvelope {
  counts.batches++;
  if (!Array.isArray(body)) {
    counts.malformed++;
    return {
      ackId: ctx.ackId,
      records: [],
      bytes: rawBytes,
      malformed: {
        code: 'TELEMETRY_NOT_ARRAY',
        reason: 'a Telemetry API batch must be a JSON array of events',
        payload: JSON.stringify(body)?.slice(0, 4096),
      },
    };
  }
  const records: LogRecord[] = [];
  const seen = new Map<string, number>();
  const meta = (id: string) => ({
    owner: ctx.owner,
    logGroup: ctx.logGroup,
    logStream: ctx.logStream,
    id,
    source: EXTENSION_SOURCE_TYPE,
    ackId: ctx.ackId,
  });
  for (const ev of body as unknown[]) {
    counts.events++;
    const e = ev as Partial<TelemetryEvent> | null;
    if (!e || typeof e !== 'object' || typeof e.type !== 'string') {
      counts.malformed++;
      continue;
    }
    const parsed = typeof e.time === 'string' ? Date.parse(e.time) : Number.NaN;
    const timestamp = Number.isFinite(parsed) ? parsed : Date.now();
    let message: string;
    let fields: Record<string, unknown>;
    if (e.type === 'function' || e.type === 'extension') {
      message = typeof e.record === 'string' ? e.record : JSON.stringify(e.record ?? null);
      if (e.type === 'extension') {
        counts.extension++;
        if (message.includes(OWN_LOG_MARK)) {
          counts.ownLogs++;
          continue;
        }
        fields = { lambdaTelemetry: 'extension' };
      } else {
        counts.function++;
        fields = {};
      }
      // Lambda keeps the line's trailing newline in text format; the record is the line.
      if (message.endsWith('\n')) message = message.slice(0, message.endsWith('\r\n') ? -2 : -1);
    } else {
      counts.platform++;
      if (e.type === 'platform.logsDropped') {
        const n = Number((e.record as { droppedRecords?: unknown } | undefined)?.droppedRecords);
        if (Number.isFinite(n)) counts.lambdaDroppedRecords += n;
      }
      message = JSON.stringify(e.record ?? null);
      fields = { lambdaTelemetry: e.type };
    }
    const key = `${timestamp}-${e.type}-${fnv1a(message)}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    records.push({ timestamp, message, fields, meta: meta(n === 0 ? key : `${key}-${n}`) });
  }
  return { ackId: ctx.ackId, records, logGroup: ctx.logGroup, bytes: rawBytes };
}

interface RuntimeApi {
  request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<{ status: number; headers: Headers; text: string }>;
}

function runtimeApi(base: string): RuntimeApi {
  return {
    async request(method, path, headers, body, signal) {
      const res = await fetch(`http://${base}${path}`, {
        method,
        headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      return { status: res.status, headers: res.headers, text: await res.text() };
    },
  };
}

interface Built {
  runner: Runner;
  sourceName: string;
  log: Logger;
}

async function buildRunner(env: NodeJS.ProcessEnv, log: Logger): Promise<Built> {
  const cfg = await loadConfigFromEnv(env);
  const ctx: BuildContext = { log, env, ...secretContext(sharedSecretResolver(env)) };
  const problems: string[] = [];
  const transforms = await buildTransforms(cfg, ctx);
  const graphTransforms = await buildGraphTransforms(cfg, ctx, problems);
  const { sinks, sinkNodes, deadLetter } = await buildSinks(cfg, ctx);
  if (problems.length > 0)
    throw new LogferryError('CONFIG_INVALID', `cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  if (sinks.length === 0)
    throw new LogferryError(
      'CONFIG_INVALID',
      'no sink configured: set LOGFERRY_OPENSEARCH_URL or `sinks` in LOGFERRY_CONFIG',
    );
  const source = handlerSource(cfg, EXTENSION_SOURCE_TYPE, 'lambda-telemetry');
  const runner = createRunner(
    { pre: transforms, sources: [source], transforms: graphTransforms, sinks: sinkNodes, deadLetter },
    {
      log,
      flushConcurrency: 4,
      deliver: { concurrency: 1 },
      // One telemetry batch is bounded (maxItems/maxBytes): never stop reading it half-way.
      maxInFlightEnvelopes: Number.MAX_SAFE_INTEGER,
      maxInFlightRecords: Number.MAX_SAFE_INTEGER,
    },
  );
  return { runner, sourceName: source.name, log };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface ExtensionResult {
  exitCode: number;
  counts: TelemetryCounts;
}

/**
 * Runs the extension until SHUTDOWN (or a fatal error). Returns the exit code: 0 after a drained
 * shutdown, 1 when the Lambda APIs failed, 2 for bad settings or config.
 */
export async function runExtension(env: NodeJS.ProcessEnv = process.env): Promise<ExtensionResult> {
  const log = jsonLogger({ component: 'logferry-extension' }, env.LOGFERRY_LOG_LEVEL, (l) =>
    process.stderr.write(l),
  );
  const counts = emptyCounts();
  let settings: ExtensionSettings;
  try {
    settings = extensionSettings(env);
  } catch (e) {
    process.stderr.write(`logferry extension: ${describeError(e)}\n`);
    return { exitCode: 2, counts };
  }
  const api = runtimeApi(settings.runtimeApi);

  // 1. Register.
  const reg = await api.request(
    'POST',
    `/${EXTENSIONS_API_VERSION}/extension/register`,
    { 'Lambda-Extension-Name': settings.name, 'Lambda-Extension-Accept-Feature': 'accountId' },
    { events: ['INVOKE', 'SHUTDOWN'] },
  );
  const extId = reg.headers.get('lambda-extension-identifier');
  if (reg.status !== 200 || !extId) {
    log.error('extension register failed', { status: reg.status, body: reg.text.slice(0, 500) });
    return { exitCode: 1, counts };
  }
  let owner = '';
  try {
    owner = String((JSON.parse(reg.text) as { accountId?: unknown }).accountId ?? '');
  } catch {
    // The account id is optional: records then carry an empty owner.
  }
  const idHeader = { 'Lambda-Extension-Identifier': extId };
  const initError = async (type: string, message: string) => {
    await api
      .request(
        'POST',
        `/${EXTENSIONS_API_VERSION}/extension/init/error`,
        {
          ...idHeader,
          'Lambda-Extension-Function-Error-Type': type,
        },
        { errorMessage: message, errorType: type, stackTrace: [] },
      )
      .catch(() => undefined);
  };

  // 2. Build the runner (a bad config fails the init with every problem listed).
  let built: Built;
  try {
    built = await buildRunner(env, log);
  } catch (e) {
    const msg = describeError(e);
    log.error('logferry extension cannot start', { error: msg });
    await initError('Extension.ConfigInvalid', msg);
    return { exitCode: 2, counts };
  }

  // 3. Listen and subscribe.
  let chain: Promise<unknown> = Promise.resolve();
  let inFlight = 0;
  let lastPostAt = 0;
  let batchSeq = 0;
  let shutdownAt = Number.POSITIVE_INFINITY;
  let failedBatches = 0;
  let reportedDropped = 0;
  const idleWaiters: (() => void)[] = [];
  const settle = () => {
    if (inFlight === 0) for (const w of idleWaiters.splice(0)) w();
  };
  const handleBatch = async (body: unknown, bytes: number): Promise<boolean> => {
    const env0 = telemetryEnvelope(
      body,
      { owner, logGroup: settings.logGroup, logStream: settings.logStream, ackId: `batch-${++batchSeq}` },
      counts,
      bytes,
    );
    const budget = Math.min(settings.batchTimeoutMs, shutdownAt - Date.now() - 50);
    const { outcomes } = await runEnvelopes(
      built.runner,
      { type: EXTENSION_SOURCE_TYPE, name: built.sourceName },
      [env0],
      { deadline: deadlineIn(budget) },
    );
    const o = outcomes[0];
    if (o.kind === 'failed') {
      failedBatches++;
      log.warn('telemetry batch not delivered; answered 500 so it is not acknowledged', {
        records: env0.records.length,
        code: o.code,
      });
      return false;
    }
    return true;
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { Allow: 'POST' }).end();
      return;
    }
    lastPostAt = Date.now();
    inFlight++;
    void (async () => {
      let status = 500;
      try {
        const raw = await readBody(req);
        if (raw === undefined) status = 413;
        else {
          let body: unknown;
          try {
            body = JSON.parse(raw.toString('utf8'));
          } catch {
            body = { unparsable: raw.toString('utf8', 0, Math.min(raw.length, 4096)) };
          }
          const run = chain.then(() => handleBatch(body, raw.length));
          chain = run.catch(() => undefined);
          status = (await run) ? 200 : 500;
        }
      } catch (e) {
        log.error('telemetry batch failed', { error: describeError(e) });
        status = 500;
      } finally {
        inFlight--;
        lastPostAt = Date.now();
        if (!res.headersSent) res.writeHead(status).end(status === 200 ? 'OK' : '');
        settle();
      }
    })();
  };
  const server: Server = createServer(onRequest);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : settings.port;
  const uri = `http://${settings.host}:${port}/`;
  const close = async () => {
    await new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections?.();
    await built.runner.close().catch(() => undefined);
  };
  const sub = await api
    .request('PUT', `/${TELEMETRY_API_VERSION}/telemetry`, idHeader, {
      schemaVersion: TELEMETRY_SCHEMA_VERSION,
      destination: { protocol: 'HTTP', URI: uri },
      types: settings.types,
      buffering: settings.buffering,
    })
    .catch((e) => ({ status: 0, headers: new Headers(), text: describeError(e) }));
  if (sub.status !== 200) {
    const msg = `Telemetry API subscription failed (${sub.status}): ${sub.text.slice(0, 500)}`;
    log.error(msg);
    await initError('Extension.SubscribeFailed', msg);
    await close();
    return { exitCode: 1, counts };
  }
  log.info('logferry extension ready', { uri, types: settings.types, buffering: settings.buffering });

  const idle = (ms: number) =>
    new Promise<void>((resolve) => {
      if (inFlight === 0 || ms <= 0) return resolve();
      const t = setTimeout(resolve, ms);
      idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });

  // 4. The event loop.
  for (;;) {
    let next: { status: number; text: string };
    try {
      next = await api.request('GET', `/${EXTENSIONS_API_VERSION}/extension/event/next`, idHeader);
    } catch (e) {
      log.error('extension event/next failed', { error: describeError(e) });
      await close();
      return { exitCode: 1, counts };
    }
    if (next.status !== 200) {
      log.error('extension event/next failed', { status: next.status, body: next.text.slice(0, 500) });
      await close();
      return { exitCode: 1, counts };
    }
    let ev: { eventType?: string; deadlineMs?: number; shutdownReason?: string };
    try {
      ev = JSON.parse(next.text);
    } catch {
      ev = {};
    }
    const deadlineMs = Number(ev.deadlineMs);
    if (ev.eventType === 'SHUTDOWN') {
      shutdownAt = Number.isFinite(deadlineMs) ? deadlineMs : Date.now() + 2_000;
      // Lambda sends the last telemetry after SHUTDOWN: accept batches until none came for a
      // buffering period, then drain what is in flight; all of it before the deadline.
      const quiet = Math.min(settings.buffering.timeoutMs + 100, 1_000);
      while (Date.now() < shutdownAt - 100 && (inFlight > 0 || Date.now() - lastPostAt < quiet)) {
        await idle(Math.min(quiet, shutdownAt - 100 - Date.now()));
        if (inFlight === 0) await new Promise((r) => setTimeout(r, Math.min(25, quiet)));
      }
      await close();
      log.info('logferry extension shut down', {
        reason: ev.shutdownReason,
        inFlight,
        failedBatches,
        ...counts,
      });
      return { exitCode: inFlight === 0 ? 0 : 1, counts };
    }
    // INVOKE: give batches in flight the time the invocation has left before asking again.
    const left = Number.isFinite(deadlineMs) ? deadlineMs - Date.now() - 100 : settings.batchTimeoutMs;
    await idle(Math.min(left, settings.batchTimeoutMs));
    if (counts.lambdaDroppedRecords > reportedDropped) {
      log.warn('Lambda reported telemetry it dropped (platform.logsDropped)', {
        droppedRecords: counts.lambdaDroppedRecords - reportedDropped,
      });
      reportedDropped = counts.lambdaDroppedRecords;
    }
  }
}

function isMain(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  runExtension().then(
    (r) => process.exit(r.exitCode),
    (e) => {
      process.stderr.write(`logferry extension: ${describeError(e)}\n`);
      process.exit(1);
    },
  );
}
