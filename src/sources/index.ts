/** Source registry: one line per source (see core/component.ts). */
import type { Registry } from '../core/component.js';
import type { Source } from '../core/source.js';
import { demoSpec } from './demo.js';
import { fileSourceSpec } from './file/file-source.js';
import { kinesisSourceSpec } from './kinesis.js';
import { sqsS3SourceSpec } from './sqs-s3.js';

export const sources: Registry<Source> = [demoSpec, kinesisSourceSpec, fileSourceSpec, sqsS3SourceSpec];
