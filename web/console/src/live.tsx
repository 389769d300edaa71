/**
 * The running daemon, live: the tail of records leaving chosen components (filtered by a Logs
 * Insights condition on the console server, pausable), and the pipeline graph — sources,
 * transforms and sinks as columns with their wiring and per-component outcome counts and
 * throughput, refreshed every two seconds.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { humanBytes, humanCount } from './time.js';

interface Counts {
  received: number;
  delivered: number;
  dropped: number;
  rejected: number;
  failed: number;
}

interface Node {
  name: string;
  kind: 'source' | 'transform' | 'sink';
  type?: string;
  tag?: string;
  inputs?: string[];
  match?: string;
  counts: Counts | null;
  bytes?: number;
  sends?: number;
  retries?: number;
}

export interface Pipeline {
  phase: string;
  elapsedMs: number;
  bytesIn: number;
  totals: Counts | null;
  sources: Node[];
  transforms: Node[];
  sinks: Node[];
}

function authHeaders(): Record<string, string> {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function getPipeline(): Promise<Pipeline> {
  const res = await fetch('/api/daemon/pipeline', { headers: authHeaders() });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body as Pipeline;
}

export function usePipeline(active: boolean): {
  pipeline: Pipeline | null;
  error: string;
  rates: Map<string, number>;
} {
  const [pipeline, setPipeline] = useState<Pipeline | null>(null);
  const [error, setError] = useState('');
  const [rates, setRates] = useState<Map<string, number>>(new Map());
  const prev = useRef<{ at: number; received: Map<string, number> } | null>(null);
  useEffect(() => {
    if (!active) return;
    let stop = false;
    const tick = async () => {
      try {
        const p = await getPipeline();
        if (stop) return;
        const now = Date.now();
        const received = new Map<string, number>();
        for (const n of [...p.sources, ...p.transforms, ...p.sinks])
          received.set(n.name, n.counts?.received ?? 0);
        if (prev.current) {
          const dt = (now - prev.current.at) / 1000;
          const r = new Map<string, number>();
          for (const [k, v] of received)
            r.set(k, Math.max(0, (v - (prev.current.received.get(k) ?? 0)) / dt));
          setRates(r);
        }
        prev.current = { at: now, received };
        setPipeline(p);
        setError('');
      } catch (e) {
        if (!stop) setError(e instanceof Error ? e.message : String(e));
      }
    };
    void tick();
    const t = setInterval(tick, 2000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [active]);
  return { pipeline, error, rates };
}

function CountsLine({ c }: { c: Counts | null }) {
  if (!c) return <span class="muted small">no records yet</span>;
  return (
    <dl class="counts">
      <dt>received</dt>
      <dd>{humanCount(c.received)}</dd>
      <dt>delivered</dt>
      <dd class="ok">{humanCount(c.delivered)}</dd>
      <dt>dropped</dt>
      <dd>{humanCount(c.dropped)}</dd>
      <dt>rejected</dt>
      <dd class={c.rejected ? 'warn' : ''}>{humanCount(c.rejected)}</dd>
      <dt>failed</dt>
      <dd class={c.failed ? 'bad' : ''}>{humanCount(c.failed)}</dd>
    </dl>
  );
}

export function PipelineView({ active }: { active: boolean }) {
  const { pipeline, error, rates } = usePipeline(active);
  if (error)
    return (
      <div class="error" role="alert">
        {error}
      </div>
    );
  if (!pipeline) return <p class="muted">Reading the daemon's pipeline…</p>;
  const column = (title: string, nodes: Node[]) => (
    <section class="pipe-col" aria-label={title}>
      <h3>{title}</h3>
      {nodes.length === 0 && <p class="muted small">none</p>}
      {nodes.map((n) => (
        <article class={`pipe-node ${n.kind}`} key={n.name} data-testid={`node-${n.name}`}>
          <header>
            <strong>{n.name}</strong> <span class="badge">{n.type ?? n.kind}</span>
          </header>
          {(n.inputs?.length || n.match || n.tag) && (
            <p class="muted small">
              {n.tag ? `tag ${n.tag}` : ''}
              {n.inputs?.length ? `from ${n.inputs.join(', ')}` : ''}
              {n.match ? `match ${n.match}` : ''}
            </p>
          )}
          {n.kind !== 'transform' && !n.inputs?.length && !n.match && n.kind === 'sink' && (
            <p class="muted small">from every source</p>
          )}
          <p class="rate">{humanCount(Math.round(rates.get(n.name) ?? 0))} records/s</p>
          <CountsLine c={n.counts} />
          {n.kind === 'sink' && (
            <p class="muted small">
              {humanBytes(n.bytes ?? 0)} sent · {humanCount(n.sends ?? 0)} sends ·{' '}
              {humanCount(n.retries ?? 0)} retries
            </p>
          )}
        </article>
      ))}
    </section>
  );
  return (
    <div class="pipeline" data-testid="pipeline">
      <p class="muted">
        {pipeline.phase} · {(pipeline.elapsedMs / 1000).toFixed(0)} s · {humanBytes(pipeline.bytesIn)} in
        {pipeline.totals
          ? ` · ${humanCount(pipeline.totals.received)} received, ${humanCount(pipeline.totals.delivered)} delivered`
          : ''}
      </p>
      <div class="pipe-cols">
        {column('Sources', pipeline.sources)}
        <span class="arrow" aria-hidden="true">
          →
        </span>
        {column('Transforms', pipeline.transforms)}
        <span class="arrow" aria-hidden="true">
          →
        </span>
        {column('Sinks', pipeline.sinks)}
      </div>
    </div>
  );
}

interface TailRecord {
  component: string;
  timestamp: number;
  message: string;
  logGroup?: string;
  logStream?: string;
}

const MAX_TAIL_ROWS = 1000;

export function LiveTail({ active }: { active: boolean }) {
  const { pipeline } = usePipeline(active);
  const [component, setComponent] = useState('');
  const [filter, setFilter] = useState('');
  const [running, setRunning] = useState(false);
  const [paused, setPaused] = useState(false);
  const [rows, setRows] = useState<TailRecord[]>([]);
  const [skipped, setSkipped] = useState(0);
  const [error, setError] = useState('');
  const pausedRef = useRef(false);
  pausedRef.current = paused;
  const abort = useRef<AbortController | null>(null);
  const pending = useRef<TailRecord[]>([]);

  useEffect(() => () => abort.current?.abort(), []);
  useEffect(() => {
    if (!active) abort.current?.abort();
  }, [active]);
  useEffect(() => {
    const t = setInterval(() => {
      if (pausedRef.current || pending.current.length === 0) return;
      const add = pending.current;
      pending.current = [];
      setRows((r) => [...r, ...add].slice(-MAX_TAIL_ROWS));
    }, 250);
    return () => clearInterval(t);
  }, []);

  const start = async () => {
    abort.current?.abort();
    const ac = new AbortController();
    abort.current = ac;
    setRows([]);
    setSkipped(0);
    setError('');
    setRunning(true);
    setPaused(false);
    const qs = new URLSearchParams();
    if (component) qs.set('components', component);
    if (filter.trim()) qs.set('filter', filter);
    try {
      const res = await fetch(`/api/daemon/tail?${qs}`, { headers: authHeaders(), signal: ac.signal });
      if (!res.ok || !res.body) {
        const body = await res.json().catch(() => ({}));
        setError(body.error ?? `HTTP ${res.status}`);
        setRunning(false);
        return;
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
          if (!line) continue;
          const ev = JSON.parse(line) as TailRecord & { type: string; count?: number; reason?: string };
          if (ev.type === 'record') {
            if (pausedRef.current) setSkipped((s) => s + 1);
            else pending.current.push(ev);
          } else if (ev.type === 'skipped') setSkipped((s) => s + (ev.count ?? 0));
          else if (ev.type === 'end') setError(ev.reason ?? 'the stream ended');
        }
      }
    } catch (e) {
      if (!ac.signal.aborted) setError(String(e));
    }
    setRunning(false);
  };
  const stop = () => {
    abort.current?.abort();
    setRunning(false);
  };
  const names = pipeline
    ? [...pipeline.sources, ...pipeline.transforms, ...pipeline.sinks].map((n) => n.name)
    : [];
  return (
    <div class="tail">
      <form
        class="controls"
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
        aria-label="live tail"
      >
        <label>
          Component{' '}
          <select
            name="component"
            value={component}
            onChange={(e) => setComponent((e.target as HTMLSelectElement).value)}
          >
            <option value="">every source</option>
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label class="grow">
          Filter{' '}
          <input
            name="filter"
            class="mono"
            placeholder='@logStream like /^kube-apiserver/ and verb != "get"'
            value={filter}
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="primary">
          {running ? 'Restart' : 'Follow'}
        </button>
        {running && (
          <button type="button" aria-pressed={paused} onClick={() => setPaused(!paused)}>
            {paused ? 'Resume' : 'Pause'}
          </button>
        )}
        {running && (
          <button type="button" onClick={stop}>
            Stop
          </button>
        )}
      </form>
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      <p class="muted small" role="status" data-testid="tail-status">
        {humanCount(rows.length)} records shown
        {skipped ? ` · ${humanCount(skipped)} skipped (paused or too fast)` : ''}
        {paused ? ' · paused' : ''}
      </p>
      <div class="table-wrap tail-rows">
        <table class="results" aria-label="live records">
          <thead>
            <tr>
              <th scope="col">time (UTC)</th>
              <th scope="col">component</th>
              <th scope="col">log stream</th>
              <th scope="col">message</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr class="row" key={`${i}-${r.timestamp}`}>
                <td>{new Date(r.timestamp).toISOString().slice(0, 23).replace('T', ' ')}</td>
                <td>{r.component}</td>
                <td title={r.logGroup}>{r.logStream}</td>
                <td title={r.message}>{r.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
