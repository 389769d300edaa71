/**
 * Prometheus text exposition of a run's counters (`logferry run --metrics-address`), from the same
 * `RunProgress` the run summary is built from, so `/metrics` and the summary always agree:
 *
 *   logferry_records_total{component,log_group,outcome}   received/delivered/dropped/rejected/failed
 *                                                         per named component (sources: the whole
 *                                                         pipeline's outcome of their records)
 *   logferry_bytes_in_total                               bytes as received from sources
 *   logferry_sink_bytes_total{component}                  encoded bytes sinks accepted
 *   logferry_sink_sends_total{component}                  `send` calls; logferry_sink_retries_total
 *   logferry_batch_records_sum / _count{component}        records per send (batch sizes)
 *   logferry_queue_depth{component}                       records waiting in a sink's open batch
 *   logferry_envelopes_in_flight                          read, not yet acknowledged
 *   logferry_lag_seconds_sum / _count / _max              event time → settlement, delivered records
 *   logferry_records_redelivered_total{component[,result]} sources: records handed out again after a
 *                                                         restart (delivered before it); sinks: those
 *                                                         they took, result="deduplicated" (stored
 *                                                         once by id) or "possible_duplicate"
 *
 * Label values are escaped as the exposition format requires; log group names are data, never
 * secrets.
 */
import type { Counts } from './outcome.js';
import type { RunProgress } from './runner.js';

const OUTCOMES: (keyof Counts)[] = ['received', 'delivered', 'dropped', 'rejected', 'failed'];

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function prometheusText(p: RunProgress): string {
  const out: string[] = [];
  const head = (name: string, type: 'counter' | 'gauge', help: string) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  head('logferry_records_total', 'counter', 'Records by component, log group and outcome.');
  for (const [component, t] of p.nodes)
    for (const [group, c] of t.byGroup)
      for (const o of OUTCOMES)
        out.push(
          `logferry_records_total{component="${esc(component)}",log_group="${esc(group)}",outcome="${o}"} ${c[o]}`,
        );
  head('logferry_bytes_in_total', 'counter', 'Bytes as received from sources.');
  out.push(`logferry_bytes_in_total ${p.bytesIn}`);
  const perSink = (
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    value: (s: RunProgress['sinks'][number]) => number,
  ) => {
    head(name, type, help);
    for (const s of p.sinks) out.push(`${name}{component="${esc(s.name)}"} ${value(s)}`);
  };
  perSink(
    'logferry_sink_bytes_total',
    'counter',
    'Encoded bytes in sends a sink fully accepted.',
    (s) => s.bytes,
  );
  perSink('logferry_sink_sends_total', 'counter', 'Send calls.', (s) => s.sends);
  perSink('logferry_sink_retries_total', 'counter', 'Sends that were retries.', (s) => s.retries);
  perSink('logferry_batch_records_sum', 'counter', 'Records in all sends.', (s) => s.batchRecords.sum);
  perSink(
    'logferry_batch_records_count',
    'counter',
    'Sends counted in the sum.',
    (s) => s.batchRecords.count,
  );
  perSink('logferry_queue_depth', 'gauge', 'Records waiting in the open batch.', (s) => s.buffered);
  head(
    'logferry_records_redelivered_total',
    'counter',
    'Records delivered before a restart and handed out again (sources), and what sinks made of them.',
  );
  for (const [source, n] of p.redelivered)
    out.push(`logferry_records_redelivered_total{component="${esc(source)}"} ${n}`);
  for (const s of p.sinks)
    out.push(
      `logferry_records_redelivered_total{component="${esc(s.name)}",result="${s.dedupes ? 'deduplicated' : 'possible_duplicate'}"} ${s.redelivered}`,
    );
  head('logferry_envelopes_in_flight', 'gauge', 'Envelopes read and not yet acknowledged.');
  out.push(`logferry_envelopes_in_flight ${p.envelopes.inFlight}`);
  head('logferry_lag_seconds_sum', 'counter', 'Event time to settlement, delivered records.');
  out.push(`logferry_lag_seconds_sum ${p.lag.sumMs / 1000}`);
  head('logferry_lag_seconds_count', 'counter', 'Delivered records counted in the lag sum.');
  out.push(`logferry_lag_seconds_count ${p.lag.count}`);
  head('logferry_lag_seconds_max', 'gauge', 'Largest lag seen.');
  out.push(`logferry_lag_seconds_max ${p.lag.maxMs / 1000}`);
  return `${out.join('\n')}\n`;
}
