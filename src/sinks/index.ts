/** Sink and dead-letter sink registries: one line per component (see core/component.ts). */
import type { Registry } from '../core/component.js';
import type { DeadLetterSink } from '../core/dead-letter.js';
import type { Sink } from '../core/sink.js';
import { blackholeSinkSpec } from './blackhole.js';
import { fileDeadLetterSpec } from './file.js';
import { firehoseSinkSpec } from './firehose.js';
import { httpSinkSpec } from './http.js';
import { logzioSinkSpec } from './logzio.js';
import { lokiSinkSpec } from './loki.js';
import { sqsDeadLetterSpec } from './sqs.js';
import { opensearchSinkSpec } from './opensearch.js';
import { s3Spec } from './s3.js';
import { splunkHecSinkSpec } from './splunk-hec.js';
import { stdoutSinkSpec } from './stdout.js';

// biome-ignore lint/suspicious/noExplicitAny: sinks encode to different types
export const sinks: Registry<Sink<any>> = [
  s3Spec,
  opensearchSinkSpec,
  httpSinkSpec,
  blackholeSinkSpec,
  stdoutSinkSpec,
  firehoseSinkSpec,
  lokiSinkSpec,
  splunkHecSinkSpec,
  logzioSinkSpec,
];

export const deadLetterSinks: Registry<DeadLetterSink> = [fileDeadLetterSpec, sqsDeadLetterSpec];
