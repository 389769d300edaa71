/**
 * Partition keys for archives, shared by the Firehose handler (dynamic partitioning keys) and the
 * S3 sink (object prefixes), so both write the same layout.
 *
 * `object_prefix` keeps the seed's layout for EKS control-plane streams —
 * `<logGroup with / → _>/<component>/<logStream with / → _>` — and is `default` otherwise. The other
 * keys let users build Hive-style layouts (`cluster=…/component=…/dt=…/hour=…`); they are always
 * present (`none` / `default` when not applicable) because Firehose fails a record whose prefix
 * expression names a missing key.
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

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));

export function slashToUnderscore(s: string): string {
  return s.replace(/\//g, '_');
}

export function partitionKeys(
  logGroup: string,
  logStream: string,
  eventTimeMs: number,
  cls?: StreamClass,
): PartitionKeys {
  const c = cls ?? classifyStream(logGroup, logStream);
  const group = slashToUnderscore(logGroup);
  const stream = slashToUnderscore(logStream);
  const d = new Date(Number.isFinite(eventTimeMs) ? eventTimeMs : 0);
  return {
    object_prefix: c.kind === 'eks' ? `${group}/${c.component}/${stream}` : 'default',
    cluster: c.kind === 'eks' ? c.cluster : 'none',
    component: componentLabel(c),
    log_group: group,
    log_stream: stream,
    year: String(d.getUTCFullYear()),
    month: pad(d.getUTCMonth() + 1),
    day: pad(d.getUTCDate()),
    hour: pad(d.getUTCHours()),
  };
}
