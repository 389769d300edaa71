import { describe, expect, it } from 'vitest';
import type { DaemonResult } from '../../core/daemon.js';
import { Tally } from '../../core/outcome.js';
import { registerSecret } from '../../core/secrets-registry.js';
import { buildSummary, describeDeadLetter, formatSummary } from './run-summary.js';

describe('run summary: dead-letter destination', () => {
  it('shows a relative file path resolved against the config directory, where the entries really go', () => {
    expect(describeDeadLetter({ type: 'file', path: './dl' }, '/etc/logferry')).toBe(
      '/etc/logferry/dl (file)',
    );
    expect(describeDeadLetter({ type: 'file', path: '/var/dl.ndjson' }, '/etc/logferry')).toBe(
      '/var/dl.ndjson (file)',
    );
    expect(describeDeadLetter({ type: 'sqs', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q' })).toBe(
      'https://sqs.eu-west-1.amazonaws.com/1/q (sqs)',
    );
  });
});

describe('run summary: why records failed', () => {
  it('quotes one reason per failure code (secrets redacted), never rejection reasons', () => {
    registerSecret('s3cr3t-qa-value');
    const tally = new Tally();
    tally.received('/g', 4);
    const refused = 'cannot reach S3 (Error): connect ECONNREFUSED 127.0.0.1:1 as s3cr3t-qa-value';
    tally.settle('/g', { kind: 'failed', code: 'SINK_UNAVAILABLE', reason: refused }, 2);
    tally.settle('/g', { kind: 'failed', code: 'SINK_UNAVAILABLE', reason: 'a later, different reason' });
    tally.settle('/g', {
      kind: 'rejected',
      code: 'mapper_parsing_exception',
      reason: 'value "private-line"',
    });
    const components = new Tally();
    components.merge(tally);
    const result: DaemonResult = {
      phase: 'done',
      elapsedMs: 10,
      envelopes: { read: 1, acked: 1, inFlight: 0 },
      bytesIn: 100,
      tally,
      components,
      nodes: new Map(),
      lag: { sumMs: 0, count: 0, maxMs: 0 },
      redelivered: new Map(),
      sinks: [],
      balanced: true,
      sourceErrors: [],
    };
    const summary = buildSummary(result, { targets: [], interrupted: false });
    expect(summary.failureReasons).toEqual({
      'failed:SINK_UNAVAILABLE': 'cannot reach S3 (Error): connect ECONNREFUSED 127.0.0.1:1 as ****',
    });
    const text = formatSummary(summary);
    expect(text).toMatch(/3 × SINK_UNAVAILABLE\n\s+SINK_UNAVAILABLE: cannot reach S3 .*ECONNREFUSED/);
    expect(text).not.toMatch(/s3cr3t-qa-value|private-line|a later/);
  });
});

describe('run summary: re-deliveries since the last clean stop', () => {
  const result = (): DaemonResult => {
    const tally = new Tally();
    return {
      phase: 'done',
      elapsedMs: 10,
      envelopes: { read: 1, acked: 1, inFlight: 0 },
      bytesIn: 0,
      tally,
      components: new Tally(),
      nodes: new Map(),
      lag: { sumMs: 0, count: 0, maxMs: 0 },
      redelivered: new Map([['pods', 5]]),
      sinks: [],
      balanced: true,
      sourceErrors: [],
    };
  };

  it('adds the journals of every source and says across how many starts (text and JSON)', () => {
    const summary = buildSummary(result(), {
      targets: [],
      interrupted: false,
      journals: { pods: { starts: 3, records: 1234 }, app: { starts: 2, records: 0 } },
    });
    expect(summary.redelivered.records).toBe(5);
    expect(summary.redelivered.sinceCleanStop).toEqual({
      records: 1234,
      possible: 0,
      skipped: 0,
      starts: 3,
      bySource: { pods: 1234, app: 0 },
      possibleBy: {},
    });
    expect(JSON.parse(JSON.stringify(summary)).redelivered.sinceCleanStop.records).toBe(1234);
    expect(formatSummary(summary)).toMatch(
      /since the last clean stop, across 3 starts: 1,234 re-delivered \(1,234 from pods\), 0 possible duplicates, 0 read again and skipped/,
    );
  });

  it('adds possible duplicates of sources and disk buffers, and skipped re-reads', () => {
    const summary = buildSummary(result(), {
      targets: [],
      interrupted: false,
      journals: {
        pods: { starts: 3, records: 2, possible: 40, skipped: 900 },
        'archive/buffer': { starts: 0, records: 0, possible: 17 },
      },
    });
    expect(summary.redelivered.sinceCleanStop).toEqual({
      records: 2,
      possible: 57,
      skipped: 900,
      starts: 3,
      bySource: { pods: 2 },
      possibleBy: { pods: 40, 'archive/buffer': 17 },
    });
    expect(formatSummary(summary)).toMatch(
      /2 re-delivered \(2 from pods\), 57 possible duplicates \(40 from pods, 17 from archive\/buffer\), 900 read again and skipped/,
    );
  });

  it('says nothing more after a single start, and has no field without journals', () => {
    const one = buildSummary(result(), {
      targets: [],
      interrupted: false,
      journals: { pods: { starts: 1, records: 5 } },
    });
    expect(formatSummary(one)).not.toMatch(/since the last clean stop/);
    const none = buildSummary(result(), { targets: [], interrupted: false });
    expect(none.redelivered.sinceCleanStop).toBeUndefined();
  });
});
