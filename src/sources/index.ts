/** Source registry: one line per source (see core/component.ts). */
import type { Registry } from '../core/component.js';
import type { Source } from '../core/source.js';
import { cloudwatchSourceSpec } from './cloudwatch.js';
import { demoSpec } from './demo.js';
import { fileSourceSpec } from './file/file-source.js';
import { forwardSourceSpec } from './forward/forward-source.js';
import { httpSourceSpec } from './http.js';
import { kinesisSourceSpec } from './kinesis.js';
import { sqsS3SourceSpec } from './sqs-s3.js';
import { stdinSourceSpec } from './stdin.js';
import { syslogSourceSpec } from './syslog.js';

export const sources: Registry<Source> = [
  demoSpec,
  kinesisSourceSpec,
  fileSourceSpec,
  cloudwatchSourceSpec,
  stdinSourceSpec,
  httpSourceSpec,
  forwardSourceSpec,
  syslogSourceSpec,
  sqsS3SourceSpec,
];
