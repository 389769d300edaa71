/**
 * S3 notifications → envelopes, shared by the `sqs-s3` daemon source and the `sqs` Lambda handler:
 * messages come from a `MessageFeed` (SQS ReceiveMessage in the daemon, the invocation's records in
 * Lambda); each message's notification is parsed (notifications.ts) and each announced object is
 * read as envelopes (read-object.ts), up to `maxConcurrentObjects` messages at once, with a bound on
 * the bytes read but not yet acknowledged (backpressure: readers wait, the object stream is not
 * pulled). A message is settled — `ok` (delete it) or not (leave it for redelivery) — only when every
 * envelope of every object in it has been acknowledged with an outcome, and it is `ok` only when no
 * envelope `failed` and every object was read to its end.
 *
 * Resume inside an object: per object (bucket/key/version) the `ProgressStore` keeps the highest
 * line number such that it and every earlier line have an outcome other than `failed`; a
 * redelivered message skips those lines. It also keeps the line ranges past that point whose
 * envelopes were already acknowledged (out of order): records of lines read again from them are
 * skipped too (not sent: no duplicate; counted `skipped`). Completed objects are remembered for `rememberDoneMs` (a
 * duplicate notification — S3 delivers at least once — reads nothing). Control: `s3:TestEvent` is a
 * control envelope (`dropped CONTROL_MESSAGE`), a notification with no object-created event one
 * without records (`dropped NO_EVENTS`), an unrecognised body a malformed envelope
 * (`rejected SQS_MESSAGE_UNRECOGNIZED`, the body to the dead-letter store).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../../core/component.js';
import { describeError } from '../../core/errors.js';
import type { Outcome } from '../../core/outcome.js';
import type { Source, SourceEnvelope } from '../../core/source.js';
import { emptyLineStats, type LineStats } from './lines.js';
import { type ObjectRef, objectId, parseNotification } from './notifications.js';
import { type ObjectEnvelope, ObjectReadError, readObject } from './read-object.js';

/** Longest SQS message body kept for the dead-letter store (SQS bodies are ≤ 256 KiB; newer limit 1 MiB). */
const MAX_BODY_PAYLOAD = 1024 * 1024;

export interface FeedMessage {
  /** Message id (Lambda's `itemIdentifier`). */
  id: string;
  body: string;
  /** ApproximateReceiveCount (> 1: a redelivery). */
  receiveCount: number;
}

export interface MessageFeed<M extends FeedMessage = FeedMessage> {
  /** Up to `max` messages; `[]` when none now; `null` when the feed has ended. */
  next(max: number, signal: AbortSignal): Promise<M[] | null>;
  /** Every record of the message has an outcome: `ok` = delete it, else leave it for redelivery. */
  settle(message: M, ok: boolean, why?: string): Promise<void>;
}

export interface ObjectProgress {
  /** Last line whose outcome and every earlier line's is not `failed`; MAX_SAFE_INTEGER when done. */
  through: number;
  /** Epoch ms of the last change. */
  at: number;
  /** Line ranges [first, last] past `through` already acknowledged (read again: re-deliveries). */
  acked?: [number, number][];
}

export interface ProgressStore {
  get(object: string): ObjectProgress | undefined;
  set(object: string, p: ObjectProgress): void;
  delete(object: string): void;
}

/** A progress store in memory (Lambda: survives between invocations of a warm container only). */
export class MemoryProgress implements ProgressStore {
  readonly map = new Map<string, ObjectProgress>();
  constructor(private readonly maxEntries = 10_000) {}
  get(o: string) {
    return this.map.get(o);
  }
  set(o: string, p: ObjectProgress) {
    this.map.delete(o);
    this.map.set(o, p);
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as string);
  }
  delete(o: string) {
    this.map.delete(o);
  }
}

export const DONE = Number.MAX_SAFE_INTEGER;
/** While the read-ahead is full, how often to ask the runner again to send open batches. */
const ROOM_POLL_MS = 100;
/** How often a read checks `shouldStop` while it waits for the object stream. */
const STOP_POLL_MS = 50;

export interface MessageSourceOptions {
  type: string;
  name: string;
  maxConcurrentObjects: number;
  /** Bytes read but not yet acknowledged before readers wait. */
  maxBufferedBytes: number;
  chunkLines: number;
  chunkBytes: number;
  maxLineBytes: number;
  /** How long a completed object is remembered (duplicate notifications read nothing). */
  rememberDoneMs: number;
  /** Checked between envelopes: true stops reading (Lambda deadline); unfinished messages are not ok. */
  shouldStop?: () => boolean;
  /** Messages to ask for at once (SQS: ≤ 10). */
  batch?: number;
  /** `n` records known delivered were read again and not sent (the daemon journals the count). */
  onSkipped?: (n: number) => void;
}

export interface MessageSourceStats {
  messages: number;
  messagesOk: number;
  messagesRedriven: number;
  redeliveries: number;
  objects: number;
  objectsComplete: number;
  /** Objects a duplicate notification announced after they were read completely. */
  objectsAlreadyDone: number;
  /** Objects left unfinished (deadline, shutdown, read errors). */
  objectsUnfinished: number;
  testEvents: number;
  ignoredEvents: number;
  unrecognized: number;
  readErrors: number;
  /**
   * Records re-sent because their message was redelivered and no progress was known for the
   * object (another container, progress lost): duplicates for sinks that cannot dedupe by id.
   */
  resentAfterRedelivery: number;
  /** Records of lines acknowledged before (out of order) that were read again and not sent. */
  skipped: number;
  lines: LineStats;
}

interface Flight {
  env: ObjectEnvelope;
  done: boolean;
  failed: boolean;
}

interface ObjectState {
  id: string;
  flights: Flight[];
  /** Resume position (acknowledged prefix). */
  through: number;
  failed: boolean;
  /** Lets a second announcement of the object go on: once it is done, failed or left unfinished. */
  release: () => void;
}

interface MsgState<M> {
  msg: M;
  pending: number;
  reading: boolean;
  ok: boolean;
  why?: string;
  objects: ObjectState[];
}

export class MessageSource<M extends FeedMessage = FeedMessage> implements Source {
  readonly type: string;
  readonly name: string;
  readonly stats: MessageSourceStats = {
    messages: 0,
    messagesOk: 0,
    messagesRedriven: 0,
    redeliveries: 0,
    objects: 0,
    objectsComplete: 0,
    objectsAlreadyDone: 0,
    objectsUnfinished: 0,
    testEvents: 0,
    ignoredEvents: 0,
    unrecognized: 0,
    readErrors: 0,
    resentAfterRedelivery: 0,
    skipped: 0,
    lines: emptyLineStats(),
  };
  private readonly owner = new WeakMap<SourceEnvelope, { m: MsgState<M>; o?: ObjectState; f?: Flight }>();
  private queue: SourceEnvelope[] = [];
  private wakeConsumer?: () => void;
  private roomWaiters: (() => void)[] = [];
  private unackedBytes = 0;
  private active = 0;
  private readonly settling = new Set<Promise<void>>();
  /** Objects being read, by id: a second announcement waits for the first's outcome. */
  private readonly busy = new Map<string, { owner: MsgState<FeedMessage>; settled: Promise<void> }>();
  /** Messages not yet settled (for visibility extension). */
  readonly open = new Set<M>();
  requestFlush?: () => void;

  constructor(
    private readonly s3: Pick<S3Client, 'send'>,
    private readonly feed: MessageFeed<M>,
    private readonly progress: ProgressStore,
    private readonly opts: MessageSourceOptions,
    private readonly log?: Logger,
  ) {
    this.type = opts.type;
    this.name = opts.name;
  }

  private push(env: SourceEnvelope): void {
    this.queue.push(env);
    this.wakeConsumer?.();
  }

  private async room(signal: AbortSignal): Promise<void> {
    while (this.unackedBytes > this.opts.maxBufferedBytes && !signal.aborted) {
      // What was read sits in open batches until they fill or age: ask for them to go.
      this.requestFlush?.();
      await new Promise<void>((r) => {
        const done = () => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          r();
        };
        const t = setTimeout(done, ROOM_POLL_MS);
        this.roomWaiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  async *envelopes(signal: AbortSignal): AsyncIterable<SourceEnvelope> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let ended = false;
    let pulling: Promise<void> | undefined;
    const readers = new Set<Promise<void>>();
    const pull = async () => {
      const free = this.opts.maxConcurrentObjects - this.active;
      let got: M[] | null;
      try {
        got = await this.feed.next(Math.min(this.opts.batch ?? 10, Math.max(1, free)), stop.signal);
      } catch (e) {
        this.log?.warn('receiving messages failed; retrying', { source: this.name, error: describeError(e) });
        await new Promise((r) => setTimeout(r, 1_000));
        return;
      }
      if (got === null) {
        ended = true;
        return;
      }
      for (const m of got) {
        this.active++;
        const r: Promise<void> = this.handle(m, stop.signal).finally(() => {
          this.active--;
          readers.delete(r);
          this.wakeConsumer?.();
        });
        readers.add(r);
      }
    };
    try {
      for (;;) {
        while (this.queue.length > 0) {
          const env = this.queue.shift()!;
          yield env;
        }
        if (stop.signal.aborted || this.opts.shouldStop?.()) ended = true;
        if (ended && readers.size === 0 && this.queue.length === 0) break;
        if (!ended && !pulling && this.active < this.opts.maxConcurrentObjects)
          pulling = pull().finally(() => {
            pulling = undefined;
            this.wakeConsumer?.();
          });
        await new Promise<void>((r) => {
          this.wakeConsumer = r;
          if (this.queue.length > 0) r();
        });
        this.wakeConsumer = undefined;
      }
      // Stopped: readers end at their next envelope; wait for them so nothing is half-pushed.
      stop.abort();
      await Promise.all([...readers, pulling]);
      while (this.queue.length > 0) yield this.queue.shift()!;
    } finally {
      signal.removeEventListener('abort', onAbort);
      stop.abort();
      for (const w of this.roomWaiters.splice(0)) w();
    }
  }

  /** Reads one message's objects; envelopes go to the queue. */
  private async handle(msg: M, signal: AbortSignal): Promise<void> {
    this.stats.messages++;
    if (msg.receiveCount > 1) this.stats.redeliveries++;
    const st: MsgState<M> = { msg, pending: 0, reading: true, ok: true, objects: [] };
    this.open.add(msg);
    const emit = (env: SourceEnvelope, o?: ObjectState, f?: Flight) => {
      st.pending++;
      this.unackedBytes += env.bytes;
      this.owner.set(env, { m: st, o, f });
      this.push(env);
    };
    const n = parseNotification(msg.body);
    try {
      if (n.kind === 'unrecognized') {
        this.stats.unrecognized++;
        emit({
          ackId: msg.id,
          records: [],
          bytes: msg.body.length,
          malformed: {
            code: 'SQS_MESSAGE_UNRECOGNIZED',
            reason: n.reason,
            payload: msg.body.slice(0, MAX_BODY_PAYLOAD),
          },
        });
        return;
      }
      if (n.kind === 'test') {
        this.stats.testEvents++;
        emit({ ackId: msg.id, records: [], bytes: msg.body.length, control: true });
        return;
      }
      this.stats.ignoredEvents += n.ignored.length;
      if (n.objects.length === 0) {
        emit({ ackId: msg.id, records: [], bytes: msg.body.length });
        return;
      }
      for (const ref of n.objects) {
        if (signal.aborted || this.opts.shouldStop?.()) {
          st.ok = false;
          st.why = 'stopped before the object was read';
          this.stats.objectsUnfinished++;
          break;
        }
        if (!(await this.readOne(ref, st, emit, signal))) break;
      }
    } finally {
      st.reading = false;
      await this.maybeSettle(st);
    }
  }

  /** Reads one object; false when the message cannot be completed (read error or stop). */
  private async readOne(
    ref: ObjectRef,
    st: MsgState<M>,
    emit: (env: SourceEnvelope, o?: ObjectState, f?: Flight) => void,
    signal: AbortSignal,
    again = false,
  ): Promise<boolean> {
    if (!again) this.stats.objects++;
    const id = objectId(ref);
    const saved = this.progress.get(id);
    if (saved?.through === DONE) {
      this.stats.objectsAlreadyDone++;
      return true;
    }
    // Another message of this run announced the same object (S3 notifies at least once): wait for
    // its outcome, then read only what it did not settle.
    const busy = this.busy.get(id);
    if (busy) {
      if (busy.owner === (st as MsgState<FeedMessage>)) return true;
      // Its lines sit in open batches until they fill or age: ask for them to go while waiting.
      let settled = false;
      void busy.settled.then(() => {
        settled = true;
      });
      while (!settled && !signal.aborted) {
        this.requestFlush?.();
        await Promise.race([busy.settled, new Promise((r) => setTimeout(r, ROOM_POLL_MS))]);
      }
      return this.readOne(ref, st, emit, signal, true);
    }
    let resolve!: () => void;
    this.busy.set(id, {
      owner: st as MsgState<FeedMessage>,
      settled: new Promise<void>((r) => (resolve = r)),
    });
    const from = saved?.through ?? 0;
    let redo = saved?.acked && saved.acked.length > 0 ? saved.acked.map((r) => [r[0], r[1]]) : undefined;
    const o: ObjectState = {
      id,
      flights: [],
      through: from,
      failed: false,
      release: () => {
        if (this.busy.get(id)?.owner === (st as MsgState<FeedMessage>)) this.busy.delete(id);
        resolve();
      },
    };
    st.objects.push(o);
    const resent = st.msg.receiveCount > 1 && saved === undefined;
    // A read waiting on a slow stream stops as soon as `shouldStop` says so (not at its next chunk).
    const stopRead = new AbortController();
    const onAbort = () => stopRead.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const poll = this.opts.shouldStop
      ? setInterval(() => {
          if (this.opts.shouldStop?.()) stopRead.abort();
        }, STOP_POLL_MS)
      : undefined;
    const it = readObject(this.s3, ref, {
      source: this.opts.type,
      skipThrough: from,
      chunkLines: this.opts.chunkLines,
      chunkBytes: this.opts.chunkBytes,
      maxLineBytes: this.opts.maxLineBytes,
      signal: stopRead.signal,
      shouldStop: this.opts.shouldStop,
      stats: this.stats.lines,
    });
    try {
      for (;;) {
        await this.room(signal);
        const n = await it.next();
        if (n.done) {
          if (n.value.complete) {
            this.stats.objectsComplete++;
            // Nothing was emitted for the rest (an empty tail, or everything skipped): done now.
            o.flights.push({
              env: { ackId: '', object: id, fromLine: 0, through: DONE, records: [], bytes: 0 },
              done: true,
              failed: false,
            });
            this.advance(o);
            return true;
          }
          this.stats.objectsUnfinished++;
          st.ok = false;
          st.why ??= 'stopped before the object was read to its end';
          o.release();
          return false;
        }
        const env = n.value;
        if (redo) {
          const skipped = skipDelivered(env, redo);
          while (redo.length > 0 && redo[0][1] <= env.through) redo.shift();
          if (redo.length === 0) redo = undefined;
          if (skipped > 0) {
            this.stats.skipped += skipped;
            this.opts.onSkipped?.(skipped);
          }
          if (env.records.length === 0) {
            // Every line was delivered before: nothing to send, the position moves past them.
            o.flights.push({ env, done: true, failed: false });
            this.advance(o);
            continue;
          }
        }
        if (resent) this.stats.resentAfterRedelivery += env.records.length;
        const f: Flight = { env, done: false, failed: false };
        o.flights.push(f);
        emit(env, o, f);
      }
    } catch (e) {
      o.release();
      if (!(e instanceof ObjectReadError)) throw e;
      this.stats.readErrors++;
      this.stats.objectsUnfinished++;
      st.ok = false;
      st.why ??= e.message;
      this.log?.warn('cannot read object; the message will be redelivered', {
        source: this.name,
        error: e.message,
      });
      return false;
    } finally {
      if (poll) clearInterval(poll);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Moves the object's resume position over the acknowledged prefix; notes acknowledged ranges past it. */
  private advance(o: ObjectState): void {
    let moved = false;
    while (o.flights.length > 0 && o.flights[0].done && !o.failed) {
      const f = o.flights.shift()!;
      if (f.failed) {
        o.failed = true;
        break;
      }
      o.through = f.env.through;
      moved = true;
    }
    let acked: [number, number][] | undefined;
    if (!o.failed)
      for (const f of o.flights) {
        // The end marker (through = DONE) covers no line of its own.
        if (!f.done || f.failed || f.env.through === DONE || f.env.through < f.env.fromLine) continue;
        const last = acked?.[acked.length - 1];
        if (last && last[1] + 1 === f.env.fromLine) last[1] = f.env.through;
        else {
          acked ??= [];
          acked.push([f.env.fromLine, f.env.through]);
        }
      }
    const had = (this.progress.get(o.id)?.acked?.length ?? 0) > 0;
    if (moved || acked || had)
      this.progress.set(
        o.id,
        acked ? { through: o.through, at: Date.now(), acked } : { through: o.through, at: Date.now() },
      );
    if (o.failed || o.through === DONE) o.release();
  }

  async ack(envelope: SourceEnvelope, outcome: Outcome): Promise<void> {
    const own = this.owner.get(envelope);
    if (!own) return;
    this.owner.delete(envelope);
    this.unackedBytes -= envelope.bytes;
    if (this.unackedBytes <= this.opts.maxBufferedBytes) for (const w of this.roomWaiters.splice(0)) w();
    const { m, o, f } = own;
    if (outcome.kind === 'failed') {
      m.ok = false;
      m.why ??= `${outcome.code ?? 'failed'}: ${outcome.reason ?? ''}`;
    }
    if (o && f) {
      f.done = true;
      f.failed = outcome.kind === 'failed';
      this.advance(o);
    }
    m.pending--;
    await this.maybeSettle(m);
  }

  private async maybeSettle(m: MsgState<M>): Promise<void> {
    if (m.reading || m.pending > 0 || !this.open.has(m.msg)) return;
    this.open.delete(m.msg);
    const p = (async () => {
      if (m.ok) this.stats.messagesOk++;
      else this.stats.messagesRedriven++;
      try {
        await this.feed.settle(m.msg, m.ok, m.why);
        // Deleted: the objects are done; remember them so a duplicate notification reads nothing.
        if (m.ok) for (const o of m.objects) this.progress.set(o.id, { through: DONE, at: Date.now() });
      } catch (e) {
        this.log?.warn('settling a message failed; it will be redelivered', {
          source: this.name,
          message: m.msg.id,
          error: describeError(e),
        });
      }
    })();
    this.settling.add(p);
    await p;
    this.settling.delete(p);
  }

  /** Waits for settlements in progress (deletes). */
  async drain(): Promise<void> {
    await Promise.all([...this.settling]);
  }
}

/**
 * Removes from the envelope the records whose line lies in one of `ranges` (sorted, inclusive:
 * acknowledged before); returns how many.
 */
function skipDelivered(env: ObjectEnvelope, ranges: number[][]): number {
  if (ranges.some((r) => r[0] <= env.fromLine && env.through <= r[1])) {
    const n = env.records.length;
    env.records = [];
    return n;
  }
  if (!ranges.some((r) => r[0] <= env.through && env.fromLine <= r[1])) return 0;
  const before = env.records.length;
  env.records = env.records.filter((rec) => {
    const id = rec.meta.id;
    const line = Number(id.slice(id.lastIndexOf('#') + 1));
    return !ranges.some((r) => r[0] <= line && line <= r[1]);
  });
  return before - env.records.length;
}
