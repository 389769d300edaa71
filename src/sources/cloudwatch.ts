/**
 * The `cloudwatch` daemon source: reads CloudWatch Logs log groups directly.
 *
 * `mode: backfill` (default) reads a time range (`from`/`to`) of the selected log groups (exact
 * `logGroups` names, a `prefix`, and/or a `pattern` regex over the names) with FilterLogEvents,
 * page by page (`nextToken`), one time window (`windowMinutes`) after another, and ends on its own.
 * Each page becomes one envelope whose records are exactly what a subscription would deliver for
 * those events: `meta.id` = the CloudWatch `eventId`, `logGroup`, `logStream`, `owner` (the account
 * of the log group's ARN), the event's timestamp and message — so a backfill after a live
 * subscription overwrites the same OpenSearch documents (`_id` is derived from group, stream and
 * event id) instead of duplicating them. `subscriptionFilters` is empty (no filter delivered them).
 *
 * Checkpoint: per log group, the end of the last time window whose every page was read and
 * acknowledged with an outcome other than `failed` (windows are completed in order); a restart
 * resumes there when the range's start lies inside what the checkpoint covers. A window with a
 * failed record is not checkpointed: the next run reads it again (what was delivered is deduped by
 * id). The file lives in `dataDir` (`cloudwatch-<name>.checkpoint.json`).
 *
 * Throttling: FilterLogEvents is rate-limited per account and region
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html); throttling
 * and transient errors (classified by src/aws/errors.ts) back off exponentially with full jitter,
 * honouring Retry-After; access denied, unknown groups and invalid requests stop the source with a
 * sentence naming the group.
 *
 * `mode: live` follows the groups with StartLiveTail (the SDK's event stream): at most 10 groups per
 * session, sessions end after 3 hours and are restarted; live tail events carry no event id, so
 * `meta.id` is a hash of group, stream, timestamp, ingestion time and message (a reconnect that
 * repeats an event yields the same id). When CloudWatch samples a busy session (more than ~500
 * events/s) events are left out by the service: counted in `stats.sampledUpdates` and warned about.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import {
  CloudWatchLogsClient,
  type CloudWatchLogsClientConfig,
  DescribeLogGroupsCommand,
  type DescribeLogGroupsCommandOutput,
  FilterLogEventsCommand,
  type FilterLogEventsCommandOutput,
  type LiveTailSessionLogEvent,
  StartLiveTailCommand,
  type StartLiveTailResponseStream,
} from '@aws-sdk/client-cloudwatch-logs';
import { clientConfig } from '../aws/clients.js';
import { classifyAwsError } from '../aws/errors.js';
import type { BuildContext, ComponentSpec, Logger } from '../core/component.js';
import { describeError, LogferryError } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import type { LogRecord } from '../core/record.js';
import { sleep } from '../core/retry.js';
import type { Source, SourceEnvelope } from '../core/source.js';
import { resolveTime, type TimeSpec } from './cloudwatch-time.js';
import {
  type CloudWatchSourceConfig,
  cloudwatchSourceMeta,
  LIVE_RECONNECT_MS,
  LIVE_TAIL_MAX_GROUPS,
  MAX_BACKOFF_MS,
} from './cloudwatch-config.js';

export {
  cloudwatchSourceConfig,
  type CloudWatchSourceConfig,
  FILTER_MAX_LIMIT,
  LIVE_TAIL_MAX_GROUPS,
  MAX_BACKOFF_MS,
} from './cloudwatch-config.js';

type LogsCommand = DescribeLogGroupsCommand | FilterLogEventsCommand | StartLiveTailCommand;
/** The subset of the SDK client the source uses. */
export interface CloudWatchLogsApi {
  send(command: LogsCommand, opts?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy?(): void;
}

interface GroupInfo {
  name: string;
  owner: string;
  /** ARN without the trailing `:*` (StartLiveTail's identifier). */
  arn: string;
}

interface CheckpointFile {
  version: 1;
  source: string;
  /** Per group: the covered span [from, doneUntil) whose windows were all delivered. */
  groups: Record<string, { from: number; doneUntil: number }>;
}

interface Window {
  group: string;
  start: number;
  end: number;
  pending: number;
  readDone: boolean;
  failed: boolean;
}

export interface CloudWatchSourceStats {
  groups: number;
  pages: number;
  events: number;
  bytes: number;
  throttled: number;
  retries: number;
  windowsDone: number;
  checkpointWrites: number;
  liveSessions: number;
  sampledUpdates: number;
}

export class CloudWatchSource implements Source {
  readonly type = 'cloudwatch';
  readonly name: string;
  readonly stats: CloudWatchSourceStats = {
    groups: 0,
    pages: 0,
    events: 0,
    bytes: 0,
    throttled: 0,
    retries: 0,
    windowsDone: 0,
    checkpointWrites: 0,
    liveSessions: 0,
    sampledUpdates: 0,
  };
  readonly checkpointPath: string;
  private readonly cfg: CloudWatchSourceConfig;
  private readonly client: CloudWatchLogsApi;
  private readonly log?: Logger;
  private readonly random: () => number;
  private readonly now: () => number;
  private checkpoint: CheckpointFile;
  private readonly windows = new Map<string, Window>();
  /** Per group, its windows in order (completed ones are shifted off the front). */
  private readonly order = new Map<string, Window[]>();
  private writing: Promise<void> = Promise.resolve();
  private pageNo = 0;

  constructor(
    cfg: CloudWatchSourceConfig,
    ctx: BuildContext = {},
    deps: { client?: CloudWatchLogsApi; random?: () => number; now?: () => number } = {},
  ) {
    this.cfg = cfg;
    this.name = cfg.name ?? 'cloudwatch';
    this.log = ctx.log;
    this.random = deps.random ?? Math.random;
    this.now = deps.now ?? Date.now;
    this.checkpointPath = resolvePath(
      ctx.cwd ?? process.cwd(),
      cfg.dataDir,
      `cloudwatch-${this.name}.checkpoint.json`,
    );
    this.checkpoint = { version: 1, source: this.name, groups: {} };
    this.client =
      deps.client ??
      new CloudWatchLogsClient({
        ...(clientConfig('logs', {
          region: cfg.region,
          endpoint: cfg.endpoint,
          env: ctx.env,
        }) as CloudWatchLogsClientConfig),
        // StartLiveTail's host prefix (`streaming-`) cannot be put in front of a local endpoint.
        ...(cfg.endpoint ? { disableHostPrefix: true } : {}),
      });
  }

  /** `--once`: a backfill ends by itself after its range; live tail follows until stopped. */
  bounded(): string | undefined {
    return this.cfg.mode === 'live'
      ? 'mode: live follows the log groups until stopped; use mode: backfill with from/to for a bounded read'
      : undefined;
  }

  async *envelopes(signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    const groups = await this.selectGroups(signal);
    this.stats.groups = groups.length;
    if (groups.length === 0) {
      this.log?.warn('cloudwatch: no log group matches the selection', { source: this.name });
      return;
    }
    if (this.cfg.mode === 'live') {
      yield* this.live(groups, signal);
      return;
    }
    await this.loadCheckpoint();
    const now = this.now();
    const from = resolveTime(this.cfg.from as TimeSpec, now) as number;
    const to = resolveTime(this.cfg.to, now) as number;
    const windowMs = Math.max(1_000, Math.round(this.cfg.windowMinutes * 60_000));
    for (const g of groups) {
      const cp = this.checkpoint.groups[g.name];
      // Resume only when this range starts inside what the checkpoint covers.
      let start = from;
      if (cp && cp.from <= from && from <= cp.doneUntil) start = Math.max(from, cp.doneUntil);
      else this.checkpoint.groups[g.name] = { from, doneUntil: from };
      if (start >= to) continue;
      this.order.set(g.name, []);
      for (let ws = start; ws < to && !signal.aborted; ws += windowMs) {
        const w: Window = {
          group: g.name,
          start: ws,
          end: Math.min(to, ws + windowMs),
          pending: 0,
          readDone: false,
          failed: false,
        };
        this.order.get(g.name)?.push(w);
        yield* this.readWindow(g, w, signal);
        w.readDone = true;
        await this.settle(w);
      }
    }
  }

  async ack(envelope: SourceEnvelope, outcome: Outcome): Promise<void> {
    const w = this.windows.get(envelope.ackId);
    if (!w) return;
    this.windows.delete(envelope.ackId);
    w.pending--;
    if (outcome.kind === 'failed') w.failed = true;
    await this.settle(w);
  }

  async close(): Promise<void> {
    await this.writing;
    this.client.destroy?.();
  }

  /** The persisted checkpoint (for tests and status). */
  async readCheckpoint(): Promise<CheckpointFile | undefined> {
    try {
      return JSON.parse(await readFile(this.checkpointPath, 'utf8')) as CheckpointFile;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new LogferryError(
        'SOURCE_FAILED',
        `${this.name}: checkpoint ${this.checkpointPath} is unreadable: ${describeError(e)}`,
        { cause: e },
      );
    }
  }

  // ---- selection ------------------------------------------------------------------------------

  private async describe(prefix: string | undefined, signal: AbortSignal): Promise<GroupInfo[]> {
    const out: GroupInfo[] = [];
    let nextToken: string | undefined;
    do {
      const res = (await this.call(
        'DescribeLogGroups',
        prefix ?? '(all)',
        () => new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix, nextToken }),
        signal,
      )) as DescribeLogGroupsCommandOutput;
      for (const g of res.logGroups ?? []) {
        if (!g.logGroupName) continue;
        const arn = g.logGroupArn ?? (g.arn ?? '').replace(/:\*$/, '');
        out.push({ name: g.logGroupName, arn, owner: /^arn:[^:]*:logs:[^:]*:(\d+):/.exec(arn)?.[1] ?? '' });
      }
      nextToken = res.nextToken;
    } while (nextToken && !signal.aborted);
    return out;
  }

  private async selectGroups(signal: AbortSignal): Promise<GroupInfo[]> {
    const picked = new Map<string, GroupInfo>();
    for (const name of this.cfg.logGroups ?? []) {
      const g = (await this.describe(name, signal)).find((x) => x.name === name);
      if (!g)
        throw new LogferryError(
          'SOURCE_FAILED',
          `${this.name}: log group ${name} does not exist (or is not visible to these credentials)`,
        );
      picked.set(name, g);
    }
    if (this.cfg.prefix || this.cfg.pattern) {
      const re = this.cfg.pattern ? new RegExp(this.cfg.pattern) : undefined;
      for (const g of await this.describe(this.cfg.prefix, signal))
        if (!re || re.test(g.name)) picked.set(g.name, g);
    }
    return [...picked.values()];
  }

  // ---- backfill -------------------------------------------------------------------------------

  private async *readWindow(g: GroupInfo, w: Window, signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    let nextToken: string | undefined;
    const request = (token: string | undefined) =>
      this.call(
        'FilterLogEvents',
        g.name,
        () =>
          new FilterLogEventsCommand({
            logGroupName: g.name,
            startTime: w.start,
            // endTime is inclusive; windows are [start, end).
            endTime: w.end - 1,
            filterPattern: this.cfg.filterPattern,
            limit: this.cfg.pageSize,
            nextToken: token,
          }),
        signal,
      ) as Promise<FilterLogEventsCommandOutput>;
    let inflight: Promise<FilterLogEventsCommandOutput> | undefined = request(undefined);
    while (inflight) {
      const res: FilterLogEventsCommandOutput = await inflight;
      nextToken = res.nextToken;
      // Ask for the next page while this one goes down the pipeline.
      inflight = nextToken && !signal.aborted ? request(nextToken) : undefined;
      // A failed prefetch must not surface as an unhandled rejection while we yield.
      inflight?.catch(() => {});
      this.stats.pages++;
      const events = res.events ?? [];
      if (events.length === 0) continue;
      const ackId = `${g.name}@${w.start}#${++this.pageNo}`;
      const records: LogRecord[] = new Array(events.length);
      let bytes = 0;
      for (let i = 0; i < events.length; i++) {
        const ev = events[i];
        const message = ev.message ?? '';
        bytes += message.length;
        records[i] = {
          timestamp: ev.timestamp ?? w.start,
          message,
          fields: {},
          meta: {
            owner: g.owner,
            logGroup: g.name,
            logStream: ev.logStreamName ?? '',
            id: ev.eventId ?? '',
            subscriptionFilters: [],
            source: 'cloudwatch',
            ackId,
          },
        };
      }
      this.stats.events += records.length;
      this.stats.bytes += bytes;
      w.pending++;
      this.windows.set(ackId, w);
      yield { ackId, records, logGroup: g.name, bytes };
      if (signal.aborted) break;
    }
  }

  /** Completes windows in order per group and moves the group's checkpoint over them. */
  private async settle(w: Window): Promise<void> {
    if (!w.readDone || w.pending > 0) return;
    const list = this.order.get(w.group);
    if (!list) return;
    let advanced = false;
    while (list.length > 0 && list[0].readDone && list[0].pending === 0 && !list[0].failed) {
      const done = list.shift() as Window;
      const cp = this.checkpoint.groups[done.group];
      if (cp && done.start <= cp.doneUntil) cp.doneUntil = Math.max(cp.doneUntil, done.end);
      this.stats.windowsDone++;
      advanced = true;
    }
    if (advanced) await this.flush();
  }

  private async loadCheckpoint(): Promise<void> {
    const saved = await this.readCheckpoint();
    if (saved?.groups) this.checkpoint = { version: 1, source: this.name, groups: saved.groups };
  }

  /** Writes the checkpoint atomically (temp file + rename); writes never overlap. */
  private flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const text = `${JSON.stringify(this.checkpoint, null, 1)}\n`;
      const tmp = `${this.checkpointPath}.tmp`;
      try {
        await mkdir(dirname(this.checkpointPath), { recursive: true });
        await writeFile(tmp, text);
        await rename(tmp, this.checkpointPath);
        this.stats.checkpointWrites++;
      } catch (e) {
        this.log?.error('cloudwatch: cannot write checkpoint', {
          source: this.name,
          path: this.checkpointPath,
          error: describeError(e),
        });
      }
    });
    return this.writing;
  }

  // ---- live tail ------------------------------------------------------------------------------

  private async *live(groups: GroupInfo[], signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    if (groups.length > LIVE_TAIL_MAX_GROUPS)
      throw new LogferryError(
        'SOURCE_FAILED',
        `${this.name}: live tail follows at most ${LIVE_TAIL_MAX_GROUPS} log groups per session; the selection has ${groups.length} (narrow it, or use several sources)`,
      );
    const byArn = new Map(groups.map((g) => [g.arn, g]));
    const byName = new Map(groups.map((g) => [g.name, g]));
    let failures = 0;
    while (!signal.aborted) {
      let stream: AsyncIterable<StartLiveTailResponseStream> | undefined;
      try {
        const res = (await this.call(
          'StartLiveTail',
          groups.map((g) => g.name).join(', '),
          () =>
            new StartLiveTailCommand({
              logGroupIdentifiers: groups.map((g) => g.arn),
              logEventFilterPattern: this.cfg.filterPattern,
            }),
          signal,
        )) as { responseStream?: AsyncIterable<StartLiveTailResponseStream> };
        stream = res.responseStream;
        this.stats.liveSessions++;
        if (!stream) throw new Error('StartLiveTail returned no event stream');
        for await (const ev of stream) {
          if (signal.aborted) break;
          if (ev.SessionTimeoutException) break; // 3-hour session limit: start a new one
          if (ev.SessionStreamingException)
            throw Object.assign(new Error(ev.SessionStreamingException.message ?? 'live tail stream error'), {
              name: 'SessionStreamingException',
            });
          const update = ev.sessionUpdate;
          if (!update) continue;
          failures = 0;
          if (update.sessionMetadata?.sampled) {
            if (this.stats.sampledUpdates++ === 0)
              this.log?.warn(
                'cloudwatch: live tail is sampled by CloudWatch (too many events/s): some events are left out',
                {
                  source: this.name,
                },
              );
          }
          const results = update.sessionResults ?? [];
          if (results.length === 0) continue;
          const envelope = this.liveEnvelope(results, byArn, byName);
          this.stats.events += envelope.records.length;
          this.stats.bytes += envelope.bytes;
          yield envelope;
        }
        // The session ended (timeout, or the service closed the stream): start a new one.
        await sleep(LIVE_RECONNECT_MS, signal);
      } catch (e) {
        if (signal.aborted) break;
        const c = classifyAwsError(e);
        if (!c.retry && e instanceof LogferryError) throw e;
        if (++failures > this.cfg.maxAttempts)
          throw new LogferryError(
            'SOURCE_FAILED',
            `${this.name}: live tail keeps failing: ${describeError(e)}`,
            { cause: e },
          );
        this.log?.warn('cloudwatch: live tail session ended; reconnecting', {
          source: this.name,
          error: describeError(e),
        });
        await sleep(this.backoffMs(failures, c.retryAfterMs), signal).catch(() => {});
      }
    }
  }

  private liveEnvelope(
    results: LiveTailSessionLogEvent[],
    byArn: Map<string, GroupInfo>,
    byName: Map<string, GroupInfo>,
  ): SourceEnvelope {
    const ackId = `live#${++this.pageNo}`;
    const records: LogRecord[] = new Array(results.length);
    let bytes = 0;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      const ident = (r.logGroupIdentifier ?? '').replace(/:\*$/, '');
      // The service names the group by ARN, by name, or as `<account>:<name>`.
      const g =
        byArn.get(ident) ??
        byName.get(ident) ??
        byName.get(ident.replace(/^arn:[^:]*:logs:[^:]*:\d*:log-group:/, '')) ??
        byName.get(ident.replace(/^\d{12}:/, ''));
      const logGroup = g?.name ?? ident;
      const logStream = r.logStreamName ?? '';
      const message = r.message ?? '';
      bytes += message.length;
      const id = createHash('sha256')
        .update(`${logGroup}\0${logStream}\0${r.timestamp ?? 0}\0${r.ingestionTime ?? 0}\0${message}`)
        .digest('base64url')
        .slice(0, 32);
      records[i] = {
        timestamp: r.timestamp ?? this.now(),
        message,
        fields: {},
        meta: {
          owner: g?.owner ?? '',
          logGroup,
          logStream,
          id,
          subscriptionFilters: [],
          source: 'cloudwatch',
          ackId,
        },
      };
    }
    return { ackId, records, bytes };
  }

  // ---- calls ----------------------------------------------------------------------------------

  private backoffMs(attempt: number, retryAfterMs = 0): number {
    const cap = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(attempt, 10));
    return Math.max(retryAfterMs, Math.floor(this.random() * cap), 50);
  }

  /** One API call with back-off on throttling and transient errors; refusals stop the source. */
  private async call(
    op: string,
    what: string,
    make: () => LogsCommand,
    signal: AbortSignal,
  ): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.client.send(make(), { abortSignal: signal });
      } catch (e) {
        if (signal.aborted) throw e;
        const c = classifyAwsError(e);
        if (!c.retry || attempt >= this.cfg.maxAttempts) {
          const why =
            c.kind === 'access-denied'
              ? 'access denied (the credentials need logs:DescribeLogGroups, logs:FilterLogEvents and, for live tail, logs:StartLiveTail)'
              : c.kind === 'not-found'
                ? 'not found'
                : describeError(e);
          throw new LogferryError(
            'SOURCE_FAILED',
            `${this.name}: ${op} on ${what} failed${c.retry ? ` after ${attempt} attempts` : ''}: ${why}`,
            { cause: e },
          );
        }
        if (c.kind === 'throttled') this.stats.throttled++;
        this.stats.retries++;
        await sleep(this.backoffMs(attempt, c.retryAfterMs), signal);
      }
    }
  }
}

export const cloudwatchSourceSpec: ComponentSpec<CloudWatchSourceConfig, CloudWatchSource> = {
  ...cloudwatchSourceMeta,
  create: (config, ctx) => new CloudWatchSource(config, ctx),
};
