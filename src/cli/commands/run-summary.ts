/**
 * The summary `logferry run` prints on stderr when it ends: events by component and outcome, what
 * each sink wrote, reasons for drops, rejections and failures (secrets redacted), throughput — as
 * a table, or as one JSON line with `--json`.
 */
import { resolve } from 'node:path';
import type { DaemonResult } from '../../core/daemon.js';
import type { Counts } from '../../core/outcome.js';
import type { RedeliveryTotals } from '../../core/redelivery-journal.js';
import { redactSecrets } from '../../core/secrets-registry.js';

/** Where dead letters go, as the summary shows it; a relative path is shown resolved (the config's directory). */
export function describeDeadLetter(d: { type: string; [k: string]: unknown }, cwd = process.cwd()): string {
  if (typeof d.path === 'string') return `${resolve(cwd, d.path)} (${d.type})`;
  if (typeof d.queueUrl === 'string') return `${d.queueUrl} (${d.type})`;
  return d.type;
}

export interface RunSummary {
  ok: boolean;
  interrupted: boolean;
  /** Interrupted twice: deliveries in progress were abandoned (their records are `failed`). */
  abandoned: boolean;
  balanced: boolean;
  elapsedMs: number;
  events: Counts;
  byComponent: Record<string, Counts>;
  byLogGroup: Record<string, Counts>;
  /** `kind:CODE` → count, for drops, rejections and failures. */
  byReason: Record<string, number>;
  /** `failed:CODE` → one reason (secrets redacted), so the summary says why records failed. */
  failureReasons: Record<string, string>;
  envelopes: { read: number; acked: number };
  bytesIn: number;
  throughput: { eventsPerSecond: number; bytesInPerSecond: number };
  sinks: {
    name: string;
    type: string;
    target: string;
    records: number;
    sends: number;
    objects?: number;
    bytes?: number;
    rawBytes?: number;
    /** The sink's disk buffer (`buffer: {type: disk}`). */
    buffer?: BufferSummary;
    /** Re-delivered records (see `redelivered`) this sink took; stored once when it dedupes by id. */
    redelivered: number;
    dedupes: boolean;
  }[];
  /**
   * Records delivered before a restart (a crash) that sources handed out again, by source; and
   * what sinks made of them: `deduplicated` (a sink that stores a record once by id took them),
   * `possibleDuplicates` (other sinks, plus disk-buffer replays possibly delivered before).
   */
  redelivered: {
    records: number;
    bySource: Record<string, number>;
    deduplicated: number;
    possibleDuplicates: number;
    /**
     * Since the last clean stop (this run included), from the journals that survive `kill -9`:
     * `records`, re-delivered records known delivered before (certain duplicates where a sink
     * cannot dedupe), by source; `possible`, records re-sent that may have been delivered before
     * (in flight at a crash: sources' intents, disk buffers' replays), by source or
     * `<sink>/buffer`; `skipped`, records known delivered that were read again and not sent (no
     * duplicate); and how many starts that spans. Absent when nothing keeps a journal.
     */
    sinceCleanStop?: {
      records: number;
      possible: number;
      skipped: number;
      starts: number;
      bySource: Record<string, number>;
      possibleBy: Record<string, number>;
    };
  };
  deadLetter?: string;
}

export interface BufferSummary {
  path: string;
  /** Entries stored this run / delivered from the buffer / left on disk for the next start. */
  written: number;
  delivered: number;
  rejected: number;
  pending: number;
  /** Found on disk at start (a previous run's), and of those possibly delivered before a crash. */
  replayed: number;
  possibleDuplicates: number;
  droppedFull: number;
  corrupt: Record<string, number>;
}

function bufferSummary(b: Record<string, unknown> | undefined): BufferSummary | undefined {
  if (!b || b.type !== 'disk') return undefined;
  const n = (k: string) => (typeof b[k] === 'number' ? (b[k] as number) : 0);
  return {
    path: String(b.path),
    written: n('written'),
    delivered: n('delivered'),
    rejected: n('rejected'),
    pending: n('pending'),
    replayed: n('replayed'),
    possibleDuplicates: n('possibleDuplicates'),
    droppedFull: n('droppedFull'),
    corrupt: { ...((b.corrupt as Record<string, number>) ?? {}) },
  };
}

function sinceCleanStop(
  journals: Record<string, RedeliveryTotals> | undefined,
): Pick<RunSummary['redelivered'], 'sinceCleanStop'> {
  const names = Object.keys(journals ?? {});
  if (!journals || names.length === 0) return {};
  let records = 0;
  let possible = 0;
  let skipped = 0;
  let starts = 0;
  const bySource: Record<string, number> = {};
  const possibleBy: Record<string, number> = {};
  for (const name of names) {
    const j = journals[name];
    records += j.records;
    possible += j.possible ?? 0;
    skipped += j.skipped ?? 0;
    starts = Math.max(starts, j.starts);
    // A disk buffer's journal (`<sink>/buffer`) has only possible duplicates.
    if (!name.endsWith('/buffer')) bySource[name] = j.records;
    if (j.possible) possibleBy[name] = j.possible;
  }
  return { sinceCleanStop: { records, possible, skipped, starts, bySource, possibleBy } };
}

export function buildSummary(
  r: DaemonResult,
  info: {
    targets: string[];
    deadLetter?: string;
    interrupted: boolean;
    abandoned?: boolean;
    /** The re-delivery journals (core/redelivery-journal.ts), read after the run. */
    journals?: Record<string, RedeliveryTotals>;
  },
): RunSummary {
  const secs = Math.max(r.elapsedMs, 1) / 1000;
  const events = { ...r.tally.total };
  const sinks = r.sinks.map((s, i) => {
    const st = (s.stats ?? {}) as {
      objects?: number;
      bytes?: number;
      rawBytes?: number;
      buffer?: Record<string, unknown>;
    };
    const buffer = bufferSummary(st.buffer);
    return {
      name: s.name,
      type: s.type,
      target: info.targets[i] ?? s.name,
      records: s.records,
      sends: s.sends,
      ...(typeof st.objects === 'number'
        ? { objects: st.objects, bytes: st.bytes, rawBytes: st.rawBytes }
        : {}),
      ...(buffer ? { buffer } : {}),
      redelivered: s.redelivered ?? 0,
      dedupes: s.dedupes ?? false,
    };
  });
  const bySource = Object.fromEntries(r.redelivered ?? []);
  let deduplicated = 0;
  let possibleDuplicates = 0;
  for (const s of sinks) {
    if (s.dedupes) deduplicated += s.redelivered + (s.buffer?.possibleDuplicates ?? 0);
    else possibleDuplicates += s.redelivered + (s.buffer?.possibleDuplicates ?? 0);
  }
  return {
    ok: r.balanced && events.failed === 0 && r.sourceErrors.length === 0,
    interrupted: info.interrupted,
    abandoned: !!info.abandoned,
    balanced: r.balanced,
    elapsedMs: r.elapsedMs,
    events,
    byComponent: Object.fromEntries(r.components.byGroup),
    byLogGroup: Object.fromEntries(r.tally.byGroup),
    byReason: Object.fromEntries(r.tally.byReason),
    failureReasons: Object.fromEntries(
      [...r.tally.failureExamples].map(([k, why]) => [
        k,
        redactSecrets(why).replace(/\s+/g, ' ').slice(0, MAX_REASON_CHARS),
      ]),
    ),
    envelopes: { read: r.envelopes.read, acked: r.envelopes.acked },
    bytesIn: r.bytesIn,
    throughput: {
      eventsPerSecond: Math.round(events.received / secs),
      bytesInPerSecond: Math.round(r.bytesIn / secs),
    },
    sinks,
    redelivered: {
      records: Object.values(bySource).reduce((a, b) => a + b, 0),
      bySource,
      deduplicated,
      possibleDuplicates,
      ...sinceCleanStop(info.journals),
    },
    ...(info.deadLetter ? { deadLetter: info.deadLetter } : {}),
  };
}

export const int = (n: number) => n.toLocaleString('en-US');

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Longest failure reason quoted in the summary. */
const MAX_REASON_CHARS = 240;

const REASON_HINTS: Record<string, string> = {
  CONTROL_MESSAGE: 'CloudWatch subscription health checks',
  ENVELOPE_GZIP_TRUNCATED: 'payload cut short in transit',
  ENVELOPE_NOT_GZIP: 'payload is not gzip',
  DEAD_LETTER_UNAVAILABLE: 'the dead-letter sink could not store them',
  DEADLINE: 'delivery stopped before it finished',
};

export function formatSummary(s: RunSummary): string {
  const lines: string[] = [];
  const head = s.abandoned
    ? 'stopped without waiting for deliveries in progress'
    : s.interrupted
      ? s.events.failed > 0
        ? `interrupted; ${int(s.events.failed)} records failed (the source redrives them)`
        : 'interrupted; everything read was delivered or accounted for'
      : s.ok
        ? 'done'
        : 'finished with problems';
  lines.push('', `logferry run: ${head} in ${formatDuration(s.elapsedMs)}`, '');
  const cols = ['received', 'delivered', 'dropped', 'rejected', 'failed'] as const;
  const rows = Object.entries(s.byComponent).sort((a, b) => b[1].received - a[1].received);
  const nameW = Math.max(20, ...rows.map(([n]) => n.length)) + 2;
  const w = Math.max(10, int(s.events.received).length + 2);
  const row = (name: string, c: Counts) =>
    `  ${name.padEnd(nameW)}${cols.map((k) => int(c[k]).padStart(w)).join('')}`;
  lines.push(`  ${'events by component'.padEnd(nameW)}${cols.map((k) => k.padStart(w)).join('')}`);
  for (const [name, c] of rows) lines.push(row(name, c));
  lines.push(`  ${'─'.repeat(nameW + w * cols.length)}`);
  lines.push(row('total', s.events));
  lines.push('');
  const labelW = Math.max(14, ...s.sinks.map((k) => k.type.length + 6));
  const label = (l: string) => `  ${l.padEnd(labelW)}`;
  for (const sink of s.sinks) {
    const what =
      sink.objects !== undefined
        ? `${int(sink.objects)} objects, ${formatBytes(sink.bytes ?? 0)} gzip (${formatBytes(sink.rawBytes ?? 0)} uncompressed), ${int(sink.records)} records`
        : `${int(sink.records)} records in ${int(sink.sends)} requests`;
    lines.push(`${label(`${sink.type} sink`)}${sink.target}`);
    lines.push(`${label('')}${what}`);
    const b = sink.buffer;
    if (b) {
      const corrupt = Object.entries(b.corrupt).map(([k, v]) => `${int(v)} × ${k}`);
      lines.push(`${label('disk buffer')}${b.path}`);
      lines.push(
        `${label('')}${int(b.written)} stored, ${int(b.delivered)} delivered from it, ${int(b.pending)} left for the next start`,
      );
      if (b.replayed > 0)
        lines.push(
          `${label('')}${int(b.replayed)} replayed from the last run (${int(b.possibleDuplicates)} possibly delivered before it stopped: duplicates where the sink cannot dedupe)`,
        );
      if (b.droppedFull > 0)
        lines.push(`${label('')}${int(b.droppedFull)} dropped: the buffer was full (drop_newest)`);
      if (corrupt.length > 0) lines.push(`${label('')}corrupt entries skipped: ${corrupt.join(', ')}`);
    }
  }
  const rd = s.redelivered;
  if (rd && (rd.records > 0 || rd.possibleDuplicates > 0 || rd.deduplicated > 0)) {
    const by = Object.entries(rd.bySource).map(([k, v]) => `${int(v)} from ${k}`);
    lines.push(
      `${label('redelivered')}${int(rd.records)} records delivered before the last stop were read again${by.length > 0 ? ` (${by.join(', ')})` : ''}`,
    );
    lines.push(
      `${label('')}${int(rd.deduplicated)} stored once by id (deduplicated), ${int(rd.possibleDuplicates)} possible duplicates where the sink cannot dedupe`,
    );
  }
  const since = rd?.sinceCleanStop;
  if (since && since.starts > 1 && (since.records > 0 || since.possible > 0 || since.skipped > 0)) {
    const by = Object.entries(since.bySource)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${int(v)} from ${k}`);
    const pby = Object.entries(since.possibleBy).map(([k, v]) => `${int(v)} from ${k}`);
    lines.push(
      `${label(rd.records > 0 ? '' : 'redelivered')}since the last clean stop, across ${int(since.starts)} starts: ${int(since.records)} re-delivered${by.length > 0 ? ` (${by.join(', ')})` : ''}, ${int(since.possible)} possible duplicates${pby.length > 0 ? ` (${pby.join(', ')})` : ''}, ${int(since.skipped)} read again and skipped (known delivered)`,
    );
  }
  const reasons = (kind: string) =>
    Object.entries(s.byReason)
      .filter(([k]) => k.startsWith(`${kind}:`))
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => {
        const code = k.slice(kind.length + 1);
        return `${int(n)} × ${code}${REASON_HINTS[code] ? ` (${REASON_HINTS[code]})` : ''}`;
      });
  for (const kind of ['dropped', 'rejected', 'failed']) {
    const list = reasons(kind);
    lines.push(`${label(kind)}${list.length === 0 ? '–' : list[0]}`);
    for (const more of list.slice(1)) lines.push(`${label('')}${more}`);
  }
  for (const [k, why] of Object.entries(s.failureReasons ?? {}))
    lines.push(`${label('')}${k.slice('failed:'.length)}: ${why}`);
  if (s.deadLetter)
    lines.push(
      `${label('dead letters')}${s.deadLetter}${s.events.rejected > 0 ? ` (${int(s.events.rejected)} entries)` : ''}`,
    );
  lines.push(
    `${label('throughput')}${int(s.throughput.eventsPerSecond)} events/s, ${formatBytes(s.throughput.bytesInPerSecond)}/s of compressed payloads`,
  );
  lines.push(`${label('elapsed')}${formatDuration(s.elapsedMs)} (${int(s.envelopes.read)} payloads)`);
  if (!s.balanced)
    lines.push(
      '',
      '  WARNING: received ≠ delivered + dropped + rejected + failed — please report this as a bug.',
    );
  if (s.events.failed > 0)
    lines.push(
      '',
      `  ${int(s.events.failed)} events were not delivered${s.abandoned ? ' (stopped without waiting)' : ' after retries'}; the source was told to redrive them.`,
    );
  lines.push('');
  return `${lines.join('\n')}\n`;
}
