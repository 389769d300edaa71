/**
 * Sink and dead-letter sink registries: one line per component (see core/component.ts). Sinks
 * that carry a heavy client (OpenSearch, Firehose, Kinesis, SQS) are `lazySpec`s: the loader validates with
 * their schema and the implementation is imported on first create, so a Lambda bundle evaluates it
 * only when the config uses it (the S3 sink loads its SDK client the same way, on first put).
 */
import { lazySpec, type Registry } from '../core/component.js';
import type { DeadLetterSink } from '../core/dead-letter.js';
import type { Sink } from '../core/sink.js';
import { blackholeSinkSpec } from './blackhole.js';
import { fileDeadLetterSpec } from './file.js';
import { firehoseSinkMeta } from './firehose-config.js';
import { httpSinkSpec } from './http.js';
import { kinesisSinkMeta } from './kinesis-config.js';
import { logzioSinkSpec } from './logzio.js';
import { lokiSinkSpec } from './loki.js';
import { opensearchSinkMeta } from './opensearch/config.js';
import { s3Spec } from './s3.js';
import { splunkHecSinkSpec } from './splunk-hec.js';
import { sqsDeadLetterMeta } from './sqs-config.js';
import { stdoutSinkSpec } from './stdout.js';

// biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
export const sinks: Registry<Sink<any>> = [
  s3Spec,
  lazySpec(opensearchSinkMeta, () => import('./opensearch/sink.js').then((m) => m.opensearchSinkSpec)),
  httpSinkSpec,
  blackholeSinkSpec,
  stdoutSinkSpec,
  lazySpec(firehoseSinkMeta, () => import('./firehose.js').then((m) => m.firehoseSinkSpec)),
  lazySpec(kinesisSinkMeta, () => import('./kinesis.js').then((m) => m.kinesisSinkSpec)),
  lokiSinkSpec,
  splunkHecSinkSpec,
  logzioSinkSpec,
];

export const deadLetterSinks: Registry<DeadLetterSink> = [
  fileDeadLetterSpec,
  lazySpec(sqsDeadLetterMeta, () => import('./sqs.js').then((m) => m.sqsDeadLetterSpec)),
];
