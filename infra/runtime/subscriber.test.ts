/**
 * The subscriptions Lambda against moto's CloudWatch Logs (real API, its 2-filters-per-group limit):
 * backfill with exclusions and tags, "no free slot" instead of overriding another tool's filter,
 * idempotent re-runs, new groups from CloudTrail events, retention, continuation across invocations
 * and removal of exactly the filters it created.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  DescribeSubscriptionFiltersCommand,
  PutSubscriptionFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { beforeAll, describe, expect, it } from 'vitest';
import { motoUrl } from '../../test/infra/services.js';
import { type Clients, createHandler } from './subscriber.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const run = `t${Date.now().toString(36)}`;
const G = (s: string) => `/aws/lambda/${run}-${s}`;

let logs: CloudWatchLogsClient;
let streamArn: string;
let foreignArn: string;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/cwl-to-kinesis`;

async function filtersOf(name: string) {
  const r = await logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName: name }));
  return (r.subscriptionFilters ?? [])
    .map((f) => `${f.filterName}->${f.destinationArn === streamArn ? 'ours' : 'theirs'}`)
    .sort();
}

beforeAll(async () => {
  const endpoint = motoUrl();
  const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  logs = new CloudWatchLogsClient({ endpoint, region: REGION, credentials: creds });
  const kinesis = new KinesisClient({
    endpoint,
    region: REGION,
    credentials: creds,
    requestHandler: new NodeHttpHandler(),
  });
  for (const name of [`${run}-ours`, `${run}-theirs`])
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  streamArn = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: `${run}-ours` })))
    .StreamDescriptionSummary!.StreamARN!;
  foreignArn = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: `${run}-theirs` })))
    .StreamDescriptionSummary!.StreamARN!;
  const mk = (logGroupName: string, tags?: Record<string, string>) =>
    logs.send(new CreateLogGroupCommand({ logGroupName, tags }));
  await mk(G('plain'), { team: 'a' });
  await mk(G('untagged'));
  await mk(G('full'), { team: 'b' });
  await mk(G('one-taken'), { team: 'c' });
  await mk(G('x-debug'), { team: 'd' });
  await mk(`/logferry/${run}/consumer`, { team: 'e' });
  await mk(`/other/${run}`, { team: 'f' });
  for (const n of ['datadog', 'lumigo'])
    await logs.send(
      new PutSubscriptionFilterCommand({
        logGroupName: G('full'),
        filterName: n,
        filterPattern: '',
        destinationArn: foreignArn,
        roleArn: ROLE,
      }),
    );
  await logs.send(
    new PutSubscriptionFilterCommand({
      logGroupName: G('one-taken'),
      filterName: 'datadog',
      filterPattern: '',
      destinationArn: foreignArn,
      roleArn: ROLE,
    }),
  );
}, 60_000);

function harness(overrides: Record<string, string> = {}) {
  const answers: any[] = [];
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const env = {
    LOGFERRY_SUB_DESTINATION_ARN: streamArn,
    LOGFERRY_SUB_ROLE_ARN: ROLE,
    LOGFERRY_SUB_FILTER_NAME: 'logferry',
    LOGFERRY_SUB_FILTER_PATTERN: '',
    LOGFERRY_SUB_MAX_FILTERS: '2',
    LOGFERRY_SUB_SELECTION: JSON.stringify({
      prefixes: [`/aws/lambda/${run}-`],
      patterns: [],
      tags: { team: '*' },
      exclude: { names: [`/logferry/${run}/consumer`], prefixes: ['/logferry/'], patterns: ['*-debug'] },
    }),
    LOGFERRY_SUB_RETENTION: JSON.stringify({
      days: 7,
      overrideExisting: false,
      selection: {
        prefixes: [`/aws/lambda/${run}-`],
        patterns: [],
        tags: {},
        exclude: { names: [], prefixes: [], patterns: [] },
      },
    }),
    ...overrides,
  };
  let pending: Promise<unknown> | undefined;
  let handler: ReturnType<typeof createHandler>;
  let remaining = 900_000;
  const context = {
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:sub`,
    getRemainingTimeInMillis: () => remaining,
  };
  const clients: Clients = {
    logs,
    // Lambda's asynchronous self-invocation cannot run here: the same handler is called with the payload.
    lambda: {
      send: async (cmd: any) => {
        const payload = JSON.parse(new TextDecoder().decode(cmd.input.Payload));
        remaining = 900_000;
        pending = handler(payload, context);
        return {};
      },
    } as never,
    respond: async (_url, body) => {
      answers.push(JSON.parse(body));
    },
    log: (level, msg, fields) => lines.push({ level, msg, fields }),
  };
  handler = createHandler(() => clients, env);
  const cr = (RequestType: string) => ({
    RequestType,
    ResponseURL: 'https://example.invalid/response',
    StackId: 'stack',
    RequestId: `req-${RequestType}`,
    LogicalResourceId: 'Backfill',
    ResourceProperties: { Backfill: 'true', FilterName: 'logferry' },
  });
  return {
    answers,
    lines,
    invoke: async (event: unknown, remainingMs = 900_000) => {
      remaining = remainingMs;
      await handler(event, context);
      while (pending) {
        const p = pending;
        pending = undefined;
        await p;
      }
    },
    cr,
  };
}

describe('subscriptions Lambda against moto', () => {
  it('backfills selected groups, reports "no free slot" and leaves other tools and pipeline groups alone', async () => {
    const h = harness();
    await h.invoke(h.cr('Create'));
    expect(h.answers).toHaveLength(1);
    expect(h.answers[0]).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'logferry-subscriptions-logferry',
    });
    expect(await filtersOf(G('plain'))).toEqual(['logferry->ours']);
    expect(await filtersOf(G('one-taken'))).toEqual(['datadog->theirs', 'logferry->ours']);
    expect(await filtersOf(G('full'))).toEqual(['datadog->theirs', 'lumigo->theirs']);
    expect(await filtersOf(G('untagged'))).toEqual([]); // tag selection
    expect(await filtersOf(G('x-debug'))).toEqual([]); // excluded pattern
    expect(await filtersOf(`/logferry/${run}/consumer`)).toEqual([]); // pipeline group
    expect(await filtersOf(`/other/${run}`)).toEqual([]); // not selected
    expect(h.lines.filter((l) => l.msg === 'no free slot').map((l) => l.fields.logGroup)).toEqual([
      G('full'),
    ]);
    expect(h.answers[0].Data).toMatchObject({ subscribed: '2', noFreeSlot: '1', errors: '0' });
    // Retention: every group under the prefix that had none.
    const groups = await logs.send(
      new DescribeLogGroupsCommand({ logGroupNamePrefix: `/aws/lambda/${run}-` }),
    );
    for (const g of groups.logGroups ?? []) expect(g.retentionInDays, g.logGroupName).toBe(7);
  });

  it('does nothing on a second run (stable filter name)', async () => {
    const h = harness();
    await h.invoke(h.cr('Update'));
    expect(h.answers[0].Data).toMatchObject({
      subscribed: '0',
      unchanged: '2',
      noFreeSlot: '1',
      retentionSet: '0',
    });
    expect(await filtersOf(G('plain'))).toEqual(['logferry->ours']);
  });

  it('subscribes a new group from the CloudTrail CreateLogGroup event', async () => {
    const h = harness();
    await logs.send(new CreateLogGroupCommand({ logGroupName: G('new'), tags: { team: 'z' } }));
    await h.invoke({
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.logs',
      detail: {
        eventName: 'CreateLogGroup',
        requestParameters: { logGroupName: G('new'), tags: { team: 'z' } },
      },
    });
    expect(await filtersOf(G('new'))).toEqual(['logferry->ours']);
    await logs.send(new CreateLogGroupCommand({ logGroupName: `/logferry/${run}/new` }));
    await h.invoke({
      'detail-type': 'AWS API Call via CloudTrail',
      detail: {
        eventName: 'CreateLogGroup',
        requestParameters: { logGroupName: `/logferry/${run}/new`, tags: { team: 'z' } },
      },
    });
    expect(await filtersOf(`/logferry/${run}/new`)).toEqual([]);
  });

  it('takes the oldest slot only when told to', async () => {
    const h = harness({ LOGFERRY_SUB_ON_NO_FREE_SLOT: 'replace' });
    await h.invoke(h.cr('Update'));
    expect(await filtersOf(G('full'))).toEqual(['logferry->ours', 'lumigo->theirs']);
    expect(h.lines.find((l) => l.msg === 'replaced another filter')?.fields).toMatchObject({
      logGroup: G('full'),
      removed: 'datadog',
    });
  });

  it('continues in a new invocation when time runs short, answering once at the end', async () => {
    for (let i = 0; i < 55; i++)
      await logs.send(new CreateLogGroupCommand({ logGroupName: G(`bulk-${i}`), tags: { team: 'bulk' } }));
    const h = harness();
    // 50 s left, under the 60 s reserve: after each page of 50 groups the work moves to a new invocation.
    await h.invoke(h.cr('Update'), 50_000);
    expect(h.lines.filter((l) => l.msg === 'continuing in a new invocation').length).toBeGreaterThanOrEqual(
      1,
    );
    expect(h.answers).toHaveLength(1);
    expect(h.answers[0].Status).toBe('SUCCESS');
    expect(Number(h.answers[0].Data.subscribed)).toBe(55);
    for (const i of [0, 27, 54]) expect(await filtersOf(G(`bulk-${i}`))).toEqual(['logferry->ours']);
  }, 60_000);

  it('an update that narrows the selection releases the groups it no longer takes', async () => {
    const narrow = {
      prefixes: [`/aws/lambda/${run}-plain`, `/aws/lambda/${run}-one-`],
      patterns: [],
      tags: { team: '*' },
      exclude: { names: [], prefixes: ['/logferry/'], patterns: [] },
    };
    const h = harness({ LOGFERRY_SUB_SELECTION: JSON.stringify(narrow) });
    expect(await filtersOf(G('new'))).toEqual(['logferry->ours']);
    await h.invoke({
      ...h.cr('Update'),
      ResourceProperties: { Backfill: 'true', FilterName: 'logferry', Selection: JSON.stringify(narrow) },
      OldResourceProperties: { Backfill: 'true', FilterName: 'logferry', Selection: '{"old":true}' },
    });
    expect(h.answers[0].Status).toBe('SUCCESS');
    expect(await filtersOf(G('plain'))).toEqual(['logferry->ours']);
    expect(await filtersOf(G('one-taken'))).toEqual(['datadog->theirs', 'logferry->ours']);
    expect(await filtersOf(G('new'))).toEqual([]);
    expect(await filtersOf(G('bulk-3'))).toEqual([]);
    // 'full' held ours after the replace test took the oldest slot; no longer selected, it is released.
    expect(await filtersOf(G('full'))).toEqual(['lumigo->theirs']);
    expect(Number(h.answers[0].Data.unsubscribed)).toBeGreaterThanOrEqual(56);
  });

  it('on removal deletes exactly the filters it created', async () => {
    // A group outside the current selection's prefixes that an earlier selection subscribed.
    const stray = `/ecs/${run}-earlier`;
    await logs.send(new CreateLogGroupCommand({ logGroupName: stray }));
    await logs.send(
      new PutSubscriptionFilterCommand({
        logGroupName: stray,
        filterName: 'logferry',
        filterPattern: '',
        destinationArn: streamArn,
        roleArn: ROLE,
      }),
    );
    const h = harness();
    await h.invoke(h.cr('Delete'));
    expect(await filtersOf(stray)).toEqual([]);
    expect(h.answers[0].Status).toBe('SUCCESS');
    for (const g of ['plain', 'new', 'bulk-0', 'bulk-54']) expect(await filtersOf(G(g))).toEqual([]);
    expect(await filtersOf(G('one-taken'))).toEqual(['datadog->theirs']);
    expect(await filtersOf(G('full'))).toEqual(['lumigo->theirs']);
  });
});
