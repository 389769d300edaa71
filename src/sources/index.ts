/**
 * Source registry: one line per source (see core/component.ts). Sources with an SDK client are
 * `lazySpec`s: the config loader validates with their schema and the implementation is imported on
 * first create, so the Lambda bundles (which validate the shared config but never start a daemon
 * source) do not evaluate them.
 */
import { lazySpec, type Registry } from '../core/component.js';
import type { Source } from '../core/source.js';
import { cloudwatchSourceMeta } from './cloudwatch-config.js';
import { demoSpec } from './demo.js';
import { fileSourceSpec } from './file/file-source.js';
import { forwardSourceSpec } from './forward/forward-source.js';
import { httpSourceSpec } from './http.js';
import { kinesisSourceMeta } from './kinesis-config.js';
import { sqsS3SourceMeta } from './sqs-s3-config.js';
import { stdinSourceSpec } from './stdin.js';
import { syslogSourceSpec } from './syslog.js';

export const sources: Registry<Source> = [
  demoSpec,
  lazySpec(kinesisSourceMeta, () => import('./kinesis.js').then((m) => m.kinesisSourceSpec)),
  fileSourceSpec,
  lazySpec(cloudwatchSourceMeta, () => import('./cloudwatch.js').then((m) => m.cloudwatchSourceSpec)),
  stdinSourceSpec,
  httpSourceSpec,
  forwardSourceSpec,
  syslogSourceSpec,
  lazySpec(sqsS3SourceMeta, () => import('./sqs-s3.js').then((m) => m.sqsS3SourceSpec)),
];
