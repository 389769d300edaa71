/**
 * Partition keys for archives, shared by the Firehose handler (dynamic partitioning keys) and the
 * S3 sink (object prefixes), so both write the same layout.
 *
 * `object_prefix` is `<log group>/<component>/<log stream>` for every source class, so each class
 * gets its own partitions and a `raw` object's key keeps its provenance:
 *
 *  - EKS control plane — the seed's layout, byte for byte: `<logGroup with / → _>/<component>/
 *    <logStream with / → _>` (`_aws_eks_prod_cluster/kube-apiserver-audit/kube-apiserver-audit-4e9f…`);
 *  - Lambda — by function: `_aws_lambda_<function>/lambda/<stream>` (`/aws/lambda/orders-api`,
 *    stream `2026/11/22/[$LATEST]abc…` → `_aws_lambda_orders-api/lambda/2026_11_22_[$LATEST]abc…`);
 *  - ECS — by log group, then the task's stream (`<prefix>/<container>/<task id>`):
 *    `_ecs_checkout/ecs/web_app_<task id>`;
 *  - any other log group: `<group>/default/<stream>`.
 *
 * Outside the seed's EKS layout, names are written reversibly (`encodeKeySegment`): `/` → `_`, and
 * `_`, `%` and characters outside `[A-Za-z0-9.$[\]-]` as `%XX`, so `decodeKeySegment` gives back the
 * exact log group and stream (the query engine does, for `@log`/`@logStream` of raw lines). Lambda
 * function names cannot hold `/` or `%`, so `_aws_lambda_<function>` needs no escaping.
 *
 * The other keys let users build Hive-style layouts (`cluster=…/component=…/dt=…/hour=…`); they are
 * always present (`none` / `default` when not applicable) because Firehose fails a record whose
 * prefix expression names a missing key. Note for Firehose: every distinct prefix is an active
 * partition (default quota 500 per delivery stream); Lambda and ECS streams come and go with
 * execution environments and tasks, so a busy account may prefer a coarser prefix such as
 * `!{partitionKeyFromLambda:log_group}/` or the Hive keys.
 */
import { classifyStream, componentLabel, type StreamClass } from './classify.js';

export interface PartitionKeys {
  object_prefix: string;
  /** EKS cluster name, or `none`. */
  cluster: string;
  /** EKS component, `lambda`, `ecs` or `default`. */
  component: string;
  /** Log group with `/` → `_` and a leading `_` kept (as the seed does). */
  log_group: string;
  log_stream: string;
  /** Event time (UTC) the caller picks: the Firehose handler passes the envelope's earliest event. */
  year: string;
  month: string;
  day: string;
  hour: string;
}

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the times keys can state in 4-digit years. */
const MIN_KEY_TIME_MS = -62_167_219_200_000;
const MAX_KEY_TIME_MS = 253_402_300_799_999;

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

export function slashToUnderscore(s: string): string {
  return s.replace(/\//g, '_');
}

const KEEP = /[A-Za-z0-9.$[\]-]/;
const NEEDS_ESCAPE = /[^A-Za-z0-9.$[\]/-]/;

/** A name as one key segment, reversibly: `/` → `_`; `_`, `%` and unsafe characters → `%XX` (UTF-8). */
export function encodeKeySegment(name: string): string {
  // `.` and `..` would be path steps in a directory archive.
  if (/^\.*$/.test(name)) return name.replace(/\./g, '%2E');
  if (!NEEDS_ESCAPE.test(name)) return name.replace(/\//g, '_');
  let out = '';
  for (const ch of name) {
    if (ch === '/') out += '_';
    else if (KEEP.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The inverse of `encodeKeySegment`; undefined when the segment is not such an encoding. */
export function decodeKeySegment(segment: string): string | undefined {
  if (segment === '' || /[^A-Za-z0-9.$[\]_%-]/.test(segment)) return undefined;
  try {
    return decodeURIComponent(segment.replace(/_/g, '/'));
  } catch {
    return undefined;
  }
}

/** `object_prefix` for a stream (see the file comment). */
export function objectPrefix(logGroup: string, logStream: string, cls?: StreamClass): string {
  const c = cls ?? classifyStream(logGroup, logStream);
  if (c.kind === 'eks')
    return `${slashToUnderscore(logGroup)}/${c.component}/${slashToUnderscore(logStream)}`;
  const group =
    c.kind === 'lambda' && !NEEDS_ESCAPE.test(c.functionName.replace(/_/g, ''))
      ? `_aws_lambda_${c.functionName}`
      : encodeKeySegment(logGroup);
  return `${group}/${componentLabel(c)}/${encodeKeySegment(logStream)}`;
}

export function partitionKeys(
  logGroup: string,
  logStream: string,
  eventTimeMs: number,
  cls?: StreamClass,
): PartitionKeys {
  const c = cls ?? classifyStream(logGroup, logStream);
  // The runner rejects records outside years 0000–9999 (TIMESTAMP_OUT_OF_RANGE) before any sink;
  // a caller outside it still never gets `NaN` keys: such times clamp to that range (NaN → 1970).
  const t = Number.isFinite(eventTimeMs)
    ? Math.min(Math.max(eventTimeMs, MIN_KEY_TIME_MS), MAX_KEY_TIME_MS)
    : eventTimeMs === Number.POSITIVE_INFINITY
      ? MAX_KEY_TIME_MS
      : eventTimeMs === Number.NEGATIVE_INFINITY
        ? MIN_KEY_TIME_MS
        : 0;
  const d = new Date(t);
  return {
    object_prefix: objectPrefix(logGroup, logStream, c),
    cluster: c.kind === 'eks' ? c.cluster : 'none',
    component: componentLabel(c),
    log_group: slashToUnderscore(logGroup),
    log_stream: slashToUnderscore(logStream),
    year: String(d.getUTCFullYear()).padStart(4, '0'),
    month: pad(d.getUTCMonth() + 1),
    day: pad(d.getUTCDate()),
    hour: pad(d.getUTCHours()),
  };
}
