/** Time range choices: relative presets (as `--start 1h`) or an absolute UTC window. */

export type RangeChoice =
  | { kind: 'all' }
  | { kind: 'relative'; preset: string }
  | { kind: 'absolute'; startMs: number; endMs: number };

export const PRESETS: { value: string; label: string }[] = [
  { value: '5m', label: 'Last 5 minutes' },
  { value: '15m', label: 'Last 15 minutes' },
  { value: '30m', label: 'Last 30 minutes' },
  { value: '1h', label: 'Last hour' },
  { value: '3h', label: 'Last 3 hours' },
  { value: '12h', label: 'Last 12 hours' },
  { value: '1d', label: 'Last day' },
  { value: '3d', label: 'Last 3 days' },
  { value: '1w', label: 'Last week' },
];

export function rangeParams(c: RangeChoice): { start?: string; end?: string } {
  if (c.kind === 'relative') return { start: c.preset };
  if (c.kind === 'absolute')
    return { start: new Date(c.startMs).toISOString(), end: new Date(c.endMs).toISOString() };
  return {};
}

export function rangeLabel(c: RangeChoice): string {
  if (c.kind === 'all') return 'All time';
  if (c.kind === 'relative') return PRESETS.find((p) => p.value === c.preset)?.label ?? `Last ${c.preset}`;
  return `${fmt(c.startMs)} → ${fmt(c.endMs)} UTC`;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC (what Logs Insights shows). */
export function fmt(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** Value for an <input type="datetime-local"> holding a UTC time. */
export function toLocalInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

export function fromLocalInput(v: string): number | undefined {
  if (!v) return undefined;
  const ms = Date.parse(`${v.length === 16 ? `${v}:00` : v}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

export function humanBytes(n: number): string {
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < u.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${u[i]}`;
}

export function humanCount(n: number): string {
  return n.toLocaleString('en-US');
}
