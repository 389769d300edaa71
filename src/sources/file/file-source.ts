/**
 * The `file` source: tails files matched by glob patterns (Fluent Bit's `tail` input), decodes
 * container runtime formats (CRI, Docker JSON) with partial-line reassembly, joins multiline
 * records, and checkpoints acknowledged offsets in a position database under `dataDir`.
 *
 * Delivery: at-least-once. One envelope is what one read of one file produced; the position of a
 * file moves to an envelope's end only when it and every earlier envelope of that file were
 * acknowledged (acknowledgements may arrive out of order). An envelope's end never passes a record
 * still being assembled (a CRI `P` piece, a multiline record), so a crash re-reads from the last
 * acknowledged offset and rebuilds it. A `failed` acknowledgement rewinds the file to the start of
 * that envelope and re-reads it (and everything after). Record ids are `<dev>:<ino>:<offset>` of
 * the record's first line, so re-read records carry the same id and sinks that dedupe by id
 * (OpenSearch `_id`) store them once. With the daemon's `dataDir`, envelopes handed out and
 * acknowledged are journaled (ack-journal.ts): after a `kill -9` the position moves past what was
 * acknowledged since the last database write, records known delivered are skipped when read again,
 * and records that were in flight are counted as possible duplicates (redelivered.journal).
 *
 * This file is the thin adapter between the tailer/decoders (which know nothing of the pipeline)
 * and the daemon's `Source` contract.
 */
import { basename, join, resolve } from 'node:path';
import * as z from 'zod';
import type { BuildContext, ComponentSpec, Logger } from '../../core/component.js';
import { stateDir } from '../../core/data-dir.js';
import type { Outcome } from '../../core/outcome.js';
import type { LogRecord } from '../../core/record.js';
import type { Source, SourceEnvelope } from '../../core/source.js';
import {
  ContainerLogDecoder,
  type DecodedEntry,
  type KubernetesMeta,
  parseKubernetesFileName,
} from './container-log.js';
import { MultilineJoiner } from './multiline.js';
import { type RedeliveryJournal, sourceRedeliveryJournal } from '../../core/redelivery-journal.js';
import { merge } from '../journal-files.js';
import { AckJournal } from './ack-journal.js';
import { PositionDb } from './positions.js';
import { emptyTailerStats, type FileHead, FileTailer, type TailEvent, type TailerStats } from './tail.js';

/** Where positions were kept before the top-level `dataDir` (relative to the config's directory). */
const LEGACY_STATE_DIR = './logferry-data/state';

const patterns = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const regexString = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
  }
});

export const multilineConfig = z
  .strictObject({
    /** A line matching this regular expression starts a record; other lines continue it. */
    firstLine: regexString.optional(),
    /** Built-in stack-trace joiners. */
    parsers: z.array(z.enum(['java', 'python', 'go', 'node'])).optional(),
    /** Emit a pending record after this long without a new line. */
    flushMs: z.number().int().min(1).default(1000),
    maxLines: z.number().int().min(1).default(1000),
  })
  .refine((m) => m.firstLine !== undefined || (m.parsers?.length ?? 0) > 0, {
    message: 'multiline needs `firstLine` or at least one of `parsers` (java, python, go, node)',
  });

export const fileSourceConfig = z.strictObject({
  type: z.literal('file'),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'name may hold only letters, digits, `_`, `.` and `-`')
    .optional(),
  /** Glob pattern(s) of files to tail (`*`, `?`, `[..]`, `{a,b}`, `**`). */
  path: patterns,
  /** Glob pattern(s) of files to skip. */
  exclude: patterns.optional(),
  /**
   * Directory of the position database (`file-<name>.positions.json`), for configs written before
   * the top-level `dataDir`; default: `<dataDir>/state/<name>/positions.json`.
   */
  dataDir: z.string().min(1).optional(),
  /**
   * Files found at startup without a saved position: read from the beginning (else from the end).
   * Default: false for a daemon (new data only, as Fluent Bit's tail), true under `run --once`, whose
   * job is to read what is there now — a `--once` run that skipped every file would deliver nothing.
   */
  readFromHead: z.boolean().optional(),
  format: z.enum(['auto', 'cri', 'docker', 'plain']).default('auto'),
  /** Longer lines are cut to this size, counted, and marked `truncated: true`. */
  maxLineBytes: z
    .number()
    .int()
    .min(64)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  readBufferBytes: z
    .number()
    .int()
    .min(4096)
    .max(16 * 1024 * 1024)
    .default(256 * 1024),
  /**
   * Most bytes of records handed to the pipeline and not yet acknowledged; reading pauses there
   * (bounds memory whatever the sinks' speed; at least one read is always in flight). 1 MiB keeps
   * the pipe full for every sink measured; at 4 MiB a file → blackhole run took ~1.8× the CPU and
   * 1.7× the peak RSS (records outlive two scavenges and are copied into the old generation).
   */
  readAheadBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .default(1024 * 1024),
  /** Poll interval (a fallback for missed or unsupported file-system events). */
  pollIntervalMs: z.number().int().min(10).default(1000),
  /** How often to look for new files besides file-system events. */
  refreshIntervalMs: z.number().int().min(10).default(5000),
  /** Keep reading a rotated or deleted file this long after EOF for late writes. */
  rotateWaitMs: z.number().int().min(0).default(5000),
  /** Read the files present now to EOF and end (`logferry run --once`). */
  once: z.boolean().default(false),
  /** `meta.logGroup` of the records (default: the file path). */
  logGroup: z.string().min(1).optional(),
  /** Tag (`fields.tag`); `*` expands to the path with `/` replaced by `.` (as Fluent Bit does). */
  tag: z.string().min(1).optional(),
  /** Add `kubernetes.{pod_name,namespace_name,container_name,docker_id}` from container log file names. */
  kubernetesNames: z.boolean().default(true),
  multiline: multilineConfig.optional(),
});
export type FileSourceConfig = z.infer<typeof fileSourceConfig>;

export interface FileSourceStats {
  envelopes: number;
  records: number;
  /** Failed acknowledgements that re-read part of a file. */
  rewinds: number;
  /** Lines that did not match the file's container format (kept as plain text). */
  malformedLines: number;
  positionWrites: number;
  /** Records read again after a restart that were known delivered (not sent: no duplicate). */
  skipped: number;
  /** Records sent again that were in flight at the last stop (possibly delivered before). */
  possibleDuplicates: number;
  tail: TailerStats;
}

interface Flight {
  key: string;
  from: number;
  to: number;
  done: boolean;
  /** Bytes of the lines behind its records (counts against `readAheadBytes` until acknowledged). */
  bytes: number;
  /** Records known delivered before (certain duplicates) / possibly delivered before (in flight at a crash). */
  certain: number;
  possible: number;
}

interface FileState {
  key: string;
  path: string;
  logGroup: string;
  logStream: string;
  tag: string | undefined;
  k8s: KubernetesMeta | undefined;
  /** `<key>:`, the start of every record id of the file. */
  idPrefix: string;
  decoder: ContainerLogDecoder;
  joiner: MultilineJoiner | undefined;
  /** Offset of the last envelope's end (where re-reading rebuilds every pending record). */
  lastTo: number;
  /** Offset just after the last complete line handed to the decoder. */
  consumed: number;
  queue: Flight[];
  closed: boolean;
  /** Closed because the file was rotated away or deleted (not `once` reaching EOF): forget its position. */
  gone: boolean;
  /**
   * Byte ranges [from, to) already delivered that are being read again (after a restart, from the
   * position database's `acked` and the acknowledgement journal; after a failed envelope's rewind,
   * the later ones that were done): records wholly inside one are skipped (no duplicate), records
   * that only start in one (a multiline record joined differently this time) are sent marked
   * `redelivered`.
   */
  skip: [number, number][] | undefined;
  /** Ranges in flight at the last stop and not acknowledged: records starting there are possible duplicates. */
  possible: [number, number][] | undefined;
  /** Fingerprint of the file's head (from the tailer), saved with each position. */
  head: FileHead | undefined;
}

export class FileSource implements Source {
  readonly type = 'file';
  readonly name: string;
  private readonly cfg: FileSourceConfig;
  private readonly db: PositionDb;
  /** Re-delivered records acknowledged since the last clean stop, kept across crashes (the daemon's, which gives a `dataDir`). */
  private readonly journal?: RedeliveryJournal;
  /** Envelopes handed out and acknowledged since the last position write (the daemon's, with a `dataDir`). */
  private readonly acks?: AckJournal;
  /** In-flight ranges at the last stop, by file, until the file is opened. */
  private readonly possibleAt = new Map<string, [number, number][]>();
  private readonly log: Logger | undefined;
  private readonly cwd: string;
  private readonly files = new Map<string, FileState>();
  private readonly inflight = new Map<string, Flight>();
  private tailer: FileTailer | undefined;
  private seq = 0;
  private readonly counters = { envelopes: 0, records: 0, rewinds: 0, skipped: 0, possibleDuplicates: 0 };
  private once: boolean;
  /** Bytes of envelopes in `inflight` (see `readAheadBytes`). */
  private unackedBytes = 0;
  private ackWaiter: (() => void) | undefined;
  requestFlush?: () => void;
  private readonly wildTag: boolean;

  constructor(cfg: FileSourceConfig, ctx: BuildContext = {}) {
    this.cfg = cfg;
    this.once = cfg.once;
    this.wildTag = cfg.tag?.includes('*') ?? false;
    this.name = cfg.name ?? 'file';
    this.log = ctx.log;
    this.cwd = ctx.cwd ?? process.cwd();
    const legacy = (dir: string) => resolve(this.cwd, dir, `file-${this.name}.positions.json`);
    this.db =
      cfg.dataDir !== undefined
        ? new PositionDb(legacy(cfg.dataDir))
        : new PositionDb(join(stateDir(ctx, this.name), 'positions.json'), legacy(LEGACY_STATE_DIR));
    // In the daemon's (locked) data directory, wherever this source keeps its own state.
    if (ctx.dataDir !== undefined)
      this.acks = new AckJournal(stateDir(ctx, this.name), (e) =>
        this.log?.warn(`${this.name}: cannot journal acknowledgements; a crash re-sends more`, {
          error: e.message,
        }),
      );
    this.journal = sourceRedeliveryJournal(ctx, this.name, this.log);
  }

  get stats(): FileSourceStats {
    let malformed = 0;
    for (const f of this.files.values()) malformed += f.decoder.stats.malformed;
    return {
      ...this.counters,
      malformedLines: malformed,
      positionWrites: this.db.writes,
      tail: this.tailer?.stats ?? emptyTailerStats(),
    };
  }

  /** `--once`: read every file found now to its current EOF, then end. */
  bounded(): string | undefined {
    this.once = true;
    return undefined;
  }

  /** The position database path (for `logferry status` and tests). */
  get positionsPath(): string {
    return this.db.path;
  }

  async *envelopes(signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    await this.db.load();
    this.journal?.start();
    const acks = this.acks;
    // An earlier run left a position database or journal: this start resumes it.
    let resumed = this.db.existed;
    if (acks) {
      // What was acknowledged or in flight since the database was last written (a kill -9).
      for (const [key, j] of acks.load()) {
        resumed = true;
        const possible = this.db.applyJournal(key, j);
        if (possible.length > 0) this.possibleAt.set(key, possible);
      }
      this.db.onSnapshot = () => acks.rotate(this.outstanding());
    }
    const list = (p: string | string[] | undefined) => (p === undefined ? [] : Array.isArray(p) ? p : [p]);
    const tailer = new FileTailer({
      include: list(this.cfg.path),
      exclude: list(this.cfg.exclude),
      cwd: this.cwd,
      // `readFromHead` decides for the files found at the first start only. Each file started at
      // its end gets a position at once (`onStartAtEnd`), so when a run resumes, a file without a
      // position appeared since the last run looked (while logferry was down, or before it read a
      // line of it): it is read from its start, or its lines would be lost.
      readFromHead: (this.cfg.readFromHead ?? this.once) || resumed,
      onStartAtEnd: (file, offset) => {
        this.db.set(file.key, file.path, offset, file.head);
        void this.flushDb();
      },
      maxLineBytes: this.cfg.maxLineBytes,
      readBufferBytes: this.cfg.readBufferBytes,
      pollIntervalMs: this.cfg.multiline
        ? Math.min(this.cfg.pollIntervalMs, this.cfg.multiline.flushMs)
        : this.cfg.pollIntervalMs,
      refreshIntervalMs: this.cfg.refreshIntervalMs,
      rotateWaitMs: this.cfg.rotateWaitMs,
      once: this.once,
      savedPosition: (key) => this.db.get(key),
      onWarning: (msg, data) => this.log?.warn(`${this.name}: ${msg}`, data),
    });
    this.tailer = tailer;
    const out: DecodedEntry[] = [];
    const wake = () => this.wakeReader();
    signal.addEventListener('abort', wake);
    for await (const ev of tailer.read(signal)) {
      const env = this.handle(ev, out);
      if (env) {
        yield env;
        await this.waitForAcks(signal);
      }
      // Caught up: every file found at the start is open, so in-flight ranges of files not found
      // (deleted while down) can no longer be sent again; stop carrying them into new generations.
      if (ev.kind === 'idle' && this.possibleAt.size > 0) this.possibleAt.clear();
      if (ev.kind === 'idle' && this.cfg.multiline) {
        const now = Date.now();
        for (const st of this.files.values()) {
          if (!st.joiner) continue;
          st.joiner.flushIdle(now, this.cfg.multiline.flushMs, out);
          const e = this.envelope(st, out, this.commitPoint(st, st.consumed));
          if (e) yield e;
        }
      }
    }
    signal.removeEventListener('abort', wake);
    await this.db.flush();
  }

  /** Read-ahead bound: waits (asking the runner to send open batches) until acknowledgements free room. */
  private async waitForAcks(signal: AbortSignal): Promise<void> {
    while (this.unackedBytes > this.cfg.readAheadBytes && !signal.aborted) {
      const waiting = new Promise<void>((res) => {
        this.ackWaiter = res;
      });
      this.requestFlush?.();
      await waiting;
    }
  }

  private wakeReader(): void {
    const w = this.ackWaiter;
    this.ackWaiter = undefined;
    w?.();
  }

  /** Removes an envelope from `inflight` (acknowledged, or superseded by a truncation). */
  private settle(ackId: string, f: Flight): void {
    if (!this.inflight.delete(ackId)) return;
    this.unackedBytes -= f.bytes;
    this.wakeReader();
  }

  private handle(ev: TailEvent, out: DecodedEntry[]): SourceEnvelope | undefined {
    if (ev.kind === 'idle') return undefined;
    const start = ev.kind === 'lines' ? ev.lines[0].offset : ev.kind === 'reset' ? ev.offset : ev.consumed;
    const st = this.state(ev.file.key, ev.file.path, start);
    st.head = ev.file.head;
    if (ev.kind === 'reset') {
      st.decoder.reset();
      st.joiner?.reset();
      st.lastTo = ev.offset;
      st.consumed = ev.offset;
      if (ev.reason === 'rewind') {
        // Envelopes read past the rewind point before it took effect are read again.
        st.queue = st.queue.filter((f) => f.to <= ev.offset);
      } else {
        // Content before the offset is gone: in-flight envelopes can no longer move the position.
        for (const f of st.queue) this.settle(this.flightId(f), f);
        st.queue = [];
        st.skip = undefined;
        st.possible = undefined;
        this.acks?.reset(st.key, ev.offset);
        this.db.set(st.key, st.path, ev.offset, st.head);
        void this.flushDb();
      }
      return undefined;
    }
    if (ev.kind === 'lines') {
      const now = Date.now();
      const j = st.joiner;
      if (j) {
        const tmp: DecodedEntry[] = [];
        for (const l of ev.lines) {
          st.decoder.push(l.text, l.offset, l.end, l.truncated, tmp);
          for (const e of tmp) j.push(e, now, out);
          tmp.length = 0;
        }
      } else for (const l of ev.lines) st.decoder.push(l.text, l.offset, l.end, l.truncated, out);
      st.consumed = ev.consumed;
      return this.envelope(st, out, this.commitPoint(st, ev.consumed));
    }
    // closed
    st.closed = true;
    st.gone = ev.gone;
    if (ev.gone) {
      // Nothing more will be written: emit what is being assembled.
      if (st.joiner) {
        const tmp: DecodedEntry[] = [];
        st.decoder.flush(tmp, ev.consumed);
        for (const e of tmp) st.joiner.push(e, Date.now(), out);
        st.joiner.flush(out);
      } else st.decoder.flush(out, ev.consumed);
    } else st.joiner?.flush(out);
    st.consumed = ev.consumed;
    const env = this.envelope(st, out, this.commitPoint(st, ev.consumed));
    if (st.queue.length === 0) this.forget(st, ev.gone);
    return env;
  }

  private commitPoint(st: FileState, consumed: number): number {
    let to = consumed;
    const d = st.decoder.pendingStart();
    if (d !== undefined && d < to) to = d;
    const m = st.joiner?.pendingStart();
    if (m !== undefined && m < to) to = m;
    return Math.max(to, st.lastTo);
  }

  private envelope(st: FileState, entries: DecodedEntry[], to: number): SourceEnvelope | undefined {
    if (entries.length === 0) return undefined;
    const flight: Flight = {
      key: st.key,
      from: st.lastTo,
      to,
      done: false,
      bytes: 0,
      certain: 0,
      possible: 0,
    };
    st.lastTo = to;
    st.queue.push(flight);
    // After a restart: leave out what was delivered before, note what may have been.
    const marks =
      st.skip !== undefined || st.possible !== undefined ? this.sieve(st, entries, flight) : undefined;
    if (entries.length === 0) {
      // Every record was delivered before: nothing to send, the position moves past them.
      flight.done = true;
      void this.advance(st);
      return undefined;
    }
    const ackId = `${this.name}:${st.key}:${++this.seq}`;
    this.inflight.set(ackId, flight);
    this.acks?.inflight(st.key, flight.from, to);
    // Counted when handed out, not when acknowledged: a copy sent by a run killed before its
    // acknowledgement may have reached the sink too, and the next run sends (and counts) another.
    this.journal?.possible(flight.possible);
    const readTime = Date.now();
    const records: LogRecord[] = new Array(entries.length);
    const k8s = st.k8s;
    let bytes = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      bytes += e.end - e.offset;
      const fields: Record<string, unknown> = {};
      if (e.stream !== undefined) fields.stream = e.stream;
      // Computed once per file; each record gets its own copy (transforms may change it).
      if (k8s)
        fields.kubernetes = {
          pod_name: k8s.pod_name,
          namespace_name: k8s.namespace_name,
          container_name: k8s.container_name,
          docker_id: k8s.docker_id,
        };
      if (st.tag !== undefined) fields.tag = st.tag;
      if (e.truncated) fields.truncated = true;
      records[i] = {
        timestamp: e.time ?? readTime,
        message: e.text,
        fields,
        meta: {
          owner: '',
          logGroup: st.logGroup,
          logStream: st.logStream,
          id: st.idPrefix + e.offset,
          source: 'file',
          ackId,
        },
      };
    }
    flight.bytes = bytes;
    this.unackedBytes += bytes;
    if (marks)
      for (let i = 0; i < records.length; i++) if (marks[i] === CERTAIN) records[i].meta.redelivered = true;
    const redelivered = flight.certain;
    entries.length = 0;
    this.counters.envelopes++;
    this.counters.records += records.length;
    const span = Math.max(0, to - flight.from);
    // A wildcard tag (`kube.*`) expands per file: route by the file's own tag (`match`).
    const env: SourceEnvelope = this.wildTag
      ? { ackId, records, tag: st.tag, bytes: span }
      : { ackId, records, bytes: span };
    if (redelivered > 0) env.redelivered = redelivered;
    return env;
  }

  /**
   * What a new journal generation starts with: envelopes handed out and not acknowledged, and
   * ranges in flight at the last stop not read again yet (so a second crash still counts them).
   */
  private *outstanding(): Iterable<{ key: string; from: number; to: number }> {
    yield* this.inflight.values();
    for (const st of this.files.values())
      for (const r of st.possible ?? []) yield { key: st.key, from: r[0], to: r[1] };
    for (const [key, rs] of this.possibleAt) for (const r of rs) yield { key, from: r[0], to: r[1] };
  }

  private flightId(f: Flight): string {
    for (const [id, g] of this.inflight) if (g === f) return id;
    return '';
  }

  async ack(envelope: SourceEnvelope, outcome: Outcome): Promise<void> {
    const f = this.inflight.get(envelope.ackId);
    if (!f) return;
    this.settle(envelope.ackId, f);
    const st = this.files.get(f.key);
    if (!st) return;
    const idx = st.queue.indexOf(f);
    if (idx < 0) return; // superseded by a truncation or an earlier rewind
    if (outcome.kind === 'failed') {
      // Re-read this envelope and everything after it; later in-flight envelopes no longer count
      // (those already delivered are skipped when read again).
      const again = doneRanges(st.queue, idx + 1);
      if (again) st.skip = st.skip ? merge([...st.skip, ...again]) : again;
      st.queue.length = idx;
      this.counters.rewinds++;
      if (!this.tailer?.rewind(f.key, f.from))
        this.log?.warn(`${this.name}: cannot re-read a closed file now; it is re-read after a restart`, {
          path: st.path,
          offset: f.from,
        });
      return;
    }
    f.done = true;
    this.journal?.add(f.certain);
    await this.advance(st, f);
  }

  /**
   * Moves a file's position past the acknowledged envelopes at the head of its queue, records
   * those acknowledged out of order, journals `acked` (the envelope just acknowledged), and writes
   * the database.
   */
  private async advance(st: FileState, acked?: Flight): Promise<void> {
    let advanced = false;
    while (st.queue.length > 0 && st.queue[0].done) {
      const head = st.queue.shift() as Flight;
      this.db.set(st.key, st.path, head.to, st.head);
      advanced = true;
    }
    // Envelopes delivered past the position (acknowledged out of order) are recorded too, so lines
    // a restart reads again from there are skipped; so are ranges known delivered that this run
    // has not read past yet.
    let ranges = st.queue.length > 0 ? doneRanges(st.queue, 0) : undefined;
    if (st.skip) ranges = merge([...(ranges ?? []), ...st.skip]);
    const base = st.queue[0]?.from ?? st.lastTo;
    const rangesChanged = this.db.setAcked(st.key, st.path, base, ranges, st.head);
    if (acked) this.acks?.acked(st.key, acked.from, acked.to, this.db.get(st.key)?.offset ?? base, st.path);
    // A file `once` read to EOF keeps its position (the next run resumes there); a gone one drops it.
    if (st.closed && st.queue.length === 0) this.forget(st, st.gone);
    // The first acknowledgement that moves a position (or the ranges delivered past it) waits for
    // its write; while a write is under way, later ones only queue the next write and return (their
    // caller holds the envelope until the acknowledgement resolves: waiting on a stream of writes
    // would hold every envelope read meanwhile). A crash before that write re-reads those lines:
    // duplicates, never a loss.
    if (advanced || rangesChanged) {
      if (this.db.writing) void this.flushDb();
      else await this.flushDb();
    }
  }

  private forget(st: FileState, dropPosition: boolean): void {
    this.files.delete(st.key);
    if (dropPosition) {
      this.db.delete(st.key);
      void this.flushDb();
    }
  }

  private async flushDb(): Promise<void> {
    try {
      await this.db.flush();
    } catch (e) {
      this.log?.error(`${this.name}: cannot write the position database`, {
        path: this.db.path,
        error: (e as Error).message,
      });
    }
  }

  private state(key: string, path: string, start: number): FileState {
    let st = this.files.get(key);
    if (st) {
      st.path = path;
      return st;
    }
    const c = this.cfg;
    const tagPath = path.replace(/^\/+/, '').split('/').join('.');
    const ml = c.multiline;
    st = {
      key,
      path,
      logGroup: c.logGroup ?? path,
      logStream: basename(path),
      tag: c.tag === undefined ? undefined : c.tag.split('*').join(tagPath),
      k8s: c.kubernetesNames ? parseKubernetesFileName(path) : undefined,
      idPrefix: `${key}:`,
      decoder: new ContainerLogDecoder(c.format, c.maxLineBytes),
      joiner: ml
        ? new MultilineJoiner({
            firstLine: ml.firstLine === undefined ? undefined : new RegExp(ml.firstLine),
            parsers: ml.parsers,
            maxLines: ml.maxLines,
            maxBytes: c.maxLineBytes,
          })
        : undefined,
      lastTo: start,
      consumed: start,
      queue: [],
      closed: false,
      gone: false,
      skip: undefined,
      possible: undefined,
      head: undefined,
    };
    // Resumed where the database says: its delivered ranges past that point are skipped when read
    // again, records in flight at the stop are possible duplicates.
    const saved = this.db.get(key);
    if (saved?.acked && saved.offset === start) st.skip = saved.acked.map((r) => [r[0], r[1]]);
    const possible = this.possibleAt.get(key);
    this.possibleAt.delete(key);
    // (A file with no position yet, read again from its head, too.)
    if (possible && (saved?.offset ?? 0) === start) st.possible = possible;
    this.files.set(key, st);
    return st;
  }

  async close(): Promise<void> {
    await this.tailer?.close();
    await this.flushDb();
    this.acks?.close();
  }

  /**
   * Removes from `entries` the records wholly inside a range delivered before (counted skipped);
   * returns, per record kept, CERTAIN (it starts in such a range but ends past it: sent marked
   * `redelivered`), POSSIBLE (it starts in a range in flight at the stop) or 0, counted on the
   * flight. Ranges behind the records are dropped (the fields end undefined past the last).
   */
  private sieve(st: FileState, entries: DecodedEntry[], flight: Flight): Uint8Array {
    const skip = st.skip ?? [];
    const possible = st.possible ?? [];
    const marks = new Uint8Array(entries.length);
    let s = 0;
    let p = 0;
    let kept = 0;
    let skipped = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      while (s < skip.length && skip[s][1] <= e.offset) s++;
      while (p < possible.length && possible[p][1] <= e.offset) p++;
      let mark = 0;
      if (s < skip.length && e.offset >= skip[s][0]) {
        if (e.end <= skip[s][1]) {
          skipped++;
          continue;
        }
        mark = CERTAIN;
        flight.certain++;
      } else if (p < possible.length && e.offset >= possible[p][0]) {
        mark = POSSIBLE;
        flight.possible++;
      }
      marks[kept] = mark;
      entries[kept++] = e;
    }
    entries.length = kept;
    const last = flight.to;
    while (skip.length > 0 && skip[0][1] <= last) skip.shift();
    while (possible.length > 0 && possible[0][1] <= last) possible.shift();
    if (skip.length === 0) st.skip = undefined;
    if (possible.length === 0) st.possible = undefined;
    if (skipped > 0) {
      this.counters.skipped += skipped;
      this.journal?.skipped(skipped);
    }
    this.counters.possibleDuplicates += flight.possible;
    return marks;
  }
}

/** Merged [from, to) ranges of the done flights in `queue` from index `at` (undefined: none). */
function doneRanges(queue: readonly Flight[], at: number): [number, number][] | undefined {
  let out: [number, number][] | undefined;
  for (let i = at; i < queue.length; i++) {
    const f = queue[i];
    if (!f.done || f.to <= f.from) continue;
    const last = out?.[out.length - 1];
    if (last && last[1] === f.from) last[1] = f.to;
    else {
      out ??= [];
      out.push([f.from, f.to]);
    }
  }
  return out;
}

/** Marks of `sieve`. */
const CERTAIN = 1;
const POSSIBLE = 2;

export const fileSourceSpec: ComponentSpec<FileSourceConfig, Source> = {
  type: 'file',
  summary:
    'Tails files by glob with a position database: rotation, truncation, CRI/Docker container logs with Kubernetes names, multiline stack traces.',
  schema: fileSourceConfig,
  // Local files only: no AWS API.
  iam: [],
  create: (cfg, ctx) => new FileSource(cfg, ctx),
};
