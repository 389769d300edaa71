/**
 * Kinesis Data Streams → Lambda entry point (see src/sources/kinesis-handler.ts and
 * docs/kinesis.md). Configured through LOGFERRY_CONFIG / LOGFERRY_CONFIG_PARAMETER and the
 * shorthand variables (LOGFERRY_OPENSEARCH_URL, LOGFERRY_DLQ, …). Enable ReportBatchItemFailures.
 */
import { kinesisLambdaHandler } from '../sources/kinesis-handler.js';

export const handler = kinesisLambdaHandler();
