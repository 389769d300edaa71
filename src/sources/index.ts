/**
 * Source registry: one line per source (see core/component.ts). Sources are `lazySpec`s (all but
 * `file`): the config loader validates with their schema (`*-config.ts`) and the implementation is
 * imported on first create, so the Lambda bundles (which validate the shared config but never start
 * a daemon source) do not evaluate them, nor their SDK clients, listeners or codecs.
 */
import { lazySpec, type Registry } from '../core/component.js';
import type { Source } from '../core/source.js';
import { cloudwatchSourceMeta } from './cloudwatch-config.js';
import { demoSourceMeta } from './demo-config.js';
import { fileSourceSpec } from './file/file-source.js';
import { forwardSourceMeta } from './forward/forward-config.js';
import { httpSourceMeta } from './http-config.js';
import { kinesisSourceMeta } from './kinesis-config.js';
import { sqsS3SourceMeta } from './sqs-s3-config.js';
import { stdinSourceMeta } from './stdin-config.js';
import { syslogSourceMeta } from './syslog-config.js';

export const sources: Registry<Source> = [
  lazySpec(demoSourceMeta, () => import('./demo.js').then((m) => m.demoSpec)),
  lazySpec(kinesisSourceMeta, () => import('./kinesis.js').then((m) => m.kinesisSourceSpec)),
  fileSourceSpec,
  lazySpec(cloudwatchSourceMeta, () => import('./cloudwatch.js').then((m) => m.cloudwatchSourceSpec)),
  lazySpec(stdinSourceMeta, () => import('./stdin.js').then((m) => m.stdinSourceSpec)),
  lazySpec(httpSourceMeta, () => import('./http.js').then((m) => m.httpSourceSpec)),
  lazySpec(forwardSourceMeta, () => import('./forward/forward-source.js').then((m) => m.forwardSourceSpec)),
  lazySpec(syslogSourceMeta, () => import('./syslog.js').then((m) => m.syslogSourceSpec)),
  lazySpec(sqsS3SourceMeta, () => import('./sqs-s3.js').then((m) => m.sqsS3SourceSpec)),
];
