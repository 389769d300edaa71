import { describe, expect, it } from 'vitest';
import { runDaemon } from './daemon.js';
import { prometheusText } from './metrics.js';
import type { Outcome } from './outcome.js';
import type { LogRecord } from './record.js';
import type { Encoded, SendResult, Sink } from './sink.js';
import type { Source, SourceEnvelope } from './source.js';

const rec = (env: number, i: number, group: string, message: string): LogRecord => ({
  timestamp: 1_700_000_000_000 + i,
  message,
  fields: {},
  meta: { owner: '1', logGroup: group, logStream: 's', id: `${env}-${i}`, source: 't', ackId: `e${env}` },
});

class Src implements Source {
  readonly type = 'list';
  readonly name = 'src';
  constructor(private readonly envs: SourceEnvelope[]) {}
  async *envelopes() {
    yield* this.envs;
  }
  async ack(_e: SourceEnvelope, _o: Outcome) {}
}

class Picky implements Sink<string> {
  readonly type = 'picky';
  readonly name: string = 'out';
  readonly limits = { maxRecords: 3, maxBytes: 1 << 20, maxRecordBytes: 1 << 16, maxAgeMs: 60_000 };
  encode(r: LogRecord): Encoded<string> {
    return { record: r, data: r.message, bytes: r.message.length };
  }
  async send(batch: readonly Encoded<string>[]): Promise<SendResult> {
    return {
      problems: batch.flatMap((e, index) =>
        e.data === 'bad' ? [{ index, action: 'fail' as const, code: 'NOPE', reason: 'no' }] : [],
      ),
    };
  }
}

function metric(text: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`logferry_records_total{${labels}}`));
  return Number(line?.split(' ').pop());
}

describe('prometheusText', () => {
  it('agrees with the run summary per log group and outcome', async () => {
    const envs: SourceEnvelope[] = [
      {
        ackId: 'e1',
        bytes: 10,
        records: [rec(1, 0, '/a', 'ok'), rec(1, 1, '/a', 'bad'), rec(1, 2, '/a', 'ok')],
      },
      { ackId: 'e2', bytes: 10, records: [rec(2, 0, '/b', 'ok')] },
      { ackId: 'e3', bytes: 5, records: [], control: true },
    ];
    const res = await runDaemon({ sources: [new Src(envs)], transforms: [], sinks: [new Picky()] });
    const text = prometheusText(res);
    for (const [group, c] of res.tally.byGroup)
      for (const o of ['received', 'delivered', 'dropped', 'rejected', 'failed'] as const)
        expect(metric(text, `component="src",log_group="${group}",outcome="${o}"`)).toBe(c[o]);
    expect(metric(text, 'component="out",log_group="/a",outcome="failed"')).toBe(1);
    expect(metric(text, 'component="out",log_group="/a",outcome="delivered"')).toBe(2);
    expect(text).toMatch(/^logferry_bytes_in_total 25$/m);
    expect(text).toMatch(/^logferry_sink_sends_total\{component="out"\} 2$/m);
    expect(text).toMatch(/^logferry_lag_seconds_count 3$/m);
  });

  it('counts re-delivered records per source and per sink, deduplicated where the sink dedupes by id', async () => {
    const again = (r: LogRecord): LogRecord => ({ ...r, meta: { ...r.meta, redelivered: true } });
    const envs: SourceEnvelope[] = [
      {
        ackId: 'e1',
        bytes: 10,
        records: [again(rec(1, 0, '/a', 'ok')), again(rec(1, 1, '/a', 'bad')), rec(1, 2, '/a', 'ok')],
        redelivered: 2,
      },
      { ackId: 'e2', bytes: 10, records: [rec(2, 0, '/b', 'ok')] },
    ];
    class ById extends Picky {
      override readonly name = 'search';
      readonly dedupesById = true;
    }
    const res = await runDaemon({
      sources: [new Src(envs)],
      transforms: [],
      sinks: [new Picky(), new ById()],
    });
    expect(res.redelivered.get('src')).toBe(2);
    // The record the sinks failed is not counted: it was not delivered again.
    expect(res.sinks.map((s) => [s.name, s.redelivered, s.dedupes])).toEqual([
      ['out', 1, false],
      ['search', 1, true],
    ]);
    const text = prometheusText(res);
    expect(text).toMatch(/^logferry_records_redelivered_total\{component="src"\} 2$/m);
    expect(text).toMatch(
      /^logferry_records_redelivered_total\{component="out",result="possible_duplicate"\} 1$/m,
    );
    expect(text).toMatch(
      /^logferry_records_redelivered_total\{component="search",result="deduplicated"\} 1$/m,
    );
  });
});
