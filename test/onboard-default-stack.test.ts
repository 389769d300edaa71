/**
 * Onboarding without --stack or --destination-arn finds the topology `logferry deploy` created under
 * its default stack name (moto's CloudFormation, a region of its own so no other test's stacks count).
 */
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { describe, expect, inject, it } from 'vitest';
import { firehoseArchiveSchema, kinesisSearchSchema } from '../infra/src/config.js';
import { caller } from '../src/onboard/index.js';
import { DEFAULT_TOPOLOGY_STACKS, resolveDestination } from '../src/onboard/topology.js';

const motoUrl = inject('motoUrl');
const region = 'eu-north-1';
const env = { ...process.env, AWS_ENDPOINT_URL: motoUrl, AWS_REGION: region };
const cfn = new CloudFormationClient({
  endpoint: motoUrl,
  region,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
const ROLE = 'arn:aws:iam::123456789012:role/cwl-to-stream';
const STREAM = 'arn:aws:kinesis:eu-north-1:123456789012:stream/logs';
const FIREHOSE = 'arn:aws:firehose:eu-north-1:123456789012:deliverystream/logs';

async function deployed(name: string, destination: string): Promise<void> {
  await cfn.send(
    new CreateStackCommand({
      StackName: name,
      TemplateBody: JSON.stringify({
        Resources: { Marker: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
        Outputs: { DestinationArn: { Value: destination }, CloudWatchLogsRoleArn: { Value: ROLE } },
      }),
    }),
  );
}

describe('onboarding finds the default-named topology', () => {
  it('uses the names deploy gives the topologies', () => {
    expect([...DEFAULT_TOPOLOGY_STACKS].sort()).toEqual(
      [
        kinesisSearchSchema.parse({ sink: { type: 'domain' } }).stackName,
        firehoseArchiveSchema.parse({}).stackName,
      ].sort(),
    );
  });

  it('says what to do when none is deployed, uses the one that is, refuses to guess between two', async () => {
    const aws = caller('onboard lambda', { env });
    const none = await resolveDestination(aws, {}).catch((e: Error) => e);
    expect((none as Error).message).toMatch(/no logferry topology stack .* deploy one first/);

    await deployed('LogferryKinesisSearch', STREAM);
    expect(await resolveDestination(aws, {})).toEqual({
      arn: STREAM,
      roleArn: ROLE,
      stack: 'LogferryKinesisSearch',
    });

    await deployed('LogferryFirehoseArchive', FIREHOSE);
    const two = await resolveDestination(aws, {}).catch((e: Error) => e);
    expect((two as Error).message).toContain(
      'two logferry topologies are deployed here (LogferryKinesisSearch and LogferryFirehoseArchive)',
    );
    // An explicit choice still wins.
    expect((await resolveDestination(aws, { stack: 'LogferryFirehoseArchive' })).arn).toBe(FIREHOSE);
  });
});
