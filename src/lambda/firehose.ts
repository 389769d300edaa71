/**
 * Firehose data-transformation Lambda entry point (see src/sources/firehose.ts and
 * docs/firehose.md). Configured through LOGFERRY_CONFIG or LOGFERRY_CONFIG_PARAMETER.
 */
import { firehoseLambdaHandler } from '../sources/firehose.js';

export const handler = firehoseLambdaHandler();
