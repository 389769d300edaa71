/**
 * Alarms and a dashboard for a logferry pipeline: Lambda errors and throttles, Kinesis iterator
 * age, dead-letter queue depth, Firehose delivery and transformation failures, and the handlers' EMF
 * counters (namespace `logferry`, metrics `delivered`/`rejected`/`failed`, dimension `logGroup`).
 *
 * The EMF names are a contract with the handlers (src/core emits them); the per-log-group graphs use
 * a SEARCH over that dimension and the alarm a Metrics Insights query summing every log group, so a
 * group that appears later is covered without a redeploy.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from './common.js';

export const EMF_NAMESPACE = 'logferry';
export const EMF_DIMENSION = 'logGroup';
export const EMF_METRICS = ['delivered', 'rejected', 'failed'] as const;

export interface MonitoringProps {
  alarmEmails: string[];
  dashboard: boolean;
  functions: { label: string; fn: lambda.IFunction; kinesisConsumer?: boolean }[];
  deadLetterQueues: { label: string; queue: sqs.IQueue }[];
  deliveryStreamName?: string;
  iteratorAgeMs: number;
  failedRecords: number;
  /** Whether the handlers here emit the EMF counters (the pipeline functions do; the subscriber does not). */
  emf: boolean;
}

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cw.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${stack.stackName} alarms`,
      enforceSSL: true,
    });
    acknowledge(
      this.topic,
      'AwsSolutions-SNS2',
      'alarm notifications carry only alarm names and states; CloudWatch alarms cannot publish to a topic ' +
        'encrypted with the AWS-managed SNS key, and a customer key would cost more than the data is worth.',
    );
    for (const email of props.alarmEmails) this.topic.addSubscription(new subs.EmailSubscription(email));
    const action = new cwActions.SnsAction(this.topic);
    const alarm = (id: string, metric: cw.IMetric, threshold: number, description: string, opts = {}) => {
      const a = new cw.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cw.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
        ...opts,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };
    const five = Duration.minutes(5);

    const widgets: cw.IWidget[] = [];
    for (const f of props.functions) {
      const errors = f.fn.metricErrors({ period: five, statistic: 'Sum' });
      const throttles = f.fn.metricThrottles({ period: five, statistic: 'Sum' });
      alarm(`${f.label}Errors`, errors, 0, `${f.label}: the function failed (invocation errors)`);
      alarm(`${f.label}Throttles`, throttles, 0, `${f.label}: invocations were throttled`);
      const fw = [errors, throttles];
      if (f.kinesisConsumer) {
        const age = f.fn.metric('IteratorAge', { period: Duration.minutes(1), statistic: 'Maximum' });
        alarm(
          `${f.label}IteratorAge`,
          age,
          props.iteratorAgeMs,
          `${f.label}: the consumer is more than ${props.iteratorAgeMs} ms behind the stream`,
          { evaluationPeriods: 5, datapointsToAlarm: 3 },
        );
        widgets.push(new cw.GraphWidget({ title: `${f.label} iterator age (ms)`, left: [age], width: 8 }));
      }
      widgets.push(
        new cw.GraphWidget({ title: `${f.label} errors / throttles`, left: fw, width: 8 }),
        new cw.GraphWidget({
          title: `${f.label} duration (ms)`,
          left: [f.fn.metricDuration({ statistic: 'p99', period: five })],
          width: 8,
        }),
      );
    }
    for (const q of props.deadLetterQueues) {
      const depth = q.queue.metricApproximateNumberOfMessagesVisible({ period: five, statistic: 'Maximum' });
      alarm(`${q.label}Depth`, depth, 0, `${q.label}: messages are waiting in a dead-letter queue`);
      widgets.push(new cw.GraphWidget({ title: `${q.label} messages`, left: [depth], width: 8 }));
    }
    if (props.deliveryStreamName) {
      const dim = { DeliveryStreamName: props.deliveryStreamName };
      const m = (metricName: string, statistic = 'Minimum') =>
        new cw.Metric({ namespace: 'AWS/Firehose', metricName, dimensionsMap: dim, period: five, statistic });
      const toS3 = m('DeliveryToS3.Success');
      const processing = m('ExecuteProcessing.Success');
      alarm('FirehoseDeliveryFailures', toS3, 1, 'Firehose: some deliveries to S3 failed', {
        comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
      });
      alarm('FirehoseProcessingFailures', processing, 1, 'Firehose: some transformation invocations failed', {
        comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
      });
      const freshness = m('DeliveryToS3.DataFreshness', 'Maximum');
      widgets.push(
        new cw.GraphWidget({
          title: 'Firehose delivery / processing success',
          left: [toS3, processing],
          width: 8,
        }),
        new cw.GraphWidget({
          title: 'Firehose records in / partitions',
          left: [m('IncomingRecords', 'Sum'), m('PartitionCount', 'Maximum')],
          width: 8,
        }),
        new cw.GraphWidget({ title: 'Firehose data freshness (s)', left: [freshness], width: 8 }),
      );
    }
    if (props.emf) {
      const failed = new cw.MathExpression({
        expression: `SELECT SUM(failed) FROM SCHEMA("${EMF_NAMESPACE}", ${EMF_DIMENSION})`,
        usingMetrics: {},
        period: five,
        label: 'failed records (all log groups)',
      });
      alarm('FailedRecords', failed, props.failedRecords, 'logferry handlers reported failed records (EMF)');
      for (const name of EMF_METRICS) {
        widgets.push(
          new cw.GraphWidget({
            title: `${name} records per log group`,
            left: [
              new cw.MathExpression({
                expression: `SEARCH('{${EMF_NAMESPACE},${EMF_DIMENSION}} MetricName="${name}"', 'Sum', 300)`,
                usingMetrics: {},
                period: five,
                label: '',
              }),
            ],
            width: 8,
          }),
        );
      }
    }
    if (props.dashboard) {
      new cw.Dashboard(this, 'Dashboard', {
        dashboardName: `${stack.stackName}`,
        widgets: chunk(widgets, 3),
      });
    }
  }
}

function chunk<T>(items: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}
