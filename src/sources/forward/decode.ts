/**
 * Decoding of one Fluent forward protocol v1 message
 * (https://github.com/fluent/fluentd/wiki/Forward-Protocol-Specification-v1) into entries: the
 * carrier mode is told by the second element — an array (Forward), str/bin (PackedForward, or
 * CompressedPackedForward with option `compressed: "gzip"`, possibly concatenated gzip members),
 * anything else a time (Message). Times are integer or float seconds, or EventTime (ext type 0:
 * 32-bit seconds and nanoseconds, big-endian), also wrapped as `[time, metadata]` (Fluent Bit's
 * v2 event format). Never throws: a message that cannot be read is a `ForwardError`.
 */
import { gunzipSync } from 'node:zlib';
import { Decoder, ExtensionCodec } from '@msgpack/msgpack';
import { arrayHeader, objectEnd, rawBytes } from './frame.js';

/** A nanosecond-precision event time (forward protocol EventTime, ext type 0). */
export class EventTime {
  constructor(
    readonly seconds: number,
    readonly nanoseconds: number,
  ) {}
  /** Nanoseconds since the epoch. */
  get ns(): bigint {
    return BigInt(this.seconds) * 1_000_000_000n + BigInt(this.nanoseconds);
  }
  /** Milliseconds since the epoch (what a record's timestamp holds; sub-millisecond digits dropped). */
  get ms(): number {
    return this.seconds * 1000 + Math.floor(this.nanoseconds / 1e6);
  }
}

export const EVENT_TIME_EXT = 0;

export const forwardCodec = new ExtensionCodec();
forwardCodec.register({
  type: EVENT_TIME_EXT,
  encode: (v: unknown) => {
    if (!(v instanceof EventTime)) return null;
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, v.seconds);
    dv.setUint32(4, v.nanoseconds);
    return b;
  },
  decode: (data: Uint8Array) => {
    if (data.length !== 8) throw new Error(`EventTime has ${data.length} bytes (expected 8)`);
    const dv = new DataView(data.buffer, data.byteOffset, 8);
    return new EventTime(dv.getUint32(0), dv.getUint32(4));
  },
});

export interface ForwardOptions {
  chunk?: string;
  size?: number;
  compressed?: string;
}

export interface ForwardEntry {
  /** Event time in ms. */
  time: number;
  record: Record<string, unknown>;
  /** Fluent Bit v2 metadata, when sent. */
  metadata?: Record<string, unknown>;
}

export type ForwardMessage =
  | { kind: 'heartbeat' }
  | { kind: 'ignored'; reason: string }
  | {
      kind: 'events';
      mode: 'message' | 'forward' | 'packed' | 'compressed';
      tag: string;
      entries: ForwardEntry[];
      options: ForwardOptions;
    }
  /** A PING, its strings left as bytes (`Uint8Array`). */
  | { kind: 'handshake'; message: unknown[] };

export interface ForwardError {
  kind: 'error';
  code: string;
  reason: string;
  /** The chunk id when the options could be read (so the sender can still be answered). */
  chunk?: string;
  tag?: string;
}

export interface DecodeLimits {
  maxDecodedBytes: number;
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  !(v instanceof Uint8Array) &&
  !(v instanceof EventTime);

const decoder = () => new Decoder({ extensionCodec: forwardCodec });

/** Event time in ms from an entry's time (EventTime, integer or float seconds). */
function timeMs(t: unknown): number | undefined {
  if (t instanceof EventTime) return t.ms;
  if (typeof t === 'number' && Number.isFinite(t))
    return Number.isInteger(t) ? t * 1000 : Math.round(t * 1000);
  if (typeof t === 'bigint') return Number(t) * 1000;
  return undefined;
}

/** Byte strings (msgpack bin) among a record's values become UTF-8 text. */
function textValues(record: Record<string, unknown>): Record<string, unknown> {
  for (const k in record) {
    const v = record[k];
    if (v instanceof Uint8Array)
      record[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  }
  return record;
}

function entry(e: unknown, i: number): ForwardEntry | string {
  if (!Array.isArray(e) || e.length < 2) return `entry ${i} is not [time, record]`;
  let t = e[0];
  let metadata: Record<string, unknown> | undefined;
  if (Array.isArray(t)) {
    // Fluent Bit's v2 format: [[time, metadata], record].
    metadata = isMap(t[1]) && Object.keys(t[1]).length > 0 ? t[1] : undefined;
    t = t[0];
  }
  const time = timeMs(t);
  if (time === undefined) return `entry ${i} has no valid time`;
  if (!isMap(e[1])) return `entry ${i} has a record that is not a map`;
  return metadata ? { time, record: textValues(e[1]), metadata } : { time, record: textValues(e[1]) };
}

/** Decodes one complete message (its exact bytes). */
export function decodeForwardMessage(msg: Uint8Array, limits: DecodeLimits): ForwardMessage | ForwardError {
  if (msg[0] === 0xc0) return { kind: 'heartbeat' };
  const head = arrayHeader(msg, 0);
  if (!head) return { kind: 'ignored', reason: 'not an array (the protocol carries arrays only)' };
  const [n, first] = head;
  const dec = decoder();
  const fail = (code: string, reason: string, extra: Partial<ForwardError> = {}): ForwardError => ({
    kind: 'error',
    code,
    reason,
    ...extra,
  });
  // What was read before a failure, so a broken chunk can still be answered (and not resent forever).
  const seen: { tag?: string; chunk?: string } = {};
  try {
    if (n < 2) return fail('FORWARD_BAD_MESSAGE', `message array has ${n} element(s), expected 2 to 4`);
    const e0 = objectEnd(msg, first);
    const tag = dec.decode(msg.subarray(first, e0));
    // PING's salt is raw bytes that senders (Fluent Bit) pack as msgpack str: keep strings as bytes.
    if (tag === 'PING')
      return { kind: 'handshake', message: new Decoder({ rawStrings: true }).decode(msg) as unknown[] };
    if (typeof tag !== 'string') return fail('FORWARD_BAD_MESSAGE', 'the tag is not a string');
    const e1 = objectEnd(msg, e0);
    const t1 = msg[e0];
    const isArray = arrayHeader(msg, e0) !== undefined;
    const raw = isArray ? undefined : rawBytes(msg, e0);
    seen.tag = tag;
    let options: ForwardOptions = {};
    if (!isArray && !raw) {
      // Message mode: [tag, time, record, option?]
      if (n < 3) return fail('FORWARD_BAD_MESSAGE', 'message mode needs [tag, time, record]', { tag });
      const e2 = objectEnd(msg, e1);
      if (n >= 4) options = readOptions(dec.decode(msg.subarray(e2, objectEnd(msg, e2))));
      seen.chunk = options.chunk;
      const time = timeMs(dec.decode(msg.subarray(e0, e1)));
      const record = dec.decode(msg.subarray(e1, e2));
      if (time === undefined)
        return fail('FORWARD_BAD_ENTRY', 'message mode time is not a number or EventTime', {
          tag,
          chunk: options.chunk,
        });
      if (!isMap(record))
        return fail('FORWARD_BAD_ENTRY', 'message mode record is not a map', { tag, chunk: options.chunk });
      return {
        kind: 'events',
        mode: 'message',
        tag,
        entries: [{ time, record: textValues(record) }],
        options,
      };
    }
    if (n >= 3) options = readOptions(dec.decode(msg.subarray(e1, objectEnd(msg, e1))));
    seen.chunk = options.chunk;
    const extra = { tag, chunk: options.chunk };
    const entries: ForwardEntry[] = [];
    if (isArray) {
      const list = dec.decode(msg.subarray(e0, e1)) as unknown[];
      for (let i = 0; i < list.length; i++) {
        const x = entry(list[i], i);
        if (typeof x === 'string') return fail('FORWARD_BAD_ENTRY', x, extra);
        entries.push(x);
      }
      return { kind: 'events', mode: 'forward', tag, entries, options };
    }
    let stream = raw as Uint8Array;
    const compressed = options.compressed === 'gzip';
    if (compressed) {
      if (t1 !== 0xc4 && t1 !== 0xc5 && t1 !== 0xc6 && !(stream[0] === 0x1f && stream[1] === 0x8b))
        return fail('FORWARD_BAD_MESSAGE', 'CompressedPackedForward entries are not gzip bin', extra);
      try {
        stream = gunzipSync(stream, { maxOutputLength: limits.maxDecodedBytes });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        return fail(
          err.code === 'ERR_BUFFER_TOO_LARGE' ? 'FORWARD_TOO_LARGE' : 'FORWARD_BAD_GZIP',
          err.code === 'ERR_BUFFER_TOO_LARGE'
            ? `decompressed entries exceed ${limits.maxDecodedBytes} bytes`
            : `entries are not valid gzip: ${err.message}`,
          extra,
        );
      }
    }
    let i = 0;
    for (const item of dec.decodeMulti(stream)) {
      const x = entry(item, i++);
      if (typeof x === 'string') return fail('FORWARD_BAD_ENTRY', x, extra);
      entries.push(x);
    }
    return { kind: 'events', mode: compressed ? 'compressed' : 'packed', tag, entries, options };
  } catch (e) {
    return fail('FORWARD_BAD_MESSAGE', `message cannot be decoded: ${(e as Error).message}`, seen);
  }
}

function readOptions(v: unknown): ForwardOptions {
  if (!isMap(v)) return {};
  const o: ForwardOptions = {};
  if (typeof v.chunk === 'string') o.chunk = v.chunk;
  else if (v.chunk instanceof Uint8Array) o.chunk = Buffer.from(v.chunk).toString('utf8');
  if (typeof v.size === 'number') o.size = v.size;
  if (typeof v.compressed === 'string') o.compressed = v.compressed;
  return o;
}
