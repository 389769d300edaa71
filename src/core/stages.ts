/**
 * Records through transform stages by the one runner, for callers that want the records after the
 * stages rather than a delivery (tests of a transform, a bench preparing its input). Each record is
 * its own envelope, so each gets its own outcome (a drop with its transform's code, or a throw
 * `rejected TRANSFORM_FAILED`) exactly as in every home; the records leaving the stages are read
 * through the runner's tap, in order, and handed to an in-memory sink that accepts them all.
 */
import type { Outcome } from './outcome.js';
import type { Transform } from './pipeline.js';
import type { LogRecord } from './record.js';
import { createRunner, type RunResult, runEnvelopes } from './runner.js';
import { ALL_DELIVERED, type Sink } from './sink.js';

const SOURCE = 'records';

/** Accepts everything in one call (the runner settles the records `delivered`). */
const ACCEPT_ALL: Sink<null> = {
  type: 'memory',
  name: 'memory',
  limits: {
    maxRecords: Number.MAX_SAFE_INTEGER,
    maxBytes: Number.MAX_SAFE_INTEGER,
    maxRecordBytes: Number.MAX_SAFE_INTEGER,
    maxAgeMs: 0,
  },
  encode: (record) => ({ record, data: null, bytes: 0 }),
  send: async () => ALL_DELIVERED,
  sendRecords: async () => ALL_DELIVERED,
};

export interface StagesResult {
  /** What left the last stage, in order (a split's records in place of their input). */
  records: LogRecord[];
  /** Input records that did not get through, with their outcome (dropped, or rejected on a throw). */
  dropped: { record: LogRecord; outcome: Outcome }[];
  /** The run's tally and per-component counts. */
  result: RunResult;
}

export async function runStages(
  stages: readonly Transform[],
  input: readonly LogRecord[],
): Promise<StagesResult> {
  const records: LogRecord[] = [];
  const runner = createRunner(
    {
      pre: stages,
      sources: [{ name: SOURCE }],
      transforms: [],
      sinks: [{ name: 'memory', sink: ACCEPT_ALL }],
    },
    { flushConcurrency: 1, tap: (component, r) => component === SOURCE && records.push(r) },
  );
  const envelopes = input.map((r, i) => ({ ackId: String(i), records: [r], bytes: r.message.length }));
  const { outcomes, result } = await runEnvelopes(runner, { type: 'records', name: SOURCE }, envelopes);
  await runner.close();
  const dropped: StagesResult['dropped'] = [];
  for (let i = 0; i < input.length; i++) {
    const o = outcomes[i];
    if (o && o.kind !== 'delivered') dropped.push({ record: input[i], outcome: o });
  }
  return { records, dropped, result };
}
