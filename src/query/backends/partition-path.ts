/**
 * What an archive object's key (or a local file's path below `--from`) says about its contents, so
 * a scan can skip objects without reading them and give `raw`-format lines their provenance:
 *
 *  - the seed's EKS layout written by the S3 sink and the Firehose handler,
 *    `_aws_eks_<cluster>_cluster/<component>/<logStream>/<name>-YYYY-MM-dd-HH-mm-ss-<hash>.gz`
 *    (log group, component and the exact log stream — EKS stream names contain no `/`);
 *  - the same `<group>/<component>/<stream>` layout for Lambda (`_aws_lambda_<fn>/lambda/<stream>`),
 *    ECS (`<group>/ecs/<stream>`) and other groups (`<group>/default/<stream>`), names encoded
 *    reversibly (aws/partition.ts), so raw lines get their exact `@log` and `@logStream`; its
 *    `component` (and an EKS group's `cluster`) are partition fields as Hive keys are;
 *  - Hive-style keys `cluster=…/component=…/log_stream=…/dt=YYYY-MM-DD/hour=HH` (any subset); every
 *    `key=value` segment is also a partition field the query reads as a field (`fields`);
 *  - Firehose's default time prefix `YYYY/MM/dd/HH/`;
 *  - Firehose-style object names carrying `YYYY-MM-dd-HH-mm-ss` (dates raw lines only).
 *
 * Key times are not event times (Firehose uses arrival time, our sink the first event's time), so
 * pruning widens every key window by a slack (default 1 h) on both sides; see docs/query.md.
 */
import { EKS_COMPONENTS } from '../../aws/classify.js';
import { decodeKeySegment } from '../../aws/partition.js';

export interface ObjectInfo {
  /** Key or path relative to the scan root, `/`-separated. */
  key: string;
  logGroup?: string;
  /** Exact log stream, when the layout names it unambiguously. */
  logStream?: string;
  /** A prefix every log stream in the object starts with (EKS component), when known. */
  streamPrefix?: string;
  cluster?: string;
  /** Window the key's time fields describe, epoch ms, inclusive start / exclusive end. */
  keyFromMs?: number;
  keyToMs?: number;
  /** Best single time for lines that carry none: the object name's time, else the window start. */
  keyTimeMs?: number;
  /** Component from the layout (EKS component, `lambda`, `ecs`, `default`). */
  component?: string;
  /** Set when this describes a listing prefix (S3 `CommonPrefixes`) rather than one object. */
  prefixOf?: string;
  /** Hive `key=value` segments: partition fields rows get when their line lacks the field. */
  fields?: Record<string, string>;
}

const CLASS_MARKERS = new Set(['lambda', 'ecs', 'default']);
const LAMBDA_GROUP_SEGMENT = /^_aws_lambda_([A-Za-z0-9_-]+)$/;

const EKS_GROUP_SEGMENT = /^_aws_eks_(.+)_cluster$/;
/** A Lambda log stream with `/` written as `_`: `2026_11_22_[$LATEST]0123…`. */
const LAMBDA_STREAM_SEGMENT = /^(\d{4})_(\d{2})_(\d{2})_(\[[^\]/]*\][0-9a-f]+)$/;
const NAME_TIME = /(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})(?=[-_.])/;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const EKS_SET = new Set<string>(EKS_COMPONENTS);

function utc(y: string, mo: string, d: string, h = '0', mi = '0', s = '0'): number {
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

export function parseObjectKey(key: string): ObjectInfo {
  const info: ObjectInfo = { key };
  const segs = key.split('/');
  const name = segs[segs.length - 1];
  const dirs = segs.slice(0, -1);
  let dt: string | undefined;
  let hour: string | undefined;
  let ymd: [string, string, string] | undefined;
  for (let i = 0; i < dirs.length; i++) {
    const s = dirs[i];
    const eks = EKS_GROUP_SEGMENT.exec(s);
    if (eks && EKS_SET.has(dirs[i + 1] ?? '')) {
      info.cluster = eks[1];
      info.logGroup = `/aws/eks/${eks[1]}/cluster`;
      info.streamPrefix = dirs[i + 1];
      const stream = dirs[i + 2];
      if (stream?.startsWith(dirs[i + 1]) && !stream.includes('=')) info.logStream = stream;
      info.component = dirs[i + 1];
      // The layout's partition fields, read as Hive keys are (a line's own field wins).
      info.fields = { ...info.fields, cluster: eks[1], component: dirs[i + 1] };
      i += stream !== undefined && info.logStream === stream ? 2 : 1;
      continue;
    }
    // `<group>/<lambda|ecs|default>/<stream>`: the writer's layout for every other class.
    const marker = dirs[i + 1];
    if (marker !== undefined && CLASS_MARKERS.has(marker) && dirs[i + 2] !== undefined && !s.includes('=')) {
      const lambda = marker === 'lambda' ? LAMBDA_GROUP_SEGMENT.exec(s) : null;
      const group = lambda
        ? `/aws/lambda/${lambda[1]}`
        : marker === 'lambda'
          ? undefined
          : decodeKeySegment(s);
      const stream = decodeKeySegment(dirs[i + 2]);
      if (group !== undefined && stream !== undefined && !dirs[i + 2].includes('=')) {
        info.logGroup = group;
        info.logStream = stream;
        info.component = marker;
        info.fields = { ...info.fields, component: marker };
        i += 2;
        continue;
      }
    }
    const eq = s.indexOf('=');
    if (eq > 0) {
      const k = s.slice(0, eq);
      let v: string;
      try {
        v = decodeURIComponent(s.slice(eq + 1));
      } catch {
        v = s.slice(eq + 1);
      }
      if (!info.fields) info.fields = {};
      info.fields[k] = v;
      if (k === 'cluster' && v !== 'none') info.cluster = v;
      else if (k === 'component' && EKS_SET.has(v)) info.streamPrefix = v;
      else if (k === 'log_stream' && v) {
        // `/` was written as `_`: exact when there was none, and for Lambda's `YYYY/MM/DD/[…]…`.
        const lambdaStream = LAMBDA_STREAM_SEGMENT.exec(v);
        if (!v.includes('_')) info.logStream = v;
        else if (lambdaStream)
          info.logStream = `${lambdaStream[1]}/${lambdaStream[2]}/${lambdaStream[3]}/${lambdaStream[4]}`;
      } else if (k === 'log_group' && v && !info.logGroup) {
        // Only the group names whose `/` → `_` form is unambiguous (the seed's EKS and Lambda groups).
        const eksGroup = EKS_GROUP_SEGMENT.exec(v);
        const lambdaGroup = LAMBDA_GROUP_SEGMENT.exec(v);
        if (eksGroup) info.logGroup = `/aws/eks/${eksGroup[1]}/cluster`;
        else if (lambdaGroup) info.logGroup = `/aws/lambda/${lambdaGroup[1]}`;
      } else if (k === 'dt' && /^\d{4}-\d{2}-\d{2}$/.test(v)) dt = v;
      else if (k === 'hour' && /^\d{1,2}$/.test(v)) hour = v;
      else if (k === 'year' && /^\d{4}$/.test(v)) ymd = [v, ymd?.[1] ?? '', ymd?.[2] ?? ''];
      else if (k === 'month' && /^\d{1,2}$/.test(v) && ymd) ymd[1] = v;
      else if (k === 'day' && /^\d{1,2}$/.test(v) && ymd) ymd[2] = v;
      continue;
    }
    // Firehose default prefix YYYY/MM/dd/HH/
    if (/^\d{4}$/.test(s) && /^\d{2}$/.test(dirs[i + 1] ?? '') && /^\d{2}$/.test(dirs[i + 2] ?? '')) {
      ymd = [s, dirs[i + 1], dirs[i + 2]];
      if (/^\d{2}$/.test(dirs[i + 3] ?? '')) {
        hour = dirs[i + 3];
        i += 3;
      } else i += 2;
    }
  }
  if (info.cluster && !info.logGroup && info.streamPrefix) info.logGroup = `/aws/eks/${info.cluster}/cluster`;
  if (dt) ymd = dt.split('-') as [string, string, string];
  if (ymd?.[1] && ymd[2]) {
    if (hour !== undefined) {
      info.keyFromMs = utc(ymd[0], ymd[1], ymd[2], hour);
      info.keyToMs = info.keyFromMs + HOUR_MS;
    } else {
      info.keyFromMs = utc(ymd[0], ymd[1], ymd[2]);
      info.keyToMs = info.keyFromMs + DAY_MS;
    }
    info.keyTimeMs = info.keyFromMs;
  }
  const nt = NAME_TIME.exec(name);
  if (nt) {
    const t = utc(nt[1], nt[2], nt[3], nt[4], nt[5], nt[6]);
    // Not a bound on the object's events (our sink: the first event's time; Firehose: delivery
    // time), so it only dates raw lines that carry no time, and never prunes.
    if (Number.isFinite(t)) info.keyTimeMs = t;
  }
  return info;
}
