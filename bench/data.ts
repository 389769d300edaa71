/**
 * Bench and test data: a thin front over the one data generator (src/sources/log-generator.ts), in
 * the call shape the benches use (a shared PRNG passed to each helper). Same seed → same bytes.
 * No leaked credentials (`leaks: false`): tests compare what passes the default masking with its
 * input; masking benches plant theirs.
 */
import { type LogKind, LogGenerator, type StreamSpec } from '../src/sources/log-generator.js';

export { mulberry32 as rng } from '../src/core/prng.js';
export {
  ALL_KINDS,
  controlPayload,
  cwPayload,
  EKS_KINDS,
  type FirehoseEventRecord,
  firehoseEvent,
  type LogEvent,
  type PayloadOptions,
  type StreamSpec,
} from '../src/sources/log-generator.js';
export type StreamKind = LogKind;
type PRNG = () => number;

/** One generator per PRNG, so helpers called with the same `r` draw one deterministic sequence. */
const generators = new WeakMap<PRNG, LogGenerator>();
function gen(r: PRNG): LogGenerator {
  let g = generators.get(r);
  if (!g) {
    g = new LogGenerator({ rnd: r, cluster: 'prod', leaks: false });
    generators.set(r, g);
  }
  return g;
}

export const streamFor = (kind: LogKind, r: PRNG, cluster?: string): StreamSpec =>
  gen(r).stream(kind, { cluster });
export const events = (kind: LogKind, n: number, r: PRNG, startMs?: number) =>
  gen(r).events(kind, n, startMs);
export const payloadOfSize = (kind: LogKind, targetGzipBytes: number, r: PRNG) =>
  gen(r).payloadOfSize(kind, targetGzipBytes);
