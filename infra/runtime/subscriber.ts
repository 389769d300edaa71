/**
 * The subscriptions Lambda: subscribes log groups to the logferry pipeline and sets their
 * retention. One function handles three kinds of event:
 *
 * - the EventBridge rule on CloudTrail's `CreateLogGroup` (a new group: subscribe it now);
 * - the stack's custom resource (Create/Update: a one-off backfill that pages through every existing
 *   group with throttling backoff; Delete: remove exactly the filters logferry created, i.e. those
 *   with its stable filter name and its destination);
 * - its own continuation (a backfill or clean-up that would outlive the 15-minute Lambda limit hands
 *   its page token to a fresh asynchronous invocation; the custom resource is answered at the end).
 *
 * It never takes another tool's filter slot unless `onNoFreeSlot` is `replace`: a full group is
 * reported as "no free slot". The pipeline's own groups are excluded in the selection it receives
 * (derived from the stacks at synth time) and the function refuses to subscribe a group whose name
 * is under `/logferry/` whatever the configuration says.
 */
import {
  CloudWatchLogsClient,
  DeleteSubscriptionFilterCommand,
  DescribeLogGroupsCommand,
  type DescribeLogGroupsCommandOutput,
  DescribeSubscriptionFiltersCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
  PutSubscriptionFilterCommand,
  type SubscriptionFilter,
} from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient, DisableRuleCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type CompiledSelection, compileSelection, type SelectionSpec } from './selection.js';

/** Every logferry pipeline log group lives under this prefix; never subscribed. */
export const PIPELINE_LOG_GROUP_PREFIX = '/logferry/';

export interface SubscriberSettings {
  destinationArn: string;
  roleArn?: string;
  filterName: string;
  filterPattern: string;
  /** Undefined: subscriptions are not managed here (account-policy mode); only retention. */
  selection?: SelectionSpec;
  maxFiltersPerGroup: number;
  onNoFreeSlot: 'report' | 'replace';
  retention?: { days: number; selection: SelectionSpec; overrideExisting: boolean };
  /** EventBridge rule to disable before clean-up, so no group is subscribed behind it. */
  ruleName?: string;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): SubscriberSettings {
  const json = <T>(k: string): T | undefined => (env[k] ? (JSON.parse(env[k] as string) as T) : undefined);
  return {
    destinationArn: env.LOGFERRY_SUB_DESTINATION_ARN ?? '',
    roleArn: env.LOGFERRY_SUB_ROLE_ARN || undefined,
    filterName: env.LOGFERRY_SUB_FILTER_NAME ?? 'logferry',
    filterPattern: env.LOGFERRY_SUB_FILTER_PATTERN ?? '',
    selection: json<SelectionSpec>('LOGFERRY_SUB_SELECTION'),
    maxFiltersPerGroup: Number(env.LOGFERRY_SUB_MAX_FILTERS ?? 2),
    onNoFreeSlot: env.LOGFERRY_SUB_ON_NO_FREE_SLOT === 'replace' ? 'replace' : 'report',
    retention: json('LOGFERRY_SUB_RETENTION'),
    ruleName: env.LOGFERRY_SUB_RULE_NAME || undefined,
  };
}

export type Outcome =
  | 'subscribed'
  | 'updated'
  | 'unchanged'
  | 'replaced'
  | 'no-free-slot'
  | 'not-selected'
  | 'gone'
  | 'error';

export interface Counts {
  groups: number;
  subscribed: number;
  updated: number;
  unchanged: number;
  replaced: number;
  noFreeSlot: number;
  notSelected: number;
  unsubscribed: number;
  retentionSet: number;
  errors: number;
}

export const emptyCounts = (): Counts => ({
  groups: 0,
  subscribed: 0,
  updated: 0,
  unchanged: 0,
  replaced: 0,
  noFreeSlot: 0,
  notSelected: 0,
  unsubscribed: 0,
  retentionSet: 0,
  errors: 0,
});

export interface Clients {
  logs: Pick<CloudWatchLogsClient, 'send'>;
  lambda?: Pick<LambdaClient, 'send'>;
  events?: Pick<EventBridgeClient, 'send'>;
  /** PUT of the custom-resource answer (injected in tests). */
  respond?: (url: string, body: string) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
}

const RETRYABLE = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'OperationAbortedException',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'InternalFailure',
]);

function errName(e: unknown): string {
  return (e as { name?: string })?.name ?? 'Error';
}

/** Calls `fn`, retrying throttling and transient errors with capped exponential backoff and full jitter. */
export async function withBackoff<T>(
  fn: () => Promise<T>,
  sleep: (ms: number) => Promise<void>,
  deadline: () => number,
  maxAttempts = 8,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const wait = Math.random() * Math.min(20_000, 200 * 2 ** attempt);
      if (!RETRYABLE.has(errName(e)) || attempt >= maxAttempts || deadline() < wait + 5_000) throw e;
      await sleep(wait);
    }
  }
}

const defaultLog: NonNullable<Clients['log']> = (level, msg, fields) => {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === 'info') console.log(line);
  else console.warn(line);
};

export class Subscriber {
  private readonly sel?: CompiledSelection;
  private readonly retentionSel?: CompiledSelection;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: NonNullable<Clients['log']>;

  constructor(
    readonly settings: SubscriberSettings,
    private readonly clients: Clients,
    /** `arn:<partition>:logs:<region>:<account>:log-group:` for tag look-ups. */
    private readonly logGroupArnPrefix: string,
    private readonly deadline: () => number = () => Number.POSITIVE_INFINITY,
  ) {
    this.sel = settings.selection ? compileSelection(settings.selection) : undefined;
    this.retentionSel = settings.retention ? compileSelection(settings.retention.selection) : undefined;
    this.sleep = clients.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.log = clients.log ?? defaultLog;
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return withBackoff(fn, this.sleep, this.deadline);
  }

  private async tagsOf(name: string): Promise<Record<string, string> | undefined> {
    try {
      const r = await this.call(() =>
        this.clients.logs.send(
          new ListTagsForResourceCommand({ resourceArn: this.logGroupArnPrefix + name }),
        ),
      );
      return r.tags ?? {};
    } catch (e) {
      if (errName(e) === 'ResourceNotFoundException') return undefined;
      throw e;
    }
  }

  /** Subscribes (and sets retention on) one group; `knownTags`/`retentionInDays` when the caller has them. */
  async processGroup(
    name: string,
    known: { tags?: Record<string, string>; retentionInDays?: number; isNew?: boolean },
    counts: Counts,
  ): Promise<Outcome> {
    counts.groups++;
    let tags = known.tags;
    const needTags = (this.sel?.needsTags ?? false) || (this.retentionSel?.needsTags ?? false);
    try {
      if (needTags && tags === undefined) tags = await this.tagsOf(name);
      if (this.retentionSel && this.settings.retention) {
        const r = this.settings.retention;
        const missing = known.isNew || known.retentionInDays === undefined;
        const differs = known.retentionInDays !== r.days;
        if (
          this.retentionSel.selectsName(name) &&
          this.retentionSel.selectsTags(tags) &&
          (missing || (r.overrideExisting && differs))
        ) {
          await this.call(() =>
            this.clients.logs.send(
              new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: r.days }),
            ),
          );
          counts.retentionSet++;
        }
      }
      if (!this.sel) return 'not-selected';
      if (
        name.startsWith(PIPELINE_LOG_GROUP_PREFIX) ||
        !this.sel.selectsName(name) ||
        !this.sel.selectsTags(tags)
      ) {
        counts.notSelected++;
        return 'not-selected';
      }
      const outcome = await this.subscribe(name);
      if (outcome === 'subscribed') counts.subscribed++;
      else if (outcome === 'updated') counts.updated++;
      else if (outcome === 'unchanged') counts.unchanged++;
      else if (outcome === 'replaced') counts.replaced++;
      else if (outcome === 'no-free-slot') counts.noFreeSlot++;
      return outcome;
    } catch (e) {
      if (errName(e) === 'ResourceNotFoundException') return 'gone';
      counts.errors++;
      this.log('error', 'log group not processed', {
        logGroup: name,
        error: errName(e),
        reason: (e as Error).message,
      });
      return 'error';
    }
  }

  private async filtersOf(name: string): Promise<SubscriptionFilter[]> {
    const out: SubscriptionFilter[] = [];
    let nextToken: string | undefined;
    do {
      const r = await this.call(() =>
        this.clients.logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName: name, nextToken })),
      );
      out.push(...(r.subscriptionFilters ?? []));
      nextToken = r.nextToken;
    } while (nextToken);
    return out;
  }

  private put(name: string): Promise<unknown> {
    const s = this.settings;
    return this.call(() =>
      this.clients.logs.send(
        new PutSubscriptionFilterCommand({
          logGroupName: name,
          filterName: s.filterName,
          filterPattern: s.filterPattern,
          destinationArn: s.destinationArn,
          roleArn: s.roleArn,
        }),
      ),
    );
  }

  private async subscribe(name: string): Promise<Outcome> {
    const s = this.settings;
    const filters = await this.filtersOf(name);
    const own = filters.find((f) => f.filterName === s.filterName);
    if (own) {
      if (
        own.destinationArn === s.destinationArn &&
        (own.filterPattern ?? '') === s.filterPattern &&
        (own.roleArn ?? undefined) === s.roleArn
      )
        return 'unchanged';
      await this.put(name); // same name: updated in place, takes no new slot
      return 'updated';
    }
    const others = filters.filter((f) => f.filterName !== s.filterName);
    if (others.length >= s.maxFiltersPerGroup) {
      if (s.onNoFreeSlot !== 'replace') {
        this.log('warn', 'no free slot', {
          logGroup: name,
          filters: others.map((f) => f.filterName),
          limit: s.maxFiltersPerGroup,
          hint: 'free a slot, or set onNoFreeSlot: replace to take the oldest one',
        });
        return 'no-free-slot';
      }
      const oldest = [...others].sort((a, b) => (a.creationTime ?? 0) - (b.creationTime ?? 0))[0];
      await this.call(() =>
        this.clients.logs.send(
          new DeleteSubscriptionFilterCommand({ logGroupName: name, filterName: oldest.filterName }),
        ),
      );
      this.log('warn', 'replaced another filter', {
        logGroup: name,
        removed: oldest.filterName,
        removedDestination: oldest.destinationArn,
      });
      await this.put(name);
      return 'replaced';
    }
    try {
      await this.put(name);
    } catch (e) {
      // The account's limit may be lower than configured, or another tool took the slot meanwhile.
      if (errName(e) === 'LimitExceededException') {
        this.log('warn', 'no free slot', { logGroup: name, filters: others.map((f) => f.filterName) });
        return 'no-free-slot';
      }
      throw e;
    }
    return 'subscribed';
  }

  /** Removes logferry's filter (its name and its destination) from one group. */
  async unsubscribeGroup(
    name: string,
    counts: Counts,
    filterName = this.settings.filterName,
    destinations: readonly string[] = [this.settings.destinationArn],
  ): Promise<void> {
    counts.groups++;
    try {
      const filters = await this.filtersOf(name);
      for (const f of filters) {
        if (f.filterName !== filterName || !destinations.includes(f.destinationArn ?? '')) continue;
        await this.call(() =>
          this.clients.logs.send(new DeleteSubscriptionFilterCommand({ logGroupName: name, filterName })),
        );
        counts.unsubscribed++;
      }
    } catch (e) {
      if (errName(e) === 'ResourceNotFoundException') return;
      counts.errors++;
      this.log('error', 'filter not removed', {
        logGroup: name,
        error: errName(e),
        reason: (e as Error).message,
      });
    }
  }

  /**
   * Pages through the account's log groups from `state`, calling `each` per group, until done or
   * until `stopAt()` says the time is up; returns the token to continue from (undefined when done).
   */
  async page(
    state: PageState,
    each: (g: { name: string; retentionInDays?: number }) => Promise<void>,
    stopAt: () => boolean,
    mode: 'subscribe' | 'cleanup' = 'subscribe',
  ): Promise<PageState | undefined> {
    const prefixes = this.scanPrefixes(mode);
    let { prefixIndex, nextToken } = state;
    while (prefixIndex < prefixes.length) {
      const prefix = prefixes[prefixIndex];
      const r: DescribeLogGroupsCommandOutput = await this.call(() =>
        this.clients.logs.send(
          new DescribeLogGroupsCommand({ nextToken, limit: 50, logGroupNamePrefix: prefix || undefined }),
        ),
      );
      for (const g of r.logGroups ?? []) {
        if (g.logGroupName) await each({ name: g.logGroupName, retentionInDays: g.retentionInDays });
      }
      nextToken = r.nextToken;
      if (!nextToken) prefixIndex++;
      if (prefixIndex < prefixes.length && stopAt()) return { prefixIndex, nextToken };
    }
    return undefined;
  }

  /**
   * Whether the current selection takes this group (name, exclusions, tags; logferry's own groups
   * never). Used on updates to find groups a narrowed selection no longer takes.
   */
  async selects(name: string): Promise<boolean> {
    if (!this.sel || name.startsWith(PIPELINE_LOG_GROUP_PREFIX) || !this.sel.selectsName(name)) return false;
    if (!this.sel.needsTags) return true;
    const tags = await this.tagsOf(name);
    return tags !== undefined && this.sel.selectsTags(tags);
  }

  /** Name prefixes to page through: the selection's prefixes when it has only prefixes, otherwise all. */
  scanPrefixes(mode: 'subscribe' | 'cleanup' = 'subscribe'): string[] {
    const s = this.settings.selection;
    if (mode === 'cleanup' || this.settings.retention || !s) return [''];
    return s.patterns.length === 0 && s.prefixes.length > 0 ? s.prefixes : [''];
  }
}

export interface PageState {
  prefixIndex: number;
  nextToken?: string;
}

/** CloudTrail → EventBridge event for CreateLogGroup. */
interface CloudTrailEvent {
  'detail-type': string;
  detail: {
    eventName?: string;
    errorCode?: string;
    requestParameters?: { logGroupName?: string; tags?: Record<string, string> };
  };
}

interface CustomResourceEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceProperties: Record<string, unknown>;
  OldResourceProperties?: Record<string, unknown>;
}

interface Continuation {
  logferryContinuation: { event: CustomResourceEvent; state: PageState; counts: Counts; round: number };
}

export interface LambdaContextLike {
  invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}

async function defaultRespond(url: string, body: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' } });
      if (r.ok) return;
      throw new Error(`HTTP ${r.status}`);
    } catch (e) {
      if (attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/** The destinations whose filters (by logferry's name) this stack owns: the current one and, on an update, the previous one. */
function destinationsOf(cr: CustomResourceEvent, current: string): string[] {
  const out: string[] = [];
  for (const v of [current, cr.ResourceProperties.DestinationArn, cr.OldResourceProperties?.DestinationArn])
    if (typeof v === 'string' && v && !out.includes(v)) out.push(v);
  return out;
}

/** The time a pass keeps back for the answer or the hand-off to a continuation. */
const RESERVE_MS = 60_000;

export function createHandler(makeClients: () => Clients, env: NodeJS.ProcessEnv = process.env) {
  let clients: Clients | undefined;
  return async (event: unknown, context: LambdaContextLike): Promise<unknown> => {
    clients ??= makeClients();
    const settings = settingsFromEnv(env);
    const [, partition, , region, account] = context.invokedFunctionArn.split(':');
    const arnPrefix = `arn:${partition}:logs:${region}:${account}:log-group:`;
    const sub = new Subscriber(settings, clients, arnPrefix, () => context.getRemainingTimeInMillis());
    const log = clients.log ?? defaultLog;

    const ev = event as Partial<CloudTrailEvent & CustomResourceEvent & Continuation>;
    if (ev.detail && ev['detail-type']) {
      const d = ev.detail;
      const name = d.requestParameters?.logGroupName;
      if (d.eventName !== 'CreateLogGroup' || d.errorCode || !name) return { skipped: true };
      const counts = emptyCounts();
      const outcome = await sub.processGroup(
        name,
        { tags: d.requestParameters?.tags ?? {}, isNew: true },
        counts,
      );
      log(outcome === 'error' ? 'error' : 'info', 'new log group', { logGroup: name, outcome });
      return { outcome };
    }

    const cont = ev.logferryContinuation;
    const cr = (cont?.event ?? ev) as CustomResourceEvent;
    if (!cr.RequestType || !cr.ResponseURL) throw new Error('unrecognised event');
    const counts = cont?.counts ?? emptyCounts();
    const round = cont?.round ?? 0;
    const respond = clients.respond ?? defaultRespond;
    const answer = async (status: 'SUCCESS' | 'FAILED', reason: string) => {
      await respond(
        cr.ResponseURL,
        JSON.stringify({
          Status: status,
          Reason: reason.slice(0, 3000),
          PhysicalResourceId: cr.PhysicalResourceId ?? `logferry-subscriptions-${settings.filterName}`,
          StackId: cr.StackId,
          RequestId: cr.RequestId,
          LogicalResourceId: cr.LogicalResourceId,
          Data: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, String(v)])),
        }),
      );
    };
    const stopAt = () => context.getRemainingTimeInMillis() < RESERVE_MS;

    try {
      let next: PageState | undefined;
      if (cr.RequestType === 'Delete') {
        if (round === 0 && settings.ruleName && clients.events) {
          await clients.events.send(new DisableRuleCommand({ Name: settings.ruleName })).catch((e) => {
            log('warn', 'could not disable the CreateLogGroup rule', { error: errName(e) });
          });
        }
        if (settings.selection) {
          // Every group, not only the current selection's prefixes: an earlier selection (or a group
          // renamed into another prefix) may hold a filter this stack created.
          next = await sub.page(
            cont?.state ?? { prefixIndex: 0 },
            (g) =>
              sub.unsubscribeGroup(
                g.name,
                counts,
                settings.filterName,
                destinationsOf(cr, settings.destinationArn),
              ),
            stopAt,
            'cleanup',
          );
        }
      } else {
        const old = cr.RequestType === 'Update' ? cr.OldResourceProperties : undefined;
        const oldName = old?.FilterName as string | undefined;
        const renamed = oldName !== undefined && oldName !== settings.filterName;
        // A narrowed selection (or a new destination) must release the groups it no longer takes.
        const reselected =
          old !== undefined &&
          settings.selection !== undefined &&
          (old.Selection !== cr.ResourceProperties.Selection ||
            old.DestinationArn !== cr.ResourceProperties.DestinationArn);
        const backfill = String(cr.ResourceProperties.Backfill) === 'true';
        const scan = backfill || settings.retention !== undefined || renamed || reselected;
        if (scan) {
          const destinations = destinationsOf(cr, settings.destinationArn);
          next = await sub.page(
            cont?.state ?? { prefixIndex: 0 },
            async (g) => {
              if (renamed) await sub.unsubscribeGroup(g.name, emptyCounts(), oldName, destinations);
              if (reselected && !(await sub.selects(g.name))) {
                await sub.unsubscribeGroup(g.name, counts, settings.filterName, destinations);
                return;
              }
              if (backfill || settings.retention) {
                await sub.processGroup(g.name, { retentionInDays: g.retentionInDays }, counts);
              }
            },
            stopAt,
            renamed || reselected ? 'cleanup' : 'subscribe',
          );
        }
      }
      if (next && clients.lambda) {
        const payload: Continuation = {
          logferryContinuation: { event: cr, state: next, counts, round: round + 1 },
        };
        await clients.lambda.send(
          new InvokeCommand({
            FunctionName: context.invokedFunctionArn,
            InvocationType: 'Event',
            Payload: new TextEncoder().encode(JSON.stringify(payload)),
          }),
        );
        log('info', 'continuing in a new invocation', {
          requestType: cr.RequestType,
          round: round + 1,
          ...counts,
        });
        return { continued: true };
      }
      log(counts.errors ? 'warn' : 'info', `${cr.RequestType.toLowerCase()} done`, { ...counts });
      await answer('SUCCESS', `${counts.groups} log groups examined, ${counts.errors} errors`);
      return counts;
    } catch (e) {
      log('error', `${cr.RequestType.toLowerCase()} failed`, {
        error: errName(e),
        reason: (e as Error).message,
      });
      // A failed clean-up must not block deleting the stack: report it and answer SUCCESS.
      await answer(
        cr.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED',
        `${errName(e)}: ${(e as Error).message}`,
      );
      return { failed: true };
    }
  };
}

export function awsClients(): Clients {
  const logsEndpoint = process.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS ?? process.env.AWS_ENDPOINT_URL;
  return {
    logs: new CloudWatchLogsClient(logsEndpoint ? { endpoint: logsEndpoint } : {}),
    lambda: new LambdaClient({}),
    events: new EventBridgeClient({}),
  };
}
