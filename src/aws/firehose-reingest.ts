/**
 * Firehose `PutRecordBatch` limits, used by the `firehose` sink (src/sinks/firehose.ts), through
 * which the Firehose transformation re-ingests what does not fit its answer — driven by the one
 * delivery engine (src/core/deliver.ts), which re-sends only failed entries within the deadline.
 *
 * Limits: at most 500 records and 4 MiB per call, 1,000 KiB per record (before base64)
 * (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html).
 */
/** https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html */
export const PUT_RECORD_BATCH_MAX_RECORDS = 500;
/** 4 MiB per PutRecordBatch call (record data before base64). */
export const PUT_RECORD_BATCH_MAX_BYTES = 4 * 1024 * 1024;
/** 1,000 KiB per record (before base64); https://docs.aws.amazon.com/firehose/latest/dev/limits.html */
export const FIREHOSE_MAX_RECORD_BYTES = 1000 * 1024;
