/**
 * Charts on a canvas (uPlot): the histogram of matching events over time, where a click-drag
 * selects a new time range, and the chart of a `stats … by bin()` result as bars or lines, one
 * series per numeric column (or per group when the stats also groups by other fields).
 */
import uPlot from 'uplot';

const PALETTE = ['#1c7ed6', '#f59f00', '#37b24d', '#e03131', '#7048e8', '#0ca678', '#d6336c', '#495057'];

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function axes(): uPlot.Axis[] {
  const grid = { stroke: cssVar('--grid', '#ddd'), width: 1 };
  const stroke = cssVar('--muted', '#666');
  return [
    { stroke, grid, ticks: grid },
    { stroke, grid, ticks: grid, size: 56 },
  ];
}

export interface HistogramBucket {
  t: number;
  n: number;
}

/** Buckets the per-minute counts into about `target` bars across the range. */
export function bucketHistogram(
  perMinute: [number, number][],
  range: { startMs?: number; endMs?: number },
  target = 90,
): { bucketMs: number; buckets: HistogramBucket[] } {
  if (perMinute.length === 0) return { bucketMs: 60_000, buckets: [] };
  const lo = range.startMs ?? perMinute[0]![0];
  const hi = range.endMs ?? perMinute[perMinute.length - 1]![0] + 60_000;
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080].map((m) => m * 60_000);
  const bucketMs = steps.find((s) => (hi - lo) / s <= target) ?? steps[steps.length - 1]!;
  const first = Math.floor(lo / bucketMs) * bucketMs;
  const count = Math.max(1, Math.ceil((hi - first) / bucketMs));
  const buckets: HistogramBucket[] = Array.from({ length: count }, (_, i) => ({
    t: first + i * bucketMs,
    n: 0,
  }));
  for (const [t, n] of perMinute) {
    const i = Math.floor((t - first) / bucketMs);
    if (i >= 0 && i < count) buckets[i]!.n += n;
  }
  return { bucketMs, buckets };
}

export function drawHistogram(
  el: HTMLElement,
  perMinute: [number, number][],
  range: { startMs?: number; endMs?: number },
  onZoom: (startMs: number, endMs: number) => void,
): uPlot {
  const { bucketMs, buckets } = bucketHistogram(perMinute, range);
  const xs = buckets.map((b) => b.t / 1000);
  const ys = buckets.map((b) => b.n);
  const bars = uPlot.paths.bars?.({ size: [0.9, 40], align: 1 });
  const opts: uPlot.Options = {
    width: el.clientWidth || 800,
    height: 150,
    legend: { show: false },
    cursor: { drag: { x: true, y: false, setScale: false } },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.05)] } },
    axes: axes(),
    series: [
      {},
      {
        label: 'events',
        stroke: cssVar('--accent', '#1c7ed6'),
        fill: cssVar('--accent-fill', 'rgba(28,126,214,0.35)'),
        paths: bars,
        points: { show: false },
      },
    ],
    hooks: {
      setSelect: [
        (u) => {
          if (u.select.width < 3) return;
          const a = u.posToVal(u.select.left, 'x') * 1000;
          const b = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          onZoom(Math.floor(a / 1000) * 1000, Math.ceil((b + bucketMs * 0) / 1000) * 1000);
        },
      ],
    },
  };
  el.replaceChildren();
  const plot = new uPlot(opts, [xs, ys], el);
  el.dataset.buckets = String(buckets.length);
  el.dataset.total = String(ys.reduce((a, b) => a + b, 0));
  return plot;
}

export interface StatsSeries {
  label: string;
  values: (number | null)[];
}

/**
 * Pivots a `stats … by bin(x)[, group…]` result into x values (epoch s) and series. Value columns are
 * the numeric ones that are neither the bin nor a group; with groups, each (group, value column)
 * pair is a series (the 8 largest by total).
 */
export function pivotStats(
  fields: string[],
  rows: Record<string, unknown>[],
  binColumn: string,
  binEpochs: (number | null)[],
): { xs: number[]; series: StatsSeries[] } {
  const numeric = fields.filter(
    (f) =>
      f !== binColumn &&
      rows.some((r) => typeof r[f] === 'number') &&
      rows.every((r) => r[f] === null || typeof r[f] === 'number'),
  );
  const groups = fields.filter((f) => f !== binColumn && !numeric.includes(f));
  const xsSet = new Set<number>();
  binEpochs.forEach((e) => {
    if (e !== null) xsSet.add(e / 1000);
  });
  const xs = [...xsSet].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const byLabel = new Map<string, (number | null)[]>();
  rows.forEach((r, i) => {
    const e = binEpochs[i];
    if (e === null || e === undefined) return;
    const g = groups.map((f) => String(r[f] ?? '')).join(' · ');
    for (const f of numeric) {
      const label = g ? (numeric.length > 1 ? `${g} · ${f}` : g) : f;
      let s = byLabel.get(label);
      if (!s) {
        s = new Array(xs.length).fill(null);
        byLabel.set(label, s);
      }
      const v = r[f];
      s[index.get(e / 1000)!] = typeof v === 'number' ? v : null;
    }
  });
  const series = [...byLabel.entries()]
    .map(([label, values]) => ({ label, values, total: values.reduce<number>((a, v) => a + (v ?? 0), 0) }))
    .sort((a, b) => b.total - a.total)
    .slice(0, PALETTE.length)
    .map(({ label, values }) => ({ label, values }));
  return { xs, series };
}

export function drawStatsChart(
  el: HTMLElement,
  xs: number[],
  series: StatsSeries[],
  kind: 'bar' | 'line',
): uPlot {
  const bars = uPlot.paths.bars?.({ size: [0.8 / Math.max(1, series.length), 30] });
  const opts: uPlot.Options = {
    width: el.clientWidth || 800,
    height: 220,
    scales: {
      x: { time: true },
      y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max * 1.05)] },
    },
    axes: axes(),
    legend: { show: true },
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        fill: kind === 'bar' ? `${PALETTE[i % PALETTE.length]}99` : undefined,
        width: kind === 'line' ? 2 : 1,
        paths: kind === 'bar' ? bars : undefined,
        points: { show: kind === 'line' && xs.length < 60 },
        spanGaps: false,
      })),
    ],
  };
  el.replaceChildren();
  const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
  el.dataset.series = String(series.length);
  return plot;
}
