/**
 * Planning for one log group: create it with retention when missing, then subscribe it to the
 * logferry destination with a stable filter name. Respects the per-group subscription filter limit
 * and other tools' filters: a group whose slots are all taken by others is reported ("no free
 * slot"), never overridden; a group another filter already ships to the same destination is left
 * alone (no duplicates); our own filter is updated in place when its destination changed.
 */
import type { AwsCaller } from './aws.js';
import type { Call, Destination, PlanNote, PlanStep } from './plan.js';

/**
 * Subscription filters per log group (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html).
 * Raised in some accounts; `--max-filters` overrides it.
 */
export const SUBSCRIPTION_FILTERS_PER_GROUP = 2;

export const DEFAULT_FILTER_NAME = 'logferry';

export interface LogGroupOptions {
  filterName: string;
  filterPattern: string;
  retentionDays: number;
  maxFilters: number;
}

interface Filter {
  filterName?: string;
  logGroupName?: string;
  filterPattern?: string;
  destinationArn?: string;
  roleArn?: string;
  distribution?: string;
}

export async function findLogGroup(
  aws: AwsCaller,
  name: string,
): Promise<{ logGroupName?: string; retentionInDays?: number } | undefined> {
  let nextToken: string | undefined;
  do {
    const r = await aws.call<{
      logGroups?: { logGroupName?: string; retentionInDays?: number }[];
      nextToken?: string;
    }>('logs', 'DescribeLogGroups', { logGroupNamePrefix: name, ...(nextToken ? { nextToken } : {}) });
    const hit = r.logGroups?.find((g) => g.logGroupName === name);
    if (hit) return hit;
    nextToken = r.nextToken;
  } while (nextToken);
  return undefined;
}

async function filtersOf(aws: AwsCaller, logGroupName: string): Promise<Filter[]> {
  const out: Filter[] = [];
  let nextToken: string | undefined;
  do {
    const r = await aws.call<{ subscriptionFilters?: Filter[]; nextToken?: string }>(
      'logs',
      'DescribeSubscriptionFilters',
      {
        logGroupName,
        ...(nextToken ? { nextToken } : {}),
      },
    );
    out.push(...(r.subscriptionFilters ?? []));
    nextToken = r.nextToken;
  } while (nextToken);
  return out;
}

function putInput(group: string, dest: Destination, o: LogGroupOptions): Record<string, unknown> {
  return {
    logGroupName: group,
    filterName: o.filterName,
    filterPattern: o.filterPattern,
    destinationArn: dest.arn,
    ...(dest.roleArn ? { roleArn: dest.roleArn } : {}),
  };
}

/** Steps (and notes) that leave `group` existing and subscribed to `dest`. */
export async function planLogGroup(
  aws: AwsCaller,
  group: string,
  dest: Destination,
  o: LogGroupOptions,
  owner: string,
): Promise<{ steps: PlanStep[]; notes: PlanNote[] }> {
  const steps: PlanStep[] = [];
  const notes: PlanNote[] = [];
  const resource = `log group ${group}`;
  const existing = await findLogGroup(aws, group);
  if (!existing) {
    steps.push({
      id: `create-log-group:${group}`,
      resource,
      action: `create (for ${owner})`,
      call: { service: 'logs', operation: 'CreateLogGroup', input: { logGroupName: group } },
      changes: [{ field: 'exists', before: false, after: true }],
      observed: { exists: false },
      undo: [
        {
          service: 'logs',
          operation: 'DeleteLogGroup',
          input: { logGroupName: group },
          tolerate: ['ResourceNotFoundException'],
        },
      ],
    });
    steps.push({
      id: `retention:${group}`,
      resource,
      action: 'set retention',
      call: {
        service: 'logs',
        operation: 'PutRetentionPolicy',
        input: { logGroupName: group, retentionInDays: o.retentionDays },
      },
      changes: [{ field: 'retentionInDays', before: undefined, after: o.retentionDays }],
      observed: { exists: false },
      // Undone by deleting the group it was set on.
      undo: [],
    });
  }
  const filters = existing ? await filtersOf(aws, group) : [];
  const ours = filters.find((f) => f.filterName === o.filterName);
  const wanted = putInput(group, dest, o);
  const subscribe = (undo: Call[], before: Filter | undefined): PlanStep => ({
    id: `subscribe:${group}`,
    resource,
    action: before ? `update subscription filter ${o.filterName}` : `subscribe (filter ${o.filterName})`,
    call: { service: 'logs', operation: 'PutSubscriptionFilter', input: wanted },
    changes: [
      {
        field: `subscriptionFilter[${o.filterName}].destinationArn`,
        before: before?.destinationArn,
        after: dest.arn,
      },
      ...(before?.filterPattern !== o.filterPattern
        ? [
            {
              field: `subscriptionFilter[${o.filterName}].filterPattern`,
              before: before?.filterPattern,
              after: o.filterPattern,
            },
          ]
        : []),
      ...(before?.roleArn !== dest.roleArn
        ? [
            {
              field: `subscriptionFilter[${o.filterName}].roleArn`,
              before: before?.roleArn,
              after: dest.roleArn,
            },
          ]
        : []),
    ].filter((c) => c.before !== c.after),
    observed: { exists: Boolean(existing), filters: filters.map(filterFacts) },
    undo,
  });
  if (ours) {
    if (
      ours.destinationArn === dest.arn &&
      (ours.filterPattern ?? '') === o.filterPattern &&
      (ours.roleArn ?? undefined) === (dest.roleArn ?? undefined)
    ) {
      notes.push({ level: 'info', resource, message: `already subscribed (filter ${o.filterName})` });
      return { steps, notes };
    }
    const restore: Record<string, unknown> = {
      logGroupName: group,
      filterName: o.filterName,
      filterPattern: ours.filterPattern ?? '',
      destinationArn: ours.destinationArn,
      ...(ours.roleArn ? { roleArn: ours.roleArn } : {}),
      ...(ours.distribution ? { distribution: ours.distribution } : {}),
    };
    steps.push(subscribe([{ service: 'logs', operation: 'PutSubscriptionFilter', input: restore }], ours));
    return { steps, notes };
  }
  const same = filters.find((f) => f.destinationArn === dest.arn);
  if (same) {
    notes.push({
      level: 'info',
      resource,
      message: `already shipped to the destination by filter "${same.filterName}" (not owned by logferry); left alone`,
    });
    return { steps, notes };
  }
  if (filters.length >= o.maxFilters) {
    notes.push({
      level: 'warn',
      resource,
      message:
        `no free subscription filter slot (${filters.length} of ${o.maxFilters} used by ${filters
          .map((f) => `"${f.filterName}" → ${f.destinationArn}`)
          .join(', ')}); not subscribed. ` +
        'Remove one of them, or raise --max-filters if your account allows more.',
    });
    return { steps, notes };
  }
  steps.push(
    subscribe(
      [
        {
          service: 'logs',
          operation: 'DeleteSubscriptionFilter',
          input: { logGroupName: group, filterName: o.filterName },
          tolerate: ['ResourceNotFoundException'],
        },
      ],
      undefined,
    ),
  );
  return { steps, notes };
}

function filterFacts(f: Filter): Filter {
  return {
    filterName: f.filterName,
    filterPattern: f.filterPattern,
    destinationArn: f.destinationArn,
    roleArn: f.roleArn,
  };
}
